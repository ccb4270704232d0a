// A patient's ticket page. Reads GET <api>/api/tickets/<code> once, then listens on the boards'
// socket with ?ticket=<code> and sends {"action":"hello","ticket":<code>} once open; every
// message is {"event":"ticket.status","data":<the ticket view>}. A view older (by `at`) than
// the one shown is ignored. Pings every four minutes (API Gateway drops idle sockets after
// ten) and reconnects with exponential backoff.
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var code = params.get("code") || "";
  var api = (params.get("api") || location.origin).replace(/\/+$/, "");
  var wsBase = params.get("ws") || (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";

  var state = { view: null, lastAt: "", updates: 0, connected: false, missing: false, reconnects: 0 };
  window.ticketState = state;
  var el = function (id) { return document.getElementById(id); };

  function dateLabel(ymd, tz) {
    try {
      var d = new Date(ymd + "T12:00:00Z");
      return new Intl.DateTimeFormat("id-ID", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(d);
    } catch (e) { return ymd; }
  }

  function render(v) {
    if (!v || (state.lastAt && v.at < state.lastAt)) return;
    state.view = v; state.lastAt = v.at; state.updates++;
    el("missing").hidden = true; el("ticket").hidden = false;
    el("clinic").textContent = v.clinic;
    el("poly").textContent = v.poly_name;
    el("date").textContent = dateLabel(v.date, v.timezone);
    el("number").textContent = String(v.queue_number);
    var s = el("status");
    s.textContent = v.status_label;
    s.dataset.code = v.status;
    s.className = "badge" + (/^(DONE|NO_SHOW|CANCELLED)$/.test(v.status) ? " done" : /^(ANAMNESA|WITH_DOCTOR)$/.test(v.status) ? " called" : "");
    el("now-serving").textContent = v.now_serving == null ? "–" : String(v.now_serving);
    el("ahead").textContent = v.ahead == null ? "–" : String(v.ahead);
    el("estimate").textContent = v.estimated_time == null ? "–" : v.estimated_time;
    document.title = "Antrean " + v.queue_number + " · " + v.status_label;
  }

  function missing() {
    state.missing = true;
    el("ticket").hidden = true; el("missing").hidden = false;
  }

  function load() {
    return fetch(api + "/api/tickets/" + encodeURIComponent(code), { headers: { accept: "application/json" }, cache: "no-store" })
      .then(function (r) {
        if (r.status === 404) { missing(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (body) { if (body && body.data) render(body.data); })
      .catch(function () { /* offline: the socket retries */ });
  }

  var socket = null, ping = null;
  function connect() {
    if (state.missing) return;
    var url = wsBase + (wsBase.indexOf("?") < 0 ? "?" : "&") + "ticket=" + encodeURIComponent(code);
    socket = new WebSocket(url);
    socket.onopen = function () {
      state.connected = true; state.reconnects = 0;
      el("connection").textContent = "Terhubung · diperbarui otomatis";
      socket.send(JSON.stringify({ action: "hello", ticket: code }));
      clearInterval(ping);
      ping = setInterval(function () { if (socket.readyState === 1) socket.send('{"action":"ping"}'); }, 240000);
    };
    socket.onmessage = function (m) {
      try {
        var msg = JSON.parse(m.data);
        if (msg && msg.event === "ticket.status") render(msg.data);
      } catch (e) { /* not ours */ }
    };
    socket.onclose = function () {
      state.connected = false; clearInterval(ping);
      el("connection").textContent = "Offline · mencoba lagi…";
      var wait = Math.min(30000, 1000 * Math.pow(2, state.reconnects++)) * (0.75 + Math.random() / 2);
      setTimeout(function () { load().then(connect); }, wait);
    };
  }

  if (!code) { missing(); return; }
  load().then(connect);
})();
