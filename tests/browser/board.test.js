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

const { execFileSync, spawn } = require("child_process");
const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "../..");
const NODE_TOOLS = path.join(ROOT, ".tools/node");
const SHOTS = path.join(ROOT, "target/browser");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PASSWORD = "board-admin-password-123";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"];

function log(...a) { console.log("board.test:", ...a); }
function fail(msg) { throw new Error(msg); }
function assert(cond, msg) { if (!cond) fail(msg); }

function playwright() {
  const dir = path.join(NODE_TOOLS, "node_modules/playwright-core");
  if (!fs.existsSync(dir)) {
    log("installing playwright-core into .tools/node");
    fs.mkdirSync(NODE_TOOLS, { recursive: true });
    if (!fs.existsSync(path.join(NODE_TOOLS, "package.json"))) {
      fs.writeFileSync(path.join(NODE_TOOLS, "package.json"), '{"name":"antrean-tools-node","private":true}\n');
    }
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefix", NODE_TOOLS, "playwright-core@1"], { stdio: "inherit" });
  }
  return require(dir);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on("error", reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function binary() {
  if (process.env.ANTREAN_BIN) return process.env.ANTREAN_BIN;
  log("cargo build --bin antrean");
  execFileSync("cargo", ["build", "--quiet", "--bin", "antrean"], { cwd: ROOT, stdio: "inherit" });
  return path.join(ROOT, "target/debug/antrean");
}

class DevServer {
  constructor(bin, port, dataDir) { Object.assign(this, { bin, port, dataDir, child: null }); }
  get base() { return `http://127.0.0.1:${this.port}`; }
  async start() {
    this.child = spawn(this.bin, [], {
      env: { ...process.env, PORT: String(this.port), BIND: "127.0.0.1", STORE: "embedded", DATA_DIR: this.dataDir,
        BOOTSTRAP_ADMIN_PASSWORD: PASSWORD, JWT_SECRET: "browser-test-secret-that-is-long-enough-0123456789", RUST_LOG: "warn" },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const started = Date.now();
    for (;;) {
      try { if ((await fetch(`${this.base}/health`)).ok) return; } catch (e) { /* not yet */ }
      if (this.child.exitCode !== null) fail(`the dev server exited (${this.child.exitCode})`);
      if (Date.now() - started > 60000) fail("the dev server did not start");
      await sleep(100);
    }
  }
  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await Promise.race([exited, sleep(5000)]);
    if (this.child.exitCode === null) { this.child.kill("SIGKILL"); await exited; }
  }
}

async function api(server, token, method, p, body) {
  const r = await fetch(server.base + p, {
    method,
    headers: { "content-type": "application/json", accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json().catch(() => null);
  if (!r.ok) fail(`${method} ${p}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

function today() {
  // The clinic's day (Asia/Jakarta, the default time zone).
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Jakarta", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

/** Waits until the text of `selector` is `text`; returns the milliseconds it took. */
async function waitText(page, selector, text, timeoutMs) {
  const started = Date.now();
  await page.waitForFunction(([s, t]) => { const e = document.querySelector(s); return e && e.textContent.trim() === t; }, [selector, text],
    { timeout: timeoutMs, polling: "raf" });
  return Date.now() - started;
}

async function main() {
  const { chromium } = playwright();
  if (!fs.existsSync(CHROMIUM) && !process.env.CHROMIUM && process.getuid && process.getuid() === 0) {
    log("installing Debian chromium");
    execFileSync("bash", ["-c", "DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium"],
      { stdio: "inherit" });
  }
  assert(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  fs.mkdirSync(SHOTS, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "antrean-board-"));
  const server = new DevServer(binary(), await freePort(), dataDir);
  let browser = null;
  try {
    await server.start();
    const login = await api(server, null, "POST", "/api/auth/login", { username: "superadmin", password: PASSWORD });
    const t = login.token;

    // A clinic day: two polies, a doctor, a schedule and three reservations at Poli Umum.
    await api(server, t, "POST", "/api/poly", { name: "Poli Umum" });
    await api(server, t, "POST", "/api/poly", { name: "Poli Gigi" });
    const doctor = await api(server, t, "POST", "/api/users", { name: "dr. Sari", username: "dokter", email: "dokter@klinik.id",
      password: "dokter123", password_confirmation: "dokter123", roles: [3], poly_id: 1 });
    const schedule = await api(server, t, "POST", "/api/schedule", { doctor_id: doctor.data.id, date: today(),
      start_time: "00:00", end_time: "23:59", quota: 30 });
    const reservations = [];
    for (let i = 0; i < 3; i++) {
      const r = await api(server, t, "POST", "/api/reservation", { patient_name: `Pasien ${i}`, no_bpjs: `000123456789${i}`,
        whatsapp_number: `08123456780${i}`, email: `p${i}@mail.com`, poly_id: 1, schedule_id: schedule.data.id, bpjs: true, date: today() });
      reservations.push(r.data.reservation.id);
    }
    const board = (await api(server, t, "POST", "/api/boards", { name: "TV Ruang Tunggu" })).data;
    log("board page", board.page_url);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
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

    // 2. A recall (second call of the same number) is announced again.
    await api(server, t, "PATCH", `/api/queue/${reservations[0]}/anamnesa`, null);
    await page.waitForFunction(() => window.boardState.announcements.length >= 2, null, { timeout: 1000 });
    const recall = await page.evaluate(() => window.boardState.announcements[1]);
    assert(recall.recall && recall.text === said[0], `recall: ${JSON.stringify(recall)}`);
    await page.screenshot({ path: path.join(SHOTS, "board-1920x1080.png") });

    // 3. The dev server restarts: the page shows it is offline, then reconnects by itself.
    await server.stop();
    await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("Offline"), null, { timeout: 5000 });
    await page.screenshot({ path: path.join(SHOTS, "board-offline.png") });
    await server.start();
    await page.waitForFunction(() => window.boardState.connected, null, { timeout: 20000 });
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
  } finally {
    if (browser) await browser.close();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error("board.test: FAILED:", e.message || e); process.exit(1); });
