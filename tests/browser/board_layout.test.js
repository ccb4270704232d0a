#!/usr/bin/env node
// Boards for a waiting room, in headless Chromium at 1920×1080: a clinic with 20 polies and
// three boards, one for the whole clinic (20 sections), one limited to 6 polies and one to a
// single poly. Each board receives only its own sections (the server filters them), and
// whatever their number everything fits the screen without scrolling: on every page the
// sections shown lie inside the viewport, clear of the calls panel, each large enough to read,
// and over the rotation every section is shown. Screenshots go to target/browser/.
//
//   node tests/browser/board_layout.test.js
"use strict";

const path = require("path");
const { ROOT, SHOTS, assert, api, clinicDay, run } = require("./harness");

const VIEW = { width: 1920, height: 1080 };
const POLIES = ["Poli Umum", "Poli Gigi", "Poli Anak", "Poli Mata", "Poli THT", "Poli Kulit dan Kelamin", "Poli Jantung", "Poli Paru",
  "Poli Saraf", "Poli Bedah", "Poli Penyakit Dalam", "Poli Kandungan", "Poli Orthopedi", "Poli Urologi", "Poli Jiwa", "Poli Gizi",
  "Poli Rehabilitasi Medik", "Poli Kesehatan Ibu & Anak", "Poli Geriatri", "Poli Fisioterapi"];
// The smallest section that is still read from across a waiting room.
const MIN_SECTION = { width: 260, height: 170 };

/** What the page shows now: the page number, every shown section's box and its numbers' boxes. */
function measure() {
  const r = (e) => { const b = e.getBoundingClientRect(); return { left: b.left, top: b.top, right: b.right, bottom: b.bottom, width: b.width, height: b.height }; };
  const sections = Array.from(document.querySelectorAll("#polies > section")).filter((s) => !s.hidden && s.offsetParent !== null)
    .map((s) => ({ key: s.dataset.poly, box: r(s), numbers: Array.from(s.querySelectorAll(".number")).map((n) => ({ box: r(n), text: n.textContent })) }));
  return {
    page: window.boardState.page,
    pages: window.boardState.pageCount,
    sections,
    calls: r(document.getElementById("calls")),
    now: r(document.getElementById("now-number")),
    scroll: { width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight },
    view: { width: window.innerWidth, height: window.innerHeight },
  };
}

function inside(inner, outer) {
  return inner.left >= outer.left - 0.5 && inner.top >= outer.top - 0.5 && inner.right <= outer.right + 0.5 && inner.bottom <= outer.bottom + 0.5;
}

/** Goes through every page of the board; checks each; returns the pages seen. */
async function checkBoard(page, name, want) {
  await page.waitForFunction(() => window.boardState && window.boardState.snapshots >= 1, null, { timeout: 10000 });
  const keys = await page.evaluate(() => Object.keys(window.boardState.snapshot.data));
  assert(JSON.stringify(keys) === JSON.stringify(want), `${name}: the server sent ${keys}, not ${want}`);
  const seen = new Set();
  const pages = [];
  const started = Date.now();
  for (;;) {
    const m = await page.evaluate(measure);
    const screen = { left: 0, top: 0, right: m.view.width, bottom: m.view.height };
    assert(m.view.width === VIEW.width && m.view.height === VIEW.height, `${name}: the viewport is ${m.view.width}×${m.view.height}`);
    assert(m.scroll.width <= m.view.width && m.scroll.height <= m.view.height, `${name}: the page scrolls (${m.scroll.width}×${m.scroll.height})`);
    assert(m.sections.length > 0, `${name}: page ${m.page + 1} shows no section`);
    assert(inside(m.calls, screen) && inside(m.now, m.calls), `${name}: the calls panel is off the screen`);
    for (const s of m.sections) {
      assert(inside(s.box, screen), `${name}: section ${s.key} lies outside the viewport: ${JSON.stringify(s.box)}`);
      assert(s.box.right <= m.calls.left + 0.5, `${name}: section ${s.key} runs under the calls panel`);
      assert(s.box.width >= MIN_SECTION.width && s.box.height >= MIN_SECTION.height, `${name}: section ${s.key} is too small to read: ${s.box.width}×${s.box.height}`);
      for (const n of s.numbers) assert(inside(n.box, s.box), `${name}: a number of ${s.key} spills out of its section`);
      seen.add(s.key);
    }
    if (!pages.some((p) => p.page === m.page)) {
      pages.push({ page: m.page, sections: m.sections.length });
      await page.screenshot({ path: path.join(SHOTS, `board-${want.length}-sections${m.pages > 1 ? `-page${m.page + 1}` : ""}.png`) });
    }
    if (pages.length >= m.pages) break;
    assert(Date.now() - started < (m.pages + 2) * 3000, `${name}: the pages did not rotate (${pages.length} of ${m.pages} seen)`);
    await page.waitForFunction((p) => window.boardState.page !== p, m.page, { timeout: 6000 });
  }
  const missing = want.filter((k) => !seen.has(k));
  assert(missing.length === 0, `${name}: never shown: ${missing}`);
  return pages;
}

