//! Time slots: a doctor schedule with `slot_minutes` is cut into slots from its start, each
//! taking `slot_capacity` bookings (default 1); a slot that would run past the end is not
//! offered. A schedule without a slot length is booked as a whole, up to its quota.
//!
//! Places are counted twice, both in the same write as the booking or hold that takes them:
//! - the schedule's booked count (`crate::schedule`, `T#<clinic>#SCHEDULE_BOOKED` / `<id>`),
//!   under the quota, shared with walk-in reservations, so a day is never over quota;
//! - the slot's taken count, `T#<clinic>#SLOT_TAKEN#<schedule id>` / `<HH:MM:SS>` (`taken`),
//!   under the slot's capacity: of any number of racing bookings for a capacity-1 slot exactly
//!   one write's condition holds.
//!
//! Holds that ran out still sit in both counts until something gives them back: a read
//! subtracts them (the stored deadline decides, never the TTL sweep), and a booking that
//! finds no room otherwise reclaims them in its own write (see [`take_ops`]).
use std::collections::HashMap;

use antrean_store::{Cmp, Condition, Key, Op, Query, Update};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;

use super::hold::{self, HoldRef};
use crate::error::{DomainError, DomainResult};
use crate::record::Stored;
use crate::schedule::{self, Schedule};
use crate::tenant::{id_key, Tenant};
use crate::Deps;

const TAKEN: &str = "taken";
/// The seed-003 meaning of error 4009.
pub const TIME_TAKEN: &str = "This time is already taken, choose another free time.";
pub const NO_SUCH_SLOT: &str = "The selected slot is not a time slot of this schedule.";
pub const PASSED: &str = "This time has already passed, choose a later one.";

/// One slot of a schedule: `HH:MM:SS` start and end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotTime {
    pub start: String,
    pub end: String,
}

fn minutes(t: &str) -> i64 {
    schedule::minutes_between("00:00:00", t)
}

fn clock(m: i64) -> String {
    format!("{:02}:{:02}:00", m / 60, m % 60)
}

/// The slots of a schedule, in order; empty when it has no slot length.
pub fn cut(s: &Schedule) -> Vec<SlotTime> {
    let Some(len) = s.slot_minutes.filter(|l| *l > 0) else { return vec![] };
    let (start, end) = (minutes(&s.start_time), minutes(&s.end_time));
    (0..)
        .map(|i| start + i * len)
        .take_while(|m| m + len <= end)
        .map(|m| SlotTime { start: clock(m), end: clock(m + len) })
        .collect()
}

pub fn capacity(s: &Schedule) -> i64 {
    s.slot_capacity.unwrap_or(1)
}

/// `HH:MM` or `HH:MM:SS` naming one of the schedule's slots.
pub fn find(s: &Schedule, asked: &str) -> Option<SlotTime> {
    let asked = schedule::parse_time(asked)?;
    cut(s).into_iter().find(|t| t.start == asked)
}

pub fn taken_key(tenant: &Tenant, schedule_id: i64, start: &str) -> Key {
    Key::new(tenant.partition(&format!("SLOT_TAKEN#{}", id_key(schedule_id))), start)
}

/// When a time of a date starts, in the clinic's zone.
pub fn instant(tz: Tz, date: &str, time: &str) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let t = NaiveTime::parse_from_str(time, "%H:%M:%S").ok()?;
    tz.from_local_datetime(&d.and_time(t)).earliest().map(|t| t.with_timezone(&Utc))
}

/// A schedule's places as they stand: the counts, less the holds that ran out.
#[derive(Debug, Clone)]
pub struct Places {
    pub schedule: schedule::Slot,
    /// Slot start -> bookings and live holds.
    pub taken: HashMap<String, i64>,
    /// Holds that ran out but still sit in the counts.
    pub expired: Vec<HoldRef>,
}

impl Places {
    /// Places left in the schedule as a whole (`None`: no quota).
    pub fn schedule_free(&self) -> Option<i64> {
        let held = self.schedule.booked - self.expired.len() as i64;
        self.schedule.schedule.data.quota.map(|q| (q - held).max(0))
    }

    /// Bookings and live holds in one slot.
    pub fn slot_taken(&self, start: &str) -> i64 {
        let gone = self.expired.iter().filter(|h| h.slot.as_deref() == Some(start)).count() as i64;
        (self.taken.get(start).copied().unwrap_or(0) - gone).max(0)
    }

