//! The real binary's logs: structured JSON with request id and clinic, and never a password,
//! a sign-in token or an API key.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn logs_are_json_with_request_id_and_clinic_and_carry_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let password = "very-secret-password-42";
    let mut child = Command::new(env!("CARGO_BIN_EXE_antrean"))
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .env("DATA_DIR", dir.path())
        .env("PORT", port.to_string())
        .env("BOOTSTRAP_ADMIN_PASSWORD", password)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the dev server binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/health")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the dev server did not come up");

    let login: Value = client.post(format!("{base}/api/auth/login")).json(&json!({"username": "superadmin", "password": password})).send().await.unwrap().json().await.unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let _ = client.post(format!("{base}/api/auth/login")).json(&json!({"username": "superadmin", "password": "wrong-but-secret"})).send().await.unwrap();
    let key: Value = client.post(format!("{base}/api/auth/permanent-token")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let api_key = key["data"]["token"].as_str().unwrap().to_string();
    let _ = client.get(format!("{base}/api/poly?token={token}")).bearer_auth(&api_key).send().await.unwrap();
    child.kill().unwrap();

    let mut lines = Vec::new();
    for stream in [child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read>), child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read>)].into_iter().flatten() {
        lines.extend(BufReader::new(stream).lines().map_while(Result::ok));
    }
    let all = lines.join("\n");
    for secret in [password, "wrong-but-secret", token.as_str(), api_key.as_str(), &api_key[api_key.rfind('|').unwrap() + 1..]] {
        assert!(!all.contains(secret), "a secret reached the log:\n{all}");
    }
    let requests: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["span"]["name"] == "request" && v["fields"]["message"] == "finished processing request")
        .collect();
    assert!(requests.len() >= 4, "one JSON line per request expected:\n{all}");
    for r in &requests {
        assert!(r["span"]["request_id"].as_str().is_some_and(|id| id.len() >= 32), "{r}");
    }
    assert!(requests.iter().any(|r| r["span"]["path"] == "/api/poly" && r["span"]["clinic"] == "default"), "{all}");
}
