//! Queue benchmark: N receptionists register N patients on one poly and day at once, then N
//! nurses and doctors walk every reservation through the workflow at once, then two doctors'
//! assistants press call-next until nobody is left waiting for the doctor.
//!
//!   cargo run --release --bin antrean-bench-queue -- [--clients 200] [--store embedded|dynamodb]
//!
//! It starts the dev server as a child process (this same binary, `serve`) on a fresh store: an
//! embedded store in a temporary folder, or with `--store dynamodb` a new table (the dev server
//! creates it; this deletes it afterwards) on `DYNAMODB_ENDPOINT`, which must be set (DynamoDB
//! Local: `bash infra/scripts/dynamodb-local.sh start 8000`). The child runs with
//! `BENCH_CAPACITY=1`, so on DynamoDB it serves `GET /debug/capacity`: the read and write capacity
//! units its table calls reported as consumed, read before and after each phase.
//!
//! Phases (every request is timed from send to the end of its answer, on this machine's loopback):
//! - create: N concurrent `POST /api/reservation`, one patient each, today, the poly's schedule
//!   (no quota). The queue numbers handed out must be exactly 1..N.
//! - workflow: N concurrent walkers, one per reservation, each `PATCH /api/queue/{id}/anamnesa`,
//!   `waitingdoctor`, `withdoctor`, `done` in turn. The last N/10 reservations (at least one)
//!   stop at `waitingdoctor`: they are left for call-next.
//! - call-next: two concurrent callers press `PATCH /api/queue/call-next` until it answers
//!   "No queue to call"; each press finishes whoever is with the doctor and calls in the lowest
//!   waiting number. The patient called in last is then finished with `done`.
//!
//! At the end every reservation of the day should be DONE. It prints figures; it asserts nothing
//! about time.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "child.rs"]
mod child;
use child::{percentile, StoreKind};

/// WITH_DOCTOR and DONE: the seeded status ids (1 WAITING … 5 DONE).
const WITH_DOCTOR_ID: i64 = 4;
const DONE_ID: i64 = 5;
/// How many call-next callers press at once.
const CALLERS: usize = 2;

struct Args {
    clients: usize,
    store: StoreKind,
}

fn args() -> Args {
    let mut a = Args { clients: 200, store: StoreKind::Embedded };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--clients" => {
                a.clients = it.next().and_then(|v| v.parse().ok()).filter(|n| *n >= 1).unwrap_or_else(|| panic!("--clients needs a number of at least 1"))
            }
            "--store" => {
                a.store = match it.next().as_deref() {
                    Some("embedded") => StoreKind::Embedded,
                    Some("dynamodb") => StoreKind::DynamoDb,
                    other => panic!("--store takes embedded or dynamodb, not {other:?}"),
                }
            }
            "-h" | "--help" => {
                println!("antrean-bench-queue [--clients N (200)] [--store embedded|dynamodb (embedded)]\n\n--store dynamodb needs DYNAMODB_ENDPOINT (DynamoDB Local)");
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// One timed request.
struct Sample {
    endpoint: &'static str,
    ms: f64,
    ok: bool,
}

/// A failed request, kept to be printed as it was answered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Failure {
    endpoint: &'static str,
    status: String,
    body: String,
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: Arc<str>,
    token: Arc<str>,
}

impl Api {
    /// Sends one request and times it; the answer's body, or what went wrong.
    async fn timed(&self, endpoint: &'static str, method: reqwest::Method, path: &str, body: Value) -> (Sample, Result<Value, Failure>) {
        let sent = Instant::now();
        let r = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&*self.token).json(&body).send().await;
        let result = match r {
            Err(e) => Err(Failure { endpoint, status: "no answer".into(), body: e.to_string() }),
            Ok(r) => {
                let status = r.status();
                match r.text().await {
                    Err(e) => Err(Failure { endpoint, status: status.to_string(), body: format!("body not read: {e}") }),
                    Ok(text) if status.is_success() => Ok(serde_json::from_str(&text).unwrap_or(Value::Null)),
                    Ok(text) => Err(Failure { endpoint, status: status.to_string(), body: text }),
                }
            }
        };
        (Sample { endpoint, ms: sent.elapsed().as_secs_f64() * 1000.0, ok: result.is_ok() }, result)
    }

    /// A setup or check request that must succeed.
    async fn must(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let (_, r) = self.timed("setup", method, path, body).await;
        r.unwrap_or_else(|f| panic!("{path}: {} {}", f.status, f.body))
    }

    /// The server's `GET /debug/capacity`; `None` on the embedded store.
    async fn capacity(&self) -> Option<Capacity> {
        let v: Value = self.http.get(format!("{}/debug/capacity", self.base)).send().await.ok()?.json().await.ok()?;
        Some(Capacity {
            read: v["read_capacity_units"].as_f64()?,
            write: v["write_capacity_units"].as_f64()?,
            calls: v["calls"].as_f64()?,
            unreported: v["unreported_calls"].as_f64()?,
            transactions: v["transactions"].as_f64()?,
            transaction_items: v["transaction_items"].as_f64()?,
            transaction_write: v["transaction_write_units"].as_f64()?,
        })
    }
}

