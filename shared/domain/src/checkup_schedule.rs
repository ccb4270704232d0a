//! Check-up schedules (seed "Checkup Schedule"): a follow-up visit planned for a patient at a
//! poly on a date. Listed with filters (`search`, `patient_id`, `poly_id`, `date`), shown,
//! created, changed and deleted (soft, as the seed's `deleted_at` shows; no route restores one).
//!
//! Keys (every one under the clinic):
//! - the schedule: `T#<clinic>#CHECKUP_SCHEDULE` / `<id, 12 digits>`, a `record` item (ids from
//!   `T#<clinic>#COUNTER` / `CHECKUP_SCHEDULE`);
//! - three index items per live schedule, each sorted `<yyyy-mm-dd>#<id>`, so every list is in
//!   date order and a `date` filter is a `begins_with`:
//!   - `T#<clinic>#CHECKUP_BY_DATE` / `2026-01-15#000000000001`: every live schedule;
//!   - `T#<clinic>#CHECKUP_BY_PATIENT#<patient id>` / …: one patient's schedules;
//!   - `T#<clinic>#CHECKUP_BY_POLY#<poly id>` / …: one poly's schedules.
//!
//!   Each carries `id`, `patient_id`, `poly_id`, `date` and `description`, so the other filters
//!   and `search` are answered from the index items alone; only the page's schedules, patients
//!   and polies are then read.
//!
//! Every change writes the schedule, its index items and the audit entry in one atomic write,
//! conditioned on the version it read; the patient and poly it names must exist (a condition
//! check in the same write: a deleted poly cannot sneak in between the check and the write).
//! A deleted schedule leaves the indexes in that write, so no list ever reads the trash.
use std::collections::{BTreeSet, HashMap};

use antrean_store::{Condition, Item, Key, Op, Query, SortKey, StoreError, Update};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::paging::{PageMeta, Paging};
use crate::patient::{self, Patient};
use crate::poly::Poly;
use crate::record::{self, Record, Requirement, Stored};
use crate::tenant::{id_key, Tenant};
use crate::{validate, Deps};

const MAX_DESCRIPTION: usize = 1000;
const MAX_ATTEMPTS: u32 = 60;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckupSchedule {
    pub patient_id: i64,
    pub poly_id: i64,
    /// `yyyy-mm-dd`.
    pub date: String,
    #[serde(default)]
    pub description: Option<String>,
}

impl Record for CheckupSchedule {
    const KIND: &'static str = "CHECKUP_SCHEDULE";
    const LABEL: &'static str = "Checkup schedule";
}

/// A schedule with the patient and poly it names (`None` when gone or, for a poly, deleted).
#[derive(Debug, Clone)]
pub struct CheckupWithRelations {
    pub schedule: Stored<CheckupSchedule>,
    pub patient: Option<Stored<Patient>>,
    pub poly: Option<Stored<Poly>>,
}

fn not_found() -> DomainError {
    DomainError::NotFound(format!("{} not found", CheckupSchedule::LABEL))
}

fn invalid(field: &str) -> DomainError {
    FieldErrors::single(field, format!("The selected {} is invalid.", validate::human(field)))
}

// ----- the form

/// What a create or update body says. On update an absent field keeps the current value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckupForm {
    pub patient_id: Option<i64>,
    pub poly_id: Option<i64>,
    pub date: Option<String>,
    /// `Some(None)`: `description` sent as null or empty, which clears it.
    pub description: Option<Option<String>>,
}

/// `yyyy-mm-dd`, a real calendar day.
pub fn parse_date(raw: &str) -> Option<String> {
    let s = raw.trim();
    (s.len() == 10).then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()).flatten().map(|d| d.format("%Y-%m-%d").to_string())
}

fn id_field(errors: &mut FieldErrors, body: &Value, field: &str, required: bool) -> Option<i64> {
    match body.get(field) {
        None if !required => None,
        None | Some(Value::Null) => {
            errors.add(field, format!("The {} field is required.", validate::human(field)));
            None
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            errors.add(field, format!("The {} field is required.", validate::human(field)));
            None
        }
        Some(v) => match validate::as_id(v) {
            Some(id) => Some(id),
            None => {
                errors.add(field, format!("The {} field must be an integer.", validate::human(field)));
                None
            }
        },
    }
}

