//! Holidays (seed 004 "Holidays"): the days a clinic is closed. A holiday blocks generating
//! schedules and booking on its date (422 [`CLOSED`]).
//!
//! One item per date, `T#<clinic>#HOLIDAY` / `<yyyy-mm-dd>`: the date is the identity, so
//! "one holiday per date" is a put with "not exists", and a year or a range is one Query.
//! Bookings check "no holiday on this date" in their own write, so a holiday created at the
//! same moment as a booking cannot let the booking through.
use antrean_store::{Condition, Key, Op, Query, SortKey, StoreError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{date_id, date_string, decode, item_with};
use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::tenant::Tenant;
use crate::{validate, Deps};

const KIND: &str = "HOLIDAY";
pub const NOT_FOUND: &str = "Holiday not found";
pub const TAKEN: &str = "There is already a holiday on this date.";

/// The answer when a holiday blocks a booking or a schedule.
pub fn closed(h: &Holiday) -> String {
    format!("The clinic is closed on {} ({}).", h.date, h.name)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Holiday {
    /// `YYYY-MM-DD`, also its id in paths.
    pub date: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

pub fn key(tenant: &Tenant, date: NaiveDate) -> Key {
    Key::new(tenant.partition(KIND), date_string(date))
}

/// "No holiday on this date", for a booking's own write.
pub fn open_check(tenant: &Tenant, date: NaiveDate) -> Op {
    Op::check(key(tenant, date), Condition::NotExists)
}

/// The holiday on a date, if any.
pub async fn on(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<Option<Holiday>> {
    match deps.table.get(&key(tenant, date)).await? {
        Some(item) => Ok(Some(decode(item, "holiday")?)),
        None => Ok(None),
    }
}

/// The holidays from `from` to `to` (both included), by date: one Query.
pub async fn between(deps: &Deps, tenant: &Tenant, from: NaiveDate, to: NaiveDate) -> DomainResult<Vec<Holiday>> {
    let q = Query::partition(tenant.partition(KIND)).sort(SortKey::Between(date_string(from), date_string(to)));
    antrean_store::query_all(deps.table.as_ref(), q).await?.into_iter().map(|i| decode(i, "holiday")).collect()
}

/// `date` (create only), `name` (required, ≤ 100), `description` (≤ 500).
struct Form {
    date: Option<NaiveDate>,
    name: String,
    description: Option<String>,
}

fn parse(body: &Value, with_date: bool) -> DomainResult<Form> {
    let mut errors = FieldErrors::new();
    let date = if with_date || body.get("date").is_some_and(|d| !d.is_null()) {
        validate::required_date(&mut errors, body, "date")
    } else {
        None
    };
    let name = validate::required_string(&mut errors, body, "name", 100);
    let description = validate::optional_string(&mut errors, body, "description", 500);
    errors.into_result()?;
    Ok(Form { date, name: name.unwrap_or_default(), description })
}

fn item(tenant: &Tenant, h: &Holiday) -> DomainResult<antrean_store::Item> {
    let date = NaiveDate::parse_from_str(&h.date, "%Y-%m-%d").map_err(|e| DomainError::Internal(e.to_string()))?;
    Ok(item_with(&key(tenant, date), json!(h)))
}

pub async fn create(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Holiday> {
    let form = parse(body, true)?;
    let date = form.date.ok_or_else(|| DomainError::Internal("a holiday form without its date".into()))?;
    let now = deps.clock.now();
    let h = Holiday { date: date_string(date), name: form.name, description: form.description, created_at: stamp(now), updated_at: stamp(now) };
    let ops = vec![Op::put_new(item(tenant, &h)?), audit::entry(tenant, actor, Action::Create, KIND, date_id(date), now)];
    match deps.table.write(ops).await {
        Ok(()) => Ok(h),
        Err(StoreError::ConditionFailed { .. }) => Err(FieldErrors::single("date", TAKEN)),
        Err(e) => Err(e.into()),
    }
}

pub async fn find(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<Holiday> {
    on(deps, tenant, date).await?.ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))
}

/// Renames it, or moves it to the body's `date` (the old date opens again in the same write).
pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, date: NaiveDate, body: &Value) -> DomainResult<Holiday> {
    let form = parse(body, false)?;
    let current = find(deps, tenant, date).await?;
    let now = deps.clock.now();
    let to = form.date.unwrap_or(date);
    let h = Holiday { date: date_string(to), name: form.name, description: form.description, updated_at: stamp(now), ..current.clone() };
    // Conditioned on what we read: two editors cannot both win.
    let unchanged = Condition::equals("updated_at", current.updated_at.clone());
    let mut ops = Vec::new();
    if to == date {
        ops.push(Op::put_if(item(tenant, &h)?, unchanged));
    } else {
        ops.push(Op::delete_if(key(tenant, date), unchanged));
        ops.push(Op::put_new(item(tenant, &h)?));
    }
    ops.push(audit::entry(tenant, actor, Action::Update, KIND, date_id(to), now));
    match deps.table.write(ops).await {
        Ok(()) => Ok(h),
        Err(StoreError::ConditionFailed { index: 1 }) if to != date => Err(FieldErrors::single("date", TAKEN)),
        Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
            Err(DomainError::Conflict("The holiday was changed by someone else meanwhile; read it again.".into()))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(deps: &Deps, tenant: &Tenant, actor: &Actor, date: NaiveDate) -> DomainResult<()> {
    let now = deps.clock.now();
    let ops = vec![Op::delete_if(key(tenant, date), Condition::Exists), audit::entry(tenant, actor, Action::Delete, KIND, date_id(date), now)];
    match deps.table.write(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(DomainError::NotFound(NOT_FOUND.into())),
        Err(e) => Err(e.into()),
    }
}
