//! Seed section "N8N Integration": after a call, the clinic's `n8n_webhook_url` gets
//! `{"current_queue":"1","status":"ANAMNESA","poly":1,…}`, signed with `n8n_webhook_secret`;
//! a failed call waits in the clinic's outbox and `retry_due` delivers it later.
//!
//! The configs go in through the Config API, as a clinic sets them; the calls are made through
//! the domain (`webhook::notify`, `webhook::retry_due`) on the app's own store until the queue
//! routes make them. The receiver is a tiny axum server on 127.0.0.1.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antrean_domain::webhook::destination::Destinations;
use antrean_domain::webhook::http::ReqwestSender;
use antrean_domain::webhook::{self, CallEvent, RetryReport, WebhookStatus};
use antrean_domain::{Clock, Deps, Tenant};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::{json, Value};

use crate::helpers::{Store, TestApp};
use crate::on_both_stores;

const SECRET: &str = "n8n-shared-secret-0123456789";

/// What the receiver answers.
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    /// Sleeps far longer than any sender's timeout, then answers 200.
    Hang,
}

#[derive(Clone)]
struct Received {
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// The receiver's answer and what it received.
type Shared = (Arc<Mutex<Answer>>, Arc<Mutex<Vec<Received>>>);

#[derive(Clone)]
struct Receiver {
    base: String,
    answer: Arc<Mutex<Answer>>,
    received: Arc<Mutex<Vec<Received>>>,
    _server: Arc<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Receiver {
    async fn start(answer: Answer) -> Receiver {
        let answer = Arc::new(Mutex::new(answer));
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = (answer.clone(), received.clone());
        let app = axum::Router::new().fallback(
            |State((answer, received)): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes| async move {
                received.lock().unwrap().push(Received {
                    path: uri.path().to_string(),
                    query: uri.query().map(str::to_string),
                    headers,
                    body,
                });
                let a = *answer.lock().unwrap();
                match a {
                    Answer::Status(s) => (StatusCode::from_u16(s).unwrap(), axum::Json(json!({"MessageSent": 3}))),
                    Answer::Hang => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        (StatusCode::OK, axum::Json(json!({"MessageSent": 3})))
                    }
                }
            },
        );
        let app = app.with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            base,
            answer,
            received,
            _server: Arc::new(AbortOnDrop(server)),
        }
    }