impl CheckupForm {
    /// `patient_id`, `poly_id` (integers) and `date` (`yyyy-mm-dd`) are required on create
    /// (`partial == false`); on update each may be left out, but not sent empty. `description`
    /// is an optional string of at most 1000 characters. Errors go into `errors` in field order.
    pub fn parse(errors: &mut FieldErrors, body: &Value, partial: bool) -> CheckupForm {
        let patient_id = id_field(errors, body, "patient_id", !partial);
        let poly_id = id_field(errors, body, "poly_id", !partial);
        let date = match body.get("date") {
            None if partial => None,
            None | Some(Value::Null) => {
                errors.add("date", "The date field is required.");
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                errors.add("date", "The date field is required.");
                None
            }
            Some(Value::String(s)) => {
                let d = parse_date(s);
                if d.is_none() {
                    errors.add("date", "The date field must be a valid date in the format Y-m-d.");
                }
                d
            }
            Some(_) => {
                errors.add("date", "The date field must be a valid date in the format Y-m-d.");
                None
            }
        };
        let description = match body.get("description") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(_) => Some(validate::optional_string(errors, body, "description", MAX_DESCRIPTION)),
        };
        CheckupForm { patient_id, poly_id, date, description }
    }

    /// The schedule this form describes, keeping what it leaves out of `current`.
    fn apply(&self, current: Option<&CheckupSchedule>) -> Option<CheckupSchedule> {
        Some(CheckupSchedule {
            patient_id: self.patient_id.or(current.map(|c| c.patient_id))?,
            poly_id: self.poly_id.or(current.map(|c| c.poly_id))?,
            date: self.date.clone().or(current.map(|c| c.date.clone()))?,
            description: match &self.description {
                Some(d) => d.clone(),
                None => current.and_then(|c| c.description.clone()),
            },
        })
    }
}

/// Parses a body and checks that the patient and poly it names exist in the clinic, answering
/// every problem at once in the seed's words ("The selected patient id is invalid.").
async fn checked_form(deps: &Deps, tenant: &Tenant, body: &Value, partial: bool) -> DomainResult<CheckupForm> {
    let mut format_errors = FieldErrors::new();
    let form = CheckupForm::parse(&mut format_errors, body, partial);
    let patient = async {
        match form.patient_id {
            Some(id) => Ok(patient::read(deps, tenant, id).await?.is_some_and(|(p, _)| !p.is_trashed())),
            None => Ok::<bool, DomainError>(true),
        }
    };
    let poly = async {
        match form.poly_id {
            Some(id) => Ok(record::get::<Poly>(deps, tenant, id).await?.is_some_and(|p| !p.is_trashed())),
            None => Ok::<bool, DomainError>(true),
        }
    };
    let (patient_ok, poly_ok) = futures::future::try_join(patient, poly).await?;
    // Rebuild the map in field order: format errors and existence errors interleaved.
    let mut errors = FieldErrors::new();
    for field in ["patient_id", "poly_id", "date", "description"] {
        if let Some(Value::Array(messages)) = format_errors.0.get(field) {
            for m in messages.iter().filter_map(Value::as_str) {
                errors.add(field, m);
            }
        }
        if (field == "patient_id" && !patient_ok) || (field == "poly_id" && !poly_ok) {
            errors.add(field, format!("The selected {} is invalid.", validate::human(field)));
        }
    }
    errors.into_result()?;
    Ok(form)
}

// ----- keys and index items

fn record_key(tenant: &Tenant, id: i64) -> Key {
    record::record_key::<CheckupSchedule>(tenant, id)
}

fn sort_key(date: &str, id: i64) -> String {
    format!("{date}#{}", id_key(id))
}

fn by_date(tenant: &Tenant) -> String {
    tenant.partition("CHECKUP_BY_DATE")
}

