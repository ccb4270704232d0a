//! Holds (seed 003 `reserveTime`): a patient-facing client takes a place for
//! `reserve_minutes` (1–30) while the patient finishes the form; confirming within the window
//! turns the hold into a booked appointment, and a hold that ran out gives its place back by
//! itself.
//!
//! A hold is one item in its schedule's partition, `T#<clinic>#SCHEDULE_HOLDS#<schedule id>` /
//! `<uuid>`, holding the slot, the stored deadline (`deadline_ms`), the visitor and a TTL
//! (`expires_at`, a day after the deadline). The TTL only sweeps: DynamoDB deletes late, so
//! whether a hold still counts is always the deadline against the clock, at read time (slot
//! lists subtract expired holds) and at booking time (a booking that finds no room otherwise
//! deletes expired holds and takes their place in the same write, see `slot::take_ops`).
//! Its id for clients is `<schedule id>-<uuid>`, so confirming is one GetItem.
use antrean_store::{Cmp, Condition, Key, Op, Query, StoreError};
use serde::Serialize;
use serde_json::{json, Value};

use super::slot::{self, Want};
use super::visitor::Visitor;
use super::{appointment, decode_field, holiday};
use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::tenant::Tenant;
use crate::{validate, Deps};

pub const NOT_FOUND: &str = "Hold not found";
pub const EXPIRED: &str = "The hold has expired and its place was given back; choose a time again.";
pub const MINUTES: std::ops::RangeInclusive<i64> = 1..=30;
const KIND: &str = "APPOINTMENT_HOLD";
const MAX_ATTEMPTS: u32 = 40;

/// What a booking needs to know of a hold to count or reclaim it.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldRef {
    pub schedule_id: i64,
    pub uuid: String,
    pub slot: Option<String>,
    pub deadline_ms: i64,
}

fn partition(tenant: &Tenant, schedule_id: i64) -> String {
    tenant.partition(&format!("SCHEDULE_HOLDS#{}", crate::tenant::id_key(schedule_id)))
}

fn key(tenant: &Tenant, schedule_id: i64, uuid: &str) -> Key {
    Key::new(partition(tenant, schedule_id), uuid)
}

fn hold_ref(schedule_id: i64, item: &antrean_store::Item) -> Option<HoldRef> {
    Some(HoldRef {
        schedule_id,
        uuid: item.get("sk")?.as_str()?.to_string(),
        slot: item.get("slot").and_then(Value::as_str).map(str::to_string),
        deadline_ms: item.get("deadline_ms")?.as_i64()?,
    })
}

/// Every hold of a schedule, live or run out: one Query.
pub async fn of_schedule(deps: &Deps, tenant: &Tenant, schedule_id: i64) -> DomainResult<Vec<HoldRef>> {
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(partition(tenant, schedule_id))).await?;
    Ok(items.iter().filter_map(|i| hold_ref(schedule_id, i)).collect())
}

/// Deletes a run-out hold, only if it is still the one we judged (someone else may have
/// reclaimed or confirmed it first).
pub fn reclaim_ops(tenant: &Tenant, h: &HoldRef) -> Vec<Op> {
    vec![Op::delete_if(key(tenant, h.schedule_id, &h.uuid), Condition::equals("deadline_ms", h.deadline_ms))]
}

