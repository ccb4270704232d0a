// The live socket: connect, say hello (the full state again), ask for a snapshot every 90
// seconds (?heartbeat=) and reconnect when none comes back, so a socket that died without
// closing is found too; reconnect with backoff and show the visible "reconnecting" state.
(function (Board) {
  "use strict";

  var el = Board.el;
  var state = Board.state;
  var socket = null;
  var backoff = 1000;
  var MAX_BACKOFF = 15000;
  // How long the page waits for the answer to a heartbeat, and for a connection to open.
  var ANSWER_MS = Math.min(10 * 1000, Board.params.heartbeatMs);
  var CONNECT_MS = 10 * 1000;
  var heartbeat = null;
  var answerTimer = null;
  var retryTimer = null;
  var retryAt = 0;
  var lostAt = null;

  function setStatus(online, text) {
    state.connected = online;
    var s = el("status");
    s.textContent = text;
    s.classList.toggle("offline", !online);
    document.body.classList.toggle("is-offline", !online);
    var banner = el("offline");
    if (banner.hidden !== online) {
      banner.hidden = online;
      Board.layout(); // the banner takes its row from the sections
    }
  }

  /** The visible "reconnecting" state: the banner, the status, how old the numbers are. */
  function showOffline() {
    if (!Board.params.token) return;
    var wait = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    var trying = !socket || socket.readyState !== WebSocket.CONNECTING ? (wait ? " dalam " + wait + " dtk" : "…") : "…";
    if (!state.snapshot) {
      setStatus(false, "Menghubungkan…");
      el("offline-text").textContent = "Menghubungkan ke server antrean" + trying;
      el("offline-since").textContent = "";
      return;
    }
    setStatus(false, "Menyambung ulang" + trying);
    el("offline-text").textContent = "Koneksi terputus · menyambung ulang" + trying;
    el("offline-since").textContent = "Nomor di layar: data pukul " + Board.timeText(new Date(state.receivedAt), false);
  }

  function url() {
    var base = Board.params.ws;
    return base + (base.indexOf("?") >= 0 ? "&" : "?") + "token=" + encodeURIComponent(Board.params.token);
  }

  function lost(ws) {
    if (socket !== ws) return;
    socket = null;
    clearInterval(heartbeat);
    clearTimeout(answerTimer);
    answerTimer = null;
    try { ws.close(); } catch (e) { /* already closed */ }
    if (lostAt === null) lostAt = Date.now();
    retry();
  }

  function connect() {
    clearTimeout(retryTimer);
    var ws;
    try {
      ws = new WebSocket(url());
    } catch (e) {
      return retry();
    }
    socket = ws;
    showOffline();
    var token = Board.params.token;
    // A connection attempt that hangs (a captive network, a dead proxy) is given up.
    var opening = setTimeout(function () { if (ws.readyState === WebSocket.CONNECTING) lost(ws); }, CONNECT_MS);
    ws.onopen = function () {
      clearTimeout(opening);
      if (socket !== ws) return ws.close(); // given up on already
      backoff = 1000;
      lostAt = null;
      setStatus(true, "Online");
      // The full state again: whatever happened while the board was away.
      ws.send(JSON.stringify({ action: "hello", token: token }));
      clearInterval(heartbeat);
      heartbeat = setInterval(function () {
        if (ws.readyState !== WebSocket.OPEN) return lost(ws);
        ws.send(JSON.stringify({ action: "snapshot", token: token }));
        // Counted from the first question still unanswered, not from the latest.
        if (!answerTimer) answerTimer = setTimeout(function () { lost(ws); }, ANSWER_MS);
      }, Board.params.heartbeatMs);
    };
    ws.onmessage = function (m) {
      if (socket !== ws) return;
      clearTimeout(answerTimer);
      answerTimer = null;
      var s;
      try { s = JSON.parse(m.data); } catch (e) { return; /* ignore what is not a snapshot */ }
      Board.apply(s);
    };
    ws.onclose = function () { clearTimeout(opening); lost(ws); };
    ws.onerror = function () { /* onclose follows */ };
  }

  function retry() {
    state.reconnects += 1;
    // Exponential backoff with jitter, so a restarted server is not hit by every board at once.
    var wait = Math.round(backoff * (0.75 + Math.random() * 0.5));
    backoff = Math.min(backoff * 2, MAX_BACKOFF);
    retryAt = Date.now() + wait;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, wait);
    showOffline();
  }

  // A sleeping tab or laptop, or the network back: try at once.
  window.addEventListener("online", function () { if (!state.connected) { backoff = 1000; connect(); } });
  window.addEventListener("offline", function () { if (socket) lost(socket); });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !state.connected) { backoff = 1000; connect(); }
  });

  Board.setStatus = setStatus;
  Board.showOffline = showOffline;
  Board.connect = connect;
})(window.Board);
