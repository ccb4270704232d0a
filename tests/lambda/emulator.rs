//! The Lambda side: `cargo lambda watch --only-lambda-apis` (the Runtime API and the Invoke
//! API, nothing compiled) and each function's prebuilt bootstrap polling it, with the
//! environment `template.yaml` gives that function.
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::template::Template;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where the bootstraps are: `LAMBDA_BOOTSTRAPS` (a folder with `<binary>/bootstrap`, as
/// `cargo lambda build` writes, or `<binary>` files, as `cargo build` writes), else
/// `target/lambda`. A missing one fails the test: nothing here passes without running them.
pub fn bootstrap(binary: &str) -> PathBuf {
    let dir = std::env::var("LAMBDA_BOOTSTRAPS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target/lambda"));
    let dir = if dir.is_absolute() {
        dir
    } else {
        root().join(dir)
    };
    for candidate in [dir.join(binary).join("bootstrap"), dir.join(binary)] {
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "no bootstrap for `{binary}` in {}: build them first (bash infra/scripts/build-lambdas.sh, or for a quick local run \
         `cargo build -p <function>…` and LAMBDA_BOOTSTRAPS=target/debug); bash infra/scripts/lambda-events.sh does both checks",
        dir.display()
    );
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Emulator {
    pub invoke_base: String,
    http: reqwest::Client,
    _emulator: Process,
    _functions: Vec<Process>,
    pub logs: PathBuf,
}

fn log_file(dir: &Path, name: &str) -> std::fs::File {
    std::fs::File::create(dir.join(format!("{name}.log"))).expect("create a log file")
}

impl Emulator {
    /// Starts the emulator and every function of `binaries`, each with `env(binary)`.
    pub async fn start(
        template: &Template,
        binaries: &[&str],
        env: impl Fn(&str) -> Vec<(String, String)>,
    ) -> Emulator {
        let logs = root()
            .join("target/lambda-events")
            .join(crate::unique("run"));
        std::fs::create_dir_all(&logs).unwrap();
        let cargo_lambda = std::env::var("CARGO_LAMBDA")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root().join(".tools/venv/bin/cargo-lambda"));
        assert!(
            cargo_lambda.is_file(),
            "{} is missing: bash infra/scripts/install-tools.sh installs cargo-lambda",
            cargo_lambda.display()
        );
        let port = free_port();
        let emulator = Command::new(&cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--ignore-changes",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .current_dir(root())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file(&logs, "emulator"))
            .stderr(log_file(&logs, "emulator.err"))
            .spawn()
            .expect("start cargo lambda watch");
        let emulator = Process(emulator);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "cargo lambda watch did not listen on {port} (logs: {})",
                logs.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut functions = Vec::new();
        for binary in binaries {
            assert!(
                template.functions.iter().any(|f| &f.binary == binary),
                "{binary} is not a function of template.yaml"
            );
            let mut cmd = Command::new(bootstrap(binary));
            // Only what Lambda itself sets, what the template gives the function, and the
            // stand-ins' endpoints and credentials: nothing from the test's own environment.
            cmd.env_clear()
                .env(
                    "AWS_LAMBDA_RUNTIME_API",
                    format!("http://127.0.0.1:{port}/.rt/{binary}"),
                )
                .env("AWS_LAMBDA_FUNCTION_NAME", binary)
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{binary}"))
                .env("AWS_LAMBDA_LOG_STREAM_NAME", "emulated")
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_DEFAULT_REGION", "us-east-1")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .envs(env(binary))
                .stdin(Stdio::null())
                .stdout(log_file(&logs, binary))
                .stderr(log_file(&logs, &format!("{binary}.err")));
            functions
                .push(Process(cmd.spawn().unwrap_or_else(|e| {
                    panic!("start the {binary} bootstrap: {e}")
                })));
        }
        Emulator {
            invoke_base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            _emulator: emulator,
            _functions: functions,
            logs,
        }
    }

    /// Invokes `binary` with the raw event, as API Gateway or EventBridge would, and returns
    /// the function's answer (the proxy response JSON).
    pub async fn invoke(&self, binary: &str, event: &Value) -> Value {
        let url = format!(
            "{}/2015-03-31/functions/{binary}/invocations",
            self.invoke_base
        );
        let res = self
            .http
            .post(&url)
            .json(event)
            .send()
            .await
            .unwrap_or_else(|e| panic!("invoke {binary}: {e} (logs: {})", self.logs.display()));
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(
            status.is_success(),
            "invoke {binary}: {status} {text} (logs: {})",
            self.logs.display()
        );
        serde_json::from_str(&text).unwrap_or_else(|_| {
            panic!(
                "{binary} answered no JSON: {text} (logs: {})",
                self.logs.display()
            )
        })
    }
}

/// What the test stands up for `template.yaml`'s resources (by logical id) and expressions
/// (by variable name): the table, the buckets, the Management API (moto), the URLs handed out.
pub fn stand_ins(
    table: &str,
    files_bucket: &str,
    report_bucket: &str,
    moto: &str,
    secret: &str,
) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("ClinicTable", table.to_string()),
        ("FilesBucket", files_bucket.to_string()),
        ("ReportBucket", report_bucket.to_string()),
        ("JWT_SECRET", secret.to_string()),
        ("CORS_ORIGINS", crate::CORS_ORIGIN.to_string()),
        ("WS_MANAGEMENT_ENDPOINT", moto.to_string()),
        ("BOARD_WS_URL", crate::BOARD_WS_URL.to_string()),
    ])
}
