//! Sending a patient on to another poly of the clinic after the doctor (general → dental):
//! `PATCH /api/queue/{id}/transfer {"poly_id"}`. The same reservation, ticket code and
//! history: the first poly's number and stages are kept in `poly_history`, and the ticket
//! shows the new poly. The rule for the new line:
//! - the patient takes the target poly's next number of that day, through the same counter
//!   (conditioned on the value read) that reception's create takes it from;
//! - they join it waiting for the doctor (anamnesa was done at the first poly), so the target
//!   poly's call-next and rooms pick them up under its priority policy like anyone else;
//! - the target poly's schedule for the day with room left is taken (its quota place counted,
//!   as a create does); none that day, or all full: refused.
//!
//! One atomic write conditioned on the reservation's version: the reservation, the first
//! poly's index item (left DONE, marked sent on), the target poly's index item, the number
//! counter, the quota place, the open-reservation guard at the target, the rollups (the first
//! poly counts one sent on, the target one new number and one come in), the day-open check
//! and the audit entry. Two doctors transferring the same patient at once: one wins, the
//! other hears the patient has moved on. Nothing changes on any refusal.
//!
//! BPJS antrean knows the visit as the first poly's booking, reported done there; the target
//! poly's stages are not sent as a second set of tasks for it, nor the pharmacy's tasks 6
//! and 7 after the move (a referral there as a BPJS antrean of its own is not built).
use antrean_store::{Key, Op, StoreError, Update};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::poly::Poly;
use crate::record::{self, Record, Stored};
use crate::reservation::{
    self, active_key, clinic_today, day_item, day_key, item_with, number_counter, status_by_code, statuses, Reservation,
    DONE, QUOTA_FULL, WAITING_DOCTOR,
};
use crate::rollup::{self, ReservationFacts};
use crate::schedule::{self, Slot};
use crate::tenant::Tenant;
use crate::{validate, Deps};

use super::services::is_finished;

/// One earlier poly of the visit, as it was when the patient was sent on from it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PolyVisit {
    pub poly_id: i64,
    pub poly_name: String,
    pub queue_number: i64,
    pub schedule_id: i64,
    /// The status there (`DONE`).
    pub status_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_id: Option<i64>,
    pub registered_at: Option<String>,
    pub anamnesa_at: Option<String>,
    pub waiting_doctor_at: Option<String>,
    pub with_doctor_at: Option<String>,
    pub finished_at: Option<String>,
    /// When the patient was sent on from it.
    pub transferred_at: String,
}

impl PolyVisit {
    /// What this poly's rollup counts of the visit (`came_in`: it was itself a transfer).
    pub fn facts(&self, r: &Reservation, came_in: bool, tz: Tz) -> ReservationFacts {
        let mut f = self.at_poly(r).facts(tz);
        f.transferred_in = came_in;
        f.transferred_out = true;
        f
    }

    /// The reservation as it stood at this poly: its number, status and stages there (what the
    /// rollups and the patient-visits report count of it).
    pub fn at_poly(&self, r: &Reservation) -> Reservation {
        Reservation {
            poly_id: self.poly_id,
            queue_number: self.queue_number,
            schedule_id: self.schedule_id,
            status_code: self.status_code.clone(),
            registered_at: self.registered_at.clone(),
            anamnesa_at: self.anamnesa_at.clone(),
            waiting_doctor_at: self.waiting_doctor_at.clone(),
            with_doctor_at: self.with_doctor_at.clone(),
            finished_at: self.finished_at.clone(),
            poly_history: Vec::new(),
            ..r.clone()
        }
    }
}

pub const SAME_POLY: &str = "The patient is already at this poly.";
pub const NO_SCHEDULE: &str = "There is no doctor schedule for this poly on this date.";
pub const ALREADY_THERE: &str = "The patient already has an open reservation at that poly on this date.";

/// What the transfer read: the reservation, the target poly, its number counter and slots.
struct Seen {
    before: Stored<Reservation>,
    version: i64,
    from_name: String,
    to_name: String,
    last_number: i64,
    slots: Vec<Slot>,
}