pub(crate) fn by_patient(tenant: &Tenant, patient_id: i64) -> String {
    tenant.partition(&format!("CHECKUP_BY_PATIENT#{}", id_key(patient_id)))
}

fn by_poly(tenant: &Tenant, poly_id: i64) -> String {
    tenant.partition(&format!("CHECKUP_BY_POLY#{}", id_key(poly_id)))
}

fn index_keys(tenant: &Tenant, id: i64, s: &CheckupSchedule) -> [Key; 3] {
    let sk = sort_key(&s.date, id);
    [Key::new(by_date(tenant), sk.clone()), Key::new(by_patient(tenant, s.patient_id), sk.clone()), Key::new(by_poly(tenant, s.poly_id), sk)]
}

fn index_item(key: &Key, id: i64, s: &CheckupSchedule) -> Item {
    let v =
        json!({"pk": key.pk, "sk": key.sk, "id": id, "patient_id": s.patient_id, "poly_id": s.poly_id, "date": s.date, "description": s.description});
    v.as_object().cloned().unwrap_or_default()
}

/// The index writes when a schedule goes from `old` to `new` (`None`: it does not exist there).
/// A key that stays is overwritten, one that moves is deleted and put anew: never two ops on
/// one item, as DynamoDB's transactions require.
fn index_ops(tenant: &Tenant, id: i64, old: Option<&CheckupSchedule>, new: Option<&CheckupSchedule>) -> Vec<Op> {
    let old_keys = old.map(|o| index_keys(tenant, id, o));
    let new_keys = new.map(|n| index_keys(tenant, id, n));
    let mut ops = Vec::new();
    for i in 0..3 {
        let before = old_keys.as_ref().map(|k| &k[i]);
        let after = new_keys.as_ref().map(|k| &k[i]);
        if let Some(b) = before {
            if after != Some(b) {
                ops.push(Op::delete(b.clone()));
            }
        }
        if let (Some(a), Some(n)) = (after, new) {
            ops.push(Op::put(index_item(a, id, n)));
        }
    }
    ops
}

fn plain(ops: Vec<Op>) -> Vec<Requirement> {
    ops.into_iter().map(|op| Requirement { op, error: DomainError::Internal("an index write cannot fail".into()) }).collect()
}

/// The writes that remove a schedule's free text (its description may name symptoms) from
/// the record and its three index copies, for a patient's erasure (`privacy::erase`). The
/// record's put holds it to the version read.
pub(crate) fn erase_ops(tenant: &Tenant, current: &Stored<CheckupSchedule>, version: i64, at: &str) -> DomainResult<Vec<Op>> {
    let erased = Stored { data: CheckupSchedule { description: None, ..current.data.clone() }, updated_at: at.to_string(), ..current.clone() };
    let mut ops = vec![Op::put_if(record::item_of(tenant, &erased, version + 1)?, Condition::equals(record::VERSION, version))];
    ops.extend(index_ops(tenant, erased.id, Some(&current.data), Some(&erased.data)));
    Ok(ops)
}

