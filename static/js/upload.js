// Drag-and-drop serial list upload with a progress bar, sent to the API (data-api); on 202 the
// page goes to the list's report (data-next, with 0 in place of the list's id). Without
// JavaScript the form posts to the page as usual.
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var zone = form.querySelector("[data-dropzone]");
    var input = form.querySelector("input[type=file]");
    var bar = form.querySelector("[data-progress]");
    var error = form.querySelector("[data-error]");

    function send(file) {
      var data = new FormData(form);
      data.delete("csrfmiddlewaretoken");
      data.set("file", file);
      bar.classList.remove("d-none");
      error.textContent = "";
      window.portalApiUpload(form.dataset.api, data, function (percent) {
        bar.firstElementChild.style.width = percent + "%";
        bar.firstElementChild.textContent = "Uploading " + file.name + " · " + percent + "%";
      }).then(function (answer) {
        if (answer.status === 202 && answer.body.id) {
          window.location = form.dataset.next.replace("/0/", "/" + answer.body.id + "/");
        } else {
          bar.classList.add("d-none");
          error.textContent = window.portalApiError(answer);
        }
      });
    }

    form.addEventListener("submit", function (event) {
      // "Check without uploading" posts the form to its check page as it is: never to the API.
      if (event.submitter && event.submitter.hasAttribute("data-check")) { return; }
      if (input.files.length) {
        event.preventDefault();
        send(input.files[0]);
      }
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("is-over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer.files.length) { send(event.dataTransfer.files[0]); }
    });
  });
})();