/// Consumed capacity as the dev server counts it (see `CapacityUsed` in the DynamoDB adapter).
#[derive(Clone, Copy)]
struct Capacity {
    read: f64,
    write: f64,
    calls: f64,
    unreported: f64,
    transactions: f64,
    transaction_items: f64,
    /// What was reported for the transactions: DynamoDB Local reports one item's worth each.
    transaction_write: f64,
}

impl Capacity {
    fn minus(self, b: Capacity) -> Capacity {
        Capacity {
            read: self.read - b.read,
            write: self.write - b.write,
            calls: self.calls - b.calls,
            unreported: self.unreported - b.unreported,
            transactions: self.transactions - b.transactions,
            transaction_items: self.transaction_items - b.transaction_items,
            transaction_write: self.transaction_write - b.transaction_write,
        }
    }

    /// Write units as DynamoDB charges them: the single-item writes as reported, plus 2 WCU
    /// for every transaction item (the price of an item up to 1 KB; larger ones cost more).
    fn write_on_aws(self) -> f64 {
        self.write - self.transaction_write + 2.0 * self.transaction_items
    }
}

/// What one phase did.
struct Phase {
    name: &'static str,
    wall: Duration,
    samples: Vec<Sample>,
    failures: Vec<Failure>,
    capacity: Option<Capacity>,
}

fn delta(after: Option<Capacity>, before: Option<Capacity>) -> Option<Capacity> {
    Some(after?.minus(before?))
}

