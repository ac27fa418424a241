// Live widgets poll with hx-trigger="every Ns". Pause them while the tab is hidden,
// without eval-based trigger filters (the Content-Security-Policy forbids eval).
document.addEventListener("htmx:beforeRequest", function (event) {
  if (document.hidden && event.detail.elt.hasAttribute("data-poll")) {
    event.preventDefault();
  }
});
// Catch up as soon as the tab is visible again.
document.addEventListener("visibilitychange", function () {
  if (!document.hidden) {
    document.querySelectorAll("[data-poll]").forEach(function (el) {
      htmx.trigger(el, "refresh");
    });
  }
});
// A refused Test connection (429: too many tests) carries its message in the result box.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 429) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