    fn answer(&self, a: Answer) {
        *self.answer.lock().unwrap() = a;
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Sets a config through the Config API, as the clinic's admin does.
async fn set_config(app: &TestApp, token: &str, name: &str, value: &str) {
    let r = app.post("/api/configs", token, json!({"name": name, "value": value})).await;
    assert_eq!(r.status, 200, "{name}: {r:?}");
}

fn event(n: i64) -> CallEvent {
    CallEvent {
        current_queue: n,
        status: "ANAMNESA",
        poly_id: 1,
        poly_name: "Poli Umum".into(),
        date: chrono::NaiveDate::from_ymd_opt(2025, 12, 29).unwrap(),
        room: None,
    }
}

fn sender() -> ReqwestSender {
    ReqwestSender::with_timeout(Duration::from_secs(3), Destinations::development()).unwrap()
}

/// The real clock moved ahead, so a queued retry is due without waiting for it.
pub struct Later(pub Duration);
impl Clock for Later {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.0
    }
}

pub fn later(deps: &Deps, by: Duration) -> Deps {
    Deps {
        clock: Arc::new(Later(by)),
        ..deps.clone()
    }
}

fn clinic(slug: &str) -> Tenant {
    Tenant::parse(slug).unwrap()
}

async fn webhook_delivers_the_seed_body_signed(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let rx = Receiver::start(Answer::Status(200)).await;
    let url = format!("{}/webhook-test/a2158f48-99c8-4904-812a-01c1fa325974?source=antrean", rx.base);
    set_config(&app, &t, "n8n_webhook_url", &url).await;
    set_config(&app, &t, "n8n_webhook_secret", SECRET).await;
    let deps = app.deps().await;

    let out = webhook::notify(&deps, &sender(), &clinic("default"), &event(1)).await;
    assert_eq!(
        (out.status, out.message.as_str()),
        (WebhookStatus::Success, "n8n webhook delivered (HTTP 200)")
    );
    let got = rx.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(
        (r.path.as_str(), r.query.as_deref()),
        ("/webhook-test/a2158f48-99c8-4904-812a-01c1fa325974", Some("source=antrean"))
    );
    // The seed's three fields first, exactly as it writes them, then the extras.
    let event_id = r.json()["event_id"].as_str().unwrap().to_string();
    assert_eq!(
        std::str::from_utf8(&r.body).unwrap(),
        format!(
            r#"{{"current_queue":"1","status":"ANAMNESA","poly":1,"poly_name":"Poli Umum","date":"2025-12-29","clinic":"default","event_id":"{event_id}"}}"#
        )
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("user-agent").unwrap().starts_with("antrean-webhook/"));
    assert_eq!(r.header("x-antrean-event-id"), Some(event_id.as_str()));
    assert_eq!(r.header("x-antrean-attempt"), Some("1"));
    // What n8n does: HMAC-SHA256 of the raw body with the shared secret, compared to the header.
    let sig = r.header("x-antrean-signature").unwrap();
    assert_eq!(sig, webhook::signature(SECRET, &r.body));
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
    assert!(webhook::verify_signature(SECRET, &r.body, sig));
    assert!(!webhook::verify_signature("some-other-secret-0123", &r.body, sig));
    // Each call is its own event.
    webhook::notify(
        &deps,
        &sender(),
        &clinic("default"),
        &CallEvent {
            status: "WITH_DOCTOR",
            ..event(2)
        },
    )
    .await;
    let second = rx.received()[1].json();
    assert_eq!(
        (second["current_queue"].clone(), second["status"].clone()),
        (json!("2"), json!("WITH_DOCTOR"))
    );
    assert_ne!(second["event_id"], json!(event_id));
    assert!(webhook::outbox(&deps, &clinic("default")).await.unwrap().is_empty());
}

async fn webhook_without_a_url_is_skipped(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    // A secret alone sends nothing.
    set_config(&app, &t, "n8n_webhook_secret", SECRET).await;
    let deps = app.deps().await;
    let out = webhook::notify(&deps, &sender(), &clinic("default"), &event(1)).await;
    assert_eq!(out.status, WebhookStatus::Skipped, "{out:?}");
    assert!(webhook::outbox(&deps, &clinic("default")).await.unwrap().is_empty());
    assert_eq!(
        webhook::retry_due(&later(&deps, Duration::from_secs(600)), &sender()).await.unwrap(),
        RetryReport::default()
    );
}

async fn webhook_failure_is_queued_and_retried_once(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let rx = Receiver::start(Answer::Status(500)).await;
    let url = format!("{}/hook?token=query-secret-value", rx.base);
    set_config(&app, &t, "n8n_webhook_url", &url).await;
    set_config(&app, &t, "n8n_webhook_secret", SECRET).await;
    let deps = app.deps().await;
    let tenant = clinic("default");

    let out = webhook::notify(&deps, &sender(), &tenant, &event(1)).await;
    assert_eq!(
        (out.status, out.message.as_str()),
        (WebhookStatus::Error, "n8n webhook failed (HTTP 500); queued for retry")
    );
    let pending = webhook::outbox(&deps, &tenant).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].attempts, 1);
    // Not due yet.
    assert_eq!(webhook::retry_due(&deps, &sender()).await.unwrap(), RetryReport::default());

    // Still down at the first retry: it stays, one attempt more.
    let soon = later(&deps, Duration::from_secs(60));
    assert_eq!(
        webhook::retry_due(&soon, &sender()).await.unwrap(),
        RetryReport {
            failed: 1,
            ..Default::default()
        }
    );
    let pending = webhook::outbox(&deps, &tenant).await.unwrap();
    assert_eq!(
        (pending.len(), pending[0].attempts, pending[0].last_error.as_deref()),
        (1, 2, Some("HTTP 500"))
    );

    // The receiver recovers; two workers run at the same moment: one delivery.
    rx.answer(Answer::Status(200));
    let after = later(&deps, Duration::from_secs(600));
    let (one, two) = (sender(), sender());
    let (a, b) = tokio::join!(webhook::retry_due(&after, &one), webhook::retry_due(&after, &two));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.delivered + b.delivered, a.failed + b.failed, a.expired + b.expired),
        (1, 0, 0),
        "{a:?} {b:?}"
    );
    assert!(webhook::outbox(&deps, &tenant).await.unwrap().is_empty());
    let got = rx.received();
    assert_eq!(got.len(), 3);
    assert!(got
        .iter()
        .all(|r| r.body == got[0].body && r.header("x-antrean-event-id") == got[0].header("x-antrean-event-id")));
    assert_eq!(
        got.iter().map(|r| r.header("x-antrean-attempt").unwrap()).collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    assert!(webhook::verify_signature(
        SECRET,
        &got[2].body,
        got[2].header("x-antrean-signature").unwrap()
    ));
    // Nothing left to send, however late.
    assert_eq!(
        webhook::retry_due(&later(&deps, Duration::from_secs(7200)), &sender()).await.unwrap(),
        RetryReport::default()
    );
    assert_eq!(rx.received().len(), 3);
}

