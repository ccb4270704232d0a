//! Rollups of the services after the doctor (pharmacy, laboratory, cashier): per clinic,
//! service and day, kept in the same atomic write as the stage step they count
//! (`clinic_flow::services`), like the polies' rollups.
//!
//! Key: `T#<clinic>#SERVICE_ROLLUP#<yyyy>` / `<yyyy-mm-dd>#<service id, 12 digits>`.
//! Attributes (numbers; a missing one counts as 0):
//! - `sent`: patients sent on to the service that day;
//! - `s_<status>`: patients now in that stage (`s_waiting_medicine`, `s_preparing`, `s_ready`,
//!   `s_collected`; `s_waiting`, `s_called`, `s_done`);
//! - `wait_sum` (seconds) and `wait_n`: how long patients waited from being sent on until
//!   their first call (at the pharmacy: until their medicine was ready to collect).
use std::collections::BTreeMap;

use antrean_store::{Key, Op, Query, Table, Update};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::Value;

use super::sort_key_range;
use crate::error::DomainResult;
use crate::tenant::{id_key, Tenant};

/// The stages a service day counts, in the order they happen.
pub const STAGES: [&str; 7] = ["waiting_medicine", "preparing", "ready", "collected", "waiting", "called", "done"];

pub fn partition(tenant: &Tenant, year: i32) -> String {
    tenant.partition(&format!("SERVICE_ROLLUP#{year:04}"))
}

pub fn key(tenant: &Tenant, date: NaiveDate, service_id: i64) -> Key {
    Key::new(partition(tenant, date.year()), format!("{}#{}", date.format("%Y-%m-%d"), id_key(service_id)))
}

/// One stage step at a service, as the rollup counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct StageChange<'a> {
    pub date: NaiveDate,
    pub service_id: i64,
    pub service_name: &'a str,
    /// `None`: the patient was just sent on.
    pub from: Option<&'a str>,
    pub to: &'a str,
    /// Seconds from being sent on to this step, when it is the stage's first call.
    pub first_call_after: Option<i64>,
}

/// The rollup op for one stage step: `ADD`s only, so concurrent steps compose.
pub fn step_op(tenant: &Tenant, c: &StageChange) -> Option<Op> {
    if c.from == Some(c.to) && c.first_call_after.is_none() {
        return None;
    }
    let mut u = Update::new().set("date", c.date.format("%Y-%m-%d").to_string()).set("service_id", c.service_id).set("service_name", c.service_name);
    match c.from {
        None => u = u.add("sent", 1),
        Some(from) if from != c.to => u = u.add(&format!("s_{from}"), -1),
        Some(_) => {}
    }
    if c.from != Some(c.to) {
        u = u.add(&format!("s_{}", c.to), 1);
    }
    if let Some(w) = c.first_call_after {
        u = u.add("wait_sum", w.max(0)).add("wait_n", 1);
    }
    Some(Op::update(key(tenant, c.date, c.service_id), u))
}

/// One service's day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceDay {
    pub date: String,
    pub service_id: i64,
    pub service_name: String,
    /// Patients sent on to it that day.
    pub sent: i64,
    /// Patients now in each stage.
    pub stages: BTreeMap<String, i64>,
    /// Patients called (at the pharmacy: medicine ready) and their mean wait until then.
    pub waited: i64,
    pub average_wait_minutes: Option<f64>,
}

fn day_of(item: &antrean_store::Item) -> Option<ServiceDay> {
    let num = |a: &str| item.get(a).and_then(Value::as_i64).unwrap_or(0);
    let (wait_sum, wait_n) = (num("wait_sum"), num("wait_n"));
    Some(ServiceDay {
        date: item.get("date")?.as_str()?.to_string(),
        service_id: item.get("service_id")?.as_i64()?,
        service_name: item.get("service_name").and_then(Value::as_str).unwrap_or_default().to_string(),
        sent: num("sent"),
        stages: STAGES.iter().map(|s| (s.to_string(), num(&format!("s_{s}")))).filter(|(_, n)| *n != 0).collect(),
        waited: wait_n,
        average_wait_minutes: (wait_n > 0).then(|| ((wait_sum as f64 / wait_n as f64 / 60.0) * 10.0).round() / 10.0),
    })
}

/// Every service's days `from..=to`, in date then service order: one Query per year.
pub async fn read(table: &dyn Table, tenant: &Tenant, from: NaiveDate, to: NaiveDate) -> DomainResult<Vec<ServiceDay>> {
    let mut out = Vec::new();
    if from > to {
        return Ok(out);
    }
    for year in from.year()..=to.year() {
        let lo = from.max(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(from));
        let hi = to.min(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(to));
        let q = Query::partition(partition(tenant, year)).sort(sort_key_range(lo, hi));
        out.extend(antrean_store::query_all(table, q).await?.iter().filter_map(day_of));
    }
    Ok(out)
}
