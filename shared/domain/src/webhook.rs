//! The n8n webhook: after a number is called to a stage (anamnesa, the doctor), the clinic's
//! `n8n_webhook_url` gets a POST with the seed's body, so n8n can message the patients.
//!
//! - Body: the seed's `{"current_queue":"1","status":"ANAMNESA","poly":1}` plus `poly_name`,
//!   `date`, `clinic` and `event_id` (unique per call, the same on every retry, so n8n can
//!   de-duplicate).
//! - With the config `n8n_webhook_secret`: `X-Antrean-Signature: sha256=<hex HMAC-SHA256 of the
//!   exact body bytes>`. Always `X-Antrean-Event-Id`, `X-Antrean-Attempt` and a `User-Agent`.
//! - A failed call (transport error or non-2xx) is kept in the clinic's outbox,
//!   `T#<clinic>#OUTBOX` / `<due ms, 13 digits>#<event id>`, so the due ones are one Query with
//!   a sort-key range. `retry_due` (a scheduled Lambda, the dev server's background task)
//!   retries them with exponential backoff and jitter (about 30 s, 1 min, 2 min … at most
//!   30 min apart) until 24 h after the call, then drops them (the TTL attribute sweeps any
//!   left behind).
//! - A retry first *moves* the item to its next due time in one conditional write (delete the
//!   old key only if its attempt count is still the one read, put the new one): of two workers
//!   reading the same item, one wins the move and sends, the other skips it. A worker that dies
//!   mid-send leaves the item due at its next time: at least once, never twice at one moment.
//!
//! The URL and the secret are read from the clinic's configs at each send (a changed URL is
//! used at once; the outbox stores neither). Messages and logs name the host at most.
use std::time::Duration;

use antrean_store::{is_expired, Condition, Item, Key, Op, Query, SortKey, StoreError, Update, TTL_ATTRIBUTE};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::error::DomainResult;
use crate::tenant::Tenant;
use crate::{clinic, Deps};

pub mod destination;
pub mod http;

/// Sends HTTP POSTs; the cloud and dev server use a reqwest adapter with a 3-second timeout.
#[async_trait::async_trait]
pub trait WebhookSender: Send + Sync {
    /// POSTs `body` (JSON) with `headers`; Ok(HTTP status) when a response came back, Err(short reason) otherwise.
    async fn post(&self, url: &str, body: Vec<u8>, headers: Vec<(String, String)>) -> Result<u16, String>;

    /// Any method, with the response body (BPJS answers in it); Err(short reason) when no
    /// response came back. Senders that only POST answer with an empty body.
    async fn request(&self, method: &str, url: &str, body: Option<Vec<u8>>, headers: Vec<(String, String)>) -> Result<(u16, Vec<u8>), String> {
        match method {
            "POST" => Ok((self.post(url, body.unwrap_or_default(), headers).await?, Vec::new())),
            _ => Err(format!("{method} is not supported by this sender")),
        }
    }

    /// Why this sender would never send to `url` (see `destination`), checked when a clinic
    /// saves its webhook URL. Senders that never leave the process refuse nothing.
    fn refusal(&self, _url: &str) -> Option<&'static str> {
        None
    }
}

/// What the queue engine reports: a number called to a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    pub current_queue: i64,
    /// "ANAMNESA" or "WITH_DOCTOR"
    pub status: &'static str,
    pub poly_id: i64,
    pub poly_name: String,
    pub date: chrono::NaiveDate,
    /// The room called to ("Ruang 2"), when the call named one: sent as `room`.
    pub room: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookStatus {
    Success,
    Error,
    Skipped,
}

/// The response's `webhook_status` and `webhook_message`.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: WebhookStatus,
    pub message: String,
}

impl Outcome {
    pub fn success(message: impl Into<String>) -> Self {
        Outcome {
            status: WebhookStatus::Success,
            message: message.into(),
        }
    }
    pub fn error(message: impl Into<String>) -> Self {
        Outcome {
            status: WebhookStatus::Error,
            message: message.into(),
        }
    }
    pub fn skipped(message: impl Into<String>) -> Self {
        Outcome {
            status: WebhookStatus::Skipped,
            message: message.into(),
        }
    }
}

/// What one `retry_due` run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RetryReport {
    /// Retried and answered 2xx: gone from the outbox.
    pub delivered: usize,
    /// Retried and failed again: due again later.
    pub failed: usize,
    /// Older than `GIVE_UP_AFTER` (or the clinic removed its webhook URL): dropped unsent.
    pub expired: usize,
}