run("board_layout", async ({ server, browser, token: t, log }) => {
  const polies = await clinicDay(server, t, POLIES, 1);
  // Numbers on the board: the first two polies have called someone.
  await api(server, t, "PATCH", `/api/queue/${polies[0].reservations[0]}/anamnesa`, null);
  await api(server, t, "PATCH", `/api/queue/${polies[1].reservations[0]}/anamnesa`, null);
  const boards = [
    { name: "whole clinic", body: { name: "TV Lobi" }, polies },
    { name: "six polies", body: { name: "TV Lantai 2", poly_ids: polies.slice(2, 8).map((p) => p.id) }, polies: polies.slice(2, 8) },
    { name: "one poly", body: { name: "TV Poli Gigi", poly_ids: [polies[1].id] }, polies: [polies[1]] },
  ];
  const snapshotKeys = {};
  for (const b of boards) {
    const created = (await api(server, t, "POST", "/api/boards", b.body)).data;
    const page = await browser.newPage({ viewport: VIEW });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${created.page_url}&rotate=2`);
    if (!snapshotKeys.all) {
      await page.waitForFunction(() => window.boardState && window.boardState.snapshots >= 1, null, { timeout: 10000 });
      snapshotKeys.all = await page.evaluate(() => Object.keys(window.boardState.snapshot.data));
      assert(snapshotKeys.all.length === POLIES.length, `the whole clinic's board has ${snapshotKeys.all.length} sections`);
    }
    const byId = Object.fromEntries(polies.map((p, i) => [p.id, snapshotKeys.all[i]]));
    const want = b.polies.map((p) => byId[p.id]);
    const pages = await checkBoard(page, b.name, want);
    log(`${b.name}: ${want.length} sections on ${pages.length} page(s) (${pages.map((p) => p.sections).join(" + ")})`);
    assert(errors.length === 0, `${b.name}: page errors: ${errors.join("; ")}`);
    if (want.length <= 6) assert(pages.length === 1, `${b.name}: ${want.length} sections fit one page`);
    await page.close();
  }
  // A phone: one scrolling column, nothing wider than the screen.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto((await api(server, t, "POST", "/api/boards", { name: "HP" })).data.page_url);
  await phone.waitForFunction(() => window.boardState && window.boardState.snapshots >= 1, null, { timeout: 10000 });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  assert((await phone.$$eval("#polies > section", (s) => s.filter((e) => !e.hidden).length)) === POLIES.length, "a phone lists every section");
  await phone.screenshot({ path: path.join(SHOTS, "board-20-sections-phone.png"), fullPage: true });
  log("ok; screenshots in", path.relative(ROOT, SHOTS));
});
