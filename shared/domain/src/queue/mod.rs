//! The queue workflow (seed "Queue"): nurses call numbers to anamnesa and send them on to the
//! doctor, doctors call them in and finish them, and anyone at the desk may mark a no-show or a
//! cancellation.
//!
//! The workflow is an explicit state machine over the status codes ([`step`]):
//!
//! | from \ move      | anamnesa | waitingdoctor | withdoctor | done  | noshow | cancelled |
//! |------------------|----------|---------------|------------|-------|--------|-----------|
//! | WAITING          | enter    | –             | –          | –     | enter  | enter     |
//! | ANAMNESA         | recall   | enter         | –          | –     | enter  | enter     |
//! | WAITING_DOCTOR   | –        | –             | enter      | –     | enter  | enter     |
//! | WITH_DOCTOR      | –        | –             | recall     | enter | enter  | enter     |
//! | DONE, NO_SHOW, CANCELLED | – | –            | –          | –     | –      | –         |
//!
//! A recall counts `number_of_calls` up within the stage; a fourth call is refused. Every move
//! is one atomic write conditioned on the version of the reservation that was read, so two
//! nurses pressing at once cannot both move it: the second hears who was first.
use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::audit::{self, Action, Actor};
use crate::board::{Call, Stage};
use crate::clinic_flow::rooms::{self, Room};
use crate::clinic_flow::roster;
use crate::clinic_flow::{priority, settings as flow_settings};
use crate::estimates::{self, ServiceTimes};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::paging::Paging;
use crate::poly::Poly;
use crate::record::{self, Record, Stored};
use crate::reservation::{
    self, change_ops, clinic_today, day_entries, read, status_by_code, statuses, DayEntry, Full, Reservation, ANAMNESA,
    CANCELLED, DONE, NO_SHOW, WAITING, WAITING_DOCTOR, WITH_DOCTOR,
};
use crate::rollup;
use crate::tenant::Tenant;
use crate::Deps;

pub const MAX_CALLS: i64 = 3;
const MAX_ATTEMPTS: u32 = 60;

/// The six moves of the seed's `PATCH /api/queue/{id}/<move>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Anamnesa,
    WaitingDoctor,
    WithDoctor,
    Done,
    NoShow,
    Cancelled,
}

impl Move {
    pub const ALL: [Move; 6] = [Move::Anamnesa, Move::WaitingDoctor, Move::WithDoctor, Move::Done, Move::NoShow, Move::Cancelled];

    /// The path segment: `anamnesa`, `waitingdoctor`, `withdoctor`, `done`, `noshow`, `cancelled`.
    pub fn segment(self) -> &'static str {
        match self {
            Move::Anamnesa => "anamnesa",
            Move::WaitingDoctor => "waitingdoctor",
            Move::WithDoctor => "withdoctor",
            Move::Done => "done",
            Move::NoShow => "noshow",
            Move::Cancelled => "cancelled",
        }
    }

    /// The status code the move leads to.
    pub fn target(self) -> &'static str {
        match self {
            Move::Anamnesa => ANAMNESA,
            Move::WaitingDoctor => WAITING_DOCTOR,
            Move::WithDoctor => WITH_DOCTOR,
            Move::Done => DONE,
            Move::NoShow => NO_SHOW,
            Move::Cancelled => CANCELLED,
        }
    }

    /// A call the waiting room hears (and n8n is told of).
    pub fn stage(self) -> Option<Stage> {
        match self {
            Move::Anamnesa => Some(Stage::Anamnesa),
            Move::WithDoctor => Some(Stage::WithDoctor),
            _ => None,
        }
    }

    /// The seed's success message.
    pub fn message(self) -> &'static str {
        match self {
            Move::Anamnesa => "Anamnesa call processed successfully",
            Move::WaitingDoctor => "Reservation moved to waiting doctor successfully",
            Move::WithDoctor => "With doctor call processed successfully",
            Move::Done => "Reservation finish",
            Move::NoShow => "Reservation moved to no show successfully",
            Move::Cancelled => "Reservation moved to cancelled successfully",
        }
    }

    fn doing(self) -> &'static str {
        match self {
            Move::Anamnesa => "called to anamnesa",
            Move::WaitingDoctor => "sent on to wait for the doctor",
            Move::WithDoctor => "called in to the doctor",
            Move::Done => "finished",
            Move::NoShow => "marked as no-show",
            Move::Cancelled => "cancelled",
        }
    }
}

/// What a move does to a reservation in a given status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Into the move's stage.
    Enter,
    /// The same stage again: call the number once more.
    Recall,
}