/// Gives back the places of the holds on a date's schedules that ran out: one write per
/// hold (delete it while it is still there, both counts - 1). The sweep runs this, because
/// walk-in reservations count places without looking at holds. Returns how many it gave back.
pub async fn reclaim_expired(deps: &Deps, tenant: &Tenant, date: chrono::NaiveDate) -> DomainResult<usize> {
    let now_ms = deps.clock.now().timestamp_millis();
    let filter = crate::schedule::ListFilter { doctor_id: None, period: crate::schedule::Period::Day(date) };
    let mut given = 0;
    for s in crate::schedule::list(deps, tenant, &filter).await? {
        for h in of_schedule(deps, tenant, s.id).await?.into_iter().filter(|h| h.deadline_ms <= now_ms) {
            let mut ops = reclaim_ops(tenant, &h);
            ops.extend(slot::release_ops(tenant, s.id, h.slot.as_deref()));
            // A lost race means a booking reclaimed it first.
            match deps.table.write(ops).await {
                Ok(()) => given += 1,
                Err(e) if super::lost(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(given)
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Held {
    pub id: String,
    pub schedule_id: i64,
    pub date: String,
    /// `HH:MM:SS`: the slot, or the schedule's start when it has no slots.
    pub start_time: String,
    pub end_time: String,
    pub reserve_minutes: i64,
    /// When the hold runs out (seed timestamp format, UTC).
    pub expires_at: String,
}

fn parse_minutes(errors: &mut FieldErrors, body: &Value) -> Option<i64> {
    let n = match body.get("reserve_minutes") {
        None | Some(Value::Null) => return Some(10),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    match n {
        Some(n) if MINUTES.contains(&n) => Some(n),
        _ => {
            errors.add("reserve_minutes", format!("The reserve minutes field must be between {} and {}.", MINUTES.start(), MINUTES.end()));
            None
        }
    }
}

/// Holds a place: `schedule_id`, `slot` (`HH:MM`, for a schedule with slots),
/// `reserve_minutes` (default 10) and the patient's details. Two holds never take the same
/// last place: the counts' conditions decide.
pub async fn create(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Held> {
    let (today, tz) = crate::reservation::clinic_today(deps, tenant).await?;
    let mut errors = FieldErrors::new();
    let minutes = parse_minutes(&mut errors, body);
    let visitor = Visitor::parse(&mut errors, body, today);
    let schedule_id = validate::required_id(&mut errors, body, "schedule_id");
    errors.into_result()?;
    let (Some(minutes), Some(visitor), Some(schedule_id)) = (minutes, visitor, schedule_id) else {
        return Err(DomainError::Internal("a hold form passed without a field".into()));
    };
    for attempt in 0..MAX_ATTEMPTS {
        let now = deps.clock.now();
        let places = appointment::places_for(deps, tenant, schedule_id, now).await?;
        let at = appointment::judge_place(deps, tenant, &places, body.get("slot"), &visitor, tz, now).await?;
        let want = Want { places: &places, slot: at.slot.as_ref() };
        let reclaim = slot::reclaim_for(&want)?;
        let deadline = now + chrono::Duration::minutes(minutes);
        let uuid = uuid::Uuid::new_v4().simple().to_string();
        let s = &places.data().data;
        let item = super::item_with(
            &key(tenant, schedule_id, &uuid),
            json!({"slot": at.slot.as_ref().map(|t| t.start.clone()), "deadline_ms": deadline.timestamp_millis(),
                "expires_at": deadline.timestamp() + 86_400, "visitor": visitor, "poly_id": s.poly_id, "date": s.date,
                "reserve_minutes": minutes, "created_at": stamp(now)}),
        );
        let mut ops = slot::take_ops(tenant, &want, &reclaim);
        let taken = ops.len();
        ops.push(Op::put_new(item));
        ops.push(holiday::open_check(tenant, places.date()));
        let rules_at = ops.len();
        let rules = super::rules::hold_checks(deps, tenant, s.poly_id, &visitor).await?;
        let rule_count = rules.len();
        ops.extend(rules);
        ops.push(audit::entry(tenant, actor, Action::Create, KIND, schedule_id, now));
        match deps.table.write(ops).await {
            Ok(()) => {
                return Ok(Held {
                    id: format!("{schedule_id}-{uuid}"),
                    schedule_id,
                    date: s.date.clone(),
                    start_time: at.start_time,
                    end_time: at.end_time,
                    reserve_minutes: minutes,
                    expires_at: stamp(deadline),
                })
            }
            Err(StoreError::ConditionFailed { index }) if index == taken + 1 => return Err(appointment::closed_error(deps, tenant, places.date()).await),
            Err(StoreError::ConditionFailed { index }) if index >= rules_at && index < rules_at + rule_count => {
                return Err(super::rules::refused_for(deps, tenant, s.poly_id, &visitor).await)
            }
            Err(StoreError::ConditionFailed { index }) if index < taken && reclaim.is_empty() => {
                if let Some(e) = appointment::full_error(index, at.slot.is_some()) {
                    return Err(e);
                }
            }
            Err(e) if super::lost(&e) => {}
            Err(e) => return Err(e.into()),
        }
        crate::record::backoff(attempt).await;
    }
    Err(DomainError::Conflict(appointment::BUSY.into()))
}

/// A hold id as clients see it: `<schedule id>-<uuid>`.
fn parse_id(id: &str) -> DomainResult<(i64, String)> {
    let (s, u) = id.split_once('-').ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))?;
    let sid = s.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))?;
    if u.len() != 32 || !u.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DomainError::NotFound(NOT_FOUND.into()));
    }
    Ok((sid, u.to_string()))
}

/// A live hold, or 404 (never held, confirmed, released or reclaimed) / 422 (ran out).
async fn live(deps: &Deps, tenant: &Tenant, id: &str, now_ms: i64) -> DomainResult<(i64, String, antrean_store::Item)> {
    let (sid, uuid) = parse_id(id)?;
    let item = deps.table.get(&key(tenant, sid, &uuid)).await?.ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))?;
    let deadline = item.get("deadline_ms").and_then(Value::as_i64).unwrap_or(0);
    if deadline <= now_ms {
        return Err(DomainError::Unprocessable(EXPIRED.into()));
    }
    Ok((sid, uuid, item))
}