impl RetryReport {
    pub fn is_empty(&self) -> bool {
        *self == RetryReport::default()
    }
    pub(crate) fn add(&mut self, other: RetryReport) {
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.expired += other.expired;
    }
}

pub const SIGNATURE_HEADER: &str = "X-Antrean-Signature";
pub const EVENT_ID_HEADER: &str = "X-Antrean-Event-Id";
/// 1 for the call itself, 2 for the first retry, …
pub const ATTEMPT_HEADER: &str = "X-Antrean-Attempt";
pub const USER_AGENT: &str = concat!("antrean-webhook/", env!("CARGO_PKG_VERSION"));
/// The adapter's total timeout per POST.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// The delay before the first retry; it doubles per failure up to `MAX_BACKOFF`.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(30);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30 * 60);
/// A delivery not made within this long of the call is dropped.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

const OUTBOX: &str = "OUTBOX";
/// Due items one clinic retries per run; the rest wait for the next run.
const RETRY_BATCH: usize = 50;
/// POSTs in flight at once during a retry run.
const PARALLEL_SENDS: usize = 8;
/// A run starts no new clinic after this long (the scheduled Lambda has 60 s; one clinic's
/// batch takes at most `RETRY_BATCH / PARALLEL_SENDS` timeouts).
const RUN_BUDGET: Duration = Duration::from_secs(30);
/// Longest message a sender's reason may put into a response.
const MAX_REASON_CHARS: usize = 120;

/// `sha256=<hex HMAC-SHA256(secret, body)>`: the value of `X-Antrean-Signature`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// True when `header` is the signature of `body` under `secret` (compared in constant time):
/// what a receiver does.
pub fn verify_signature(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(sig) = header.trim().strip_prefix("sha256=").and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The POST body, key order as in the seed; the extra fields follow its three.
pub fn body(tenant: &Tenant, event: &CallEvent, event_id: &str) -> Vec<u8> {
    let mut body = json!({
        "current_queue": event.current_queue.to_string(),
        "status": event.status,
        "poly": event.poly_id,
        "poly_name": event.poly_name,
        "date": event.date.format("%Y-%m-%d").to_string(),
        "clinic": tenant.slug(),
        "event_id": event_id,
    });
    if let Some(room) = &event.room {
        body["room"] = json!(room);
    }
    serde_json::to_vec(&body).expect("a JSON object serialises")
}

fn headers(event_id: &str, attempt: i64, secret: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
    let mut h = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("User-Agent".to_string(), USER_AGENT.to_string()),
        (EVENT_ID_HEADER.to_string(), event_id.to_string()),
        (ATTEMPT_HEADER.to_string(), attempt.to_string()),
    ];
    if let Some(s) = secret {
        h.push((SIGNATURE_HEADER.to_string(), signature(s, body)));
    }
    h
}

/// The host of a URL, for logs and messages (never the path, query or credentials).
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// A sender's reason made safe for a response: no URL, no query, no secret, short.
fn safe_reason(reason: &str, url: &str, secret: Option<&str>) -> String {
    let mut r = reason.replace(url, &host_of(url));
    if let Some(q) = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.query().map(str::to_string))
        .filter(|q| !q.is_empty())
    {
        r = r.replace(&q, "…");
    }
    if let Some(s) = secret.filter(|s| !s.is_empty()) {
        r = r.replace(s, "[redacted]");
    }
    let r = r.trim();
    if r.chars().count() > MAX_REASON_CHARS {
        format!("{}…", r.chars().take(MAX_REASON_CHARS).collect::<String>())
    } else if r.is_empty() {
        "request failed".into()
    } else {
        r.to_string()
    }
}

/// One POST: Ok(()) on 2xx, else the safe reason.
async fn send(sender: &dyn WebhookSender, url: &str, secret: Option<&str>, body: &[u8], event_id: &str, attempt: i64) -> Result<u16, String> {
    match sender.post(url, body.to_vec(), headers(event_id, attempt, secret, body)).await {
        Ok(status) if (200..300).contains(&status) => Ok(status),
        Ok(status) => Err(format!("HTTP {status}")),
        Err(reason) => Err(safe_reason(&reason, url, secret)),
    }
}

/// The clinic's URL and secret; blank values count as unset.
async fn settings(deps: &Deps, tenant: &Tenant) -> DomainResult<(Option<String>, Option<String>)> {
    let s = crate::configuration::settings::settings(deps, tenant).await?;
    Ok((s.n8n_webhook_url, s.n8n_webhook_secret))
}

