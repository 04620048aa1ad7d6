// The demo page: create a challenge through /demo/challenges, frame its verify page, and
// "send" SMS through /demo/sms, which signs them as the generic provider.
(function () {
  "use strict";
  var current = null;
  var error = document.getElementById("error");

  function post(path, payload) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error((body.error && body.error.message) || response.statusText); }
        return body;
      });
    });
  }

  document.getElementById("create").addEventListener("submit", function (event) {
    event.preventDefault();
    error.textContent = "";
    post("/demo/challenges", { phone: document.getElementById("phone").value }).then(function (challenge) {
      current = challenge;
      document.getElementById("verify-page").src = challenge.verify_path;
      document.getElementById("sender").textContent = challenge.phone;
      document.getElementById("text").value = challenge.sms_body;
      document.getElementById("sent").textContent = "";
      document.getElementById("challenge").hidden = false;
    }).catch(function (failure) { error.textContent = failure.message; });
  });

  document.getElementById("simulate").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) { return; }
    var text = document.getElementById("text").value;
    post("/demo/sms", { sender: current.phone, to: current.virtual_number, text: text }).then(function () {
      document.getElementById("sent").textContent = "Sent: \u201c" + text + "\u201d";
    }).catch(function (failure) { error.textContent = failure.message; });
  });
})();
