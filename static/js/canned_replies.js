/* CSP Billing Portal: the canned reply picker on a staff ticket page (templates/tickets/canned/_picker.html).
 * Choosing a canned reply and pressing Insert asks the server for its text filled in for this ticket
 * (JSON from the option's data-url: {id, title, body, language}) and puts it into the reply box: as
 * the whole text when the box is empty, else after what is written. The reply form's
 * hidden canned_reply field keeps the id, so sending the reply counts a use of it.
 * Without this script the picker's form asks the ticket page again with ?canned_reply=<id>, and the page
 * comes back with the reply form started from that text. Loaded with defer: the page is parsed. */
(function () {
  "use strict";

  // The whole text when the box is empty; else after what is written, a blank line between.
  function insert(box, text) {
    var written = box.value.replace(/\s+$/, "");
    box.value = written ? written + "\n\n" + text : text;
    box.setSelectionRange(box.value.length, box.value.length);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  }

  function picker(form) {
    var select = form.querySelector("select");
    var status = form.querySelector("[data-canned-status]");
    var box = document.getElementById(form.getAttribute("data-canned-body"));
    var used = document.getElementById(form.getAttribute("data-canned-used"));
    if (!select || !box) {
      return; // no reply box on this page: the form keeps working without the script
    }
    // Emptying the reply box forgets the canned reply: what is sent then no longer starts from it.
    box.addEventListener("input", function () {
      if (used && !box.value.trim()) {
        used.value = "";
      }
    });
    form.addEventListener("submit", function (event) {
      var option = select.options[select.selectedIndex];
      var url = option && option.getAttribute("data-url");
      if (!url) {
        return; // nothing chosen: the browser's "required" says so
      }
      event.preventDefault();
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (reply) {
          insert(box, reply.body);
          if (used) {
            used.value = String(reply.id);
          }
          if (status) {
            status.textContent = status.getAttribute("data-inserted") + " " + reply.title;
          }
          select.selectedIndex = 0;
        })
        .catch(function () {
          if (status) {
            status.textContent = status.getAttribute("data-failed");
          }
        });
    });
  }

  document.querySelectorAll("[data-canned-picker]").forEach(picker);
})();
