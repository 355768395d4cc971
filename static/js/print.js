/* "打印" link on the printable final list (CSP forbids inline handlers). */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".print-button").forEach(function (el) {
    el.addEventListener("click", function (ev) { ev.preventDefault(); window.print(); });
  });
});
