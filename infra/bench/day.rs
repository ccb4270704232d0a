//! A clinic's day as the Lambdas on DynamoDB would serve it: for each endpoint the store
//! requests and capacity units one call costs, and its p50 / p99 time when every store request
//! first waits a DynamoDB round trip; then what the day costs and the US$ per clinic-month.
//!
//!   cargo run --release --bin antrean-bench-day -- [--store embedded|dynamodb] [--store-latency-ms 5]
//!       [--patients 200] [--returning 0] [--boards 2] [--dashboard-views 20] [--board-hours 12]
//!       [--provisioned-use 0.7]
//!
//! The day: `--patients` registered (two polies), each walked through anamnesa, waiting for
//! the doctor, with the doctor and done, while `--boards` display boards are connected; the
//! dashboard (its seven charts) read `--dashboard-views` times; one export of the day; and a
//! few list and report pages for the per-endpoint table. Calls are made one at a time, so the
//! dev server's counters (`GET /debug/capacity`) attribute every store request to its call.
//! `--returning` is the share of the day's patients who have been before: they are registered
//! (for tomorrow, uncounted) before the day starts, so their registration finds them.
//!
//! Besides the bill, it prints where the day's write units go, by kind of item (the dev
//! server counts the items of every write by the kind their key names), and what the same
//! units would cost on provisioned capacity, with auto scaling holding `--provisioned-use`.
//!
//! Read units are DynamoDB's own answers (`--store dynamodb`, DynamoDB Local). Write units are
//! priced as AWS bills them, from each written item's size (the dev server reads it back: one
//! unit per started KB, two in a transaction; DynamoDB Local prices a transaction as if it
//! wrote one item), on either store. The
//! cost model's prices are constants below (us-east-1 on-demand list prices); the Lambda time
//! is each call's measured time at the function's memory from template.yaml. It prints figures
//! and asserts nothing about time.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};

#[path = "child.rs"]
mod child;
use child::{percentile, StoreKind};

/// US$ per million DynamoDB on-demand read request units (a strongly consistent read of up to 4 KB).
const PRICE_RRU: f64 = 0.125;
/// US$ per million on-demand write request units (1 KB; a transactional write costs 2).
const PRICE_WRU: f64 = 0.625;
/// US$ per million Lambda requests, and per GB-second (x86).
const PRICE_LAMBDA_REQUEST: f64 = 0.20;
const PRICE_LAMBDA_GB_SECOND: f64 = 0.000_016_666_7;
/// US$ per million HTTP API requests (first 300 million a month).
const PRICE_HTTP_API: f64 = 1.00;
/// US$ per million WebSocket messages (32 KB each) and per million connection minutes.
const PRICE_WS_MESSAGE: f64 = 1.00;
const PRICE_WS_MINUTE: f64 = 0.25;
/// Lambda memory (GB) as template.yaml gives it: 256 MB, the report function 1024 MB.
const MEMORY_GB: f64 = 0.25;
const REPORT_MEMORY_GB: f64 = 1.0;
const DAYS_A_MONTH: f64 = 30.0;
/// US$ per provisioned write and read capacity unit-hour (us-east-1): a unit used all hour
/// serves 3,600 request units.
const PRICE_WCU_HOUR: f64 = 0.000_65;
const PRICE_RCU_HOUR: f64 = 0.000_13;

struct Args {
    store: StoreKind,
    latency_ms: u64,
    patients: usize,
    boards: usize,
    dashboard_views: usize,
    board_hours: f64,
    returning: f64,
    provisioned_use: f64,
}

