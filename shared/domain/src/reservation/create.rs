//! Creating a reservation (seed "Reservation Create"): the form, the patient it names, the
//! schedule it takes a place in, and the one atomic write that hands out the queue number.
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use antrean_store::{Condition, Item, Key, Op, StoreError};
use chrono::NaiveDate;
use serde_json::Value;

use super::*;
use crate::audit::{self, Action, Actor};
use crate::clinic_flow::priority::{self, PriorityForm};
use crate::clinic_flow::settings::{self as queue_settings, QueueSettings};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::patient::{self, Patient, PatientForm};
use crate::poly::Poly;
use crate::record::{self, Record, Stored, Unique};
use crate::rollup;
use crate::schedule::{self, Slot};
use crate::status::Status;
use crate::tenant::Tenant;
use crate::{validate, Deps};

// ----- the form

/// `poly_id`, `schedule_id` (nullable), `bpjs`, `date` and the patient's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ReservationForm {
    pub patient: PatientForm,
    pub poly_id: i64,
    pub schedule_id: Option<i64>,
    pub bpjs: bool,
    pub date: NaiveDate,
    /// BPJS antrean's `nik`, `nomorreferensi`, `jeniskunjungan` (optional).
    pub visit: crate::bpjs::VisitForm,
    /// `priority_reasons` and `birth_date` (`clinic_flow::priority`).
    pub priority: PriorityForm,
}

fn parse_bool(errors: &mut FieldErrors, body: &Value, field: &str) -> Option<bool> {
    match body.get(field) {
        None | Some(Value::Null) => Some(false),
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Number(n)) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => Some(n.as_i64() == Some(1)),
        Some(Value::String(s)) if matches!(s.as_str(), "0" | "1" | "true" | "false") => Some(s == "1" || s == "true"),
        Some(_) => {
            errors.add(field, format!("The {} field must be true or false.", validate::human(field)));
            None
        }
    }
}

impl ReservationForm {
    /// The body's rules; `today` is the clinic's today (a past date is refused).
    pub fn parse(body: &Value, today: NaiveDate, with_schedule: bool) -> DomainResult<ReservationForm> {
        let mut errors = FieldErrors::new();
        let patient = PatientForm::parse(&mut errors, body);
        let poly_id = validate::required_id(&mut errors, body, "poly_id");
        let schedule_id = if with_schedule { validate::optional_id(&mut errors, body, "schedule_id") } else { Some(None) };
        let bpjs = parse_bool(&mut errors, body, "bpjs");
        let date = validate::required_date(&mut errors, body, "date");
        let visit = crate::bpjs::VisitForm::parse(&mut errors, body);
        let priority = PriorityForm::parse(&mut errors, body, date);
        if let Some(d) = date {
            if d < today {
                errors.add("date", PAST_DATE);
            }
        }
        if bpjs == Some(true) && patient.as_ref().is_some_and(|p| p.no_bpjs.is_none()) && !errors.has("no_bpjs") {
            errors.add("no_bpjs", "The no bpjs field is required when bpjs is true.");
        }
        errors.into_result()?;
        match (patient, poly_id, schedule_id, bpjs, date) {
            (Some(patient), Some(poly_id), Some(schedule_id), Some(bpjs), Some(date)) => Ok(ReservationForm { patient, poly_id, schedule_id, bpjs, date, visit, priority }),
            _ => Err(DomainError::Internal("a form without errors lacks a field".into())),
        }
    }
}

fn invalid(field: &str) -> DomainError {
    FieldErrors::single(field, format!("The selected {} is invalid.", validate::human(field)))
}

pub const PAST_DATE: &str = "The date field must be a date after or equal to today.";
pub const DIFFERENT_NAME: &str = "WhatsApp number or BPJS number is already registered with a different patient name";
pub const QUOTA_FULL: &str = "Quota is full";
pub const BUSY: &str = "The queue is very busy right now; please try again.";
pub const ALREADY_BOOKED: &str = "The patient already has an active reservation for this poly on this date.";

/// What a create reads before its write, in two batch reads (and a Query on the day's
/// schedule index beside the first when the form names no schedule):
/// 1. the poly, the three counters (reservation id, the poly-day's queue number, patient id),
///    the patient guards of the form's WhatsApp and BPJS numbers, the named schedule with its
///    booked count, and the clinic's settings and statuses unless the request has them;
/// 2. the patient the guards name, and the day's schedules with their booked counts.
struct Seen {
    poly_live: bool,
    last_id: i64,
    last_number: i64,
    last_patient: i64,
    /// The clinic's BPJS configuration, if it has one.
    bpjs: Option<crate::bpjs::config::BpjsConfig>,
    by_wa: Option<i64>,
    by_bpjs: Option<i64>,
    patient: Option<(Stored<Patient>, i64)>,
    /// The named schedule (`None` inside: missing or deleted), or the day's slots.
    asked: Option<Option<Slot>>,
    day_slots: Vec<Slot>,
    /// The clinic's priority criteria (the queue settings).
    queue_settings: QueueSettings,
}

