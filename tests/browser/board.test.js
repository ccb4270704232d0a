#!/usr/bin/env node
// The display-board page in headless Chromium (Debian `chromium`, driven by playwright-core):
// it shows a number within one second of a call made through the API, and again after the dev
// server restarts (the page reconnects by itself). Screenshots go to target/browser/.
//
//   node tests/browser/board.test.js
//
// Needs /usr/bin/chromium (apt-get install chromium) and playwright-core in .tools/node
// (installed here when missing). Builds and starts target/debug/antrean itself
// (ANTREAN_BIN to use another binary).
"use strict";

const path = require("path");
const { ROOT, SHOTS, assert, api, clinicDay, today, waitText, run } = require("./harness");

run("board", async ({ server, browser, token: t, log }) => {
  // A clinic day: two polies, a doctor and today's schedule on each, three reservations at each.
  const [umum] = await clinicDay(server, t, ["Poli Umum", "Poli Gigi"], 3);
  const reservations = umum.reservations;
  const board = (await api(server, t, "POST", "/api/boards", { name: "TV Ruang Tunggu" })).data;
  log("board page", board.page_url);

  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(board.page_url);
  await waitText(page, "#status", "Online", 10000);
  await page.waitForFunction(() => window.boardState && window.boardState.snapshots >= 1, null, { timeout: 10000 });
  const umumA = '[data-poly="umum"] [data-role="anamnesa"]';
  const umumD = '[data-poly="umum"] [data-role="with_doctor"]';
  assert((await page.textContent("#clinic-name")).trim() === "Klinik", "the clinic name is shown");
  assert((await page.textContent('[data-poly="gigi"] h2')).trim() === "Poli Gigi", "every poly has its card");
  assert((await page.textContent(umumA)).trim() === "–", "nobody at anamnesa yet");

  // 1. A call to anamnesa: on the board within a second of the API's answer, announced.
  await api(server, t, "PATCH", `/api/queue/${reservations[0]}/anamnesa`, null);
  const ms1 = await waitText(page, umumA, "1", 1000);
  log(`anamnesa call shown ${ms1} ms after the API answered`);
  await page.waitForFunction(() => window.boardState.announcements.length >= 1, null, { timeout: 1000 });
  let said = await page.evaluate(() => window.boardState.announcements.map((a) => a.text));
  assert(said[0] === "Nomor antrean satu, silakan ke ruang anamnesa Poli Umum", `announcement: ${JSON.stringify(said)}`);
  await waitText(page, "#now-number", "1", 3000);
  assert((await page.textContent("#now-where")).trim() === "Anamnesa · Poli Umum", "the calls panel says where to go");

  // 2. A recall (second call of the same number) is announced again.
  await api(server, t, "PATCH", `/api/queue/${reservations[0]}/anamnesa`, null);
  await page.waitForFunction(() => window.boardState.announcements.length >= 2, null, { timeout: 1000 });
  const recall = await page.evaluate(() => window.boardState.announcements[1]);
  assert(recall.recall && recall.text === said[0], `recall: ${JSON.stringify(recall)}`);
  await page.screenshot({ path: path.join(SHOTS, "board-1920x1080.png") });

  // 3. The dev server restarts: the page says it is reconnecting, then reconnects by itself.
  await server.stop();
  await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("Menyambung ulang"), null, { timeout: 5000 });
  assert(await page.isVisible("#offline"), "the reconnecting banner is shown");
  assert((await page.textContent("#offline-text")).includes("menyambung ulang"), "the banner says it is reconnecting");
  await page.screenshot({ path: path.join(SHOTS, "board-offline.png") });
  await server.start();
  await page.waitForFunction(() => window.boardState.connected, null, { timeout: 20000 });
  assert(!(await page.isVisible("#offline")), "the banner goes once the board is back");
  assert((await page.textContent(umumA)).trim() === "1", "after the restart the board still shows the number");

  // 4. After the restart: the patient goes on to the doctor, called through the API.
  await api(server, t, "PATCH", `/api/queue/${reservations[0]}/waitingdoctor`, null);
  await api(server, t, "PATCH", "/api/queue/call-next", { poly_id: "1", date: today() });
  const ms2 = await waitText(page, umumD, "1", 1000);
  log(`doctor call after the restart shown ${ms2} ms after the API answered`);
  await page.waitForFunction(() => window.boardState.announcements.some((a) => a.text === "Nomor antrean satu, silakan ke Poli Umum"),
    null, { timeout: 1000 });
  await api(server, t, "PATCH", `/api/queue/${reservations[1]}/anamnesa`, null);
  const ms3 = await waitText(page, umumA, "2", 1000);
  log(`next anamnesa call shown ${ms3} ms after the API answered`);
  await page.screenshot({ path: path.join(SHOTS, "board-after-restart.png") });

  // 5. A phone: one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  await page.screenshot({ path: path.join(SHOTS, "board-phone.png"), fullPage: true });

  assert(errors.length === 0, `page errors: ${errors.join("; ")}`);
  assert(!(await page.content()).includes("Pasien"), "no patient name reaches the board");
  log("ok; screenshots in", path.relative(ROOT, SHOTS));
});