/// The delay after `failures` failed attempts (1 = the call itself failed): 30 s doubling up
/// to 30 min, less up to a fifth at random so retries of many events spread out.
pub fn backoff(failures: u32) -> Duration {
    let doubled = FIRST_BACKOFF.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let full = doubled.min(MAX_BACKOFF);
    let jitter_ms = rand::random_range(0..=full.as_millis() as u64 / 5);
    full - Duration::from_millis(jitter_ms)
}

pub(crate) fn outbox_key(tenant: &Tenant, due_ms: i64, event_id: &str) -> Key {
    Key::new(tenant.partition(OUTBOX), format!("{:013}#{event_id}", due_ms.max(0)))
}

/// One pending delivery, as `outbox` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub event_id: String,
    /// Attempts made so far (the call itself is 1).
    pub attempts: i64,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// The exact body every attempt sends.
    pub body: String,
    /// Whose delivery this is: `None` for n8n, `Some("bpjs")` for BPJS antrean events
    /// (delivered by `bpjs::outbound` with the same claim, backoff and expiry).
    pub kind: Option<String>,
    /// What that kind needs to know of the event (BPJS: reservation, date, event).
    pub meta: Option<Value>,
}

impl Pending {
    pub(crate) fn from_item(item: &Item) -> Option<(Key, Pending)> {
        let key = Key::of(item)?;
        let ms = |a: &str| item.get(a).and_then(Value::as_i64).and_then(DateTime::<Utc>::from_timestamp_millis);
        Some((
            key,
            Pending {
                event_id: item.get("event_id")?.as_str()?.to_string(),
                attempts: item.get("attempts")?.as_i64()?,
                due_at: ms("due_ms")?,
                created_at: ms("created_ms")?,
                last_error: item.get("last_error").and_then(Value::as_str).map(str::to_string),
                body: item.get("body")?.as_str()?.to_string(),
                kind: item.get("kind").and_then(Value::as_str).map(str::to_string),
                meta: item.get("meta").cloned(),
            },
        ))
    }

    pub(crate) fn to_item(&self, key: &Key) -> Item {
        let mut item = json!({
            "pk": key.pk,
            "sk": key.sk,
            "event_id": self.event_id,
            "attempts": self.attempts,
            "due_ms": self.due_at.timestamp_millis(),
            "created_ms": self.created_at.timestamp_millis(),
            "body": self.body,
            TTL_ATTRIBUTE: (self.created_at + GIVE_UP_AFTER).timestamp(),
        });
        if let Some(e) = &self.last_error {
            item["last_error"] = Value::String(e.clone());
        }
        if let Some(k) = &self.kind {
            item["kind"] = Value::String(k.clone());
        }
        if let Some(m) = &self.meta {
            item["meta"] = m.clone();
        }
        item.as_object().cloned().expect("an object")
    }

    pub(crate) fn expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.created_at + GIVE_UP_AFTER
    }
}

/// The reservations with BPJS antrean events still waiting in the clinic's outbox (their
/// bodies carry the patient's card number and NIK until BPJS has them).
pub async fn bpjs_waiting_for(deps: &Deps, tenant: &Tenant) -> DomainResult<std::collections::BTreeSet<i64>> {
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(tenant.partition(OUTBOX))).await?;
    Ok(items
        .iter()
        .filter_map(Pending::from_item)
        .filter(|(_, p)| p.kind.is_some())
        .filter_map(|(_, p)| p.meta.as_ref()?.get("reservation_id")?.as_i64())
        .collect())
}

/// Every n8n delivery waiting in the clinic's outbox, soonest due first (BPJS events have
/// their own list, `bpjs::sync`).
pub async fn outbox(deps: &Deps, tenant: &Tenant) -> DomainResult<Vec<Pending>> {
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(tenant.partition(OUTBOX))).await?;
    Ok(items.iter().filter_map(Pending::from_item).map(|(_, p)| p).filter(|p| p.kind.is_none()).collect())
}

