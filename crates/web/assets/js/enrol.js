"use strict";
// Enrolment's photo: from the camera (getUserMedia), put into the form's file input as a JPEG,
// so the form posts the same way whether the photo came from the camera or a file. The
// service decodes, checks and re-encodes it; nothing here is trusted.
document.addEventListener("DOMContentLoaded", function () {
  var start = document.getElementById("camera-start");
  var box = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var canvas = document.getElementById("camera-canvas");
  var take = document.getElementById("camera-take");
  var input = document.getElementById("photo");
  var preview = document.getElementById("photo-preview");
  var status = document.getElementById("camera-status");
  var stream = null;
  var url = null;
  if (!start || !input) { return; }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    box.hidden = true;
  }

  function show(file) {
    if (url) { URL.revokeObjectURL(url); }
    url = URL.createObjectURL(file);
    preview.src = url;
    preview.hidden = false;
  }

  start.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = start.dataset.unavailable;
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 960 }, height: { ideal: 1280 } }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        box.hidden = false;
        take.focus();
      })
      .catch(function () { status.textContent = start.dataset.unavailable; });
  });

  take.addEventListener("click", function () {
    var w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) { return; }
    // A portrait (3:4) from the middle of the frame: cameras give landscape frames.
    var cw = Math.min(w, Math.floor(h * 3 / 4)), ch = Math.min(h, Math.floor(w * 4 / 3));
    canvas.width = cw;
    canvas.height = ch;
    canvas.getContext("2d").drawImage(video, (w - cw) / 2, (h - ch) / 2, cw, ch, 0, 0, cw, ch);
    canvas.toBlob(function (blob) {
      if (!blob) { status.textContent = start.dataset.unavailable; return; }
      var file = new File([blob], "camera.jpg", { type: "image/jpeg" });
      var dt = new DataTransfer();
      dt.items.add(file);
      input.files = dt.files;
      show(file);
      status.textContent = start.dataset.taken;
      stop();
    }, "image/jpeg", 0.92);
  });

  input.addEventListener("change", function () {
    if (input.files && input.files[0]) { show(input.files[0]); }
  });
});
