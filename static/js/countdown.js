/* Live countdown to an appeal deadline: <span class="countdown" data-deadline="ISO-8601">.
   Display only; the server enforces the deadline. */
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function render(el) {
    var end = Date.parse(el.getAttribute("data-deadline"));
    if (isNaN(end)) { return; }
    var left = Math.floor((end - Date.now()) / 1000);
    if (left <= 0) {
      el.textContent = el.getAttribute("data-expired") || "申诉期已截止";
      el.classList.add("expired");
      return;
    }
    var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    el.textContent = "剩余 " + d + " 天 " + pad(h) + ":" + pad(m) + ":" + pad(s);
  }
  function tick() { document.querySelectorAll(".countdown[data-deadline]").forEach(render); }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
