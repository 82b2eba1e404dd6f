/* Live job progress: a WebSocket fed by the server's job events (the session cookie
   authenticates it, static/js/live.js); the same states come from the job API when it polls. */
(function () {
  "use strict";
  var root = document.getElementById("job");
  if (!root) { return; }
  var labels = JSON.parse(document.getElementById("job-labels").textContent);
  var finals = { completed: 1, failed: 1, cancelled: 1 };

  function field(name) { return root.querySelector('[data-field="' + name + '"]'); }

  // Grouped as the server groups them for the page's language ("1 000 000" in French).
  function grouped(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, root.dataset.thousands || "");
  }

  function show(state) {
    field("status").textContent = labels[state.status] || state.status;
    field("status").className = "pill pill-" + state.status;
    field("counts").textContent = grouped(state.cards_generated) + " / " + grouped(state.total_cards);
    field("eta").textContent = state.eta_seconds && !finals[state.status]
      ? labels.eta.replace("%s", state.eta_seconds) : "";
    field("bar").style.width = state.progress + "%";
    root.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", state.progress);
    if (state.error) { field("error").textContent = state.error; field("error").hidden = false; }
    if (state.status === "completed") {
      field("downloads").hidden = false;
      var portal = root.querySelector('[data-artifact="portal"]');
      if (portal && state.artifacts && state.artifacts.portal) { portal.hidden = false; }
    }
    if (finals[state.status] && field("cancel")) { field("cancel").hidden = true; }
    return !!finals[state.status];
  }

  window.campaignidLive(root, show, 2000, 5000);
})();
