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
use antrean_store::{Condition, Item, Key, Op, Query, SortKey, Update};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::configuration::config::clinic_timezone;
use crate::error::{DomainError, DomainResult};
use crate::patient::Patient;
use crate::poly::Poly;
use crate::record::{self, Record, Stored};
use crate::rollup::{self, ReservationFacts, StageTimes};
use crate::schedule;
use crate::status::Status;
use crate::tenant::{id_key, Tenant};
use crate::Deps;

pub(crate) const MAX_ATTEMPTS: u32 = 100;
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Reservation {
    pub patient_id: i64,
    pub poly_id: i64,
    pub schedule_id: i64,
    /// The doctor of that schedule: whose room calls the patient first (`clinic_flow::roster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_doctor_id: Option<i64>,
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
    /// What BPJS antrean needs of the visit (`bpjs::Visit`): on reservations of clinics that
    /// configured BPJS, or whose form gave the BPJS fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bpjs_visit: Option<crate::bpjs::Visit>,
    /// Served first under the clinic's priority policy: one of `priority_reasons` counted
    /// under the clinic's criteria when the number was handed out (`clinic_flow::priority`).
    #[serde(default)]
    pub priority: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priority_reasons: Vec<crate::clinic_flow::priority::Criterion>,
    /// The patient's birth date as given at registration (`YYYY-MM-DD`): the elderly criterion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    /// The room the patient was called in to, its name as announced, and its doctor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_id: Option<i64>,
    /// Where the patient was sent on to after the doctor, in order; the last is where they are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<crate::clinic_flow::services::ServiceStage>,
    /// The polies the patient was seen at before this one on the same ticket, in order
    /// (`clinic_flow::poly_transfer`): each keeps its number and stages there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poly_history: Vec<crate::clinic_flow::poly_transfer::PolyVisit>,
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
        let mut f = ReservationFacts::new(self.poly_id, self.visit_date(), &self.status_code, self.bpjs, &self.stages(), tz);
        f.transferred_in = !self.poly_history.is_empty();
        f
    }

    /// What every poly this reservation visited counts: the earlier polies' visits (sent on
    /// from there) and the current one. A rebuild of the rollups counts these.
    pub fn all_facts(&self, tz: Tz) -> Vec<ReservationFacts> {
        let mut out: Vec<ReservationFacts> = self.poly_history.iter().enumerate().map(|(i, v)| v.facts(self, i > 0, tz)).collect();
        out.push(self.facts(tz));
        out
    }
}

// ----- keys

pub(crate) fn key(tenant: &Tenant, id: i64) -> Key {
    record::record_key::<Reservation>(tenant, id)
}

pub(crate) fn day_partition(tenant: &Tenant, date: &str) -> String {
    tenant.partition(&format!("QUEUE#{date}"))
}

pub(crate) fn day_key(tenant: &Tenant, r: &Reservation) -> Key {
    Key::new(day_partition(tenant, &r.date), format!("{}#{:06}", id_key(r.poly_id), r.queue_number))
}

pub(crate) fn active_key(tenant: &Tenant, r: &Reservation) -> Key {
    Key::new(tenant.partition(&format!("ACTIVE#{}", r.date)), format!("{}#{}", id_key(r.poly_id), id_key(r.patient_id)))
}

pub(crate) fn patient_index_key(tenant: &Tenant, patient_id: i64, id: i64) -> Key {
    Key::new(tenant.partition(&format!("PATIENT_RESERVATION#{}", id_key(patient_id))), id_key(id))
}

pub(crate) fn number_counter(date: &str, poly_id: i64) -> String {
    format!("QUEUE#{date}#{}", id_key(poly_id))
}

pub(crate) fn item_with(key: &Key, fields: Value) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.clone().into());
    item.insert("sk".into(), key.sk.clone().into());
    if let Value::Object(m) = fields {
        item.extend(m);
    }
    item
}

pub(crate) fn day_item(tenant: &Tenant, id: i64, r: &Reservation, called_ms: Option<i64>) -> Item {
    item_with(
        &day_key(tenant, r),
        serde_json::json!({
            "id": id, "poly_id": r.poly_id, "patient_id": r.patient_id, "queue_number": r.queue_number,
            "status_code": r.status_code, "status_id": r.status_id, "called_ms": called_ms, "bpjs": r.bpjs,
            "priority": r.priority, "schedule_doctor_id": r.schedule_doctor_id,
        }),
    )
}

/// One number of a poly's day, as the day's queue index holds it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DayEntry {
    pub id: i64,
    pub poly_id: i64,
    pub patient_id: i64,
    pub queue_number: i64,
    pub status_code: String,
    pub status_id: i64,
    /// When the number was last called (ms since the epoch), if ever.
    pub called_ms: Option<i64>,
    /// The insurance, on index items written since it is kept there (`None` on older ones).
    pub bpjs: Option<bool>,
    pub priority: bool,
    /// When the number was called in to the doctor (ms), for the priority policy's count.
    pub doctor_ms: Option<i64>,
    /// The room it was called in to, and the room's name.
    pub room_id: Option<i64>,
    pub room: Option<String>,
    /// The poly the patient was sent on to from here (`clinic_flow::poly_transfer`): the
    /// reservation now lives at that poly's number; this one is its first poly's, kept DONE.
    pub transferred_to: Option<i64>,
    /// The doctor of the schedule the number was booked on (on index items since it is kept).
    pub schedule_doctor_id: Option<i64>,
}