async fn webhook_receiver_that_never_answers_times_out(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let rx = Receiver::start(Answer::Hang).await;
    let url = format!("{}/hook?token=query-secret-value", rx.base);
    set_config(&app, &t, "n8n_webhook_url", &url).await;
    set_config(&app, &t, "n8n_webhook_secret", SECRET).await;
    let deps = app.deps().await;
    let quick = ReqwestSender::with_timeout(Duration::from_millis(300), Destinations::development()).unwrap();

    let out = webhook::notify(&deps, &quick, &clinic("default"), &event(1)).await;
    assert_eq!(
        (out.status, out.message.as_str()),
        (WebhookStatus::Error, "n8n webhook failed (timed out after 300 ms); queued for retry")
    );
    assert!(!out.message.contains(&rx.base) && !out.message.contains("query-secret-value") && !out.message.contains(SECRET));
    assert_eq!(webhook::outbox(&deps, &clinic("default")).await.unwrap().len(), 1);
    assert_eq!(rx.received().len(), 1);
}

async fn webhook_events_stay_in_their_clinic(store: Store) {
    let app = TestApp::spawn(store).await;
    let rx = Receiver::start(Answer::Status(200)).await;
    let admin = app.admin_token().await;
    set_config(&app, &admin, "n8n_webhook_url", &format!("{}/default", rx.base)).await;
    let sehat = app.new_clinic("sehat").await;
    set_config(&app, &sehat, "n8n_webhook_url", &format!("{}/sehat", rx.base)).await;
    app.new_clinic("kosong").await;
    let deps = app.deps().await;

    assert_eq!(
        webhook::notify(&deps, &sender(), &clinic("sehat"), &event(7)).await.status,
        WebhookStatus::Success
    );
    // A clinic without a URL never borrows another's.
    assert_eq!(
        webhook::notify(&deps, &sender(), &clinic("kosong"), &event(8)).await.status,
        WebhookStatus::Skipped
    );
    let got = rx.received();
    assert_eq!(
        got.iter().map(|r| (r.path.as_str(), r.json()["clinic"].clone())).collect::<Vec<_>>(),
        [("/sehat", json!("sehat"))]
    );

    // Failed deliveries are retried to their own clinic's URL only.
    rx.answer(Answer::Status(503));
    assert_eq!(
        webhook::notify(&deps, &sender(), &clinic("default"), &event(1)).await.status,
        WebhookStatus::Error
    );
    assert_eq!(
        webhook::notify(&deps, &sender(), &clinic("sehat"), &event(2)).await.status,
        WebhookStatus::Error
    );
    assert_eq!(webhook::outbox(&deps, &clinic("kosong")).await.unwrap().len(), 0);
    rx.answer(Answer::Status(200));
    let report = webhook::retry_due(&later(&deps, Duration::from_secs(600)), &sender()).await.unwrap();
    assert_eq!(
        report,
        RetryReport {
            delivered: 2,
            ..Default::default()
        }
    );
    for r in rx.received() {
        let clinic = r.json()["clinic"].as_str().unwrap().to_string();
        assert_eq!(r.path, format!("/{clinic}"));
    }
    assert_eq!(rx.received().len(), 5);
}

on_both_stores!(
    webhook_delivers_the_seed_body_signed,
    webhook_without_a_url_is_skipped,
    webhook_failure_is_queued_and_retried_once,
    webhook_receiver_that_never_answers_times_out,
    webhook_events_stay_in_their_clinic,
);
