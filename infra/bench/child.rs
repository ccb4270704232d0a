//! What the benchmarks share: the dev server started as a child process (the bench binary
//! itself, `serve`) on a fresh store, and percentiles.
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bootstrap admin's password in every bench server.
pub const PASSWORD: &str = "bench-admin-password-123";

#[derive(Clone, Copy, PartialEq)]
pub enum StoreKind {
    Embedded,
    DynamoDb,
}

/// A temporary folder without pulling in a crate for it.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("antrean-bench-{}-{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Server {
    child: Child,
    pub base: String,
    /// On DynamoDB: the endpoint and the bench's own table, deleted at the end.
    pub dynamo: Option<(String, String)>,
    pub log: std::path::PathBuf,
    _dir: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the dev server on a fresh store with `BENCH_CAPACITY=1` and the extra environment `env`.
pub async fn start_server(store: StoreKind, env: &[(&str, String)]) -> Server {
    let dir = TempDir::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = dir.0.join("server.log");
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg("serve")
        .env("PORT", port.to_string())
        .env("BIND", "127.0.0.1")
        .env("DATA_DIR", &dir.0)
        .env("BOOTSTRAP_ADMIN_PASSWORD", PASSWORD)
        .env("JWT_SECRET", "bench-secret-that-is-long-enough-0123456789abcdef")
        .env("BENCH_CAPACITY", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("server log"));
    let dynamo = match store {
        StoreKind::Embedded => {
            cmd.env("STORE", "embedded");
            None
        }
        StoreKind::DynamoDb => {
            let endpoint = std::env::var("DYNAMODB_ENDPOINT").ok().filter(|e| !e.trim().is_empty()).unwrap_or_else(|| {
                eprintln!("--store dynamodb needs DYNAMODB_ENDPOINT, e.g. DynamoDB Local: bash infra/scripts/dynamodb-local.sh start 8000");
                std::process::exit(2)
            });
            let table = format!("antrean-bench-{}-{:08x}", std::process::id(), rand::random::<u32>());
            cmd.env("STORE", "dynamodb").env("DYNAMODB_ENDPOINT", &endpoint).env("TABLE_NAME", &table);
            Some((endpoint, table))
        }
    };
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the dev server");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/health")).send().await.is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the dev server exited ({status}): {}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the dev server did not start within 2 minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { child, base, dynamo, log, _dir: dir }
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}


impl Server {
    /// The dev server's process id (its memory is in `/proc/<pid>/status`); the soak bench's.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server and, on DynamoDB, deletes the bench's own table.
    pub async fn finish(self) {
        let dynamo = self.dynamo.clone();
        drop(self);
        if let Some((endpoint, table)) = dynamo {
            let t = antrean_store::dynamodb::DynamoTable::connect(Some(&endpoint), &table).await;
            if let Err(e) = t.delete_table().await {
                eprintln!("could not delete the bench table {table}: {e}");
            }
        }
    }
}

/// A bench binary's `main`: as `<bin> serve` it is the dev server the bench starts (from the
/// environment), else it runs the bench.
pub fn run<F: std::future::Future<Output = ()>>(bench: impl FnOnce() -> F) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if std::env::args().nth(1).as_deref() == Some("serve") {
        runtime.block_on(async {
            let config = dev_server::Config::from_env().expect("config");
            if let Err(e) = dev_server::serve(config, |_| {}).await {
                eprintln!("dev server: {e}");
                std::process::exit(1);
            }
        });
        return;
    }
    runtime.block_on(bench());
}

/// Signs in as the bench server's `superadmin`: a client and its bearer token.
pub async fn sign_in(base: &str, timeout: Duration) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder().timeout(timeout).build().expect("http client");
    let login: serde_json::Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"username": "superadmin", "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login answer");
    let token = login["token"].as_str().expect("a token").to_string();
    (http, token)
}

/// Today in the bench clinic's zone (the default, Asia/Jakarta).
pub fn clinic_today() -> String {
    chrono::Utc::now().with_timezone(&chrono_tz::Asia::Jakarta).format("%Y-%m-%d").to_string()
}