async fn bench(a: Args) {
    let n = a.clients;
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(0);
    println!(
        "antrean-bench-queue: {n} clients, store {}, {cores} cores",
        if a.store == StoreKind::Embedded { "embedded (SQLite)" } else { "dynamodb" }
    );
    let server = child::start_server(a.store, &[]).await;
    if let Some((endpoint, table)) = &server.dynamo {
        println!("DynamoDB endpoint {endpoint}, table {table}");
    }
    let run_started = Instant::now();
    let (http, token) = child::sign_in(&server.base, Duration::from_secs(120)).await;
    let api = Api { http, base: server.base.as_str().into(), token: token.into() };
    let today = child::clinic_today();

    // One poly, its doctor and today's schedule without a quota.
    let setup = Instant::now();
    let poly = api.must(reqwest::Method::POST, "/api/poly", json!({"name": "Poli Umum"})).await["data"]["id"].as_i64().expect("poly id");
    let doctor = api
        .must(reqwest::Method::POST, "/api/users", json!({"name": "dr. Bench", "username": "dokter", "email": "dokter@bench.id",
            "password": "dokter123", "password_confirmation": "dokter123", "roles": [3], "poly_id": poly}))
        .await["data"]["id"]
        .as_i64()
        .expect("doctor id");
    api.must(reqwest::Method::POST, "/api/schedule", json!({"doctor_id": doctor, "date": today, "start_time": "00:00", "end_time": "23:59", "quota": null}))
        .await;
    println!("setup (poly, doctor, schedule): {:.0} ms", setup.elapsed().as_secs_f64() * 1000.0);
    let mut phases = Vec::new();

    // Create: N receptionists at once.
    let cap_before = api.capacity().await;
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (api, today) = (api.clone(), today.clone());
            tokio::spawn(async move {
                let body = json!({"patient_name": format!("Pasien {i}"), "no_bpjs": format!("{:013}", 1_000_000 + i),
                    "whatsapp_number": format!("0812{i:08}"), "email": format!("p{i}@bench.id"), "poly_id": poly,
                    "schedule_id": null, "bpjs": i % 2 == 0, "date": today});
                let (sample, r) = api.timed("create", reqwest::Method::POST, "/api/reservation", body).await;
                let made = r.map(|v| (v["data"]["reservation"]["id"].as_i64(), v["data"]["queue"]["queue_number"].as_i64()));
                (sample, made)
            })
        })
        .collect();
    let (mut samples, mut failures, mut made) = (Vec::new(), Vec::new(), Vec::new());
    for t in tasks {
        let (s, r) = t.await.expect("a client task");
        samples.push(s);
        match r {
            Ok((Some(id), Some(number))) => made.push((id, number)),
            Ok(_) => failures.push(Failure { endpoint: "create", status: "200".into(), body: "no reservation id or queue number in the answer".into() }),
            Err(f) => failures.push(f),
        }
    }
    let wall = started.elapsed();
    let cap_after_create = api.capacity().await;
    phases.push(Phase { name: "create", wall, samples, failures, capacity: delta(cap_after_create, cap_before) });
    let mut numbers: Vec<i64> = made.iter().map(|(_, q)| *q).collect();
    numbers.sort_unstable();
    let numbers_ok = numbers == (1..=n as i64).collect::<Vec<_>>();

    // Workflow: one walker per reservation, all at once; the last tenth stop at waitingdoctor.
    made.sort_by_key(|(_, q)| *q);
    let for_call_next = (n / 10).max(1).min(made.len());
    let walk_all = made.len() - for_call_next;
    let started = Instant::now();
    let tasks: Vec<_> = made
        .iter()
        .enumerate()
        .map(|(i, (id, _))| {
            let (api, id) = (api.clone(), *id);
            let steps: &'static [&'static str] =
                if i < walk_all { &["anamnesa", "waitingdoctor", "withdoctor", "done"] } else { &["anamnesa", "waitingdoctor"] };
            tokio::spawn(async move {
                let (mut samples, mut failures) = (Vec::new(), Vec::new());
                for step in steps {
                    let (s, r) = api.timed(step, reqwest::Method::PATCH, &format!("/api/queue/{id}/{step}"), json!(null)).await;
                    samples.push(s);
                    if let Err(f) = r {
                        failures.push(f);
                        break;
                    }
                }
                (samples, failures)
            })
        })
        .collect();
    let (mut samples, mut failures) = (Vec::new(), Vec::new());
    for t in tasks {
        let (s, f) = t.await.expect("a walker task");
        samples.extend(s);
        failures.extend(f);
    }
    let wall = started.elapsed();
    let cap_after_workflow = api.capacity().await;
    phases.push(Phase { name: "workflow", wall, samples, failures, capacity: delta(cap_after_workflow, cap_after_create) });

    // Call-next: CALLERS at once until nobody waits for the doctor; then finish the last one.
    let started = Instant::now();
    let called_in = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (api, today, called_in) = (api.clone(), today.clone(), called_in.clone());
            tokio::spawn(async move {
                let (mut samples, mut failures) = (Vec::new(), Vec::new());
                // Bounded: there are only `for_call_next` patients to call in.
                for _ in 0..for_call_next + 10 {
                    let (s, r) = api.timed("call-next", reqwest::Method::PATCH, "/api/queue/call-next", json!({"poly_id": poly, "date": today})).await;
                    samples.push(s);
                    match r {
                        Ok(v) if v["message"] == "No queue to call" => break,
                        Ok(_) => {
                            called_in.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(f) => failures.push(f),
                    }
                }
                (samples, failures)
            })
        })
        .collect();
    let (mut samples, mut failures) = (Vec::new(), Vec::new());
    for t in tasks {
        let (s, f) = t.await.expect("a caller task");
        samples.extend(s);
        failures.extend(f);
    }
    let with_doctor = api.must(reqwest::Method::GET, &format!("/api/queue?poly_id={poly}&date={today}&status_id={WITH_DOCTOR_ID}&per_page=100"), json!(null)).await;
    for row in with_doctor["data"]["data"].as_array().cloned().unwrap_or_default() {
        let id = row["reservation_id"].as_i64().expect("reservation_id");
        let (s, r) = api.timed("done", reqwest::Method::PATCH, &format!("/api/queue/{id}/done"), json!(null)).await;
        samples.push(s);
        if let Err(f) = r {
            failures.push(f);
        }
    }
    let wall = started.elapsed();
    let cap_after_call_next = api.capacity().await;
    phases.push(Phase { name: "call-next", wall, samples, failures, capacity: delta(cap_after_call_next, cap_after_workflow) });
    let called_in = called_in.load(std::sync::atomic::Ordering::Relaxed);

    let done = api.must(reqwest::Method::GET, &format!("/api/queue?poly_id={poly}&date={today}&status_id={DONE_ID}&per_page=1"), json!(null)).await;
    let done_total = done["data"]["total"].as_u64().unwrap_or(0);
    let run_total = api.capacity().await;

    // The figures.
    println!();
    println!("{:<10} {:>8} {:>7} {:>10} {:>9}", "phase", "requests", "errors", "wall ms", "req/s");
    for p in &phases {
        println!(
            "{:<10} {:>8} {:>7} {:>10.0} {:>9.1}",
            p.name,
            p.samples.len(),
            p.samples.iter().filter(|s| !s.ok).count(),
            p.wall.as_secs_f64() * 1000.0,
            p.samples.len() as f64 / p.wall.as_secs_f64()
        );
    }
    println!();
    println!("{:<14} {:>6} {:>9} {:>9} {:>9}", "endpoint", "count", "p50 ms", "p99 ms", "max ms");
    for endpoint in ["create", "anamnesa", "waitingdoctor", "withdoctor", "done", "call-next"] {
        let mut ms: Vec<f64> = phases.iter().flat_map(|p| &p.samples).filter(|s| s.endpoint == endpoint).map(|s| s.ms).collect();
        ms.sort_by(|x, y| x.partial_cmp(y).unwrap());
        println!(
            "{:<14} {:>6} {:>9.1} {:>9.1} {:>9.1}",
            endpoint,
            ms.len(),
            percentile(&ms, 50.0),
            percentile(&ms, 99.0),
            ms.last().copied().unwrap_or(f64::NAN)
        );
    }
    println!();
    println!("numbers 1..{n}: {}", if numbers_ok { "yes" } else { "no" });
    if !numbers_ok {
        let mut seen = BTreeMap::new();
        for q in &numbers {
            *seen.entry(*q).or_insert(0) += 1;
        }
        let twice: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).map(|(q, _)| *q).collect();
        let missing: Vec<_> = (1..=n as i64).filter(|q| !seen.contains_key(q)).collect();
        println!("  {} numbers handed out; given more than once: {twice:?}; missing: {missing:?}", numbers.len());
    }
    println!("called in by call-next: {called_in} of {for_call_next}");
    println!("DONE at the end: {done_total} of {n}: {}", if done_total == n as u64 { "yes" } else { "no" });

    if let Some(total) = run_total {
        let per = |x: f64| x / n as f64;
        println!();
        println!("consumed capacity per reservation (total / {n}); reported = as DynamoDB answered ReturnConsumedCapacity,");
        println!("AWS WCU = single-item writes as reported + 2 WCU per transaction item (DynamoDB Local reports a transaction as one item):");
        println!(
            "{:<12} {:>9} {:>9} {:>8} {:>12} {:>11} {:>12} {:>12}",
            "phase", "RCU", "WCU rep.", "AWS WCU", "table calls", "failed", "transactions", "their items"
        );
        let mut rows: Vec<(&str, Capacity)> = phases.iter().filter_map(|p| Some((p.name, p.capacity?))).collect();
        if let Some(all) = delta(cap_after_call_next, cap_before) {
            rows.push(("all three", all));
        }
        for (name, c) in rows {
            println!(
                "{:<12} {:>9.2} {:>9.2} {:>8.2} {:>12.1} {:>11.1} {:>12.2} {:>12.2}",
                name,
                per(c.read),
                per(c.write),
                per(c.write_on_aws()),
                per(c.calls),
                per(c.unreported),
                per(c.transactions),
                per(c.transaction_items)
            );
        }
        println!(
            "whole run incl. start, login and setup: {:.1} RCU, {:.1} WCU reported ({:.1} on AWS) in {} table calls ({} failed, reporting nothing)",
            total.read,
            total.write,
            total.write_on_aws(),
            total.calls,
            total.unreported
        );
    }

    let mut counted: BTreeMap<Failure, usize> = BTreeMap::new();
    for f in phases.iter().flat_map(|p| &p.failures) {
        *counted.entry(f.clone()).or_insert(0) += 1;
    }
    println!();
    if counted.is_empty() {
        println!("errors: none");
    } else {
        println!("errors ({} distinct):", counted.len());
        for (f, count) in counted.iter().take(20) {
            println!("  {count} x {} {}: {}", f.endpoint, f.status, f.body);
        }
    }
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    let noted: Vec<&str> = log.lines().filter(|l| !l.contains("BENCH_CAPACITY")).filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
    println!("server warnings and errors logged: {}", noted.len());
    for l in noted.iter().take(10) {
        println!("  {l}");
    }
    println!("run took {:.1} s", run_started.elapsed().as_secs_f64());

    server.finish().await;
}

fn main() {
    child::run(|| bench(args()));
}
