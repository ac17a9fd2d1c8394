// Clearpath on the device: the capture screen, the plays, the leave-behind print view and the
// outbox page, rendered from the cached API when the network is gone. Everything is built by
// cloning <template>s and setting textContent, never by parsing strings as HTML.
(function (global) {
  "use strict";

  const RECENT_KEY = "clearpath.recentHcps";
  const SHOWN = 40;

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(url + ": HTTP " + response.status);
    return response.json();
  }

  // Follow `next` cursors; each page URL is cached by the service worker for next time.
  async function getAll(path, param) {
    let items = [];
    let url = path;
    while (url) {
      const page = await getJson(url);
      items = items.concat(page.items);
      url = page.next ? path + "&" + param + "=" + encodeURIComponent(page.next) : null;
    }
    return items;
  }

  let dataPromise = null;
  function loadData() {
    if (!dataPromise) {
      dataPromise = Promise.all([
        getAll("/api/v1/barriers?limit=500", "cursor"),
        getAll("/api/v1/hcps?limit=1000", "cursor"),
        getJson("/api/v1/reference"),
        // Capture works without suggestions: a missing index only silences them.
        getJson("/api/v1/suggest-index").catch(() => null),
      ]).then(([barriers, hcps, reference, suggestIndex]) => ({
        rank: suggestIndex ? global.ClearpathSuggest.makeRanker(suggestIndex) : () => [],
        barriers: barriers,
        byCode: new Map(barriers.map((b) => [b.code, b])),
        hcps: hcps,
        hcpById: new Map(hcps.map((h) => [h.external_id, h])),
        reference: reference,
      }));
      dataPromise.catch(() => { dataPromise = null; });
    }
    return dataPromise;
  }

  function clone(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function fill(node, values) {
    Object.keys(values).forEach((slot) => {
      const target = node.querySelector('[data-slot="' + slot + '"]');
      if (target) target.textContent = values[slot];
    });
    return node;
  }

  function remember(hcpId) {
    const recent = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]").filter((id) => id !== hcpId);
    recent.unshift(hcpId);
    localStorage.setItem(RECENT_KEY, JSON.stringify(recent.slice(0, 6)));
  }

  function matches(text, query) {
    const haystack = text.toLowerCase();
    return query.toLowerCase().split(/\s+/).filter(Boolean).every((word) => haystack.includes(word));
  }

  // Step 1: who did you see?
  function renderHcps(data, query) {
    const list = document.getElementById("hcp-results");
    list.replaceChildren();
    let hcps;
    const heading = clone("tpl-heading");
    if (query) {
      heading.textContent = "Matching HCPs";
      hcps = data.hcps.filter((h) => matches([h.name, h.account, h.specialty].join(" "), query)).slice(0, 20);
    } else {
      heading.textContent = "Recent";
      const recent = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");
      hcps = recent.map((id) => data.hcpById.get(id)).filter(Boolean);
    }
    list.append(heading);
    hcps.forEach((hcp) => {
      const link = fill(clone("tpl-hcp"), { name: hcp.name, meta: hcp.account + " · " + hcp.specialty });
      link.href = "/capture?hcp=" + encodeURIComponent(hcp.external_id);
      list.append(link);
    });
    if (!hcps.length) {
      const empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = query ? "No HCP in your territory matches." : "Search for the HCP you saw.";
      list.append(empty);
    }
  }

  // Step 2: which barriers? Chosen ones stay on top while the filter changes.
  function renderBarriers(data, form) {
    const list = document.getElementById("barrier-list");
    const chosen = new Set(Array.from(form.querySelectorAll("input[name=barrier]:checked")).map((i) => i.value));
    const query = form.querySelector("#q").value.trim();
    const categories = data.reference.categories;
    const stages = data.reference.journey_stages;
    list.replaceChildren();
    const add = (barrier, checked) => {
      const option = fill(clone("tpl-barrier"), {
        name: barrier.name,
        meta: (categories[barrier.category] || barrier.category) + " · " + (stages[barrier.journey_stage] || barrier.journey_stage),
      });
      const input = option.querySelector("input");
      input.value = barrier.code;
      input.checked = checked;
      list.append(option);
    };
    if (chosen.size) {
      list.append(Object.assign(clone("tpl-heading"), { textContent: "Chosen" }));
      chosen.forEach((code) => data.byCode.has(code) && add(data.byCode.get(code), true));
    }
    const rest = data.barriers.filter((b) => !chosen.has(b.code) &&
      (!query || matches([b.code, b.name, b.description].join(" "), query)));
    list.append(Object.assign(clone("tpl-heading"), { textContent: query ? "Matching barriers" : "All barriers" }));
    rest.slice(0, SHOWN).forEach((b) => add(b, false));
    if (rest.length > SHOWN) {
      const more = document.createElement("p");
      more.className = "muted";
      more.textContent = (rest.length - SHOWN) + " more: type a few words to narrow the list.";
      list.append(more);
    }
  }

  function renderBrands(data, form) {
    const box = form.querySelector('[data-slot="brands"]');
    if (!data.reference.brands.length) return;
    data.reference.brands.forEach((brand) => {
      const chip = fill(clone("tpl-brand"), { name: brand.name });
      chip.querySelector("input").value = brand.code;
      box.append(chip);
    });
    box.hidden = false;
    // One tap for the HCP's stage on the brand's adoption ladder; sent only with a brand.
    const stages = form.querySelector('[data-slot="stages"]');
    (data.reference.adoption_stages || []).forEach((stage) => {
      const chip = fill(clone("tpl-stage"), { name: stage.name });
      chip.querySelector("input").value = stage.code;
      stages.append(chip);
    });
    stages.hidden = !stages.querySelector("input");
  }

  async function initCapture(root) {
    const params = new URLSearchParams(location.search);
    let data;
    try {
      data = await loadData();
    } catch (error) {
      root.querySelector('[data-slot="offline-note"]').textContent =
        "This device has no copy of your library yet: open Clearpath once while online.";
      return;
    }
    const hcp = params.get("hcp") && data.hcpById.get(params.get("hcp"));
    const saved = params.get("saved");
    if (saved) return showSaved(saved);
    if (!hcp) {
      const search = root.querySelector("#hcp_q");
      renderHcps(data, search.value.trim()); // keep what was typed while the data loaded
      search.addEventListener("input", () => renderHcps(data, search.value.trim()));
      return;
    }
    root.querySelector('[data-step="hcp"]').hidden = true;
    root.querySelector('[data-step="barriers"]').hidden = false;
    fill(root, { "hcp-name": hcp.name, "hcp-meta": "· " + hcp.account + " · " + hcp.specialty });
    const form = root.querySelector("#capture-form");
    form.elements.hcp.value = hcp.external_id;
    params.getAll("barrier").forEach((code) => {
      const input = document.createElement("input");
      Object.assign(input, { type: "checkbox", name: "barrier", value: code, checked: true, hidden: true });
      form.append(input);
    });
    renderBarriers(data, form);
    form.querySelectorAll("input[name=barrier][hidden]").forEach((input) => input.remove());
    renderBrands(data, form);
    form.querySelector("#q").addEventListener("input", () => renderBarriers(data, form));
    initSuggestions(data, form);
  }

  // Suggestions as the rep types, ranked on the device; one tap adds a barrier to "Chosen".
  function initSuggestions(data, form) {
    const note = form.querySelector("#note");
    const box = form.querySelector("#suggestions");
    let timer = null;
    const render = () => {
      // The timer may outlive the form: a boosted link swaps the page's body (same document,
      // same timers) within the typing pause.
      if (!box.isConnected) return;
      box.replaceChildren();
      const text = note.value.trim();
      const found = text ? data.rank(text, 5) : [];
      if (!found.length) return;
      box.append(Object.assign(clone("tpl-heading"), { textContent: "Suggested from your note" }));
      found.forEach((suggestion) => {
        const button = clone("tpl-suggestion");
        button.dataset.code = suggestion.code;
        button.textContent = "+ " + suggestion.name;
        box.append(button);
      });
    };
    note.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(render, 200);
    });
    box.addEventListener("click", (event) => {
      const button = event.target.closest("[data-code]");
      if (!button) return;
      const input = document.createElement("input");
      Object.assign(input, { type: "checkbox", name: "barrier", value: button.dataset.code, checked: true, hidden: true });
      form.append(input);
      renderBarriers(data, form);
      input.remove();
    });
  }

  // After an offline capture: what was saved, and each barrier's play from the cached library.
  async function showSaved(id) {
    const item = await global.ClearpathOutbox.get(id);
    const data = await loadData();
    const capture = document.getElementById("offline-capture");
    const result = document.getElementById("offline-result");
    if (!item || !result) return;
    if (capture) capture.hidden = true;
    const hcp = data.hcpById.get(item.payload.hcp) || { name: item.payload.hcp, external_id: item.payload.hcp };
    const count = item.payload.barriers.length;
    fill(result, {
      saved: "Saved on this device: " + count + " barrier" + (count === 1 ? "" : "s") + " for " +
        hcp.name + ". It will sync when you are back online.",
    });
    result.querySelector('[data-slot="again"]').href = "/capture?hcp=" + encodeURIComponent(hcp.external_id);
    const cards = result.querySelector('[data-slot="cards"]');
    cards.replaceChildren();
    item.payload.barriers.forEach((code) => {
      const barrier = data.byCode.get(code);
      if (barrier) cards.append(playCard(barrier, hcp, data.reference));
    });
    result.hidden = false;
    history.replaceState(null, "", "/capture?saved=" + encodeURIComponent(id));
  }

  function playCard(barrier, hcp, reference) {
    const me = global.ClearpathOutbox.cachedMe() || {};
    const roles = reference.roles;
    const play = barrier.play;
    const card = fill(clone("tpl-play"), {
      eyebrow: barrier.code + " · " + (reference.categories[barrier.category] || barrier.category),
      barrier: barrier.name,
      title: "Play: " + play.title,
      goal: play.goal,
      who: (roles[barrier.primary_role] || barrier.primary_role) + " · " + (reference.channels[play.channel] || play.channel),
      know: play.know,
      use: play.use,
      tell: play.tell.map((code) => roles[code] || code).join(", ") || "No one",
    });
    card.id = "play-" + barrier.code;
    if (me.role && barrier.compliant_for.indexOf(me.role) === -1) {
      const handoff = card.querySelector('[data-slot="handoff"]');
      handoff.textContent = "Your role may not run this play: hand this to your " +
        (roles[barrier.primary_role] || barrier.primary_role) + ".";
      handoff.hidden = false;
    }
    const slot = card.querySelector('[data-slot="leave-behind"]');
    if (play.leave_behind) {
      const link = slot.querySelector("a");
      link.textContent = "Leave-behind: " + play.leave_behind.title;
      link.href = "/plays/" + encodeURIComponent(barrier.code) + "/leave-behind.pdf?hcp=" + encodeURIComponent(hcp.external_id);
    } else {
      slot.textContent = "No leave-behind for this play: it is a conversation, not a handout.";
      slot.className = "muted";
    }
    return card;
  }

  // The leave-behind as a print view, for the PDF link followed with no network.
  async function initLeaveBehind(root) {
    const status = root.querySelector("#lb-status");
    const match = location.pathname.match(/^\/plays\/([^/]+)\/leave-behind\.pdf$/);
    const params = new URLSearchParams(location.search);
    const code = match ? decodeURIComponent(match[1]) : params.get("code");
    try {
      const data = await loadData();
      const barrier = data.byCode.get(code);
      const hcp = data.hcpById.get(params.get("hcp") || "");
      if (!barrier || !barrier.play.leave_behind || !hcp) {
        status.textContent = "This leave-behind is not on this device.";
        return;
      }
      const lb = barrier.play.leave_behind;
      fill(root, {
        play: "Clearpath · " + barrier.play.title,
        title: lb.title,
        account: hcp.account,
        date: new Date().toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" }),
        goal: barrier.play.goal,
        approval: lb.approval_code,
        code: barrier.code,
      });
      const steps = root.querySelector('[data-slot="steps"]');
      lb.steps.forEach((step) => steps.append(Object.assign(document.createElement("li"), { textContent: step })));
      status.textContent = "Offline print view: print it or save it as PDF.";
    } catch (error) {
      status.textContent = "This leave-behind is not on this device.";
    }
    root.querySelector("[data-print]").addEventListener("click", () => window.print());
  }

  // The outbox page: what waits, what was refused and why; fix or discard.
  async function renderOutbox(root) {
    const outbox = global.ClearpathOutbox;
    const items = await outbox.all();
    const counts = await outbox.counts();
    let data = null;
    try { data = await loadData(); } catch (error) { data = null; }
    const name = (id) => (data && data.hcpById.get(id) ? data.hcpById.get(id).name : id);
    const barrierName = (code) => (data && data.byCode.get(code) ? data.byCode.get(code).name : code);
    const last = counts.lastSync ? new Date(counts.lastSync).toLocaleString() : "never";
    root.querySelector("#outbox-summary").textContent = counts.pending + " waiting, " +
      counts.rejected + " refused. Last successful sync: " + last + "." +
      (counts.signedOut ? " Sign in to send them." : "");
    ["pending", "rejected"].forEach((status) => {
      const list = root.querySelector("#outbox-" + status);
      list.replaceChildren();
      const mine = items.filter((item) => item.status === status);
      root.querySelector("#outbox-" + status + "-empty").hidden = mine.length > 0;
      mine.forEach((item) => {
        const node = fill(clone("tpl-outbox-item"), {
          when: new Date(item.payload.observed_at).toLocaleString() +
            (item.attempts ? " · " + item.attempts + " attempt(s)" : ""),
          hcp: name(item.payload.hcp),
          note: item.payload.note || "",
        });
        node.dataset.id = item.id;
        item.payload.barriers.forEach((code) =>
          node.querySelector('[data-slot="barriers"]').append(Object.assign(document.createElement("li"), { textContent: barrierName(code) })));
        const errors = node.querySelector('[data-slot="errors"]');
        Object.entries(item.errors || {}).forEach(([field, messages]) =>
          errors.append(Object.assign(document.createElement("li"), { textContent: field + ": " + [].concat(messages).join(" ") })));
        if (status === "pending") {
          node.querySelector('[data-slot="actions"]').remove();
        } else {
          const fix = new URLSearchParams({ hcp: item.payload.hcp, fix: item.id });
          item.payload.barriers.forEach((code) => fix.append("barrier", code));
          node.querySelector('[data-action="fix"]').href = "/capture?" + fix.toString();
        }
        list.append(node);
      });
    });
  }

  function initOutbox(root) {
    const outbox = global.ClearpathOutbox;
    root.addEventListener("click", async (event) => {
      const discard = event.target.closest('[data-action="discard"]');
      if (discard) {
        await outbox.discard(discard.closest("[data-id]").dataset.id);
      }
      if (event.target.closest("[data-sync-now]")) {
        await outbox.replay(true);
      }
    });
    document.addEventListener("outbox:change", () => renderOutbox(root));
    renderOutbox(root);
  }

  // Why a note may not be stored, by the server's own rules; null when it may (or when the
  // rules are not on this device yet: the server still refuses it at sync).
  async function noteRefusal(note) {
    if (!note) return null;
    try {
      const data = await loadData();
      return global.ClearpathCompliance.makeChecker(data.reference.note_rules)(note).refusal;
    } catch (error) {
      return null;
    }
  }

  // Fetch everything again (through the service worker, which caches it).
  function refreshData() {
    dataPromise = null;
    return loadData();
  }

  global.ClearpathOffline = {
    initCapture, initLeaveBehind, initOutbox, showSaved, loadData, refreshData, noteRefusal,
  };
})(window);
