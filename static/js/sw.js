// Clearpath service worker: a boring one on purpose.
// - The shell (offline pages, CSS, JS, icons) is precached under a versioned name; the
//   version changes with every app update and activate deletes our own older shells.
// - The library, the territory's HCPs and brands live in an unversioned data cache, so an
//   app update never strands what offline capture needs. Sign-out deletes it.
// - Queued observations are not here at all: they live in IndexedDB (outbox.js), which no
//   cache clean-up touches.
// - Never cached: non-GET requests, htmx fragment requests, PDFs and the sync endpoints.
"use strict";

const VERSION = "__VERSION__";
const SHELL_CACHE = "clearpath-shell-" + VERSION;
const DATA_CACHE = "clearpath-data";
const PRECACHE = ["__PRECACHE__"];
// Read-mostly API data that offline capture needs: network first, cache as fallback.
const DATA_PATHS = ["/api/v1/barriers", "/api/v1/hcps", "/api/v1/reference", "/api/v1/suggest-index"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      // Without credentials: a shell is the same for everybody (it names nobody) and its
      // response can set no cookie, so an install running alongside sign-in never undoes it.
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload", credentials: "omit" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names
          .filter((name) => name.startsWith("clearpath-shell-") && name !== SHELL_CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "clear-data") {
    event.waitUntil(caches.delete(DATA_CACHE));
  } else if (event.data === "claim") {
    event.waitUntil(self.clients.claim());
  }
});

function isData(url) {
  return DATA_PATHS.some((path) => url.pathname === path);
}

async function networkFirst(request, cacheName) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(cacheName);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(request, { cacheName: cacheName });
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true });
  return cached || fetch(request);
}

// Offline, a page falls back to the shell that can do its job on the device.
function shellFor(url) {
  if (url.pathname.startsWith("/capture") || url.pathname === "/") return "/offline/capture";
  if (url.pathname === "/outbox") return "/outbox";
  if (url.pathname.endsWith("/leave-behind.pdf")) return "/offline/leave-behind";
  return "/offline";
}

async function navigate(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const url = new URL(request.url);
    const page = await caches.match(url.pathname, { cacheName: SHELL_CACHE });
    const shell = page || await caches.match(shellFor(url), { cacheName: SHELL_CACHE });
    return shell || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.headers.get("HX-Request")) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(request));
  } else if (isData(url)) {
    event.respondWith(networkFirst(request, DATA_CACHE));
  } else if (url.pathname.startsWith("/assets/") || url.pathname.startsWith("/static/")
             || url.pathname === "/manifest.webmanifest") {
    event.respondWith(cacheFirst(request));
  }
});
