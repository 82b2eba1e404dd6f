/* Live DHIS2 import progress: a WebSocket fed by the server's sync events (the session cookie
   authenticates it, static/js/live.js); the same states come from the sync API when it polls. */
(function () {
  "use strict";
  var root = document.getElementById("sync-run");
  if (!root) { return; }
  var labels = JSON.parse(document.getElementById("sync-labels").textContent);
  var finals = { completed: 1, failed: 1 };

  function field(name) { return root.querySelector('[data-field="' + name + '"]'); }

  function show(state) {
    field("status").textContent = labels[state.status] || state.status;
    field("status").className = "pill pill-" + state.status;
    field("pages").textContent = labels.pages
      .replace("%(done)s", state.pages_done)
      .replace("%(count)s", state.page_count === null ? "?" : state.page_count);
    field("bar").value = state.progress;
    ["created", "updated", "unchanged", "skipped"].forEach(function (name) {
      field(name).textContent = state[name];
    });
    if (state.error) { field("error").textContent = state.error; field("error").hidden = false; }
    if (field("errors") && state.skipped) { field("errors").hidden = false; }
    return !!finals[state.status];
  }

  window.campaignidLive(root, show, 2000, 5000);
})();
