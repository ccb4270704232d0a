//! A fake BPJS (antrean RS / FKTP) for the tests: an HTTP server on a free port that checks
//! every call's signature headers as BPJS does (a wrong one is refused with metadata code
//! 401), answers the reference lists encrypted as BPJS does (AES-256-CBC of LZ-string,
//! keyed by the call's own timestamp), records every call, and answers from a script so that
//! tests can make it fail (HTTP 503), say "already there" (208) or refuse for good (201).
#![allow(dead_code)]
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use antrean_domain::bpjs::crypto;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Value};

/// Obviously fake credentials.
pub const CONS_ID: &str = "fake-cons-0001";
pub const SECRET: &str = "fake-secret-not-real-0001";
pub const USER_KEY: &str = "fake-user-key-not-real-0001";

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Answer {
    /// HTTP 200, metadata 200 "Ok".
    Ok,
    /// That HTTP status with no BPJS body.
    Http(u16),
    /// HTTP 200 with this metadata code and message.
    Meta(i64, &'static str),
    /// "Ok", after this many ms (a slow BPJS).
    Slow(u64),
}

#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// After the service name: `antrean/add`, `ref/poli`, …
    pub path: String,
    pub body: Value,
    /// The signature headers were right.
    pub signed: bool,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    script: HashMap<String, VecDeque<Answer>>,
}

#[derive(Clone)]
pub struct FakeBpjs {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    server: Arc<tokio::task::JoinHandle<()>>,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn signed(h: &HeaderMap) -> Option<i64> {
    let ts: i64 = header(h, "x-timestamp").parse().ok()?;
    // Within two hours: the tests' "an hour later" runs sign with their later clock.
    let fresh = (chrono::Utc::now().timestamp() - ts).abs() <= 2 * 3600;
    (header(h, "x-cons-id") == CONS_ID && header(h, "user_key") == USER_KEY && fresh && crypto::verify_signature(CONS_ID, SECRET, ts, header(h, "x-signature")))
        .then_some(ts)
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((_service, path)): Path<(String, String)>,
    method: axum::http::Method,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let ts = signed(&h);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = {
        let mut i = inner.lock().unwrap();
        i.calls.push(Call {
            method: method.to_string(),
            path: path.clone(),
            body,
            signed: ts.is_some(),
        });
        i.script
            .get_mut(&path)
            .and_then(|q| if q.len() > 1 { q.pop_front() } else { q.front().cloned() })
            .unwrap_or(Answer::Ok)
    };
    let Some(ts) = ts else {
        return Json(json!({"metadata": {"code": 401, "message": "Authentication failed"}})).into_response();
    };
    if let Answer::Slow(ms) = answer {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    match answer {
        Answer::Http(code) => (StatusCode::from_u16(code).unwrap(), "upstream unavailable").into_response(),
        Answer::Meta(code, message) => Json(json!({"metadata": {"code": code, "message": message}})).into_response(),
        Answer::Ok | Answer::Slow(_) => {
            let list = match path.as_str() {
                p if p.starts_with("ref/poli") => Some(json!([
                    {"nmpoli": "ANAK", "nmsubspesialis": "ANAK", "kdsubspesialis": "ANA", "kdpoli": "ANA"},
                    {"nmpoli": "PENYAKIT DALAM", "nmsubspesialis": "PENYAKIT DALAM", "kdsubspesialis": "INT", "kdpoli": "INT"},
                ])),
                p if p.starts_with("ref/dokter") => {
                    Some(json!([{"namadokter": "dr. Harris", "kodedokter": 12345}, {"namadokter": "dr. Lain", "kodedokter": 54321}]))
                }
                _ => None,
            };
            match list {
                Some(l) => Json(json!({"response": crypto::encrypt_response(CONS_ID, SECRET, ts, &l.to_string()), "metadata": {"code": 200, "message": "Ok"}}))
                    .into_response(),
                None => Json(json!({"metadata": {"code": 200, "message": "Ok"}})).into_response(),
            }
        }
    }
}

impl FakeBpjs {
    pub async fn start() -> FakeBpjs {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().route("/{service}/{*path}", any(handle)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeBpjs {
            url,
            inner,
            server: Arc::new(server),
        }
    }

    /// Answers for calls to `path`, in turn; the last one stays.
    pub fn script(&self, path: &str, answers: Vec<Answer>) {
        self.inner.lock().unwrap().script.insert(path.into(), answers.into());
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// The calls other than reference lists.
    pub fn events(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| !c.path.starts_with("ref/")).collect()
    }
}

impl Drop for FakeBpjs {
    fn drop(&mut self) {
        if Arc::strong_count(&self.server) == 1 {
            self.server.abort();
        }
    }
}
