// Idle countdown: the server signs a session out after the idle limit; this shows the time left
// and, at zero, takes the page to the sign-in page so nothing stays on screen. Any key, click
// or scroll on the page counts as activity only when it reaches the server (a page load).
(function () {
  "use strict";
  var body = document.body;
  var minutes = parseInt(body.getAttribute("data-idle-minutes") || "0", 10);
  if (!minutes) { return; }
  var deadline = Date.now() + minutes * 60 * 1000;
  var label = document.getElementById("idle-countdown");
  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    if (label) {
      var m = Math.floor(left / 60), s = left % 60;
      label.textContent = m + ":" + (s < 10 ? "0" : "") + s + " 后无操作将自动退出";
    }
    if (left <= 0) {
      window.location.assign("/console/signin?reason=idle");
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
// The help queue refreshes itself (htmx): keep the waiting count in the tab's title so a new
// request is seen from another tab too.
document.addEventListener("htmx:afterSwap", function () {
  "use strict";
  var table = document.getElementById("help-table");
  if (!table) { return; }
  var count = parseInt(table.getAttribute("data-open-count") || "0", 10);
  document.title = (count ? "(" + count + ") " : "") + "群众求助 · 就近办平台 · 工作台";
});
