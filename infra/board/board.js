// The waiting-room display board.
//
// Protocol: the page opens a WebSocket to `ws` (default: this host's /ws) with ?token=<board
// token>, and sends {"action":"hello","token":…} once open. Every message from the server is
// a whole snapshot:
//   {"event":"queue.snapshot","clinic":{"slug","name"},"date":"2026-01-10","at":"…",
//    "data":{"umum":{"poly_id":1,"poly_name":"Poli Umum","queue_number_anamnesa":12,
//            "queue_number_with_doctor":15,"last_call":{"queue_number":15,
//            "stage":"with_doctor","number_of_calls":1,"at":"…"}}, …}}
// A snapshot older (by `at`) than the one shown is ignored. A changed `last_call` is a call:
// a chime and an Indonesian announcement (again for a recall). The page pings every four
// minutes (API Gateway drops idle sockets after ten) and reconnects with exponential backoff.
(function () {
  "use strict";

  // ---- Indonesian numbers ------------------------------------------------------------
  var ONES = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh", "sebelas"];

  /** 12 -> "dua belas", 125 -> "seratus dua puluh lima", 1000 -> "seribu". */
  function terbilang(n) {
    n = Math.floor(Math.abs(Number(n)));
    if (!isFinite(n)) return "";
    if (n < 12) return ONES[n];
    if (n < 20) return ONES[n - 10] + " belas";
    if (n < 100) return join(ONES[Math.floor(n / 10)] + " puluh", n % 10);
    if (n < 200) return join("seratus", n - 100);
    if (n < 1000) return join(ONES[Math.floor(n / 100)] + " ratus", n % 100);
    if (n < 2000) return join("seribu", n - 1000);
    if (n < 1e6) return join(terbilang(Math.floor(n / 1000)) + " ribu", n % 1000);
    if (n < 1e9) return join(terbilang(Math.floor(n / 1e6)) + " juta", n % 1e6);
    if (n < 1e12) return join(terbilang(Math.floor(n / 1e9)) + " miliar", n % 1e9);
    return String(n);
  }
  function join(head, rest) {
    return rest === 0 ? head : head + " " + terbilang(rest);
  }

  function polyPhrase(name) {
    var n = String(name || "").trim();
    return /^poli(\s|$)/i.test(n) ? n : "Poli " + n;
  }

  /** "Nomor antrean dua belas, silakan ke Poli Umum". */
  function announcement(call, polyName) {
    var where = call.stage === "anamnesa" ? "ruang anamnesa " + polyPhrase(polyName) : polyPhrase(polyName);
    return "Nomor antrean " + terbilang(call.queue_number) + ", silakan ke " + where;
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { terbilang: terbilang, announcement: announcement };
  }
  if (typeof document === "undefined") return;

  // ---- State ---------------------------------------------------------------------------
  var params = new URLSearchParams(location.search);
  var token = params.get("token") || "";
  var wsBase = params.get("ws") || (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";

  var state = {
    connected: false,
    snapshots: 0,
    lastAt: "",
    snapshot: null,
    // poly key -> signature of the last call already known
    calls: {},
    // every announcement made, for tests and for the operator's console
    announcements: [],
    reconnects: 0,
  };
  window.boardState = state;

  var el = function (id) { return document.getElementById(id); };

  // ---- Clock ---------------------------------------------------------------------------
  // The clinic's own time, whatever the screen's time zone.
  function zone() {
    return state.snapshot && state.snapshot.clinic && state.snapshot.clinic.timezone ? state.snapshot.clinic.timezone : undefined;
  }

  function tick() {
    var now = new Date();
    var opts = { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: zone() };
    try {
      el("clock").textContent = now.toLocaleTimeString("id-ID", opts);
    } catch (e) {
      delete opts.timeZone;
      el("clock").textContent = now.toLocaleTimeString("id-ID", opts);
    }
    if (!state.snapshot) {
      el("date").textContent = now.toLocaleDateString("id-ID", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    }
  }
  tick();
  setInterval(tick, 1000);

  // ---- Rendering -----------------------------------------------------------------------
  function numberText(n) {
    return n === null || n === undefined ? "–" : String(n);
  }

  function render(s) {
    el("clinic-name").textContent = s.clinic && s.clinic.name ? s.clinic.name : "Papan Antrean";
    tick();
    document.title = "Antrean · " + el("clinic-name").textContent;
    var d = new Date(s.date + "T00:00:00");
    el("date").textContent = isNaN(d) ? s.date : d.toLocaleDateString("id-ID", { weekday: "long", day: "numeric", month: "long", year: "numeric" });

    var main = el("polies");
    var keys = Object.keys(s.data || {});
    el("empty").hidden = keys.length > 0;
    var seen = {};
    keys.forEach(function (key) {
      var p = s.data[key];
      seen[key] = true;
      var card = main.querySelector('[data-poly="' + CSS.escape(key) + '"]');
      if (!card) {
        card = document.createElement("section");
        card.className = "poly";
        card.dataset.poly = key;
        var h = document.createElement("h2");
        card.appendChild(h);
        var pair = document.createElement("div");
        pair.className = "pair";
        [["anamnesa", "Anamnesa"], ["with_doctor", "Dokter"]].forEach(function (slot) {
          var div = document.createElement("div");
          div.className = "slot " + slot[0];
          var label = document.createElement("div");
          label.className = "label";
          label.textContent = slot[1];
          var num = document.createElement("div");
          num.className = "number";
          num.dataset.role = slot[0];
          var value = document.createElement("div");
          value.className = "value";
          value.appendChild(num);
          div.appendChild(label);
          div.appendChild(value);
          pair.appendChild(div);
        });
        card.appendChild(pair);
        main.appendChild(card);
      }
      card.querySelector("h2").textContent = p.poly_name;
      setNumber(card.querySelector('[data-role="anamnesa"]'), p.queue_number_anamnesa);
      setNumber(card.querySelector('[data-role="with_doctor"]'), p.queue_number_with_doctor);
    });
    Array.prototype.slice.call(main.children).forEach(function (card) {
      if (!seen[card.dataset.poly]) main.removeChild(card);
    });
  }

  function setNumber(node, n) {
    node.textContent = numberText(n);
    node.classList.toggle("none", n === null || n === undefined);
  }

  function flash(key, stage) {
    var card = el("polies").querySelector('[data-poly="' + CSS.escape(key) + '"]');
    if (!card) return;
    var slot = card.querySelector(".slot." + stage);
    if (!slot) return;
    slot.classList.remove("flash");
    void slot.offsetWidth; // restart the animation
    slot.classList.add("flash");
  }

  // ---- Sound ---------------------------------------------------------------------------
  var audio = null;
  function audioContext() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!audio) audio = new Ctx();
    return audio;
  }

  // Browsers start audio only after a gesture: a TV needs one click on "Aktifkan suara".
  function offerSound() {
    var ctx = audioContext();
    if (ctx && ctx.state === "suspended") el("sound").hidden = false;
  }
  el("sound").addEventListener("click", function () {
    var ctx = audioContext();
    if (ctx) ctx.resume();
    el("sound").hidden = true;
    if (window.speechSynthesis) speechSynthesis.speak(new SpeechSynthesisUtterance(""));
  });

  /** A two-tone chime; resolves when it has rung. */
  function chime() {
    return new Promise(function (resolve) {
      var ctx = audioContext();
      if (!ctx) return resolve();
      try {
        var t = ctx.currentTime;
        [[784, 0], [523.25, 0.45]].forEach(function (tone) {
          var osc = ctx.createOscillator();
          var gain = ctx.createGain();
          osc.type = "sine";
          osc.frequency.value = tone[0];
          gain.gain.setValueAtTime(0.0001, t + tone[1]);
          gain.gain.exponentialRampToValueAtTime(0.4, t + tone[1] + 0.03);
          gain.gain.exponentialRampToValueAtTime(0.0001, t + tone[1] + 0.9);
          osc.connect(gain).connect(ctx.destination);
          osc.start(t + tone[1]);
          osc.stop(t + tone[1] + 1);
        });
      } catch (e) { /* no sound is better than no board */ }
      setTimeout(resolve, 1400);
    });
  }

  function indonesianVoice() {
    if (!window.speechSynthesis) return null;
    var voices = speechSynthesis.getVoices() || [];
    return voices.find(function (v) { return /^id([-_]|$)/i.test(v.lang); }) || null;
  }

  function speak(text) {
    return new Promise(function (resolve) {
      if (!window.speechSynthesis || typeof SpeechSynthesisUtterance === "undefined") return resolve();
      var u = new SpeechSynthesisUtterance(text);
      u.lang = "id-ID";
      u.rate = 0.9;
      var voice = indonesianVoice();
      if (voice) u.voice = voice;
      var done = false;
      var finish = function () { if (!done) { done = true; resolve(); } };
      u.onend = finish;
      u.onerror = finish;
      // Some engines never report the end: do not let one stuck utterance block the rest.
      setTimeout(finish, 12000);
      speechSynthesis.speak(u);
    });
  }

  var speaking = Promise.resolve();
  function announce(key, poly, call) {
    var text = announcement(call, poly.poly_name);
    state.announcements.push({ poly: key, text: text, recall: call.number_of_calls > 1, at: new Date().toISOString() });
    flash(key, call.stage);
    showCall(call, poly);
    speaking = speaking.then(chime).then(function () { return speak(text); });
  }

  var callTimer = null;
  function showCall(call, poly) {
    el("call-number").textContent = call.queue_number;
    el("call-where").textContent = (call.stage === "anamnesa" ? "Anamnesa · " : "") + polyPhrase(poly.poly_name);
    el("call").hidden = false;
    clearTimeout(callTimer);
    callTimer = setTimeout(function () { el("call").hidden = true; }, 10000);
  }

  function signature(call) {
    return call ? [call.queue_number, call.stage, call.number_of_calls, call.at].join("|") : "";
  }

  // A call older than this when it reaches the page (e.g. made while the board was offline)
  // updates the numbers silently.
  var STALE_MS = 2 * 60 * 1000;

  function apply(s) {
    if (!s || s.event !== "queue.snapshot") return;
    if (s.at && s.at < state.lastAt) return; // an older snapshot overtaken by a newer one
    var first = state.snapshot === null;
    state.lastAt = s.at || state.lastAt;
    state.snapshot = s;
    state.snapshots += 1;
    render(s);
    Object.keys(s.data || {}).forEach(function (key) {
      var poly = s.data[key];
      var sig = signature(poly.last_call);
      var known = state.calls[key];
      state.calls[key] = sig;
      if (first || !poly.last_call || sig === known) return;
      var age = Date.now() - Date.parse(poly.last_call.at);
      if (isFinite(age) && age > STALE_MS) return;
      announce(key, poly, poly.last_call);
    });
  }

  // ---- Connection ----------------------------------------------------------------------
  var socket = null;
  var backoff = 1000;
  var MAX_BACKOFF = 30000;
  var pingTimer = null;
  var retryTimer = null;

  function setStatus(online, text) {
    state.connected = online;
    var s = el("status");
    s.textContent = text;
    s.classList.toggle("offline", !online);
    document.body.classList.toggle("is-offline", !online);
  }

  function url() {
    return wsBase + (wsBase.indexOf("?") >= 0 ? "&" : "?") + "token=" + encodeURIComponent(token);
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
    ws.onopen = function () {
      backoff = 1000;
      setStatus(true, "Online");
      ws.send(JSON.stringify({ action: "hello", token: token }));
      clearInterval(pingTimer);
      pingTimer = setInterval(function () {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ action: "ping" }));
      }, 4 * 60 * 1000);
    };
    ws.onmessage = function (m) {
      try { apply(JSON.parse(m.data)); } catch (e) { /* ignore what is not a snapshot */ }
    };
    ws.onclose = function () {
      if (socket !== ws) return;
      clearInterval(pingTimer);
      retry();
    };
    ws.onerror = function () { /* onclose follows */ };
  }

  function retry() {
    state.reconnects += 1;
    // Exponential backoff with jitter, so a restarted server is not hit by every board at once.
    var wait = Math.round(backoff * (0.75 + Math.random() * 0.5));
    backoff = Math.min(backoff * 2, MAX_BACKOFF);
    setStatus(false, "Offline · menyambung ulang dalam " + Math.ceil(wait / 1000) + " dtk");
    retryTimer = setTimeout(connect, wait);
  }

  // A sleeping tab or laptop: try at once when it wakes or the network returns.
  window.addEventListener("online", function () { if (!state.connected) { backoff = 1000; connect(); } });

  if (!token) {
    setStatus(false, "Token papan tidak ada: buka halaman ini dengan ?token=…");
  } else {
    offerSound();
    connect();
  }
})();
