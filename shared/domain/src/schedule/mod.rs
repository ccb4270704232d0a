//! Doctor schedules (seed section "Schedule"): when a doctor works on a day, for which poly,
//! and how many patients may book (`quota`, `None` = unlimited).
//!
//! Rules: the doctor is a live user holding the clinic's "Dokter" role (the seeded doctor
//! role, found by its unique name) and has a live poly; the schedule belongs to that poly.
//! `end_time` is after `start_time`; two live schedules of one doctor on one date never
//! overlap (touching ends, 08:00–12:00 and 12:00–16:00, do not overlap).
//!
//! Key layout (every key starts with the tenant):
//!
//! | item | pk | sk | holds |
//! | --- | --- | --- | --- |
//! | the record | `T#<clinic>#SCHEDULE` | `<id, 12 digits>` | the schedule, `_v` (version), `deleted_at` once trashed |
//! | day index | `T#<clinic>#SCHEDULE_ON#<yyyy>` | `<yyyy-mm-dd>#<id, 12 digits>` | a copy of the live record (deleted with it) |
//! | doctor-day | `T#<clinic>#SCHEDULE_DOCTOR#<doctor id>` | `<yyyy-mm-dd>` | `rev`, bumped by every write touching that doctor's day |
//! | booked places | `T#<clinic>#SCHEDULE_BOOKED` | `<id, 12 digits>` | `booked`, the places reservations hold |
//!
//! - Listing reads one year partition of the day index with a sort-key range: a date is
//!   `begins_with(<date>#)`, a month `begins_with(<yyyy-mm>-)`, a year the whole partition.
//! - Overlaps: a create, update or delete reads the doctor-day `rev`, then that date's index
//!   items, and writes with "`rev` is still what I read" next to the record and its index
//!   item. Two racing writers for one doctor and date cannot both land; the loser reads
//!   again and then sees the other's schedule.
//! - Booked places live in their own item so a reservation never rewrites the schedule:
//!   [`hold_ops`] checks the schedule's version and adds one under the quota, [`release_op`]
//!   gives one back. A quota below the booked count, a delete with bookings, or moving a
//!   booked schedule to another date, doctor or poly is refused (409) by a condition on that
//!   item in the same write; the message comes from a fresh read.
//!
//! Every write is conditional; any lost race (version, `rev`, counter, a doctor, role or
//! poly changed under us) reads everything again and judges anew.
//!
//! Files: [`slots`] (what reservations read and hold), [`list`] (the listing and its filter),
//! [`form`] (the body and its checks), [`write`] (create, update, trash).
use std::collections::HashMap;
use std::time::Duration;

use antrean_store::{Cmp, Condition, Item, Key, Op, Query, SortKey, StoreError, Update};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::poly::Poly;
use crate::record::{self, Record, Stored};
use crate::role::{self, Role};
use crate::tenant::{id_key, Tenant};
use crate::user::User;
use crate::{validate, Deps};

mod form;
mod list;
mod slots;
mod write;
#[cfg(test)]
mod tests;

pub use form::*;
pub use list::*;
pub use slots::*;
pub use write::*;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Schedule {
    pub doctor_id: i64,
    pub poly_id: i64,
    /// `YYYY-MM-DD`
    pub date: String,
    /// `HH:MM:SS`
    pub start_time: String,
    /// `HH:MM:SS`
    pub end_time: String,
    #[serde(default)]
    pub quota: Option<i64>,
    /// Bookable time slots of this many minutes (appointments); `None`: no slots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_minutes: Option<i64>,
    /// How many bookings one slot takes (with `slot_minutes`; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_capacity: Option<i64>,
    /// BPJS's JKN and non-JKN quotas (`quota_jkn`, `quota_non_jkn`), when the clinic sets them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bpjs_quota: Option<crate::bpjs::quota::Quotas>,
}

impl Record for Schedule {
    const KIND: &'static str = "SCHEDULE";
    const LABEL: &'static str = "Schedule";
}

