//! `antrean-bench-reports [--clinic default] [--runs 5] [--to YYYY-MM-DD] [--store-latency-ms 5]`
//!
//! On a history loaded by `antrean-seed-history`, prints for every dashboard and report
//! request the latency (median and worst of `--runs`) and what it read from the table (items
//! and requests, through a counting wrapper of the table port), then the time and peak memory
//! of the patient-visits export of the whole year (about 100,000 rows). With
//! `--store-latency-ms`, every store request first waits that long, as a DynamoDB round trip
//! from Lambda would: the times are then what the report function would see.
//!
//! Requests go through the real router (auth, validation, envelope) in-process, so network
//! time is left out. Signs in as `superadmin` with `BOOTSTRAP_ADMIN_PASSWORD` (or `--password`).
#[path = "../tools/common.rs"]
mod common;
#[path = "../tools/history.rs"]
mod history;

use std::sync::Arc;
use std::time::{Duration, Instant};

use antrean_api::{ApiConfig, AppState, Group};
use antrean_domain::reporting;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Datelike, Duration as Days};
use tower::ServiceExt;

const USAGE: &str = "antrean-bench-reports [--clinic SLUG] [--runs N] [--to YYYY-MM-DD] [--password P] [--store-latency-ms N]

Run after antrean-seed-history on the same store (STORE, DATA_DIR, TABLE_NAME, DYNAMODB_ENDPOINT).
--to is the last day of the history (default: yesterday, clinic time).";

struct Bench {
    router: axum::Router,
    counter: Arc<common::Meter>,
    token: String,
}

struct Measured {
    median: Duration,
    worst: Duration,
    items: u64,
    requests: u64,
    bytes: usize,
}

impl Bench {
    async fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>, token: Option<&str>) -> (StatusCode, Vec<u8>, Option<String>) {
        let mut req = Request::builder().method(method).uri(path).header("accept", "application/json").header("host", "bench.local");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())).unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let res = self.router.clone().oneshot(req).await.expect("the router answers");
        let status = res.status();
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec();
        (status, bytes, location)
    }

    async fn measure(&self, path: &str, runs: usize) -> Result<Measured, String> {
        let mut times = Vec::with_capacity(runs);
        let (mut items, mut requests, mut size) = (0, 0, 0);
        for _ in 0..runs {
            self.counter.take();
            let start = Instant::now();
            let (status, bytes, _) = self.call("GET", path, None, Some(&self.token)).await;
            times.push(start.elapsed());
            if status != StatusCode::OK {
                return Err(format!("{status} {}", String::from_utf8_lossy(&bytes)));
            }
            let used = self.counter.take();
            (items, requests) = (used.items_read, used.reads());
            size = bytes.len();
        }
        times.sort();
        Ok(Measured { median: times[times.len() / 2], worst: *times.last().unwrap(), items, requests, bytes: size })
    }
}

