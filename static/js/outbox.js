// Clearpath outbox: every observation waits in IndexedDB until the server acknowledges it.
//
// Field apps lose data in known ways; this file is shaped against each of them:
// - nothing is confirmed to the user before it is written here (enqueue resolves after the
//   IndexedDB transaction completes);
// - an item leaves only when the server answered "created" or "duplicate" for its id, so a
//   replay after a lost answer is harmless (the server is idempotent on the id);
// - a "rejected" item is kept, with the server's reasons, until the user fixes or discards it,
//   and it never blocks the items behind it;
// - retries never stop: on load, on `online`, when the page becomes visible, and on a timer
//   with exponential backoff while anything is pending (no Background Sync: Safari lacks it);
// - nothing expires silently, and persistent storage is requested so the browser does not
//   evict the queue under storage pressure.
(function (global) {
  "use strict";

  const DB_NAME = "clearpath";
  const STORE = "outbox";
  const BATCH = 50;
  const FIRST_DELAY = 2000;
  const MAX_DELAY = 5 * 60 * 1000;
  const ME_KEY = "clearpath.me";
  const LAST_SYNC_KEY = "clearpath.lastSync";

  let dbPromise = null;
  let running = null;
  let rerun = false;
  let timer = null;
  let signedOut = false;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => {
          const store = request.result.createObjectStore(STORE, { keyPath: "id" });
          store.createIndex("created", "created");
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return dbPromise;
  }

  // Run fn(store) in one transaction; resolve with its result once the transaction commits.
  async function withStore(mode, fn) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      let result;
      const request = fn(tx.objectStore(STORE));
      if (request) request.onsuccess = () => { result = request.result; };
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("outbox transaction aborted"));
    });
  }

  async function all() {
    const items = await withStore("readonly", (store) => store.index("created").getAll());
    return items || [];
  }

  const get = (id) => withStore("readonly", (store) => store.get(id));
  const put = (item) => withStore("readwrite", (store) => store.put(item));
  const remove = (id) => withStore("readwrite", (store) => store.delete(id));

  // The user gives up on a refused item: it goes, and every view of the outbox hears of it.
  async function discard(id) {
    await remove(id);
    notify();
  }

  function cachedMe() {
    try {
      return JSON.parse(localStorage.getItem(ME_KEY) || "null");
    } catch (error) {
      return null;
    }
  }

  function currentUser() {
    const app = document.getElementById("app");
    const fromPage = app && app.dataset.user;
    const me = cachedMe();
    return fromPage || (me && me.email) || "";
  }

  async function enqueue(payload) {
    const item = {
      id: payload.id,
      user: currentUser(),
      payload: payload,
      status: "pending",
      errors: null,
      attempts: 0,
      nextAttempt: 0,
      created: Date.now(),
    };
    await put(item);
    notify();
    return item;
  }

  // Who is signed in, with a fresh CSRF token; null when signed out. Throws when offline.
  async function fetchMe() {
    const response = await fetch("/api/v1/me", {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    if (response.status === 401) return null;
    if (!response.ok) throw new Error("me: HTTP " + response.status);
    const me = await response.json();
    localStorage.setItem(ME_KEY, JSON.stringify({
      email: me.email, name: me.name, role: me.role, territory: me.territory,
    }));
    return me;
  }

  function delayFor(attempts) {
    return Math.min(MAX_DELAY, FIRST_DELAY * Math.pow(2, Math.max(0, attempts - 1)));
  }

  async function postpone(items) {
    const now = Date.now();
    for (const item of items) {
      item.attempts += 1;
      item.nextAttempt = now + delayFor(item.attempts);
      await put(item);
    }
  }

  async function send(batch, me) {
    let response;
    try {
      response = await fetch("/api/v1/observations", {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": me.csrf_token,
        },
        body: JSON.stringify({ observations: batch.map((item) => item.payload) }),
      });
    } catch (error) {
      return false; // the network dropped: keep everything, try again later
    }
    if (response.status === 401) {
      signedOut = true;
      return false;
    }
    if (!response.ok) return false; // 5xx and the like: nothing was lost, retry with backoff
    const body = await response.json();
    for (let index = 0; index < batch.length; index += 1) {
      const item = batch[index];
      const result = body.results[index] || {};
      if (result.status === "created" || result.status === "duplicate") {
        await remove(item.id);
      } else {
        item.status = "rejected";
        item.errors = result.errors || { _item: ["Refused by the server."] };
        await put(item);
      }
    }
    localStorage.setItem(LAST_SYNC_KEY, String(Date.now()));
    return true;
  }

  async function run(force) {
    const now = Date.now();
    const pending = (await all()).filter((item) => item.status === "pending");
    // With no network there is nothing to try, and nothing to back off from: `online` or the
    // timer will bring the next attempt.
    if (!pending.length || !navigator.onLine) return;
    let me;
    try {
      me = await fetchMe();
    } catch (error) {
      await postpone(pending.filter((item) => force || item.nextAttempt <= now));
      return;
    }
    signedOut = !me;
    if (!me) return;
    const due = pending.filter((item) => item.user === me.email && (force || item.nextAttempt <= now));
    for (let start = 0; start < due.length; start += BATCH) {
      const batch = due.slice(start, start + BATCH);
      if (!(await send(batch, me))) {
        await postpone(due.slice(start));
        return;
      }
    }
  }

  // Send what is due, oldest first; `force` ignores the backoff (load, online, a tap). A forced
  // replay asked for while another runs (say `online` during an attempt that is failing
  // offline) runs right after it, so the network coming back is never missed.
  function replay(force) {
    if (running) {
      if (force) rerun = true;
      return running;
    }
    running = run(Boolean(force))
      .catch(() => undefined)
      .finally(() => {
        running = null;
        if (rerun) {
          rerun = false;
          replay(true);
        } else {
          schedule();
        }
        notify();
      });
    return running;
  }

  async function schedule() {
    clearTimeout(timer);
    const pending = (await all()).filter((item) => item.status === "pending");
    if (!pending.length) return;
    const next = Math.min.apply(null, pending.map((item) => item.nextAttempt || 0));
    // Offline, look again now and then (`online` usually comes first).
    const wait = navigator.onLine ? Math.max(1000, next - Date.now()) : 15000;
    timer = setTimeout(() => replay(false), wait);
  }

  async function counts() {
    const items = await all();
    const user = currentUser();
    const mine = items.filter((item) => !user || item.user === user);
    return {
      pending: mine.filter((item) => item.status === "pending").length,
      rejected: mine.filter((item) => item.status === "rejected").length,
      otherAccounts: items.length - mine.length,
      lastSync: Number(localStorage.getItem(LAST_SYNC_KEY) || 0),
      signedOut: signedOut,
    };
  }

  function notify() {
    document.dispatchEvent(new CustomEvent("outbox:change"));
  }

  function requestPersistence() {
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persisted().then((already) => already || navigator.storage.persist());
    }
  }

  global.ClearpathOutbox = {
    all, get, put, remove, discard, enqueue, replay, counts, cachedMe, fetchMe, requestPersistence,
  };
})(window);