fn last_of(item: Option<Item>) -> i64 {
    item.and_then(|i| i.get("last").and_then(Value::as_i64)).unwrap_or(0)
}

fn id_of(item: Option<Item>) -> Option<i64> {
    item.and_then(|i| i.get("id").and_then(Value::as_i64))
}

impl Seen {
    async fn read(deps: &Deps, tenant: &Tenant, form: &ReservationForm) -> DomainResult<Seen> {
        let date = form.date.format("%Y-%m-%d").to_string();
        let guard = |field: &'static str, v: &Option<String>| v.as_ref().map(|v| patient::guard_key(tenant, &Unique::new(field, v)));
        let guards = [guard("whatsapp_number", &form.patient.whatsapp_number), guard("no_bpjs", &form.patient.no_bpjs)];
        let mut keys = vec![
            record::record_key::<Poly>(tenant, form.poly_id),
            record::counter_key(tenant, Reservation::KIND),
            record::counter_key(tenant, &number_counter(&date, form.poly_id)),
            record::counter_key(tenant, Patient::KIND),
            crate::bpjs::config::key(tenant),
        ];
        keys.extend(guards.iter().flatten().cloned());
        if let Some(id) = form.schedule_id {
            keys.extend(schedule::slot_keys(tenant, id));
        }
        keys.push(queue_settings::key(tenant));
        let context = crate::nested::Context::ask(tenant, &mut keys);
        let day_ids = async {
            match form.schedule_id {
                Some(_) => Ok(vec![]),
                None => schedule::ids_on_day(deps, tenant, form.poly_id, form.date).await,
            }
        };
        let (items, day_ids) = futures::future::try_join(async { Ok(deps.table.get_many(&keys, None).await?) }, day_ids).await?;
        let mut items = items.into_iter();
        let poly: Option<Stored<Poly>> = items.next().flatten().map(record::decode).transpose()?;
        let (last_id, last_number, last_patient) = (last_of(items.next().flatten()), last_of(items.next().flatten()), last_of(items.next().flatten()));
        let bpjs = crate::bpjs::config::BpjsConfig::from_item(items.next().flatten());
        let by_wa = if guards[0].is_some() { id_of(items.next().flatten()) } else { None };
        let by_bpjs = if guards[1].is_some() { id_of(items.next().flatten()) } else { None };
        let asked = match form.schedule_id {
            Some(_) => Some(schedule::slot_from(items.next().flatten(), items.next().flatten())?),
            None => None,
        };
        let queue_settings = queue_settings::from_item(items.next().flatten().as_ref());
        context.take(tenant, items)?;
        // The second read: the patient the numbers name (one id, or a refusal follows) and the day's schedules.
        let patient_id = match (by_wa, by_bpjs) {
            (Some(a), Some(b)) if a != b => None,
            (Some(a), _) | (None, Some(a)) => Some(a),
            (None, None) => None,
        };
        let mut second: Vec<Key> = patient_id.map(|id| patient::key(tenant, id)).into_iter().collect();
        second.extend(day_ids.iter().flat_map(|id| schedule::slot_keys(tenant, *id)));
        let mut items = if second.is_empty() { Vec::new() } else { deps.table.get_many(&second, None).await? }.into_iter();
        let patient = match patient_id {
            Some(_) => items.next().flatten().map(patient::decode).transpose()?,
            None => None,
        };
        let day_slots = schedule::slots_from(form.poly_id, items)?;
        Ok(Seen { poly_live: poly.is_some_and(|p| !p.is_trashed()), last_id, last_number, last_patient, bpjs, by_wa, by_bpjs, patient, asked, day_slots, queue_settings })
    }

    /// The patient a form names: found by WhatsApp or BPJS number, or `None` (a new patient).
    fn known_patient(&self, form: &PatientForm) -> DomainResult<Option<(Stored<Patient>, i64)>> {
        if let (Some(a), Some(b)) = (self.by_wa, self.by_bpjs) {
            if a != b {
                return Err(DomainError::Unprocessable("The WhatsApp number and the BPJS number belong to two different patients".into()));
            }
        }
        let Some((p, v)) = self.patient.clone() else { return Ok(None) };
        if !patient::same_name(&p.data.patient_name, &form.patient_name) {
            return Err(DomainError::Unprocessable(DIFFERENT_NAME.into()));
        }
        Ok(Some((p, v)))
    }

