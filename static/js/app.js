// Clearpath's page glue. htmx does the requests; this file adds what has no attribute of its
// own: the service worker, the outbox-first capture form, the sync badge and the shells.
// No inline script anywhere (strict CSP).
(function () {
  "use strict";

  const outbox = window.ClearpathOutbox;
  const offline = window.ClearpathOffline;

  // What the first paint does not need waits until the page has loaded: the service worker
  // (its install downloads the offline shells), the outbox's replay, the storage request.
  function afterLoad(fn) {
    if (document.readyState === "complete") fn();
    else window.addEventListener("load", fn, { once: true });
  }
  afterLoad(() => {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js").catch(() => undefined);
    }
    if (window.indexedDB) {
      outbox.requestPersistence();
      outbox.replay(true);
    }
  });

  // Who is signed in, as the current page says (see #app in base.html).
  function session() {
    const app = document.getElementById("app");
    return app ? app.dataset : {};
  }

  // The sync badge: pending count, anything refused, and the last successful sync.
  async function updateBadge() {
    const badge = document.getElementById("sync-badge");
    if (!badge || !window.indexedDB) return;
    const counts = await outbox.counts();
    badge.dataset.pending = String(counts.pending);
    badge.dataset.rejected = String(counts.rejected);
    const last = counts.lastSync
      ? new Date(counts.lastSync).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : null;
    let text;
    if (counts.rejected) text = counts.rejected + " to fix";
    else if (counts.pending) text = counts.pending + " waiting to sync";
    else text = last ? "Synced " + last : "All synced";
    if (counts.pending && counts.signedOut) text += " · sign in";
    badge.textContent = text;
    badge.title = counts.pending + " pending · " + counts.rejected + " refused · last sync " + (last || "never");
    badge.classList.toggle("warn", counts.rejected > 0);
    badge.classList.toggle("busy", counts.pending > 0 && !counts.rejected);
    badge.hidden = !(session().user || counts.pending || counts.rejected);
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function showFormErrors(form, errors) {
    let box = form.querySelector("[data-form-errors]");
    if (!box) {
      box = document.createElement("ul");
      box.className = "error";
      box.setAttribute("role", "alert");
      box.dataset.formErrors = "";
      box.tabIndex = -1;
      form.prepend(box);
    }
    box.replaceChildren();
    Object.entries(errors).forEach(([field, messages]) => {
      const item = document.createElement("li");
      item.textContent = (field.startsWith("_") ? "" : field + ": ") + [].concat(messages).join(" ");
      box.append(item);
    });
    box.focus();
  }

  // Capture writes to the outbox first, then tries to send at once. Acknowledged: show the
  // server's page of plays. Refused: say why, in the form. No answer: it waits on the device.
  async function captureSubmit(event) {
    const form = event.target.closest("form[data-outbox]");
    if (!form || !window.indexedDB) return;
    if (event.submitter && event.submitter.getAttribute("formmethod") === "get") return; // Filter
    event.preventDefault();
    const fields = form.elements;
    const payload = {
      id: fields.id.value || uuid(),
      hcp: fields.hcp.value,
      barriers: Array.from(form.querySelectorAll("input[name=barrier]:checked"), (input) => input.value),
      note: fields.note.value.trim(),
      observed_at: fields.observed_at.value || new Date().toISOString(),
    };
    const brand = form.querySelector("input[name=brand]:checked");
    if (brand) payload.brand = brand.value;
    const stage = form.querySelector("input[name=adoption_stage]:checked");
    if (stage) payload.adoption_stage = stage.value;
    if (!payload.barriers.length) {
      showFormErrors(form, { _form: ["Choose at least one barrier."] });
      return;
    }
    if (payload.adoption_stage && !payload.brand) {
      showFormErrors(form, { adoption_stage: ["Choose the brand whose adoption stage this is."] });
      return;
    }
    const refusal = await offline.noteRefusal(payload.note);
    if (refusal) {
      showFormErrors(form, { note: [refusal] });
      return;
    }
    const button = form.querySelector("button[type=submit]:not([formmethod])");
    button.disabled = true;
    try {
      await outbox.enqueue(payload);
      const fixing = new URLSearchParams(location.search).get("fix");
      if (fixing && fixing !== payload.id) await outbox.remove(fixing);
      await outbox.replay(true);
      const item = await outbox.get(payload.id);
      if (!item) {
        window.location.assign("/observations/" + encodeURIComponent(payload.id));
      } else if (item.status === "rejected") {
        await outbox.remove(payload.id);
        showFormErrors(form, item.errors);
      } else if (document.getElementById("offline-result")) {
        await offline.showSaved(payload.id);
      } else {
        window.location.assign("/offline/capture?saved=" + encodeURIComponent(payload.id));
      }
    } finally {
      button.disabled = false;
      updateBadge();
    }
  }

  // Resolves once the service worker controls this page (at once after the first visit), so
  // the fetches that follow pass through it and land in its cache. A page that loaded while
  // the first worker was still activating is missed by that worker's clients.claim(), so the
  // page asks the active worker to claim it again.
  function whenControlled() {
    if (!("serviceWorker" in navigator)) return Promise.reject(new Error("no service worker"));
    if (navigator.serviceWorker.controller) return Promise.resolve();
    const controlled = new Promise((resolve) => {
      navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true });
    });
    navigator.serviceWorker.ready.then((registration) => {
      if (!navigator.serviceWorker.controller && registration.active) {
        registration.active.postMessage("claim");
      }
    });
    return controlled;
  }

  function signOut() {
    // The outbox stays (queued calls are never dropped); this account's cached data goes.
    localStorage.removeItem("clearpath.me");
    localStorage.removeItem("clearpath.recentHcps");
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage("clear-data");
    }
  }

  // Bring up whatever needs the device on the current page; safe to call after every swap.
  function init(scope) {
    const once = (selector, fn) => scope.querySelectorAll(selector).forEach((el) => {
      if (el.dataset.ready) return;
      el.dataset.ready = "1";
      fn(el);
    });
    once("[data-offline-capture]", offline.initCapture);
    once("[data-offline-leave-behind]", offline.initLeaveBehind);
    once("[data-outbox-page]", offline.initOutbox);
    const params = new URLSearchParams(location.search);
    once("form[data-outbox]", (form) => {
      const fixing = params.get("fix");
      if (!fixing) return;
      outbox.get(fixing).then((item) => {
        if (item && form.elements.note && !form.elements.note.value) form.elements.note.value = item.payload.note || "";
      });
    });
    updateBadge();
    if (window.indexedDB) warmCache();
  }

  document.addEventListener("submit", (event) => {
    if (event.target.matches("form[data-signout]")) signOut();
    captureSubmit(event);
  });

  // A boosted link that fails for want of a network becomes a real navigation, which the
  // service worker answers from its offline shells.
  document.addEventListener("htmx:sendError", (event) => {
    const config = event.detail.requestConfig;
    if (config && config.verb === "get" && config.boosted) window.location.assign(config.path);
  });

  // A form refused with 422 comes back swapped in; move focus to the first error.
  document.addEventListener("htmx:afterSettle", (event) => {
    if (!event.detail.xhr || event.detail.xhr.status !== 422) return;
    const invalid = document.querySelector("[aria-invalid=true], .error");
    if (invalid) {
      invalid.setAttribute("tabindex", invalid.getAttribute("tabindex") || "-1");
      invalid.focus();
    }
  });

  document.addEventListener("htmx:load", (event) => init(event.detail.elt));
  document.addEventListener("outbox:change", updateBadge);
  window.addEventListener("online", () => outbox.replay(true));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") outbox.replay(true);
  });

  // Keep the library and the territory's HCPs fresh in the cache for the next time offline:
  // once per page load and signed-in user (a boosted sign-in changes the user, not the page).
  let warmedFor = null;
  function warmCache() {
    const user = session().user;
    if (!user || !session().capture || warmedFor === user || !navigator.onLine) return;
    warmedFor = user;
    outbox.fetchMe().catch(() => undefined);
    whenControlled().then(offline.refreshData).catch(() => undefined);
  }

  init(document);
})();
