/* CSP Billing Portal: the only script. Opens the menu on small screens, dismisses alerts.
 * Everything works without it: the menu is then always open and alerts simply stay. */
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
    }
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
