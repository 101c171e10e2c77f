// Steadfast's downtime service worker (CONFIG, above, is written in by the server).
// It keeps the Downtime access page, the assets it uses and the latest encrypted pack, so the
// page and the pack still open in this browser when the server cannot be reached.
"use strict";
const CACHE = CONFIG.cache;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => {
  const old = (name) => name.startsWith("steadfast-downtime-") && name !== CACHE;
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter(old).map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === CONFIG.pack) {
    // The pack is refreshed by the page when the server says there is a newer one.
    event.respondWith(cached(request).then((hit) => hit || fetch(request)));
  } else if (url.pathname === CONFIG.page && request.mode === "navigate") {
    event.respondWith(networkFirst(request, CONFIG.page));
  } else if (url.pathname.startsWith(CONFIG.static)) {
    event.respondWith(networkFirst(request, null));
  }
});

async function cached(request) {
  const cache = await caches.open(CACHE);
  return cache.match(request, { ignoreSearch: true });
}

async function networkFirst(request, keepAs) {
  try {
    const response = await fetch(request);
    if (keepAs && response.ok && !response.redirected) {
      const cache = await caches.open(CACHE);
      await cache.put(keepAs, response.clone());
    }
    return response;
  } catch (unreachable) {
    const hit = await cached(keepAs || request);
    return hit || Response.error();
  }
}
