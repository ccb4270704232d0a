//! Display-board benchmark: N boards on the dev server's WebSocket, calls made through the API,
//! and the time from each API response to the last board's message.
//!
//!   cargo run --release --bin antrean-bench-boards -- [--boards 200] [--calls 50]
//!
//! It starts the dev server as a child process (this same binary, `serve`, on a fresh embedded
//! store in a temporary folder), so the memory per connection is the server's own: its resident
//! set before and after the boards connect, divided by N. Each call is
//! `PATCH /api/queue/{id}/anamnesa` for the next reservation of the day; a board has "got" the
//! call when a snapshot arrives whose `umum.last_call` is that number.
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

// Only `run` (the serve-or-bench main) is this bench's: it starts its own server.
#[allow(dead_code)]
#[path = "child.rs"]
mod child;
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "bench-admin-password-123";

struct Args {
    boards: usize,
    calls: usize,
}

fn args() -> Args {
    let mut a = Args {
        boards: 200,
        calls: 50,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match flag.as_str() {
            "--boards" => a.boards = value("--boards").max(1),
            // 0: connect the boards and measure memory only.
            "--calls" => a.calls = value("--calls"),
            "-h" | "--help" => {
                println!(
                    "antrean-bench-boards [--boards N (200)] [--calls M (50; 0: memory only)]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct Server {
    child: Child,
    base: String,
    _dir: tempfile_dir::Dir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary folder without pulling in a crate for it.
mod tempfile_dir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!(
                "antrean-bench-{}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            std::fs::create_dir_all(&p).expect("temp dir");
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn start_server() -> Server {
    let dir = tempfile_dir::Dir::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(std::env::current_exe().unwrap())
        .arg("serve")
        .env("PORT", port.to_string())
        .env("BIND", "127.0.0.1")
        .env("STORE", "embedded")
        .env("DATA_DIR", &dir.0)
        .env("BOOTSTRAP_ADMIN_PASSWORD", PASSWORD)
        .env(
            "JWT_SECRET",
            "bench-secret-that-is-long-enough-0123456789abcdef",
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the dev server");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the dev server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server {
        child,
        base,
        _dir: dir,
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn bench(a: Args) {
    let server = start_server().await;
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({"username": "superadmin", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api = Api {
        http: http.clone(),
        base: server.base.clone(),
        token: login["token"].as_str().expect("login").into(),
    };
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .format("%Y-%m-%d")
        .to_string();

    // A day at the clinic: one poly, its doctor and schedule, one reservation per call.
    api.call(
        reqwest::Method::POST,
        "/api/poly",
        json!({"name": "Poli Umum"}),
    )
    .await;
    let mut reservations = Vec::with_capacity(a.calls);
    if a.calls > 0 {
        let doctor = api
        .call(reqwest::Method::POST, "/api/users", json!({"name": "dr. Bench", "username": "dokter", "email": "dokter@bench.id",
            "password": "dokter123", "password_confirmation": "dokter123", "roles": [3], "poly_id": 1}))
        .await;
        let schedule = api
            .call(
                reqwest::Method::POST,
                "/api/schedule",
                json!({"doctor_id": doctor["data"]["id"], "date": today,
            "start_time": "00:00", "end_time": "23:59", "quota": a.calls + 10}),
            )
            .await;
        for i in 0..a.calls {
            let r = api
            .call(reqwest::Method::POST, "/api/reservation", json!({"patient_name": format!("Pasien {i}"),
                "no_bpjs": format!("{:013}", 1_000_000 + i), "whatsapp_number": format!("0812{:08}", i), "email": format!("p{i}@bench.id"),
                "poly_id": 1, "schedule_id": schedule["data"]["id"], "bpjs": true, "date": today}))
            .await;
            reservations.push((
                r["data"]["reservation"]["id"]
                    .as_i64()
                    .expect("reservation id"),
                r["data"]["queue"]["queue_number"]
                    .as_i64()
                    .expect("queue number"),
            ));
        }
    }
    let board = api
        .call(
            reqwest::Method::POST,
            "/api/boards",
            json!({"name": "bench"}),
        )
        .await;
    let ws_url = board["data"]["ws_url"].as_str().unwrap().to_string();

    let pid = server.child.id();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss_kib(pid);

    // N boards; each reports (board, last called number, when) for every snapshot.
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, i64, Instant)>();
    let connect_started = Instant::now();
    let mut handles = Vec::with_capacity(a.boards);
    for b in 0..a.boards {
        let (mut ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .expect("board connects");
        // The first snapshot comes at once.
        match ws.next().await {
            Some(Ok(Message::Text(_))) => {}
            other => panic!("board {b}: no first snapshot: {other:?}"),
        }
        let tx = tx.clone();
        handles.push(tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(t) = m {
                    let at = Instant::now();
                    let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                    if let Some(n) = v["data"]["umum"]["last_call"]["queue_number"].as_i64() {
                        let _ = tx.send((b, n, at));
                    }
                }
            }
        }));
    }
    let connect_took = connect_started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = rss_kib(pid);

    let mut from_response = Vec::with_capacity(a.calls);
    let mut from_request = Vec::with_capacity(a.calls);
    let mut api_ms = Vec::with_capacity(a.calls);
    let mut missed = 0usize;
    for (id, number) in &reservations {
        let sent = Instant::now();
        api.call(
            reqwest::Method::PATCH,
            &format!("/api/queue/{id}/anamnesa"),
            json!(null),
        )
        .await;
        let answered = Instant::now();
        api_ms.push((answered - sent).as_secs_f64() * 1000.0);
        let mut got = vec![false; a.boards];
        let mut left = a.boards;
        let mut last = answered;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while left > 0 {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((b, n, at))) if n == *number && !got[b] => {
                    got[b] = true;
                    left -= 1;
                    last = last.max(at);
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        missed += left;
        from_response.push(last.saturating_duration_since(answered).as_secs_f64() * 1000.0);
        from_request.push((last - sent).as_secs_f64() * 1000.0);
    }
    for h in handles {
        h.abort();
    }
    for v in [&mut from_response, &mut from_request, &mut api_ms] {
        v.sort_by(|x, y| x.partial_cmp(y).unwrap());
    }
    let per_conn = (rss_after.saturating_sub(rss_before)) as f64 / a.boards as f64;
    println!("boards: {}, calls: {}", a.boards, a.calls);
    println!(
        "connect {} boards (each with its first snapshot): {:.0} ms",
        a.boards,
        connect_took.as_secs_f64() * 1000.0
    );
    println!(
        "API response -> last board's message: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&from_response, 50.0),
        percentile(&from_response, 99.0),
        from_response.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "API request sent -> last board's message: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&from_request, 50.0),
        percentile(&from_request, 99.0)
    );
    println!(
        "API call itself: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&api_ms, 50.0),
        percentile(&api_ms, 99.0)
    );
    println!("boards that missed a call: {missed}");
    println!(
        "dev server memory: {:.1} MiB before, {:.1} MiB with {} boards: {:.1} KiB per connection",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        a.boards,
        per_conn
    );
}

fn main() {
    child::run(|| bench(args()));
}
