//! Delivery: one run over a clinic's due BPJS events, in order per reservation, with BPJS's
//! answers judged (`verdict`) and every event's state kept on the reservation's sync item.
use std::collections::HashMap;

use antrean_store::{Item, Key, Op, Update};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::super::client::{self, Answer};
use super::super::config::{self, BpjsConfig, Credentials};
use super::super::mapping::{self, Mapping};
use super::super::sync_key;
use super::body::{build, context, Built, Ctx};
use super::{state, Event, FINAL};
use crate::error::DomainResult;
use crate::tenant::Tenant;
use crate::webhook::{self, Pending, RetryReport, WebhookSender};
use crate::Deps;

/// Reservations whose events one run sends side by side.
const PARALLEL: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Refused,
    Retry,
}

/// What BPJS's answer means for the event.
pub fn verdict(a: &Answer) -> Verdict {
    if a.ok() {
        return Verdict::Delivered;
    }
    let m = a.message.to_lowercase();
    if a.code == 208 || m.contains("sudah ada") || m.contains("duplikasi") || m.contains("sudah dibatalkan") {
        return Verdict::Delivered;
    }
    if (200..300).contains(&a.http) && FINAL.iter().any(|f| m.contains(f)) {
        return Verdict::Refused;
    }
    Verdict::Retry
}

struct Due {
    key: Key,
    pending: Pending,
    reservation_id: i64,
    date: String,
    event: Event,
    waktu: Option<i64>,
}

fn due_of(item: &Item) -> Option<Due> {
    let (key, pending) = Pending::from_item(item)?;
    let meta = pending.meta.clone()?;
    Some(Due {
        key,
        reservation_id: meta.get("reservation_id")?.as_i64()?,
        date: meta.get("date")?.as_str()?.to_string(),
        event: Event::parse(meta.get("event")?.as_str()?)?,
        waktu: meta.get("waktu").and_then(Value::as_i64),
        pending,
    })
}

/// The sync item's state of each event: name → (status, order).
fn states(item: Option<&Item>) -> HashMap<String, (String, i64)> {
    let mut out = HashMap::new();
    for (k, v) in item.into_iter().flatten() {
        if let Some(name) = k.strip_prefix("e_") {
            let status = v.get("status").and_then(Value::as_str).unwrap_or_default().to_string();
            out.insert(name.to_string(), (status, v.get("order").and_then(Value::as_i64).unwrap_or_default()));
        }
    }
    out
}

/// Statuses that let the next event go.
fn passes(status: &str) -> bool {
    matches!(status, "sent" | "not_used")
}

/// One run over a clinic's due BPJS events (called by `webhook::retry_clinic`).
pub(crate) async fn deliver(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, now: DateTime<Utc>, items: Vec<Item>) -> RetryReport {
    match deliver_all(deps, sender, tenant, now, items).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(clinic = tenant.slug(), error = %e, "BPJS deliveries failed; the next run tries again");
            RetryReport::default()
        }
    }
}

