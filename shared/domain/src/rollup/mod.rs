//! Rollups: per clinic, poly and day, the counts a dashboard or a per-day report needs, kept
//! up to date in the same atomic write as the reservation change they count. A year's
//! dashboard then reads one item per poly per day, however many patients came.
//!
//! Key: `T#<clinic>#ROLLUP#<yyyy>` / `<yyyy-mm-dd>#<poly id, 12 digits>`. A year is one Query,
//! a month or any date range inside a year one Query with a sort-key range, a range across a
//! new year two.
//!
//! Attributes (numbers; a missing one counts as 0):
//! - `b_<status>` / `g_<status>`: reservations of that day and poly now in that status, for
//!   BPJS (`b_`) and general (`g_`) patients, e.g. `b_no_show`;
//! - `h00` … `h23`: reservations registered in that hour of the clinic's day;
//! - `wait_sum` (seconds) and `wait_n`: waiting times of patients called in to the doctor;
//! - `wait_min`, `wait_max` (seconds): the shortest and longest of those waits;
//! - `moved_in` / `moved_out`: patients come from / sent on to another poly
//!   (`clinic_flow::poly_transfer`; a transferred reservation counts at every poly it visited,
//!   see `Reservation::all_facts`);
//! - `rev`: bumped by every change, so a rebuild can tell that someone wrote meanwhile;
//! - what the day's boards show of the poly (the numbers at a called stage, the recent calls,
//!   the `board` mark): `board::state`, written in the same updates; a rebuild keeps it.
//!
//! The services after the doctor have rollups of their own ([`services`]).
//!
//! Counts move only by `ADD` (see [`delta_ops`]): two receptionists registering at the same
//! moment both land, in any order, without reading first.
//!
//! `wait_min` / `wait_max` cannot be ADDed. The change that brings a new wait reads the bucket
//! first (in the batch it reads anyway) and [`fold_extremes`] sets the new extreme in its own
//! write, on condition that the extreme is still what it read: a writer who moved it first
//! makes the write fail, and the change reads again. A wait taken back (a reservation moved to
//! another day or poly after it was called in) is only removed from the extremes by
//! [`rebuild_day`]. Sum and count, hence averages, are always exact.
use std::collections::BTreeMap;

use antrean_store::{Condition, Item, Key, Op, Update};
use chrono::{Datelike, NaiveDate};

use crate::status::WORKFLOW;
use crate::tenant::{id_key, Tenant};

mod day;
mod facts;
mod rebuild;
pub mod services;
#[cfg(test)]
mod tests;

pub use day::{read, read_with_rev, sort_key_range, DayPoly, Insurance};
pub use facts::{waiting_seconds, ReservationFacts, StageTimes};
pub use rebuild::{compute, rebuild_day, RebuildOutcome};


/// Status slots: the seven workflow codes in order, then one for any other code.
pub const SLOTS: usize = 8;
pub(crate) const OTHER: usize = 7;
pub(crate) const BPJS: usize = 0;
pub(crate) const GENERAL: usize = 1;

pub fn slot_of(code: &str) -> usize {
    WORKFLOW.iter().position(|(c, _, _)| c.eq_ignore_ascii_case(code)).unwrap_or(OTHER)
}

pub(crate) fn slot_code(slot: usize) -> &'static str {
    WORKFLOW.get(slot).map(|(c, _, _)| *c).unwrap_or("OTHER")
}

pub(crate) fn count_attr(bpjs: bool, slot: usize) -> String {
    format!("{}_{}", if bpjs { "b" } else { "g" }, slot_code(slot).to_ascii_lowercase())
}

pub(crate) fn hour_attr(hour: u32) -> String {
    format!("h{hour:02}")
}

pub fn partition(tenant: &Tenant, year: i32) -> String {
    tenant.partition(&format!("ROLLUP#{year:04}"))
}

pub fn key(tenant: &Tenant, date: NaiveDate, poly_id: i64) -> Key {
    Key::new(partition(tenant, date.year()), format!("{}#{}", date.format("%Y-%m-%d"), id_key(poly_id)))
}


