// "Copy" buttons: <button data-copy-target="id-of-a-textarea">. Falls back to selecting the text.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) return;
    var done = function () {
      var label = button.getAttribute("data-copied-label");
      if (label) {
        var original = button.textContent;
        button.textContent = label;
        setTimeout(function () { button.textContent = original; }, 2000);
      }
    };
    source.focus();
    source.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done, function () {});
    } else {
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  });
})();
