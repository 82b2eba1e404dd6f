/* Live DHIS2 import progress: a WebSocket fed by the server's sync events (the session cookie
   authenticates it); when the socket cannot open or drops, poll the sync API instead. */
(function () {
  "use strict";
  var root = document.getElementById("sync-run");
  if (!root) { return; }
  var labels = JSON.parse(document.getElementById("sync-labels").textContent);
  var finals = { completed: 1, failed: 1 };
  var pollTimer = null;

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

  function poll() {
    fetch(root.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (state) { if (!show(state)) { pollTimer = setTimeout(poll, 2000); } })
      .catch(function () { pollTimer = setTimeout(poll, 5000); });
  }

  function connect() {
    if (!("WebSocket" in window)) { poll(); return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    var done = false;
    socket.onmessage = function (message) { done = show(JSON.parse(message.data)) || done; };
    socket.onclose = function () { if (!done && !pollTimer) { poll(); } };
  }

  connect();
})();
