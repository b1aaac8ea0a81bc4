"use strict";
// The office's common script: no page needs it to work, it only helps (print button, focus on
// the list of errors).
document.addEventListener("DOMContentLoaded", function () {
  var print = document.getElementById("print");
  if (print) {
    print.addEventListener("click", function () { window.print(); });
  }
  var errors = document.getElementById("errors");
  if (errors) {
    errors.focus();
  }
});
