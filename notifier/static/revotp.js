/*
 * revotp.js: follow one challenge from any page, given its id and watch token.
 *
 *   <script src="https://NOTIFIER/v1/assets/VERSION/revotp.js"></script>
 *   var watch = RevOtp.watch({challengeId: "ch_…", watchToken: "acme.…", element: someElement});
 *   someElement.addEventListener("revotp:verified", function (event) { … event.detail … });
 *
 * It opens the challenge socket of the notifier it was loaded from (or `base`), reconnects
 * until the challenge has ended, and dispatches on `element` (and on `watch` itself):
 *   revotp:status          the state when (re)connected; detail: the challenge.status frame
 *   revotp:attempt_failed  a wrong code; detail.attempts, detail.max_attempts
 *   revotp:sender_mismatch the code came from another phone; detail.sender (masked), detail.from_country
 *   revotp:verified | revotp:failed | revotp:expired | revotp:canceled   the end
 *   revotp:reconnecting    the socket closed before the end; it retries (1 s, doubling to 10 s)
 * `watch.state` is the latest status, `watch.secondsLeft()` the time left by the server's
 * clock, `watch.close()` stops. No framework, no build step, one file.
 */
(function (global) {
  "use strict";
  var FINAL = { verified: true, failed: true, expired: true, canceled: true };
  var scriptOrigin = (function () {
    var current = document.currentScript;
    return current && current.src ? new URL(current.src).origin : location.origin;
  })();

  function watch(options) {
    var target = new EventTarget();
    var element = options.element || null;
    var base = new URL(options.base || scriptOrigin);
    var socketBase = (base.protocol === "https:" ? "wss://" : "ws://") + base.host;
    var retryDelayMs = 1000;
    var socket = null;
    var closed = false;
    var serverOffsetMs = 0;  // server clock minus this device's clock
    target.state = null;
    target.expiresAtMs = null;

    function emit(type, detail) {
      var name = "revotp:" + type;
      target.dispatchEvent(new CustomEvent(name, { detail: detail }));
      if (element) { element.dispatchEvent(new CustomEvent(name, { detail: detail, bubbles: true })); }
    }

    function connect() {
      var url = socketBase + "/v1/challenges/" + encodeURIComponent(options.challengeId) +
        "/events?token=" + encodeURIComponent(options.watchToken);
      socket = new WebSocket(url);
      socket.onmessage = function (message) {
        var frame = JSON.parse(message.data);
        retryDelayMs = 1000;
        target.state = frame.status;
        if (frame.type === "challenge.status") {
          serverOffsetMs = Date.parse(frame.occurred_at) - Date.now();
          target.expiresAtMs = Date.parse(frame.expires_at);
          emit("status", frame);
        } else {
          emit(frame.type.replace("challenge.", ""), frame);
        }
      };
      socket.onclose = function () {
        if (closed || FINAL[target.state]) { return; }
        emit("reconnecting", { retryInMs: retryDelayMs });
        setTimeout(function () { if (!closed) { connect(); } }, retryDelayMs);
        retryDelayMs = Math.min(retryDelayMs * 2, 10000);
      };
    }

    target.secondsLeft = function () {
      if (target.expiresAtMs === null) { return null; }
      return Math.max(Math.ceil((target.expiresAtMs - (Date.now() + serverOffsetMs)) / 1000), 0);
    };
    target.close = function () {
      closed = true;
      if (socket) { socket.close(); }
    };
    connect();
    return target;
  }

  global.RevOtp = { watch: watch, version: "1" };
})(window);