/// The process's peak resident memory (VmHWM) in MiB; `reset` starts a new peak.
fn peak_rss_mib(reset: bool) -> Option<f64> {
    if reset {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = common::Args::parse(USAGE);
    let tenant = args.tenant();
    let runs: usize = args.number("runs", 5).max(1);
    let (table, config) = common::open_table().await;
    let store_kind = table.kind();
    let latency = Duration::from_millis(args.number("store-latency-ms", 0));
    let (table, counter) = common::Meter::wrap(table, latency);
    let counter = Arc::new(counter);
    let deps = common::deps(table);
    let tz = reporting::clinic_zone(&deps, &tenant).await.unwrap_or_else(|e| common::fail(&e.to_string()));
    let to = args.date("to").unwrap_or_else(|| reporting::today(&deps, tz) - Days::days(1));
    let from = to - Days::days(365);

    let files = tempfile_dir();
    let blobs = antrean_blobs::Blobs::open(&antrean_blobs::BlobChoice::Local { dir: files.clone() }).await.unwrap_or_else(|e| common::fail(&e));
    let state = AppState { deps, config: Arc::new(ApiConfig::default()), live: antrean_live::Live::none(), blobs: blobs.store.clone(), webhooks: Arc::new(antrean_domain::webhook::http::ReqwestSender::development().unwrap_or_else(|e| common::fail(&e))) };
    let (router, _) = antrean_api::service::routes(Group::ALL).split_for_parts();
    let router = antrean_api::service::finish(router.merge(blobs.routes()), state);
    let mut bench = Bench { router, counter: counter.clone(), token: String::new() };

    let password = args.get("password").map(str::to_string).or(config.bootstrap_admin_password.clone()).unwrap_or_else(|| common::fail("set BOOTSTRAP_ADMIN_PASSWORD or --password"));
    let username = args.get("username").unwrap_or("superadmin");
    let (status, body, _) = bench
        .call("POST", "/api/auth/login", Some(serde_json::json!({"username": username, "password": password, "clinic": tenant.slug()})), None)
        .await;
    let login: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if status != StatusCode::OK {
        common::fail(&format!("sign-in failed: {status} {login}"));
    }
    bench.token = login["token"].as_str().unwrap_or_default().to_string();

    let (year, month) = (to.year(), to.month());
    let day = to.format("%Y-%m-%d");
    let range = format!("date_from={}&date_to={}", from.format("%Y-%m-%d"), to.format("%Y-%m-%d"));
    let month_range = format!("date_from={}&date_to={}", to.with_day(1).unwrap().format("%Y-%m-%d"), to.format("%Y-%m-%d"));
    let requests: Vec<(String, String)> = vec![
        ("dashboard summary (day)".into(), format!("/api/dashboard/summary?date={day}")),
        ("dashboard reservation-trend (year)".into(), format!("/api/dashboard/reservation-trend?year={year}")),
        ("dashboard reservation-trend (month)".into(), format!("/api/dashboard/reservation-trend?year={year}&month={month}")),
        ("dashboard reservations-by-poly (year)".into(), format!("/api/dashboard/reservations-by-poly?year={year}")),
        ("dashboard patient-attendance (year)".into(), format!("/api/dashboard/patient-attendance?year={year}")),
        ("dashboard average-waiting-time (year)".into(), format!("/api/dashboard/average-waiting-time?year={year}")),
        ("dashboard clinic-peak-hours (day)".into(), format!("/api/dashboard/clinic-peak-hours?date={day}")),
        ("dashboard bpjs-vs-general (year)".into(), format!("/api/dashboard/bpjs-vs-general?year={year}")),
        ("report patient-visits p1 (366 days)".into(), format!("/api/reports/patient-visits?{range}&per_page=20")),
        ("report patient-visits p2000 (366 days)".into(), format!("/api/reports/patient-visits?{range}&per_page=20&page=2000")),
        ("report patient-visits BPJS+DONE (366 d)".into(), format!("/api/reports/patient-visits?{range}&insurance_type=BPJS&status[]=DONE&per_page=20&page=500")),
        ("report no-show-cancelled (366 days)".into(), format!("/api/reports/no-show-cancelled?{range}&per_page=20")),
        ("report bpjs-vs-general (366 days)".into(), format!("/api/reports/bpjs-vs-general?{range}&per_page=20")),
        ("report poly-performance (366 days)".into(), format!("/api/reports/poly-performance?{range}&per_page=20")),
        ("report waiting-time (366 days)".into(), format!("/api/reports/waiting-time?{range}&per_page=20")),
        ("report busy-hour (366 days)".into(), format!("/api/reports/busy-hour?{range}&per_page=20")),
        ("report user-activity (month)".into(), format!("/api/reports/user-activity?{month_range}&per_page=20")),
        ("export busy-hour (366 days)".into(), format!("/api/reports/busy-hour/export?{range}")),
    ];
    println!(
        "store: {}, clinic: {}, history {from}..{to}, {runs} run(s) each (in-process router, no network), {} ms per store request",
        store_kind,
        tenant.slug(),
        latency.as_millis()
    );
    println!("{:<42} {:>10} {:>10} {:>11} {:>9} {:>9}", "request", "median", "worst", "items read", "requests", "bytes");
    for (name, path) in &requests {
        let m = match bench.measure(path, runs).await {
            Ok(m) => m,
            Err(e) => {
                println!("{name:<42} failed: {e}");
                continue;
            }
        };
        println!(
            "{name:<42} {:>8.1}ms {:>8.1}ms {:>11} {:>9} {:>9}",
            m.median.as_secs_f64() * 1000.0,
            m.worst.as_secs_f64() * 1000.0,
            m.items,
            m.requests,
            m.bytes
        );
    }

    // Building the XLSX alone: 100,000 patient-visit rows of a generated year, no store.
    let visits = history::generate(from, 366, 320, tz, 7);
    let polies = reporting::Polies { by_id: (0..3).map(|i| (i as i64 + 1, (history::POLIES[i].to_string(), true))).collect() };
    let mut list: Vec<antrean_domain::reporting::visits::Visit> = visits
        .iter()
        .take(100_000)
        .map(|v| antrean_domain::reporting::visits::Visit {
            date: v.date,
            queue_number: v.queue_number,
            patient_name: v.patient_name.clone(),
            poly_id: v.poly as i64 + 1,
            is_bpjs: v.bpjs,
            status: v.status.to_string(),
            registered_at: v.stages.registered_at,
            called_in_at: v.stages.with_doctor_at,
            wait_secs: antrean_domain::rollup::waiting_seconds(v.date, &v.stages, tz),
        })
        .collect();
    drop(visits);
    list.shrink_to_fit();
    let baseline = rss_mib().unwrap_or(0.0);
    let _ = peak_rss_mib(true);
    let start = Instant::now();
    let rows = antrean_domain::reporting::visits::rows_of(&list, &polies, tz);
    let generated_at = chrono::Utc::now().with_timezone(&tz).naive_local();
    let heading = antrean_domain::reporting::export::Heading {
        clinic: "Klinik Bench",
        kind: reporting::Kind::PatientVisits,
        filters: "Period (generated rows)",
        generated_at,
        zone: tz.name(),
    };
    let bytes = antrean_domain::reporting::export::xlsx(&heading, &rows).unwrap_or_else(|e| common::fail(&e.to_string()));
    let elapsed = start.elapsed();
    let peak = peak_rss_mib(false).unwrap_or(0.0);
    println!(
        "xlsx build of {} patient-visit rows (no store): {:.2}s, file {:.1} MiB, peak RSS {:.0} MiB (baseline {:.0} MiB, +{:.0} MiB)",
        rows.rows.len(),
        elapsed.as_secs_f64(),
        bytes.len() as f64 / 1_048_576.0,
        peak,
        baseline,
        peak - baseline
    );
    drop((rows, bytes, list));

    // The year's patient-visits export: every reservation of 366 days.
    let baseline = rss_mib().unwrap_or(0.0);
    let _ = peak_rss_mib(true);
    counter.take();
    let start = Instant::now();
    let path = format!("/api/reports/patient-visits/export?{range}");
    let (status, body, _) = bench.call("GET", &path, None, Some(&bench.token)).await;
    let elapsed = start.elapsed();
    let used = counter.take();
    let (items, reqs) = (used.items_read, used.reads());
    let peak = peak_rss_mib(false).unwrap_or(0.0);
    if status != StatusCode::OK {
        println!("export patient-visits (366 days) failed: {status} {}", String::from_utf8_lossy(&body));
        return;
    }
    let link: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let size = std::fs::read_dir(&files).ok().map(|_| dir_size(&files)).unwrap_or(0);
    println!(
        "export patient-visits (366 days): {:.2}s, {} items read in {} requests, file {:.1} MiB, peak RSS {:.0} MiB (baseline {:.0} MiB, +{:.0} MiB){}",
        elapsed.as_secs_f64(),
        items,
        reqs,
        size as f64 / 1_048_576.0,
        peak,
        baseline,
        peak - baseline,
        if link["url"].is_string() { "" } else { " (no link!)" }
    );
    let _ = std::fs::remove_dir_all(&files);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("antrean-bench-exports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| common::fail(&e.to_string()));
    dir
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            total += if p.is_dir() { dir_size(&p) } else { e.metadata().map(|m| m.len()).unwrap_or(0) };
        }
    }
    total
}