    /// Picks the schedule: the one asked for (it must be this poly's, on this date), else this
    /// poly's schedule on that date with room left and the earliest start.
    fn pick_schedule(&self, form: &ReservationForm, held: bool) -> DomainResult<Slot> {
        if let Some(asked) = &self.asked {
            let Some(slot) = asked.clone() else { return Err(invalid("schedule_id")) };
            if slot.schedule.data.poly_id != form.poly_id || slot.schedule.data.date != form.date.format("%Y-%m-%d").to_string() {
                return Err(FieldErrors::single("schedule_id", "The selected schedule is not for this poly on this date."));
            }
            if !held && !slot.has_room() {
                return Err(DomainError::Unprocessable(QUOTA_FULL.into()));
            }
            return Ok(slot);
        }
        if self.day_slots.is_empty() {
            return Err(DomainError::Unprocessable("There is no doctor schedule for this poly on this date.".into()));
        }
        self.day_slots.iter().find(|s| s.has_room()).cloned().ok_or_else(|| DomainError::Unprocessable(QUOTA_FULL.into()))
    }
}

/// Creates take turns per clinic and store connection within one process (see the module
/// notes). Two servers in one process (as in the tests) keep separate turns, like two Lambdas.
pub(crate) fn create_lock(deps: &Deps, tenant: &Tenant) -> Arc<tokio::sync::Mutex<()>> {
    type Turns = Mutex<HashMap<(usize, String), Arc<tokio::sync::Mutex<()>>>>;
    static LOCKS: LazyLock<Turns> = LazyLock::new(Default::default);
    let store = Arc::as_ptr(&deps.table) as *const () as usize;
    let mut map = LOCKS.lock().unwrap_or_else(|e| e.into_inner());
    map.entry((store, tenant.slug().to_string())).or_default().clone()
}

/// What a create made.
#[derive(Debug, Clone)]
pub struct Created {
    pub patient: Stored<Patient>,
    pub reservation: Stored<Reservation>,
    pub status: Stored<Status>,
}