/// Delivers one event to the clinic's `n8n_webhook_url` now (never longer than the sender's timeout). No URL configured → Skipped.
/// A failure (transport error or non-2xx) → Error with a short message that names no secret, AND the delivery is kept in the clinic's outbox for retries.
pub async fn notify(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, event: &CallEvent) -> Outcome {
    let (url, secret) = match settings(deps, tenant).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(clinic = tenant.slug(), error = %e, "could not read the webhook configs; not sent");
            return Outcome::error("n8n webhook not sent: its settings could not be read");
        }
    };
    let Some(url) = url else {
        return Outcome::skipped("n8n webhook is not configured");
    };
    let event_id = uuid::Uuid::new_v4().to_string();
    let body = body(tenant, event, &event_id);
    let reason = match send(sender, &url, secret.as_deref(), &body, &event_id, 1).await {
        Ok(status) => {
            tracing::info!(clinic = tenant.slug(), event_id, host = %host_of(&url), status, "webhook delivered");
            return Outcome::success(format!("n8n webhook delivered (HTTP {status})"));
        }
        Err(reason) => reason,
    };
    let now = deps.clock.now();
    let pending = Pending {
        event_id: event_id.clone(),
        attempts: 1,
        due_at: now + backoff(1),
        created_at: now,
        last_error: Some(reason.clone()),
        body: String::from_utf8(body).expect("JSON is UTF-8"),
        kind: None,
        meta: None,
    };
    let key = outbox_key(tenant, pending.due_at.timestamp_millis(), &event_id);
    // The key holds this call's own new event id: if it is taken, an earlier attempt of this
    // very write was applied and only its answer was lost (a timeout the adapter retried).
    match deps.table.write(vec![Op::put_new(pending.to_item(&key))]).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => {
            tracing::warn!(clinic = tenant.slug(), event_id, host = %host_of(&url), reason, "webhook failed; queued for retry");
            Outcome::error(format!("n8n webhook failed ({reason}); queued for retry"))
        }
        Err(e) => {
            tracing::error!(clinic = tenant.slug(), event_id, host = %host_of(&url), reason, error = %e, "webhook failed and could not be queued");
            Outcome::error(format!("n8n webhook failed ({reason}); not queued for retry"))
        }
    }
}

/// Retries every clinic's due deliveries (exponential backoff with jitter, e.g. 30 s, 1 min, 2 min … capped at 30 min, expiring after 24 h); returns counts (delivered, failed again, expired). Used by the scheduled Lambda and the dev server's background task.
pub async fn retry_due(deps: &Deps, sender: &dyn WebhookSender) -> DomainResult<RetryReport> {
    let started = tokio::time::Instant::now();
    let mut clinics = clinic::list(deps).await?;
    // Start at a random clinic, so a run cut short by its budget does not always leave the same ones for later.
    if !clinics.is_empty() {
        let start = rand::random_range(0..clinics.len());
        clinics.rotate_left(start);
    }
    let mut report = RetryReport::default();
    for c in clinics {
        if started.elapsed() >= RUN_BUDGET {
            tracing::info!("webhook retry run out of time; the next run goes on");
            break;
        }
        let Ok(tenant) = Tenant::parse(&c.slug) else { continue };
        match retry_clinic(deps, sender, &tenant).await {
            Ok(r) => report.add(r),
            // One clinic's trouble does not hold up the others; its items stay due.
            Err(e) => tracing::warn!(clinic = tenant.slug(), error = %e, "webhook retries failed; the next run tries again"),
        }
    }
    Ok(report)
}

/// One clinic's due deliveries: at most `RETRY_BATCH` per run.
pub async fn retry_clinic(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant) -> DomainResult<RetryReport> {
    let now = deps.clock.now();
    // Every key due at or before now: `~` sorts after any event id.
    let due = Query::partition(tenant.partition(OUTBOX))
        .sort(SortKey::Le(format!("{:013}#~", now.timestamp_millis())))
        .limit(RETRY_BATCH);
    // BPJS events share the outbox (claim, backoff, expiry) but are sent in order by `bpjs::outbound`.
    let (bpjs, items): (Vec<Item>, Vec<Item>) =
        deps.table.query(&due).await?.items.into_iter().partition(|i| i.get("kind").and_then(Value::as_str) == Some(crate::bpjs::outbound::KIND));
    let mut report = if bpjs.is_empty() { RetryReport::default() } else { crate::bpjs::outbound::deliver(deps, sender, tenant, now, bpjs).await };
    if items.is_empty() {
        return Ok(report);
    }
    let (url, secret) = settings(deps, tenant).await?;
    let results: Vec<RetryReport> = stream::iter(items)
        .map(|item| retry_one(deps, sender, tenant, now, url.as_deref(), secret.as_deref(), item))
        .buffer_unordered(PARALLEL_SENDS)
        .collect()
        .await;
    results.into_iter().for_each(|r| report.add(r));
    Ok(report)
}

pub(crate) fn lost_race(e: &StoreError) -> bool {
    matches!(e, StoreError::ConditionFailed { .. } | StoreError::Conflict)
}

