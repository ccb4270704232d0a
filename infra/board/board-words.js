// The board's words: Indonesian numbers and what a call says ("Nomor antrean dua belas,
// silakan menuju Ruang 2"). Pure functions, also loaded by node for tests/browser/board_text.
(function (Board) {
  "use strict";

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
    return !!section && section.kind === "service";
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

  Board.terbilang = terbilang;
  Board.sectionName = sectionName;
  Board.isService = isService;
  Board.destination = destination;
  Board.announcement = announcement;
})(typeof module !== "undefined" && module.exports ? module.exports : (window.Board = window.Board || {}));