fn args() -> Args {
    let mut a = Args { store: StoreKind::Embedded, latency_ms: 0, patients: 200, boards: 2, dashboard_views: 20, board_hours: 12.0, returning: 0.0, provisioned_use: 0.7 };
    let mut it = std::env::args().skip(1);
    let number = |v: Option<String>, flag: &str| -> f64 { v.and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{flag} needs a number")) };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--store" => {
                a.store = match it.next().as_deref() {
                    Some("embedded") => StoreKind::Embedded,
                    Some("dynamodb") => StoreKind::DynamoDb,
                    other => panic!("--store takes embedded or dynamodb, not {other:?}"),
                }
            }
            "--store-latency-ms" => a.latency_ms = number(it.next(), &flag) as u64,
            "--patients" => a.patients = (number(it.next(), &flag) as usize).max(1),
            "--boards" => a.boards = number(it.next(), &flag) as usize,
            "--dashboard-views" => a.dashboard_views = number(it.next(), &flag) as usize,
            "--board-hours" => a.board_hours = number(it.next(), &flag),
            "--returning" => a.returning = number(it.next(), &flag).clamp(0.0, 1.0),
            "--provisioned-use" => a.provisioned_use = number(it.next(), &flag).clamp(0.05, 1.0),
            "-h" | "--help" => {
                println!("antrean-bench-day [--store embedded|dynamodb] [--store-latency-ms N] [--patients 200] [--returning 0] [--boards 2] [--dashboard-views 20] [--board-hours 12] [--provisioned-use 0.7]");
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// What one call cost.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    ms: f64,
    reads: f64,
    writes: f64,
    rcu: f64,
    /// Write units as AWS charges them (see the module notes).
    wcu: f64,
}

/// Items by kind one call wrote in transactions, wrote alone, read, and its write units
/// (`/debug/capacity`'s `by_kind`).
type Kinds = BTreeMap<String, [f64; 4]>;

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    /// The items by kind of the last call.
    last_kinds: Arc<std::sync::Mutex<Kinds>>,
}

impl Api {
    fn kinds(&self) -> Kinds {
        self.last_kinds.lock().expect("kinds").clone()
    }

    async fn counters(&self) -> Value {
        self.http.get(format!("{}/debug/capacity", self.base)).send().await.expect("counters").json().await.expect("counters JSON")
    }

    /// One call, with the store requests and capacity it cost; panics unless it succeeds.
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> (Value, Cost) {
        let before = self.counters().await;
        let sent = Instant::now();
        let r = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token).header("accept", "application/json").json(&body).send().await;
        let r = r.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        let ms = sent.elapsed().as_secs_f64() * 1000.0;
        assert!(status.is_success(), "{path}: {status} {text}");
        let after = self.counters().await;
        let d = |k: &[&str]| {
            let at = |v: &Value| k.iter().fold(v.clone(), |v, k| v[*k].clone()).as_f64().unwrap_or(0.0);
            at(&after) - at(&before)
        };
        let reads = d(&["requests", "gets"]) + d(&["requests", "batch_gets"]) + d(&["requests", "queries"]);
        let writes = d(&["requests", "single_writes"]) + d(&["requests", "transactions"]);
        // Priced by item size, as AWS bills (the dev server reads each written item back).
        let wcu = d(&["requests", "write_units"]);
        let mut kinds = Kinds::new();
        if let Some(by_kind) = after["by_kind"].as_object() {
            for kind in by_kind.keys() {
                let counts = ["transaction_items", "single_writes", "items_read", "write_units"].map(|f| d(&["by_kind", kind, f]));
                if counts.iter().any(|n| *n != 0.0) {
                    kinds.insert(kind.clone(), counts);
                }
            }
        }
        *self.last_kinds.lock().expect("kinds") = kinds;
        (serde_json::from_str(&text).unwrap_or(Value::Null), Cost { ms, reads, writes, rcu: d(&["read_capacity_units"]), wcu })
    }
}

/// Every call of the day, by endpoint.
#[derive(Default)]
struct Ledger(BTreeMap<&'static str, Vec<Cost>>, BTreeMap<&'static str, Kinds>);

impl Ledger {
    fn add(&mut self, endpoint: &'static str, c: Cost, kinds: Kinds) {
        self.0.entry(endpoint).or_default().push(c);
        let sum = self.1.entry(endpoint).or_default();
        for (kind, counts) in kinds {
            add_to(sum.entry(kind).or_default(), counts);
        }
    }
    fn calls<'a>(&'a self, endpoints: &'a [&str]) -> impl Iterator<Item = &'a Cost> + 'a {
        self.0.iter().filter(move |(e, _)| endpoints.contains(e)).flat_map(|(_, v)| v)
    }
}

const DASHBOARD: [&str; 7] =
    ["summary", "reservation-trend", "reservations-by-poly", "patient-attendance", "average-waiting-time", "clinic-peak-hours", "bpjs-vs-general"];
/// What the day's cost model counts (the per-endpoint table also shows list and report pages).
const DAY: [&str; 8] = ["create", "create (known patient)", "anamnesa", "waitingdoctor", "withdoctor", "done", "dashboard chart", "export (day)"];

