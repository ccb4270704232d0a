#!/usr/bin/env node
// CORS as a browser sees it, in headless Chromium (Debian `chromium`, driven by playwright-core)
// against the dev server: a page on an allowed origin logs in and calls routes (reads, a JSON
// write that needs a preflight, an exposed header); a page on the wildcard pattern's origin does
// the same; a page on any other origin is refused by the browser and changes nothing.
//
//   node tests/browser/cors.test.js
//
// Needs /usr/bin/chromium (apt-get install chromium) and playwright-core in .tools/node
// (bash infra/scripts/install-tools.sh installs both). Builds and starts target/debug/antrean
// itself (ANTREAN_BIN to use another binary).
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const harness = require("./harness");

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PASSWORD = "cors-admin-password-123";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run",
  // Every name resolves to this machine: the test pages and the refused look-alike origins.
  "--host-resolver-rules=MAP * 127.0.0.1"];

function log(...a) { console.log("cors.test:", ...a); }
function fail(msg) { throw new Error(msg); }
function assert(cond, msg) { if (!cond) fail(msg); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startDevServer(bin, port, dataDir, env) {
  const child = spawn(bin, [], {
    env: { ...process.env, PORT: String(port), BIND: "127.0.0.1", STORE: "embedded", DATA_DIR: dataDir,
      BOOTSTRAP_ADMIN_PASSWORD: PASSWORD, JWT_SECRET: "cors-test-secret-that-is-long-enough-0123456789", RUST_LOG: "warn", ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const started = Date.now();
  for (;;) {
    try { if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return child; } catch (e) { /* not yet */ }
    if (child.exitCode !== null) fail(`the dev server exited (${child.exitCode})`);
    if (Date.now() - started > 60000) fail("the dev server did not start");
    await sleep(100);
  }
}

async function stop(child) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null) { child.kill("SIGKILL"); await exited; }
}

/** The frontend: an empty page on every origin that reaches this port. */
function startPageServer(port) {
  const handler = (req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>frontend</title><p>frontend</p>");
  };
  return new Promise((resolve, reject) => {
    // Dual stack when the machine has IPv6 (Chromium may try ::1 for localhost first).
    const server = http.createServer(handler);
    server.once("error", () => {
      const v4 = http.createServer(handler);
      v4.once("error", reject);
      v4.listen(port, "127.0.0.1", () => resolve(v4));
    });
    server.listen({ port, host: "::", ipv6Only: false }, () => resolve(server));
  });
}

/** What a frontend does, run inside the page: log in, read, write, read a header. */
async function frontendSession({ api, password, pollName }) {
  const out = { steps: [] };
  try {
    const login = await fetch(`${api}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "x-clinic": "default" },
      body: JSON.stringify({ username: "superadmin", password }),
    });
    out.steps.push(["login", login.status]);
    const token = (await login.json()).token;
    out.requestId = login.headers.get("x-request-id");
    const auth = { authorization: `Bearer ${token}`, accept: "application/json", "x-requested-with": "XMLHttpRequest" };
    const created = await fetch(`${api}/api/poly`, {
      method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ name: pollName }),
    });
    out.steps.push(["create", created.status]);
    const list = await fetch(`${api}/api/poly`, { headers: auth });
    out.steps.push(["list", list.status]);
    out.names = (await list.json()).data.map((p) => p.name);
    const missing = await fetch(`${api}/api/poly/999`, { method: "DELETE", headers: auth });
    out.steps.push(["delete-missing", missing.status]);
    out.missingBody = await missing.json();
  } catch (e) {
    out.error = String(e);
  }
  return out;
}

/** What a page on a refused origin tries: each call must fail in the browser. */
async function refusedSession({ api, password, token }) {
  const tries = {
    login: () => fetch(`${api}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "superadmin", password }) }),
    read: () => fetch(`${api}/api/poly`, { headers: { authorization: `Bearer ${token}` } }),
    write: () => fetch(`${api}/api/poly`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Poli Asing" }) }),
  };
  const out = {};
  for (const [name, call] of Object.entries(tries)) {
    try { const r = await call(); out[name] = `answered ${r.status}`; } catch (e) { out[name] = `refused: ${e.name}`; }
  }
  return out;
}

async function main() {
  const { chromium } = harness.playwright(log);
  assert(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "antrean-cors-"));
  const [apiPort, pagePort] = [await harness.freePort(), await harness.freePort()];
  const api = `http://127.0.0.1:${apiPort}`;
  const allowed = `http://localhost:${pagePort}`;
  const wildcard = `http://sehat.klinik.test:${pagePort}`;
  const refused = [`http://127.0.0.1:${pagePort}`, `http://klinik.test:${pagePort}`, `http://sehat.klinik.test.evil:${pagePort}`];
  let server = null;
  let pages = null;
  let browser = null;
  try {
    server = await startDevServer(harness.binary(log), apiPort, dataDir, { CORS_ORIGINS: `${allowed},http://*.klinik.test:${pagePort}` });
    pages = await startPageServer(pagePort);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
    const page = await browser.newPage();

    // 1. Allowed origins: log in, write (preflighted), read, get a JSON error, read an exposed header.
    for (const [origin, name] of [[allowed, "Poli Umum"], [wildcard, "Poli Gigi"]]) {
      await page.goto(`${origin}/`);
      const r = await page.evaluate(frontendSession, { api, password: PASSWORD, pollName: name });
      log(origin, JSON.stringify(r.steps));
      assert(!r.error, `${origin}: ${r.error}`);
      assert(JSON.stringify(r.steps) === JSON.stringify([["login", 200], ["create", 200], ["list", 200], ["delete-missing", 404]]),
        `${origin}: ${JSON.stringify(r.steps)}`);
      assert(r.names.includes(name), `${origin}: the page reads what it wrote: ${JSON.stringify(r.names)}`);
      assert(r.missingBody.status === "error" && r.missingBody.message === "Poly not found", `${origin}: ${JSON.stringify(r.missingBody)}`);
      assert(typeof r.requestId === "string" && r.requestId.length > 0, `${origin}: X-Request-Id is exposed`);
    }

    // 2. Other origins: the browser refuses every call, and nothing is written.
    const login = await (await fetch(`${api}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "superadmin", password: PASSWORD }) })).json();
    for (const origin of refused) {
      await page.goto(`${origin}/`).catch((e) => fail(`cannot open ${origin}: ${e.message}`));
      const r = await page.evaluate(refusedSession, { api, password: PASSWORD, token: login.token });
      log(origin, JSON.stringify(r));
      for (const [call, result] of Object.entries(r)) {
        assert(result.startsWith("refused"), `${origin}: ${call} was not refused by the browser: ${result}`);
      }
    }
    const polies = await (await fetch(`${api}/api/poly`, { headers: { authorization: `Bearer ${login.token}` } })).json();
    const names = polies.data.map((p) => p.name).sort();
    assert(JSON.stringify(names) === JSON.stringify(["Poli Gigi", "Poli Umum"]), `only allowed pages wrote: ${JSON.stringify(names)}`);
    log("ok");
  } finally {
    if (browser) await browser.close();
    if (pages) await new Promise((r) => pages.close(r));
    await stop(server);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error("cors.test: FAILED:", e.message || e); process.exit(1); });