/// Registers a patient for a poly and day and hands out the next queue number (seed
/// "Reservation Create"). See the module notes for what the one atomic write holds.
pub async fn create(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Created> {
    create_with(deps, tenant, actor, body, None).await
}

/// The ops a caller adds to a create's write, given the reservation being made.
pub type ExtraOps<'a> = &'a (dyn Fn(&Stored<Reservation>) -> DomainResult<Vec<Op>> + Send + Sync);

pub const EXTRA_CHANGED: &str = "What this reservation was made for changed meanwhile; try again.";

/// A create for a place the caller already holds in the body's `schedule_id` (an appointment
/// checking in): no quota place is taken, and `held`'s ops join the same write (a failed
/// condition there answers 409 [`EXTRA_CHANGED`]). `None` is the plain create.
pub async fn create_with(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value, held: Option<ExtraOps<'_>>) -> DomainResult<Created> {
    create_inner(deps, tenant, actor, body, held, "reception").await
}

/// A create made from outside the desk (`source`: `mobile_jkn` for BPJS's ambil antrean):
/// the same atomic path as reception's, remembered on the reservation's BPJS data.
pub async fn create_from(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value, source: &str) -> DomainResult<Created> {
    create_inner(deps, tenant, actor, body, None, source).await
}

async fn create_inner(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value, held: Option<ExtraOps<'_>>, source: &str) -> DomainResult<Created> {
    // Parsed first without the clinic's today, which the first batch read brings along; a
    // body with errors is parsed again with it, so that every field error is named at once.
    let form = match ReservationForm::parse(body, NaiveDate::MIN, true) {
        Ok(form) => form,
        Err(_) => ReservationForm::parse(body, clinic_today(deps, tenant).await?.0, true)?,
    };
    let lock = create_lock(deps, tenant);
    let _turn = lock.lock().await;
    let date = form.date.format("%Y-%m-%d").to_string();
    let mut refusals = crate::error::Refusals::default();
    for attempt in 0..MAX_ATTEMPTS {
        let seen = Seen::read(deps, tenant, &form).await?;
        let (today, tz) = clinic_today(deps, tenant).await?;
        if form.date < today {
            return Err(FieldErrors::single("date", PAST_DATE));
        }
        if !seen.poly_live {
            return Err(invalid("poly_id"));
        }
        let statuses = statuses(deps, tenant).await?;
        let waiting = status_by_code(&statuses, WAITING)?.clone();
        let known = seen.known_patient(&form.patient)?;
        let slot = seen.pick_schedule(&form, held.is_some())?;
        let (last_id, last_number, last_patient) = (seen.last_id, seen.last_number, seen.last_patient);
        let now = deps.clock.now();
        let ts = stamp(now);
        let id = last_id + 1;
        let mut ops = Vec::new();
        // The birth date given now, else the one the patient has on file (the elderly criterion).
        let given_birth = form.priority.birth_date.map(|d| d.format("%Y-%m-%d").to_string());
        let birth_date = given_birth.clone().or_else(|| known.as_ref().and_then(|(p, _)| p.data.birth_date.clone()));
        // The patient: a new one gets the next id, its guards and name words.
        let patient = match &known {
            Some((p, _)) => p.clone(),
            None => {
                let mut data = form.patient.apply(None);
                data.birth_date = birth_date.clone();
                let p = Stored { id: last_patient + 1, data, created_at: ts.clone(), updated_at: ts.clone(), deleted_at: None };
                ops.push(record::bump_counter(tenant, Patient::KIND, last_patient, 1));
                ops.push(Op::put_new(patient::item(tenant, &p, 1)?));
                for u in p.data.unique() {
                    ops.push(Op::put_new(patient::guard_item(&patient::guard_key(tenant, &u), p.id)));
                }
                ops.extend(patient::word_ops(tenant, p.id, None, &p.data.patient_name));
                ops.push(audit::entry(tenant, actor, Action::Create, Patient::KIND, p.id, now));
                p
            }
        };
        let ticket = crate::ticket::TicketCode::generate(tenant);
        let kind_quota = crate::bpjs::quota::take_op(tenant, &slot, form.bpjs);
        let bpjs_visit = crate::bpjs::visit_of(&form, &patient, known.is_none(), last_number + 1, source, seen.bpjs.as_ref(), kind_quota.is_some());
        let priority_form = PriorityForm { birth_date: birth_date.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()), ..form.priority.clone() };
        let reasons = priority_form.reasons_on(form.date);
        let reservation = Stored {
            id,
            data: Reservation {
                patient_id: patient.id,
                poly_id: form.poly_id,
                schedule_id: slot.schedule.id,
                schedule_doctor_id: Some(slot.schedule.data.doctor_id),
                date: date.clone(),
                bpjs: form.bpjs,
                status_id: waiting.id,
                status_code: WAITING.into(),
                queue_number: last_number + 1,
                re_reservation_time: now.with_timezone(&tz).format("%H:%M:%S").to_string(),
                call_time: None,
                number_of_calls: 0,
                notification_status: false,
                ticket_code: Some(ticket.as_string()),
                queue_updated_at: ts.clone(),
                registered_at: Some(ts.clone()),
                anamnesa_at: None,
                waiting_doctor_at: None,
                with_doctor_at: None,
                finished_at: None,
                bpjs_visit,
                priority: priority::is_priority(&reasons, &seen.queue_settings),
                priority_reasons: reasons.clone(),
                birth_date: birth_date.clone(),
                ..Default::default()
            },
            created_at: ts.clone(),
            updated_at: ts.clone(),
            deleted_at: None,
        };
        let r = &reservation.data;
        let at = ops.len();
        let [hold_check, hold_add] = schedule::hold_ops(tenant, &slot);
        ops.push(record::bump_counter(tenant, Reservation::KIND, last_id, 1)); // at
        ops.push(Op::put_new(record::item_of(tenant, &reservation, 1)?)); // at + 1
        ops.push(record::bump_counter(tenant, &number_counter(&date, form.poly_id), last_number, 1)); // at + 2
        ops.push(hold_check); // at + 3
        // A held place is already counted: check its count is there instead of adding one.
        ops.push(if held.is_some() { Op::check(schedule::booked_key(tenant, slot.schedule.id), Condition::Exists) } else { hold_add }); // at + 4
        ops.push(Op::put_new(item_with(&active_key(tenant, r), serde_json::json!({ "id": id })))); // at + 5
        // A patient who is known must still exist as read (their numbers may not have moved on).
        // A new birth date given for them is kept on the patient, in the same write.
        if let Some((p, v)) = &known {
            let condition = Condition::equals(record::VERSION, *v);
            ops.push(match &given_birth {
                Some(b) if p.data.birth_date.as_ref() != Some(b) => {
                    let mut changed = p.clone();
                    changed.data.birth_date = Some(b.clone());
                    changed.updated_at = ts.clone();
                    Op::put_if(patient::item(tenant, &changed, v + 1)?, condition)
                }
                _ => Op::check(patient::key(tenant, patient.id), condition),
            }); // at + 6
        }
        let kind_quota_at = ops.len();
        ops.extend(kind_quota);
        ops.push(Op::put(day_item(tenant, id, r, None)));
        ops.push(ticket.put_op(id));
        ops.push(Op::put(item_with(
            &patient_index_key(tenant, patient.id, id),
            serde_json::json!({ "id": id, "poly_id": r.poly_id, "date": r.date }),
        )));
        let facts = r.facts(tz);
        ops.extend(rollup::delta_ops(tenant, None, &facts));
        // Number 1 starts the poly's day: its bucket keeps the board's state from here on.
        crate::board::state::mark_first(&mut ops, tenant, r);
        ops.push(audit::entry(tenant, actor, Action::Create, Reservation::KIND, id, now));
        ops.extend(crate::bpjs::outbound::on_create(tenant, &reservation, now));
        let closed_at = ops.len();
        ops.push(crate::clinic_flow::end_of_day::open_check(tenant, &date));
        let extra_at = ops.len();
        if let Some(extra) = held {
            ops.extend(extra(&reservation)?);
        }
        match deps.table.write(ops).await {
            Ok(()) => return Ok(Created { patient, reservation, status: waiting }),
            Err(StoreError::ConditionFailed { index }) if index >= extra_at => return Err(DomainError::Conflict(EXTRA_CHANGED.into())),
            Err(StoreError::ConditionFailed { index }) if index == closed_at => {
                return Err(DomainError::Unprocessable(crate::clinic_flow::end_of_day::DAY_CLOSED.into()))
            }
            Err(StoreError::ConditionFailed { index }) if index == at + 4 => {
                if form.schedule_id.is_some() {
                    return Err(DomainError::Unprocessable(QUOTA_FULL.into()));
                }
                // That schedule filled up meanwhile: pick again (another may have room).
            }
            Err(StoreError::ConditionFailed { index }) if index == at + 5 => return Err(DomainError::Unprocessable(ALREADY_BOOKED.into())),
            // The schedule's JKN (or non-JKN) quota is full.
            Err(StoreError::ConditionFailed { index }) if index == kind_quota_at && r.bpjs_visit.as_ref().is_some_and(|v| v.quota.is_some()) => {
                return Err(DomainError::Unprocessable(QUOTA_FULL.into()))
            }
            // A counter moved, the schedule or the patient changed, or someone registered the
            // same new patient at the same moment: read again and retry.
            Err(e @ (StoreError::ConditionFailed { .. } | StoreError::Conflict)) => {
                if !refusals.keep_trying(&e) {
                    break;
                }
            }
            Err(e) => return Err(e.into()),
        }
        record::backoff(attempt).await;
    }
    Err(refusals.ran_out(DomainError::Conflict(BUSY.into())))
}


