// Small page behaviours: copy buttons (<button data-copy-target="input-id">), the permalink
// following htmx's address-bar changes, "← Back" links. No inline handlers, so a strict CSP
// (script-src 'self') keeps working. Delegated, so htmx-swapped elements work too.
(function () {
  "use strict";
  function copied(button, text) {
    var label = button.textContent;
    button.textContent = text;
    setTimeout(function () { button.textContent = label; }, 1500);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) return;
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(
        function () { copied(button, "Copied"); },
        function () { copied(button, document.execCommand("copy") ? "Copied" : "Press Ctrl+C"); }
      );
    } else {
      copied(button, document.execCommand("copy") ? "Copied" : "Press Ctrl+C");
    }
  });
  // htmx puts searches, filters and table state in the address bar: the permalink follows it.
  function follow() {
    var input = document.getElementById("permalink-url");
    if (input) input.value = location.href;
  }
  document.addEventListener("htmx:pushedIntoHistory", follow);
  document.addEventListener("htmx:replacedInHistory", follow);
  // "← Back" on error pages: the previous page when there is one, else the link's own href.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-history-back]");
    if (!link || history.length < 2 || !document.referrer) return;
    event.preventDefault();
    history.back();
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.id === "permalink-url") event.target.select();
  });
})();
