// The announcer: calls are shown and said one at a time, in the order they were made; none cuts
// off or drops another. A chime, then the voice (the browser's Indonesian speech), then the
// call stays in the panel a moment before the next.
(function (Board) {
  "use strict";

  var el = Board.el;

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
    var li = Board.make("li", entry.priority ? "priority" : "");
    li.appendChild(Board.make("span", "n", String(entry.number)));
    li.appendChild(Board.make("span", "w", entry.where));
    return li;
  }

  /** The calls panel: the number being called, where to go, and the calls before it. */
  function renderCalls() {
    var now = recent[0];
    el("now-number").textContent = now ? String(now.number) : "–";
    el("now-where").textContent = now ? now.where : "Belum ada panggilan";
    el("now").classList.toggle("priority", !!(now && now.priority));
    var list = el("recent");
    list.textContent = "";
    recent.slice(1, RECENT).forEach(function (e) { list.appendChild(callLine(e)); });
  }

  /** Puts a call at the top of the calls panel (without saying it). */
  function remember(call, section, key) {
    recent.unshift({ key: key, number: call.queue_number, where: Board.destination(call, section).shown, priority: !!call.priority, at: call.at });
    recent = recent.slice(0, RECENT);
  }

  /** Queues a call `{key, section, call}` to be shown and said after those before it. */
  function announce(item) {
    item.text = Board.announcement(item.call, item.section);
    var recall = item.call.recall !== undefined ? !!item.call.recall : item.call.number_of_calls > 1;
    Board.state.announcements.push({ id: item.call.id, poly: item.key, text: item.text, recall: recall, at: new Date().toISOString() });
    Board.state.pending.push(item);
    if (!running) next();
  }

  function next() {
    var item = Board.state.pending.shift();
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
    Board.showPageOf(item.key);
    Board.flash(item.key, Board.isService(item.section) ? "called" : item.call.stage);
    var started = Date.now();
    chime()
      .then(function () { return speak(item.text); })
      .then(function () { return new Promise(function (r) { setTimeout(r, Math.max(0, HOLD_MS - (Date.now() - started))); }); })
      .then(next, next);
  }

  Board.offerSound = offerSound;
  Board.renderCalls = renderCalls;
  Board.remember = remember;
  Board.announce = announce;
})(window.Board);
