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
mod outbox;
mod signing;
#[cfg(test)]
mod tests;

pub use outbox::*;
pub use signing::*;

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
