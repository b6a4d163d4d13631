// Behaviour every page may use, declared in the markup by data attributes so that the
// Content-Security-Policy needs no inline script or style:
//   data-width="42"            a progress bar's width in per cent (set through the CSSOM);
//   data-select-all="SELECTOR" a checkbox that ticks or clears every box SELECTOR matches;
//   data-print                 a link that prints the page;
//   data-autosubmit            a select that submits its form when changed (the language
//                              switch); its form's [data-autosubmit-button] is then hidden.
(function () {
  "use strict";

  function widths(root) {
    root.querySelectorAll("[data-width]").forEach(function (bar) {
      var value = Math.max(0, Math.min(100, Number(bar.dataset.width) || 0));
      bar.style.width = value + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    widths(document);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      var button = select.form && select.form.querySelector("[data-autosubmit-button]");
      if (button) button.hidden = true;
    });
  });
  document.addEventListener("change", function (event) {
    var select = event.target instanceof HTMLSelectElement ? event.target : null;
    if (select && select.hasAttribute("data-autosubmit") && select.form) select.form.submit();
  });
  // htmx swaps in new progress (the serial list's bar refreshes every 700 ms).
  document.addEventListener("htmx:load", function (event) { widths(event.target.parentNode || document); });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var all = target.closest("[data-select-all]");
    if (all) {
      document.querySelectorAll(all.dataset.selectAll).forEach(function (box) {
        box.checked = all.checked;
      });
    }
    var print = target.closest("[data-print]");
    if (print) {
      event.preventDefault();
      window.print();
    }
  });
})();
