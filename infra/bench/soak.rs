//! Soak run: a steady, bounded load for a long while, to show that memory stays flat and no
//! request fails. Prints the dev server's RSS, requests and errors every `--every` seconds.
//!
//!   cargo run --release --bin antrean-bench-soak -- [--minutes 10] [--rate 20] [--every 30]
//!       [--store dynamodb|embedded] [--faults 0.10]
//!
//! It starts the dev server as a child process (this same binary, `serve`) on a fresh store: with
//! `--store dynamodb` (the default) a new table on `DYNAMODB_ENDPOINT`, which must be set
//! (DynamoDB Local: `bash infra/scripts/dynamodb-local.sh start 8000`), deleted at the end. With
//! `--faults F` the server talks to DynamoDB through the fault proxy of the tests
//! (`shared/testkit/src/faults.rs`): a share F of its calls is throttled, cancelled for a
//! transaction conflict, swallowed, dropped or loses its answer.
//!
//! The load, `--rate` requests a second at a steady pace, in turns of eight: a patient
//! registered, four reservations moved one step each (anamnesa, waiting doctor, with doctor,
//! done: patients leave as fast as they come), the reservation list, the queue, and the
//! current numbers or the dashboard summary. An error is any answer that is not 2xx, or none.
//! It asserts nothing; it prints figures.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "child.rs"]
mod child;
#[allow(dead_code)]
#[path = "../../shared/testkit/src/faults.rs"]
mod faults;
use child::{percentile, StoreKind};

struct Args {
    minutes: f64,
    rate: f64,
    every: u64,
    store: StoreKind,
    faults: f64,
}

fn args() -> Args {
    let mut a = Args { minutes: 10.0, rate: 20.0, every: 30, store: StoreKind::DynamoDb, faults: 0.0 };
    let mut it = std::env::args().skip(1);
    let number = |v: Option<String>, flag: &str| -> f64 {
        v.and_then(|v| v.parse::<f64>().ok()).filter(|n| *n >= 0.0).unwrap_or_else(|| panic!("{flag} needs a number"))
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--minutes" => a.minutes = number(it.next(), "--minutes"),
            "--rate" => a.rate = number(it.next(), "--rate").max(0.1),
            "--every" => a.every = number(it.next(), "--every").max(1.0) as u64,
            "--faults" => a.faults = number(it.next(), "--faults").min(1.0),
            "--store" => {
                a.store = match it.next().as_deref() {
                    Some("embedded") => StoreKind::Embedded,
                    Some("dynamodb") => StoreKind::DynamoDb,
                    other => panic!("--store takes embedded or dynamodb, not {other:?}"),
                }
            }
            other => panic!("unknown argument {other}; see the comment at the top of infra/bench/soak.rs"),
        }
    }
    a
}

/// The resident memory of a process, in MiB (Linux `/proc`).
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    errors: AtomicU64,
    /// Latencies (ms) of the current window.
    window: Mutex<Vec<f64>>,
    first_errors: Mutex<Vec<String>>,
}

struct Load {
    base: String,
    http: reqwest::Client,
    token: String,
    poly: i64,
    today: String,
    counts: Counts,
    /// Reservations and the next move each is due for.
    moving: Mutex<VecDeque<(i64, usize)>>,
    patients: AtomicU64,
}

const MOVES: [&str; 4] = ["anamnesa", "waitingdoctor", "withdoctor", "done"];

impl Load {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Option<Value> {
        let started = Instant::now();
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let outcome = match req.send().await {
            Ok(res) if res.status().is_success() => res.json::<Value>().await.map_err(|e| format!("{path}: unreadable answer: {e}")),
            Ok(res) => {
                let status = res.status();
                Err(format!("{path}: {status} {}", res.text().await.unwrap_or_default()))
            }
            Err(e) => Err(format!("{path}: {e}")),
        };
        self.counts.requests.fetch_add(1, Ordering::Relaxed);
        self.counts.window.lock().unwrap().push(started.elapsed().as_secs_f64() * 1000.0);
        match outcome {
            Ok(v) => Some(v),
            Err(e) => {
                self.counts.errors.fetch_add(1, Ordering::Relaxed);
                let mut first = self.counts.first_errors.lock().unwrap();
                if first.len() < 8 {
                    first.push(e);
                }
                None
            }
        }
    }

    /// Request number `i` of the mix.
    async fn one(&self, i: u64) {
        let today = &self.today;
        match i % 8 {
            0 => {
                let n = self.patients.fetch_add(1, Ordering::Relaxed) + 1;
                let body = json!({"patient_name": format!("Pasien Soak {n}"), "whatsapp_number": format!("0815{n:08}"), "poly_id": self.poly,
                    "schedule_id": null, "date": today});
                if let Some(v) = self.send(reqwest::Method::POST, "/api/reservation", Some(body)).await {
                    if let Some(id) = v["data"]["reservation"]["id"].as_i64() {
                        self.moving.lock().unwrap().push_back((id, 0));
                    }
                }
            }
            1..=4 => {
                let next = self.moving.lock().unwrap().pop_front();
                if let Some((id, step)) = next {
                    let moved = self.send(reqwest::Method::PATCH, &format!("/api/queue/{id}/{}", MOVES[step]), None).await.is_some();
                    // A failed move is counted as an error and tried again later.
                    let step = if moved { step + 1 } else { step };
                    if step < MOVES.len() {
                        self.moving.lock().unwrap().push_back((id, step));
                    }
                }
            }
            5 => drop(self.send(reqwest::Method::GET, &format!("/api/reservation?date={today}&per_page=20"), None).await),
            6 => drop(self.send(reqwest::Method::GET, &format!("/api/queue?date={today}&per_page=20"), None).await),
            7 if i % 16 == 7 => drop(self.send(reqwest::Method::GET, &format!("/api/queue/current?poly_id={}&date={today}", self.poly), None).await),
            _ => drop(self.send(reqwest::Method::GET, &format!("/api/dashboard/summary?date={today}"), None).await),
        }
    }
}

