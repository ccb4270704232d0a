// The waiting-room display board.
//
// Protocol: the page opens a WebSocket to `ws` (default: this host's /ws) with ?token=<board
// token>, and sends {"action":"hello","token":…} once open. Every message from the server is
// a whole snapshot of the sections this board shows (the server leaves out the others):
//   {"event":"queue.snapshot","clinic":{"slug","name","timezone"},"date":"2026-01-10","at":"…",
//    "data":{"umum":{"kind":"poly","poly_id":1,"poly_name":"Poli Umum","queue_number_anamnesa":12,
//            "queue_number_with_doctor":15,"queue_number_with_doctor_priority":true,
//            "rooms":[{"room":"Ruang 2","queue_number":15,"priority":true}],
//            "last_call":{"queue_number":15,"stage":"with_doctor","number_of_calls":1,"at":"…",
//                         "room":"Ruang 2","priority":true}}, …}}
// `kind`, the priority marks, `rooms` and a call's `room` are optional; a section with
// `kind: "service"` (pharmacy, laboratory…) shows the number it called.
//
// A snapshot older (by `at`) than the one shown is ignored. A changed `last_call` is a call:
// it joins the queue of announcements, and each is shown and spoken in turn, in the order the
// calls were made, a recall too; none cuts off or drops another. After a reconnect the full
// snapshot comes again and the calls made meanwhile (younger than two minutes) are announced.
// The page asks for a snapshot every 90 seconds (?heartbeat=) and reconnects when none comes
// back: a socket that died without closing is found too.
//
// Layout: everything fits the screen, with no scroll bar. The sections share the space left of
// the calls panel; when too many to stay readable, they rotate in pages (?rotate=<seconds>,
// default 10) while the calls panel stays.
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

  function sectionName(section) {
    return String(section.poly_name || section.service_name || section.name || "").trim();
  }

  function isService(section) {
    return section && section.kind === "service";
  }

  /** Where the number is to go, as said and shown: the room, else the poly or service. */
  function destination(call, section) {
    if (call.room) return { spoken: call.room, shown: call.room };
    var name = sectionName(section);
    if (isService(section)) return { spoken: name, shown: name };
    if (call.stage === "anamnesa") return { spoken: "ruang anamnesa " + polyPhrase(name), shown: "Anamnesa · " + polyPhrase(name) };
    return { spoken: polyPhrase(name), shown: polyPhrase(name) };
  }

  /** "Nomor antrean dua belas, silakan ke Poli Umum"; with a room "…, silakan menuju Ruang 2". */
  function announcement(call, section) {
    if (typeof section === "string") section = { poly_name: section };
    var where = destination(call, section || {});
    return "Nomor antrean " + terbilang(call.queue_number) + ", silakan " + (call.room ? "menuju " : "ke ") + where.spoken;
  }

  /**
   * How many columns and rows `n` sections take in a `w`×`h` box so that each is as large as
   * it can be; `null` when even the best leaves a section smaller than `min` (then: pages).
   */
  function grid(n, w, h, gap, min) {
    var best = null;
    for (var cols = 1; cols <= n; cols++) {
      var rows = Math.ceil(n / cols);
      var cw = (w - gap * (cols - 1)) / cols;
      var ch = (h - gap * (rows - 1)) / rows;
      if (cw < min.w || ch < min.h) continue;
      // The numbers are what must be read: two side by side, sized by the tighter dimension.
      var size = Math.min(ch * 0.6, cw * 0.28);
      if (!best || size > best.size) best = { cols: cols, rows: rows, size: size };
    }
    return best;
  }

  /** Splits `n` sections into pages of at most what fits; the pages share them evenly. */
  function pages(n, w, h, gap, min) {
    if (n === 0) return { perPage: 0, count: 1 };
    var fit = n;
    while (fit > 1 && !grid(fit, w, h, gap, min)) fit--;
    var count = Math.ceil(n / fit);
    return { perPage: Math.ceil(n / count), count: count };
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { terbilang: terbilang, announcement: announcement, grid: grid, pages: pages };
  }
  if (typeof document === "undefined") return;

  // ---- State ---------------------------------------------------------------------------
  var params = new URLSearchParams(location.search);
  var token = params.get("token") || "";
  var wsBase = params.get("ws") || (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  var ROTATE_MS = Math.max(1, Number(params.get("rotate")) || 10) * 1000;

  var state = {
    connected: false,
    snapshots: 0,
    lastAt: "",
    snapshot: null,
    // section key -> signature of the last call already known
    calls: {},
    // every call queued for announcement, in order (for tests and the operator's console)
    announcements: [],
    // calls waiting for their turn to be shown and spoken
    pending: [],
    reconnects: 0,
    page: 0,
    pageCount: 1,
  };
  window.boardState = state;

  var el = function (id) { return document.getElementById(id); };

  // ---- Clock ---------------------------------------------------------------------------
  // The clinic's own time, whatever the screen's time zone.
  function zone() {
    return state.snapshot && state.snapshot.clinic && state.snapshot.clinic.timezone ? state.snapshot.clinic.timezone : undefined;
  }

  function timeText(date, withSeconds) {
    var opts = { hour: "2-digit", minute: "2-digit", timeZone: zone() };
    if (withSeconds) opts.second = "2-digit";
    try {
      return date.toLocaleTimeString("id-ID", opts);
    } catch (e) {
      delete opts.timeZone;
      return date.toLocaleTimeString("id-ID", opts);
    }
  }

  function tick() {
    var now = new Date();
    el("clock").textContent = timeText(now, true);
    if (!state.snapshot) {
      el("date").textContent = now.toLocaleDateString("id-ID", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    }
    if (!state.connected) showOffline();
  }

  // ---- Rendering -----------------------------------------------------------------------
  function numberText(n) {
    return n === null || n === undefined ? "–" : String(n);
  }

  function make(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function slot(kind, label) {
    var div = make("div", "slot " + kind);
    div.appendChild(make("div", "label", label));
    var value = make("div", "value");
    var num = make("div", "number");
    num.dataset.role = kind;
    value.appendChild(num);
    div.appendChild(value);
    div.appendChild(make("div", "where"));
    return div;
  }

  function card(key, section) {
    var c = make("section", "poly");
    c.dataset.poly = key;
    c.dataset.kind = isService(section) ? "service" : "poly";
    c.appendChild(make("h2"));
    var pair = make("div", "pair");
    if (isService(section)) {
      pair.appendChild(slot("called", "Dipanggil"));
    } else {
      pair.appendChild(slot("anamnesa", "Anamnesa"));
      pair.appendChild(slot("with_doctor", "Dokter"));
    }
    c.appendChild(pair);
    return c;
  }

  function setNumber(c, role, n, priority, where) {
    var node = c.querySelector('[data-role="' + role + '"]');
    if (!node) return;
    node.textContent = numberText(n);
    node.classList.toggle("none", n === null || n === undefined);
    var s = node.closest(".slot");
    s.classList.toggle("priority", !!priority && n !== null && n !== undefined);
    s.querySelector(".where").textContent = where || "";
  }

  /** The rooms line under the doctor's number: the room of that number, then the others. */
  function roomsText(section) {
    var rooms = Array.isArray(section.rooms) ? section.rooms : [];
    if (!rooms.length) return "";
    var current = section.queue_number_with_doctor;
    var mine = rooms.filter(function (r) { return r.queue_number === current; });
    var others = rooms.filter(function (r) { return r.queue_number !== current; });
    return mine.concat(others).map(function (r, i) {
      return i === 0 && r.queue_number === current ? r.room : r.room + " " + r.queue_number;
    }).join(" · ");
  }

  function render(s) {
    el("clinic-name").textContent = s.clinic && s.clinic.name ? s.clinic.name : "Papan Antrean";
    document.title = "Antrean · " + el("clinic-name").textContent;
    var d = new Date(s.date + "T00:00:00");
    el("date").textContent = isNaN(d) ? s.date : d.toLocaleDateString("id-ID", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    tick();

    var main = el("polies");
    var keys = Object.keys(s.data || {});
    el("empty").hidden = keys.length > 0;
    var seen = {};
    keys.forEach(function (key, i) {
      var section = s.data[key];
      seen[key] = true;
      var c = main.querySelector('[data-poly="' + CSS.escape(key) + '"]');
      if (c && c.dataset.kind !== (isService(section) ? "service" : "poly")) {
        main.removeChild(c);
        c = null;
      }
      if (!c) c = card(key, section);
      // In the snapshot's order, whatever order they first came in.
      if (main.children[i] !== c) main.insertBefore(c, main.children[i] || null);
      c.querySelector("h2").textContent = sectionName(section);
      if (isService(section)) {
        var call = section.last_call;
        var n = call ? call.queue_number : section.queue_number;
        setNumber(c, "called", n, call ? call.priority : section.priority, call && call.room ? call.room : "");
      } else {
        setNumber(c, "anamnesa", section.queue_number_anamnesa, section.queue_number_anamnesa_priority);
        setNumber(c, "with_doctor", section.queue_number_with_doctor, section.queue_number_with_doctor_priority, roomsText(section));
      }
    });
    Array.prototype.slice.call(main.children).forEach(function (c) {
      if (!seen[c.dataset.poly]) main.removeChild(c);
    });
    layout();
  }

  // ---- Layout: fit the screen, pages when there are too many sections --------------------
  var pageTimer = null;

  function tv() {
    // A phone or a narrow window scrolls (one column); a screen wider than tall is a TV.
    return window.innerWidth >= 768 && window.innerWidth >= window.innerHeight * 0.9;
  }

  function layout() {
    var main = el("polies");
    var cards = Array.prototype.slice.call(main.children);
    document.body.classList.toggle("tv", tv());
    if (!tv()) {
      cards.forEach(function (c) { c.hidden = false; });
      main.style.gridTemplateColumns = "";
      main.style.gridTemplateRows = "";
      state.pageCount = 1;
      state.page = 0;
      el("pager").hidden = true;
      return;
    }
    var style = getComputedStyle(main);
    var gap = parseFloat(style.columnGap) || 0;
    var w = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    var h = main.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    // Smaller than this, a number is no longer read from across a waiting room.
    var min = { w: Math.max(260, window.innerWidth * 0.15), h: Math.max(170, window.innerHeight * 0.22) };
    var p = pages(cards.length, w, h, gap, min);
    state.pageCount = p.count;
    if (state.page >= p.count) state.page = 0;
    var onPage = cards.slice(state.page * p.perPage, (state.page + 1) * p.perPage);
    var g = grid(Math.max(onPage.length, 1), w, h, gap, { w: 0, h: 0 });
    main.style.gridTemplateColumns = "repeat(" + g.cols + ", minmax(0, 1fr))";
    main.style.gridTemplateRows = "repeat(" + g.rows + ", minmax(0, 1fr))";
    cards.forEach(function (c) { c.hidden = onPage.indexOf(c) < 0; });
    el("pager").hidden = p.count < 2;
    el("pager").textContent = "Halaman " + (state.page + 1) + " dari " + p.count;
    // Snapshots come often in a busy clinic: they must not hold the rotation back.
    if (p.count > 1 && !pageTimer) pageTimer = setTimeout(turnPage, ROTATE_MS);
  }

  function turnPage() {
    pageTimer = null;
    state.page = (state.page + 1) % state.pageCount;
    layout();
  }

  /** Brings a section's page forward (a call there), for a whole rotation period. */
  function showPageOf(key) {
    if (state.pageCount < 2) return;
    var cards = Array.prototype.slice.call(el("polies").children);
    var i = cards.findIndex(function (c) { return c.dataset.poly === key; });
    if (i < 0) return;
    var perPage = Math.ceil(cards.length / state.pageCount);
    var page = Math.floor(i / perPage);
    if (page !== state.page) {
      state.page = page;
      clearTimeout(pageTimer);
      pageTimer = null;
      layout();
    }
  }

  window.addEventListener("resize", function () { layout(); });

  function flash(key, stage) {
    var c = el("polies").querySelector('[data-poly="' + CSS.escape(key) + '"]');
    if (!c) return;
    var s = c.querySelector(".slot." + stage) || c.querySelector(".slot");
    if (!s) return;
    s.classList.remove("flash");
    void s.offsetWidth; // restart the animation
    s.classList.add("flash");
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
        [[784, 0], [523.25, 0.35]].forEach(function (tone) {
          var osc = ctx.createOscillator();
          var gain = ctx.createGain();
          osc.type = "sine";
          osc.frequency.value = tone[0];
          gain.gain.setValueAtTime(0.0001, t + tone[1]);
          gain.gain.exponentialRampToValueAtTime(0.4, t + tone[1] + 0.03);
          gain.gain.exponentialRampToValueAtTime(0.0001, t + tone[1] + 0.7);
          osc.connect(gain).connect(ctx.destination);
          osc.start(t + tone[1]);
          osc.stop(t + tone[1] + 0.8);
        });
      } catch (e) { /* no sound is better than no board */ }
      setTimeout(resolve, 1100);
    });
  }

  function indonesianVoice() {
    if (!window.speechSynthesis) return null;
    var voices = speechSynthesis.getVoices() || [];
    return voices.find(function (v) { return /^id([-_]|$)/i.test(v.lang); }) || null;
  }

  /** Speaks one announcement; resolves when it has been said (never cancels another). */
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
      // Some engines never report the end: one stuck utterance must not hold the rest.
      setTimeout(finish, 15000);
      speechSynthesis.speak(u);
    });
  }

  // ---- Calls: one at a time, in the order they were made --------------------------------
  var HOLD_MS = 3000; // a call stays in the panel at least this long before the next
  var RECENT = 6;
  var running = false;
  var recent = [];

  function callLine(entry) {
    var li = make("li", entry.priority ? "priority" : "");
    li.appendChild(make("span", "n", String(entry.number)));
    li.appendChild(make("span", "w", entry.where));
    return li;
  }

  function renderCalls() {
    var now = recent[0];
    el("now-number").textContent = now ? String(now.number) : "–";
    el("now-where").textContent = now ? now.where : "Belum ada panggilan";
    el("now").classList.toggle("priority", !!(now && now.priority));
    var list = el("recent");
    list.textContent = "";
    recent.slice(1, RECENT).forEach(function (e) { list.appendChild(callLine(e)); });
  }

  function remember(call, section, key) {
    recent.unshift({ key: key, number: call.queue_number, where: destination(call, section).shown, priority: !!call.priority, at: call.at });
    recent = recent.slice(0, RECENT);
  }

  function announce(item) {
    state.announcements.push({ poly: item.key, text: item.text, recall: item.call.number_of_calls > 1, at: new Date().toISOString() });
    state.pending.push(item);
    if (!running) next();
  }

  function next() {
    var item = state.pending.shift();
    if (!item) {
      running = false;
      el("now").classList.remove("calling");
      return;
    }
    running = true;
    remember(item.call, item.section, item.key);
    renderCalls();
    el("now").classList.remove("calling");
    void el("now").offsetWidth;
    el("now").classList.add("calling");
    showPageOf(item.key);
    flash(item.key, isService(item.section) ? "called" : item.call.stage);
    var started = Date.now();
    chime()
      .then(function () { return speak(item.text); })
      .then(function () { return new Promise(function (r) { setTimeout(r, Math.max(0, HOLD_MS - (Date.now() - started))); }); })
      .then(next, next);
  }

  function signature(call) {
    return call ? [call.queue_number, call.stage, call.number_of_calls, call.at, call.room || ""].join("|") : "";
  }

  // A call older than this when it reaches the page (e.g. made while the board was offline
  // for long) updates the numbers silently. Measured on the server's clock (the snapshot's
  // `at`), so a TV whose clock is off still announces.
  var STALE_MS = 2 * 60 * 1000;

  function apply(s) {
    if (!s || s.event !== "queue.snapshot") return;
    if (s.at && s.at < state.lastAt) return; // an older snapshot overtaken by a newer one
    var first = state.snapshot === null;
    state.lastAt = s.at || state.lastAt;
    state.snapshot = s;
    state.snapshots += 1;
    state.receivedAt = Date.now();
    render(s);
    var serverNow = Date.parse(s.at);
    var fresh = [];
    Object.keys(s.data || {}).forEach(function (key, order) {
      var section = s.data[key];
      var call = section.last_call;
      var sig = signature(call);
      var known = state.calls[key];
      state.calls[key] = sig;
      if (!call || sig === known) return;
      var age = serverNow - Date.parse(call.at);
      if (first || (isFinite(age) && age > STALE_MS)) {
        // Shown in the calls panel, not spoken: it was called before this board saw it.
        if (first) fresh.push({ key: key, section: section, call: call, order: order, silent: true });
        return;
      }
      fresh.push({ key: key, section: section, call: call, order: order });
    });
    // In the order they were made (a snapshot after a reconnect may carry several).
    fresh.sort(function (a, b) { return a.call.at < b.call.at ? -1 : a.call.at > b.call.at ? 1 : a.order - b.order; });
    fresh.forEach(function (f) {
      if (f.silent) {
        remember(f.call, f.section, f.key);
        return;
      }
      f.text = announcement(f.call, f.section);
      announce(f);
    });
    if (first) renderCalls();
  }

  // ---- Connection ----------------------------------------------------------------------
  var socket = null;
  var backoff = 1000;
  var MAX_BACKOFF = 15000;
  // How often the page asks for a snapshot (?heartbeat=<seconds>, default 90; API Gateway
  // drops sockets idle for 10 minutes), and how long it waits for the answer.
  var HEARTBEAT_MS = Math.max(2, Number(params.get("heartbeat")) || 90) * 1000;
  var ANSWER_MS = Math.min(10 * 1000, HEARTBEAT_MS);
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
      layout(); // the banner takes its row from the sections
    }
  }

  /** The visible "reconnecting" state: the banner, the status, how old the numbers are. */
  function showOffline() {
    if (!token) return;
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
    el("offline-since").textContent = "Nomor di layar: data pukul " + timeText(new Date(state.receivedAt), false);
  }

  function url() {
    return wsBase + (wsBase.indexOf("?") >= 0 ? "&" : "?") + "token=" + encodeURIComponent(token);
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
      }, HEARTBEAT_MS);
    };
    ws.onmessage = function (m) {
      if (socket !== ws) return;
      clearTimeout(answerTimer);
      answerTimer = null;
      try { apply(JSON.parse(m.data)); } catch (e) { /* ignore what is not a snapshot */ }
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

  tick();
  setInterval(tick, 1000);
  renderCalls();
  layout();
  if (!token) {
    setStatus(false, "Token papan tidak ada: buka halaman ini dengan ?token=…");
  } else {
    offerSound();
    connect();
  }
})();