/// The state machine (see the module table). `None`: the move is not allowed from `code`.
pub fn step(code: &str, mv: Move) -> Option<Step> {
    use Move::*;
    match (code, mv) {
        (WAITING, Anamnesa) | (ANAMNESA, WaitingDoctor) | (WAITING_DOCTOR, WithDoctor) | (WITH_DOCTOR, Done) => Some(Step::Enter),
        (ANAMNESA, Anamnesa) | (WITH_DOCTOR, WithDoctor) => Some(Step::Recall),
        (c, NoShow | Cancelled) if reservation::is_open(c) => Some(Step::Enter),
        _ => None,
    }
}

fn status_words(statuses: &std::collections::HashMap<i64, Stored<crate::status::Status>>, r: &Reservation) -> String {
    match statuses.get(&r.status_id) {
        Some(s) if s.data.label != r.status_code => format!("{} ({})", s.data.label, r.status_code),
        _ => r.status_code.clone(),
    }
}

fn refused(statuses: &std::collections::HashMap<i64, Stored<crate::status::Status>>, r: &Reservation, mv: Move) -> DomainError {
    DomainError::Conflict(format!("The reservation is {}; it cannot be {}.", status_words(statuses, r), mv.doing()))
}

/// The reservation as `mv` leaves it (a pure function of the reservation, the move and the time).
fn moved(before: &Stored<Reservation>, mv: Move, step: Step, status_id: i64, now: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> Stored<Reservation> {
    let ts = stamp(now);
    let mut r = before.data.clone();
    r.status_id = status_id;
    r.status_code = mv.target().into();
    r.queue_updated_at = ts.clone();
    match (mv, step) {
        (_, Step::Recall) => r.number_of_calls += 1,
        (Move::Anamnesa, Step::Enter) => {
            r.number_of_calls = 1;
            r.anamnesa_at = Some(ts.clone());
        }
        (Move::WaitingDoctor, Step::Enter) => {
            r.number_of_calls = 0;
            r.waiting_doctor_at = Some(ts.clone());
        }
        (Move::WithDoctor, Step::Enter) => {
            r.number_of_calls = 1;
            r.with_doctor_at = Some(ts.clone());
            r.call_time = Some(now.with_timezone(&tz).format("%H:%M:%S").to_string());
        }
        (Move::Done | Move::NoShow | Move::Cancelled, Step::Enter) => r.finished_at = Some(ts.clone()),
    }
    Stored { data: r, updated_at: ts, ..before.clone() }
}

/// What a move did.
#[derive(Debug, Clone)]
pub struct Moved {
    pub full: Full,
    /// The call the boards announce (anamnesa and with-doctor moves, recalls included).
    pub call: Option<Call>,
    /// When the doctor called the patient in (seed format), for the with-doctor response.
    pub call_time: Option<String>,
}

/// What a move writes beside the reservation, read in one batch before it: the patient and
/// poly (for the answer) and the rollup bucket (for the waiting-time extremes).
struct Around {
    patient: Option<Stored<crate::patient::Patient>>,
    poly: Option<Stored<Poly>>,
    bucket: Option<antrean_store::Item>,
    /// The poly's recent consultations, when the move finishes one (`estimates`).
    times: Option<ServiceTimes>,
    /// The room named for a call in to the doctor, and its doctor that day.
    room: Option<(Stored<Room>, Option<i64>)>,
}

async fn around(deps: &Deps, tenant: &Tenant, r: &Reservation, finishing: bool, room_id: Option<i64>) -> DomainResult<Around> {
    let mut keys = vec![
        crate::patient::key(tenant, r.patient_id),
        record::record_key::<Poly>(tenant, r.poly_id),
        rollup::key(tenant, r.visit_date(), r.poly_id),
    ];
    if finishing {
        keys.push(estimates::key(tenant, r.poly_id));
    }
    if let Some(id) = room_id {
        keys.extend([record::record_key::<Room>(tenant, id), roster::key(tenant, r.visit_date(), id)]);
    }
    let mut items = deps.table.get_many(&keys, None).await?.into_iter();
    let patient = items.next().flatten().map(crate::patient::decode).transpose()?.map(|(p, _)| p);
    let poly = items.next().flatten().map(record::decode).transpose()?;
    let bucket = items.next().flatten();
    let times = finishing.then(|| ServiceTimes::from_item(items.next().flatten().as_ref()));
    let room = match room_id {
        Some(_) => {
            let room = rooms::checked(items.next().flatten(), r.poly_id)?;
            let doctor = roster::doctor_of(&room, items.next().flatten().as_ref());
            Some((room, doctor))
        }
        None => None,
    };
    Ok(Around { patient, poly, bucket, times, room })
}

/// The call a move makes (anamnesa and with-doctor moves, recalls included).
fn call_of(mv: Move, after: &Stored<Reservation>, now: chrono::DateTime<chrono::Utc>) -> Option<Call> {
    mv.stage().map(|stage| Call {
        poly_id: after.data.poly_id,
        date: after.data.visit_date(),
        queue_number: after.data.queue_number,
        stage,
        number_of_calls: after.data.number_of_calls,
        at: now,
        // The doctor's room; a call to anamnesa is to the nurses' desk, not to a room.
        room: if stage == Stage::WithDoctor { after.data.room.clone() } else { None },
        priority: after.data.priority,
    })
}

/// Moves one reservation (seed `PATCH /api/queue/{id}/<move>`). Reads: the reservation with
/// the clinic's settings and statuses (one batch), then what the write needs beside it (one
/// batch); writes: one atomic write with the rollups, the board's call and the audit entry.
pub async fn transition(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, mv: Move) -> DomainResult<Moved> {
    transition_to_room(deps, tenant, actor, id, mv, None).await
}

/// [`transition`], a call in to the doctor naming the room (`room_id`, a room of the
/// reservation's poly): the board, the voice call and n8n then name that room.
pub async fn transition_to_room(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, mv: Move, room_id: Option<i64>) -> DomainResult<Moved> {
    let room_id = room_id.filter(|_| mv == Move::WithDoctor);
    // The first read takes the clinic's settings and statuses along: one batch.
    let mut first = crate::nested::read_with(deps, tenant, &[id], &[], &[]).await?.0.take_versioned(&[id]).pop();
    if first.is_none() {
        return Err(DomainError::NotFound("Reservation not found".into()));
    }
    let (_, tz) = clinic_today(deps, tenant).await?;
    let statuses = statuses(deps, tenant).await?;
    let target = status_by_code(&statuses, mv.target())?.id;
    let mut expected: Option<String> = None;
    let mut refusals = crate::error::Refusals::default();
    for attempt in 0..MAX_ATTEMPTS {
        let (before, version) = match first.take() {
            Some(read) => read,
            None => read(deps, tenant, id).await?,
        };
        if let Some(code) = &expected {
            if *code != before.data.status_code {
                return Err(DomainError::Conflict(format!(
                    "Someone else has just moved this reservation: it is now {}.",
                    status_words(&statuses, &before.data)
                )));
            }
        }
        let Some(step) = step(&before.data.status_code, mv) else { return Err(refused(&statuses, &before.data, mv)) };
        if step == Step::Recall && before.data.number_of_calls >= MAX_CALLS {
            return Err(DomainError::UnprocessableWith {
                message: format!("Maximum number of calls reached ({MAX_CALLS} times)"),
                data: json!({ "number_of_calls": before.data.number_of_calls }),
            });
        }
        let now = deps.clock.now();
        let mut after = moved(&before, mv, step, target, now, tz);
        let sample = if mv == Move::Done { ServiceTimes::sample_of(&after.data, tz) } else { None };
        let around = around(deps, tenant, &after.data, sample.is_some(), room_id).await?;
        if let Some((room, doctor)) = &around.room {
            after.data.room_id = Some(room.id);
            after.data.room = Some(room.data.name.clone());
            after.data.doctor_id = *doctor;
        }
        let call = call_of(mv, &after, now);
        let mut ops = change_ops(tenant, tz, &before, version, &after, call.is_some())?;
        rollup::fold_extremes(&mut ops, tenant, around.bucket.as_ref(), Some(&before.data.facts(tz)), &after.data.facts(tz));
        if let Some(c) = &call {
            crate::board::state::fold_call(&mut ops, tenant, c, after.data.room_id.filter(|_| c.room.is_some()), around.bucket.as_ref());
        }
        if let (Some(times), Some(sample)) = (&around.times, sample) {
            ops.push(times.add_op(tenant, after.data.poly_id, &[sample]));
        }
        ops.push(audit::entry(tenant, actor, Action::Update, Reservation::KIND, id, now));
        match deps.table.write(ops).await {
            Ok(()) => {
                let call_time = (mv == Move::WithDoctor).then(|| after.data.with_doctor_at.clone()).flatten();
                let full = Full { status: statuses.get(&after.data.status_id).cloned(), patient: around.patient, poly: around.poly, reservation: after };
                return Ok(Moved { full, call, call_time });
            }
            Err(e @ (antrean_store::StoreError::ConditionFailed { .. } | antrean_store::StoreError::Conflict)) => {
                if !refusals.keep_trying(&e) {
                    break;
                }
                // Changed since we read it: if its status moved, the other writer won.
                expected = Some(before.data.status_code.clone());
                record::backoff(attempt).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(refusals.ran_out(DomainError::Conflict("Reservation is being changed by someone else; try again".into())))
}

/// `poly_id` and `date` of the queue routes that name a poly's day.
pub fn parse_poly_day(body: &Value) -> DomainResult<(i64, NaiveDate)> {
    let mut errors = FieldErrors::new();
    let poly = crate::validate::required_id(&mut errors, body, "poly_id");
    let date = crate::validate::required_date(&mut errors, body, "date");
    errors.into_result()?;
    match (poly, date) {
        (Some(p), Some(d)) => Ok((p, d)),
        _ => Err(DomainError::Internal("a checked poly day lacks a field".into())),
    }
}

/// Call-next's body: the poly's day and, optionally, the room pressing (`room_id`).
pub fn parse_call_next(body: &Value) -> DomainResult<(i64, NaiveDate, Option<i64>)> {
    let mut errors = FieldErrors::new();
    let poly = crate::validate::required_id(&mut errors, body, "poly_id");
    let date = crate::validate::required_date(&mut errors, body, "date");
    let room = crate::validate::optional_id(&mut errors, body, "room_id");
    errors.into_result()?;
    match (poly, date, room) {
        (Some(p), Some(d), Some(r)) => Ok((p, d, r)),
        _ => Err(DomainError::Internal("a checked call-next body lacks a field".into())),
    }
}

/// The numbers now at anamnesa and with the doctor for one poly and day (seed
/// `GET /api/queue/current`): the most recently called of each, `None` when nobody is there.
pub async fn current(deps: &Deps, tenant: &Tenant, poly_id: i64, date: NaiveDate) -> DomainResult<(Option<i64>, Option<i64>)> {
    Ok(current_of(&day_entries(deps, tenant, date, Some(poly_id)).await?, poly_id))
}

/// [`current`] from the day's queue as read (any polies).
pub fn current_of(entries: &[DayEntry], poly_id: i64) -> (Option<i64>, Option<i64>) {
    let entries: Vec<&DayEntry> = entries.iter().filter(|e| e.poly_id == poly_id).collect();
    let latest = |code: &str| {
        entries
            .iter()
            .filter(|e| e.status_code == code)
            .max_by_key(|e| (e.called_ms.unwrap_or_default(), e.queue_number))
            .map(|e| e.queue_number)
    };
    (latest(ANAMNESA), latest(WITH_DOCTOR))
}

/// One page of a day's queue (seed "Queue List"), in poly then queue-number order, with the total.
/// A patient sent on to another poly is listed once, at the poly they are at now (the first
/// poly's visit is in the reservation's `poly_history`).
pub async fn list(deps: &Deps, tenant: &Tenant, date: NaiveDate, poly_id: Option<i64>, status_id: Option<i64>, paging: Paging) -> DomainResult<(Vec<Full>, usize)> {
    let entries: Vec<DayEntry> = day_entries(deps, tenant, date, poly_id)
        .await?
        .into_iter()
        .filter(|e| e.transferred_to.is_none() && status_id.is_none_or(|s| e.status_id == s))
        .collect();
    let total = entries.len();
    let page: Vec<&DayEntry> = entries.iter().skip(paging.offset()).take(paging.per_page).collect();
    // The day's index names each number's patient and poly: one batch reads them all.
    let ids: Vec<i64> = page.iter().map(|e| e.id).collect();
    let refs: Vec<(i64, i64)> = page.iter().map(|e| (e.patient_id, e.poly_id)).collect();
    let mut nested = crate::nested::read(deps, tenant, &ids, &refs).await?;
    Ok((nested.fulls(&ids), total))
}

/// The clinic's today, for routes whose date is optional.
pub async fn today(deps: &Deps, tenant: &Tenant) -> DomainResult<NaiveDate> {
    Ok(clinic_today(deps, tenant).await?.0)
}

/// The date a route was given, else the clinic's today.
pub async fn day_or_today(deps: &Deps, tenant: &Tenant, date: Option<NaiveDate>) -> DomainResult<NaiveDate> {
    match date {
        Some(d) => Ok(d),
        None => today(deps, tenant).await,
    }
}


mod call_next;
#[cfg(test)]
mod tests;

pub use call_next::{call_next, NextCalled};
