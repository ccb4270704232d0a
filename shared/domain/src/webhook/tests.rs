use std::sync::{Arc, Mutex};

use super::*;
use crate::audit::Actor;
use crate::configuration::config::Config;
use crate::record;
use crate::Clock;

type Call = (String, Vec<u8>, Vec<(String, String)>);

/// Answers from a script (then the last answer again) and records every call.
struct Fake {
    answers: Mutex<Vec<Result<u16, String>>>,
    calls: Mutex<Vec<Call>>,
}

impl Fake {
    fn new(answers: Vec<Result<u16, String>>) -> Arc<Fake> {
        Arc::new(Fake {
            answers: Mutex::new(answers),
            calls: Mutex::new(vec![]),
        })
    }
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl WebhookSender for Fake {
    async fn post(&self, url: &str, body: Vec<u8>, headers: Vec<(String, String)>) -> Result<u16, String> {
        self.calls.lock().unwrap().push((url.to_string(), body, headers));
        tokio::task::yield_now().await;
        let mut a = self.answers.lock().unwrap();
        if a.len() > 1 {
            a.remove(0)
        } else {
            a[0].clone()
        }
    }
}

/// A clock the test moves.
struct At(Mutex<DateTime<Utc>>);
impl crate::Clock for At {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

struct World {
    deps: Deps,
    clock: Arc<At>,
    _dir: tempfile::TempDir,
}

impl World {
    fn advance(&self, by: Duration) {
        let mut t = self.clock.0.lock().unwrap();
        *t += by;
    }
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(At(Mutex::new(
        DateTime::parse_from_rfc3339("2025-12-29T02:00:00Z").unwrap().with_timezone(&Utc),
    )));
    let deps = crate::test_deps(dir.path(), clock.clone());
    World { deps, clock, _dir: dir }
}

/// A clinic in the platform listing (what `retry_due` walks), with the given configs.
async fn clinic(deps: &Deps, slug: &str, configs: &[(&str, &str)]) -> Tenant {
    let tenant = Tenant::parse(slug).unwrap();
    let listing = json!({"pk": "PLATFORM#CLINICS", "sk": slug, "slug": slug, "name": slug, "timezone": "Asia/Jakarta", "created_at": "x"});
    deps.table.write(vec![Op::put(listing.as_object().unwrap().clone())]).await.unwrap();
    for (name, value) in configs {
        let c = Config::parse(&json!({"name": name, "value": value})).unwrap();
        record::create(deps, &tenant, &Actor::system("test"), c, |_| vec![]).await.unwrap();
    }
    tenant
}

fn event() -> CallEvent {
    CallEvent {
        current_queue: 1,
        status: "ANAMNESA",
        poly_id: 1,
        poly_name: "Poli Umum".into(),
        date: chrono::NaiveDate::from_ymd_opt(2025, 12, 29).unwrap(),
        room: None,
    }
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

const URL: &str = "https://n8n.example.com/webhook/a2158f48?token=q-secret";
const SECRET: &str = "s3cret-s3cret-s3cret";

#[tokio::test]
async fn success_sends_the_seed_body_signed() {
    let w = world().await;
    let t = clinic(&w.deps, "sehat", &[("n8n_webhook_url", URL), ("n8n_webhook_secret", SECRET)]).await;
    let fake = Fake::new(vec![Ok(200)]);
    let out = notify(&w.deps, fake.as_ref(), &t, &event()).await;
    assert_eq!(out, Outcome::success("n8n webhook delivered (HTTP 200)"));
    let calls = fake.calls();
    assert_eq!(calls.len(), 1);
    let (url, body, headers) = &calls[0];
    assert_eq!(url, URL);
    let v: Value = serde_json::from_slice(body).unwrap();
    let event_id = v["event_id"].as_str().unwrap().to_string();
    assert_eq!(
        String::from_utf8(body.clone()).unwrap(),
        format!(
            r#"{{"current_queue":"1","status":"ANAMNESA","poly":1,"poly_name":"Poli Umum","date":"2025-12-29","clinic":"sehat","event_id":"{event_id}"}}"#
        )
    );
    assert_eq!(header(headers, EVENT_ID_HEADER), Some(event_id.as_str()));
    assert_eq!(header(headers, ATTEMPT_HEADER), Some("1"));
    assert_eq!(header(headers, "content-type"), Some("application/json"));
    assert!(header(headers, "user-agent").unwrap().starts_with("antrean-webhook/"));
    let sig = header(headers, SIGNATURE_HEADER).unwrap();
    assert!(verify_signature(SECRET, body, sig));
    assert!(!verify_signature("another-secret-entirely", body, sig));
    assert!(outbox(&w.deps, &t).await.unwrap().is_empty());
}

#[tokio::test]
async fn without_a_url_nothing_is_sent_and_without_a_secret_nothing_is_signed() {
    let w = world().await;
    let none = clinic(&w.deps, "kosong", &[]).await;
    let fake = Fake::new(vec![Ok(200)]);
    assert_eq!(notify(&w.deps, fake.as_ref(), &none, &event()).await.status, WebhookStatus::Skipped);
    assert!(fake.calls().is_empty());
    let plain = clinic(&w.deps, "polos", &[("n8n_webhook_url", URL)]).await;
    assert_eq!(notify(&w.deps, fake.as_ref(), &plain, &event()).await.status, WebhookStatus::Success);
    assert_eq!(header(&fake.calls()[0].2, SIGNATURE_HEADER), None);
}

#[tokio::test]
async fn a_failure_is_queued_retried_with_backoff_and_delivered_once() {
    let w = world().await;
    let t = clinic(&w.deps, "sehat", &[("n8n_webhook_url", URL), ("n8n_webhook_secret", SECRET)]).await;
    let fake = Fake::new(vec![
        Ok(500),
        Err(format!("error sending request for url ({URL}) with {SECRET}")),
        Ok(204),
    ]);
    let out = notify(&w.deps, fake.as_ref(), &t, &event()).await;
    assert_eq!(out, Outcome::error("n8n webhook failed (HTTP 500); queued for retry"));
    let pending = outbox(&w.deps, &t).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].attempts, 1);
    let wait = pending[0].due_at - w.clock.now();
    assert!(wait >= chrono::Duration::seconds(24) && wait <= chrono::Duration::seconds(30), "{wait}");

