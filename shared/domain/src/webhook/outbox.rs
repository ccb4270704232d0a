//! The outbox of failed deliveries and its retries: one conditional move claims an item, so of
//! two workers only one sends it.
use super::*;


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

pub(super) async fn retry_one(
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
