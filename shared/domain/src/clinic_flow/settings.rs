//! The clinic's queue settings: which priority criteria it counts, the order call-next follows,
//! and when its day closes. One small item, `T#<clinic>#QUEUE_SETTINGS` / `SETTINGS`, so the
//! engine takes it along in a batch read it makes anyway (create, call-next) at no extra cost.
use antrean_store::{Condition, Item, Key, Op, StoreError};
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::priority::Criterion;
use crate::audit::{self, Action, Actor};
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::tenant::Tenant;
use crate::Deps;

/// Audit entity of a change to the settings.
pub const ENTITY: &str = "QUEUE_SETTINGS";
const VERSION: &str = "_v";

/// How call-next orders priority and regular patients waiting for the doctor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Queue-number order; priority numbers are only marked on the board.
    QueueOrder,
    /// Every priority number before any regular one.
    PriorityFirst,
    /// One priority number after every `priority_every` regular ones.
    Interleave,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueSettings {
    /// The reasons that make a reservation priority (the clinic chooses which apply).
    pub priority_criteria: Vec<Criterion>,
    pub priority_policy: Policy,
    /// For [`Policy::Interleave`]: regular numbers called between two priority ones (1–20).
    pub priority_every: i64,
    /// When the day closes, `HH:MM` clinic time; `None`: at the end of the day's last schedule.
    pub day_close_time: Option<String>,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings { priority_criteria: Criterion::ALL.to_vec(), priority_policy: Policy::PriorityFirst, priority_every: 3, day_close_time: None }
    }
}

pub fn key(tenant: &Tenant) -> Key {
    Key::new(tenant.partition("QUEUE_SETTINGS"), "SETTINGS")
}

/// The settings an item read from [`key`] holds (defaults when there is none).
pub fn from_item(item: Option<&Item>) -> QueueSettings {
    item.and_then(|i| serde_json::from_value(Value::Object(i.clone())).ok()).unwrap_or_default()
}

fn version_of(item: Option<&Item>) -> i64 {
    item.and_then(|i| i.get(VERSION)).and_then(Value::as_i64).unwrap_or(0)
}

pub async fn read(deps: &Deps, tenant: &Tenant) -> DomainResult<QueueSettings> {
    Ok(from_item(deps.table.get(&key(tenant)).await?.as_ref()))
}

/// `HH:MM` (or `HH:MM:SS`) as a time of day.
pub fn parse_close_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S")).ok()
}

impl QueueSettings {
    /// A full or partial body over `current`: fields left out keep their value.
    pub fn parse(body: &Value, current: &QueueSettings) -> DomainResult<QueueSettings> {
        if !body.is_object() {
            return Err(DomainError::Unprocessable("The body must be a JSON object.".into()));
        }
        let mut errors = FieldErrors::new();
        let mut out = current.clone();
        match body.get("priority_criteria") {
            None => {}
            Some(Value::Array(list)) => {
                let mut picked = Vec::new();
                for v in list {
                    match v.as_str().and_then(Criterion::parse) {
                        Some(c) if !picked.contains(&c) => picked.push(c),
                        Some(_) => {}
                        None => errors.add("priority_criteria", format!("The priority criteria must be among: {}.", Criterion::names())),
                    }
                }
                out.priority_criteria = picked;
            }
            Some(_) => errors.add("priority_criteria", "The priority criteria field must be an array."),
        }
        match body.get("priority_policy") {
            None => {}
            Some(v) => match serde_json::from_value::<Policy>(v.clone()) {
                Ok(p) => out.priority_policy = p,
                Err(_) => errors.add("priority_policy", "The priority policy must be one of: queue_order, priority_first, interleave."),
            },
        }
        match body.get("priority_every") {
            None => {}
            Some(v) => match v.as_i64() {
                Some(n) if (1..=20).contains(&n) => out.priority_every = n,
                _ => errors.add("priority_every", "The priority every field must be an integer between 1 and 20."),
            },
        }
        match body.get("day_close_time") {
            None => {}
            Some(Value::Null) => out.day_close_time = None,
            Some(Value::String(s)) if parse_close_time(s.trim()).is_some() => {
                out.day_close_time = parse_close_time(s.trim()).map(|t| t.format("%H:%M").to_string())
            }
            Some(_) => errors.add("day_close_time", "The day close time field must be a time (HH:MM) or null."),
        }
        errors.into_result()?;
        Ok(out)
    }
}

/// Replaces the settings with what `body` says, audited, in one write conditioned on the
/// version read (two administrators saving at once: neither change is lost silently).
pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<QueueSettings> {
    for attempt in 0..20 {
        let item = deps.table.get(&key(tenant)).await?;
        let version = version_of(item.as_ref());
        let next = QueueSettings::parse(body, &from_item(item.as_ref()))?;
        let mut stored = crate::reservation::item_with(&key(tenant), serde_json::to_value(&next).map_err(|e| DomainError::Internal(e.to_string()))?);
        stored.insert(VERSION.into(), (version + 1).into());
        let condition = if item.is_some() { Condition::equals(VERSION, version) } else { Condition::NotExists };
        let ops = vec![Op::put_if(stored, condition), audit::entry(tenant, actor, Action::Update, ENTITY, 1, deps.clock.now())];
        match deps.table.write(ops).await {
            Ok(()) => return Ok(next),
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => crate::record::backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict("The queue settings are being changed by someone else; try again".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_partial_body_keeps_the_rest_and_bad_fields_are_named() {
        let s = QueueSettings::parse(&json!({"priority_policy": "interleave", "priority_every": 2}), &QueueSettings::default()).unwrap();
        assert_eq!((s.priority_policy, s.priority_every, s.priority_criteria.len()), (Policy::Interleave, 2, 4));
        let s = QueueSettings::parse(&json!({"priority_criteria": ["pregnancy", "emergency"], "day_close_time": "16:30"}), &s).unwrap();
        assert_eq!(s.priority_criteria, vec![Criterion::Pregnancy, Criterion::Emergency]);
        assert_eq!(s.day_close_time.as_deref(), Some("16:30"));
        let Err(DomainError::Validation(e)) =
            QueueSettings::parse(&json!({"priority_criteria": ["vip"], "priority_policy": "fastest", "priority_every": 0, "day_close_time": "25:00"}), &s)
        else {
            panic!()
        };
        assert_eq!(e.0.len(), 4, "{e:?}");
    }
}