async fn deliver_all(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, now: DateTime<Utc>, items: Vec<Item>) -> DomainResult<RetryReport> {
    let mut groups: HashMap<i64, Vec<Due>> = HashMap::new();
    for item in &items {
        match due_of(item) {
            Some(d) => groups.entry(d.reservation_id).or_default().push(d),
            None => {
                tracing::error!(clinic = tenant.slug(), "unreadable BPJS outbox item; dropped");
                if let Some(k) = Key::of(item) {
                    let _ = deps.table.write(vec![Op::delete(k)]).await;
                }
            }
        }
    }
    let config = config::read(deps, tenant).await?;
    let mapping = mapping::read(deps, tenant).await?;
    let creds = match &config {
        Some(c) if c.enabled => Some(c.credentials(deps)),
        _ => None,
    };
    let results: Vec<RetryReport> = stream::iter(groups.into_values())
        .map(|mut list| {
            list.sort_by_key(|d| d.event.order());
            let (config, mapping, creds) = (config.as_ref(), &mapping, creds.as_ref());
            async move {
                match deliver_reservation(deps, sender, tenant, now, config, mapping, creds, list).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(clinic = tenant.slug(), error = %e, "a reservation's BPJS events failed; the next run tries again");
                        RetryReport::default()
                    }
                }
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut report = RetryReport::default();
    results.into_iter().for_each(|r| report.add(r));
    Ok(report)
}

/// Ends an event: its outbox item goes and its state is set, in one write; the run's view
/// of the reservation's states follows.
#[allow(clippy::too_many_arguments)]
async fn settle(
    deps: &Deps,
    tenant: &Tenant,
    states: &mut HashMap<String, (String, i64)>,
    d: &Due,
    key: Key,
    attempts: i64,
    status: &str,
    message: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let sync = Update::new().set(&format!("e_{}", d.event.name()), state(status, d.event.order(), message, attempts, now));
    deps.table
        .write(vec![Op::delete(key), Op::update(sync_key(tenant, &d.date, d.reservation_id), sync)])
        .await?;
    states.insert(d.event.name(), (status.to_string(), d.event.order()));
    Ok(())
}

const BLOCKED: &str = "Not sent: an earlier event of this reservation was not accepted by BPJS.";
const EXPIRED: &str = "Not sent within 24 hours; given up.";
const SWITCHED_OFF: &str = "Not sent: BPJS is switched off for this clinic.";

#[allow(clippy::too_many_arguments)]
async fn deliver_reservation(
    deps: &Deps,
    sender: &dyn WebhookSender,
    tenant: &Tenant,
    now: DateTime<Utc>,
    config: Option<&BpjsConfig>,
    mapping: &Mapping,
    creds: Option<&DomainResult<Credentials>>,
    list: Vec<Due>,
) -> DomainResult<RetryReport> {
    let mut report = RetryReport::default();
    let Some(first) = list.first() else { return Ok(report) };
    let sync = deps.table.get(&sync_key(tenant, &first.date, first.reservation_id)).await?;
    let mut states = states(sync.as_ref());
    let mut ctx: Option<Option<Ctx>> = None;
    for d in list {
        let name = d.event.name();
        // Every earlier event of this reservation must have been accepted first.
        let earlier: Vec<String> = states
            .iter()
            .filter(|(n, (_, o))| **n != name && *o < d.event.order())
            .map(|(_, (s, _))| s.clone())
            .collect();
        if earlier.iter().any(|s| s == "pending") {
            break;
        }
        // Ends here without a call?
        let early = if earlier.iter().any(|s| !passes(s)) {
            Some(("blocked", BLOCKED.to_string()))
        } else if d.pending.expired(now) {
            Some(("expired", EXPIRED.to_string()))
        } else if config.is_none() || creds.is_none() {
            Some(("skipped", SWITCHED_OFF.to_string()))
        } else {
            None
        };
        if let Some((status, why)) = early {
            settle(deps, tenant, &mut states, &d, d.key.clone(), d.pending.attempts, status, &why, now).await?;
            report.expired += 1;
            continue;
        }
        let (Some(config), Some(creds)) = (config, creds) else { break };
        let creds = match creds {
            Ok(c) => c,
            Err(e) => {
                // Left due: the clinic can enter its credentials again within the day.
                note(deps, tenant, &d, &d.key, d.pending.attempts, &e.to_string(), now).await;
                break;
            }
        };
        // The body: built at the first attempt, the same bytes on every retry.
        let built = if d.pending.body.is_empty() {
            if ctx.is_none() {
                ctx = Some(context(deps, tenant, d.reservation_id).await?);
            }
            match &ctx {
                Some(Some(c)) => build(deps, tenant, config, mapping, c, d.event, d.waktu).await?,
                _ => Built::NotSent("Not sent: the reservation is gone.".into()),
            }
        } else {
            let stored: Value = serde_json::from_str(&d.pending.body).unwrap_or(Value::Null);
            Built::Call {
                path: stored["path"].as_str().unwrap_or_default().to_string(),
                body: stored["body"].clone(),
            }
        };
        let (path, body) = match built {
            Built::Call { path, body } => (path, body),
            Built::NotUsed => {
                settle(
                    deps,
                    tenant,
                    &mut states,
                    &d,
                    d.key.clone(),
                    d.pending.attempts,
                    "not_used",
                    "Not part of the FKTP protocol; nothing to send.",
                    now,
                )
                .await?;
                continue;
            }
            Built::NotSent(why) => {
                settle(deps, tenant, &mut states, &d, d.key.clone(), d.pending.attempts, "skipped", &why, now).await?;
                report.expired += 1;
                continue;
            }
        };
        let stored = json!({"path": path, "body": body}).to_string();
        let Some((key, next)) = webhook::claim(deps, tenant, d.key.clone(), &d.pending, now, Some(stored)).await else {
            break;
        };
        let answer = client::call(sender, config, creds, "POST", &path, Some(&body), now).await;
        let (verdict, message) = match &answer {
            Ok(a) => (verdict(a), format!("{} {}", a.code, a.message)),
            Err(reason) => (Verdict::Retry, reason.clone()),
        };
        tracing::info!(clinic = tenant.slug(), reservation = d.reservation_id, event = %name, attempt = next.attempts, verdict = ?verdict, "BPJS event");
        match verdict {
            Verdict::Delivered => {
                settle(deps, tenant, &mut states, &d, key, next.attempts, "sent", &message, now).await?;
                report.delivered += 1;
            }
            Verdict::Refused => {
                settle(deps, tenant, &mut states, &d, key, next.attempts, "refused", &message, now).await?;
                report.expired += 1;
            }
            Verdict::Retry => {
                note(deps, tenant, &d, &key, next.attempts, &message, now).await;
                report.failed += 1;
                // The later events wait for this one.
                break;
            }
        }
    }
    Ok(report)
}

/// A failed attempt: the outbox item and the sync list say why; it is due again at its backoff.
async fn note(deps: &Deps, tenant: &Tenant, d: &Due, key: &Key, attempts: i64, message: &str, now: DateTime<Utc>) {
    let sync = Update::new().set(&format!("e_{}", d.event.name()), state("pending", d.event.order(), message, attempts, now));
    let item = Update::new().set("last_error", message.to_string());
    let ops = vec![
        Op::update_if(key.clone(), item, antrean_store::Condition::equals("attempts", attempts)),
        Op::update(sync_key(tenant, &d.date, d.reservation_id), sync),
    ];
    if let Err(e) = deps.table.write(ops).await {
        tracing::warn!(clinic = tenant.slug(), error = %e, "could not note a failed BPJS attempt");
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn answer(http: u16, code: i64, message: &str) -> Answer {
        Answer {
            http,
            code,
            message: message.into(),
            response: None,
        }
    }

    #[test]
    fn answers_that_mean_already_there_count_as_delivered() {
        assert_eq!(verdict(&answer(200, 200, "Ok")), Verdict::Delivered);
        assert_eq!(verdict(&answer(200, 208, "Terdapat duplikasi Kode Booking")), Verdict::Delivered);
        assert_eq!(verdict(&answer(200, 201, "TaskId=3 sudah ada")), Verdict::Delivered);
        assert_eq!(verdict(&answer(200, 201, "Rujukan tidak valid")), Verdict::Refused);
        assert_eq!(
            verdict(&answer(200, 201, "Pasien sudah terdaftar di poli tersebut pada hari yang sama")),
            Verdict::Refused
        );
        assert_eq!(verdict(&answer(200, 201, "Peserta belum melakukan skrining kesehatan")), Verdict::Refused);
        assert_eq!(verdict(&answer(503, 503, "HTTP 503")), Verdict::Retry);
        assert_eq!(verdict(&answer(200, 201, "TaskId=4 tidak boleh kurang dari TaskId=3")), Verdict::Retry);
    }
}
