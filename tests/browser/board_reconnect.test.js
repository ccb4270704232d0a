#!/usr/bin/env node
// Boards that never freeze, in headless Chromium: the page's connection is dropped (a TCP proxy
// between the page and the dev server destroys it and refuses new ones) in the middle of a
// burst of calls made through the API. The board must show that it is reconnecting, get the
// full state again on reconnect, and announce every call in the order it was made: a recall
// or a second call never cuts off or drops the one before. Then a silent drop (the proxy
// carries nothing and closes nothing): a board asking for a snapshot every 2 seconds finds it.
//
// The page's speechSynthesis is replaced by a recorder that speaks one utterance at a time, as
// the real one does, and logs each start, end and cancel: the order is read from that log, not
// from timing.
//
//   node tests/browser/board_reconnect.test.js
"use strict";

const path = require("path");
const { SHOTS, assert, Proxy, recordSpeech, api, clinicDay, today, waitText, run } = require("./harness");

// How long the recorder takes to say one announcement.
const SPEECH_MS = 600;

run("board_reconnect", async ({ server, browser, token: t, log }) => {
  const proxy = new Proxy(server.port);
  await proxy.start();
  try {
    const [umum, gigi, mata] = await clinicDay(server, t, ["Poli Umum", "Poli Gigi", "Poli Mata"], 2);
    const board = (await api(server, t, "POST", "/api/boards", { name: "TV Ruang Tunggu" })).data;

    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await recordSpeech(page, SPEECH_MS);
    // Through the proxy: the page and its socket reach the server only through it.
    await page.goto(`${proxy.base}/board/?token=${encodeURIComponent(board.token)}`);
    await waitText(page, "#status", "Online", 10000);
    await page.waitForFunction(() => window.boardState.snapshots >= 1, null, { timeout: 10000 });

    const call = (id, move) => api(server, t, "PATCH", `/api/queue/${id}/${move}`, null);
    const queued = (n) => page.waitForFunction((n) => window.boardState.announcements.length >= n, n, { timeout: 10000 });
    const expected = [];
    const say = (n, where) => expected.push(`Nomor antrean ${n}, silakan ke ${where}`);

    // The burst, first part, with the board online: two calls and a recall in quick succession.
    await call(umum.reservations[0], "anamnesa");
    say("satu", "ruang anamnesa Poli Umum");
    await call(gigi.reservations[0], "anamnesa");
    say("satu", "ruang anamnesa Poli Gigi");
    await call(umum.reservations[0], "anamnesa"); // a recall
    say("satu", "ruang anamnesa Poli Umum");
    await queued(3);
    const spokenBeforeCut = await page.evaluate(() => window.__speech.log.filter((e) => e.ev === "end").length);
    assert(spokenBeforeCut < 3, "the cut must come while announcements are still being made");

    // The connection drops in the middle of the burst.
    proxy.cut();
    await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("Menyambung ulang"), null, { timeout: 5000 });
    assert(await page.isVisible("#offline"), "the reconnecting banner is shown");
    const banner = (await page.textContent("#offline")).replace(/\s+/g, " ").trim();
    assert(/Koneksi terputus · menyambung ulang/.test(banner) && /data pukul \d\d\.\d\d/.test(banner), `banner: ${banner}`);
    await page.screenshot({ path: path.join(SHOTS, "board-reconnecting.png") });

    // The burst goes on while the board is away: a call at another poly, then a doctor's call.
    await call(mata.reservations[0], "anamnesa");
    say("satu", "ruang anamnesa Poli Mata");
    await call(umum.reservations[0], "waitingdoctor");
    await api(server, t, "PATCH", "/api/queue/call-next", { poly_id: String(umum.id), date: today() });
    say("satu", "Poli Umum");
    // Still away (the proxy refuses every attempt): nothing new reached it.
    await page.waitForFunction(() => window.boardState.reconnects >= 2, null, { timeout: 10000 });
    assert(!(await page.evaluate(() => window.boardState.connected)), "the board cannot be online through a cut line");
    assert((await page.evaluate(() => window.boardState.announcements.length)) === 3, "nothing arrived while the line was cut");

    // The line comes back: the board reconnects by itself and catches up.
    proxy.restore();
    await page.waitForFunction(() => window.boardState.connected, null, { timeout: 20000 });
    await queued(5);
    assert(!(await page.isVisible("#offline")), "the banner goes once the board is back");

    // More calls straight after: the doctor's recall and a second number at Gigi.
    await call(umum.reservations[0], "withdoctor"); // a recall
    say("satu", "Poli Umum");
    await call(gigi.reservations[1], "anamnesa");
    say("dua", "ruang anamnesa Poli Gigi");
    await queued(expected.length);
    await page.waitForFunction((n) => window.__speech.log.filter((e) => e.ev === "end").length >= n, expected.length,
      { timeout: expected.length * 6000 });

    // Every call, in the order it was made, each said to its end before the next began.
    const speech = await page.evaluate(() => window.__speech.log);
    const spoken = speech.filter((e) => e.ev === "start").map((e) => e.text);
    assert(JSON.stringify(spoken) === JSON.stringify(expected), `spoken:\n  ${spoken.join("\n  ")}\nexpected:\n  ${expected.join("\n  ")}`);
    assert(!speech.some((e) => e.ev === "cancel"), "no announcement was cancelled");
    speech.forEach((e, i) => assert(e.ev === (i % 2 === 0 ? "start" : "end") && (i % 2 === 0 || e.text === speech[i - 1].text),
      `announcements overlap at ${i}: ${JSON.stringify(speech.slice(Math.max(0, i - 2), i + 2))}`));
    const shown = speech.filter((e) => e.ev === "start").map((e) => e.shown);
    assert(JSON.stringify(shown) === JSON.stringify(["1", "1", "1", "1", "1", "1", "2"]), `the calls panel showed ${shown} as each was said`);
    const recalls = await page.evaluate(() => window.boardState.announcements.map((a) => a.recall));
    assert(JSON.stringify(recalls) === JSON.stringify([false, false, true, false, false, true, false]), `recalls: ${recalls}`);

    // The board shows what the queue says, poly by poly.
    for (const p of [umum, gigi, mata]) {
      const current = await api(server, t, "GET", `/api/queue/current?poly_id=${p.id}&date=${today()}`);
      const key = await page.evaluate((id) => Object.keys(window.boardState.snapshot.data).find((k) => window.boardState.snapshot.data[k].poly_id === id), p.id);
      for (const [role, field] of [["anamnesa", "queue_number_anamnesa"], ["with_doctor", "queue_number_with_doctor"]]) {
        const onBoard = (await page.textContent(`[data-poly="${key}"] [data-role="${role}"]`)).trim();
        const want = current[field] === null ? "–" : String(current[field]);
        assert(onBoard === want, `${p.name} ${role}: the board shows ${onBoard}, the queue ${want}`);
      }
    }
    const recent = (await page.$$eval("#recent li .n", (els) => els.map((e) => e.textContent)));
    assert(recent.length === 5, `the calls panel lists the calls before the current one: ${recent}`);
    await page.screenshot({ path: path.join(SHOTS, "board-after-burst.png") });
    assert(errors.length === 0, `page errors: ${errors.join("; ")}`);
    const reconnects = await page.evaluate(() => window.boardState.reconnects);
    await page.close();

    // A silent drop (the Wi-Fi gone: the socket never closes). A board that asks for a snapshot
    // every 2 seconds finds out by itself, says so, and catches up once the line is back.
    const quiet = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await recordSpeech(quiet, SPEECH_MS);
    quiet.on("pageerror", (e) => errors.push(String(e)));
    await quiet.goto(`${proxy.base}/board/?token=${encodeURIComponent(board.token)}&heartbeat=2`);
    await waitText(quiet, "#status", "Online", 10000);
    await quiet.waitForFunction(() => window.boardState.snapshots >= 1, null, { timeout: 10000 });
    proxy.freeze();
    const frozenAt = Date.now();
    await quiet.waitForFunction(() => !window.boardState.connected, null, { timeout: 10000 });
    log(`a silent drop found after ${Date.now() - frozenAt} ms (heartbeat 2 s)`);
    assert(await quiet.isVisible("#offline"), "the reconnecting banner is shown after a silent drop");
    await call(mata.reservations[1], "anamnesa");
    proxy.restore();
    await quiet.waitForFunction(() => window.boardState.connected && window.boardState.announcements.length >= 1, null, { timeout: 30000 });
    const quietSaid = await quiet.evaluate(() => window.boardState.announcements.map((a) => a.text));
    assert(JSON.stringify(quietSaid) === JSON.stringify(["Nomor antrean dua, silakan ke ruang anamnesa Poli Mata"]), `after the silent drop: ${quietSaid}`);
    assert(errors.length === 0, `page errors: ${errors.join("; ")}`);
    log(`ok: ${spoken.length} calls announced in order across a dropped connection; ${reconnects} reconnect attempts`);
  } finally {
    await proxy.stop();
  }
});
