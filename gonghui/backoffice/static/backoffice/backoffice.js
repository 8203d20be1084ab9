// Behaviours of the back office's own pages, kept out of the HTML so that the Content-Security-Policy allows no
// inline script. Loaded in every back-office page's head (UNFOLD["SCRIPTS"]), after unfold's htmx.
(function () {
  "use strict";

  // htmx would add its indicator rules as an inline <style>; the back office uses no indicator.
  if (window.htmx) window.htmx.config.includeIndicatorStyles = false;

  // Organisation tree: a toggle opens its node (htmx fetches the children) or closes it again. Listening in the
  // capture phase runs before htmx's own listener on the button, so closing can empty the node and keep htmx from
  // fetching the children again.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("button.gh-toggle");
    if (!toggle) return;
    var open = toggle.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) {
      var subtree = toggle.parentElement.querySelector(":scope > .gh-subtree");
      if (subtree) subtree.replaceChildren();
      event.stopPropagation();
    }
  }, true);

  // Buttons that print the page (the join-code poster).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-gh-print]")) window.print();
  });

  // Progress bars: the filled part's width is the bar's aria-valuenow, set through the DOM (a style attribute in
  // the HTML would be inline style). htmx:load comes for the page and for every fragment a poll swaps in.
  function drawProgress(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll(".gh-progress[aria-valuenow] > div").forEach(function (fill) {
      var percent = Math.min(Math.max(parseFloat(fill.parentElement.getAttribute("aria-valuenow")) || 0, 0), 100);
      fill.style.width = percent + "%";
    });
  }
  document.addEventListener("htmx:load", function (event) { drawProgress(event.target); });
  document.addEventListener("DOMContentLoaded", function () { drawProgress(document); });

  // Search boxes that answer as one types (htmx) are not submitted as forms.
  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[data-gh-live-search]")) event.preventDefault();
  });
})();