async fn read(deps: &Deps, tenant: &Tenant, id: i64, target: i64) -> DomainResult<Seen> {
    // The clinic's settings and statuses come along in the same batch (the request keeps them).
    let Some((before, version)) = crate::nested::read_with(deps, tenant, &[id], &[], &[]).await?.0.take_versioned(&[id]).pop() else {
        return Err(reservation::not_found());
    };
    if before.data.status_code != DONE {
        return Err(DomainError::Conflict(format!(
            "The reservation is {}; the doctor must finish with the patient before sending them on.",
            before.data.status_code
        )));
    }
    if let Some(open) = before.data.services.last().filter(|s| !is_finished(&s.status)) {
        return Err(DomainError::Conflict(format!("The patient is still at {}.", open.service_name)));
    }
    if before.data.poly_id == target {
        return Err(FieldErrors::single("poly_id", SAME_POLY));
    }
    let date = before.data.visit_date();
    let day = before.data.date.clone();
    let keys = [
        record::record_key::<Poly>(tenant, target),
        record::record_key::<Poly>(tenant, before.data.poly_id),
        record::counter_key(tenant, &number_counter(&day, target)),
    ];
    let (items, ids) = futures::try_join!(async { Ok(deps.table.get_many(&keys, None).await?) }, schedule::ids_on_day(deps, tenant, target, date))?;
    let mut items = items.into_iter();
    let to_name = match items.next().flatten().map(record::decode::<Stored<Poly>>).transpose()? {
        Some(p) if !p.is_trashed() => p.data.name,
        _ => return Err(FieldErrors::single("poly_id", "The selected poly id is invalid.")),
    };
    let from: Option<Stored<Poly>> = items.next().flatten().map(record::decode).transpose()?;
    let last_number = items.next().flatten().and_then(|i| i.get("last").and_then(Value::as_i64)).unwrap_or(0);
    let slot_keys: Vec<Key> = ids.iter().flat_map(|id| schedule::slot_keys(tenant, *id)).collect();
    let slots = if slot_keys.is_empty() { Vec::new() } else { schedule::slots_from(target, deps.table.get_many(&slot_keys, None).await?)? };
    if slots.is_empty() {
        return Err(DomainError::Unprocessable(NO_SCHEDULE.into()));
    }
    Ok(Seen { before, version, from_name: from.map(|p| p.data.name).unwrap_or_default(), to_name, last_number, slots })
}

/// The reservation as the transfer leaves it: at the target poly, its next number, waiting
/// for the doctor; the first poly's visit in its history.
fn moved(seen: &Seen, target: i64, slot: &Slot, waiting_doctor_id: i64, now: chrono::DateTime<chrono::Utc>, tz: Tz) -> Stored<Reservation> {
    let ts = stamp(now);
    let b = &seen.before.data;
    let mut r = b.clone();
    r.poly_history.push(PolyVisit {
        poly_id: b.poly_id,
        poly_name: seen.from_name.clone(),
        queue_number: b.queue_number,
        schedule_id: b.schedule_id,
        status_code: b.status_code.clone(),
        room: b.room.clone(),
        doctor_id: b.doctor_id,
        registered_at: b.registered_at.clone(),
        anamnesa_at: b.anamnesa_at.clone(),
        waiting_doctor_at: b.waiting_doctor_at.clone(),
        with_doctor_at: b.with_doctor_at.clone(),
        finished_at: b.finished_at.clone(),
        transferred_at: ts.clone(),
    });
    r.poly_id = target;
    r.schedule_id = slot.schedule.id;
    r.schedule_doctor_id = Some(slot.schedule.data.doctor_id);
    r.queue_number = seen.last_number + 1;
    r.status_id = waiting_doctor_id;
    r.status_code = WAITING_DOCTOR.into();
    r.number_of_calls = 0;
    r.call_time = None;
    r.re_reservation_time = now.with_timezone(&tz).format("%H:%M:%S").to_string();
    r.queue_updated_at = ts.clone();
    // Waiting at this poly starts now.
    r.registered_at = Some(ts.clone());
    r.anamnesa_at = None;
    r.waiting_doctor_at = Some(ts.clone());
    r.with_doctor_at = None;
    r.finished_at = None;
    r.room_id = None;
    r.room = None;
    r.doctor_id = None;
    // BPJS antrean: the booking was the first poly's, reported done there (task 5). The visit
    // here sends BPJS no second set of tasks for it, and holds no JKN quota place here (a
    // cancel here gives none back).
    if let Some(v) = r.bpjs_visit.as_mut() {
        v.sync = false;
        v.quota = None;
    }
    Stored { data: r, updated_at: ts, ..seen.before.clone() }
}

