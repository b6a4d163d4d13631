// The sampled-unit page: the carton is prefilled from the carton list and confirmed with one
// tap. A scanner ends each label (or carton) with Enter: that moves to the confirming button
// instead of submitting, so the carton is always confirmed by a deliberate tap. When the carton typed
// differs from the list, "Carton … matches" steps aside for "Record with the carton typed
// above" (without JavaScript both show, and the server refuses a contradiction).
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-unit-form]");
    if (!form) return;
    var expected = (form.dataset.expectedCarton || "").trim().toLowerCase();
    var carton = form.querySelector("[data-carton-input]");
    var label = form.querySelector("[data-label-input]");
    var matches = form.querySelector("[data-carton-matches]");
    var differs = form.querySelector("[data-carton-differs]");

    function mainButton() {
      if (matches && !matches.hidden) return matches;
      return differs || form.querySelector("button[value=record]");
    }

    function follow() {
      if (!carton || !matches || !differs) return;
      var typed = carton.value.trim().toLowerCase();
      var other = typed !== "" && typed !== expected;
      matches.hidden = other;
      differs.hidden = !other;
      differs.classList.toggle("btn-primary", other);
      differs.classList.toggle("btn-lg", other);
      differs.classList.toggle("btn-outline-primary", !other);
    }

    if (carton) carton.addEventListener("input", follow);
    follow();
    [label, carton].forEach(function (input) {
      if (!input) return;
      input.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") return;
        event.preventDefault();
        var button = mainButton();
        if (button) button.focus();
      });
    });
  });
})();
