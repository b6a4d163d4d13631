// Behaviour every page may use, declared in the markup by data attributes so that the
// Content-Security-Policy needs no inline script or style:
//   data-width="42"            a progress bar's width in per cent (set through the CSSOM);
//   data-select-all="SELECTOR" a checkbox that ticks or clears every box SELECTOR matches;
//   data-print                 a link that prints the page;
//   data-autosubmit            a select that submits its form when changed (the language
//                              switch); its form's [data-autosubmit-button] is then hidden;
//   data-promise-form          the approval form: ticking a promise under test marks
//                              (data-proposed) the boxes whose data-promises name it, and ticks
//                              the pins it proposes that were not ticked or cleared by hand.
(function () {
  "use strict";

  function widths(root) {
    root.querySelectorAll("[data-width]").forEach(function (bar) {
      var value = Math.max(0, Math.min(100, Number(bar.dataset.width) || 0));
      bar.style.width = value + "%";
    });
  }

  function proposals(form, changed) {
    var ticked = [];
    form.querySelectorAll(".promise-pick input[type=checkbox]").forEach(function (box) {
      if (box.checked) ticked.push(box.value);
    });
    form.querySelectorAll("input[data-promises]").forEach(function (box) {
      var proposed = box.dataset.promises.split(" ").some(function (promise) {
        return ticked.indexOf(promise) >= 0;
      });
      box.toggleAttribute("data-proposed", proposed);
      if (changed && box.name === "pins" && !box.hasAttribute("data-touched")) box.checked = proposed;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    widths(document);
    document.querySelectorAll("[data-promise-form]").forEach(function (form) {
      // What the page shows ticked was ticked by someone: never untick it for them.
      form.querySelectorAll("input[data-promises]:checked").forEach(function (box) {
        box.setAttribute("data-touched", "");
      });
      proposals(form, false);
    });
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      var button = select.form && select.form.querySelector("[data-autosubmit-button]");
      if (button) button.hidden = true;
    });
  });
  document.addEventListener("change", function (event) {
    var box = event.target instanceof HTMLInputElement ? event.target : null;
    var form = box && box.closest("[data-promise-form]");
    if (form && box.closest(".promise-pick")) proposals(form, true);
    else if (form && box.hasAttribute("data-promises")) box.setAttribute("data-touched", "");
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