/// Turns a live hold into a booked appointment in one write: the hold goes (only while its
/// deadline is still ahead), the appointment takes its place; no count moves.
pub async fn confirm(deps: &Deps, tenant: &Tenant, actor: &Actor, id: &str) -> DomainResult<appointment::Booked> {
    for attempt in 0..MAX_ATTEMPTS {
        let now = deps.clock.now();
        let (sid, uuid, item) = live(deps, tenant, id, now.timestamp_millis()).await?;
        let visitor: Visitor = decode_field(&item, "visitor")?;
        let slot_start = item.get("slot").and_then(Value::as_str).map(str::to_string);
        let deadline = item.get("deadline_ms").and_then(Value::as_i64).unwrap_or(0);
        let sched = crate::schedule::find(deps, tenant, sid).await?;
        let gone = Op::delete_if(
            key(tenant, sid, &uuid),
            Condition::And(vec![Condition::equals("deadline_ms", deadline), Condition::compare("deadline_ms", Cmp::Gt, now.timestamp_millis())]),
        );
        match appointment::write_booking(deps, tenant, actor, &sched, slot_start.as_deref(), visitor, "hold", vec![gone]).await {
            Ok(b) => return Ok(b),
            // The hold ran out or went between our read and the write: judge it again.
            Err(DomainError::Conflict(m)) if m == appointment::CHANGED => crate::record::backoff(attempt).await,
            Err(e) => return Err(e),
        }
    }
    Err(DomainError::Conflict(appointment::BUSY.into()))
}

