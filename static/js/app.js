/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // Destructive buttons ask first; without JavaScript the POST simply goes through.
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // A slow upload on a field connection invites a second click: show it is on its way.
    var busy = form.getAttribute("data-busy");
    if (busy) {
      var button = form.querySelector("button[type=submit]");
      if (button) {
        window.setTimeout(function () {
          button.disabled = true;
          button.textContent = busy;
        }, 0);
      }
    }
  });

  // Card code prefixes are upper case; show what will be saved while the user types.
  document.querySelectorAll("input[data-uppercase]").forEach(function (input) {
    input.addEventListener("input", function () {
      var start = input.selectionStart;
      var end = input.selectionEnd;
      input.value = input.value.toUpperCase();
      input.setSelectionRange(start, end);
    });
  });

  // The program switcher submits on change; its button stays for browsers without JavaScript.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    var button = select.form && select.form.querySelector("button[type=submit]");
    if (button) button.hidden = true;
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Progress bars are drawn from their aria-valuenow: the CSP allows no inline style attribute.
  document.querySelectorAll('[role="progressbar"] .progress-bar').forEach(function (bar) {
    bar.style.width = (bar.parentNode.getAttribute("aria-valuenow") || 0) + "%";
  });
})();