async fn retry_one(
    deps: &Deps,
    sender: &dyn WebhookSender,
    tenant: &Tenant,
    now: DateTime<Utc>,
    url: Option<&str>,
    secret: Option<&str>,
    item: Item,
) -> RetryReport {
    let clinic = tenant.slug();
    let Some((key, pending)) = Pending::from_item(&item) else {
        let sk = item.get("sk").and_then(|v| v.as_str()).unwrap_or("?").to_string();
        tracing::error!(clinic, sk, "unreadable outbox item; dropped");
        if let Some(key) = Key::of(&item) {
            let _ = deps.table.write(vec![Op::delete(key)]).await;
        }
        return RetryReport::default();
    };
    let drop_it = |why: &'static str| {
        let key = key.clone();
        let event_id = pending.event_id.clone();
        async move {
            match deps
                .table
                .write(vec![Op::delete_if(key, Condition::equals("attempts", pending.attempts))])
                .await
            {
                Ok(()) => {
                    tracing::warn!(clinic, event_id, why, "webhook delivery dropped unsent");
                    RetryReport {
                        expired: 1,
                        ..Default::default()
                    }
                }
                Err(e) if lost_race(&e) => RetryReport::default(),
                Err(e) => {
                    tracing::warn!(clinic, event_id, error = %e, "could not drop an expired webhook delivery");
                    RetryReport::default()
                }
            }
        }
    };
    if pending.expired(now) || is_expired(&item, now.timestamp()) {
        return drop_it("older than 24 h").await;
    }
    let Some(url) = url else {
        return drop_it("the clinic has no n8n_webhook_url any more").await;
    };

    // Claim: move the item to its next due time; only one worker's move can succeed.
    let Some((next_key, next)) = claim(deps, tenant, key, &pending, now, None).await else {
        return RetryReport::default();
    };
    let attempt = next.attempts;
    match send(sender, url, secret, next.body.as_bytes(), &next.event_id, attempt).await {
        Ok(status) => {
            if let Err(e) = deps.table.write(vec![Op::delete(next_key)]).await {
                // It will be sent once more: n8n de-duplicates by event id.
                tracing::warn!(clinic, event_id = next.event_id, error = %e, "delivered, but could not remove it from the outbox");
            }
            tracing::info!(clinic, event_id = next.event_id, host = %host_of(url), status, attempt, "webhook retry delivered");
            RetryReport {
                delivered: 1,
                ..Default::default()
            }
        }
        Err(reason) => {
            tracing::warn!(clinic, event_id = next.event_id, host = %host_of(url), reason, attempt, "webhook retry failed");
            let note = Update::new().set("last_error", reason);
            let _ = deps
                .table
                .write(vec![Op::update_if(next_key, note, Condition::equals("attempts", attempt))])
                .await;
            RetryReport {
                failed: 1,
                ..Default::default()
            }
        }
    }
}

/// Claims a due delivery before sending it: moves the item to its next due time (one more
/// attempt, the next backoff; `body` replaces the stored body, e.g. one built at the first
/// attempt) in one conditional write. Only one worker's move can succeed; the loser (and any
/// store trouble) gets `None` and leaves the item alone.
pub(crate) async fn claim(deps: &Deps, tenant: &Tenant, key: Key, pending: &Pending, now: DateTime<Utc>, body: Option<String>) -> Option<(Key, Pending)> {
    let attempt = pending.attempts + 1;
    let next = Pending {
        attempts: attempt,
        due_at: now + backoff(attempt as u32),
        body: body.unwrap_or_else(|| pending.body.clone()),
        ..pending.clone()
    };
    let next_key = outbox_key(tenant, next.due_at.timestamp_millis(), &next.event_id);
    let claim = vec![
        Op::delete_if(key, Condition::equals("attempts", pending.attempts)),
        Op::put_new(next.to_item(&next_key)),
    ];
    match deps.table.write(claim).await {
        Ok(()) => Some((next_key, next)),
        Err(e) if lost_race(&e) => None,
        Err(e) => {
            tracing::warn!(clinic = tenant.slug(), event_id = pending.event_id, error = %e, "could not claim an outbox delivery");
            None
        }
    }
}

#[cfg(test)]
mod tests {
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
        use antrean_store::embedded::EmbeddedTable;
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(At(Mutex::new(
            DateTime::parse_from_rfc3339("2025-12-29T02:00:00Z").unwrap().with_timezone(&Utc),
        )));
        let deps = Deps {
            table: Arc::new(EmbeddedTable::open(dir.path()).unwrap()),
            clock: clock.clone(),
            tokens: Arc::new(crate::auth::token::TokenKeys::new(&[7u8; 32], chrono::Duration::hours(1)).unwrap()),
        };
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
}
