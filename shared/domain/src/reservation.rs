//! Reservations (seed "Reservation"): reception registers a patient for a poly and a day and
//! hands out the day's next queue number. The reservation and its queue entry are one item,
//! so a queue number can never drift from its reservation.
//!
//! Keys (every one under the clinic):
//! - the reservation: `T#<clinic>#RESERVATION` / `<id, 12 digits>`, a `record` item (`_v`);
//!   its queue entry's id is the reservation's id;
//! - the day's queue: `T#<clinic>#QUEUE#<yyyy-mm-dd>` / `<poly id, 12>#<queue number, 6>`, a
//!   small index item (reservation id, patient, status, last call) per queue number: a poly's
//!   day is one Query, in queue order;
//! - queue numbers: the counter `T#<clinic>#COUNTER` / `QUEUE#<yyyy-mm-dd>#<poly id>`;
//! - one open reservation per patient, poly and day: the guard
//!   `T#<clinic>#ACTIVE#<yyyy-mm-dd>` / `<poly id>#<patient id>`, put with "not exists" when
//!   the reservation is made and removed when it is finished, no-show or cancelled;
//! - a patient's reservations: `T#<clinic>#PATIENT_RESERVATION#<patient id>` / `<id>`, for
//!   the search by patient.
//!
//! Creating one is a single atomic write of up to ~25 operations: the reservation id counter,
//! the reservation, the queue-number counter, the schedule's quota hold, the open-reservation
//! guard, the index items, a new patient with its guards and name words, the rollup counts
//! and the audit entries. Any failed condition cancels all of it: no patient without a
//! reservation, no burned number. A lost race on a counter re-reads and tries again.
//!
//! Within one process, creates for a clinic take turns (an async lock): they would all race
//! for the same counters, and taking turns turns O(n²) retries into n writes. Across
//! processes (Lambda instances) the conditional writes alone keep the numbers right.
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use antrean_store::{Condition, Item, Key, Op, Query, SortKey, StoreError, Update};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::configuration::config::clinic_timezone;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::patient::{self, Patient, PatientForm};
use crate::poly::Poly;
use crate::record::{self, Record, Stored};
use crate::rollup::{self, ReservationFacts, StageTimes};
use crate::schedule::{self, Slot};
use crate::status::Status;
use crate::tenant::{id_key, Tenant};
use crate::{validate, Deps};

const MAX_ATTEMPTS: u32 = 100;
/// The most reservations a list without a date looks through (newest first).
pub const MAX_MATCHES: usize = 1000;

pub const WAITING: &str = "WAITING";
pub const ANAMNESA: &str = "ANAMNESA";
pub const WAITING_DOCTOR: &str = "WAITING_DOCTOR";
pub const WITH_DOCTOR: &str = "WITH_DOCTOR";
pub const DONE: &str = "DONE";
pub const NO_SHOW: &str = "NO_SHOW";
pub const CANCELLED: &str = "CANCELLED";

/// Still in the queue: the patient may yet be called.
pub fn is_open(code: &str) -> bool {
    matches!(code, WAITING | ANAMNESA | WAITING_DOCTOR | WITH_DOCTOR)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Reservation {
    pub patient_id: i64,
    pub poly_id: i64,
    pub schedule_id: i64,
    /// The visit day, `YYYY-MM-DD` in the clinic's calendar.
    pub date: String,
    pub bpjs: bool,
    pub status_id: i64,
    /// The status's code (`WAITING` …): what the workflow keys on.
    pub status_code: String,
    pub queue_number: i64,
    /// When the number was handed out, `HH:MM:SS` clinic time.
    pub re_reservation_time: String,
    /// When the doctor called the patient in, `HH:MM:SS` clinic time.
    #[serde(default)]
    pub call_time: Option<String>,
    /// Calls within the current stage (a recall counts up, at most 3).
    #[serde(default)]
    pub number_of_calls: i64,
    #[serde(default)]
    pub notification_status: bool,
    /// The patient's ticket code (`ticket`); none on reservations made before tickets existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_code: Option<String>,
    /// When the queue entry last changed.
    pub queue_updated_at: String,
    /// Stage timestamps (seed format, UTC): what waiting times and reports are computed from.
    #[serde(default)]
    pub registered_at: Option<String>,
    #[serde(default)]
    pub anamnesa_at: Option<String>,
    #[serde(default)]
    pub waiting_doctor_at: Option<String>,
    #[serde(default)]
    pub with_doctor_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
}

impl Record for Reservation {
    const KIND: &'static str = "RESERVATION";
    const LABEL: &'static str = "Reservation";
}

pub fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

impl Reservation {
    pub fn visit_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.date, "%Y-%m-%d").unwrap_or_default()
    }

    pub fn stages(&self) -> StageTimes {
        let p = |s: &Option<String>| s.as_deref().and_then(parse_stamp);
        StageTimes {
            registered_at: p(&self.registered_at),
            anamnesa_at: p(&self.anamnesa_at),
            waiting_doctor_at: p(&self.waiting_doctor_at),
            with_doctor_at: p(&self.with_doctor_at),
            finished_at: p(&self.finished_at),
        }
    }

    /// What the rollups count of this reservation.
    pub fn facts(&self, tz: Tz) -> ReservationFacts {
        ReservationFacts::new(self.poly_id, self.visit_date(), &self.status_code, self.bpjs, &self.stages(), tz)
    }
}