    // Not due yet: nothing happens.
    assert!(retry_due(&w.deps, fake.as_ref()).await.unwrap().is_empty());
    w.advance(Duration::from_secs(31));
    assert_eq!(
        retry_due(&w.deps, fake.as_ref()).await.unwrap(),
        RetryReport {
            failed: 1,
            ..Default::default()
        }
    );
    let pending = outbox(&w.deps, &t).await.unwrap();
    assert_eq!(pending[0].attempts, 2);
    // The sender's reason reaches the outbox without the URL, its query or the secret.
    let err = pending[0].last_error.clone().unwrap();
    assert!(!err.contains(URL) && !err.contains("q-secret") && !err.contains(SECRET), "{err}");
    assert!(err.contains("n8n.example.com"), "{err}");
    let wait = pending[0].due_at - w.clock.now();
    assert!(wait >= chrono::Duration::seconds(48) && wait <= chrono::Duration::seconds(60), "{wait}");

    w.advance(Duration::from_secs(61));
    assert_eq!(
        retry_due(&w.deps, fake.as_ref()).await.unwrap(),
        RetryReport {
            delivered: 1,
            ..Default::default()
        }
    );
    assert!(outbox(&w.deps, &t).await.unwrap().is_empty());
    let calls = fake.calls();
    assert_eq!(calls.len(), 3);
    // Every attempt sends the same bytes with the same event id; the attempt number grows.
    assert!(calls
        .iter()
        .all(|c| c.1 == calls[0].1 && header(&c.2, EVENT_ID_HEADER) == header(&calls[0].2, EVENT_ID_HEADER)));
    assert_eq!(
        calls.iter().map(|c| header(&c.2, ATTEMPT_HEADER).unwrap()).collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    assert!(verify_signature(SECRET, &calls[2].1, header(&calls[2].2, SIGNATURE_HEADER).unwrap()));
    w.advance(Duration::from_secs(3600));
    assert!(retry_due(&w.deps, fake.as_ref()).await.unwrap().is_empty());
    assert_eq!(fake.calls().len(), 3);
}

#[tokio::test]
async fn two_workers_at_once_send_a_delivery_once() {
    let w = world().await;
    let t = clinic(&w.deps, "sehat", &[("n8n_webhook_url", URL)]).await;
    let fake = Fake::new(vec![Err("timed out after 3 s".into()), Ok(200)]);
    assert_eq!(
        notify(&w.deps, fake.as_ref(), &t, &event()).await,
        Outcome::error("n8n webhook failed (timed out after 3 s); queued for retry")
    );
    w.advance(Duration::from_secs(40));
    let (a, b) = tokio::join!(retry_due(&w.deps, fake.as_ref()), retry_due(&w.deps, fake.as_ref()));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.delivered + b.delivered, 1, "{a:?} {b:?}");
    assert_eq!(fake.calls().len(), 2);
    assert!(outbox(&w.deps, &t).await.unwrap().is_empty());
}

#[tokio::test]
async fn deliveries_expire_after_a_day_and_stay_in_their_clinic() {
    let w = world().await;
    let a = clinic(&w.deps, "klinik-a", &[("n8n_webhook_url", "https://a.example.com/hook")]).await;
    let b = clinic(&w.deps, "klinik-b", &[("n8n_webhook_url", "https://b.example.com/hook")]).await;
    let fake = Fake::new(vec![Ok(503)]);
    notify(&w.deps, fake.as_ref(), &a, &event()).await;
    notify(&w.deps, fake.as_ref(), &b, &event()).await;
    assert_eq!(
        (outbox(&w.deps, &a).await.unwrap().len(), outbox(&w.deps, &b).await.unwrap().len()),
        (1, 1)
    );
    w.advance(Duration::from_secs(3600));
    assert_eq!(
        retry_due(&w.deps, fake.as_ref()).await.unwrap(),
        RetryReport {
            failed: 2,
            ..Default::default()
        }
    );
    let calls = fake.calls();
    for (url, body, _) in &calls {
        let clinic = serde_json::from_slice::<Value>(body).unwrap()["clinic"].as_str().unwrap().to_string();
        assert_eq!(url, &format!("https://{}.example.com/hook", &clinic["klinik-".len()..]));
    }
    w.advance(GIVE_UP_AFTER);
    assert_eq!(
        retry_due(&w.deps, fake.as_ref()).await.unwrap(),
        RetryReport {
            expired: 2,
            ..Default::default()
        }
    );
    assert!(outbox(&w.deps, &a).await.unwrap().is_empty() && outbox(&w.deps, &b).await.unwrap().is_empty());
    assert_eq!(fake.calls().len(), 4);
}

#[test]
fn backoff_doubles_with_jitter_up_to_the_cap() {
    for _ in 0..50 {
        for (n, full) in [(1, 30), (2, 60), (3, 120), (4, 240), (7, 1800), (8, 1800), (40, 1800)] {
            let d = backoff(n).as_secs_f64();
            assert!(d <= full as f64 && d >= full as f64 * 0.8, "{n}: {d}");
        }
    }
}

#[test]
fn reasons_name_no_url_query_or_secret() {
    let r = safe_reason(&format!("error sending request for url ({URL}): {SECRET}"), URL, Some(SECRET));
    assert_eq!(r, "error sending request for url (n8n.example.com): [redacted]");
    let long = "x".repeat(500);
    assert!(safe_reason(&long, URL, None).chars().count() <= MAX_REASON_CHARS + 1);
    // RFC 4231-style known vector.
    assert_eq!(
        signature("key", b"The quick brown fox jumps over the lazy dog"),
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
}