async fn soak(a: Args) {
    let real = std::env::var("DYNAMODB_ENDPOINT").unwrap_or_default();
    let proxy = match (a.store, a.faults > 0.0) {
        (StoreKind::DynamoDb, true) => {
            let p = faults::FaultProxy::start(&real).await;
            Some(p)
        }
        (StoreKind::Embedded, true) => panic!("--faults is for --store dynamodb (the faults are DynamoDB's)"),
        _ => None,
    };
    let mut env = vec![("RUST_LOG", "error".to_string())];
    if let Some(p) = &proxy {
        env.push(("DYNAMODB_ENDPOINT", p.url.clone()));
        // As the fault tests: a swallowed request costs 1 s, not the default 2 s.
        env.push(("DYNAMODB_ATTEMPT_TIMEOUT_MS", "1000".to_string()));
    }
    let server = child::start_server(a.store, &env).await;
    let pid = server.pid();
    let (http, token) = child::sign_in(&server.base, Duration::from_secs(60)).await;
    let today = child::clinic_today();
    let call = |method: reqwest::Method, path: &str, body: Value| {
        let req = http.request(method, format!("{}{path}", server.base)).bearer_auth(&token).json(&body);
        async move { req.send().await.expect("setup request").json::<Value>().await.expect("setup answer") }
    };
    let poly = call(reqwest::Method::POST, "/api/poly", json!({"name": "Poli Umum"})).await["data"]["id"].as_i64().expect("a poly");
    let doctor = call(reqwest::Method::POST, "/api/users", json!({"name": "dr. Soak", "username": "soak", "email": "soak@mail.com", "password": "dokter123",
        "password_confirmation": "dokter123", "roles": [3], "poly_id": poly}))
    .await["data"]["id"]
        .as_i64()
        .expect("a doctor");
    call(reqwest::Method::POST, "/api/schedule", json!({"doctor_id": doctor, "date": today, "start_time": "00:00", "end_time": "23:59"})).await;
    if let Some(p) = &proxy {
        p.set(faults::FaultRates::mixed(a.faults));
    }

    let load = Arc::new(Load {
        base: server.base.clone(),
        http: http.clone(),
        token: token.clone(),
        poly,
        today,
        counts: Counts::default(),
        moving: Mutex::new(VecDeque::new()),
        patients: AtomicU64::new(0),
    });
    let store = if a.store == StoreKind::DynamoDb { "dynamodb" } else { "embedded" };
    println!("soak: {} min at {} requests/s on {store}, DynamoDB faults {:.0}%; the dev server is pid {pid}", a.minutes, a.rate, a.faults * 100.0);
    println!("{:>7} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}", "minute", "requests", "errors", "rss MiB", "p50 ms", "p99 ms", "faults");
    let rss_start = rss_mib(pid);
    let mut rss_all = vec![rss_start];
    let started = Instant::now();
    let end = started + Duration::from_secs_f64(a.minutes * 60.0);
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / a.rate));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_report = started + Duration::from_secs(a.every);
    let mut i = 0u64;
    let mut in_flight = tokio::task::JoinSet::new();
    while Instant::now() < end {
        pace.tick().await;
        let l = load.clone();
        in_flight.spawn(async move { l.one(i).await });
        i += 1;
        while in_flight.try_join_next().is_some() {}
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(a.every);
            let mut w = std::mem::take(&mut *load.counts.window.lock().unwrap());
            w.sort_by(f64::total_cmp);
            let rss = rss_mib(pid);
            rss_all.push(rss);
            let injected = proxy.as_ref().map_or(0, |p| p.counts().total_injected());
            println!(
                "{:>7.1} {:>9} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9}",
                started.elapsed().as_secs_f64() / 60.0,
                load.counts.requests.load(Ordering::Relaxed),
                load.counts.errors.load(Ordering::Relaxed),
                rss,
                percentile(&w, 50.0),
                percentile(&w, 99.0),
                injected
            );
        }
    }
    while in_flight.join_next().await.is_some() {}
    let rss_end = rss_mib(pid);
    rss_all.push(rss_end);
    let max = rss_all.iter().copied().fold(f64::MIN, f64::max);
    // The second reading, once the server has warmed up, is the fair base for "flat".
    let warm = rss_all.get(1).copied().unwrap_or(rss_start);
    println!(
        "soak done: {} requests in {:.1} min, {} errors; RSS {:.1} MiB at start, {:.1} after the first interval, {:.1} at the end, {:.1} at most ({:+.1} MiB after warm-up)",
        load.counts.requests.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64() / 60.0,
        load.counts.errors.load(Ordering::Relaxed),
        rss_start,
        warm,
        rss_end,
        max,
        rss_end - warm
    );
    if let Some(p) = &proxy {
        let c = p.counts();
        println!("DynamoDB calls through the proxy: {} passed, {} faults injected {:?}", c.passed, c.total_injected(), c.injected);
    }
    for e in load.counts.first_errors.lock().unwrap().iter() {
        println!("error: {e}");
    }
    if load.counts.errors.load(Ordering::Relaxed) > 0 {
        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        println!("the server's last log lines:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    drop(proxy);
    server.finish().await;
}

fn main() {
    child::run(|| soak(args()));
}