// ----- keys

pub(crate) fn key(tenant: &Tenant, id: i64) -> Key {
    record::record_key::<Reservation>(tenant, id)
}

fn day_partition(tenant: &Tenant, date: &str) -> String {
    tenant.partition(&format!("QUEUE#{date}"))
}

fn day_key(tenant: &Tenant, r: &Reservation) -> Key {
    Key::new(day_partition(tenant, &r.date), format!("{}#{:06}", id_key(r.poly_id), r.queue_number))
}

fn active_key(tenant: &Tenant, r: &Reservation) -> Key {
    Key::new(tenant.partition(&format!("ACTIVE#{}", r.date)), format!("{}#{}", id_key(r.poly_id), id_key(r.patient_id)))
}

fn patient_index_key(tenant: &Tenant, patient_id: i64, id: i64) -> Key {
    Key::new(tenant.partition(&format!("PATIENT_RESERVATION#{}", id_key(patient_id))), id_key(id))
}

fn number_counter(date: &str, poly_id: i64) -> String {
    format!("QUEUE#{date}#{}", id_key(poly_id))
}

fn item_with(key: &Key, fields: Value) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.clone().into());
    item.insert("sk".into(), key.sk.clone().into());
    if let Value::Object(m) = fields {
        item.extend(m);
    }
    item
}

fn day_item(tenant: &Tenant, id: i64, r: &Reservation, called_ms: Option<i64>) -> Item {
    item_with(
        &day_key(tenant, r),
        serde_json::json!({
            "id": id, "poly_id": r.poly_id, "patient_id": r.patient_id, "queue_number": r.queue_number,
            "status_code": r.status_code, "status_id": r.status_id, "called_ms": called_ms,
        }),
    )
}

/// One number of a poly's day, as the day's queue index holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct DayEntry {
    pub id: i64,
    pub poly_id: i64,
    pub patient_id: i64,
    pub queue_number: i64,
    pub status_code: String,
    pub status_id: i64,
    /// When the number was last called (ms since the epoch), if ever.
    pub called_ms: Option<i64>,
}

fn day_entry(item: &Item) -> Option<DayEntry> {
    let n = |k: &str| item.get(k).and_then(Value::as_i64);
    Some(DayEntry {
        id: n("id")?,
        poly_id: n("poly_id")?,
        patient_id: n("patient_id").unwrap_or_default(),
        queue_number: n("queue_number")?,
        status_code: item.get("status_code").and_then(Value::as_str).unwrap_or_default().to_string(),
        status_id: n("status_id").unwrap_or_default(),
        called_ms: n("called_ms"),
    })
}

/// The queue of one day, in poly then queue-number order; one poly's when `poly_id` is given.
pub async fn day_entries(deps: &Deps, tenant: &Tenant, date: NaiveDate, poly_id: Option<i64>) -> DomainResult<Vec<DayEntry>> {
    let date = date.format("%Y-%m-%d").to_string();
    let sort = match poly_id {
        Some(p) => SortKey::BeginsWith(format!("{}#", id_key(p))),
        None => SortKey::Any,
    };
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(day_partition(tenant, &date)).sort(sort)).await?;
    Ok(items.iter().filter_map(day_entry).collect())
}

