"use strict";
// The citizen wallet's service worker (scope /wallet/): once installed, the wallet opens and
// shows its live QR with no network. It caches the wallet's page (/wallet/, a shell that holds
// nothing personal: the credential and the holder key live in the browser's IndexedDB, not in
// the page) and the assets it needs (every embedded asset: the wallet's modules, the offline
// verifier, the QR generator, the CSS). Navigations to the wallet go to the network first and
// fall back to the cached page; the versioned assets under /static/ never change, so they come
// from the cache first. The service fills in the version and the asset URLs when it serves
// this file.
var VERSION = "__VERSION__";
var PREFIX = "qrid-wallet-";
var CACHE = PREFIX + VERSION;
var SHELL = "/wallet/";
// Cached when the service has it, but the worker installs without it.
var MANIFEST = "/wallet/manifest.webmanifest";
var ASSETS = __ASSETS__;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) {
        return cache.addAll([SHELL].concat(ASSETS))
          .then(function () { return cache.add(MANIFEST).catch(function () {}); });
      })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (keys) {
        return Promise.all(keys
          .filter(function (k) { return k.indexOf(PREFIX) === 0 && k !== CACHE; })
          .map(function (k) { return caches.delete(k); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

function cachedShell() {
  return caches.open(CACHE)
    .then(function (cache) { return cache.match(SHELL); })
    .then(function (hit) { return hit || Response.error(); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  // /wallet/offer?credential_offer=… is the same page: offline, the cached page reads the
  // offer from the address and says the service cannot be reached when the PIN is sent.
  if (request.mode === "navigate" && (url.pathname === SHELL || url.pathname === "/wallet/offer")) {
    event.respondWith(fetch(request).catch(cachedShell));
    return;
  }
  if (url.pathname === MANIFEST) {
    event.respondWith(fetch(request).catch(function () {
      return caches.open(CACHE).then(function (cache) { return cache.match(MANIFEST); })
        .then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
  }
});