/// Lets a hold go before its time: its place is given back in the same write.
pub async fn release(deps: &Deps, tenant: &Tenant, actor: &Actor, id: &str) -> DomainResult<()> {
    let now = deps.clock.now();
    let (sid, uuid, item) = live(deps, tenant, id, now.timestamp_millis()).await?;
    let deadline = item.get("deadline_ms").and_then(Value::as_i64).unwrap_or(0);
    let mut ops = vec![Op::delete_if(key(tenant, sid, &uuid), Condition::equals("deadline_ms", deadline))];
    ops.extend(slot::release_ops(tenant, sid, item.get("slot").and_then(Value::as_str)));
    ops.push(audit::entry(tenant, actor, Action::Delete, KIND, sid, now));
    match deps.table.write(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(DomainError::NotFound(NOT_FOUND.into())),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::testing::{clinic, visitor, with};
    use crate::appointments::{calendar, lifecycle};

    async fn slots_of(deps: &Deps, t: &Tenant) -> calendar::ScheduleSlots {
        let day = chrono::NaiveDate::from_ymd_opt(2030, 1, 10).unwrap();
        let r = calendar::Range { poly_id: Some(1), doctor_id: None, from: day, to: day };
        calendar::slots(deps, t, &r, chrono_tz::Asia::Jakarta).await.unwrap().remove(0)
    }

    #[tokio::test]
    async fn a_hold_that_ran_out_gives_its_place_back_by_itself() {
        let (_dir, deps, clock, t, actor) = clinic().await;
        let body = json!({"doctor_id": 1, "date": "2030-01-10", "start_time": "08:00", "end_time": "12:00", "quota": 1});
        let s = crate::schedule::create(&deps, &t, &actor, &body).await.unwrap();
        let hold = |n| with(visitor(n), json!({"schedule_id": s.id, "reserve_minutes": 5}));
        let first = create(&deps, &t, &actor, &hold(1)).await.unwrap();
        assert!(matches!(create(&deps, &t, &actor, &hold(2)).await, Err(DomainError::Unprocessable(m)) if m == crate::reservation::QUOTA_FULL));

        // Within the window the place stays taken.
        clock.pass(4);
        assert_eq!(slots_of(&deps, &t).await.free, Some(0));
        // Past the deadline it counts as free at once (the TTL sweep may come much later)…
        clock.pass(2);
        let view = slots_of(&deps, &t).await;
        assert_eq!((view.free, view.booked), (Some(1), 0));
        assert!(matches!(confirm(&deps, &t, &actor, &first.id).await, Err(DomainError::Unprocessable(m)) if m == EXPIRED));
        // …and the next booking takes it, giving the hold back in the same write: never over quota.
        let booked = appointment::book(&deps, &t, &actor, &with(visitor(3), json!({"schedule_id": s.id}))).await.unwrap();
        assert_eq!(booked.data.status, appointment::BOOKED);
        assert_eq!(crate::schedule::slot(&deps, &t, s.id).await.unwrap().booked, 1);
        assert!(matches!(confirm(&deps, &t, &actor, &first.id).await, Err(DomainError::NotFound(_))));
        assert!(matches!(create(&deps, &t, &actor, &hold(4)).await, Err(DomainError::Unprocessable(m)) if m == crate::reservation::QUOTA_FULL));
    }

    /// Walk-ins count places without looking at holds: the sweep gives run-out holds back.
    #[tokio::test]
    async fn the_sweep_gives_run_out_holds_back() {
        let (_dir, deps, clock, t, actor) = clinic().await;
        let body = json!({"doctor_id": 1, "date": "2030-01-10", "start_time": "08:00", "end_time": "12:00", "quota": 2, "slot_minutes": 60});
        let s = crate::schedule::create(&deps, &t, &actor, &body).await.unwrap();
        let hold = |n, minutes| with(visitor(n), json!({"schedule_id": s.id, "slot": "09:00", "reserve_minutes": minutes}));
        create(&deps, &t, &actor, &hold(1, 5)).await.unwrap();
        create(&deps, &t, &actor, &hold(2, 30)).await.unwrap_err();
        create(&deps, &t, &actor, &with(visitor(2), json!({"schedule_id": s.id, "slot": "10:00", "reserve_minutes": 30}))).await.unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2030, 1, 10).unwrap();
        assert_eq!(reclaim_expired(&deps, &t, day).await.unwrap(), 0, "nothing ran out yet");
        clock.pass(10);
        assert_eq!(reclaim_expired(&deps, &t, day).await.unwrap(), 1);
        assert_eq!(reclaim_expired(&deps, &t, day).await.unwrap(), 0, "given back once");
        assert_eq!(crate::schedule::slot(&deps, &t, s.id).await.unwrap().booked, 1, "the live hold stays");
        let view = slots_of(&deps, &t).await;
        assert_eq!(view.slots.iter().map(|v| v.taken).collect::<Vec<_>>(), [0, 0, 1, 0]);
    }

    #[tokio::test]
    async fn bookings_not_checked_in_become_no_shows_after_their_schedule() {
        let (_dir, deps, clock, t, actor) = clinic().await;
        let body = json!({"doctor_id": 1, "date": "2030-01-10", "start_time": "08:00", "end_time": "09:00", "slot_minutes": 30});
        let s = crate::schedule::create(&deps, &t, &actor, &body).await.unwrap();
        let a = appointment::book(&deps, &t, &actor, &with(visitor(1), json!({"schedule_id": s.id, "slot": "08:30"}))).await.unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2030, 1, 10).unwrap();
        // 2030-01-10 08:45 in Jakarta: the schedule still runs.
        clock.pass(24 * 60 + 45);
        assert_eq!(lifecycle::mark_no_shows(&deps, &t, &actor, day).await.unwrap(), 0);
        clock.pass(20);
        assert_eq!(lifecycle::mark_no_shows(&deps, &t, &actor, day).await.unwrap(), 1);
        assert_eq!(appointment::find(&deps, &t, a.id).await.unwrap().data.status, appointment::NO_SHOW);
        assert_eq!(lifecycle::mark_no_shows(&deps, &t, &actor, day).await.unwrap(), 0, "once");
        // The patient may book the poly again.
        let next = json!({"doctor_id": 1, "date": "2030-01-11", "start_time": "08:00", "end_time": "09:00"});
        let s2 = crate::schedule::create(&deps, &t, &actor, &next).await.unwrap();
        appointment::book(&deps, &t, &actor, &with(visitor(1), json!({"schedule_id": s2.id}))).await.unwrap();
    }
}
