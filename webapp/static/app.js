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
// A search box over a long select (timezones, scope objects): <input data-filter-select="#id">
// hides the options whose text does not contain every typed word. Without JavaScript the
// box stays hidden (it carries the "js-only" class) and the select works as it is.
function lsyncFilterSelect(input) {
  var select = document.querySelector(input.getAttribute("data-filter-select"));
  if (!select) { return; }
  var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
  var shown = 0;
  Array.prototype.forEach.call(select.options, function (option) {
    var text = (option.text + " " + option.value).toLowerCase();
    var match = option.value === "" || words.every(function (w) { return text.indexOf(w) !== -1; });
    option.hidden = !match;
    option.disabled = !match && !option.selected;
    if (match && option.value !== "") { shown += 1; }
  });
  Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
    group.hidden = !Array.prototype.some.call(group.children, function (o) { return !o.hidden; });
  });
  var count = document.getElementById(input.id + "-count");
  if (count) { count.textContent = words.length ? shown + " match" + (shown === 1 ? "" : "es") : ""; }
}
function lsyncBindFilters(root) {
  (root || document).querySelectorAll("[data-filter-select]").forEach(function (input) {
    input.classList.remove("js-only");
    if (input.dataset.bound) { return; }
    input.dataset.bound = "1";
    input.addEventListener("input", function () { lsyncFilterSelect(input); });
    // Enter in the search box picks the first match instead of submitting the form.
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var select = document.querySelector(input.getAttribute("data-filter-select"));
      var first = select && Array.prototype.find.call(select.options, function (o) { return !o.hidden && o.value !== ""; });
      if (first) { select.value = first.value; select.dispatchEvent(new Event("change", { bubbles: true })); }
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { lsyncBindFilters(document); });
document.addEventListener("htmx:afterSettle", function (event) { lsyncBindFilters(event.detail.elt); });
