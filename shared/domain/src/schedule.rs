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
// The interface reservations use

/// The two keys a slot is read from (the record, its booked count), for a batch read.
pub fn slot_keys(tenant: &Tenant, id: i64) -> [Key; 2] {
    [record::record_key::<Schedule>(tenant, id), booked_key(tenant, id)]
}

/// The live slot from a batch read of [`slot_keys`]; `None` when missing or deleted.
pub fn slot_from(record: Option<Item>, booked: Option<Item>) -> DomainResult<Option<Slot>> {
    let Some(item) = record else { return Ok(None) };
    let version = item.get(VERSION).and_then(Value::as_i64).unwrap_or(0);
    let schedule: Stored<Schedule> = decode(item)?;
    if schedule.is_trashed() {
        return Ok(None);
    }
    let booked = booked.and_then(|i| i.get(BOOKED).and_then(Value::as_i64)).unwrap_or(0);
    Ok(Some(Slot { schedule, version, booked }))
}

/// One live schedule with its version and booked count (one batch read); 404 "Schedule not
/// found" when missing or deleted.
pub async fn slot(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Slot> {
    let mut items = deps.table.get_many(&slot_keys(tenant, id), None).await?.into_iter();
    slot_from(items.next().flatten(), items.next().flatten())?.ok_or_else(not_found)
}

/// The ids of a poly's schedules on a date, from the day index (one Query).
pub async fn ids_on_day(deps: &Deps, tenant: &Tenant, poly_id: i64, date: NaiveDate) -> DomainResult<Vec<i64>> {
    let date = date_string(date);
    let year: i32 = date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    // Only the two attributes this needs come back (the index items copy the whole schedule).
    let q = Query::partition(year_partition(tenant, year)).sort(SortKey::BeginsWith(format!("{date}#"))).only(&["id", "poly_id"]);
    let items = antrean_store::query_all(deps.table.as_ref(), q).await?;
    let n = |i: &Item, k: &str| i.get(k).and_then(Value::as_i64);
    Ok(items.iter().filter(|i| n(i, "poly_id") == Some(poly_id)).filter_map(|i| n(i, "id")).collect())
}

/// The live slots of a poly among the batch answers for `ids` (two items each, as
/// [`slot_keys`]), earliest start first (then id). The record is the truth; the index only
/// said which ones to read.
pub fn slots_from(poly_id: i64, items: impl IntoIterator<Item = Option<Item>>) -> DomainResult<Vec<Slot>> {
    let mut items = items.into_iter();
    let mut slots = Vec::new();
    while let Some(record) = items.next() {
        if let Some(s) = slot_from(record, items.next().flatten())? {
            if s.schedule.data.poly_id == poly_id {
                slots.push(s);
            }
        }
    }
    slots.sort_by(|a, b| a.schedule.data.start_time.cmp(&b.schedule.data.start_time).then(a.schedule.id.cmp(&b.schedule.id)));
    Ok(slots)
}

/// The live schedules of a poly on a date, earliest start first (then id): one Query on the
/// day index, one batch read of the records and their booked counts.
pub async fn on_day(deps: &Deps, tenant: &Tenant, poly_id: i64, date: NaiveDate) -> DomainResult<Vec<Slot>> {
    let ids = ids_on_day(deps, tenant, poly_id, date).await?;
    let keys: Vec<Key> = ids.iter().flat_map(|id| slot_keys(tenant, *id)).collect();
    slots_from(poly_id, deps.table.get_many(&keys, None).await?)
}

/// The two ops a reservation adds to its own atomic write to take one place:
/// [0] a condition check: the schedule is still at `slot.version` and not deleted (if it fails, the caller re-reads and retries);
/// [1] booked + 1 on the booked-count item, only while booked < quota when there is a quota (if it fails: "Quota is full").
pub fn hold_ops(tenant: &Tenant, slot: &Slot) -> [Op; 2] {
    let id = slot.schedule.id;
    let unchanged = Op::check(
        record::record_key::<Schedule>(tenant, id),
        Condition::And(vec![Condition::equals(VERSION, slot.version), Condition::attr_not_exists("deleted_at")]),
    );
    [unchanged, take_op(tenant, id, slot.schedule.data.quota, 0)]
}

/// Takes one place while the count is under `quota`, giving back `reclaimed` places in the
/// same op (expired appointment holds): booked + 1 - reclaimed, only while booked - reclaimed < quota.
pub fn take_op(tenant: &Tenant, schedule_id: i64, quota: Option<i64>, reclaimed: i64) -> Op {
    let add = Update::new().add(BOOKED, 1 - reclaimed);
    match quota {
        // A quota is at least 1, so a missing count (0) always has room.
        Some(q) if reclaimed == 0 => Op::update_if(
            booked_key(tenant, schedule_id),
            add,
            Condition::Or(vec![Condition::attr_not_exists(BOOKED), Condition::compare(BOOKED, Cmp::Lt, q)]),
        ),
        Some(q) => Op::update_if(booked_key(tenant, schedule_id), add, Condition::compare(BOOKED, Cmp::Lt, q + reclaimed)),
        None => Op::update(booked_key(tenant, schedule_id), add),
    }
}

/// Gives one place back (a reservation was cancelled): booked - 1, unconditional.
pub fn release_op(tenant: &Tenant, schedule_id: i64) -> Op {
    Op::update(booked_key(tenant, schedule_id), Update::new().add(BOOKED, -1))
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

/// The live schedules on one date (every doctor and poly), from the day index.
async fn on_date(deps: &Deps, tenant: &Tenant, date: &str) -> DomainResult<Vec<Stored<Schedule>>> {
    let year: i32 = date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    let q = Query::partition(year_partition(tenant, year)).sort(SortKey::BeginsWith(format!("{date}#")));
    index_rows(deps, q).await
}

async fn index_rows(deps: &Deps, q: Query) -> DomainResult<Vec<Stored<Schedule>>> {
    antrean_store::query_all(deps.table.as_ref(), q).await?.into_iter().map(decode).collect()
}

/// Which days a listing covers, after the seed's priority: exact date, month + year, month
/// only (of this year), year only; none of them means this year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day(NaiveDate),
    Month { year: i32, month: u32 },
    Year(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    pub doctor_id: Option<i64>,
    pub period: Period,
}

/// The raw query parameters of `GET /api/schedule`; blank ones count as absent.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub doctor_id: Option<String>,
    pub date: Option<String>,
    pub month: Option<String>,
    pub year: Option<String>,
}

impl ListFilter {
    /// Judges every given parameter (422 naming each bad one), then applies the priority.
    pub fn parse(p: &ListParams, this_year: i32) -> DomainResult<ListFilter> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut errors = FieldErrors::new();
        let doctor_id = given(&p.doctor_id).and_then(|s| match s.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                errors.add("doctor_id", "The doctor id field must be an integer.");
                None
            }
        });
        let date = given(&p.date).and_then(|s| parse_date(&mut errors, "date", &s));
        let month = given(&p.month).and_then(|s| match s.parse::<u32>() {
            Ok(m) if (1..=12).contains(&m) && s.len() <= 2 => Some(m),
            _ => {
                errors.add("month", "The month field must be between 1 and 12.");
                None
            }
        });
        let year = given(&p.year).and_then(|s| match s.parse::<i32>() {
            Ok(y) if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) => Some(y),
            _ => {
                errors.add("year", "The year field must be 4 digits.");
                None
            }
        });
        errors.into_result()?;
        let period = match (date, month, year) {
            (Some(d), _, _) => Period::Day(d),
            (None, Some(month), Some(year)) => Period::Month { year, month },
            (None, Some(month), None) => Period::Month { year: this_year, month },
            (None, None, Some(year)) => Period::Year(year),
            (None, None, None) => Period::Year(this_year),
        };
        Ok(ListFilter { doctor_id, period })
    }
}

