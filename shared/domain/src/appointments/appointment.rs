//! Appointments (seed 004 "User Schedules"): a patient booked into a schedule, in one of its
//! time slots when it has them. Reception books directly; a patient app holds first and
//! confirms (`hold`). Either way the booking write takes the place (`slot::take_ops`), puts
//! the appointment and its day-index copy, and its audit entry, all at once.
//!
//! Keys: the record `T#<clinic>#APPOINTMENT` / `<id>` (a `record` item with `_v`), and the day
//! index `T#<clinic>#APPOINTMENT_ON#<yyyy-mm-dd>` / `<poly id>#<HH:MM:SS>#<id>`, a copy of the
//! record, so a day's or a poly's bookings are one Query in time order.
use antrean_store::{Key, Op, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::slot::{self, Places, SlotTime, Want};
use super::visitor::Visitor;
use super::{holiday, item_with};
use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{self, Record, Stored};
use crate::schedule::Schedule;
use crate::tenant::{id_key, Tenant};
use crate::{validate, Deps};

pub const BOOKED: &str = "BOOKED";
pub const ARRIVED: &str = "ARRIVED";
pub const CANCELLED: &str = "CANCELLED";
pub const NO_SHOW: &str = "NO_SHOW";
pub const BUSY: &str = "The schedule is very busy right now; please try again.";
/// Internal: what we wrote against moved; the caller reads again.
pub(crate) const CHANGED: &str = "changed meanwhile";
const MAX_ATTEMPTS: u32 = 40;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Appointment {
    #[serde(flatten)]
    pub visitor: Visitor,
    pub poly_id: i64,
    pub doctor_id: i64,
    pub schedule_id: i64,
    /// `YYYY-MM-DD`
    pub date: String,
    /// `HH:MM:SS`: the slot's, or the schedule's hours when it has no slots.
    pub start_time: String,
    pub end_time: String,
    /// The slot's start, when the schedule has slots.
    #[serde(default)]
    pub slot: Option<String>,
    /// `BOOKED`, `ARRIVED`, `CANCELLED`, `NO_SHOW`.
    pub status: String,
    /// `reception` or `hold` (a patient app).
    pub source: String,
    #[serde(default)]
    pub reschedule_count: i64,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// The reservation (queue entry) check-in made.
    #[serde(default)]
    pub reservation_id: Option<i64>,
    #[serde(default)]
    pub queue_number: Option<i64>,
    #[serde(default)]
    pub arrived_at: Option<String>,
}

impl Record for Appointment {
    const KIND: &'static str = "APPOINTMENT";
    const LABEL: &'static str = "Appointment";
}

pub type Booked = Stored<Appointment>;

pub(crate) fn day_key(tenant: &Tenant, a: &Stored<Appointment>) -> Key {
    Key::new(
        tenant.partition(&format!("APPOINTMENT_ON#{}", a.data.date)),
        format!("{}#{}#{}", id_key(a.data.poly_id), a.data.start_time, id_key(a.id)),
    )
}

pub(crate) fn day_partition(tenant: &Tenant, date: &str) -> String {
    tenant.partition(&format!("APPOINTMENT_ON#{date}"))
}

/// The day-index copy of an appointment.
pub(crate) fn day_item(tenant: &Tenant, a: &Stored<Appointment>) -> DomainResult<antrean_store::Item> {
    let v = serde_json::to_value(a).map_err(|e| DomainError::Internal(e.to_string()))?;
    Ok(item_with(&day_key(tenant, a), v))
}

/// The schedule's places, or 422 naming `schedule_id` when there is no such live schedule.
pub(crate) async fn places_for(deps: &Deps, tenant: &Tenant, schedule_id: i64, now: DateTime<Utc>) -> DomainResult<Places> {
    match slot::places(deps, tenant, schedule_id, now).await {
        Err(DomainError::NotFound(_)) => Err(FieldErrors::single("schedule_id", "The selected schedule id is invalid.")),
        other => other,
    }
}

/// Where in a schedule a booking sits, judged; `rule_checks` go into the booking's write.
pub(crate) struct At {
    pub slot: Option<SlotTime>,
    pub start_time: String,
    pub end_time: String,
}

/// The asked slot (required when the schedule has slots), not passed, not on a holiday, and
/// within the poly's booking rules.
pub(crate) async fn judge_place(
    deps: &Deps,
    tenant: &Tenant,
    places: &Places,
    asked: Option<&Value>,
    visitor: &Visitor,
    tz: Tz,
    now: DateTime<Utc>,
) -> DomainResult<At> {
    let s = &places.data().data;
    let has_slots = !slot::cut(s).is_empty();
    let asked = asked.and_then(Value::as_str).map(str::trim).filter(|a| !a.is_empty());
    let slot = match (has_slots, asked) {
        (true, None) => return Err(FieldErrors::single("slot", "The slot field is required for a schedule with time slots.")),
        (true, Some(a)) => Some(slot::find(s, a).ok_or_else(|| FieldErrors::single("slot", slot::NO_SUCH_SLOT))?),
        (false, _) => None,
    };
    let (start_time, end_time) = match &slot {
        Some(t) => (t.start.clone(), t.end.clone()),
        None => (s.start_time.clone(), s.end_time.clone()),
    };
    // A slot is bookable until it starts; a whole schedule until it ends.
    let closes = if slot.is_some() { &start_time } else { &end_time };
    if slot::instant(tz, &s.date, closes).is_none_or(|t| t <= now) {
        return Err(DomainError::Unprocessable(slot::PASSED.into()));
    }
    if let Some(h) = holiday::on(deps, tenant, places.date()).await? {
        return Err(DomainError::Unprocessable(holiday::closed(&h)));
    }
    super::rules::judge(deps, tenant, places, visitor, &start_time, tz, now).await?;
    Ok(At { slot, start_time, end_time })
}

/// The answer when a take op's condition failed and nothing was reclaimed.
pub(crate) fn full_error(index: usize, has_slot: bool) -> Option<DomainError> {
    match index {
        slot::SCHEDULE_TAKE => Some(DomainError::Unprocessable(crate::reservation::QUOTA_FULL.into())),
        slot::SLOT_TAKE if has_slot => Some(DomainError::Conflict(slot::TIME_TAKEN.into())),
        _ => None,
    }
}

/// A holiday landed between our read and our write.
pub(crate) async fn closed_error(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainError {
    match holiday::on(deps, tenant, date).await {
        Ok(Some(h)) => DomainError::Unprocessable(holiday::closed(&h)),
        _ => DomainError::Conflict(BUSY.into()),
    }
}

/// The ops every booking adds: the active-booking guard first (its count is returned), then
/// the appointment, its id counter, day index and audit entry.
async fn booking_ops(deps: &Deps, tenant: &Tenant, actor: &Actor, last: i64, a: &Booked, now: DateTime<Utc>) -> DomainResult<(Vec<Op>, usize)> {
    let mut ops = super::rules::guard_ops(deps, tenant, a).await?;
    let guards = ops.len();
    ops.extend([
        record::bump_counter(tenant, Appointment::KIND, last, 1),
        Op::put_new(record::item_of(tenant, a, 1)?),
        Op::put(day_item(tenant, a)?),
        audit::entry(tenant, actor, Action::Create, Appointment::KIND, a.id, now),
    ]);
    Ok((ops, guards))
}

fn new_appointment(id: i64, sched: &Stored<Schedule>, start: &str, end: &str, slot: Option<&str>, visitor: Visitor, source: &str, now: DateTime<Utc>) -> Booked {
    let s = &sched.data;
    Stored {
        id,
        data: Appointment {
            visitor,
            poly_id: s.poly_id,
            doctor_id: s.doctor_id,
            schedule_id: sched.id,
            date: s.date.clone(),
            start_time: start.into(),
            end_time: end.into(),
            slot: slot.map(str::to_string),
            status: BOOKED.into(),
            source: source.into(),
            reschedule_count: 0,
            cancel_reason: None,
            reservation_id: None,
            queue_number: None,
            arrived_at: None,
        },
        created_at: stamp(now),
        updated_at: stamp(now),
        deleted_at: None,
    }
}

/// Reception books: `schedule_id`, `slot` (`HH:MM`, when the schedule has slots), the
/// patient's details (as `POST /api/reservation`), `birth_date`, `bpjs`.
pub async fn book(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Booked> {
    let (today, tz) = crate::reservation::clinic_today(deps, tenant).await?;
    let mut errors = FieldErrors::new();
    let visitor = Visitor::parse(&mut errors, body, today);
    let schedule_id = validate::required_id(&mut errors, body, "schedule_id");
    errors.into_result()?;
    let (Some(visitor), Some(schedule_id)) = (visitor, schedule_id) else {
        return Err(DomainError::Internal("a booking form passed without a field".into()));
    };
    for attempt in 0..MAX_ATTEMPTS {
        let now = deps.clock.now();
        let places = places_for(deps, tenant, schedule_id, now).await?;
        let at = judge_place(deps, tenant, &places, body.get("slot"), &visitor, tz, now).await?;
        let want = Want { places: &places, slot: at.slot.as_ref() };
        let reclaim = slot::reclaim_for(&want)?;
        let last = record::last_id(deps, tenant, Appointment::KIND).await?;
        let a = new_appointment(last + 1, places.data(), &at.start_time, &at.end_time, at.slot.as_ref().map(|t| t.start.as_str()), visitor.clone(), "reception", now);
        let mut ops = slot::take_ops(tenant, &want, &reclaim);
        let taken = ops.len();
        ops.push(holiday::open_check(tenant, places.date()));
        let rules_at = ops.len();
        let (booking, rule_count) = booking_ops(deps, tenant, actor, last, &a, now).await?;
        ops.extend(booking);
        match deps.table.write(ops).await {
            Ok(()) => return Ok(a),
            Err(StoreError::ConditionFailed { index }) if index == taken => return Err(closed_error(deps, tenant, places.date()).await),
            Err(StoreError::ConditionFailed { index }) if index >= rules_at && index < rules_at + rule_count => {
                return Err(super::rules::refused(deps, tenant, &a.data, index - rules_at).await)
            }
            Err(StoreError::ConditionFailed { index }) if index < taken && reclaim.is_empty() => {
                if let Some(e) = full_error(index, at.slot.is_some()) {
                    return Err(e);
                }
            }
            Err(e) if super::lost(&e) => {}
            Err(e) => return Err(e.into()),
        }
        record::backoff(attempt).await;
    }
    Err(DomainError::Conflict(BUSY.into()))
}

/// Books into a place already taken (a confirmed hold): `extra` are the ops that hand the
/// place over (they fail with [`CHANGED`] when it moved meanwhile).
pub(crate) async fn write_booking(
    deps: &Deps,
    tenant: &Tenant,
    actor: &Actor,
    sched: &Stored<Schedule>,
    slot_start: Option<&str>,
    visitor: Visitor,
    source: &str,
    extra: Vec<Op>,
) -> DomainResult<Booked> {
    let (start, end) = match slot_start.and_then(|s| slot::find(&sched.data, s)) {
        Some(t) => (t.start, t.end),
        None => (sched.data.start_time.clone(), sched.data.end_time.clone()),
    };
    for attempt in 0..MAX_ATTEMPTS {
        let now = deps.clock.now();
        let last = record::last_id(deps, tenant, Appointment::KIND).await?;
        let a = new_appointment(last + 1, sched, &start, &end, slot_start, visitor.clone(), source, now);
        let mut ops = extra.clone();
        let rules_at = ops.len();
        let (booking, rule_count) = booking_ops(deps, tenant, actor, last, &a, now).await?;
        ops.extend(booking);
        match deps.table.write(ops).await {
            Ok(()) => return Ok(a),
            Err(StoreError::ConditionFailed { index }) if index < extra.len() => return Err(DomainError::Conflict(CHANGED.into())),
            Err(StoreError::ConditionFailed { index }) if index >= rules_at && index < rules_at + rule_count => {
                return Err(super::rules::refused(deps, tenant, &a.data, index - rules_at).await)
            }
            Err(e) if super::lost(&e) => record::backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict(BUSY.into()))
}

/// One appointment, or "Appointment not found".
pub async fn find(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Booked> {
    record::find::<Appointment>(deps, tenant, id).await
}

/// A day's appointments (one poly's when given), in poly then time order: one Query.
pub async fn on_day(deps: &Deps, tenant: &Tenant, date: NaiveDate, poly_id: Option<i64>) -> DomainResult<Vec<Booked>> {
    let mut q = antrean_store::Query::partition(day_partition(tenant, &super::date_string(date)));
    if let Some(p) = poly_id {
        q = q.sort(antrean_store::SortKey::BeginsWith(format!("{}#", id_key(p))));
    }
    let items = antrean_store::query_all(deps.table.as_ref(), q).await?;
    items.into_iter().map(|i| super::decode(i, "appointment")).collect()
}
