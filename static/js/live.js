/* The one live client of generation jobs, dispatch runs and DHIS2 syncs: a WebSocket fed by
   the server's events (the session cookie authenticates it); when the socket cannot open or
   drops before the end, poll the object's API instead. `show(state)` draws a state and says
   whether it is final; `every` and `retry` are the polling intervals in ms. */
(function () {
  "use strict";
  window.campaignidLive = function (root, show, every, retry) {
    var pollTimer = null;
    var done = false;

    function poll() {
      fetch(root.dataset.statusUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (state) { if (!show(state)) { pollTimer = setTimeout(poll, every); } })
        .catch(function () { pollTimer = setTimeout(poll, retry); });
    }

    if (!("WebSocket" in window)) { poll(); return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    socket.onmessage = function (message) { done = show(JSON.parse(message.data)) || done; };
    socket.onclose = function () { if (!done && !pollTimer) { poll(); } };
  };
})();