    /// Free places in a slot: its own room, within the schedule's.
    pub fn slot_free(&self, start: &str) -> i64 {
        let own = (capacity(&self.schedule.schedule.data) - self.slot_taken(start)).max(0);
        self.schedule_free().map_or(own, |f| own.min(f))
    }

    pub fn data(&self) -> &Stored<Schedule> {
        &self.schedule.schedule
    }

    pub fn date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.data().data.date, "%Y-%m-%d").unwrap_or_default()
    }
}

fn counts_query(tenant: &Tenant, schedule_id: i64) -> Query {
    Query::partition(tenant.partition(&format!("SLOT_TAKEN#{}", id_key(schedule_id))))
}

/// The slot counts and the holds of a schedule already read: two Queries side by side.
async fn with_counts(deps: &Deps, tenant: &Tenant, sched: schedule::Slot, now: DateTime<Utc>) -> DomainResult<Places> {
    let id = sched.schedule.id;
    let (counts, holds) = futures::future::try_join(
        async { Ok::<_, DomainError>(antrean_store::query_all(deps.table.as_ref(), counts_query(tenant, id)).await?) },
        hold::of_schedule(deps, tenant, id),
    )
    .await?;
    Ok(assemble(sched, &counts, holds, now))
}

fn assemble(sched: schedule::Slot, counts: &[antrean_store::Item], holds: Vec<HoldRef>, now: DateTime<Utc>) -> Places {
    let taken = counts
        .iter()
        .filter_map(|i| Some((i.get("sk")?.as_str()?.to_string(), i.get(TAKEN).and_then(Value::as_i64).unwrap_or(0))))
        .collect();
    let expired = holds.into_iter().filter(|h| h.deadline_ms <= now.timestamp_millis()).collect();
    Places { schedule: sched, taken, expired }
}

/// One schedule's places: the record with its booked count (one batch read), its slots'
/// counts and its holds, all three side by side.
pub async fn places(deps: &Deps, tenant: &Tenant, schedule_id: i64, now: DateTime<Utc>) -> DomainResult<Places> {
    let (sched, counts, holds) = futures::future::try_join3(
        schedule::slot(deps, tenant, schedule_id),
        async { Ok::<_, DomainError>(antrean_store::query_all(deps.table.as_ref(), counts_query(tenant, schedule_id)).await?) },
        hold::of_schedule(deps, tenant, schedule_id),
    )
    .await?;
    Ok(assemble(sched, &counts, holds, now))
}

/// Several schedules' places, in the order asked; ones deleted meanwhile are left out. The
/// records and booked counts come in one batch read, then each schedule's two Queries.
pub async fn many_places(deps: &Deps, tenant: &Tenant, ids: &[i64], now: DateTime<Utc>) -> DomainResult<Vec<Places>> {
    let keys: Vec<Key> = ids.iter().flat_map(|id| schedule::slot_keys(tenant, *id)).collect();
    let mut items = if keys.is_empty() { Vec::new() } else { deps.table.get_many(&keys, None).await? }.into_iter();
    let mut live = Vec::new();
    while let Some(record) = items.next() {
        if let Some(s) = schedule::slot_from(record, items.next().flatten())? {
            live.push(s);
        }
    }
    futures::future::try_join_all(live.into_iter().map(|s| with_counts(deps, tenant, s, now))).await
}

/// Where a booking or a hold wants to sit.
#[derive(Debug, Clone)]
pub struct Want<'a> {
    pub places: &'a Places,
    /// The slot, for a schedule with slots.
    pub slot: Option<&'a SlotTime>,
}

/// Which op of [`take_ops`] says what when its condition fails.
pub const SCHEDULE_TAKE: usize = 1;
pub const SLOT_TAKE: usize = 2;

