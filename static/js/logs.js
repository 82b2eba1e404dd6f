/* Distribution › Logs: while a dispatch of the program runs (the log API's
   meta.dispatches_running), the rows of the page shown are refetched from the log API with
   the same filters, at most every 3 s; when nothing runs, a look every 30 s notices a run
   that starts. Text only (textContent), no markup. Without it the page works (reload). */
(function () {
  "use strict";
  var box = document.getElementById("logs");
  if (!box || !box.dataset.logsUrl || !window.fetch) { return; }
  var LIVE_MS = 3000;
  var IDLE_MS = 30000;
  var names = JSON.parse((document.getElementById("log-campaigns") || {}).textContent || "{}");
  var messageRows = window.campaignidMessageRows(box.dataset.timeZone, names);

  function draw(page) {
    var tbody = box.querySelector("table.message-log tbody");
    var fresh = messageRows(page.data);
    tbody.replaceChildren(fresh);
    box.querySelector(".table-wrap").hidden = page.data.length === 0;
    box.querySelector("[data-log-empty]").hidden = page.data.length > 0;
    var total = box.querySelector("[data-log-total]");
    total.textContent = new Intl.NumberFormat(document.documentElement.lang || undefined)
      .format(page.meta.total);
  }
  function live(running) {
    box.dataset.running = String(running);
    box.querySelector("[data-log-live]").hidden = !running;
  }
  function schedule() {
    setTimeout(refresh, Number(box.dataset.running) > 0 ? LIVE_MS : IDLE_MS);
  }
  function refresh() {
    fetch(box.dataset.logsUrl, { credentials: "same-origin",
                                 headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (page) {
        if (page && page.data) { draw(page); live(page.meta.dispatches_running); }
      })
      .catch(function () { /* the next turn tries again */ })
      .then(schedule);
  }
  schedule();
})();
