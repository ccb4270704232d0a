//! An appointment's life (seed 004: BOOKING → RESCHEDULE → ARRIVED / CANCEL, and no-show):
//! - cancel with a reason: the place goes back and the patient may book the poly again;
//! - reschedule to another slot of the same poly: the new place is taken and the old one given
//!   back in one write, so the old place is freed only if the new one was taken; the count
//!   is kept and limited by the poly's `max_reschedules`;
//! - check-in (arrived) on its day: the reservation path registers the patient and hands out
//!   the day's queue number on the place the appointment already holds, in the same write that
//!   marks the appointment ARRIVED;
//! - no-show: appointments still BOOKED after their schedule ended (a sweep, and on demand).
//!
//! Every change is one write conditioned on the version read (`_v`), with the day-index copy,
//! the active-booking guard and an audit entry.
use antrean_store::{Condition, Op, StoreError, Update};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::appointment::{self, Appointment, Booked, ARRIVED, BOOKED, CANCELLED, NO_SHOW};
use super::rules::{self, guard_key};
use super::slot::{self, Want};
use super::holiday;
use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{self, Record, Stored, VERSION};
use crate::schedule;
use crate::tenant::Tenant;
use crate::{reservation, validate, Deps};

const MAX_ATTEMPTS: u32 = 40;
pub const MOVED: &str = "Someone else changed this appointment meanwhile; read it again.";

fn not_booked(a: &Appointment, what: &str) -> DomainError {
    DomainError::Conflict(format!("The appointment is {}; it cannot be {what}.", a.status))
}

