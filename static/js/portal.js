/* CSP Billing Portal: the only script. Opens the menu on small screens, dismisses alerts, asks
 * before irreversible actions (data-confirm), adds and removes rows of the invoice editor
 * (data-formset-add, data-line-remove), shows its amounts and totals as one types (data-line-editor) and
 * fills a line from the subscription picked for it (data-line-subscription),
 * moves the progress bar of a running job (data-poll-url) and offers matching customers as one types
 * in a customer box (data-lookup).
 * Everything works without it: the menu is then always open, alerts simply stay, actions go ahead
 * (or have their own confirmation page), the editor offers empty rows of its own (its totals are
 * shown once the draft is saved) and a job's page
 * refreshes itself (<noscript><meta http-equiv=refresh>) while the job runs, and a customer box
 * takes the typed name or domain, resolved when the form is sent. */
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
      return;
    }
    var remove = event.target.closest("[data-line-remove]");
    if (remove) {
      removeLineRow(remove);
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

  // Takes away a row added in the browser (it has no saved line; its index is simply skipped by the
  // formset, which ignores a missing extra form), then lets the totals follow.
  function removeLineRow(button) {
    var row = button.closest("[data-line-row]");
    var rows = row && row.parentElement;
    if (!row) {
      return;
    }
    row.remove();
    rows.dispatchEvent(new Event("input", { bubbles: true }));
    var add = document.querySelector("[data-formset-add='" + rows.id + "']");
    if (add) {
      add.focus();
    }
  }

  // ---- The invoice editor's amounts, worked out as one types ----
  // Exact decimals (BigInt units and a scale), rounded as the server does: amount = quantity × unit
  // price and tax = amount × rate / 100, each rounded once per line, half-up (away from zero), to the
  // currency's minor unit; the totals are sums of the rounded lines. Saving works them out again on
  // the server, whose figures are the ones kept.
  var DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

  function parseDecimal(text) {
    var match = DECIMAL.exec(String(text).trim());
    if (!match || match[2] + (match[3] || "") === "") {
      return null;
    }
    var fraction = match[3] || "";
    var units = BigInt((match[2] || "0") + fraction);
    return { units: match[1] === "-" ? -units : units, scale: fraction.length };
  }

  function pow10(n) {
    return BigInt(10) ** BigInt(n);
  }

  // `units` at `scale` decimal places, rounded half-up to `places`: the units at `places`.
  function roundHalfUp(units, scale, places) {
    if (scale <= places) {
      return units * pow10(places - scale);
    }
    var divisor = pow10(scale - places);
    var negative = units < BigInt(0);
    var rounded = ((negative ? -units : units) + divisor / BigInt(2)) / divisor;
    return negative ? -rounded : rounded;
  }

  // [amount, tax] of one line, in units of the currency's minor unit.
  function lineAmounts(quantity, price, rate, places) {
    var amount = roundHalfUp(quantity.units * price.units, quantity.scale + price.scale, places);
    return [amount, roundHalfUp(amount * rate.units, places + rate.scale + 2, places)];
  }

  // "1,234.50 USD" in the page's language, like the server's money filter; no float on the way.
  function formatMoney(units, places, currency) {
    var negative = units < BigInt(0);
    var digits = (negative ? -units : units).toString().padStart(places + 1, "0");
    var cut = digits.length - places;
    var text = (negative ? "-" : "") + digits.slice(0, cut) + (places ? "." + digits.slice(cut) : "");
    var lang = document.documentElement.lang || undefined;
    var format = new Intl.NumberFormat(lang, { minimumFractionDigits: places, maximumFractionDigits: places });
    return format.format(text) + "\u00a0" + currency;
  }

  function lineEditor(rows) {
    var summary = document.getElementById(rows.getAttribute("data-line-summary"));
    var exponents = JSON.parse(rows.getAttribute("data-currency-exponents") || "{}");

    function value(row, name) {
      var input = row.querySelector("[name$='-" + name + "']");
      return input ? input.value : "";
    }
    function update() {
      var currency = rows.getAttribute("data-currency") || "";
      var places = Object.prototype.hasOwnProperty.call(exponents, currency) ? exponents[currency] : 2;
      var totals = { subtotal: BigInt(0), tax: BigInt(0) };
      rows.querySelectorAll("[data-line-row]").forEach(function (row) {
        var cell = row.querySelector("[data-line-amount]");
        var removed = row.querySelector("input[name$='-DELETE']");
        var quantity = parseDecimal(value(row, "quantity"));
        var price = parseDecimal(value(row, "unit_price"));
        var rate = parseDecimal(value(row, "tax_rate") || "0");
        if (!cell) {
          return;
        }
        if ((removed && removed.checked) || !quantity || !price || !rate) {
          cell.textContent = "";
          return;
        }
        var amounts = lineAmounts(quantity, price, rate, places);
        cell.textContent = formatMoney(amounts[0], places, currency);
        totals.subtotal += amounts[0];
        totals.tax += amounts[1];
      });
      if (summary) {
        totals.total = totals.subtotal + totals.tax;
        summary.querySelectorAll("[data-line-total]").forEach(function (cell) {
          cell.textContent = formatMoney(totals[cell.getAttribute("data-line-total")], places, currency);
        });
        summary.hidden = false;
      }
    }
    rows.addEventListener("input", update);
    rows.addEventListener("change", function (event) {
      if (event.target.matches("[data-line-subscription]")) {
        fillFromSubscription(event.target);
      }
      update();
    });
    // A new invoice is in its customer's currency and offers its subscriptions: follow the customer box.
    var form = rows.closest("form");
    if (form) {
      form.addEventListener("lookup:chosen", function (event) {
        if (event.detail && event.detail.currency) {
          rows.setAttribute("data-currency", event.detail.currency);
          update();
        }
        if (event.detail && event.detail.id) {
          loadSubscriptions(rows, event.detail.id);
        }
      });
    }
    update();
  }

  // A subscription picked for a line fills in its description, quantity, unit price and tax rate.
  function fillFromSubscription(select) {
    var option = select.options[select.selectedIndex];
    var row = select.closest("[data-line-row]");
    if (!option || !option.value || !row) {
      return;
    }
    [
      ["description", "data-description"],
      ["quantity", "data-quantity"],
      ["unit_price", "data-unit-price"],
      ["tax_rate", "data-tax-rate"],
    ].forEach(function (pair) {
      var input = row.querySelector("[name$='-" + pair[0] + "']");
      if (input && option.hasAttribute(pair[1])) {
        input.value = option.getAttribute(pair[1]);
      }
    });
  }

  // The pickers of a new invoice offer the chosen customer's subscriptions (from the API), in every
  // row and in the template of rows still to be added; hidden while the customer has none.
  function loadSubscriptions(rows, customerId) {
    var url = rows.getAttribute("data-subscriptions-url");
    if (!url) {
      return;
    }
    var query = "?customer=" + encodeURIComponent(customerId) + "&page_size=100";
    fetch(url + query, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : { results: [] };
      })
      .then(function (page) {
        var subscriptions = page.results || [];
        var add = document.querySelector("[data-formset-add='" + rows.id + "']");
        var template = add && document.getElementById(add.getAttribute("data-formset-template"));
        var scopes = [rows].concat(template ? [template.content] : []);
        scopes.forEach(function (scope) {
          scope.querySelectorAll("[data-line-subscription]").forEach(function (select) {
            fillOptions(select, subscriptions);
            var box = select.closest(".line-subscription");
            if (box) {
              box.hidden = subscriptions.length === 0;
            }
          });
        });
      })
      .catch(function () {});
  }

  function fillOptions(select, subscriptions) {
    var blank = select.options[0];
    select.innerHTML = "";
    if (blank && !blank.value) {
      select.appendChild(blank);
    }
    subscriptions.forEach(function (subscription) {
      var option = document.createElement("option");
      var price = plain(subscription.unit_price);
      option.value = String(subscription.id);
      option.textContent = subscription.product + " · " + subscription.quantity + " × " + price;
      option.setAttribute("data-description", subscription.product);
      option.setAttribute("data-quantity", String(subscription.quantity));
      option.setAttribute("data-unit-price", price);
      option.setAttribute("data-tax-rate", plain(subscription.tax_rate));
      select.appendChild(option);
    });
  }

  // "36.0000" -> "36", "36.5000" -> "36.5": what someone would have typed (as the server shows them).
  function plain(text) {
    var value = String(text || "0");
    return value.indexOf(".") < 0 ? value : value.replace(/0+$/, "").replace(/\.$/, "");
  }

  // A running job's progress: ask its JSON status every second ({status, done, total, percent}) and
  // move the bar; once the job has ended, reload so the page shows the result (download, errors...).
  function pollProgress(box) {
    var url = box.getAttribute("data-poll-url");
    var bar = box.querySelector("progress");
    var badge = document.querySelector("[data-progress-status]");
    var lang = document.documentElement.lang || undefined;
    var failures = 0;
    function set(selector, value) {
      box.querySelectorAll(selector).forEach(function (el) {
        el.textContent = Number(value).toLocaleString(lang);
      });
    }
    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (job) {
          failures = 0;
          if (bar) {
            bar.value = job.percent;
            bar.textContent = job.percent + " %";
          }
          set("[data-progress-done]", job.done);
          set("[data-progress-total]", job.total);
          set("[data-progress-percent]", job.percent);
          if (badge && job.status_label) {
            badge.textContent = job.status_label;
          }
          if (job.status === "pending" || job.status === "running") {
            window.setTimeout(tick, 1000);
          } else {
            window.location.reload();
          }
        })
        .catch(function () {
          // A hiccup (a restart, the network): try again, less and less often.
          failures += 1;
          window.setTimeout(tick, Math.min(1000 * Math.pow(2, failures), 30000));
        });
    }
    window.setTimeout(tick, 1000);
  }

  // A customer box: ask the customers API for matches as the user types and show them as a listbox
  // (ARIA combobox); arrows move, Enter or a click chooses, Escape closes. Choosing fills the hidden
  // id; typing again forgets it, so the server resolves the text instead.
  function customerLookup(box) {
    var url = box.getAttribute("data-lookup-url");
    var input = box.querySelector("[data-lookup-input]");
    var hidden = box.querySelector("[data-lookup-value]");
    var list = box.querySelector("[data-lookup-options]");
    var status = box.querySelector("[data-lookup-status]");
    var timer = null;
    var active = -1;
    var asked = 0;

    function options() {
      return list.querySelectorAll("[role=option]");
    }
    function close() {
      list.hidden = true;
      list.innerHTML = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function highlight(index) {
      var all = options();
      if (!all.length) {
        return;
      }
      active = (index + all.length) % all.length;
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }
    function choose(option) {
      hidden.value = option.getAttribute("data-id");
      input.value = option.getAttribute("data-name");
      close();
      var detail = { id: hidden.value, currency: option.getAttribute("data-currency") };
      box.dispatchEvent(new CustomEvent("lookup:chosen", { bubbles: true, detail: detail }));
    }
    function show(customers) {
      list.innerHTML = "";
      customers.forEach(function (customer, i) {
        var option = document.createElement("li");
        option.id = list.id + "_" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-id", customer.id);
        option.setAttribute("data-name", customer.name);
        option.setAttribute("data-currency", customer.currency || "");
        option.textContent = customer.name;
        if (customer.domain) {
          var domain = document.createElement("span");
          domain.className = "lookup-domain";
          domain.textContent = customer.domain;
          option.appendChild(domain);
        }
        list.appendChild(option);
      });
      list.hidden = customers.length === 0;
      input.setAttribute("aria-expanded", customers.length ? "true" : "false");
      status.textContent = list.getAttribute(customers.length ? "data-found" : "data-none")
        .replace("%(count)s", String(customers.length));
      active = -1;
    }
    function search() {
      var text = input.value.trim();
      if (!text) {
        close();
        return;
      }
      var ticket = ++asked;
      var query = "?search=" + encodeURIComponent(text) + "&page_size=10";
      fetch(url + query, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (page) {
          if (ticket === asked && document.activeElement === input) {
            show(page.results || []);
          }
        })
        .catch(close);
    }

    input.addEventListener("input", function () {
      hidden.value = "";
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          search();
        } else {
          highlight(active + (event.key === "ArrowDown" ? 1 : -1));
        }
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        choose(options()[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });
    input.addEventListener("blur", function () {
      window.setTimeout(close, 150);
    });
    list.addEventListener("mousedown", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) {
        event.preventDefault();
        choose(option);
      }
    });
  }

  // After a refused submit the page comes back with errors: put the keyboard (and a screen reader) on
  // the first field at fault, or on the error summary when no single field is.
  function focusFirstError() {
    var field = document.querySelector(".has-error input:not([type=hidden]), .has-error select, .has-error textarea");
    if (field) {
      field.focus();
      return;
    }
    var summary = document.querySelector("main .alert-error");
    if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  }

  // The script runs in <head>: show the "Add line" buttons and start polling once the page is parsed.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-formset-add][hidden]").forEach(function (button) {
      button.hidden = false;
    });
    document.querySelectorAll("[data-poll-url]").forEach(pollProgress);
    document.querySelectorAll("[data-lookup]").forEach(customerLookup);
    document.querySelectorAll("[data-line-editor]").forEach(lineEditor);
    focusFirstError();
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
