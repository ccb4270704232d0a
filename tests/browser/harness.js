// What the browser tests share: playwright-core (installed into .tools/node when missing),
// Debian chromium, a dev server of our own on a free port, and small API and waiting helpers.
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
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"];

function fail(msg) { throw new Error(msg); }
function assert(cond, msg) { if (!cond) fail(msg); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function playwright(log) {
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

/** Debian's chromium, installed when missing and we may. */
function chromiumPath(log) {
  if (!fs.existsSync(CHROMIUM) && !process.env.CHROMIUM && process.getuid && process.getuid() === 0) {
    log("installing Debian chromium");
    execFileSync("bash", ["-c", "DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium"],
      { stdio: "inherit" });
  }
  assert(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  return CHROMIUM;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on("error", reject);
  });
}

function binary(log) {
  if (process.env.ANTREAN_BIN) return process.env.ANTREAN_BIN;
  log("cargo build --bin antrean");
  execFileSync("cargo", ["build", "--quiet", "--bin", "antrean"], { cwd: ROOT, stdio: "inherit" });
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
  return path.join(target, "debug/antrean");
}

class DevServer {
  constructor(bin, port, dataDir, password, extraEnv) { Object.assign(this, { bin, port, dataDir, password, extraEnv: extraEnv || {}, child: null }); }
  get base() { return `http://127.0.0.1:${this.port}`; }
  async start() {
    this.child = spawn(this.bin, [], {
      env: { ...process.env, PORT: String(this.port), BIND: "127.0.0.1", STORE: "embedded", DATA_DIR: this.dataDir,
        BOOTSTRAP_ADMIN_PASSWORD: this.password, JWT_SECRET: "browser-test-secret-that-is-long-enough-0123456789", RUST_LOG: "warn",
        ...this.extraEnv },
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

/**
 * A TCP proxy in front of the dev server, so a test can drop the page's connection while the
 * server keeps running. `cut()` destroys every open connection and refuses new ones (the
 * clinic's line drops: the page sees its socket close); `freeze()` keeps the connections open
 * but carries nothing either way (the Wi-Fi is gone: no close ever arrives). `restore()` ends
 * both; connections that were frozen are dead by then, as they would be.
 */
class Proxy {
  constructor(targetPort) { Object.assign(this, { targetPort, sockets: new Set(), down: false, frozen: false, server: null, port: 0 }); }
  get base() { return `http://127.0.0.1:${this.port}`; }
  async start() {
    this.server = net.createServer((client) => {
      if (this.down) return client.destroy();
      const upstream = net.connect(this.targetPort, "127.0.0.1");
      for (const [from, to] of [[client, upstream], [upstream, client]]) {
        this.sockets.add(from);
        from.on("data", (d) => { if (!this.frozen) to.write(d); });
        from.on("end", () => to.end());
        from.on("close", () => this.sockets.delete(from));
        from.on("error", () => { client.destroy(); upstream.destroy(); });
      }
    });
    await new Promise((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = this.server.address().port;
  }
  cut() {
    this.down = true;
    for (const s of this.sockets) s.destroy();
  }
  freeze() { this.frozen = true; }
  restore() {
    if (this.frozen) for (const s of this.sockets) s.destroy();
    this.frozen = false;
    this.down = false;
  }
  async stop() {
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}

/**
 * Replaces the page's speechSynthesis with a recorder that speaks like the real one (one
 * utterance at a time, each taking `ms`) and logs every start, end and cancel, with the number
 * the calls panel shows when each starts: `window.__speech.log`.
 */
async function recordSpeech(page, ms) {
  await page.addInitScript((ms) => {
    const log = [];
    const queue = [];
    let current = null;
    const shown = () => { const e = document.getElementById("now-number"); return e ? e.textContent.trim() : null; };
    function next() {
      if (current || !queue.length) return;
      current = queue.shift();
      log.push({ ev: "start", text: current.text, shown: shown() });
      setTimeout(() => {
        const u = current;
        current = null;
        log.push({ ev: "end", text: u.text });
        if (u.onend) u.onend({});
        next();
      }, ms);
    }
    window.__speech = { log };
    Object.defineProperty(window, "speechSynthesis", {
      configurable: true,
      value: {
        speak(u) { if (u.text) { queue.push(u); next(); } },
        cancel() { log.push({ ev: "cancel" }); queue.length = 0; },
        getVoices() { return []; },
        pause() {}, resume() {},
        get speaking() { return !!current; },
        get pending() { return queue.length > 0; },
        addEventListener() {}, removeEventListener() {},
      },
    });
  }, ms);
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

/**
 * A clinic day: the polies named, a doctor and today's schedule on each, `patients`
 * reservations at each. Returns `[{id, name, reservations: [id…]}]` in poly order.
 */
async function clinicDay(server, t, names, patients) {
  const polies = [];
  let n = 0;
  for (const [i, name] of names.entries()) {
    const poly = (await api(server, t, "POST", "/api/poly", { name })).data;
    const user = `dokter${i + 1}`;
    const doctor = await api(server, t, "POST", "/api/users", { name: `dr. ${name}`, username: user, email: `${user}@klinik.id`,
      password: "dokter123", password_confirmation: "dokter123", roles: [3], poly_id: poly.id });
    const schedule = await api(server, t, "POST", "/api/schedule", { doctor_id: doctor.data.id, date: today(),
      start_time: "00:00", end_time: "23:59", quota: 30 });
    const reservations = [];
    for (let k = 0; k < patients; k++, n++) {
      const r = await api(server, t, "POST", "/api/reservation", { patient_name: `Pasien ${n}`, no_bpjs: String(1000000000000 + n),
        whatsapp_number: `0812${String(n).padStart(8, "0")}`, email: `p${n}@mail.com`, poly_id: poly.id, schedule_id: schedule.data.id,
        bpjs: true, date: today() });
      reservations.push(r.data.reservation.id);
    }
    polies.push({ id: poly.id, name, reservations });
  }
  return polies;
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

/**
 * Runs one browser test: Chromium and a dev server of its own, signed in as the super admin;
 * `fn({server, browser, token, log})`; everything stopped afterwards, the exit status says
 * how it went.
 */
function run(name, fn) {
  const log = (...a) => console.log(`${name}:`, ...a);
  const password = `${name}-admin-password-123`;
  (async () => {
    const { chromium } = playwright(log);
    const executablePath = chromiumPath(log);
    fs.mkdirSync(SHOTS, { recursive: true });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `antrean-${name}-`));
    const server = new DevServer(binary(log), await freePort(), dataDir, password);
    let browser = null;
    try {
      await server.start();
      const token = (await api(server, null, "POST", "/api/auth/login", { username: "superadmin", password })).token;
      browser = await chromium.launch({ executablePath, args: FLAGS, headless: true });
      await fn({ server, browser, token, log });
    } finally {
      if (browser) await browser.close();
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  })().then(() => process.exit(0), (e) => { console.error(`${name}: FAILED:`, (e && e.stack) || e); process.exit(1); });
}

module.exports = { ROOT, SHOTS, FLAGS, fail, assert, sleep, playwright, chromiumPath, freePort, binary, DevServer, Proxy, recordSpeech, api, clinicDay,
  today, waitText, run };