pub(crate) fn day_entry(item: &Item) -> Option<DayEntry> {
    let n = |k: &str| item.get(k).and_then(Value::as_i64);
    Some(DayEntry {
        id: n("id")?,
        poly_id: n("poly_id")?,
        patient_id: n("patient_id").unwrap_or_default(),
        queue_number: n("queue_number")?,
        status_code: item.get("status_code").and_then(Value::as_str).unwrap_or_default().to_string(),
        status_id: n("status_id").unwrap_or_default(),
        called_ms: n("called_ms"),
        bpjs: item.get("bpjs").and_then(Value::as_bool),
        priority: item.get("priority").and_then(Value::as_bool).unwrap_or(false),
        doctor_ms: n("doctor_ms"),
        room_id: n("room_id"),
        room: item.get("room").and_then(Value::as_str).map(str::to_string),
        transferred_to: n("transferred_to"),
        schedule_doctor_id: n("schedule_doctor_id"),
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

pub(crate) fn not_found() -> DomainError {
    DomainError::NotFound("Reservation not found".into())
}

/// A reservation with its version, or "Reservation not found".
pub async fn read(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<(Stored<Reservation>, i64)> {
    match deps.table.get(&key(tenant, id)).await? {
        Some(item) => decode(item),
        None => Err(not_found()),
    }
}

/// Several reservations by id, in one batch read, in the order asked; missing ones left out.
pub async fn many(deps: &Deps, tenant: &Tenant, ids: &[i64]) -> DomainResult<Vec<Stored<Reservation>>> {
    let keys: Vec<Key> = ids.iter().map(|id| key(tenant, *id)).collect();
    let mut out = Vec::with_capacity(keys.len());
    for item in deps.table.get_many(&keys, None).await?.into_iter().flatten() {
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

pub use crate::status::{status_by_code, workflow as statuses};

/// Nests patient, status and poly into each reservation: one batch read for the patients and
/// polies (and the statuses, unless this request has them already).
pub async fn with_relations(deps: &Deps, tenant: &Tenant, list: Vec<Stored<Reservation>>) -> DomainResult<Vec<Full>> {
    let refs: Vec<(i64, i64)> = list.iter().map(|r| (r.data.patient_id, r.data.poly_id)).collect();
    let nested = crate::nested::read(deps, tenant, &[], &refs).await?;
    Ok(list.into_iter().map(|r| nested.full(r)).collect())
}

pub async fn full(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Full> {
    let (r, _) = read(deps, tenant, id).await?;
    Ok(with_relations(deps, tenant, vec![r]).await?.remove(0))
}

pub async fn clinic_today(deps: &Deps, tenant: &Tenant) -> DomainResult<(NaiveDate, Tz)> {
    let tz = clinic_timezone(deps, tenant).await?;
    Ok((deps.clock.now().with_timezone(&tz).date_naive(), tz))
}

/// The ops that move a reservation from `before` (at `version`) to `after`, with its index,
/// rollup counts and board state, open-reservation guard and quota place, for one atomic write. The first op is
/// the reservation itself, conditioned on the version read.
pub(crate) fn change_ops(tenant: &Tenant, tz: Tz, before: &Stored<Reservation>, version: i64, after: &Stored<Reservation>, called: bool) -> DomainResult<Vec<Op>> {
    let (b, a) = (&before.data, &after.data);
    let mut ops = vec![Op::put_if(record::item_of(tenant, after, version + 1)?, Condition::equals(record::VERSION, version))];
    let mut index = Update::new().set("status_code", a.status_code.clone()).set("status_id", a.status_id).set("bpjs", a.bpjs);
    if called {
        index = index.set("called_ms", parse_stamp(&after.updated_at).map(|t| t.timestamp_millis()));
    }
    // Called in to the doctor (not a recall): when, and in which room.
    if b.with_doctor_at != a.with_doctor_at {
        index = index.set("doctor_ms", a.with_doctor_at.as_deref().and_then(parse_stamp).map(|t| t.timestamp_millis()));
    }
    // Called in to a room (or recalled to another one).
    if b.with_doctor_at != a.with_doctor_at || b.room_id != a.room_id {
        if let (Some(id), Some(name)) = (a.room_id, &a.room) {
            index = index.set("room_id", id).set("room", name.clone());
        }
    }
    ops.push(Op::update(day_key(tenant, a), index));
    ops.extend(rollup::delta_ops(tenant, Some(&b.facts(tz)), &a.facts(tz)));
    // What the boards show of the number, on the same bucket: folded into one update below.
    ops.extend(crate::board::state::stage_ops(tenant, Some(b), a));
    if is_open(&b.status_code) && !is_open(&a.status_code) {
        ops.push(Op::delete(active_key(tenant, b)));
    }
    if b.status_code != CANCELLED && a.status_code == CANCELLED {
        ops.push(schedule::release_op(tenant, b.schedule_id));
    }
    // BPJS: the events the new stage times mean (in this same write), a JKN place back.
    ops.extend(crate::bpjs::outbound::on_change(tenant, before, after, parse_stamp(&after.updated_at).unwrap_or_default()));
    Ok(merge_updates(ops))
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
                fold_into(u, update);
                continue;
            }
        }
        out.push(op);
    }
    out
}

/// Adds `update` to `u`, an update of the same item.
pub(crate) fn fold_into(u: &mut Update, update: &Update) {
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
}

pub(crate) mod create;
mod history;
mod list;
mod update;

pub use create::{create, create_from, create_with, Created, ExtraOps, ReservationForm, ALREADY_BOOKED, DIFFERENT_NAME, EXTRA_CHANGED, QUOTA_FULL};
pub use history::{history_items, HistoricVisit};
pub use list::{list, ListFilters};
pub use update::{update, Updated, MOVE_REFUSED};

#[cfg(test)]
mod tests {
    use super::*;

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