/// The ops that take one place (schedule unchanged, schedule count, slot count) for the
/// caller's atomic write. `reclaim` are expired holds given back in the same write: each is
/// deleted only while it is still there, so two writers cannot give one back twice.
pub fn take_ops(tenant: &Tenant, want: &Want, reclaim: &[HoldRef]) -> Vec<Op> {
    let sched = &want.places.schedule;
    let id = sched.schedule.id;
    let [unchanged, _] = schedule::hold_ops(tenant, sched);
    let mut ops = vec![unchanged, schedule::take_op(tenant, id, sched.schedule.data.quota, reclaim.len() as i64)];
    if let Some(slot) = want.slot {
        let k = reclaim.iter().filter(|h| h.slot.as_deref() == Some(slot.start.as_str())).count() as i64;
        let cap = capacity(&sched.schedule.data);
        let cond = if k == 0 {
            Condition::Or(vec![Condition::attr_not_exists(TAKEN), Condition::compare(TAKEN, Cmp::Lt, cap)])
        } else {
            Condition::compare(TAKEN, Cmp::Lt, cap + k)
        };
        ops.push(Op::update_if(taken_key(tenant, id, &slot.start), Update::new().add(TAKEN, 1 - k), cond));
    }
    // Reclaimed holds of other slots give their slot's place back too.
    let mut others: HashMap<&str, i64> = HashMap::new();
    for h in reclaim {
        if let Some(s) = h.slot.as_deref().filter(|s| want.slot.is_none_or(|w| w.start != *s)) {
            *others.entry(s).or_default() += 1;
        }
    }
    for (s, n) in others {
        ops.push(Op::update(taken_key(tenant, id, s), Update::new().add(TAKEN, -n)));
    }
    for h in reclaim {
        ops.extend(hold::reclaim_ops(tenant, h));
    }
    ops
}

/// Gives a place back (a cancel, the old place of a reschedule): both counts - 1.
pub fn release_ops(tenant: &Tenant, schedule_id: i64, slot: Option<&str>) -> Vec<Op> {
    let mut ops = vec![schedule::release_op(tenant, schedule_id)];
    if let Some(s) = slot {
        ops.push(Op::update(taken_key(tenant, schedule_id, s), Update::new().add(TAKEN, -1)));
    }
    ops
}

/// The expired holds to give back so that `want` finds room, or `None` when it has room
/// without (most bookings) or cannot have it at all.
pub fn reclaim_for<'a>(want: &Want<'a>) -> Result<Vec<HoldRef>, DomainError> {
    let p = want.places;
    let sched_full = |reclaimed: &[HoldRef]| match p.schedule.schedule.data.quota {
        Some(q) => p.schedule.booked - reclaimed.len() as i64 >= q,
        None => false,
    };
    let mut reclaim: Vec<HoldRef> = Vec::new();
    if let Some(slot) = want.slot {
        let cap = capacity(&p.schedule.schedule.data);
        let raw = p.taken.get(&slot.start).copied().unwrap_or(0);
        if raw >= cap {
            let here: Vec<HoldRef> = p.expired.iter().filter(|h| h.slot.as_deref() == Some(slot.start.as_str())).cloned().collect();
            if raw - (here.len() as i64) >= cap {
                return Err(DomainError::Conflict(TIME_TAKEN.into()));
            }
            reclaim.extend(here.into_iter().take((raw - cap + 1) as usize));
        }
    }
    if sched_full(&reclaim) {
        for h in &p.expired {
            if !sched_full(&reclaim) || reclaim.len() >= 20 {
                break;
            }
            if !reclaim.contains(h) {
                reclaim.push(h.clone());
            }
        }
        if sched_full(&reclaim) {
            return Err(DomainError::Unprocessable(crate::reservation::QUOTA_FULL.into()));
        }
    }
    Ok(reclaim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(start: &str, end: &str, len: Option<i64>) -> Schedule {
        Schedule {
            doctor_id: 1,
            poly_id: 1,
            date: "2026-01-10".into(),
            start_time: start.into(),
            end_time: end.into(),
            quota: None,
            slot_minutes: len,
            slot_capacity: None,
            bpjs_quota: None,
        }
    }

    #[test]
    fn a_schedule_is_cut_from_its_start_and_drops_a_short_last_slot() {
        let starts: Vec<String> = cut(&sched("08:00:00", "09:40:00", Some(30))).into_iter().map(|s| s.start).collect();
        assert_eq!(starts, ["08:00:00", "08:30:00", "09:00:00"]);
        assert_eq!(cut(&sched("08:00:00", "09:00:00", Some(30)))[1], SlotTime { start: "08:30:00".into(), end: "09:00:00".into() });
        assert!(cut(&sched("08:00:00", "09:00:00", None)).is_empty());
        assert_eq!(find(&sched("08:00:00", "09:00:00", Some(30)), "08:30").map(|s| s.end), Some("09:00:00".into()));
        assert_eq!(find(&sched("08:00:00", "09:00:00", Some(30)), "08:15"), None);
    }
}