/// What a transfer made, with the name of the poly sent to.
#[derive(Debug, Clone)]
pub struct Transferred {
    pub reservation: Stored<Reservation>,
    pub poly_name: String,
}

/// Sends the patient `id` (finished with the doctor) on to the poly `body.poly_id`.
pub async fn transfer(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Transferred> {
    let mut errors = FieldErrors::new();
    let target = validate::required_id(&mut errors, body, "poly_id");
    errors.into_result()?;
    let target = target.unwrap_or_default();
    // Numbers are handed out in turns within this process, like reception's creates.
    let lock = reservation::create::create_lock(deps, tenant);
    let _turn = lock.lock().await;
    let mut refusals = crate::error::Refusals::default();
    for attempt in 0..reservation::MAX_ATTEMPTS {
        let seen = read(deps, tenant, id, target).await?;
        let (_, tz) = clinic_today(deps, tenant).await?;
        let waiting_doctor = status_by_code(&statuses(deps, tenant).await?, WAITING_DOCTOR)?.id;
        let Some(slot) = seen.slots.iter().find(|s| s.has_room()) else { return Err(DomainError::Unprocessable(QUOTA_FULL.into())) };
        let now = deps.clock.now();
        let after = moved(&seen, target, slot, waiting_doctor, now, tz);
        let (b, a) = (&seen.before.data, &after.data);
        let mut ops = vec![Op::put_if(record::item_of(tenant, &after, seen.version + 1)?, antrean_store::Condition::equals(record::VERSION, seen.version))];
        // The first poly's number stays DONE in its day, marked as sent on.
        ops.push(Op::update(day_key(tenant, b), Update::new().set("transferred_to", target)));
        ops.push(Op::put_new(day_item(tenant, id, a, None)));
        ops.push(record::bump_counter(tenant, &number_counter(&a.date, target), seen.last_number, 1));
        let [hold_check, hold_add] = schedule::hold_ops(tenant, slot);
        ops.extend([hold_check, hold_add]);
        let guard_at = ops.len();
        ops.push(Op::put_new(item_with(&active_key(tenant, a), json!({ "id": id }))));
        let closed_at = ops.len();
        ops.push(super::end_of_day::open_check(tenant, &a.date));
        let visit = after.data.poly_history.last().ok_or_else(|| DomainError::Internal("a transfer without its first poly".into()))?;
        let was = b.facts(tz);
        let sent_on = visit.facts(a, !b.poly_history.is_empty(), tz);
        ops.extend(rollup::delta_ops(tenant, Some(&was), &sent_on));
        ops.extend(rollup::delta_ops(tenant, None, &a.facts(tz)));
        // The boards of both polies, on their buckets (the counts' updates take them along).
        ops.extend(crate::board::state::stage_ops(tenant, Some(b), a));
        let mut ops = reservation::merge_updates(ops);
        crate::board::state::mark_first(&mut ops, tenant, a);
        ops.push(audit::entry(tenant, actor, Action::Update, Reservation::KIND, id, now));
        match deps.table.write(ops).await {
            Ok(()) => return Ok(Transferred { reservation: after, poly_name: seen.to_name }),
            Err(StoreError::ConditionFailed { index }) if index == guard_at => return Err(DomainError::Unprocessable(ALREADY_THERE.into())),
            Err(StoreError::ConditionFailed { index }) if index == closed_at => {
                return Err(DomainError::Unprocessable(super::end_of_day::DAY_CLOSED.into()))
            }
            // The schedule filled up, the counter moved, or someone else moved the patient: read again.
            Err(e @ (StoreError::ConditionFailed { .. } | StoreError::Conflict)) => {
                if !refusals.keep_trying(&e) {
                    break;
                }
            }
            Err(e) => return Err(e.into()),
        }
        record::backoff(attempt).await;
    }
    Err(refusals.ran_out(DomainError::Conflict(reservation::create::BUSY.into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use antrean_store::embedded::EmbeddedTable;
    use antrean_store::Table;

    fn at(hm: &str) -> String {
        format!("2026-01-10T{hm}:00.000000Z")
    }

    async fn apply(table: &EmbeddedTable, ops: Vec<Op>) {
        if !ops.is_empty() {
            table.write(ops).await.unwrap();
        }
    }

    /// What the transfer writes to the rollups, and what later moves write, equal a rebuild
    /// from the reservation's visits (`Reservation::all_facts`): there and back again.
    #[tokio::test]
    async fn live_rollups_of_a_transfer_equal_a_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let table = EmbeddedTable::open(dir.path()).unwrap();
        let t = Tenant::parse("klinik").unwrap();
        let tz = chrono_tz::Asia::Jakarta;
        let r = Reservation {
            patient_id: 1,
            poly_id: 1,
            schedule_id: 1,
            date: "2026-01-10".into(),
            status_code: DONE.into(),
            queue_number: 4,
            registered_at: Some(at("01:00")),
            anamnesa_at: Some(at("01:10")),
            waiting_doctor_at: Some(at("01:20")),
            with_doctor_at: Some(at("01:30")),
            finished_at: Some(at("01:40")),
            ..Default::default()
        };
        let mut before = Stored { id: 7, data: r, created_at: at("01:00"), updated_at: at("01:40"), deleted_at: None };
        apply(&table, rollup::delta_ops(&t, None, &before.data.facts(tz))).await;
        let slot = |id: i64| {
            let data = serde_json::from_value(json!({"doctor_id": id, "poly_id": id, "date": "2026-01-10", "start_time": "08:00:00", "end_time": "16:00:00"})).unwrap();
            Slot { schedule: Stored { id, data, created_at: String::new(), updated_at: String::new(), deleted_at: None }, version: 1, booked: 0 }
        };
        let date = before.data.visit_date();
        for (hop, (target, now)) in [(2, "02:00"), (1, "03:00")].into_iter().enumerate() {
            let seen = Seen { before: before.clone(), version: 1, from_name: "Poli".into(), to_name: "Poli".into(), last_number: 10, slots: vec![] };
            let now = chrono::DateTime::parse_from_rfc3339(&at(now)).unwrap().with_timezone(&chrono::Utc);
            let after = moved(&seen, target, &slot(target), 3, now, tz);
            let visit = after.data.poly_history.last().unwrap();
            let mut ops = rollup::delta_ops(&t, Some(&before.data.facts(tz)), &visit.facts(&after.data, hop > 0, tz));
            ops.extend(rollup::delta_ops(&t, None, &after.data.facts(tz)));
            apply(&table, ops).await;
            // Seen at the target poly and finished there.
            let mut done = after.clone();
            done.data.status_code = DONE.into();
            done.data.with_doctor_at = Some(stamp(now + chrono::Duration::minutes(15)));
            done.data.finished_at = Some(stamp(now + chrono::Duration::minutes(25)));
            apply(&table, rollup::delta_ops(&t, Some(&after.data.facts(tz)), &done.data.facts(tz))).await;
            before = done;
        }
        let live = rollup::read(&table, &t, date, date).await.unwrap();
        let rebuilt = rollup::compute(date, &before.data.all_facts(tz));
        // Poli 1 saw the patient twice (first, and back again), poli 2 once.
        assert_eq!((live[0].total(), live[0].moved_out, live[0].moved_in, live[1].total(), live[1].moved_in, live[1].moved_out), (2, 1, 1, 1, 1, 1));
        // (The extremes are the queue moves' own business: this test does not fold them.)
        let counts = |d: &rollup::DayPoly| rollup::DayPoly { wait_min: None, wait_max: None, ..d.clone() };
        assert_eq!(live.iter().map(counts).collect::<Vec<_>>(), rebuilt.iter().map(counts).collect::<Vec<_>>());
    }
}
