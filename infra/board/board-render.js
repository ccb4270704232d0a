// Rendering: the clinic's clock and name, and a card per section with its numbers (anamnesa and
// the doctor for a poly, the number called for a service), priority marks and rooms.
(function (Board) {
  "use strict";

  var el = function (id) { return document.getElementById(id); };

  // ---- Clock: the clinic's own time, whatever the screen's time zone ---------------------
  function zone() {
    var s = Board.state.snapshot;
    return s && s.clinic && s.clinic.timezone ? s.clinic.timezone : undefined;
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
    if (!Board.state.snapshot) {
      el("date").textContent = now.toLocaleDateString("id-ID", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    }
    if (!Board.state.connected) Board.showOffline();
  }

  // ---- Cards -----------------------------------------------------------------------------
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
    c.dataset.kind = Board.isService(section) ? "service" : "poly";
    c.appendChild(make("h2"));
    var pair = make("div", "pair");
    if (Board.isService(section)) {
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
      if (c && c.dataset.kind !== (Board.isService(section) ? "service" : "poly")) {
        main.removeChild(c);
        c = null;
      }
      if (!c) c = card(key, section);
      // In the snapshot's order, whatever order they first came in.
      if (main.children[i] !== c) main.insertBefore(c, main.children[i] || null);
      c.querySelector("h2").textContent = Board.sectionName(section);
      if (Board.isService(section)) {
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
    Board.layout();
  }

  /** Makes the slot a call went to blink. */
  function flash(key, stage) {
    var c = el("polies").querySelector('[data-poly="' + CSS.escape(key) + '"]');
    if (!c) return;
    var s = c.querySelector(".slot." + stage) || c.querySelector(".slot");
    if (!s) return;
    s.classList.remove("flash");
    void s.offsetWidth; // restart the animation
    s.classList.add("flash");
  }

  Board.el = el;
  Board.make = make;
  Board.timeText = timeText;
  Board.tick = tick;
  Board.render = render;
  Board.flash = flash;
})(window.Board);
