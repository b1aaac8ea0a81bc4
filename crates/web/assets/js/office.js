"use strict";
// The office's common script: no page needs it to work, it only helps (print button, focus on
// the list of errors).
document.addEventListener("DOMContentLoaded", function () {
  var print = document.getElementById("print");
  if (print) {
    print.addEventListener("click", function () { window.print(); });
  }
  // The citizen's page: each credential's print button prints the page with that credential
  // alone (the others are hidden by the print style sheet while the dialog is open).
  Array.prototype.forEach.call(document.querySelectorAll("button.print-page"), function (b) {
    b.addEventListener("click", function () {
      var mine = b.closest("article");
      document.body.classList.add("printing-one");
      if (mine) { mine.classList.add("print-this"); }
      window.print();
      document.body.classList.remove("printing-one");
      if (mine) { mine.classList.remove("print-this"); }
    });
  });
  var errors = document.getElementById("errors");
  if (errors) {
    errors.focus();
  }
});