/// The live schedules a filter asks for: one Query on the day index; by date, start, id.
pub async fn list(deps: &Deps, tenant: &Tenant, filter: &ListFilter) -> DomainResult<Vec<Stored<Schedule>>> {
    let (year, sk) = match filter.period {
        Period::Day(d) => (d.year(), SortKey::BeginsWith(format!("{}#", date_string(d)))),
        Period::Month { year, month } => (year, SortKey::BeginsWith(format!("{year:04}-{month:02}-"))),
        Period::Year(year) => (year, SortKey::Any),
    };
    let mut rows: Vec<Stored<Schedule>> = index_rows(deps, Query::partition(year_partition(tenant, year)).sort(sk))
        .await?
        .into_iter()
        .filter(|s| filter.doctor_id.is_none_or(|d| s.data.doctor_id == d))
        .collect();
    rows.sort_by(|a, b| {
        a.data
            .date
            .cmp(&b.data.date)
            .then(a.data.start_time.cmp(&b.data.start_time))
            .then(a.id.cmp(&b.id))
    });
    Ok(rows)
}

/// The doctors (users, trashed or not) of some schedules, by id: one batch read.
pub async fn doctors_of(deps: &Deps, tenant: &Tenant, schedules: &[Stored<Schedule>]) -> DomainResult<HashMap<i64, Stored<User>>> {
    record::get_many::<User>(deps, tenant, schedules.iter().map(|s| s.data.doctor_id)).await
}

// ---------------------------------------------------------------------------------------
// The form

fn date_string(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// `Y-m-d`, and a real day of the calendar.
fn parse_date(errors: &mut FieldErrors, field: &str, s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        errors.add(field, format!("The {} field must match the format Y-m-d.", validate::human(field)));
        return None;
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.add(field, format!("The {} field must be a valid date.", validate::human(field)));
            None
        }
    }
}

/// `HH:MM` or `HH:MM:SS` (24-hour, two digits each) as `HH:MM:SS`.
pub fn parse_time(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(99)).collect();
    let (h, m, sec) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    (h < 24 && m < 60 && sec < 60).then(|| format!("{h:02}:{m:02}:{sec:02}"))
}

/// Minutes from one `HH:MM:SS` to a later one.
pub fn minutes_between(from: &str, to: &str) -> i64 {
    let m = |t: &str| {
        let n: Vec<i64> = t.split(':').map(|p| p.parse().unwrap_or(0)).collect();
        n.first().copied().unwrap_or(0) * 60 + n.get(1).copied().unwrap_or(0)
    };
    m(to) - m(from)
}

/// Two schedules' hours overlap (same doctor and date are the caller's business).
pub fn overlaps(a: &Schedule, b: &Schedule) -> bool {
    a.start_time < b.end_time && b.start_time < a.end_time
}