async fn bench(a: Args) {
    println!(
        "antrean-bench-day: store {}, {} ms per store request, {} patients ({:.0}% returning), {} boards, dashboard read {} times",
        if a.store == StoreKind::Embedded { "embedded (SQLite)" } else { "dynamodb" },
        a.latency_ms,
        a.patients,
        a.returning * 100.0,
        a.boards,
        a.dashboard_views
    );
    let server = child::start_server(a.store, &[("STORE_LATENCY_MS", a.latency_ms.to_string())]).await;
    let (http, token) = child::sign_in(&server.base, Duration::from_secs(300)).await;
    let api = Api { http, base: server.base.clone(), token: token.into(), last_kinds: Arc::default() };
    let today = child::clinic_today();
    let tomorrow = (chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d").expect("a date") + chrono::Days::new(1)).format("%Y-%m-%d").to_string();
    let post = reqwest::Method::POST;
    let patch = reqwest::Method::PATCH;
    let get = reqwest::Method::GET;

    let mut polies = Vec::new();
    for (i, name) in ["Poli Umum", "Poli Gigi"].iter().enumerate() {
        let poly = api.call(post.clone(), "/api/poly", json!({"name": name})).await.0["data"]["id"].as_i64().expect("poly id");
        let user = json!({"name": format!("dr. {i}"), "username": format!("dokter{i}"), "email": format!("d{i}@bench.id"),
            "password": "dokter123", "password_confirmation": "dokter123", "roles": [3], "poly_id": poly});
        let doctor = api.call(post.clone(), "/api/users", user).await.0["data"]["id"].as_i64().expect("doctor id");
        for date in [&today, &tomorrow] {
            let schedule = json!({"doctor_id": doctor, "date": date, "start_time": "00:00", "end_time": "23:59", "quota": null});
            api.call(post.clone(), "/api/schedule", schedule).await;
        }
        polies.push(poly);
    }
    // The patients who have been before: on file (with a booking for tomorrow) before the day.
    let patient = |i: usize, date: &str| {
        json!({"patient_name": format!("Pasien {i}"), "no_bpjs": format!("{:013}", 1_000_000 + i),
            "whatsapp_number": format!("0812{i:08}"), "email": format!("p{i}@bench.id"), "poly_id": polies[i % polies.len()],
            "schedule_id": null, "bpjs": i % 2 == 0, "date": date})
    };
    let returning = |i: usize| ((i + 1) as f64 * a.returning).floor() > (i as f64 * a.returning).floor();
    let mut known = 0;
    for i in (0..a.patients).filter(|i| returning(*i)) {
        api.call(post.clone(), "/api/reservation", patient(i, &tomorrow)).await;
        known += 1;
    }
    if known > 0 {
        println!("{known} returning patients on file before the day");
    }

    // The boards: each counts the messages it is pushed.
    let pushed = Arc::new(AtomicU64::new(0));
    let mut boards = Vec::new();
    for i in 0..a.boards {
        let board = api.call(post.clone(), "/api/boards", json!({"name": format!("TV {i}")})).await.0;
        let url = board["data"]["ws_url"].as_str().expect("ws_url").to_string();
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.expect("board connects");
        let pushed = pushed.clone();
        boards.push(tokio::spawn(async move {
            while let Some(Ok(_)) = ws.next().await {
                pushed.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pushed_at_start = pushed.load(Ordering::Relaxed);

    let started = Instant::now();
    let mut ledger = Ledger::default();
    let mut ids = Vec::new();
    for i in 0..a.patients {
        let (v, c) = api.call(post.clone(), "/api/reservation", patient(i, &today)).await;
        ledger.add(if returning(i) { "create (known patient)" } else { "create" }, c, api.kinds());
        ids.push(v["data"]["reservation"]["id"].as_i64().expect("reservation id"));
    }
    for id in &ids {
        for step in ["anamnesa", "waitingdoctor", "withdoctor", "done"] {
            let (_, c) = api.call(patch.clone(), &format!("/api/queue/{id}/{step}"), json!(null)).await;
            ledger.add(step, c, api.kinds());
        }
    }
    for _ in 0..a.dashboard_views {
        let mut view = Cost::default();
        for chart in DASHBOARD {
            let query = if chart == "summary" || chart == "clinic-peak-hours" { format!("?date={today}") } else { String::new() };
            let (_, c) = api.call(get.clone(), &format!("/api/dashboard/{chart}{query}"), json!(null)).await;
            ledger.add("dashboard chart", c, api.kinds());
            view = Cost { ms: view.ms + c.ms, reads: view.reads + c.reads, writes: view.writes + c.writes, rcu: view.rcu + c.rcu, wcu: view.wcu + c.wcu };
        }
        ledger.add("dashboard (7 charts)", view, Kinds::new());
    }
    let (link, c) = api.call(get.clone(), &format!("/api/reports/patient-visits/export?date_from={today}&date_to={today}"), json!(null)).await;
    ledger.add("export (day)", c, api.kinds());
    let url = link["url"].as_str().expect("an export link");
    let file = api.http.get(url).send().await.expect("download").bytes().await.expect("the file");
    for (endpoint, path) in [
        ("queue list (100)", format!("/api/queue?date={today}&per_page=100")),
        ("queue list (10)", format!("/api/queue?date={today}")),
        ("reservation list (100)", "/api/reservation?per_page=100".to_string()),
        ("reservation list (10)", "/api/reservation".to_string()),
        ("report page (10)", format!("/api/reports/patient-visits?date_from={today}&date_to={today}")),
        ("report page (100)", format!("/api/reports/patient-visits?date_from={today}&date_to={today}&per_page=100")),
    ] {
        for _ in 0..5 {
            let (_, c) = api.call(get.clone(), &path, json!(null)).await;
            ledger.add(endpoint, c, api.kinds());
        }
    }
    let day_wall = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages = pushed.load(Ordering::Relaxed) - pushed_at_start;
    for b in boards {
        b.abort();
    }

    println!();
    println!("{:<24} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}", "endpoint", "calls", "reads", "writes", "RCU", "WCU", "p50 ms", "p99 ms");
    for (endpoint, costs) in &ledger.0 {
        let n = costs.len() as f64;
        let mean = |f: fn(&Cost) -> f64| costs.iter().map(f).sum::<f64>() / n;
        let mut ms: Vec<f64> = costs.iter().map(|c| c.ms).collect();
        ms.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let units = |x: f64| if a.store == StoreKind::DynamoDb { format!("{x:.2}") } else { "n/a".into() };
        println!(
            "{:<24} {:>6} {:>8.2} {:>8.2} {:>8} {:>8} {:>8.1} {:>8.1}",
            endpoint,
            costs.len(),
            mean(|c| c.reads),
            mean(|c| c.writes),
            units(mean(|c| c.rcu)),
            format!("{:.2}", mean(|c| c.wcu)),
            percentile(&ms, 50.0),
            percentile(&ms, 99.0)
        );
    }
    println!("(reads and writes: store requests per call, authentication included; RCU/WCU per call, AWS-equivalent)");
    println!("board messages pushed during the day: {messages} to {} boards; export file {:.1} KiB; day took {:.1} s", a.boards, file.len() as f64 / 1024.0, day_wall.as_secs_f64());

    // The day's bill.
    let day: Vec<&Cost> = ledger.calls(&DAY).collect();
    let http_calls = day.len() as f64;
    let lambda_calls = http_calls + 2.0 * a.boards as f64; // $connect and $disconnect
    let gb_seconds: f64 = ledger
        .0
        .iter()
        .filter(|(e, _)| DAY.contains(e))
        .flat_map(|(e, v)| v.iter().map(move |c| (e, c)))
        .map(|(e, c)| c.ms.ceil() / 1000.0 * if e.starts_with("dashboard") || e.starts_with("export") { REPORT_MEMORY_GB } else { MEMORY_GB })
        .sum();
    let rcu: f64 = day.iter().map(|c| c.rcu).sum();
    let wcu: f64 = day.iter().map(|c| c.wcu).sum();
    let minutes = a.boards as f64 * a.board_hours * 60.0;
    let m = |x: f64| x / 1_000_000.0;
    let lines = [
        ("DynamoDB reads", format!("{rcu:.0} RRU"), m(rcu) * PRICE_RRU),
        ("DynamoDB writes", format!("{wcu:.0} WRU"), m(wcu) * PRICE_WRU),
        ("Lambda requests", format!("{lambda_calls:.0}"), m(lambda_calls) * PRICE_LAMBDA_REQUEST),
        ("Lambda compute", format!("{gb_seconds:.1} GB-s"), gb_seconds * PRICE_LAMBDA_GB_SECOND),
        ("HTTP API requests", format!("{http_calls:.0}"), m(http_calls) * PRICE_HTTP_API),
        ("WebSocket messages", format!("{messages}"), m(messages as f64) * PRICE_WS_MESSAGE),
        ("WebSocket minutes", format!("{minutes:.0}"), m(minutes) * PRICE_WS_MINUTE),
    ];
    println!();
    println!("a day of this clinic, and a month of {DAYS_A_MONTH} such days (on-demand list prices, us-east-1):");
    println!("{:<20} {:>14} {:>12} {:>14}", "item", "units a day", "US$ a day", "US$ a month");
    let mut total = 0.0;
    for (item, units, usd) in lines {
        total += usd * DAYS_A_MONTH;
        println!("{item:<20} {units:>14} {usd:>12.6} {:>14.4}", usd * DAYS_A_MONTH);
    }
    println!("{:<20} {:>14} {:>12.6} {:>14.4}", "total", "", total / DAYS_A_MONTH, total);
    if a.store != StoreKind::DynamoDb {
        println!("(read units come from DynamoDB: run with --store dynamodb for the reads line)");
    }
    print_kinds(&ledger);
    if a.store == StoreKind::DynamoDb {
        // The same units on provisioned capacity: a unit-hour serves 3,600 request units, of
        // which auto scaling keeps `provisioned_use` used.
        let per_unit = |hour: f64| hour / 3600.0 / a.provisioned_use;
        let (reads, writes) = (rcu * per_unit(PRICE_RCU_HOUR), wcu * per_unit(PRICE_WCU_HOUR));
        let on_demand = (m(rcu) * PRICE_RRU + m(wcu) * PRICE_WRU) * DAYS_A_MONTH;
        let provisioned = (reads + writes) * DAYS_A_MONTH;
        println!();
        println!(
            "on provisioned capacity at {:.0}% use: DynamoDB reads {:.4} + writes {:.4} = {provisioned:.4} US$ a month (on demand {on_demand:.4}); total {:.4}",
            a.provisioned_use * 100.0,
            reads * DAYS_A_MONTH,
            writes * DAYS_A_MONTH,
            total - on_demand + provisioned
        );
    }
    println!("not counted: storage (DynamoDB $0.25/GB-month, S3 exports expire), the scheduled webhook-retry function (per deployment, not per clinic)");

    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    let noted = log.lines().filter(|l| !l.contains("BENCH_CAPACITY") && (l.contains("WARN") || l.contains("ERROR"))).count();
    println!("server warnings and errors logged: {noted}");
    server.finish().await;
}

fn add_to(sum: &mut [f64; 4], counts: [f64; 4]) {
    for (s, c) in sum.iter_mut().zip(counts) {
        *s += c;
    }
}

/// Where the day's write units go: per kind of item, the items a day written in transactions
/// and alone, their write units (by item size, two per started KB in a transaction), and the
/// items read; and per endpoint the items one call writes.
fn print_kinds(ledger: &Ledger) {
    let mut day: BTreeMap<&str, [f64; 4]> = BTreeMap::new();
    for (endpoint, kinds) in ledger.1.iter().filter(|(e, _)| DAY.contains(e)) {
        for (kind, c) in kinds {
            add_to(day.entry(kind.as_str()).or_default(), *c);
        }
        let calls = ledger.0.get(endpoint).map_or(1, Vec::len) as f64;
        let written: Vec<String> =
            kinds.iter().filter(|(_, c)| c[0] + c[1] > 0.0).map(|(k, c)| format!("{k} {:.2} ({:.2} WRU)", (c[0] + c[1]) / calls, c[3] / calls)).collect();
        if !written.is_empty() {
            println!("  {endpoint}: items written per call: {}", written.join(", "));
        }
    }
    let total: f64 = day.values().map(|c| c[3]).sum();
    let mut rows: Vec<_> = day.into_iter().filter(|(_, c)| c[0] + c[1] + c[2] > 0.0).collect();
    rows.sort_by(|x, y| y.1[3].total_cmp(&x.1[3]).then(y.1[2].total_cmp(&x.1[2])));
    println!();
    println!("where the day's writes go, by kind of item:");
    println!("{:<36} {:>12} {:>10} {:>10} {:>7} {:>12}", "kind", "in txn", "alone", "WRU", "share", "items read");
    for (kind, c) in rows {
        let share = if total > 0.0 { c[3] / total * 100.0 } else { 0.0 };
        println!("{kind:<36} {:>12.0} {:>10.0} {:>10.0} {share:>6.1}% {:>12.0}", c[0], c[1], c[3], c[2]);
    }
}

fn main() {
    child::run(|| bench(args()));
}
