#!/usr/bin/env node
// The patient's ticket page in headless Chromium: it shows the ticket's number, poly, status,
// the number now served and how many are ahead; a call made through the API shows on it within
// a second (its socket), nothing about other patients ever reaches it, and a wrong code shows
// "not found". Screenshots go to target/browser/.
//
//   node tests/browser/ticket.test.js
//
// Same needs as board.test.js (chromium, playwright-core in .tools/node; see harness.js).
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { SHOTS, FLAGS, assert, playwright, chromiumPath, freePort, binary, DevServer, api, today, waitText } = require("./harness");

const PASSWORD = "ticket-admin-password-123";

function log(...a) { console.log("ticket.test:", ...a); }

async function main() {
  const { chromium } = playwright(log);
  const CHROMIUM = chromiumPath(log);
  fs.mkdirSync(SHOTS, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "antrean-ticket-"));
  const server = new DevServer(binary(log), await freePort(), dataDir, PASSWORD);
  let browser = null;
  try {
    await server.start();
    const t = (await api(server, null, "POST", "/api/auth/login", { username: "superadmin", password: PASSWORD })).token;
    await api(server, t, "POST", "/api/poly", { name: "Poli Umum" });
    const doctor = await api(server, t, "POST", "/api/users", { name: "dr. Sari", username: "dokter", email: "dokter@klinik.id",
      password: "dokter123", password_confirmation: "dokter123", roles: [3], poly_id: 1 });
    const schedule = await api(server, t, "POST", "/api/schedule", { doctor_id: doctor.data.id, date: today(),
      start_time: "00:00", end_time: "23:59", quota: 30 });
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push((await api(server, t, "POST", "/api/reservation", { patient_name: `Pasien Rahasia ${i}`, no_bpjs: `000123456789${i}`,
        whatsapp_number: `08123456780${i}`, email: `p${i}@mail.com`, poly_id: 1, schedule_id: schedule.data.id, bpjs: true, date: today() })).data);
    }
    const mine = made[2];
    log("ticket page", mine.ticket.url);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(mine.ticket.url);
    await waitText(page, "#number", "3", 10000);
    await page.waitForFunction(() => window.ticketState && window.ticketState.connected, null, { timeout: 10000 });
    assert((await page.textContent("#poly")).trim() === "Poli Umum", "the poly is shown");
    assert((await page.textContent("#status")).trim() === "Menunggu", "the status is shown in the clinic's words");
    assert((await page.textContent("#ahead")).trim() === "2", "two patients are ahead");
    assert((await page.textContent("#now-serving")).trim() === "–", "nobody is with the doctor yet");
    assert(/^\d\d:\d\d$/.test((await page.textContent("#estimate")).trim()), "an estimated time HH:MM");
    await page.screenshot({ path: path.join(SHOTS, "ticket-waiting.png"), fullPage: true });

    // The first patient goes in to the doctor: the page follows within a second of each answer.
    const first = made[0].reservation.id;
    await api(server, t, "PATCH", `/api/queue/${first}/anamnesa`, null);
    await api(server, t, "PATCH", `/api/queue/${first}/waitingdoctor`, null);
    await api(server, t, "PATCH", `/api/queue/${first}/withdoctor`, null);
    const ms = await waitText(page, "#now-serving", "1", 1000);
    log(`the number now served shown ${ms} ms after the API answered`);
    await waitText(page, "#ahead", "1", 1000);

    // Its own call: the status changes on the page.
    await api(server, t, "PATCH", `/api/queue/${mine.reservation.id}/anamnesa`, null);
    await waitText(page, "#status", "Anamnesa", 1000);
    await page.screenshot({ path: path.join(SHOTS, "ticket-called.png"), fullPage: true });

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    const html = await page.content();
    assert(!html.includes("Pasien Rahasia") && !html.includes("0812"), "no patient's name or number reaches the page");
    assert(errors.length === 0, `page errors: ${errors.join("; ")}`);

    // A wrong code: "not found", and the page stays quiet.
    const wrong = await browser.newPage();
    await wrong.goto(mine.ticket.url.replace(/code=[^&]+/, "code=default.AAAAAAAAAAAAAAAAAAAA"));
    await wrong.waitForFunction(() => window.ticketState && window.ticketState.missing, null, { timeout: 5000 });
    assert(await wrong.isVisible("#missing"), "the not-found message is shown");
    assert(!(await wrong.isVisible("#ticket")), "no ticket is shown");
    log("ok; screenshots in", path.relative(process.cwd(), SHOTS));
  } finally {
    if (browser) await browser.close();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error("ticket.test: FAILED:", e.message || e); process.exit(1); });
