//! The BPJS sync list: per reservation of a day, every event sent or waiting, with BPJS's own
//! answer (`"201 Rujukan tidak valid"`) or why it was not sent. One Query on
//! `T#<clinic>#BPJS_SYNC#<date>`, in reservation order.
//!
//! An event's `status`: `pending` (waiting in the outbox; `message` is the last failure if any),
//! `sent` (BPJS accepted it, or already had it), `refused` (BPJS refused it for good),
//! `blocked` (an earlier event was not accepted), `skipped` (not sent: unmapped poly or doctor,
//! BPJS switched off), `expired` (not delivered within 24 h), `not_used` (not in the tier's protocol).
//! A reservation's `status` is `error` when any event is refused, blocked, skipped or expired,
//! else `pending` while any waits, else `sent`.
use antrean_store::Query;
use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::error::DomainResult;
use crate::tenant::Tenant;
use crate::Deps;

pub async fn list(deps: &Deps, tenant: &Tenant, date: NaiveDate, only: Option<&str>) -> DomainResult<Vec<Value>> {
    let date = date.format("%Y-%m-%d").to_string();
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(tenant.partition(&format!("BPJS_SYNC#{date}")))).await?;
    let mut out = Vec::new();
    for item in items {
        let mut events: Vec<Value> = item
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix("e_")?;
                Some(json!({
                    "event": name,
                    "status": v.get("status"),
                    "message": v.get("message"),
                    "attempts": v.get("attempts"),
                    "at": v.get("at"),
                    "order": v.get("order"),
                }))
            })
            .collect();
        events.sort_by_key(|e| e["order"].as_i64().unwrap_or_default());
        for e in events.iter_mut() {
            if let Some(o) = e.as_object_mut() {
                o.remove("order");
            }
        }
        let has = |s: &[&str]| events.iter().any(|e| e["status"].as_str().is_some_and(|x| s.contains(&x)));
        let status = if has(&["refused", "blocked", "skipped", "expired"]) {
            "error"
        } else if has(&["pending"]) {
            "pending"
        } else {
            "sent"
        };
        if only.is_some_and(|o| o != status) {
            continue;
        }
        out.push(json!({
            "reservation_id": item.get("reservation_id"),
            "kodebooking": item.get("kodebooking"),
            "date": date,
            "status": status,
            "events": events,
        }));
    }
    Ok(out)
}
