"use strict";
// The counter: reads a QR code from the camera (or a photo of one) in the page with jsQR, asks
// the service for the verdict, and shows it with the holder's face when the service has the
// photo the credential was signed over. Everything is written with textContent. The verdict,
// the face and the scanned text are cleared at the next scan and after a minute: nothing
// personal stays on screen or in memory.
(function () {
  var CLEAR_AFTER_MS = 60000;
  var SCAN_EVERY_MS = 120;
  var root, csrf, video, canvas, ctx, status, verdict, face, stream = null;
  var busy = false, lastText = null, lastAt = 0, clearTimer = null, faceUrl = null, loopTimer = null;

  // In-page timings (frame captured → verdict shown), for docs/benchmarks.md. Numbers only.
  window.qridCounterTimings = [];

  function $(id) { return document.getElementById(id); }

  function clearVerdict() {
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
    lastText = null;
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
    clearVerdict();
    verdict.className = "verdict " + (v.valid ? "valid" : "invalid");
    verdict.setAttribute("data-kind", v.kind || "");
    $("verdict-headline").textContent = v.headline || "";
    $("verdict-reason").textContent = v.reason || v.detail || "";
    if (v.holder) {
      $("v-full_name").textContent = v.holder.full_name;
      $("v-date_of_birth").textContent = v.holder.date_of_birth;
      $("v-id_number").textContent = v.holder.id_number;
      $("v-expires").textContent = v.holder.expires;
      $("v-status").textContent = v.kind;
      $("verdict-holder").hidden = false;
    }
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

  function check(text, started) {
    if (busy) { return; }
    var now = performance.now();
    // The same code held in front of the camera is checked once, not at every frame.
    if (text === lastText && now - lastAt < 5000) { return; }
    busy = true;
    lastText = text;
    lastAt = now;
    status.textContent = root.dataset.checking;
    post("/office/counter/check", text)
      .then(function (r) {
        if (r.status === 401 || r.redirected) { window.location.assign("/office/sign-in?why=expired&next=/office/counter"); return null; }
        return r.json();
      })
      .then(function (v) {
        if (v) { show(v, text, started); lastText = text; }
        status.textContent = root.dataset.waiting;
      })
      .catch(function () { status.textContent = root.dataset.unavailable; })
      .then(function () { busy = false; });
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
  });
})();
