"use strict";
// The counter: reads a QR code from the camera (or a photo of one) in the page with jsQR, asks
// the service for the verdict, and shows it with the holder's face when the service has the
// photo the credential was signed over. Everything is written with textContent. The verdict,
// the face and the scanned text are cleared at the next scan and after a minute: nothing
// personal stays on screen or in memory.
//
// Offline: while online the page saves the issuer's keys and every status list (checked with
// the offline verifier before they are kept) in the browser's cache, and a service worker keeps
// the page itself. When the service cannot be reached, the verdict comes from qrid-verify.mjs
// in the page, and says how old the saved status list is. A wallet's live QR (QP1:) is checked
// there too, as the service checks it: signed by the holder's wallet, fresh, and not seen by
// this page before.
(function () {
  var TRUST_CACHE = "qrid-trust-v1";
  var CLEAR_AFTER_MS = 60000;
  var SCAN_EVERY_MS = 120;
  var root, csrf, video, canvas, ctx, status, verdict, face, stream = null;
  var busy = false, lastText = null, lastAt = 0, clearTimer = null, faceUrl = null, loopTimer = null;

  // In-page timings (frame captured → verdict shown), for docs/benchmarks.md. Numbers only.
  window.qridCounterTimings = [];

  function $(id) { return document.getElementById(id); }

  // Clears the verdict and forgets the last code, so that the same code shown again is
  // checked again (the clerk's "clear", the timeout).
  function clearVerdict() {
    wipe();
    lastText = null;
  }

  // Empties the verdict on screen and releases the face.
  function wipe() {
    if (clearTimer) { clearTimeout(clearTimer); clearTimer = null; }
    if (faceUrl) { URL.revokeObjectURL(faceUrl); faceUrl = null; }
    face.removeAttribute("src");
    face.hidden = true;
    ["v-full_name", "v-date_of_birth", "v-id_number", "v-expires", "v-status",
     "s-signer", "s-document", "s-signed_at", "s-signature_id", "verdict-headline", "verdict-reason"]
      .forEach(function (id) { $(id).textContent = ""; });
    $("verdict-holder").hidden = true;
    $("verdict-stamp").hidden = true;
    verdict.hidden = true;
    verdict.className = "verdict";
    verdict.removeAttribute("data-kind");
    verdict.removeAttribute("data-offline");
  }

  function post(path, text) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({ text: text })
    });
  }

  function show(v, text, started) {
    wipe();
    verdict.className = "verdict " + (v.valid ? "valid" : "invalid");
    verdict.setAttribute("data-kind", v.kind || "");
    $("verdict-headline").textContent = v.headline || (v.valid ? root.dataset.valid : root.dataset.invalid);
    $("verdict-reason").textContent = v.reason || v.detail || "";
    if (v.holder) {
      $("v-full_name").textContent = v.holder.full_name;
      $("v-date_of_birth").textContent = v.holder.date_of_birth;
      $("v-id_number").textContent = v.holder.id_number;
      $("v-expires").textContent = v.holder.expires;
      $("v-status").textContent = v.status_text || v.kind;
      $("verdict-holder").hidden = false;
    }
    if (v.offline) { verdict.setAttribute("data-offline", "1"); } else { verdict.removeAttribute("data-offline"); }
    if (v.stamp) {
      $("s-signer").textContent = v.stamp.signer;
      $("s-document").textContent = v.stamp.document;
      $("s-signed_at").textContent = v.stamp.signed_at;
      $("s-signature_id").textContent = v.stamp.signature_id;
      $("verdict-stamp").hidden = false;
    }
    verdict.hidden = false;
    verdict.focus();
    window.qridCounterTimings.push(performance.now() - started);
    clearTimer = setTimeout(clearVerdict, CLEAR_AFTER_MS);
    if (v.valid && v.face === "qr" && v.photo) {
      face.src = "data:image/jpeg;base64," + v.photo;
      face.hidden = false;
    } else if (v.valid && v.face === "file") {
      post("/office/counter/face", text)
        .then(function (r) { return r.ok ? r.blob() : null; })
        .then(function (blob) {
          if (!blob || verdict.hidden) { return; }
          faceUrl = URL.createObjectURL(blob);
          face.src = faceUrl;
          face.hidden = false;
        })
        .catch(function () {});
    }
  }

  // ----- offline: the saved trust data and the in-page verifier -----

  var verifier = null;
  function loadVerifier() {
    if (!verifier) { verifier = import(root.dataset.verifier); }
    return verifier;
  }

  function ageText(seconds) {
    if (seconds == null) { return "?"; }
    if (seconds < 120) { return seconds + " s"; }
    if (seconds < 7200) { return Math.round(seconds / 60) + " min"; }
    if (seconds < 172800) { return Math.round(seconds / 3600) + " h"; }
    return Math.round(seconds / 86400) + " d";
  }

  // Saves the trust list and every status list, each checked by the verifier first, so that a
  // list that does not verify never replaces a good one.
  function saveTrust() {
    if (!window.caches) { return Promise.resolve(); }
    var cache, jwks;
    return Promise.all([caches.open(TRUST_CACHE), loadVerifier()])
      .then(function (got) {
        cache = got[0];
        return fetch("/.well-known/jwks.json", { cache: "no-store" });
      })
      .then(function (r) { if (!r.ok) { throw new Error("jwks"); } return r.text(); })
      .then(function (text) {
        jwks = text;
        return fetch("/v1/status-lists", { cache: "no-store" });
      })
      .then(function (r) { if (!r.ok) { throw new Error("index"); } return r.json(); })
      .then(function (index) {
        return loadVerifier().then(function (v) {
          var now = Math.floor(Date.now() / 1000);
          return Promise.all(index.lists.map(function (l) {
            return fetch("/v1/status-lists/" + l.n, { cache: "no-store" })
              .then(function (r) { return r.ok ? r.arrayBuffer() : null; })
              .then(function (buf) {
                if (!buf) { return null; }
                return v.checkStatusList(new Uint8Array(buf), jwks, now).then(function (c) {
                  return c.ok ? cache.put("/trust/list/" + l.n, new Response(buf)) : null;
                });
              });
          }));
        });
      })
      .then(function () {
        return cache.put("/trust/jwks.json", new Response(jwks)).then(function () {
          return cache.put("/trust/saved-at", new Response(String(Math.floor(Date.now() / 1000))));
        });
      })
      .then(function () {
        $("trust-status").textContent = root.dataset.trustSaved + " (" + new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC).";
      })
      .catch(function () {});
  }

  function readTrust() {
    return caches.open(TRUST_CACHE).then(function (cache) {
      return cache.keys().then(function (requests) {
        var lists = requests.filter(function (r) { return new URL(r.url).pathname.indexOf("/trust/list/") === 0; });
        return Promise.all([
          cache.match("/trust/jwks.json").then(function (r) { return r ? r.text() : null; }),
          Promise.all(lists.map(function (r) {
            return cache.match(r).then(function (x) { return x.arrayBuffer(); }).then(function (b) { return new Uint8Array(b); });
          }))
        ]);
      });
    });
  }

  // The live QRs (QP1:) accepted offline while this page is open: shown again, one is a copy.
  // The verifier forgets each once it is stale anyway.
  var seenPresentations = new Map();

  // The outcomes of a live QR, in the words of the online counter (office/counter.rs,
  // plain_reason), in the page's language.
  var LIVE_REASONS = {
    vi: {
      live_valid: "Mã QR động hợp lệ: do chính ví của người giữ thẻ tạo ra vừa xong, thẻ còn hạn và không bị thu hồi. Hãy so khuôn mặt với người đứng trước quầy.",
      presentation_stale: "Mã QR động đã cũ (ảnh chụp hoặc ảnh màn hình): yêu cầu công dân mở lại ví.",
      presentation_replayed: "Mã QR động này đã được quét trước đó: đây là bản sao.",
      presentation_wrong_holder: "Mã QR động không do ví của người giữ thẻ ký: thẻ của người khác.",
      presentation_unbound: "Thẻ này không gắn với ví nào nên không thể trình bày bằng mã QR động."
    },
    en: {
      live_valid: "A valid live QR: made just now by the holder's own wallet, for a genuine credential in date and not revoked. Compare the face with the person at the counter.",
      presentation_stale: "The live QR is stale (a photo or a screenshot): ask the citizen to open their wallet again.",
      presentation_replayed: "This live QR was scanned before: it is a copy.",
      presentation_wrong_holder: "The live QR was not signed by the holder's wallet: someone else's card.",
      presentation_unbound: "This credential is bound to no wallet, so it cannot be shown as a live QR."
    }
  };

  function liveReason(kind) {
    var words = LIVE_REASONS[document.documentElement.lang === "vi" ? "vi" : "en"];
    return Object.prototype.hasOwnProperty.call(words, kind) ? words[kind] : null;
  }

  function offlineCheck(text, started) {
    return Promise.all([loadVerifier(), readTrust()]).then(function (got) {
      var v = got[0], jwks = got[1][0], lists = got[1][1];
      if (!jwks) {
        show({ valid: false, kind: "offline_no_data", headline: root.dataset.invalid, reason: root.dataset.offlineNone }, text, started);
        return;
      }
      var what = v.classify(text);
      if (what !== "credential" && what !== "presentation") {
        show({ valid: false, kind: what, headline: root.dataset.invalid, reason: root.dataset.offlineInvalid }, text, started);
        return;
      }
      var context = { now: Math.floor(Date.now() / 1000), trust: jwks, statusLists: lists };
      var checked;
      if (what === "presentation") {
        context.seen = seenPresentations;
        checked = v.verifyPresentation(text, context);
      } else {
        checked = v.verify(text, context);
      }
      return checked.then(function (r) {
        var status = r.status || {};
        // A list that was found says its age; none found (or too old to use) says so.
        var age = status.state === "valid" || status.state === "revoked" || status.state === "suspended"
          ? root.dataset.offlineAge.replace("{age}", ageText(status.age_seconds))
          : root.dataset.offlineUnchecked;
        var claims = r.claims || null;
        // A live QR whose credential verified: the presentation decides, as online.
        var kind = r.ok ? (r.live ? "live_valid" : "valid") : r.kind;
        var live = r.live ? liveReason(kind) : null;
        var verdict = {
          valid: !!r.ok,
          kind: kind,
          status_text: r.ok ? root.dataset.valid : root.dataset.invalid + " (" + kind + ")",
          offline: true,
          headline: r.ok ? root.dataset.valid : root.dataset.invalid,
          reason: (live || (r.ok ? root.dataset.offlineValid : root.dataset.offlineInvalid + " (" + kind + ")")) + " " + age,
          face: "none"
        };
        if (claims) {
          verdict.holder = {
            full_name: claims.full_name, date_of_birth: claims.date_of_birth, id_number: claims.id_number,
            expires: new Date(claims.expires_at * 1000).toISOString().slice(0, 10)
          };
          if (r.ok && claims.photo && (claims.photo_format === 1 || claims.photo_format == null)) {
            var bin = "";
            for (var i = 0; i < claims.photo.length; i++) { bin += String.fromCharCode(claims.photo[i]); }
            verdict.face = "qr";
            verdict.photo = btoa(bin);
          }
        }
        show(verdict, text, started);
      });
    });
  }

  function check(text, started) {
    if (busy) { return; }
    var now = performance.now();
    // The same code held in front of the camera is checked once, not at every frame; a
    // wallet's live QR (QP1:) only once at all: checked again, it would read as a replay.
    if (text === lastText && (text.indexOf("QP1:") === 0 || now - lastAt < 5000)) { return; }
    busy = true;
    lastText = text;
    lastAt = now;
    status.textContent = root.dataset.checking;
    var done = function () { status.textContent = root.dataset.waiting; busy = false; };
    if (root.dataset.offline) {
      offlineCheck(text, started).catch(function () { status.textContent = root.dataset.unavailable; }).then(done);
      return;
    }
    post("/office/counter/check", text)
      .then(function (r) {
        if (r.status === 401 || (r.redirected && r.url.indexOf("/office/sign-in") >= 0)) {
          window.location.assign("/office/sign-in?why=expired&next=/office/counter");
          return null;
        }
        if (r.status >= 500) { throw new Error("service unavailable"); }
        return r.json();
      })
      .then(function (v) {
        if (v) { show(v, text, started); }
      })
      // The service cannot be reached: verify here, from what was saved.
      .catch(function () { return offlineCheck(text, started); })
      .catch(function () { status.textContent = root.dataset.unavailable; })
      .then(done);
  }

  function decode(source, w, h) {
    canvas.width = w;
    canvas.height = h;
    ctx.drawImage(source, 0, 0, w, h);
    var img = ctx.getImageData(0, 0, w, h);
    var found = window.jsQR(img.data, w, h, { inversionAttempts: "dontInvert" });
    return found && found.data ? found.data : null;
  }

  function tick() {
    loopTimer = null;
    if (!stream) { return; }
    var w = video.videoWidth, h = video.videoHeight;
    if (w && h && !busy) {
      var started = performance.now();
      var text = decode(video, w, h);
      if (text) { check(text, started); }
    }
    loopTimer = setTimeout(tick, SCAN_EVERY_MS);
  }

  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = root.dataset.unavailable;
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        return video.play();
      })
      .then(function () {
        $("scan-start").hidden = true;
        $("scan-stop").hidden = false;
        tick();
      })
      .catch(function () { status.textContent = root.dataset.unavailable; });
  }

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    if (loopTimer) { clearTimeout(loopTimer); loopTimer = null; }
    video.hidden = true;
    $("scan-start").hidden = false;
    $("scan-stop").hidden = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = $("counter");
    if (!root) { return; }
    csrf = root.dataset.csrf;
    video = $("scan-video");
    canvas = $("scan-canvas");
    ctx = canvas.getContext("2d", { willReadFrequently: true });
    status = $("scan-status");
    verdict = $("verdict");
    face = $("verdict-face");
    $("scan-start").addEventListener("click", startCamera);
    $("scan-stop").addEventListener("click", stopCamera);
    $("verdict-clear").addEventListener("click", clearVerdict);
    $("scan-file").addEventListener("change", function (e) {
      var file = e.target.files && e.target.files[0];
      e.target.value = "";
      if (!file) { return; }
      var started = performance.now();
      createImageBitmap(file).then(function (bmp) {
        // Large photos are scaled down: a QR in a phone photo reads well at 1600 px.
        var scale = Math.min(1, 1600 / Math.max(bmp.width, bmp.height));
        var text = decode(bmp, Math.round(bmp.width * scale), Math.round(bmp.height * scale));
        bmp.close();
        if (text) { lastText = null; check(text, started); } else { status.textContent = root.dataset.unavailable; }
      }).catch(function () { status.textContent = root.dataset.unavailable; });
    });
    if (new URLSearchParams(window.location.search).get("camera") === "1") { startCamera(); }
    if (!root.dataset.offline) {
      if (navigator.serviceWorker) {
        navigator.serviceWorker.register("/office/sw.js", { scope: "/office/" }).catch(function () {});
      }
      saveTrust();
    } else {
      readTrust().then(function (t) {
        $("trust-status").textContent = t[0] ? "" : root.dataset.offlineNone;
      }).catch(function () {});
    }
  });
})();
