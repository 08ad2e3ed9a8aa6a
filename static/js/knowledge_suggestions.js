/* CSP Billing Portal: knowledge base suggestions on the customer's new ticket page
 * (templates/tickets/knowledge/_suggestions.html). While the subject is typed, a quarter of a second
 * after the last key, the articles matching it come as JSON from data-url ({articles: [{id, title,
 * excerpt, language, url}]}) and are listed as links under the subject. A link carries the form's key
 * (?from=ticket&flow=…), so the portal knows an article was opened from here and whether the ticket was
 * sent after all. Keyboard: Down from the subject goes to the first link, Up and Down move between them,
 * Escape goes back to the subject. Without this script the list stays hidden and the form works as ever.
 * Loaded with defer: the page is parsed. */
(function () {
  "use strict";

  var DELAY = 250;
  var MIN_CHARS = 3;

  function suggestions(box) {
    var subject = document.getElementById(box.getAttribute("data-subject"));
    var list = box.querySelector("[data-kb-list]");
    var status = document.querySelector("[data-kb-status]");
    var flow = box.getAttribute("data-flow") || "";
    var timer = null;
    var asked = "";
    var controller = null;
    if (!subject || !list) {
      return;
    }

    function links() {
      return Array.prototype.slice.call(list.querySelectorAll("a"));
    }

    function show(articles) {
      list.textContent = "";
      articles.forEach(function (article) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        var url = article.url + "?from=ticket&flow=" + encodeURIComponent(flow);
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener";
        link.lang = article.language;
        link.textContent = article.title;
        var hint = document.createElement("span");
        hint.className = "visually-hidden";
        hint.textContent = " " + list.getAttribute("data-new-tab");
        link.appendChild(hint);
        item.appendChild(link);
        if (article.excerpt) {
          var excerpt = document.createElement("span");
          excerpt.className = "cell-sub";
          excerpt.lang = article.language;
          excerpt.textContent = article.excerpt;
          item.appendChild(excerpt);
        }
        list.appendChild(item);
      });
      box.hidden = articles.length === 0;
      if (status) {
        status.textContent = articles.length ? status.getAttribute("data-found") + " " + articles.length : "";
      }
    }

    function ask() {
      var text = subject.value.trim();
      if (text === asked) {
        return;
      }
      asked = text;
      if (text.length < MIN_CHARS) {
        show([]);
        return;
      }
      if (controller) {
        controller.abort();
      }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      var url = box.getAttribute("data-url") + "?q=" + encodeURIComponent(text);
      fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (answer) {
          show(answer.articles || []);
        })
        .catch(function () {
          /* no suggestions this time: the form is what matters */
        });
    }

    subject.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY);
    });
    subject.addEventListener("keydown", function (event) {
      var found = links();
      if (event.key === "ArrowDown" && !box.hidden && found.length) {
        event.preventDefault();
        found[0].focus();
      }
    });
    list.addEventListener("keydown", function (event) {
      var found = links();
      var index = found.indexOf(document.activeElement);
      if (index < 0) {
        return;
      }
      if (event.key === "ArrowDown" && index < found.length - 1) {
        event.preventDefault();
        found[index + 1].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (index > 0 ? found[index - 1] : subject).focus();
      } else if (event.key === "Escape") {
        event.preventDefault();
        subject.focus();
      }
    });
    if (subject.value.trim()) {
      ask(); // the form came back with a subject (an error elsewhere): suggest for it at once
    }
  }

  document.querySelectorAll("[data-kb-suggest]").forEach(suggestions);
})();
