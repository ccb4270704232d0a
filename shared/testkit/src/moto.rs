//! `moto_server`, the stand-in for S3 and API Gateway's Management API: the endpoint the test
//! command exported, else one started for the caller from `.tools/venv` and stopped when the
//! returned value is dropped. Nothing here skips: without moto the test panics and says why.
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    pub endpoint: String,
    child: Option<Child>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The endpoint in `env_var` (`S3_ENDPOINT`, `MOTO_ENDPOINT`) when set, else a new moto_server
/// on a free port, waited for (blocking, at most 60 s).
pub fn moto(env_var: &str) -> Moto {
    if let Some(e) = std::env::var(env_var).ok().filter(|e| !e.trim().is_empty()) {
        return Moto {
            endpoint: e,
            child: None,
        };
    }
    let bin = super::repo_root().join(".tools/venv/bin/moto_server");
    assert!(
        bin.is_file(),
        "no {env_var}, and {} is missing: bash infra/scripts/install-tools.sh installs moto",
        bin.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let moto = Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        child: Some(child),
    };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "moto_server did not answer on port {port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}