#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 10).unwrap()
    }

    #[test]
    fn the_seed_body_parses() {
        let f = ReservationForm::parse(
            &json!({"patient_name": "Ahmad Fauzi", "no_bpjs": "0001234567890", "whatsapp_number": "081234567890",
                    "email": "ahmad.fauzi@gmail.com", "poly_id": 1, "schedule_id": null, "bpjs": true, "date": "2026-01-10"}),
            today(),
            true,
        )
        .unwrap();
        assert_eq!(f.poly_id, 1);
        assert_eq!(f.schedule_id, None);
        assert!(f.bpjs);
        assert_eq!(f.patient.whatsapp_number.as_deref(), Some("6281234567890"));
    }

    #[test]
    fn past_dates_and_bad_fields_are_refused_with_the_seed_messages() {
        let Err(DomainError::Validation(e)) =
            ReservationForm::parse(&json!({"patient_name": "A", "whatsapp_number": "0812345678", "poly_id": "x", "bpjs": "yes", "date": "2026-01-09"}), today(), true)
        else {
            panic!("expected a validation error")
        };
        assert_eq!(e.0["poly_id"], json!(["The poly id field must be an integer."]));
        assert_eq!(e.0["bpjs"], json!(["The bpjs field must be true or false."]));
        assert_eq!(e.0["date"], json!(["The date field must be a date after or equal to today."]));
        let Err(DomainError::Validation(e)) = ReservationForm::parse(&json!({"patient_name": "A", "whatsapp_number": "0812345678", "bpjs": true}), today(), true) else {
            panic!("expected a validation error")
        };
        assert_eq!(e.0["poly_id"], json!(["The poly id field is required."]));
        assert_eq!(e.0["date"], json!(["The date field is required."]));
        assert_eq!(e.0["no_bpjs"], json!(["The no bpjs field is required when bpjs is true."]));
    }
}
