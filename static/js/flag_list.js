// Flag list: select-all on the page, selected count, dismiss needs a reason.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("bulk-form");
    if (!form) { return; }
    var all = document.getElementById("select-all");
    var picks = function () { return form.querySelectorAll("input.pick"); };
    var counter = document.getElementById("selected-count");
    function update() {
      var n = form.querySelectorAll("input.pick:checked").length;
      if (counter) { counter.textContent = String(n); }
    }
    if (all) {
      all.addEventListener("change", function () {
        picks().forEach(function (cb) { cb.checked = all.checked; });
        update();
      });
    }
    form.addEventListener("change", update);
    form.addEventListener("submit", function (ev) {
      var action = ev.submitter ? ev.submitter.value : "";
      var n = form.querySelectorAll("input.pick:checked").length;
      var matching = document.getElementById("select-all-matching");
      if (matching && matching.checked) { n = 1; }
      if (n === 0) { ev.preventDefault(); alert("请至少选择一条纠偏记录。"); return; }
      if (action === "dismiss") {
        var reason = document.getElementById("bulk-reason");
        if (!reason.value.trim()) { ev.preventDefault(); reason.focus(); alert("不予纠偏必须填写理由。"); }
      }
    });
    update();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