async fn read(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<(Booked, i64)> {
    record::read::<Appointment>(deps, tenant, id).await?.ok_or_else(|| DomainError::NotFound("Appointment not found".into()))
}

/// The record (on the version read) and its day-index copy, moved from `before` to `after`.
fn change_ops(tenant: &Tenant, actor: &Actor, before: &Booked, version: i64, after: &Booked, now: DateTime<Utc>) -> DomainResult<Vec<Op>> {
    let mut ops = vec![Op::put_if(record::item_of(tenant, after, version + 1)?, Condition::equals(VERSION, version))];
    let (old, new) = (appointment::day_key(tenant, before), appointment::day_key(tenant, after));
    if old != new {
        ops.push(Op::delete(old));
    }
    ops.push(Op::put(appointment::day_item(tenant, after)?));
    ops.push(audit::entry(tenant, actor, Action::Update, Appointment::KIND, after.id, now));
    Ok(ops)
}

fn ended(a: &Booked, status: &str, now: DateTime<Utc>) -> Booked {
    Stored { data: Appointment { status: status.into(), ..a.data.clone() }, updated_at: stamp(now), ..a.clone() }
}

/// Cancels a booked appointment: `reason` (required, at most 255 characters).
pub async fn cancel(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Booked> {
    let mut errors = FieldErrors::new();
    let reason = validate::required_string(&mut errors, body, "reason", 255);
    errors.into_result()?;
    let (before, version) = read(deps, tenant, id).await?;
    if before.data.status != BOOKED {
        return Err(not_booked(&before.data, "cancelled"));
    }
    let now = deps.clock.now();
    let mut after = ended(&before, CANCELLED, now);
    after.data.cancel_reason = reason;
    let mut ops = change_ops(tenant, actor, &before, version, &after, now)?;
    ops.extend(slot::release_ops(tenant, before.data.schedule_id, before.data.slot.as_deref()));
    ops.push(rules::guard_release(tenant, &before));
    write(deps, ops).await.map(|()| after)
}

async fn write(deps: &Deps, ops: Vec<Op>) -> DomainResult<()> {
    match deps.table.write(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => Err(DomainError::Conflict(MOVED.into())),
        Err(e) => Err(e.into()),
    }
}

/// Moves a booked appointment to `schedule_id` / `slot` of the same poly.
pub async fn reschedule(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Booked> {
    let (_, tz) = reservation::clinic_today(deps, tenant).await?;
    let mut errors = FieldErrors::new();
    let schedule_id = validate::required_id(&mut errors, body, "schedule_id");
    errors.into_result()?;
    let schedule_id = schedule_id.unwrap_or_default();
    for attempt in 0..MAX_ATTEMPTS {
        let (before, version) = read(deps, tenant, id).await?;
        let b = &before.data;
        if b.status != BOOKED {
            return Err(not_booked(b, "rescheduled"));
        }
        let poly_rules = rules::of_poly(deps, tenant, b.poly_id).await?;
        if b.reschedule_count >= poly_rules.max_reschedules {
            return Err(DomainError::Unprocessable(format!(
                "This appointment has been rescheduled {} times, the most the clinic allows.",
                b.reschedule_count
            )));
        }
        let now = deps.clock.now();
        let places = appointment::places_for(deps, tenant, schedule_id, now).await?;
        if places.data().data.poly_id != b.poly_id {
            return Err(FieldErrors::single("schedule_id", "An appointment can only move to a schedule of the same poly."));
        }
        let at = appointment::judge_place(deps, tenant, &places, body.get("slot"), &b.visitor, tz, now).await?;
        let same_schedule = schedule_id == b.schedule_id;
        if same_schedule && at.slot.as_ref().map(|t| &t.start) == b.slot.as_ref() {
            return Err(DomainError::Unprocessable("The appointment is already at this time.".into()));
        }
        let want = Want { places: &places, slot: at.slot.as_ref() };
        let mut reclaim = slot::reclaim_for(&want)?;
        // The old slot's count is given back by this write itself: never name it twice.
        reclaim.retain(|h| !(same_schedule && h.slot == b.slot));
        let s = &places.data().data;
        let mut after = Stored { updated_at: stamp(now), ..before.clone() };
        after.data.schedule_id = schedule_id;
        after.data.doctor_id = s.doctor_id;
        after.data.date = s.date.clone();
        after.data.start_time = at.start_time.clone();
        after.data.end_time = at.end_time.clone();
        after.data.slot = at.slot.as_ref().map(|t| t.start.clone());
        after.data.reschedule_count += 1;
        let mut ops = slot::take_ops(tenant, &want, &reclaim);
        let taken = ops.len();
        if same_schedule {
            // One schedule: its count does not move (less what was reclaimed).
            let k = reclaim.len() as i64;
            ops[slot::SCHEDULE_TAKE] = Op::update(schedule::booked_key(tenant, schedule_id), Update::new().add("booked", -k));
            if let Some(old) = b.slot.as_deref() {
                ops.push(Op::update(slot::taken_key(tenant, schedule_id, old), Update::new().add("taken", -1)));
            }
        } else {
            ops.extend(slot::release_ops(tenant, b.schedule_id, b.slot.as_deref()));
        }
        ops.push(holiday::open_check(tenant, places.date()));
        if poly_rules.one_active_per_poly {
            let g = guard_key(tenant, b.poly_id, &b.visitor.identity());
            let fields = Update::new().set("id", id).set("date", after.data.date.clone()).set("start_time", after.data.start_time.clone());
            ops.push(Op::update_if(g, fields, Condition::Or(vec![Condition::NotExists, Condition::equals("id", id)])));
        }
        ops.extend(change_ops(tenant, actor, &before, version, &after, now)?);
        match deps.table.write(ops).await {
            Ok(()) => return Ok(after),
            Err(StoreError::ConditionFailed { index }) if index < taken && reclaim.is_empty() && !(same_schedule && index == slot::SCHEDULE_TAKE) => {
                if let Some(e) = appointment::full_error(index, at.slot.is_some()) {
                    return Err(e);
                }
            }
            Err(e) if super::lost(&e) => {}
            Err(e) => return Err(e.into()),
        }
        record::backoff(attempt).await;
    }
    Err(DomainError::Conflict(appointment::BUSY.into()))
}

/// The patient arrived: on the appointment's day, the reservation path registers them and
/// hands out the day's queue number on the place the appointment holds.
pub async fn check_in(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<(Booked, reservation::Created)> {
    let (today, _) = reservation::clinic_today(deps, tenant).await?;
    let (before, version) = read(deps, tenant, id).await?;
    let b = &before.data;
    if b.status != BOOKED {
        return Err(not_booked(b, "checked in"));
    }
    if b.date != super::date_string(today) {
        return Err(DomainError::Unprocessable(format!("Check-in is only possible on the appointment's day ({}).", b.date)));
    }
    let body = b.visitor.reservation_body(b.poly_id, b.schedule_id, &b.date);
    let now = deps.clock.now();
    let arrived = |r: &Stored<reservation::Reservation>| -> DomainResult<Vec<Op>> {
        let mut after = ended(&before, ARRIVED, now);
        after.data.reservation_id = Some(r.id);
        after.data.queue_number = Some(r.data.queue_number);
        after.data.arrived_at = Some(stamp(now));
        let mut ops = change_ops(tenant, actor, &before, version, &after, now)?;
        ops.push(rules::guard_release(tenant, &before));
        Ok(ops)
    };
    let created = match reservation::create_with(deps, tenant, actor, &body, Some(&arrived)).await {
        Err(DomainError::Conflict(m)) if m == reservation::EXTRA_CHANGED => return Err(DomainError::Conflict(MOVED.into())),
        other => other?,
    };
    let mut after = ended(&before, ARRIVED, now);
    after.data.reservation_id = Some(created.reservation.id);
    after.data.queue_number = Some(created.reservation.data.queue_number);
    after.data.arrived_at = Some(stamp(now));
    Ok((after, created))
}

/// Marks the appointments of `date` still BOOKED after their schedule ended as NO_SHOW (the
/// place is not given back: the time is over). Returns how many it marked.
pub async fn mark_no_shows(deps: &Deps, tenant: &Tenant, actor: &Actor, date: NaiveDate) -> DomainResult<usize> {
    let (_, tz) = reservation::clinic_today(deps, tenant).await?;
    let now = deps.clock.now();
    let mut marked = 0;
    let mut ended_schedules = std::collections::HashMap::new();
    for a in appointment::on_day(deps, tenant, date, None).await?.into_iter().filter(|a| a.data.status == BOOKED) {
        let over = match ended_schedules.get(&a.data.schedule_id) {
            Some(o) => *o,
            None => {
                let end = match schedule::find(deps, tenant, a.data.schedule_id).await {
                    Ok(s) => s.data.end_time,
                    Err(_) => a.data.end_time.clone(),
                };
                let o = slot::instant(tz, &a.data.date, &end).is_some_and(|t| t <= now);
                ended_schedules.insert(a.data.schedule_id, o);
                o
            }
        };
        if !over {
            continue;
        }
        let Ok((before, version)) = read(deps, tenant, a.id).await else { continue };
        if before.data.status != BOOKED {
            continue;
        }
        let after = ended(&before, NO_SHOW, now);
        let mut ops = change_ops(tenant, actor, &before, version, &after, now)?;
        ops.push(rules::guard_release(tenant, &before));
        // A lost race means someone checked them in or cancelled meanwhile: leave it.
        if write(deps, ops).await.is_ok() {
            marked += 1;
        }
    }
    Ok(marked)
}


/// The scheduled no-show run: in every clinic, yesterday's and today's (clinic time)
/// appointments still booked after their schedule ended; and today's and tomorrow's holds
/// that ran out give their places back. Safe to overlap: each mark is
/// conditioned on the version read. Returns how many it marked.
pub async fn sweep_no_shows(deps: &Deps) -> DomainResult<usize> {
    let actor = Actor::system("no-show sweep");
    let mut marked = 0;
    for c in crate::clinic::list(deps).await? {
        let Ok(tenant) = Tenant::parse(&c.slug) else { continue };
        let today = match reservation::clinic_today(deps, &tenant).await {
            Ok((d, _)) => d,
            Err(e) => {
                tracing::warn!(clinic = tenant.slug(), error = %e, "no-show sweep skipped a clinic");
                continue;
            }
        };
        for day in [today - chrono::Duration::days(1), today] {
            match mark_no_shows(deps, &tenant, &actor, day).await {
                Ok(n) => marked += n,
                // One clinic's trouble does not hold up the others; the next run tries again.
                Err(e) => tracing::warn!(clinic = tenant.slug(), error = %e, "no-show sweep failed for a day"),
            }
        }
        // Today's and tomorrow's run-out holds, for the walk-ins that do not look at holds.
        for day in [today, today + chrono::Duration::days(1)] {
            if let Err(e) = super::hold::reclaim_expired(deps, &tenant, day).await {
                tracing::warn!(clinic = tenant.slug(), error = %e, "giving back run-out holds failed for a day");
            }
        }
    }
    Ok(marked)
}
