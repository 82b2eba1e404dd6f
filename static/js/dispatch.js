/* Distribution page: live dispatch counters over /ws/dispatches/<id> (the session cookie
   authenticates it), polling the dispatch API when the socket cannot open or drops; and the
   SMS count of the message while it is typed. Every part works without it (reload, the
   "Count SMS" button). */
(function () {
  "use strict";
  var labels = JSON.parse((document.getElementById("dispatch-labels") || {}).textContent || "{}");
  var buttons = { draft: ["start", "stop"], running: ["pause", "stop"], paused: ["resume", "stop"],
                  done: [] };
  var COUNTERS = ["status", "contacted", "succeeded", "to_retry", "failed", "skipped"];

  // The send log (last 50 rows) refilled from the log API while a run's counters move: at most
  // once every 2.5 s, and once more after the run ends. Text only (textContent), no markup.
  var logBox = document.getElementById("log");
  var logTimer = null;
  var logLast = 0;
  var logAgain = false;
  var messageRows = logBox ? window.campaignidMessageRows(logBox.dataset.timeZone, null) : null;
  function drawLog(rows) {
    var tbody = logBox.querySelector("table.message-log tbody");
    if (!tbody) { return; }
    var fresh = messageRows(rows);
    tbody.replaceChildren(fresh);
    tbody.closest(".table-wrap").hidden = rows.length === 0;
    var empty = logBox.querySelector("[data-log-empty]");
    if (empty) { empty.hidden = rows.length > 0; }
  }
  function refreshLog() {
    if (!logBox || !logBox.dataset.logsUrl) { return; }
    if (logTimer) { logAgain = true; return; }  // once more when this one is in
    logAgain = false;
    logTimer = setTimeout(function () {
      logLast = Date.now();
      fetch(logBox.dataset.logsUrl, { credentials: "same-origin",
                                      headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (page) { if (page && page.data) { drawLog(page.data); } })
        .catch(function () {})
        .then(function () { logTimer = null; if (logAgain) { refreshLog(); } });
    }, Math.max(0, logLast + 2500 - Date.now()));
  }

  function follow(root) {
    var seen = null;
    function field(name) { return root.querySelector('[data-field="' + name + '"]'); }

    function show(state) {
      root.dataset.status = state.status;
      var pill = field("status");
      // A run stopped by hand ends "done" too: say "stopped", not "done".
      var shown = state.finish_reason === "stopped" ? "stopped" : state.status;
      pill.textContent = labels[shown] || shown;
      pill.className = "pill pill-" + state.status;
      root.querySelectorAll("[data-counter]").forEach(function (cell) {
        var value = state[cell.dataset.counter];
        if (value !== undefined) { cell.textContent = value; }
      });
      field("bar").style.width = state.progress + "%";
      root.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", state.progress);
      var reason = field("pause_reason");
      reason.hidden = !state.pause_reason;
      reason.querySelector("span").textContent = state.pause_reason || "";
      field("waiting").hidden = !state.waiting_until;
      if (state.waiting_until) {
        field("waiting_until").textContent = new Date(state.waiting_until).toLocaleString();
      }
      root.querySelectorAll("form[data-action]").forEach(function (form) {
        form.hidden = (buttons[state.status] || []).indexOf(form.dataset.action) < 0;
      });
      // Counters moved, or a first word from a run that is (or was just) running.
      var counters = COUNTERS.map(function (name) { return state[name]; }).join("/");
      var first = seen === null;
      if (first ? ["running", "done"].indexOf(state.status) >= 0 : counters !== seen) {
        refreshLog();
      }
      seen = counters;
      return state.status === "done";
    }

    window.campaignidLive(root, show, 3000, 6000);
  }

  document.querySelectorAll("[data-dispatch-id]").forEach(function (root) {
    if (root.dataset.status !== "done") { follow(root); }
  });

  // SMS segments and cost of the message as it is typed (the server counts: one rule).
  var form = document.querySelector("form[data-preview-url]");
  if (!form) { return; }
  var body = form.querySelector("[data-template-body]");
  var box = document.getElementById("sms-preview");
  var timer = null;
  function csrf() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function preview() {
    fetch(form.dataset.previewUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ body: body.value })
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data) { return; }
      box.hidden = false;
      box.querySelectorAll("[data-preview]").forEach(function (cell) {
        var value = data[cell.dataset.preview];
        if (value !== undefined) { cell.textContent = value; }
      });
      box.querySelector('[data-preview="ucs2-hint"]').hidden = data.encoding !== "UCS-2";
    }).catch(function () {});
  }
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  });
})();
