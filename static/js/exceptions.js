// The exceptions page: choosing a reason (or decision) or typing a note on a row ticks that
// row, and the row's chosen reason is explained under it. Without this script the server still
// takes a row with its own choice or note as chosen (serials.forms.chosen_rows).
(function () {
  "use strict";

  function rowOf(element) {
    return element.closest("tr");
  }

  function tick(element) {
    var row = rowOf(element);
    var box = row && row.querySelector("input[name=exception]");
    if (box) box.checked = true;
  }

  function explain(select) {
    var row = rowOf(select);
    var help = row && row.querySelector("[data-reason-help]");
    if (!help) return;
    var option = select.options[select.selectedIndex];
    help.textContent = (option && option.dataset.explanation) || "";
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-row-choice]").forEach(explain);
  });
  document.addEventListener("change", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target || !target.closest(".exceptions-table")) return;
    if (target.matches("select[data-row-choice]")) {
      explain(target);
      if (target.value) tick(target);
    }
  });
  document.addEventListener("input", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (target && target.matches(".exceptions-table input[type=text]") && target.value) {
      tick(target);
    }
  });
})();
