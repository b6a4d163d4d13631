// Drag-and-drop upload with a progress bar. Without JavaScript the form posts as usual.
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var zone = form.querySelector("[data-dropzone]");
    var input = form.querySelector("input[type=file]");
    var bar = form.querySelector("[data-progress]");
    var error = form.querySelector("[data-error]");

    function send(file) {
      var data = new FormData(form);
      data.set("file", file);
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", data.get("csrfmiddlewaretoken"));
      bar.classList.remove("d-none");
      error.textContent = "";
      request.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          var percent = Math.round((event.loaded / event.total) * 100);
          bar.firstElementChild.style.width = percent + "%";
          bar.firstElementChild.textContent = "Uploading " + file.name + " · " + percent + "%";
        }
      };
      request.onload = function () {
        var body = {};
        try { body = JSON.parse(request.responseText); } catch (ignored) { body = {}; }
        if (request.status === 202 && body.url) {
          window.location = body.url;
        } else {
          bar.classList.add("d-none");
          error.textContent = body.error || ("The upload failed (" + request.status + ").");
        }
      };
      request.onerror = function () {
        bar.classList.add("d-none");
        error.textContent = "The connection broke during the upload; nothing was stored. Try again.";
      };
      request.send(data);
    }

    form.addEventListener("submit", function (event) {
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
