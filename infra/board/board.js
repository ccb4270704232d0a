// The waiting-room display board: its state, and which calls of a snapshot are new.
//
// Files (index.html loads them in this order; no build step): board.js (this: state, the
// calls to announce, start), board-words.js (numbers in Indonesian, what a call says),
// board-layout.js (fit the screen, pages), board-render.js (clock, cards), board-voice.js
// (chime, speech, the calls panel, one call at a time), board-socket.js (the live socket,
// reconnecting, heartbeat). They share `window.Board`; `window.boardState` is for tests.
//
// Protocol: the page opens a WebSocket to `ws` (default: this host's /ws) with ?token=<board
// token>, and sends {"action":"hello","token":…} once open. Every message from the server is
// a whole snapshot of the sections this board shows (the server leaves out the others):
//   {"event":"queue.snapshot","clinic":{"slug","name","timezone"},"date":"2026-01-10","at":"…",
//    "data":{"umum":{"kind":"poly","poly_id":1,"poly_name":"Poli Umum","queue_number_anamnesa":12,
//            "queue_number_with_doctor":15,"queue_number_with_doctor_priority":true,
//            "rooms":[{"room_id":3,"room":"Ruang 2","queue_number":15,"priority":true}],
//            "last_call":{"queue_number":15,"stage":"with_doctor","number_of_calls":1,"at":"…",
//                         "room":"Ruang 2","room_id":3,"priority":true}}, …},
//    "calls":[{"id":"p1-w15-1-1768010430000","section":"umum","queue_number":15,
//              "stage":"with_doctor","number_of_calls":1,"recall":false,"at":"…","room":"Ruang 2",…}, …]}
// `kind`, the priority marks, `rooms` and a call's `room` are optional; a section with
// `kind: "service"` (pharmacy, laboratory…) shows the number it called.
//
// A snapshot older (by `at`) than the one shown is ignored. `calls` are the recent calls of
// this board's sections, oldest first: each whose `id` the page has not met yet is announced,
// in that order, once (a recall has an id of its own). So after a reconnect every call made
// meanwhile is said, two at one poly too, none twice; those older than two minutes (on the
// server's clock) are not said any more. The first snapshot after the page loads only fills
// the calls panel.
(function () {
  "use strict";

  var Board = (window.Board = window.Board || {});
  var params = new URLSearchParams(location.search);
  Board.params = {
    token: params.get("token") || "",
    ws: params.get("ws") || (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws",
    rotateMs: Math.max(1, Number(params.get("rotate")) || 10) * 1000,
    // How often the page asks for a snapshot (API Gateway drops sockets idle for 10 minutes).
    heartbeatMs: Math.max(2, Number(params.get("heartbeat")) || 90) * 1000,
  };

  var state = {
    connected: false,
    snapshots: 0,
    lastAt: "",
    snapshot: null,
    // the ids of the calls already met (said, or shown silently), oldest first
    heard: [],
    // every call queued for announcement, in order (for tests and the operator's console)
    announcements: [],
    // calls waiting for their turn to be shown and spoken
    pending: [],
    reconnects: 0,
    page: 0,
    pageCount: 1,
  };
  Board.state = state;
  window.boardState = state;
  var heard = {};
  // More than any snapshot lists: an id forgotten here is long gone from the list.
  var HEARD_MAX = 1000;

  // A call older than this when it reaches the page (e.g. made while the board was offline
  // for long) updates the numbers silently. Measured on the server's clock (the snapshot's
  // `at`), so a TV whose clock is off still announces.
  var STALE_MS = 2 * 60 * 1000;

  function meet(id) {
    heard[id] = true;
    state.heard.push(id);
    if (state.heard.length > HEARD_MAX) delete heard[state.heard.shift()];
  }

  /** The snapshot's calls; from the sections' last calls when it has no list. */
  function callsOf(s) {
    if (Array.isArray(s.calls)) return s.calls;
    return Object.keys(s.data || {}).map(function (key) {
      var c = s.data[key].last_call;
      if (!c) return null;
      var id = [key, c.queue_number, c.stage || c.status, c.number_of_calls, c.at].join("|");
      return Object.assign({ id: id, section: key }, c);
    }).filter(Boolean);
  }

  function apply(s) {
    if (!s || s.event !== "queue.snapshot") return;
    if (s.at && s.at < state.lastAt) return; // an older snapshot overtaken by a newer one
    var first = state.snapshot === null;
    state.lastAt = s.at || state.lastAt;
    state.snapshot = s;
    state.snapshots += 1;
    state.receivedAt = Date.now();
    Board.render(s);
    var serverNow = Date.parse(s.at);
    var calls = callsOf(s);
    // Nothing called lately: the panel still shows each section's last call.
    if (first && !calls.length) calls = callsOf({ data: s.data });
    calls.forEach(function (call) {
      if (!call || !call.id || heard[call.id]) return;
      meet(call.id);
      var item = { key: call.section, section: (s.data || {})[call.section] || {}, call: call };
      // Called before this board saw it: shown in the calls panel, not spoken.
      if (first) return Board.remember(item.call, item.section, item.key);
      var age = serverNow - Date.parse(call.at);
      if (isFinite(age) && age > STALE_MS) return;
      Board.announce(item);
    });
    if (first) Board.renderCalls();
  }
  Board.apply = apply;

  // Every file has run by now (the scripts sit at the end of the body).
  document.addEventListener("DOMContentLoaded", function () {
    Board.tick();
    setInterval(Board.tick, 1000);
    Board.renderCalls();
    Board.layout();
    if (!Board.params.token) {
      Board.setStatus(false, "Token papan tidak ada: buka halaman ini dengan ?token=…");
    } else {
      Board.offerSound();
      Board.connect();
    }
  });
})();
