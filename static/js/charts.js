// Draw plotly figures whose JSON sits in <script type="application/json"> data blocks (CSP: no inline JS).
(function () {
  "use strict";
  function draw() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var block = document.getElementById(el.getAttribute("data-chart"));
      if (!block) { return; }
      var fig = JSON.parse(block.textContent);
      Plotly.newPlot(el, fig.data, fig.layout, { displaylogo: false, responsive: true }).then(function () {
        el.setAttribute("data-drawn", "1");
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
