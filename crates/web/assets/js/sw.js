"use strict";
// The office's service worker (scope /office/): keeps the counter working when the service
// cannot be reached. It caches the counter's offline shell and the assets it needs, and when a
// navigation to the counter fails it answers with the shell, whose script verifies in the
// page against the trust list and status lists it saved while online. Nothing personal is
// cached here: the shell holds no session and no citizen's data.
// The service fills in the version and the asset URLs when it serves this file.
var VERSION = "__VERSION__";
var CACHE = "qrid-office-" + VERSION;
var SHELL = "/office/counter/offline";
var ASSETS = __ASSETS__;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) { return cache.addAll([SHELL].concat(ASSETS)); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (keys) {
        return Promise.all(keys
          .filter(function (k) { return k.indexOf("qrid-office-") === 0 && k !== CACHE; })
          .map(function (k) { return caches.delete(k); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && (url.pathname === "/office/counter" || url.pathname === SHELL)) {
    event.respondWith(fetch(request).catch(function () { return caches.match(SHELL); }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
  }
});