/// A schedule as a reservation sees it: the record, its version (`_v`) and how many places are booked.
#[derive(Debug, Clone)]
pub struct Slot {
    pub schedule: Stored<Schedule>,
    pub version: i64,
    pub booked: i64,
}

impl Slot {
    /// Room for one more: no quota, or fewer booked than the quota.
    pub fn has_room(&self) -> bool {
        self.schedule.data.quota.is_none_or(|q| self.booked < q)
    }
}

pub const CONFLICT: &str = "The schedule conflicts with an existing schedule for this doctor.";
pub const HAS_BOOKINGS_DELETE: &str = "The schedule has booked reservations and cannot be deleted.";
pub const HAS_BOOKINGS_MOVE: &str = "The schedule has booked reservations; its date, doctor and poly cannot be changed.";
pub const HAS_BOOKINGS_SLOTS: &str = "The schedule has booked reservations; its time slots cannot be changed.";
/// The shortest and longest time slot, in minutes.
pub const SLOT_MINUTES: std::ops::RangeInclusive<i64> = 5..=240;
pub const MAX_SLOT_CAPACITY: i64 = 100;
/// The largest quota one schedule may have.
pub const MAX_QUOTA: i64 = 10_000;

const VERSION: &str = "_v";
const BOOKED: &str = "booked";
const REV: &str = "rev";
const MAX_ATTEMPTS: u32 = 60;

fn not_found() -> DomainError {
    DomainError::NotFound(format!("{} not found", Schedule::LABEL))
}

pub fn quota_below_booked(booked: i64) -> String {
    format!("The schedule has {booked} booked reservations; the quota cannot be lower than that.")
}

// ---------------------------------------------------------------------------------------
// Keys

pub fn booked_key(tenant: &Tenant, schedule_id: i64) -> Key {
    Key::new(tenant.partition("SCHEDULE_BOOKED"), id_key(schedule_id))
}

fn doctor_day_key(tenant: &Tenant, doctor_id: i64, date: &str) -> Key {
    Key::new(tenant.partition(&format!("SCHEDULE_DOCTOR#{doctor_id}")), date)
}

fn year_partition(tenant: &Tenant, year: i32) -> String {
    tenant.partition(&format!("SCHEDULE_ON#{year:04}"))
}

fn index_key(tenant: &Tenant, date: &str, id: i64) -> Key {
    let year = date.get(..4).unwrap_or("0000");
    Key::new(tenant.partition(&format!("SCHEDULE_ON#{year}")), format!("{date}#{}", id_key(id)))
}

// ---------------------------------------------------------------------------------------
// Reads

fn decode<T: serde::de::DeserializeOwned>(item: Item) -> DomainResult<T> {
    serde_json::from_value(Value::Object(item)).map_err(|e| DomainError::Internal(format!("corrupt schedule item: {e}")))
}

/// The record with its version, trashed or not.
async fn read(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Option<(Stored<Schedule>, i64)>> {
    let Some(item) = deps.table.get(&record::record_key::<Schedule>(tenant, id)).await? else {
        return Ok(None);
    };
    let version = item.get(VERSION).and_then(Value::as_i64).unwrap_or(0);
    Ok(Some((decode(item)?, version)))
}

async fn booked(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<i64> {
    Ok(deps
        .table
        .get(&booked_key(tenant, id))
        .await?
        .and_then(|i| i.get(BOOKED).and_then(Value::as_i64))
        .unwrap_or(0))
}

async fn doctor_day_rev(deps: &Deps, tenant: &Tenant, doctor_id: i64, date: &str) -> DomainResult<i64> {
    Ok(deps
        .table
        .get(&doctor_day_key(tenant, doctor_id, date))
        .await?
        .and_then(|i| i.get(REV).and_then(Value::as_i64))
        .unwrap_or(0))
}

/// A live schedule, else "Schedule not found".
pub async fn find(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Stored<Schedule>> {
    Ok(slot(deps, tenant, id).await?.schedule)
}