pub(crate) async fn read(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Option<(Stored<CheckupSchedule>, i64)>> {
    record::read::<CheckupSchedule>(deps, tenant, id).await
}

// ----- reads

/// A live schedule, or "Checkup schedule not found".
pub async fn find(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Stored<CheckupSchedule>> {
    record::find::<CheckupSchedule>(deps, tenant, id).await
}

/// The list's filters, as the query string gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub search: Option<String>,
    pub patient_id: Option<i64>,
    pub poly_id: Option<i64>,
    pub date: Option<String>,
}

impl Filter {
    /// Empty values count as absent; a malformed id or date is a 422 naming the field.
    pub fn parse(search: Option<&str>, patient_id: Option<&str>, poly_id: Option<&str>, date: Option<&str>) -> DomainResult<Filter> {
        let mut errors = FieldErrors::new();
        let present = |v: Option<&str>| v.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut id = |field: &str, raw: Option<&str>| {
            let raw = present(raw)?;
            let id = raw.parse::<i64>().ok().filter(|i| *i > 0);
            if id.is_none() {
                errors.add(field, format!("The {} field must be an integer.", validate::human(field)));
            }
            id
        };
        let patient_id = id("patient_id", patient_id);
        let poly_id = id("poly_id", poly_id);
        let date = present(date).and_then(|d| {
            let parsed = parse_date(&d);
            if parsed.is_none() {
                errors.add("date", "The date field must be a valid date in the format Y-m-d.");
            }
            parsed
        });
        errors.into_result()?;
        Ok(Filter { search: present(search), patient_id, poly_id, date })
    }
}

/// One index entry: what the filters look at.
#[derive(Debug, Clone, Deserialize)]
struct Entry {
    id: i64,
    patient_id: i64,
    poly_id: i64,
    date: String,
    #[serde(default)]
    description: Option<String>,
}

/// One page of the live schedules matching `filter`, newest date first (then newest id), and
/// the page's meta. Reads one index partition (the narrowest the filter allows: the patient's,
/// else the poly's, else the clinic's by date, each narrowed to the day when `date` is given),
/// then only the page's schedules.
pub async fn list(deps: &Deps, tenant: &Tenant, filter: &Filter, paging: Paging) -> DomainResult<(Vec<Stored<CheckupSchedule>>, PageMeta)> {
    let pk = match (filter.patient_id, filter.poly_id) {
        (Some(p), _) => by_patient(tenant, p),
        (None, Some(p)) => by_poly(tenant, p),
        (None, None) => by_date(tenant),
    };
    let sk = match &filter.date {
        Some(d) => SortKey::BeginsWith(format!("{d}#")),
        None => SortKey::Any,
    };
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(pk).sort(sk).descending()).await?;
    let search = match &filter.search {
        Some(needle) => Some(Search::new(deps, tenant, needle).await?),
        None => None,
    };
    let mut matching = Vec::new();
    for item in items {
        let e: Entry = serde_json::from_value(Value::Object(item)).map_err(|e| DomainError::Internal(format!("corrupt checkup index: {e}")))?;
        let keep = filter.patient_id.is_none_or(|p| e.patient_id == p)
            && filter.poly_id.is_none_or(|p| e.poly_id == p)
            && filter.date.as_ref().is_none_or(|d| &e.date == d)
            && search.as_ref().is_none_or(|s| s.matches(&e));
        if keep {
            matching.push(e.id);
        }
    }
    let (page, meta) = paging.slice(matching);
    let mut found = record::get_many::<CheckupSchedule>(deps, tenant, page.iter().copied()).await?;
    let schedules = page.iter().filter_map(|id| found.remove(id)).filter(|s| !s.is_trashed()).collect();
    Ok((schedules, meta))
}

/// The live check-ups of one day (the H-1 reminders read tomorrow's): one Query of the date
/// index, then one batch read of the records.
pub async fn on_date(deps: &Deps, tenant: &Tenant, date: &str) -> DomainResult<Vec<Stored<CheckupSchedule>>> {
    let q = Query::partition(by_date(tenant)).sort(SortKey::BeginsWith(format!("{date}#")));
    let ids: Vec<i64> = antrean_store::query_all(deps.table.as_ref(), q).await?.iter().filter_map(|i| i.get("id").and_then(Value::as_i64)).collect();
    let keys: Vec<Key> = ids.iter().map(|id| record::record_key::<CheckupSchedule>(tenant, *id)).collect();
    let mut out = Vec::new();
    for item in antrean_store::get_all(deps.table.as_ref(), &keys).await?.into_iter().flatten() {
        let s: Stored<CheckupSchedule> =
            serde_json::from_value(Value::Object(item)).map_err(|e| DomainError::Internal(format!("corrupt checkup schedule: {e}")))?;
        if !s.is_trashed() {
            out.push(s);
        }
    }
    Ok(out)
}

/// What `search` matches: the patient (start of name words, WhatsApp or BPJS number, as the
/// patient list searches), the poly's name, or the description (case-insensitive part).
struct Search {
    needle: String,
    patients: BTreeSet<i64>,
    polies: BTreeSet<i64>,
}

