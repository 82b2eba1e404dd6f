/* The one live client of generation jobs, dispatch runs and DHIS2 syncs: a WebSocket fed by
   the server's events (the session cookie authenticates it); when the socket cannot open or
   drops before the end, poll the object's API instead. `show(state)` draws a state and says
   whether it is final; `every` and `retry` are the polling intervals in ms.
   While the work is not over, /health says whether a worker listens on its queue
   (`data-worker-queue`): with none alive, the root's [data-field=no-worker] notice shows
   (only in the statuses listed in `data-worker-while`, when given: a draft needs no worker). */
(function () {
  "use strict";
  var WORKER_CHECK_MS = 10000;

  window.campaignidLive = function (root, show, every, retry) {
    var pollTimer = null;
    var done = false;
    var notice = root.querySelector('[data-field="no-worker"]');

    function draw(state) {
      done = show(state) || done;
      if (done && notice) { notice.hidden = true; }
      return done;
    }

    function poll() {
      fetch(root.dataset.statusUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (state) { if (!draw(state)) { pollTimer = setTimeout(poll, every); } })
        .catch(function () { pollTimer = setTimeout(poll, retry); });
    }

    function watchWorkers() {
      if (done) { return; }
      fetch(root.dataset.healthUrl, { cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (health) {
          var queue = health.queues && health.queues[root.dataset.workerQueue];
          var waits = !root.dataset.workerWhile
            || root.dataset.workerWhile.split(" ").indexOf(root.dataset.status) >= 0;
          notice.hidden = done || !queue || queue.workers > 0 || !waits;
        })
        .catch(function () {})
        .then(function () { if (!done) { setTimeout(watchWorkers, WORKER_CHECK_MS); } });
    }

    if (notice && root.dataset.workerQueue && root.dataset.healthUrl) { watchWorkers(); }
    if (!("WebSocket" in window)) { poll(); return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    socket.onmessage = function (message) { draw(JSON.parse(message.data)); };
    socket.onclose = function () { if (!done && !pollTimer) { poll(); } };
  };
})();
