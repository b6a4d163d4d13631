// Several files, each sent on its own with its own progress line. Without JavaScript the form
// posts all files at once.
(function () {
  "use strict";
  var form = document.querySelector("form[data-evidence-upload]");
  if (!form) { return; }
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-dropzone]");
  var list = form.querySelector("[data-file-progress]");

  function sendOne(file) {
    return new Promise(function (resolve) {
      var line = document.createElement("li");
      line.className = "mb-1";
      line.innerHTML = '<span class="name"></span> <span class="state text-body-secondary"></span>' +
        '<div class="progress mt-1" style="height:.4rem"><div class="progress-bar" style="width:0%"></div></div>';
      line.querySelector(".name").textContent = file.name;
      list.appendChild(line);
      var bar = line.querySelector(".progress-bar");
      var state = line.querySelector(".state");
      var data = new FormData(form);
      data.delete("files");
      data.append("files", file);
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", data.get("csrfmiddlewaretoken"));
      request.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          var percent = Math.round((event.loaded / event.total) * 100);
          bar.style.width = percent + "%";
          state.textContent = percent + "%";
        }
      };
      request.onload = function () {
        var body = {};
        try { body = JSON.parse(request.responseText); } catch (ignored) { body = {}; }
        if (request.status === 201) {
          bar.classList.add("bg-success");
          state.textContent = "stored";
        } else {
          bar.classList.add("bg-danger");
          bar.style.width = "100%";
          state.className = "state text-danger";
          state.textContent = body.error || ("refused (" + request.status + ")");
        }
        resolve(request.status === 201);
      };
      request.onerror = function () {
        state.textContent = "the connection broke; nothing was stored";
        resolve(false);
      };
      request.send(data);
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
