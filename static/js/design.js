/* Card design page: refresh the preview image as the operator changes the form.
   Progressive enhancement only: without this file the "Preview" button re-renders the page. */
(function () {
  "use strict";

  var form = document.getElementById("design-form");
  var image = document.getElementById("design-preview");
  if (!form || !image || !window.fetch || !window.URLSearchParams || !window.URL) return;

  var base = form.getAttribute("data-preview-url");
  var error = document.getElementById("preview-error");
  var state = document.getElementById("preview-state");
  var previewButton = form.querySelector("button[name=action][value=preview]");
  var template = form.elements.template_id;
  var fieldsFor = form.elements.fields_for;
  // The saved design's version, so the address changes after each save.
  var version = new URL(image.src, window.location.href).searchParams.get("v") || "";
  var timer = null;
  var controller = null;
  var objectUrl = null;

  if (previewButton) previewButton.hidden = true;

  function previewAddress() {
    var params = new URLSearchParams();
    params.set("template_id", template.value);
    ["primary_colour", "accent_colour", "title"].forEach(function (name) {
      params.set(name, form.elements[name].value);
    });
    var shown = [];
    form.querySelectorAll("input[name=show_fields]:checked").forEach(function (box) {
      shown.push(box.value);
    });
    params.set("show_fields", shown.join(","));
    params.set("logo", form.elements.logo.checked ? "true" : "false");
    if (form.elements.card_validity_months) {
      params.set("card_validity_months", form.elements.card_validity_months.value);
    }
    // Campaign-level values: sent even when empty, so a cleared box clears the preview's.
    form.querySelectorAll("input[name^=value_]").forEach(function (box) {
      params.set(box.name, box.value);
    });
    params.set("v", version);
    return base + "?" + params.toString();
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  function refresh() {
    // Only the latest choice matters: a slower answer to an older one is dropped.
    if (controller && window.AbortController) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    image.setAttribute("aria-busy", "true");
    fetch(previewAddress(), {
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (response.ok) {
          return response.blob().then(function (blob) {
            if (objectUrl) URL.revokeObjectURL(objectUrl);
            objectUrl = URL.createObjectURL(blob);
            image.src = objectUrl;
            error.hidden = true;
            image.removeAttribute("aria-busy");
          });
        }
        return response.json().then(function (body) {
          showError(body.error || form.getAttribute("data-error-text"));
          image.removeAttribute("aria-busy");
        });
      })
      .catch(function (failure) {
        if (failure && failure.name === "AbortError") return;
        showError(form.getAttribute("data-error-text"));
        image.removeAttribute("aria-busy");
      });
  }

  function changed() {
    if (state) state.textContent = form.getAttribute("data-unsaved-text");
    window.clearTimeout(timer);
    // A colour picker fires while it is dragged: wait until the operator pauses.
    timer = window.setTimeout(refresh, 350);
  }

  form.addEventListener("input", function (event) {
    if (event.target !== template) changed();
  });
  form.addEventListener("change", function (event) {
    if (event.target === template && template.value !== fieldsFor.value && previewButton) {
      // Another template has other optional fields: the server draws its checkboxes.
      if (form.requestSubmit) form.requestSubmit(previewButton);
      else previewButton.click();
      return;
    }
    if (event.target.type === "checkbox" || event.target.tagName === "SELECT") changed();
  });
})();