// ----- reading

pub(crate) fn decode(item: Item) -> DomainResult<(Stored<Reservation>, i64)> {
    let version = item.get(record::VERSION).and_then(Value::as_i64).unwrap_or(0);
    let stored = serde_json::from_value(Value::Object(item)).map_err(|e| DomainError::Internal(format!("corrupt reservation: {e}")))?;
    Ok((stored, version))
}

fn not_found() -> DomainError {
    DomainError::NotFound("Reservation not found".into())
}

/// A reservation with its version, or "Reservation not found".
pub async fn read(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<(Stored<Reservation>, i64)> {
    match deps.table.get(&key(tenant, id)).await? {
        Some(item) => decode(item),
        None => Err(not_found()),
    }
}

/// Several reservations by id (one batch read), in the order asked; missing ones left out.
pub async fn many(deps: &Deps, tenant: &Tenant, ids: &[i64]) -> DomainResult<Vec<Stored<Reservation>>> {
    let keys: Vec<Key> = ids.iter().map(|id| key(tenant, *id)).collect();
    let items = antrean_store::get_all(deps.table.as_ref(), &keys).await?;
    let mut out = Vec::with_capacity(items.len());
    for item in items.into_iter().flatten() {
        out.push(decode(item)?.0);
    }
    Ok(out)
}

/// A reservation with what the seed nests in it.
#[derive(Debug, Clone)]
pub struct Full {
    pub reservation: Stored<Reservation>,
    pub patient: Option<Stored<Patient>>,
    pub status: Option<Stored<Status>>,
    pub poly: Option<Stored<Poly>>,
}

/// The clinic's statuses by id (live and trashed: old reservations keep theirs).
pub async fn statuses(deps: &Deps, tenant: &Tenant) -> DomainResult<HashMap<i64, Stored<Status>>> {
    let (live, trashed) = futures::future::try_join(record::list::<Status>(deps, tenant, false), record::list::<Status>(deps, tenant, true)).await?;
    Ok(live.into_iter().chain(trashed).map(|s| (s.id, s)).collect())
}

/// The live status with a workflow code (`WAITING` …).
pub fn status_by_code<'a>(statuses: &'a HashMap<i64, Stored<Status>>, code: &str) -> DomainResult<&'a Stored<Status>> {
    statuses
        .values()
        .filter(|s| !s.is_trashed() && s.data.status_name.eq_ignore_ascii_case(code))
        .min_by_key(|s| s.id)
        .ok_or_else(|| DomainError::Internal(format!("the clinic has no live {code} status")))
}

/// Nests patient, status and poly into each reservation, reading each once.
pub async fn with_relations(deps: &Deps, tenant: &Tenant, list: Vec<Stored<Reservation>>) -> DomainResult<Vec<Full>> {
    let patient_ids: BTreeSet<i64> = list.iter().map(|r| r.data.patient_id).collect();
    let poly_ids: BTreeSet<i64> = list.iter().map(|r| r.data.poly_id).collect();
    let polies = futures::future::try_join_all(poly_ids.iter().map(|id| record::get::<Poly>(deps, tenant, *id)));
    let (patients, statuses, polies) = futures::future::try_join3(patient::many(deps, tenant, patient_ids), statuses(deps, tenant), polies).await?;
    let polies: HashMap<i64, Stored<Poly>> = polies.into_iter().flatten().map(|p| (p.id, p)).collect();
    Ok(list
        .into_iter()
        .map(|r| Full {
            patient: patients.get(&r.data.patient_id).cloned(),
            status: statuses.get(&r.data.status_id).cloned(),
            poly: polies.get(&r.data.poly_id).cloned(),
            reservation: r,
        })
        .collect())
}

