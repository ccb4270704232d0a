// What the browser tests share: playwright-core (installed into .tools/node when missing),
// Debian chromium, a dev server of our own on a free port, and small API and waiting helpers.
"use strict";

const { execFileSync, spawn } = require("child_process");
const fs = require("fs");
const net = require("net");
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

module.exports = { ROOT, SHOTS, FLAGS, fail, assert, sleep, playwright, chromiumPath, freePort, binary, DevServer, api, today, waitText };
