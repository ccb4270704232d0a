#!/usr/bin/env node
// Every call made while a board was offline is announced once it is back, in call order, each
// exactly once: two calls (and a recall) at one poly and one at another while the line is cut,
// then snapshots every 2 seconds (the heartbeat) that carry the same calls again and must not
// repeat them. A second board limited to one room (by room id) hears that room's calls only,
// though another poly has a room of the same name. Then two pharmacy calls while it is away.
//
// As in board_reconnect.test.js, a TCP proxy cuts the page's connection and a speech recorder
// in the page logs what is said.
//
//   node tests/browser/board_catchup.test.js
"use strict";

const path = require("path");
const { SHOTS, assert, sleep, Proxy, recordSpeech, api, clinicDay, today, waitText, run } = require("./harness");

const SPEECH_MS = 300;

run("board_catchup", async ({ server, browser, token: t, log }) => {
  const proxy = new Proxy(server.port);
  await proxy.start();
  try {
    const [umum, gigi] = await clinicDay(server, t, ["Poli Umum", "Poli Gigi"], 3);
    const room = (await api(server, t, "POST", "/api/queue/rooms", { poly_id: umum.id, name: "Ruang 2" })).data;
    await api(server, t, "POST", "/api/queue/rooms", { poly_id: gigi.id, name: "Ruang 2" });
    const board = (await api(server, t, "POST", "/api/boards", { name: "TV Ruang Tunggu" })).data;
    const roomBoard = (await api(server, t, "POST", "/api/boards", { name: "TV Ruang 2 Umum", room_ids: [room.id] })).data;
    assert(JSON.stringify(roomBoard.room_ids) === JSON.stringify([room.id]), `the board keeps its room ids: ${JSON.stringify(roomBoard)}`);

    const errors = [];
    const open = async (b) => {
      const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
      page.on("pageerror", (e) => errors.push(String(e)));
      await recordSpeech(page, SPEECH_MS);
      await page.goto(`${proxy.base}/board/?token=${encodeURIComponent(b.token)}&heartbeat=2`);
      await waitText(page, "#status", "Online", 10000);
      await page.waitForFunction(() => window.boardState.snapshots >= 1, null, { timeout: 10000 });
      return page;
    };
    const page = await open(board);
    const roomPage = await open(roomBoard);
    const call = (id, move) => api(server, t, "PATCH", `/api/queue/${id}/${move}`, null);
    const said = (p) => p.evaluate(() => window.boardState.announcements.map((a) => a.text));

    // Online: one call.
    await call(umum.reservations[0], "anamnesa");
    await page.waitForFunction(() => window.boardState.announcements.length >= 1, null, { timeout: 5000 });

    // The line drops; meanwhile two numbers (and a recall) at Poli Umum and one at Poli Gigi,
    // then a doctor's call into Ruang 2 of Poli Umum and one into Gigi's own "Ruang 2".
    proxy.cut();
    await page.waitForFunction(() => !window.boardState.connected, null, { timeout: 5000 });
    await roomPage.waitForFunction(() => !window.boardState.connected, null, { timeout: 5000 });
    await call(umum.reservations[1], "anamnesa");
    await call(gigi.reservations[0], "anamnesa");
    await call(umum.reservations[1], "anamnesa"); // a recall
    await call(umum.reservations[0], "waitingdoctor");
    await api(server, t, "PATCH", "/api/queue/call-next", { poly_id: String(umum.id), date: today(), room_id: room.id });
    await call(gigi.reservations[0], "waitingdoctor");
    await api(server, t, "PATCH", "/api/queue/call-next", { poly_id: String(gigi.id), date: today() });
    const missed = [
      "Nomor antrean dua, silakan ke ruang anamnesa Poli Umum",
      "Nomor antrean satu, silakan ke ruang anamnesa Poli Gigi",
      "Nomor antrean dua, silakan ke ruang anamnesa Poli Umum",
      "Nomor antrean satu, silakan menuju Ruang 2",
      "Nomor antrean satu, silakan ke Poli Gigi",
    ];
    const expected = ["Nomor antrean satu, silakan ke ruang anamnesa Poli Umum", ...missed];
    assert((await said(page)).length === 1, "nothing reached the board while the line was cut");

    proxy.restore();
    await page.waitForFunction((n) => window.boardState.connected && window.boardState.announcements.length >= n, expected.length, { timeout: 30000 });
    // Snapshots keep coming (the heartbeat every 2 s) with the same calls: none is said again.
    const before = await page.evaluate(() => window.boardState.snapshots);
    await page.waitForFunction((b) => window.boardState.snapshots >= b + 3, before, { timeout: 15000 });
    await page.waitForFunction((n) => window.__speech.log.filter((e) => e.ev === "end").length >= n, expected.length, { timeout: 30000 });
    await sleep(500);

    const announced = await said(page);
    assert(JSON.stringify(announced) === JSON.stringify(expected), `announced:\n  ${announced.join("\n  ")}\nexpected:\n  ${expected.join("\n  ")}`);
    const speech = await page.evaluate(() => window.__speech.log);
    const spoken = speech.filter((e) => e.ev === "start").map((e) => e.text);
    assert(JSON.stringify(spoken) === JSON.stringify(expected), `spoken in another order: ${spoken}`);
    assert(!speech.some((e) => e.ev === "cancel"), "no announcement was cancelled");
    const ids = await page.evaluate(() => window.boardState.announcements.map((a) => a.id));
    assert(new Set(ids).size === ids.length && ids.every(Boolean), `one id per call: ${ids}`);
    const recalls = await page.evaluate(() => window.boardState.announcements.map((a) => a.recall));
    assert(JSON.stringify(recalls) === JSON.stringify([false, false, false, true, false, false]), `recalls: ${recalls}`);
    await page.screenshot({ path: path.join(SHOTS, "board-catchup.png") });

    // The room board: Umum's Ruang 2 only (not Gigi's Ruang 2, not anamnesa), said once.
    await roomPage.waitForFunction(() => window.boardState.connected && window.boardState.announcements.length >= 1, null, { timeout: 30000 });
    const roomBefore = await roomPage.evaluate(() => window.boardState.snapshots);
    await roomPage.waitForFunction((b) => window.boardState.snapshots >= b + 2, roomBefore, { timeout: 15000 });
    const roomSaid = await said(roomPage);
    assert(JSON.stringify(roomSaid) === JSON.stringify(["Nomor antrean satu, silakan menuju Ruang 2"]), `the room board said: ${roomSaid}`);
    const roomKeys = await roomPage.evaluate(() => Object.keys(window.boardState.snapshot.data));
    assert(JSON.stringify(roomKeys) === JSON.stringify(["umum"]), `the room board shows ${roomKeys}`);
    const roomCalls = await roomPage.evaluate(() => window.boardState.snapshot.calls.map((c) => c.room_id));
    assert(roomCalls.length === 1 && roomCalls[0] === room.id, `the room board's calls: ${roomCalls}`);

    // The pharmacy: two patients' medicine made ready while the board is away, both said.
    const apotek = (await api(server, t, "POST", "/api/queue/services", { name: "Apotek", kind: "pharmacy" })).data;
    for (const id of [umum.reservations[2], gigi.reservations[1]]) {
      for (const m of ["anamnesa", "waitingdoctor", "withdoctor", "done"]) await call(id, m);
      await api(server, t, "PATCH", `/api/queue/${id}/transfer`, { service_id: apotek.id });
      await call(id, "service/preparing");
    }
    const heardSoFar = (await said(page)).length;
    proxy.cut();
    await page.waitForFunction(() => !window.boardState.connected, null, { timeout: 5000 });
    await call(umum.reservations[2], "service/ready");
    await call(gigi.reservations[1], "service/ready");
    proxy.restore();
    const pharmacy = ["Nomor antrean tiga, silakan ke Apotek", "Nomor antrean dua, silakan ke Apotek"];
    await page.waitForFunction((n) => window.boardState.connected && window.boardState.announcements.length >= n, heardSoFar + 2, { timeout: 30000 });
    const snaps = await page.evaluate(() => window.boardState.snapshots);
    await page.waitForFunction((b) => window.boardState.snapshots >= b + 2, snaps, { timeout: 15000 });
    const saidNow = (await said(page)).slice(heardSoFar);
    assert(JSON.stringify(saidNow) === JSON.stringify(pharmacy), `at the pharmacy: ${saidNow}`);

    assert(errors.length === 0, `page errors: ${errors.join("; ")}`);
    log(`ok: ${missed.length} calls made while offline announced in order, once each; the room board heard its room only; both pharmacy calls said`);
  } finally {
    await proxy.stop();
  }
});