/// The fields of a create/update body, valid apart from what only the store can tell
/// (is the doctor a doctor). Every problem at once, in the seed's field order.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleForm {
    pub doctor_id: i64,
    pub date: NaiveDate,
    pub start_time: String,
    pub end_time: String,
    pub quota: Option<i64>,
    pub slot_minutes: Option<i64>,
    pub slot_capacity: Option<i64>,
    pub bpjs_quota: Option<crate::bpjs::quota::Quotas>,
}

/// An optional whole number within `range`; `Some(None)` when absent, `None` when wrong.
fn optional_int(errors: &mut FieldErrors, body: &Value, field: &str, range: std::ops::RangeInclusive<i64>) -> Option<Option<i64>> {
    let n = match body.get(field) {
        None | Some(Value::Null) => return Some(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Some(None),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match n {
        None => errors.add(field, format!("The {} field must be an integer.", validate::human(field))),
        Some(n) if !range.contains(&n) => {
            errors.add(field, format!("The {} field must be between {} and {}.", validate::human(field), range.start(), range.end()))
        }
        Some(n) => return Some(Some(n)),
    }
    None
}

impl ScheduleForm {
    /// Adds what is wrong to `errors`; `Some` only when nothing was.
    pub fn parse(errors: &mut FieldErrors, body: &Value) -> Option<ScheduleForm> {
        let doctor_id = match body.get("doctor_id") {
            None | Some(Value::Null) => {
                errors.add("doctor_id", "The doctor id field is required.");
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                errors.add("doctor_id", "The doctor id field is required.");
                None
            }
            Some(v) => validate::as_id(v).or_else(|| {
                errors.add("doctor_id", "The doctor id field must be an integer.");
                None
            }),
        };
        let date = validate::required_string(errors, body, "date", 10).and_then(|s| parse_date(errors, "date", &s));
        let time = |errors: &mut FieldErrors, field: &str| {
            validate::required_string(errors, body, field, 8).and_then(|s| {
                parse_time(&s).or_else(|| {
                    errors.add(field, format!("The {} field must match the format H:i or H:i:s.", validate::human(field)));
                    None
                })
            })
        };
        let start_time = time(errors, "start_time");
        let end_time = time(errors, "end_time");
        if let (Some(s), Some(e)) = (&start_time, &end_time) {
            if e <= s {
                errors.add("end_time", "The end time field must be a time after start time.");
            }
        }
        let quota = match body.get("quota") {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) if s.trim().is_empty() => Some(None),
            Some(v) => {
                let n = match v {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                };
                match n {
                    None => {
                        errors.add("quota", "The quota field must be an integer.");
                        None
                    }
                    Some(n) if n < 1 => {
                        errors.add("quota", "The quota field must be at least 1.");
                        None
                    }
                    Some(n) if n > MAX_QUOTA => {
                        errors.add("quota", format!("The quota field must not be greater than {MAX_QUOTA}."));
                        None
                    }
                    Some(n) => Some(Some(n)),
                }
            }
        };
        let slot_minutes = optional_int(errors, body, "slot_minutes", SLOT_MINUTES);
        let slot_capacity = optional_int(errors, body, "slot_capacity", 1..=MAX_SLOT_CAPACITY);
        let bpjs_quota = crate::bpjs::quota::Quotas::parse(errors, body, MAX_QUOTA);
        if let (Some(Some(len)), Some(s), Some(e)) = (slot_minutes, &start_time, &end_time) {
            if e > s && minutes_between(s, e) < len {
                errors.add("slot_minutes", "The slot minutes field must not be longer than the schedule.");
            }
        }
        if !errors.is_empty() {
            return None;
        }
        Some(ScheduleForm {
            doctor_id: doctor_id?,
            date: date?,
            start_time: start_time?,
            end_time: end_time?,
            quota: quota?,
            slot_minutes: slot_minutes?,
            slot_capacity: slot_capacity?.filter(|_| slot_minutes.flatten().is_some()),
            bpjs_quota,
        })
    }
}

/// A doctor as a write relies on it: the user at the version read, the role and the poly.
struct Doctor {
    user_id: i64,
    version: i64,
    role_id: i64,
    poly_id: i64,
}

impl Doctor {
    /// The write lands only if the doctor, the role and the poly are as we judged them.
    fn checks(&self, tenant: &Tenant) -> Vec<Op> {
        let live = || Condition::And(vec![Condition::Exists, Condition::attr_not_exists("deleted_at")]);
        vec![
            Op::check(
                record::record_key::<User>(tenant, self.user_id),
                Condition::And(vec![Condition::equals(VERSION, self.version), Condition::attr_not_exists("deleted_at")]),
            ),
            Op::check(record::record_key::<Role>(tenant, self.role_id), live()),
            Op::check(record::record_key::<Poly>(tenant, self.poly_id), live()),
        ]
    }
}

/// Is `id` a live user with the doctor role and a live poly? Adds the reason to `errors` if not.
async fn doctor(deps: &Deps, tenant: &Tenant, errors: &mut FieldErrors, id: i64) -> DomainResult<Option<Doctor>> {
    let invalid = |errors: &mut FieldErrors, m: &str| {
        errors.add("doctor_id", m);
        Ok(None)
    };
    let Some(item) = deps.table.get(&record::record_key::<User>(tenant, id)).await? else {
        return invalid(errors, "The selected doctor id is invalid.");
    };
    let version = item.get(VERSION).and_then(Value::as_i64).unwrap_or(0);
    let user: Stored<User> = decode(item)?;
    if user.is_trashed() {
        return invalid(errors, "The selected doctor id is invalid.");
    }
    let role_id = match record::find_by_unique::<Role>(deps, tenant, "name", role::DOCTOR).await? {
        Some(r) if user.data.roles.contains(&r) && record::get::<Role>(deps, tenant, r).await?.is_some_and(|r| !r.is_trashed()) => r,
        _ => return invalid(errors, "The selected doctor id is not a doctor."),
    };
    let Some(poly_id) = user.data.poly_id else {
        return invalid(errors, "The selected doctor has no poly.");
    };
    if record::get::<Poly>(deps, tenant, poly_id).await?.is_none_or(|p| p.is_trashed()) {
        return invalid(errors, "The selected doctor's poly has been deleted.");
    }
    Ok(Some(Doctor {
        user_id: id,
        version,
        role_id,
        poly_id,
    }))
}

/// The poly of a live doctor (as schedules require one), or the reason in `errors` under `doctor_id`.
pub(crate) async fn doctor_poly(deps: &Deps, tenant: &Tenant, errors: &mut FieldErrors, id: i64) -> DomainResult<Option<i64>> {
    Ok(doctor(deps, tenant, errors, id).await?.map(|d| d.poly_id))
}

/// The body judged in full: the form and its doctor, or every problem at once.
async fn judge(deps: &Deps, tenant: &Tenant, body: &Value) -> DomainResult<(ScheduleForm, Doctor)> {
    let mut errors = FieldErrors::new();
    let mut form = ScheduleForm::parse(&mut errors, body);
    // The doctor is judged even when other fields are wrong, so one answer names everything.
    let doctor_id = form
        .as_ref()
        .map(|f| f.doctor_id)
        .or_else(|| body.get("doctor_id").and_then(validate::as_id));
    let mut doc = None;
    if let Some(id) = doctor_id.filter(|_| !errors.has("doctor_id")) {
        doc = doctor(deps, tenant, &mut errors, id).await?;
    }
    if !errors.is_empty() {
        // Re-order into the seed's field order: doctor_id first.
        let mut ordered = FieldErrors::new();
        for field in ["doctor_id", "date", "start_time", "end_time", "quota", "quota_jkn", "quota_non_jkn", "slot_minutes", "slot_capacity"] {
            if let Some(Value::Array(msgs)) = errors.0.get(field) {
                for m in msgs {
                    ordered.add(field, m.as_str().unwrap_or_default());
                }
            }
        }
        form = None;
        ordered.into_result()?;
    }
    match (form, doc) {
        (Some(f), Some(d)) => Ok((f, d)),
        _ => Err(DomainError::Internal("a schedule form passed without its doctor".into())),
    }
}

// ---------------------------------------------------------------------------------------
// Writes

fn object_of(stored: &Stored<Schedule>) -> DomainResult<Item> {
    match serde_json::to_value(stored).map_err(|e| DomainError::Internal(e.to_string()))? {
        Value::Object(mut fields) => {
            // Absent, not null: "not trashed" is then a plain attribute_not_exists condition.
            if fields.get("deleted_at").is_some_and(Value::is_null) {
                fields.remove("deleted_at");
            }
            Ok(fields)
        }
        _ => Err(DomainError::Internal("a schedule must serialise to an object".into())),
    }
}

fn keyed(key: Key, mut fields: Item, version: i64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    item.append(&mut fields);
    item.insert(VERSION.into(), version.into());
    item
}

fn record_item(tenant: &Tenant, stored: &Stored<Schedule>, version: i64) -> DomainResult<Item> {
    Ok(keyed(record::record_key::<Schedule>(tenant, stored.id), object_of(stored)?, version))
}

fn index_item(tenant: &Tenant, stored: &Stored<Schedule>, version: i64) -> DomainResult<Item> {
    Ok(keyed(index_key(tenant, &stored.data.date, stored.id), object_of(stored)?, version))
}

/// Moves a doctor-day's `rev` on, failing if anyone moved it since we read `rev`.
fn bump_day(tenant: &Tenant, doctor_id: i64, date: &str, rev: i64) -> Op {
    let cond = if rev == 0 {
        Condition::attr_not_exists(REV)
    } else {
        Condition::equals(REV, rev)
    };
    Op::update_if(doctor_day_key(tenant, doctor_id, date), Update::new().add(REV, 1), cond)
}

/// "No place is booked", as a condition on the booked item.
fn none_booked() -> Condition {
    Condition::Or(vec![Condition::attr_not_exists(BOOKED), Condition::compare(BOOKED, Cmp::Le, 0)])
}

async fn backoff(attempt: u32) {
    let jitter = rand::random::<u64>() % (2 + u64::from(attempt.min(20)) * 3);
    tokio::time::sleep(Duration::from_millis(1 + jitter)).await;
}

fn busy() -> DomainError {
    DomainError::Conflict("The schedule is being changed by someone else; try again.".into())
}

/// A lost race: nothing was written; read again.
fn lost(e: &StoreError) -> bool {
    matches!(e, StoreError::ConditionFailed { .. } | StoreError::Conflict)
}

/// Refuses a schedule that overlaps another live one of the same doctor on its date.
async fn refuse_overlap(deps: &Deps, tenant: &Tenant, s: &Schedule, own_id: Option<i64>) -> DomainResult<()> {
    let clash = on_date(deps, tenant, &s.date)
        .await?
        .iter()
        .any(|o| Some(o.id) != own_id && o.data.doctor_id == s.doctor_id && overlaps(&o.data, s));
    if clash {
        return Err(DomainError::Unprocessable(CONFLICT.into()));
    }
    Ok(())
}

/// Creates a schedule (seed "CREATE / STORE").
pub async fn create(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Stored<Schedule>> {
    for attempt in 0..MAX_ATTEMPTS {
        let (form, doc) = judge(deps, tenant, body).await?;
        let data = Schedule {
            doctor_id: form.doctor_id,
            poly_id: doc.poly_id,
            date: date_string(form.date),
            start_time: form.start_time,
            end_time: form.end_time,
            quota: form.quota,
            slot_minutes: form.slot_minutes,
            slot_capacity: form.slot_capacity,
            bpjs_quota: form.bpjs_quota,
        };
        // `rev` before the day's schedules: a writer we miss in the query moved `rev` first.
        let rev = doctor_day_rev(deps, tenant, data.doctor_id, &data.date).await?;
        refuse_overlap(deps, tenant, &data, None).await?;
        let last = record::last_id(deps, tenant, Schedule::KIND).await?;
        let now = deps.clock.now();
        let ts = stamp(now);
        let stored = Stored {
            id: last + 1,
            data,
            created_at: ts.clone(),
            updated_at: ts,
            deleted_at: None,
        };
        let mut booked = Item::new();
        let bk = booked_key(tenant, stored.id);
        booked.insert("pk".into(), bk.pk.into());
        booked.insert("sk".into(), bk.sk.into());
        booked.insert(BOOKED.into(), 0.into());
        let mut ops = vec![
            record::bump_counter(tenant, Schedule::KIND, last, 1),
            Op::put_new(record_item(tenant, &stored, 1)?),
            Op::put_new(index_item(tenant, &stored, 1)?),
            Op::put_new(booked),
            bump_day(tenant, stored.data.doctor_id, &stored.data.date, rev),
        ];
        ops.extend(doc.checks(tenant));
        ops.push(audit::entry(tenant, actor, Action::Create, Schedule::KIND, stored.id, now));
        match deps.table.write(ops).await {
            Ok(()) => return Ok(stored),
            Err(e) if lost(&e) => backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy())
}

/// Replaces a live schedule's fields (seed "UPDATE"): an absent `quota` means unlimited.
pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Stored<Schedule>> {
    for attempt in 0..MAX_ATTEMPTS {
        // An unknown id is a 404 before the body is judged.
        let (current, version) = match read(deps, tenant, id).await? {
            Some((s, v)) if !s.is_trashed() => (s, v),
            _ => return Err(not_found()),
        };
        let (form, doc) = judge(deps, tenant, body).await?;
        let data = Schedule {
            doctor_id: form.doctor_id,
            poly_id: doc.poly_id,
            date: date_string(form.date),
            start_time: form.start_time,
            end_time: form.end_time,
            quota: form.quota,
            slot_minutes: form.slot_minutes,
            slot_capacity: form.slot_capacity,
            bpjs_quota: form.bpjs_quota,
        };
        let old = &current.data;
        let moved = old.date != data.date || old.doctor_id != data.doctor_id || old.poly_id != data.poly_id;
        let booked_now = booked(deps, tenant, id).await?;
        if moved && booked_now > 0 {
            return Err(DomainError::Conflict(HAS_BOOKINGS_MOVE.into()));
        }
        // Booked slots are counted per start time: their cut cannot change under them.
        let reslotted = (old.slot_minutes, old.slot_capacity, &old.start_time, &old.end_time) != (data.slot_minutes, data.slot_capacity, &data.start_time, &data.end_time);
        if reslotted && old.slot_minutes.is_some() && booked_now > 0 {
            return Err(DomainError::Conflict(HAS_BOOKINGS_SLOTS.into()));
        }
        let moved = moved || (reslotted && old.slot_minutes.is_some());
        if let Some(q) = data.quota {
            if q < booked_now {
                return Err(DomainError::Conflict(quota_below_booked(booked_now)));
            }
        }
        let new_rev = doctor_day_rev(deps, tenant, data.doctor_id, &data.date).await?;
        let same_day = old.doctor_id == data.doctor_id && old.date == data.date;
        let old_rev = if same_day {
            new_rev
        } else {
            doctor_day_rev(deps, tenant, old.doctor_id, &old.date).await?
        };
        refuse_overlap(deps, tenant, &data, Some(id)).await?;

        let now = deps.clock.now();
        let stored = Stored {
            id,
            data,
            created_at: current.created_at.clone(),
            updated_at: stamp(now),
            deleted_at: None,
        };
        let mut ops = vec![Op::put_if(
            record_item(tenant, &stored, version + 1)?,
            Condition::And(vec![Condition::equals(VERSION, version), Condition::attr_not_exists("deleted_at")]),
        )];
        let old_index = index_key(tenant, &old.date, id);
        if old_index != index_key(tenant, &stored.data.date, id) {
            ops.push(Op::delete(old_index));
        }
        ops.push(Op::put(index_item(tenant, &stored, version + 1)?));
        ops.push(bump_day(tenant, stored.data.doctor_id, &stored.data.date, new_rev));
        if !same_day {
            ops.push(bump_day(tenant, old.doctor_id, &old.date, old_rev));
        }
        // The bookings are judged again inside the write: a reservation may land meanwhile.
        let mut booked_rules = Vec::new();
        if moved {
            booked_rules.push(none_booked());
        }
        if let Some(q) = stored.data.quota {
            booked_rules.push(Condition::Or(vec![
                Condition::attr_not_exists(BOOKED),
                Condition::compare(BOOKED, Cmp::Le, q),
            ]));
        }
        // One rule goes alone: DynamoDB refuses an `And` of one as redundant parentheses.
        let booked_rule = match booked_rules.len() {
            0 => None,
            1 => booked_rules.pop(),
            _ => Some(Condition::And(booked_rules)),
        };
        if let Some(rule) = booked_rule {
            ops.push(Op::check(booked_key(tenant, id), rule));
        }
        ops.extend(doc.checks(tenant));
        ops.push(audit::entry(tenant, actor, Action::Update, Schedule::KIND, id, now));
        match deps.table.write(ops).await {
            Ok(()) => return Ok(stored),
            // Someone changed the schedule, its day, its bookings or its doctor: judge again.
            Err(e) if lost(&e) => backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy())
}

/// Soft delete (seed "DELETE / DESTROY"): refused while places are booked.
pub async fn trash(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    for attempt in 0..MAX_ATTEMPTS {
        let (current, version) = match read(deps, tenant, id).await? {
            Some((s, v)) if !s.is_trashed() => (s, v),
            _ => return Err(not_found()),
        };
        if booked(deps, tenant, id).await? > 0 {
            return Err(DomainError::Conflict(HAS_BOOKINGS_DELETE.into()));
        }
        let s = &current.data;
        let rev = doctor_day_rev(deps, tenant, s.doctor_id, &s.date).await?;
        let now = deps.clock.now();
        let ops = vec![
            Op::update_if(
                record::record_key::<Schedule>(tenant, id),
                Update::new().set("deleted_at", stamp(now)).set("updated_at", stamp(now)).add(VERSION, 1),
                Condition::And(vec![Condition::equals(VERSION, version), Condition::attr_not_exists("deleted_at")]),
            ),
            Op::delete(index_key(tenant, &s.date, id)),
            bump_day(tenant, s.doctor_id, &s.date, rev),
            Op::check(booked_key(tenant, id), none_booked()),
            audit::entry(tenant, actor, Action::Delete, Schedule::KIND, id, now),
        ];
        match deps.table.write(ops).await {
            Ok(()) => return Ok(()),
            Err(e) if lost(&e) => backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use antrean_store::embedded::EmbeddedTable;
    use serde_json::json;

    use super::*;

    fn schedule(start: &str, end: &str, quota: Option<i64>) -> Schedule {
        Schedule {
            doctor_id: 3,
            poly_id: 1,
            date: "2025-12-16".into(),
            start_time: start.into(),
            end_time: end.into(),
            quota,
            slot_minutes: None,
            slot_capacity: None,
            bpjs_quota: None,
        }
    }

    fn slot_of(quota: Option<i64>, booked: i64) -> Slot {
        let schedule = Stored {
            id: 7,
            data: schedule("10:00:00", "15:00:00", quota),
            created_at: "t".into(),
            updated_at: "t".into(),
            deleted_at: None,
        };
        Slot {
            schedule,
            version: 4,
            booked,
        }
    }

    fn errors_of(body: Value) -> Value {
        let mut e = FieldErrors::new();
        assert!(ScheduleForm::parse(&mut e, &body).is_none(), "{body} should be refused");
        Value::Object(e.0)
    }

    #[test]
    fn times_take_minutes_or_seconds() {
        assert_eq!(parse_time("10:00").as_deref(), Some("10:00:00"));
        assert_eq!(parse_time("23:59:59").as_deref(), Some("23:59:59"));
        for bad in ["24:00", "9:00", "10:60", "10:00:60", "10", "10:00:00:00", "ab:cd", "", "10:0"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_seed_body_parses() {
        let mut e = FieldErrors::new();
        let f = ScheduleForm::parse(
            &mut e,
            &json!({"doctor_id": "3", "date": "2025-12-16", "start_time": "10:00", "end_time": "15:00", "quota": 25}),
        )
        .unwrap();
        assert_eq!(
            f,
            ScheduleForm {
                doctor_id: 3,
                date: NaiveDate::from_ymd_opt(2025, 12, 16).unwrap(),
                start_time: "10:00:00".into(),
                end_time: "15:00:00".into(),
                quota: Some(25),
                slot_minutes: None,
                slot_capacity: None,
                bpjs_quota: None,
            }
        );
        let f = ScheduleForm::parse(
            &mut e,
            &json!({"doctor_id": 3, "date": "2025-12-16", "start_time": "10:00:00", "end_time": "15:30", "quota": null}),
        )
        .unwrap();
        assert_eq!(f.quota, None);
        assert!(e.is_empty());
    }

    #[test]
    fn every_problem_is_named() {
        assert_eq!(
            errors_of(json!({})),
            json!({"doctor_id": ["The doctor id field is required."], "date": ["The date field is required."],
                "start_time": ["The start time field is required."], "end_time": ["The end time field is required."]})
        );
        assert_eq!(
            errors_of(json!({"doctor_id": "x", "date": "2025-02-30", "start_time": "25:00", "end_time": "10:00", "quota": 0})),
            json!({"doctor_id": ["The doctor id field must be an integer."], "date": ["The date field must be a valid date."],
                "start_time": ["The start time field must match the format H:i or H:i:s."], "quota": ["The quota field must be at least 1."]})
        );
        assert_eq!(
            errors_of(json!({"doctor_id": 3, "date": "16-12-2025", "start_time": "10:00", "end_time": "10:00", "quota": "many"})),
            json!({"date": ["The date field must match the format Y-m-d."], "end_time": ["The end time field must be a time after start time."],
                "quota": ["The quota field must be an integer."]})
        );
        assert_eq!(
            errors_of(json!({"doctor_id": 3, "date": "2025-12-16", "start_time": "10:00", "end_time": "11:00", "quota": 1.5}))["quota"],
            json!(["The quota field must be an integer."])
        );
    }

    #[test]
    fn overlap_is_strict_at_the_ends() {
        let a = schedule("08:00:00", "12:00:00", None);
        assert!(overlaps(&a, &schedule("11:59:00", "13:00:00", None)));
        assert!(overlaps(&a, &schedule("07:00:00", "08:00:01", None)));
        assert!(overlaps(&a, &schedule("09:00:00", "10:00:00", None)));
        assert!(overlaps(&a, &schedule("07:00:00", "13:00:00", None)));
        assert!(!overlaps(&a, &schedule("12:00:00", "16:00:00", None)));
        assert!(!overlaps(&a, &schedule("06:00:00", "08:00:00", None)));
    }

    #[test]
    fn room_is_the_quota_or_no_limit() {
        assert!(slot_of(None, 1000).has_room());
        assert!(slot_of(Some(2), 1).has_room());
        assert!(!slot_of(Some(2), 2).has_room());
        assert!(!slot_of(Some(2), 3).has_room());
    }

    #[test]
    fn hold_checks_the_version_and_the_quota() {
        let t = Tenant::parse("klinik").unwrap();
        let [check, take] = hold_ops(&t, &slot_of(Some(25), 3));
        assert_eq!(
            check,
            Op::check(
                Key::new("T#klinik#SCHEDULE", "000000000007"),
                Condition::And(vec![Condition::equals("_v", 4), Condition::attr_not_exists("deleted_at")])
            )
        );
        assert_eq!(
            take,
            Op::update_if(
                Key::new("T#klinik#SCHEDULE_BOOKED", "000000000007"),
                Update::new().add("booked", 1),
                Condition::Or(vec![Condition::attr_not_exists("booked"), Condition::compare("booked", Cmp::Lt, 25)])
            )
        );
        let [_, unlimited] = hold_ops(&t, &slot_of(None, 3));
        assert_eq!(
            unlimited,
            Op::update(Key::new("T#klinik#SCHEDULE_BOOKED", "000000000007"), Update::new().add("booked", 1))
        );
        assert_eq!(
            release_op(&t, 7),
            Op::update(Key::new("T#klinik#SCHEDULE_BOOKED", "000000000007"), Update::new().add("booked", -1))
        );
    }

    #[test]
    fn filters_follow_the_seed_priority() {
        let p = |d: Option<&str>, m: Option<&str>, y: Option<&str>| ListParams {
            doctor_id: None,
            date: d.map(Into::into),
            month: m.map(Into::into),
            year: y.map(Into::into),
        };
        let period = |params: ListParams| ListFilter::parse(&params, 2026).unwrap().period;
        let day = NaiveDate::from_ymd_opt(2025, 12, 15).unwrap();
        assert_eq!(period(p(Some("2025-12-15"), Some("1"), Some("2024"))), Period::Day(day));
        assert_eq!(period(p(None, Some("02"), Some("2024"))), Period::Month { year: 2024, month: 2 });
        assert_eq!(period(p(None, Some("2"), None)), Period::Month { year: 2026, month: 2 });
        assert_eq!(period(p(None, None, Some("2024"))), Period::Year(2024));
        assert_eq!(period(p(Some(" "), None, None)), Period::Year(2026));
        match ListFilter::parse(
            &ListParams {
                doctor_id: Some("abc".into()),
                ..p(Some("2025-12-15month=12"), Some("13"), Some("25"))
            },
            2026,
        ) {
            Err(DomainError::Validation(e)) => assert_eq!(
                Value::Object(e.0),
                json!({"doctor_id": ["The doctor id field must be an integer."], "date": ["The date field must match the format Y-m-d."],
                    "month": ["The month field must be between 1 and 12."], "year": ["The year field must be 4 digits."]})
            ),
            other => panic!("{other:?}"),
        }
    }

    async fn clinic() -> (tempfile::TempDir, Deps, Tenant, Actor) {
        let dir = tempfile::tempdir().unwrap();
        let deps = Deps {
            table: Arc::new(EmbeddedTable::open(dir.path()).unwrap()),
            clock: Arc::new(crate::SystemClock),
            tokens: Arc::new(crate::auth::token::TokenKeys::new(&[7u8; 32], chrono::Duration::hours(1)).unwrap()),
        };
        let tenant = Tenant::parse("klinik").unwrap();
        let ts = "2025-01-01T00:00:00.000000Z";
        deps.table.write(crate::role::seed_ops(&tenant, ts)).await.unwrap();
        deps.table
            .write(record::seed_ops(&tenant, vec![Poly { name: "Poli Umum".into() }], ts).unwrap())
            .await
            .unwrap();
        let doctor = User {
            name: "Harris A".into(),
            email: "harris@mail.com".into(),
            email_verified_at: None,
            poly_id: Some(1),
            username: "harris".into(),
            roles: vec![3],
            role_since: vec![],
            whatsapp_number: None,
            sessions_revoked_ms: None,
        };
        deps.table.write(record::seed_ops(&tenant, vec![doctor], ts).unwrap()).await.unwrap();
        (dir, deps, tenant, Actor::system("test"))
    }

    /// Places are taken with `hold_ops` and given back with `release_op`; the quota and
    /// the bookings guard updates and deletes.
    #[tokio::test]
    async fn bookings_guard_the_schedule() {
        let (_dir, deps, t, actor) = clinic().await;
        let body = json!({"doctor_id": 1, "date": "2025-12-16", "start_time": "10:00", "end_time": "15:00", "quota": 2});
        let s = create(&deps, &t, &actor, &body).await.unwrap();
        assert_eq!(s.data.poly_id, 1);
        let day = NaiveDate::from_ymd_opt(2025, 12, 16).unwrap();
        let slots = on_day(&deps, &t, 1, day).await.unwrap();
        assert_eq!(slots.len(), 1);
        assert!(on_day(&deps, &t, 2, day).await.unwrap().is_empty());
        for _ in 0..2 {
            let slot = slot(&deps, &t, s.id).await.unwrap();
            assert!(slot.has_room());
            deps.table.write(hold_ops(&t, &slot).to_vec()).await.unwrap();
        }
        let full = slot(&deps, &t, s.id).await.unwrap();
        assert_eq!(full.booked, 2);
        assert!(!full.has_room());
        assert_eq!(
            deps.table.write(hold_ops(&t, &full).to_vec()).await,
            Err(StoreError::ConditionFailed { index: 1 })
        );

        let shrink = json!({"doctor_id": 1, "date": "2025-12-16", "start_time": "10:00", "end_time": "15:00", "quota": 1});
        match update(&deps, &t, &actor, s.id, &shrink).await {
            Err(DomainError::Conflict(m)) => assert_eq!(m, quota_below_booked(2)),
            other => panic!("{other:?}"),
        }
        let mut moved = body.clone();
        moved["date"] = json!("2025-12-17");
        assert!(matches!(update(&deps, &t, &actor, s.id, &moved).await, Err(DomainError::Conflict(m)) if m == HAS_BOOKINGS_MOVE));
        assert!(matches!(trash(&deps, &t, &actor, s.id).await, Err(DomainError::Conflict(m)) if m == HAS_BOOKINGS_DELETE));

        // A stale slot (the schedule changed since it was read) fails on the version check.
        let later = json!({"doctor_id": 1, "date": "2025-12-16", "start_time": "10:00", "end_time": "16:00", "quota": 3});
        update(&deps, &t, &actor, s.id, &later).await.unwrap();
        assert_eq!(
            deps.table.write(hold_ops(&t, &full).to_vec()).await,
            Err(StoreError::ConditionFailed { index: 0 })
        );

        deps.table.write(vec![release_op(&t, s.id)]).await.unwrap();
        deps.table.write(vec![release_op(&t, s.id)]).await.unwrap();
        update(&deps, &t, &actor, s.id, &moved).await.unwrap();
        assert!(on_day(&deps, &t, 1, day).await.unwrap().is_empty());
        assert_eq!(on_day(&deps, &t, 1, day.succ_opt().unwrap()).await.unwrap().len(), 1);
        trash(&deps, &t, &actor, s.id).await.unwrap();
        assert!(matches!(slot(&deps, &t, s.id).await, Err(DomainError::NotFound(m)) if m == "Schedule not found"));
        assert!(on_day(&deps, &t, 1, day.succ_opt().unwrap()).await.unwrap().is_empty());
        let all = list(
            &deps,
            &t,
            &ListFilter {
                doctor_id: None,
                period: Period::Year(2025),
            },
        )
        .await
        .unwrap();
        assert!(all.is_empty());
    }

    #[tokio::test]
    async fn racing_overlapping_creates_leave_one() {
        let (_dir, deps, t, actor) = clinic().await;
        let tries = (0..10).map(|i| {
            let (deps, t, actor) = (deps.clone(), t.clone(), actor.clone());
            tokio::spawn(async move {
                let body = json!({"doctor_id": 1, "date": "2025-12-16", "start_time": format!("{:02}:00", 8 + i % 3), "end_time": "12:00"});
                create(&deps, &t, &actor, &body).await
            })
        });
        let results: Vec<_> = futures::future::join_all(tries).await.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        for r in results.iter().filter(|r| r.is_err()) {
            assert!(matches!(r, Err(DomainError::Unprocessable(m)) if m == CONFLICT), "{r:?}");
        }
        let day = NaiveDate::from_ymd_opt(2025, 12, 16).unwrap();
        assert_eq!(
            list(
                &deps,
                &t,
                &ListFilter {
                    doctor_id: Some(1),
                    period: Period::Day(day)
                }
            )
            .await
            .unwrap()
            .len(),
            1
        );
    }
}
