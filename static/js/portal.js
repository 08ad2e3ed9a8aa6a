/* CSP Billing Portal: the only script. Opens the menu on small screens, dismisses alerts, asks
 * before irreversible actions (data-confirm) and adds rows to the invoice editor (data-formset-add).
 * Everything works without it: the menu is then always open, alerts simply stay, actions go ahead
 * (or have their own confirmation page) and the editor offers empty rows of its own. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      var header = toggle.closest(".site-header");
      var open = !header.classList.contains("is-open");
      header.classList.toggle("is-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    var close = event.target.closest("[data-dismiss-alert]");
    if (close) {
      var alert = close.closest(".alert");
      if (alert) {
        alert.remove();
      }
      return;
    }
    var add = event.target.closest("[data-formset-add]");
    if (add) {
      addFormsetRow(add);
    }
  });

  // A form (or the button that submits it) with data-confirm asks first; "Cancel" stops it.
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // Copies a Django formset's empty form (a <template> with __prefix__) as a new row.
  function addFormsetRow(button) {
    var rows = document.getElementById(button.getAttribute("data-formset-add"));
    var template = document.getElementById(button.getAttribute("data-formset-template"));
    var total = document.getElementById(button.getAttribute("data-formset-total"));
    if (!rows || !template || !total) {
      return;
    }
    var index = parseInt(total.value, 10) || 0;
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    var row = rows.lastElementChild;
    var first = row && row.querySelector("input, select, textarea");
    if (first) {
      first.focus();
    }
  }

  // The script runs in <head>: show the "Add line" buttons once the page is parsed.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-formset-add][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var header = document.querySelector(".site-header.is-open");
    if (header) {
      header.classList.remove("is-open");
      var toggle = header.querySelector("[data-nav-toggle]");
      if (toggle) {
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    }
  });
})();