pub async fn full(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Full> {
    let (r, _) = read(deps, tenant, id).await?;
    Ok(with_relations(deps, tenant, vec![r]).await?.remove(0))
}

// ----- the form

/// `poly_id`, `schedule_id` (nullable), `bpjs`, `date` and the patient's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ReservationForm {
    pub patient: PatientForm,
    pub poly_id: i64,
    pub schedule_id: Option<i64>,
    pub bpjs: bool,
    pub date: NaiveDate,
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
        if let Some(d) = date {
            if d < today {
                errors.add("date", "The date field must be a date after or equal to today.");
            }
        }
        if bpjs == Some(true) && patient.as_ref().is_some_and(|p| p.no_bpjs.is_none()) && !errors.has("no_bpjs") {
            errors.add("no_bpjs", "The no bpjs field is required when bpjs is true.");
        }
        errors.into_result()?;
        match (patient, poly_id, schedule_id, bpjs, date) {
            (Some(patient), Some(poly_id), Some(schedule_id), Some(bpjs), Some(date)) => Ok(ReservationForm { patient, poly_id, schedule_id, bpjs, date }),
            _ => Err(DomainError::Internal("a form without errors lacks a field".into())),
        }
    }
}

pub(crate) async fn clinic_today(deps: &Deps, tenant: &Tenant) -> DomainResult<(NaiveDate, Tz)> {
    let tz = clinic_timezone(deps, tenant).await?;
    Ok((deps.clock.now().with_timezone(&tz).date_naive(), tz))
}

fn invalid(field: &str) -> DomainError {
    FieldErrors::single(field, format!("The selected {} is invalid.", validate::human(field)))
}

pub const DIFFERENT_NAME: &str = "WhatsApp number or BPJS number is already registered with a different patient name";
pub const QUOTA_FULL: &str = "Quota is full";
pub const ALREADY_BOOKED: &str = "The patient already has an active reservation for this poly on this date.";

