// The invitation form (accounts.people): the role list offers only the roles valid for the
// chosen organisation (a supplier's people are suppliers). The server checks it either way.
(function () {
  "use strict";

  function restrict(role, organisation) {
    var allowed = JSON.parse(role.dataset.rolesByOrganisation || "{}")[organisation.value];
    if (!allowed) return;
    var firstAllowed = null;
    Array.prototype.forEach.call(role.options, function (option) {
      var ok = allowed.indexOf(option.value) !== -1;
      option.hidden = !ok;
      option.disabled = !ok;
      if (ok && firstAllowed === null) firstAllowed = option;
    });
    if (role.selectedOptions.length === 0 || role.selectedOptions[0].disabled) {
      if (firstAllowed) firstAllowed.selected = true;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var role = document.querySelector("select[data-roles-by-organisation]");
    var organisation = role && role.form && role.form.elements.namedItem("organisation");
    if (!role || !organisation) return;
    restrict(role, organisation);
    organisation.addEventListener("change", function () { restrict(role, organisation); });
  });
})();