fn bucket_update(tenant: &Tenant, facts: &ReservationFacts, adds: &BTreeMap<String, i64>) -> Op {
    let mut u = Update::new().set("date", facts.date.format("%Y-%m-%d").to_string()).set("poly_id", facts.poly_id);
    for (a, by) in adds {
        if *by != 0 {
            u = u.add(a, *by);
        }
    }
    Op::update(key(tenant, facts.date, facts.poly_id), u.add("rev", 1))
}

/// The rollup changes that one reservation change makes: `before` is the reservation as it
/// was (`None` when it is being created), `after` as it will be. Put these ops into the same
/// atomic write as the reservation itself. Pure; only `ADD` (and idempotent `SET`s of the
/// bucket's own date and poly), so concurrent writers compose. Empty when nothing counted
/// changed.
pub fn delta_ops(tenant: &Tenant, before: Option<&ReservationFacts>, after: &ReservationFacts) -> Vec<Op> {
    let mut ops = Vec::new();
    match before {
        Some(b) if b.same_bucket(after) => {
            let mut adds: BTreeMap<String, i64> = BTreeMap::new();
            for (a, n) in b.contribution() {
                *adds.entry(a).or_default() -= n;
            }
            for (a, n) in after.contribution() {
                *adds.entry(a).or_default() += n;
            }
            if adds.values().any(|n| *n != 0) {
                ops.push(bucket_update(tenant, after, &adds));
            }
        }
        Some(b) => {
            ops.extend(removal_ops(tenant, b));
            ops.push(bucket_update(tenant, after, &after.contribution().into_iter().collect()));
        }
        None => ops.push(bucket_update(tenant, after, &after.contribution().into_iter().collect())),
    }
    ops
}

/// The rollup change for a reservation that stops existing (a hard delete).
pub fn removal_ops(tenant: &Tenant, before: &ReservationFacts) -> Vec<Op> {
    let adds: BTreeMap<String, i64> = before.contribution().into_iter().map(|(a, n)| (a, -n)).collect();
    vec![bucket_update(tenant, before, &adds)]
}

/// Folds the waiting-time extremes into the reservation's own atomic write, given the bucket
/// as this attempt read it: a new `wait_min` / `wait_max` is set on the bucket's update, on
/// condition that the extremes are still as read (if another writer moved one first, the
/// write fails and the caller reads again). Nothing is added when the extremes already hold.
pub fn fold_extremes(ops: &mut Vec<Op>, tenant: &Tenant, bucket: Option<&Item>, before: Option<&ReservationFacts>, after: &ReservationFacts) {
    let Some(w) = after.wait_secs else { return };
    if before.is_some_and(|b| b.same_bucket(after) && b.wait_secs == Some(w)) {
        return;
    }
    let read = |attr: &str| bucket.and_then(|b| b.get(attr)).and_then(serde_json::Value::as_i64);
    let as_read = |attr: &str| match read(attr) {
        Some(v) => Condition::equals(attr, v),
        None => Condition::attr_not_exists(attr),
    };
    let mut sets = Vec::new();
    let mut conditions = Vec::new();
    if read("wait_min").is_none_or(|m| w < m) {
        sets.push(("wait_min", w));
        conditions.push(as_read("wait_min"));
    }
    if read("wait_max").is_none_or(|m| w > m) {
        sets.push(("wait_max", w));
        conditions.push(as_read("wait_max"));
    }
    if sets.is_empty() {
        return;
    }
    let k = key(tenant, after.date, after.poly_id);
    let condition = Condition::And(conditions);
    let at = ops.iter().position(|op| matches!(op, Op::Update { key, condition: None, .. } if *key == k));
    let mut update = match at {
        Some(i) => match ops.remove(i) {
            Op::Update { update, .. } => update,
            _ => unreachable!("found as an update"),
        },
        None => Update::new().set("date", after.date.format("%Y-%m-%d").to_string()).set("poly_id", after.poly_id),
    };
    for (attr, v) in sets {
        update = update.set(attr, v);
    }
    ops.push(Op::update_if(k, update, condition));
}
