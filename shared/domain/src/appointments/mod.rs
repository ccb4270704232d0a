//! Appointments: booking ahead, not only on the day. Built on the doctor schedules
//! (`crate::schedule`) and the reservation path (`crate::reservation`): a booked appointment
//! holds a place in its schedule, and checking in hands out the queue number on its day
//! through the same create as reception's walk-ins.
//!
//! - [`holiday`]: the clinic's closed days; they block generation and booking.
//! - [`template`]: a doctor's weekly hours; generating a date range makes dated schedules.
//! - [`slot`]: a schedule cut into time slots of `slot_minutes`, each with a capacity, and
//!   the counts that keep places.
//! - [`hold`]: a place taken for a few minutes (patient apps), given back when it runs out.
//! - [`appointment`]: a booking; [`rules`]: who may book what, when; [`visitor`]: for whom.
use antrean_store::{Item, StoreError};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{DomainError, DomainResult};

pub mod appointment;
pub mod calendar;
pub mod hold;
pub mod holiday;
pub mod lifecycle;
pub mod rules;
pub mod slot;
pub mod template;
#[cfg(test)]
mod testing;
pub mod visitor;

pub(crate) use crate::reservation::item_with;

pub(crate) fn decode<T: DeserializeOwned>(item: Item, what: &str) -> DomainResult<T> {
    serde_json::from_value(Value::Object(item)).map_err(|e| DomainError::Internal(format!("corrupt {what}: {e}")))
}

pub(crate) fn date_string(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A date as the audit trail's record id: `20260117`.
pub(crate) fn date_id(d: chrono::NaiveDate) -> i64 {
    d.format("%Y%m%d").to_string().parse().unwrap_or_default()
}

/// A lost race: nothing was written; read again.
pub(crate) fn lost(e: &StoreError) -> bool {
    matches!(e, StoreError::ConditionFailed { .. } | StoreError::Conflict)
}

/// A nested JSON field of an item as a type.
pub(crate) fn decode_field<T: DeserializeOwned>(item: &Item, field: &str) -> DomainResult<T> {
    let v = item.get(field).cloned().unwrap_or(Value::Null);
    serde_json::from_value(v).map_err(|e| DomainError::Internal(format!("corrupt {field}: {e}")))
}
