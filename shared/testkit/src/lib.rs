//! Test helpers: DynamoDB Local for the test run and fresh tables on either store.
//!
//! `DYNAMODB_ENDPOINT` names a running DynamoDB (Local) to use. Without it the first caller
//! starts DynamoDB Local from `.tools/dynamodb` (installing it with
//! `infra/scripts/dynamodb-local.sh install` when missing) on a free port. Under nextest, where
//! every test is its own process, the tests of one run share that server; a watcher shell
//! stops it when the process that owns it (the test process, or nextest) exits.
//! Nothing here skips: when DynamoDB cannot be had, the test panics and says why.
//! [`faults::FaultProxy`] puts DynamoDB's bad days (throttling, conflicts, timeouts, dropped
//! connections) between a test and that server.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use antrean_store::dynamodb::DynamoTable;
use antrean_store::embedded::EmbeddedTable;

pub mod faults;
pub mod moto;

/// The DynamoDB endpoint tests talk to: `DYNAMODB_ENDPOINT`, or a DynamoDB Local started for
/// this test run.
pub async fn dynamodb_endpoint() -> String {
    if let Some(url) = std::env::var("DYNAMODB_ENDPOINT").ok().filter(|u| !u.trim().is_empty()) {
        return url;
    }
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    if let Some(url) = ENDPOINT.get() {
        return url.clone();
    }
    tokio::task::spawn_blocking(|| ENDPOINT.get_or_init(start_local).clone())
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// A name no other test (or test run against the same endpoint) uses.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}-{:012x}", std::process::id(), rand::random::<u64>() >> 16)
}

/// A new, empty DynamoDB table created from the table resource of a SAM template.
pub async fn dynamo_table(template_yaml: &str) -> DynamoTable {
    let endpoint = dynamodb_endpoint().await;
    let name = unique_name("test");
    let table = DynamoTable::connect(Some(&endpoint), &name).await;
    match table.create_table_if_missing(template_yaml).await {
        Ok(true) => table,
        Ok(false) => panic!("table {name} already existed at {endpoint}"),
        Err(e) => panic!("could not create table {name} at {endpoint}: {e}"),
    }
}

/// A new, empty embedded store; it lives as long as the returned directory.
pub fn embedded_table() -> (EmbeddedTable, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let table = EmbeddedTable::open(dir.path()).expect("open the embedded store");
    (table, dir)
}

fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn answers(port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_millis(250)).is_ok()
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

fn start_local() -> String {
    let root = repo_root();
    let dir = root.join(".tools/dynamodb");
    if !dir.join("DynamoDBLocal.jar").is_file() || !dir.join("DynamoDBLocal_lib").is_dir() {
        let script = root.join("infra/scripts/dynamodb-local.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("install")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("DynamoDB Local is not installed and bash could not run {}: {e}", script.display()));
        if !out.status.success() {
            panic!(
                "DynamoDB Local is not installed and `{} install` failed ({}):\n{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    // One server per owner: nextest (our parent) for a nextest run, else this process.
    let owner = if std::env::var_os("NEXTEST_RUN_ID").is_some() {
        std::os::unix::process::parent_id()
    } else {
        std::process::id()
    };
    let run = dir.join("run");
    fs::create_dir_all(&run).unwrap_or_else(|e| panic!("create {}: {e}", run.display()));
    let lock_path = run.join(format!("{owner}.lock"));
    let lock = File::create(&lock_path).unwrap_or_else(|e| panic!("create {}: {e}", lock_path.display()));
    lock.lock().unwrap_or_else(|e| panic!("lock {}: {e}", lock_path.display()));

    let port_file = run.join(format!("{owner}.port"));
    if let Some(port) = fs::read_to_string(&port_file).ok().and_then(|p| p.trim().parse::<u16>().ok()) {
        if answers(port) {
            return url(port);
        }
    }
    remove_stale(&run, owner);
    let mut failures = Vec::new();
    for _ in 0..3 {
        let port = free_port();
        match spawn_local(&dir, &run, port, owner) {
            Ok(()) => {
                fs::write(&port_file, port.to_string()).unwrap_or_else(|e| panic!("write {}: {e}", port_file.display()));
                return url(port);
            }
            Err(e) => failures.push(e),
        }
    }
    panic!("could not start DynamoDB Local from {}:\n{}", dir.display(), failures.join("\n"));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("find a free port: {e}"))
}

/// Files of owners that are gone (`<pid>.lock`, `.port`, `.log`).
fn remove_stale(run: &Path, owner: u32) {
    let Ok(entries) = fs::read_dir(run) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.split('.').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != owner && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The shell runs java and stops it when the owner exits (or when java dies on its own).
const WATCHER: &str = r#"
java -Djava.library.path="$1/DynamoDBLocal_lib" -jar "$1/DynamoDBLocal.jar" -inMemory -sharedDb -port "$2" &
j=$!
trap 'kill $j 2>/dev/null' EXIT
trap 'exit 0' INT TERM HUP
while kill -0 "$3" 2>/dev/null && kill -0 "$j" 2>/dev/null; do sleep 1; done
"#;

fn spawn_local(dir: &Path, run: &Path, port: u16, owner: u32) -> Result<(), String> {
    let log_path = run.join(format!("{owner}.log"));
    let log = File::create(&log_path).map_err(|e| format!("create {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(WATCHER)
        .arg("dynamodb-local")
        .arg(dir)
        .arg(port.to_string())
        .arg(owner.to_string())
        // No pipe of ours stays open in it (nextest would wait for them), and its own process
        // group keeps a Ctrl-C meant for one test from taking down the shared server.
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("spawn bash: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if answers(port) {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!("java exited ({status}) before answering on port {port}; {}:\n{log}", log_path.display()));
        }
        if Instant::now() > deadline {
            // TERM the whole group: the watcher's EXIT trap would not run on SIGKILL.
            let _ = Command::new("kill").arg("-TERM").arg("--").arg(format!("-{}", child.id())).status();
            return Err(format!("no answer on port {port} within 60 s; see {}", log_path.display()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