/// The patient a form names: found by WhatsApp or BPJS number, or `None` (a new patient).
async fn known_patient(deps: &Deps, tenant: &Tenant, form: &PatientForm) -> DomainResult<Option<(Stored<Patient>, i64)>> {
    let by_wa = match &form.whatsapp_number {
        Some(w) => patient::id_by(deps, tenant, "whatsapp_number", w).await?,
        None => None,
    };
    let by_bpjs = match &form.no_bpjs {
        Some(b) => patient::id_by(deps, tenant, "no_bpjs", b).await?,
        None => None,
    };
    let id = match (by_wa, by_bpjs) {
        (Some(a), Some(b)) if a != b => {
            return Err(DomainError::Unprocessable("The WhatsApp number and the BPJS number belong to two different patients".into()))
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => return Ok(None),
    };
    let Some((p, v)) = patient::read(deps, tenant, id).await? else { return Ok(None) };
    if !patient::same_name(&p.data.patient_name, &form.patient_name) {
        return Err(DomainError::Unprocessable(DIFFERENT_NAME.into()));
    }
    Ok(Some((p, v)))
}

/// Picks the schedule: the one asked for (it must be this poly's, on this date), else this
/// poly's schedule on that date with room left and the earliest start.
async fn pick_schedule(deps: &Deps, tenant: &Tenant, form: &ReservationForm) -> DomainResult<Slot> {
    if let Some(id) = form.schedule_id {
        let slot = match schedule::slot(deps, tenant, id).await {
            Ok(s) => s,
            Err(DomainError::NotFound(_)) => return Err(invalid("schedule_id")),
            Err(e) => return Err(e),
        };
        if slot.schedule.data.poly_id != form.poly_id || slot.schedule.data.date != form.date.format("%Y-%m-%d").to_string() {
            return Err(FieldErrors::single("schedule_id", "The selected schedule is not for this poly on this date."));
        }
        if !slot.has_room() {
            return Err(DomainError::Unprocessable(QUOTA_FULL.into()));
        }
        return Ok(slot);
    }
    let slots = schedule::on_day(deps, tenant, form.poly_id, form.date).await?;
    if slots.is_empty() {
        return Err(DomainError::Unprocessable("There is no doctor schedule for this poly on this date.".into()));
    }
    slots.into_iter().find(Slot::has_room).ok_or_else(|| DomainError::Unprocessable(QUOTA_FULL.into()))
}

/// Creates take turns per clinic and store connection within one process (see the module
/// notes). Two servers in one process (as in the tests) keep separate turns, like two Lambdas.
fn create_lock(deps: &Deps, tenant: &Tenant) -> Arc<tokio::sync::Mutex<()>> {
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
    let (today, tz) = clinic_today(deps, tenant).await?;
    let form = ReservationForm::parse(body, today, true)?;
    if record::get::<Poly>(deps, tenant, form.poly_id).await?.is_none_or(|p| p.is_trashed()) {
        return Err(invalid("poly_id"));
    }
    let lock = create_lock(deps, tenant);
    let _turn = lock.lock().await;
    let statuses = statuses(deps, tenant).await?;
    let waiting = status_by_code(&statuses, WAITING)?.clone();
    let date = form.date.format("%Y-%m-%d").to_string();
    for attempt in 0..MAX_ATTEMPTS {
        let known = known_patient(deps, tenant, &form.patient).await?;
        let slot = pick_schedule(deps, tenant, &form).await?;
        let (last_id, last_number, last_patient) = futures::future::try_join3(
            record::last_id(deps, tenant, Reservation::KIND),
            record::last_id(deps, tenant, &number_counter(&date, form.poly_id)),
            record::last_id(deps, tenant, Patient::KIND),
        )
        .await?;
        let now = deps.clock.now();
        let ts = stamp(now);
        let id = last_id + 1;
        let mut ops = Vec::new();
        // The patient: a new one gets the next id, its guards and name words.
        let patient = match &known {
            Some((p, _)) => p.clone(),
            None => {
                let p = Stored { id: last_patient + 1, data: form.patient.apply(None), created_at: ts.clone(), updated_at: ts.clone(), deleted_at: None };
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
        let reservation = Stored {
            id,
            data: Reservation {
                patient_id: patient.id,
                poly_id: form.poly_id,
                schedule_id: slot.schedule.id,
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
        ops.push(hold_add); // at + 4
        ops.push(Op::put_new(item_with(&active_key(tenant, r), serde_json::json!({ "id": id })))); // at + 5
        // A patient who is known must still exist as read (their numbers may not have moved on).
        if let Some((_, v)) = &known {
            ops.push(Op::check(patient::key(tenant, patient.id), Condition::equals(record::VERSION, *v))); // at + 6
        }
        ops.push(Op::put(day_item(tenant, id, r, None)));
        ops.push(ticket.put_op(id));
        ops.push(Op::put(item_with(
            &patient_index_key(tenant, patient.id, id),
            serde_json::json!({ "id": id, "poly_id": r.poly_id, "date": r.date }),
        )));
        let facts = r.facts(tz);
        ops.extend(rollup::delta_ops(tenant, None, &facts));
        ops.push(audit::entry(tenant, actor, Action::Create, Reservation::KIND, id, now));
        match deps.table.write(ops).await {
            Ok(()) => return Ok(Created { patient, reservation, status: waiting }),
            Err(StoreError::ConditionFailed { index }) if index == at + 4 => {
                if form.schedule_id.is_some() {
                    return Err(DomainError::Unprocessable(QUOTA_FULL.into()));
                }
                // That schedule filled up meanwhile: pick again (another may have room).
            }
            Err(StoreError::ConditionFailed { index }) if index == at + 5 => return Err(DomainError::Unprocessable(ALREADY_BOOKED.into())),
            // A counter moved, the schedule or the patient changed, or someone registered the
            // same new patient at the same moment: read again and retry.
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        record::backoff(attempt).await;
    }
    Err(DomainError::Conflict("The queue is very busy right now; please try again.".into()))
}

/// The ops that move a reservation from `before` (at `version`) to `after`, with its index,
/// rollup counts, open-reservation guard and quota place, for one atomic write. The first op is
/// the reservation itself, conditioned on the version read.
pub(crate) fn change_ops(tenant: &Tenant, tz: Tz, before: &Stored<Reservation>, version: i64, after: &Stored<Reservation>, called: bool) -> DomainResult<Vec<Op>> {
    let (b, a) = (&before.data, &after.data);
    let mut ops = vec![Op::put_if(record::item_of(tenant, after, version + 1)?, Condition::equals(record::VERSION, version))];
    let mut index = Update::new().set("status_code", a.status_code.clone()).set("status_id", a.status_id);
    if called {
        index = index.set("called_ms", parse_stamp(&after.updated_at).map(|t| t.timestamp_millis()));
    }
    ops.push(Op::update(day_key(tenant, a), index));
    ops.extend(rollup::delta_ops(tenant, Some(&b.facts(tz)), &a.facts(tz)));
    if is_open(&b.status_code) && !is_open(&a.status_code) {
        ops.push(Op::delete(active_key(tenant, b)));
    }
    if b.status_code != CANCELLED && a.status_code == CANCELLED {
        ops.push(schedule::release_op(tenant, b.schedule_id));
    }
    Ok(ops)
}

/// Folds unconditional updates of the same item into one (a write may name an item once):
/// adds are summed, sets and removes kept in order. Other ops stay as they are.
pub(crate) fn merge_updates(ops: Vec<Op>) -> Vec<Op> {
    let mut out: Vec<Op> = Vec::with_capacity(ops.len());
    for op in ops {
        if let Op::Update { key, update, condition: None } = &op {
            let same = out.iter_mut().find_map(|o| match o {
                Op::Update { key: k, update: u, condition: None } if k == key => Some(u),
                _ => None,
            });
            if let Some(u) = same {
                // DynamoDB refuses an attribute named twice in one update: the later value wins.
                for (attr, v) in &update.set {
                    match u.set.iter_mut().find(|(a, _)| a == attr) {
                        Some((_, old)) => *old = v.clone(),
                        None => u.set.push((attr.clone(), v.clone())),
                    }
                }
                for attr in &update.remove {
                    if !u.remove.contains(attr) {
                        u.remove.push(attr.clone());
                    }
                }
                for (attr, by) in &update.add {
                    match u.add.iter_mut().find(|(a, _)| a == attr) {
                        Some((_, n)) => *n += by,
                        None => u.add.push((attr.clone(), *by)),
                    }
                }
                continue;
            }
        }
        out.push(op);
    }
    out
}

/// What an update made.
#[derive(Debug, Clone)]
pub struct Updated {
    pub patient: Stored<Patient>,
    pub full: Full,
}

pub const MOVE_REFUSED: &str =
    "The poly and date of a reservation cannot be changed, as its queue number belongs to them. Cancel this reservation and create a new one instead.";

/// Changes a reservation's patient details and BPJS flag (seed "Reservation Update"), never
/// its queue number, in one atomic write with the patient.
pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Updated> {
    let (_, tz) = clinic_today(deps, tenant).await?;
    let (current, _) = read(deps, tenant, id).await?;
    // A date in the past is fine here: it is the reservation's own date.
    let form = ReservationForm::parse(body, NaiveDate::MIN, false)?;
    if form.poly_id != current.data.poly_id || form.date != current.data.visit_date() {
        return Err(DomainError::Unprocessable(MOVE_REFUSED.into()));
    }
    for attempt in 0..MAX_ATTEMPTS {
        let (before, version) = read(deps, tenant, id).await?;
        let Some((p, pv)) = patient::read(deps, tenant, before.data.patient_id).await? else {
            return Err(DomainError::Internal(format!("reservation {id} names a missing patient")));
        };
        let now = deps.clock.now();
        let ts = stamp(now);
        let new_patient = Stored { data: form.patient.apply(Some(&p.data)), updated_at: ts.clone(), ..p.clone() };
        let after = Stored { data: Reservation { bpjs: form.bpjs, ..before.data.clone() }, updated_at: ts.clone(), ..before.clone() };
        let mut ops = change_ops(tenant, tz, &before, version, &after, false)?;
        ops.push(Op::put_if(patient::item(tenant, &new_patient, pv + 1)?, Condition::equals(patient::VERSION, pv)));
        let (added, removed) = patient::guard_changes(Some(&p.data), &new_patient.data);
        let guard_start = ops.len();
        for u in &added {
            ops.push(Op::put_new(patient::guard_item(&patient::guard_key(tenant, u), p.id)));
        }
        for u in &removed {
            ops.push(Op::delete_if(patient::guard_key(tenant, u), Condition::equals("id", p.id)));
        }
        ops.extend(patient::word_ops(tenant, p.id, Some(&p.data.patient_name), &new_patient.data.patient_name));
        ops.push(audit::entry(tenant, actor, Action::Update, Reservation::KIND, id, now));
        ops.push(audit::entry(tenant, actor, Action::Update, Patient::KIND, p.id, now));
        match deps.table.write(ops).await {
            Ok(()) => {
                let full = with_relations(deps, tenant, vec![after]).await?.remove(0);
                return Ok(Updated { patient: new_patient, full });
            }
            Err(StoreError::ConditionFailed { index }) if index >= guard_start && index < guard_start + added.len() => {
                let field = added[index - guard_start].field;
                return Err(FieldErrors::single(field, format!("The {} has already been taken.", validate::human(field))));
            }
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => record::backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict("Reservation is being changed by someone else; try again".into()))
}

// ----- history (seeding and imports)

/// A reservation of the past to import as it is (seeding, migrations from another system).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoricVisit {
    pub patient: Stored<Patient>,
    pub reservation: Stored<Reservation>,
}

/// The items an import of finished history writes, as plain puts in any batching: each
/// reservation, its day-queue entry and patient index; each patient once with its unique
/// numbers and name words; the id and queue-number counters at their highest value; and no
/// rollups (import them with `rollup`'s items or rebuild them afterwards). Only for a clinic
/// without live traffic on those days: nothing here is conditional.
pub fn history_items(tenant: &Tenant, visits: &[HistoricVisit]) -> DomainResult<Vec<Item>> {
    let mut out = Vec::new();
    let mut patients = BTreeSet::new();
    let mut numbers: HashMap<String, i64> = HashMap::new();
    let (mut last_id, mut last_patient) = (0, 0);
    for v in visits {
        let r = &v.reservation;
        if patients.insert(v.patient.id) {
            out.push(patient::item(tenant, &v.patient, 1)?);
            for u in v.patient.data.unique() {
                out.push(patient::guard_item(&patient::guard_key(tenant, &u), v.patient.id));
            }
            for op in patient::word_ops(tenant, v.patient.id, None, &v.patient.data.patient_name) {
                if let Op::Put { item, .. } = op {
                    out.push(item);
                }
            }
        }
        out.push(record::item_of(tenant, r, 1)?);
        out.push(day_item(tenant, r.id, &r.data, r.data.with_doctor_at.as_deref().or(r.data.anamnesa_at.as_deref()).and_then(parse_stamp).map(|t| t.timestamp_millis())));
        out.push(item_with(&patient_index_key(tenant, r.data.patient_id, r.id), serde_json::json!({ "id": r.id, "poly_id": r.data.poly_id, "date": r.data.date })));
        let n = numbers.entry(number_counter(&r.data.date, r.data.poly_id)).or_default();
        *n = (*n).max(r.data.queue_number);
        last_id = last_id.max(r.id);
        last_patient = last_patient.max(v.patient.id);
    }
    numbers.insert(Reservation::KIND.into(), last_id);
    numbers.insert(Patient::KIND.into(), last_patient);
    for (kind, last) in numbers {
        out.push(record::counter_item(tenant, &kind, last));
    }
    Ok(out)
}

// ----- lists

/// The filters of `GET /api/reservation`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilters {
    pub poly_id: Option<i64>,
    pub status_id: Option<i64>,
    pub date: Option<NaiveDate>,
    pub search: Option<String>,
}

fn keep(r: &Stored<Reservation>, f: &ListFilters) -> bool {
    f.poly_id.is_none_or(|p| r.data.poly_id == p)
        && f.status_id.is_none_or(|s| r.data.status_id == s)
        && f.date.is_none_or(|d| r.data.visit_date() == d)
}

/// The reservation ids that may match, newest first, and whether that list is exact (`true`)
/// or still needs the filters applied to the records.
async fn candidates(deps: &Deps, tenant: &Tenant, f: &ListFilters) -> DomainResult<Vec<i64>> {
    let mut ids: Vec<i64> = if let Some(needle) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let patients = patient::search_ids(deps, tenant, needle).await?;
        let queries = patients.iter().map(|p| {
            let q = Query::partition(tenant.partition(&format!("PATIENT_RESERVATION#{}", id_key(*p)))).sort(SortKey::Any);
            antrean_store::query_all(deps.table.as_ref(), q)
        });
        let mut ids = Vec::new();
        for items in futures::future::try_join_all(queries).await? {
            for i in items {
                let date_ok = f.date.is_none_or(|d| i.get("date").and_then(Value::as_str) == Some(d.format("%Y-%m-%d").to_string().as_str()));
                let poly_ok = f.poly_id.is_none_or(|p| i.get("poly_id").and_then(Value::as_i64) == Some(p));
                if let (true, true, Some(id)) = (date_ok, poly_ok, i.get("id").and_then(Value::as_i64)) {
                    ids.push(id);
                }
            }
        }
        ids
    } else if let Some(d) = f.date {
        day_entries(deps, tenant, d, f.poly_id).await?.into_iter().filter(|e| f.status_id.is_none_or(|s| e.status_id == s)).map(|e| e.id).collect()
    } else {
        let last = record::last_id(deps, tenant, Reservation::KIND).await?;
        let lo = (last - MAX_MATCHES as i64 + 1).max(1);
        (lo..=last).collect()
    };
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    ids.truncate(MAX_MATCHES);
    Ok(ids)
}

/// One page of reservations, newest first, and the total that match. Without a date or a
/// search, the filters look through the newest [`MAX_MATCHES`] reservations.
pub async fn list(deps: &Deps, tenant: &Tenant, f: &ListFilters, paging: crate::paging::Paging) -> DomainResult<(Vec<Full>, usize)> {
    let no_filter = f.search.as_deref().is_none_or(|s| s.trim().is_empty()) && f.date.is_none() && f.poly_id.is_none() && f.status_id.is_none();
    if no_filter {
        // Reservations are never deleted and ids have no gaps: a page is an id range.
        let last = record::last_id(deps, tenant, Reservation::KIND).await?;
        let hi = last.saturating_sub(i64::try_from(paging.offset()).unwrap_or(i64::MAX));
        let lo = (hi - paging.per_page as i64 + 1).max(1);
        let ids: Vec<i64> = if hi < 1 { vec![] } else { (lo..=hi).rev().collect() };
        let page = many(deps, tenant, &ids).await?;
        return Ok((with_relations(deps, tenant, page).await?, last as usize));
    }
    let ids = candidates(deps, tenant, f).await?;
    // Index entries can be a moment behind a status change: the records decide.
    let mut matching = Vec::new();
    for chunk in ids.chunks(100) {
        matching.extend(many(deps, tenant, chunk).await?.into_iter().filter(|r| keep(r, f)));
    }
    let total = matching.len();
    let page: Vec<Stored<Reservation>> = matching.into_iter().skip(paging.offset()).take(paging.per_page).collect();
    Ok((with_relations(deps, tenant, page).await?, total))
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

    #[test]
    fn updates_of_one_item_fold_into_one() {
        let k = Key::new("T#c#ROLLUP#2026", "2026-01-10#000000000001");
        let ops = merge_updates(vec![
            Op::update(k.clone(), Update::new().set("date", "2026-01-10").add("g_with_doctor", -1).add("g_done", 1).add("rev", 1)),
            Op::delete(Key::new("T#c#ACTIVE#2026-01-10", "x")),
            Op::update(k.clone(), Update::new().set("date", "2026-01-10").add("g_waiting_doctor", -1).add("g_with_doctor", 1).add("rev", 1)),
        ]);
        assert_eq!(ops.len(), 2);
        let Op::Update { update, .. } = &ops[0] else { panic!("{ops:?}") };
        assert_eq!(update.set, vec![("date".to_string(), serde_json::json!("2026-01-10"))]);
        let mut adds = update.add.clone();
        adds.sort();
        assert_eq!(adds, vec![("g_done".into(), 1), ("g_waiting_doctor".into(), -1), ("g_with_doctor".into(), 0), ("rev".into(), 2)]);
    }

    #[test]
    fn open_means_still_in_the_queue() {
        assert!(is_open(WAITING) && is_open(WITH_DOCTOR));
        assert!(!is_open(DONE) && !is_open(NO_SHOW) && !is_open(CANCELLED));
    }
}
