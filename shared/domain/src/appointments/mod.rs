//! Appointments: booking ahead, not only on the day. Built on the doctor schedules
//! (`crate::schedule`) and the reservation path (`crate::reservation`): a booked appointment
//! holds a place in its schedule, and checking in hands out the queue number on its day
//! through the same create as reception's walk-ins.
//!
//! - [`holiday`]: the clinic's closed days; they block generation and booking.
//! - [`template`]: a doctor's weekly hours; generating a date range makes dated schedules.
//! - [`slot`]: a schedule cut into time slots of `slot_minutes`, each with a capacity.
use antrean_store::Item;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{DomainError, DomainResult};

pub mod holiday;
pub mod template;

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
