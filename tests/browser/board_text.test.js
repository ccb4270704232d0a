#!/usr/bin/env node
// What the board says and how it splits a screen, without a browser: the Indonesian
// announcement of a call (to a room, to anamnesa, to a service) and the page split of many
// sections on a 1920×1080 TV.
//
//   node tests/browser/board_text.test.js
"use strict";

const { announcement, terbilang } = require("../../infra/board/board-words.js");
const { pages } = require("../../infra/board/board-layout.js");
const { assert } = require("./harness");

const cases = [
  [{ queue_number: 12, stage: "with_doctor", room: "Ruang 2" }, { poly_name: "Poli Umum" }, "Nomor antrean dua belas, silakan menuju Ruang 2"],
  [{ queue_number: 1, stage: "anamnesa" }, { poly_name: "Poli Umum" }, "Nomor antrean satu, silakan ke ruang anamnesa Poli Umum"],
  [{ queue_number: 15, stage: "with_doctor" }, { poly_name: "Gigi" }, "Nomor antrean lima belas, silakan ke Poli Gigi"],
  [{ queue_number: 125, stage: "with_doctor" }, { kind: "service", poly_name: "Farmasi" }, "Nomor antrean seratus dua puluh lima, silakan ke Farmasi"],
  [{ queue_number: 7 }, { kind: "service", name: "Kasir" }, "Nomor antrean tujuh, silakan ke Kasir"],
];
for (const [call, section, want] of cases) {
  const said = announcement(call, section);
  assert(said === want, `${JSON.stringify(call)}: said "${said}", want "${want}"`);
}
assert(terbilang(1000) === "seribu" && terbilang(2026) === "dua ribu dua puluh enam", "numbers in words");

// The space the sections get on a 1920×1080 TV beside the calls panel, and the smallest
// readable section (as board-layout.js measures them).
const [w, h, gap, min] = [1378, 915, 15, { w: 288, h: 238 }];
const split = (n) => pages(n, w, h, gap, min);
assert(split(1).count === 1 && split(6).count === 1 && split(12).count === 1, "up to twelve sections share one screen");
assert(split(20).count === 2 && split(20).perPage === 10, `twenty: ${JSON.stringify(split(20))}`);
assert(split(40).count === 4, `forty: ${JSON.stringify(split(40))}`);
console.log("board_text.test: ok");
