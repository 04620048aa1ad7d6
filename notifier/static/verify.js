// The verify page's live part, built on revotp.js: the countdown, the attempts left, and each
// change of the challenge as its socket reports it, in the page's language.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("revotp-page").textContent);
  var texts = config.texts;
  var body = document.body;
  var statusLine = document.getElementById("status");
  var countdown = document.getElementById("countdown");
  var attemptsLine = document.getElementById("attempts");
  var FINAL = { verified: true, failed: true, expired: true, canceled: true };
  var state = config.status;
  // Until the socket's first frame: the time left as the server saw it when it made the page.
  var loadedAt = Date.now();

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return String(values[name]); });
  }

  function show(frame, note) {
    state = frame.status;
    body.setAttribute("data-state", state);
    var left = Math.max(frame.max_attempts - frame.attempts, 0);
    attemptsLine.textContent = say(texts.attempts_left, { count: left });
    if (FINAL[state]) {
      statusLine.textContent = texts[state];
    } else if (note) {
      statusLine.textContent = say(texts[note], { count: left });
    }
  }

  function tick() {
    if (FINAL[state]) { countdown.textContent = ""; return; }
    var seconds = watch.secondsLeft();
    if (seconds === null) {
      seconds = Math.max(Math.ceil((config.expires_at_ms - config.now_ms - (Date.now() - loadedAt)) / 1000), 0);
    }
    countdown.textContent = say(texts.expires_in, { time: Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0") });
  }

  // The funnel's "SMS link tapped" (GET /v1/stats): a beacon survives the page leaving for the app.
  document.getElementById("send").addEventListener("click", function () {
    navigator.sendBeacon("/v1/challenges/" + encodeURIComponent(config.challenge_id) +
      "/page/tapped?token=" + encodeURIComponent(config.watch_token));
  });

  show({ status: config.status, attempts: config.attempts, max_attempts: config.max_attempts }, null);
  if (FINAL[state]) { return; }
  var watch = RevOtp.watch({ challengeId: config.challenge_id, watchToken: config.watch_token, base: location.origin });
  watch.addEventListener("revotp:status", function (event) { show(event.detail, "waiting"); });
  watch.addEventListener("revotp:attempt_failed", function (event) { show(event.detail, "wrong_code"); });
  ["verified", "failed", "expired", "canceled"].forEach(function (end) {
    watch.addEventListener("revotp:" + end, function (event) { show(event.detail, null); tick(); });
  });
  watch.addEventListener("revotp:reconnecting", function () { statusLine.textContent = texts.reconnecting; });
  // The code came from another phone (another SIM of a dual-SIM phone, or someone else's).
  watch.addEventListener("revotp:sender_mismatch", function (event) {
    statusLine.textContent = say(texts.sender_mismatch, { sender: event.detail.sender });
  });
  tick();
  setInterval(tick, 1000);
})();
