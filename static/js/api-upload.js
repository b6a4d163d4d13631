// One way to send a file from a page: to the REST API (the same endpoint supplier systems use),
// signed in by the session and its CSRF token, with the upload's progress reported as it goes.
// portalApiUpload(url, formData, onPercent) resolves to {status, body}; portalApiError(answer)
// turns DRF's error body ({"file": ["…"]}, {"detail": "…"}) into one sentence for a person.
(function () {
  "use strict";

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  window.portalApiUpload = function (url, data, onPercent) {
    return new Promise(function (resolve) {
      var request = new XMLHttpRequest();
      request.open("POST", url);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", csrfToken());
      request.upload.onprogress = function (event) {
        if (event.lengthComputable) { onPercent(Math.round((event.loaded / event.total) * 100)); }
      };
      request.onload = function () {
        var body = {};
        try { body = JSON.parse(request.responseText); } catch (ignored) { body = {}; }
        resolve({ status: request.status, body: body });
      };
      request.onerror = function () { resolve({ status: 0, body: {} }); };
      request.send(data);
    });
  };

  window.portalApiError = function (answer) {
    if (answer.status === 0) {
      return "The connection broke during the upload; nothing was stored. Try again.";
    }
    var messages = [];
    (function collect(value) {
      if (typeof value === "string") { messages.push(value); }
      else if (Array.isArray(value)) { value.forEach(collect); }
      else if (value && typeof value === "object") { Object.keys(value).forEach(function (key) { collect(value[key]); }); }
    })(answer.body);
    return messages.join(" ") || ("The upload failed (" + answer.status + ").");
  };
})();