impl Search {
    async fn new(deps: &Deps, tenant: &Tenant, needle: &str) -> DomainResult<Search> {
        let lower = needle.trim().to_lowercase();
        let (patients, polies) =
            futures::future::try_join(patient::search_ids(deps, tenant, needle), record::list::<Poly>(deps, tenant, false)).await?;
        let polies = polies.into_iter().filter(|p| p.data.name.to_lowercase().contains(&lower)).map(|p| p.id).collect();
        Ok(Search { needle: lower, patients, polies })
    }

    fn matches(&self, e: &Entry) -> bool {
        self.patients.contains(&e.patient_id)
            || self.polies.contains(&e.poly_id)
            || e.description.as_ref().is_some_and(|d| d.to_lowercase().contains(&self.needle))
    }
}

/// The patient and poly of each schedule, each read once.
pub async fn with_relations(deps: &Deps, tenant: &Tenant, schedules: Vec<Stored<CheckupSchedule>>) -> DomainResult<Vec<CheckupWithRelations>> {
    let patient_ids: BTreeSet<i64> = schedules.iter().map(|s| s.data.patient_id).collect();
    let poly_ids: Vec<i64> = schedules.iter().map(|s| s.data.poly_id).collect::<BTreeSet<_>>().into_iter().collect();
    let polies = async {
        let found = record::get_many::<Poly>(deps, tenant, poly_ids.iter().copied()).await?;
        Ok::<HashMap<i64, Stored<Poly>>, DomainError>(found.into_iter().filter(|(_, p)| !p.is_trashed()).collect())
    };
    let (patients, polies) = futures::future::try_join(patient::many(deps, tenant, patient_ids), polies).await?;
    Ok(schedules
        .into_iter()
        .map(|s| {
            let patient = patients.get(&s.data.patient_id).cloned();
            let poly = polies.get(&s.data.poly_id).cloned();
            CheckupWithRelations { schedule: s, patient, poly }
        })
        .collect())
}

pub async fn with_relations_one(deps: &Deps, tenant: &Tenant, schedule: Stored<CheckupSchedule>) -> DomainResult<CheckupWithRelations> {
    with_relations(deps, tenant, vec![schedule]).await?.pop().ok_or_else(|| DomainError::Internal("a schedule went missing".into()))
}

// ----- writes

fn live_requirements(tenant: &Tenant, patient_id: Option<i64>, poly_id: Option<i64>) -> Vec<Requirement> {
    let mut out = Vec::new();
    if let Some(id) = patient_id {
        out.push(record::must_be_live::<Patient>(tenant, id, invalid("patient_id")));
    }
    if let Some(id) = poly_id {
        out.push(record::must_be_live::<Poly>(tenant, id, invalid("poly_id")));
    }
    out
}

