// The verify page's live part: countdown, attempts left, and the challenge's state over its
// socket (docs/api.md, "One challenge"), reconnecting until the challenge has ended.
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
  var attempts = config.attempts;
  var retryDelayMs = 1000;
  var loadedAt = Date.now();

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return String(values[name]); });
  }

  // note: "wrong_code" after a failed attempt, "waiting" when the socket (re)opened.
  function show(newState, note) {
    state = newState;
    body.setAttribute("data-state", state);
    var left = Math.max(config.max_attempts - attempts, 0);
    attemptsLine.textContent = say(texts.attempts_left, { count: left });
    if (FINAL[state]) {
      statusLine.textContent = texts[state];
    } else if (note) {
      statusLine.textContent = say(texts[note], { count: left });
    }
    document.dispatchEvent(new CustomEvent("revotp:" + state, { detail: { attempts: attempts } }));
  }

  function tick() {
    if (FINAL[state]) { countdown.textContent = ""; return; }
    // The server's clock, not the device's: a phone's clock may be minutes off.
    var seconds = Math.max(Math.ceil((config.expires_at_ms - config.now_ms - (Date.now() - loadedAt)) / 1000), 0);
    var time = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
    countdown.textContent = say(texts.expires_in, { time: time });
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + "/v1/challenges/" + encodeURIComponent(config.challenge_id) +
      "/events?token=" + encodeURIComponent(config.watch_token);
    var socket = new WebSocket(url);
    socket.onmessage = function (message) {
      var frame = JSON.parse(message.data);
      retryDelayMs = 1000;
      if (typeof frame.attempts === "number") { attempts = frame.attempts; }
      var note = frame.type === "challenge.attempt_failed" ? "wrong_code" : null;
      show(frame.status, frame.type === "challenge.status" ? "waiting" : note);
    };
    socket.onclose = function () {
      if (FINAL[state]) { return; }
      statusLine.textContent = texts.reconnecting;
      setTimeout(connect, retryDelayMs);
      retryDelayMs = Math.min(retryDelayMs * 2, 10000);
    };
  }

  show(state, null);
  tick();
  setInterval(tick, 1000);
  if (!FINAL[state]) { connect(); }
})();
