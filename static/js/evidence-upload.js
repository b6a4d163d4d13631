// Several evidence files, each sent on its own to the API (data-api) with its own progress line.
// Without JavaScript the form posts all files at once to the page.
(function () {
  "use strict";
  var form = document.querySelector("form[data-evidence-upload]");
  if (!form) { return; }
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-dropzone]");
  var list = form.querySelector("[data-file-progress]");

  function sendOne(file) {
    var line = document.createElement("li");
    line.className = "mb-1";
    line.innerHTML = '<span class="name"></span> <span class="state text-body-secondary"></span>' +
      '<div class="progress mt-1 progress-thin"><div class="progress-bar"></div></div>';
    line.querySelector(".name").textContent = file.name;
    list.appendChild(line);
    var bar = line.querySelector(".progress-bar");
    var state = line.querySelector(".state");
    bar.style.width = "0%";
    var data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    data.delete("files");
    data.append("file", file);
    return window.portalApiUpload(form.dataset.api, data, function (percent) {
      bar.style.width = percent + "%";
      state.textContent = percent + "%";
    }).then(function (answer) {
      if (answer.status === 201) {
        bar.classList.add("bg-success");
        state.textContent = "stored";
        return true;
      }
      bar.classList.add("bg-danger");
      bar.style.width = "100%";
      state.className = "state text-danger";
      var message = window.portalApiError(answer);
      // The line already names the file; most messages start with it too.
      state.textContent = message.indexOf(file.name + ": ") === 0 ? message.slice(file.name.length + 2) : message;
      return false;
    });
  }

  function sendAll(files) {
    list.innerHTML = "";
    var chain = Promise.resolve(true);
    var allStored = true;
    Array.prototype.forEach.call(files, function (file) {
      chain = chain.then(function () { return sendOne(file); })
        .then(function (ok) { allStored = allStored && ok; });
    });
    chain.then(function () { if (allStored) { window.location.reload(); } });
  }

  form.addEventListener("submit", function (event) {
    if (input.files.length) { event.preventDefault(); sendAll(input.files); }
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("is-over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("is-over"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer.files.length) { sendAll(event.dataTransfer.files); }
  });
})();
