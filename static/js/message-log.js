/* The one drawing of send-log rows from the log API (the campaign's distribution page and the
   program's Logs page): text only (textContent), no markup. `campaignNames` (id -> name)
   adds the campaign and enrollment-id columns of the program-wide page. */
(function () {
  "use strict";

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  window.campaignidMessageRows = function (timeZone, campaignNames) {
    var dateFormat = null;
    try {
      dateFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        dateStyle: "short", timeStyle: "short", timeZone: timeZone || undefined });
    } catch (e) { dateFormat = null; }
    function when(value) {
      var date = new Date(value);
      return dateFormat ? dateFormat.format(date) : date.toLocaleString();
    }
    return function (rows) {
      var fresh = document.createDocumentFragment();
      rows.forEach(function (m) {
        var tr = document.createElement("tr");
        tr.dataset.messageId = m.id;
        cell(tr, when(m.created_at));
        if (campaignNames) {
          cell(tr, campaignNames[String(m.campaign_id)] || "");
          cell(tr, m.external_id || "\u2014", "mono");
        }
        cell(tr, m.card_code, "mono");
        cell(tr, m.channel_label || m.channel);
        cell(tr, String(m.attempt), "num");
        cell(tr, m.recipient || "\u2014", "mono");
        var pill = document.createElement("span");
        pill.className = "pill pill-msg-" + m.status;
        pill.textContent = m.status_label;
        cell(tr, "").appendChild(pill);
        var error = cell(tr, "", "small");
        if (m.error_code) {
          var label = document.createElement("span");
          label.title = m.error_code;
          label.textContent = m.error_label;
          error.appendChild(label);
          error.appendChild(document.createTextNode(" " + (m.error_detail || "")));
        }
        fresh.appendChild(tr);
      });
      return fresh;
    };
  };
})();