/// Creates a schedule (seed "Checkup Schedule Create"): 422 with the seed's `errors` for a bad
/// body or an unknown patient or poly.
pub async fn create(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Stored<CheckupSchedule>> {
    let form = checked_form(deps, tenant, body, false).await?;
    let data = form.apply(None).ok_or_else(|| DomainError::Internal("a complete form lacked a field".into()))?;
    record::create(deps, tenant, actor, data.clone(), |id| {
        let mut reqs = live_requirements(tenant, Some(data.patient_id), Some(data.poly_id));
        reqs.extend(plain(index_ops(tenant, id, None, Some(&data))));
        reqs
    })
    .await
}

/// Changes a live schedule: fields left out keep their value; a patient or poly sent must exist.
pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Stored<CheckupSchedule>> {
    find(deps, tenant, id).await?;
    let form = checked_form(deps, tenant, body, true).await?;
    record::update::<CheckupSchedule>(deps, tenant, actor, id, |current| {
        let new = form.apply(Some(&current.data)).ok_or_else(|| DomainError::Internal("an update lost a field".into()))?;
        let mut reqs = live_requirements(tenant, form.patient_id, form.poly_id);
        reqs.extend(plain(index_ops(tenant, id, Some(&current.data), Some(&new))));
        Ok((new, reqs))
    })
    .await
}

/// Soft delete: the schedule gets `deleted_at` and leaves the indexes, in one write conditioned
/// on the version read (so the index keys removed are the current ones).
pub async fn delete(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    for attempt in 0..MAX_ATTEMPTS {
        let Some((current, version)) = read(deps, tenant, id).await? else {
            return Err(not_found());
        };
        if current.is_trashed() {
            return Err(not_found());
        }
        let now = deps.clock.now();
        let mut ops = vec![Op::update_if(
            record_key(tenant, id),
            Update::new().set("deleted_at", stamp(now)).set("updated_at", stamp(now)).add(record::VERSION, 1),
            Condition::And(vec![Condition::equals(record::VERSION, version), Condition::attr_not_exists("deleted_at")]),
        )];
        ops.extend(index_ops(tenant, id, Some(&current.data), None));
        ops.push(audit::entry(tenant, actor, Action::Delete, CheckupSchedule::KIND, id, now));
        match deps.table.write(ops).await {
            Ok(()) => return Ok(()),
            // Changed or deleted since the read: read again.
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => record::backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict(format!("{} is being changed by someone else; try again", CheckupSchedule::LABEL)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(body: Value, partial: bool) -> Value {
        let mut e = FieldErrors::new();
        CheckupForm::parse(&mut e, &body, partial);
        Value::Object(e.0)
    }

    #[test]
    fn a_create_needs_patient_poly_and_a_real_date() {
        assert_eq!(
            errors_of(json!({"patient_id": "x", "date": "2026-02-30", "description": 5}), false),
            json!({"patient_id": ["The patient id field must be an integer."], "poly_id": ["The poly id field is required."],
                   "date": ["The date field must be a valid date in the format Y-m-d."], "description": ["The description field must be a string."]})
        );
        let mut e = FieldErrors::new();
        let f = CheckupForm::parse(&mut e, &json!({"patient_id": "3", "poly_id": 2, "date": "2026-01-15"}), false);
        assert!(e.is_empty());
        assert_eq!(f.apply(None).unwrap(), CheckupSchedule { patient_id: 3, poly_id: 2, date: "2026-01-15".into(), description: None });
    }

    #[test]
    fn an_update_keeps_what_it_leaves_out() {
        let current = CheckupSchedule { patient_id: 3, poly_id: 2, date: "2026-01-15".into(), description: Some("x".into()) };
        let mut e = FieldErrors::new();
        let f = CheckupForm::parse(&mut e, &json!({"name": "clinic_timezone", "value": "Asia/Jakarta"}), true);
        assert!(e.is_empty());
        assert_eq!(f.apply(Some(&current)).unwrap(), current);
        let f = CheckupForm::parse(&mut e, &json!({"date": "2026-01-20", "description": null}), true);
        assert_eq!(f.apply(Some(&current)).unwrap(), CheckupSchedule { date: "2026-01-20".into(), description: None, ..current.clone() });
        assert_eq!(
            errors_of(json!({"poly_id": null, "date": ""}), true),
            json!({"poly_id": ["The poly id field is required."], "date": ["The date field is required."]})
        );
    }

    #[test]
    fn index_moves_only_what_changed() {
        let t = Tenant::parse("klinik").unwrap();
        let a = CheckupSchedule { patient_id: 3, poly_id: 2, date: "2026-01-15".into(), description: None };
        assert_eq!(index_ops(&t, 1, None, Some(&a)).len(), 3);
        let b = CheckupSchedule { description: Some("y".into()), ..a.clone() };
        assert!(index_ops(&t, 1, Some(&a), Some(&b)).iter().all(|op| matches!(op, Op::Put { .. })));
        let c = CheckupSchedule { poly_id: 4, ..a.clone() };
        assert_eq!(index_ops(&t, 1, Some(&a), Some(&c)).len(), 4);
        assert!(index_ops(&t, 1, Some(&a), None).iter().all(|op| matches!(op, Op::Delete { .. })));
    }
}
