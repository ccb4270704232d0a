//! Patients (seed "Patient"): registered by reception through a reservation, then listed,
//! searched, shown and edited. A clinic has tens of thousands, so nothing here reads them all.
//!
//! Keys (every one under the clinic):
//! - the patient: `T#<clinic>#PATIENT` / `<id, 12 digits>`, a `record` item (same shape, same
//!   `_v` version, so `record::update` and `record::find` work on it);
//! - WhatsApp and BPJS numbers are unique guards, `T#<clinic>#UNIQUE#PATIENT#whatsapp_number`
//!   / `6281234567890` and `…#no_bpjs` / `0001234567890`: finding a patient by number is one
//!   GetItem, and a prefix of a number is one Query on the guard partition;
//! - name words: `T#<clinic>#PATIENT_NAME` / `<word>#<id>`, one small item per word of the
//!   name, so a search for "andi wij" is one Query per word (`begins_with`), not a scan;
//! - ids come from `T#<clinic>#COUNTER` / `PATIENT`, bumped in the same atomic write as the
//!   patient (and its reservation), so they have no gaps.
//!
//! Listing without a search: patients are never deleted (no route deletes one) and ids have no
//! gaps, so page N of the newest-first list is exactly the id range
//! `last-(N-1)*per_page … last-N*per_page+1`: one Query with a key range, however deep the
//! page, and `total` is the counter. A search collects at most [`MAX_MATCHES`] ids from the
//! indexes, then reads only the patients of the page asked for.
//!
//! WhatsApp numbers are stored normalised to the international form without `+`
//! (`0812…`, `+62812…`, `62812…` and `812…` are all `62812…`), which is also what WhatsApp
//! gateways want.
use std::collections::{BTreeSet, HashMap};

use antrean_store::{Item, Key, Op, Query, SortKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::Actor;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::paging::Paging;
use crate::record::{self, Record, Requirement, Stored, Unique};
use crate::tenant::{id_key, Tenant};
use crate::{validate, Deps};

/// The most ids a search collects (its `total` is capped there).
pub const MAX_MATCHES: usize = 1000;
/// The most name words indexed per patient.
const MAX_WORDS: usize = 8;
/// `record`'s version attribute: patients are record items.
pub(crate) const VERSION: &str = "_v";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Patient {
    pub patient_name: String,
    #[serde(default)]
    pub no_bpjs: Option<String>,
    #[serde(default)]
    pub whatsapp_number: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// The WhatsApp gateway's chat id, set by integrations; never by these routes.
    #[serde(default)]
    pub chat_id: Option<String>,
    /// When the patient's personal data was erased (`privacy::erase`): the record then keeps
    /// only its id and times, so the visits it had still count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<String>,
    /// `YYYY-MM-DD`, as reception last gave it (registration or marking priority): the
    /// elderly priority criterion (`clinic_flow::priority`); reservations copy it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
}

impl Record for Patient {
    const KIND: &'static str = "PATIENT";
    const LABEL: &'static str = "Patient";
    fn unique(&self) -> Vec<Unique> {
        let mut out = Vec::new();
        if let Some(w) = &self.whatsapp_number {
            out.push(Unique::new("whatsapp_number", w));
        }
        if let Some(b) = &self.no_bpjs {
            out.push(Unique::new("no_bpjs", b));
        }
        out
    }
}

/// `0812-3456-7890`, `+62 812 3456 7890`, `6281234567890`, `81234567890` → `6281234567890`.
/// A number written with `+` and another country code keeps it. `None` when it is not a
/// phone number (10 to 15 digits once normalised).
pub fn normalize_whatsapp(raw: &str) -> Option<String> {
    let compact: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
    let (international, digits) = match compact.strip_prefix('+') {
        Some(rest) => (true, rest.to_string()),
        None => (false, compact),
    };
    // After `+` comes a country code, which never starts with 0.
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || (international && digits.starts_with('0')) {
        return None;
    }
    let n = if international || digits.starts_with("62") {
        digits
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("62{rest}")
    } else if digits.starts_with('8') {
        format!("62{digits}")
    } else {
        digits
    };
    (10..=15).contains(&n.len()).then_some(n)
}

/// What a search for digits means as the start of a stored WhatsApp number: `0812` → `62812`.
fn whatsapp_prefix(digits: &str) -> String {
    if let Some(rest) = digits.strip_prefix('0') {
        format!("62{rest}")
    } else if digits.starts_with('8') {
        format!("62{digits}")
    } else {
        digits.to_string()
    }
}

/// Names compare without case and extra spaces: "ahmad  FAUZI" is "Ahmad Fauzi".
pub fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    norm(a) == norm(b)
}

/// The words a name is found by: lower case, letters and digits, at most [`MAX_WORDS`].
pub fn name_words(name: &str) -> BTreeSet<String> {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(40).collect::<String>())
        .take(MAX_WORDS)
        .collect()
}

/// The patient fields of a form (reservation create and update, patient update).
#[derive(Debug, Clone, PartialEq)]
pub struct PatientForm {
    pub patient_name: String,
    pub whatsapp_number: Option<String>,
    pub no_bpjs: Option<String>,
    pub email: Option<String>,
}

impl PatientForm {
    /// `patient_name` required; `whatsapp_number` required unless `no_bpjs` is given (and
    /// normalised); `no_bpjs` 13 digits; `email` a valid address. Errors go into `errors`.
    pub fn parse(errors: &mut FieldErrors, body: &Value) -> Option<PatientForm> {
        let before = errors.0.len();
        let name = validate::required_string(errors, body, "patient_name", 255);
        let raw_bpjs = match body.get("no_bpjs") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Some(Value::Number(_)) => digits_as_string(body, "no_bpjs").or(Some(String::new())),
            Some(_) => Some(String::new()),
        };
        let bpjs = match raw_bpjs {
            Some(b) if b.len() == 13 && b.chars().all(|c| c.is_ascii_digit()) => Some(b),
            Some(_) => {
                errors.add("no_bpjs", "The no bpjs field must be 13 digits.");
                None
            }
            None => None,
        };
        let has_bpjs_field = bpjs.is_some() || errors.has("no_bpjs");
        let whatsapp = match body.get("whatsapp_number") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => match normalize_whatsapp(s) {
                Some(n) => Some(n),
                None => {
                    errors.add("whatsapp_number", "The whatsapp number field must be a valid phone number.");
                    None
                }
            },
            Some(Value::Number(n)) => match normalize_whatsapp(&n.to_string()) {
                Some(n) => Some(n),
                None => {
                    errors.add("whatsapp_number", "The whatsapp number field must be a valid phone number.");
                    None
                }
            },
            Some(_) => {
                errors.add("whatsapp_number", "The whatsapp number field must be a string.");
                None
            }
        };
        if whatsapp.is_none() && !has_bpjs_field && !errors.has("whatsapp_number") {
            errors.add("whatsapp_number", "The whatsapp number field is required when no bpjs is not present.");
        }
        let email = validate::optional_string(errors, body, "email", 255);
        if let Some(e) = &email {
            if !validate::is_email(e) {
                errors.add("email", "The email field must be a valid email address.");
            }
        }
        if errors.0.len() != before {
            return None;
        }
        Some(PatientForm { patient_name: name?, whatsapp_number: whatsapp, no_bpjs: bpjs, email })
    }

    /// The patient as this form describes it, keeping what the form does not carry.
    pub fn apply(&self, current: Option<&Patient>) -> Patient {
        Patient {
            patient_name: self.patient_name.clone(),
            no_bpjs: self.no_bpjs.clone(),
            whatsapp_number: self.whatsapp_number.clone(),
            email: self.email.clone(),
            chat_id: current.and_then(|c| c.chat_id.clone()),
            erased_at: None,
            birth_date: current.and_then(|c| c.birth_date.clone()),
        }
    }
}

/// A BPJS number sent as a JSON number (leading zeros are then lost, so it will fail the
/// 13-digit rule unless it had none).
fn digits_as_string(body: &Value, field: &str) -> Option<String> {
    body.get(field).and_then(Value::as_u64).map(|n| n.to_string())
}

// ----- keys, shared with the reservation's atomic writes

pub(crate) fn key(tenant: &Tenant, id: i64) -> Key {
    record::record_key::<Patient>(tenant, id)
}

/// `record`'s guard key for a patient's unique value.
pub(crate) fn guard_key(tenant: &Tenant, u: &Unique) -> Key {
    Key::new(tenant.partition(&format!("UNIQUE#{}#{}", Patient::KIND, u.field)), u.value.clone())
}

pub(crate) fn guard_item(key: &Key, id: i64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.clone().into());
    item.insert("sk".into(), key.sk.clone().into());
    item.insert("id".into(), id.into());
    item
}

fn word_key(tenant: &Tenant, word: &str, id: i64) -> Key {
    Key::new(tenant.partition("PATIENT_NAME"), format!("{word}#{}", id_key(id)))
}

/// The stored item of a patient, as `record` writes it.
pub(crate) fn item(tenant: &Tenant, stored: &Stored<Patient>, version: i64) -> DomainResult<Item> {
    let k = key(tenant, stored.id);
    let Value::Object(fields) = serde_json::to_value(stored).map_err(|e| DomainError::Internal(e.to_string()))? else {
        return Err(DomainError::Internal("a patient must serialise to an object".into()));
    };
    let mut item = Item::new();
    item.insert("pk".into(), k.pk.into());
    item.insert("sk".into(), k.sk.into());
    for (k, v) in fields {
        if !(k == "deleted_at" && v.is_null()) {
            item.insert(k, v);
        }
    }
    item.insert(VERSION.into(), version.into());
    Ok(item)
}

/// The index changes when a patient's name goes from `old` to `new` (`None`: no patient yet).
/// Plain puts and deletes: they never fail a write.
pub(crate) fn word_ops(tenant: &Tenant, id: i64, old: Option<&str>, new: &str) -> Vec<Op> {
    let before = old.map(name_words).unwrap_or_default();
    let after = name_words(new);
    let mut ops = Vec::new();
    for w in before.difference(&after) {
        ops.push(Op::delete(word_key(tenant, w, id)));
    }
    for w in after.difference(&before) {
        let k = word_key(tenant, w, id);
        ops.push(Op::put(guard_item(&k, id)));
    }
    ops
}

/// The guard changes between two versions of a patient: `(added, removed)`.
pub(crate) fn guard_changes(old: Option<&Patient>, new: &Patient) -> (Vec<Unique>, Vec<Unique>) {
    let before = old.map(|p| p.unique()).unwrap_or_default();
    let after = new.unique();
    let added = after.iter().filter(|u| !before.contains(u)).cloned().collect();
    let removed = before.iter().filter(|u| !after.contains(u)).cloned().collect();
    (added, removed)
}

pub(crate) fn decode(item: Item) -> DomainResult<(Stored<Patient>, i64)> {
    let version = item.get(VERSION).and_then(Value::as_i64).unwrap_or(0);
    let stored = serde_json::from_value(Value::Object(item)).map_err(|e| DomainError::Internal(format!("corrupt patient: {e}")))?;
    Ok((stored, version))
}

/// A patient with its version, if it exists.
pub async fn read(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Option<(Stored<Patient>, i64)>> {
    match deps.table.get(&key(tenant, id)).await? {
        Some(item) => Ok(Some(decode(item)?)),
        None => Ok(None),
    }
}

/// A patient, or "Patient not found".
pub async fn find(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Stored<Patient>> {
    record::find::<Patient>(deps, tenant, id).await
}

/// The patient holding a normalised WhatsApp number or a BPJS number: one GetItem on the guard.
pub async fn id_by(deps: &Deps, tenant: &Tenant, field: &'static str, value: &str) -> DomainResult<Option<i64>> {
    record::find_by_unique::<Patient>(deps, tenant, field, value).await
}

/// Several patients by id, in one batch read; missing ones are left out.
pub async fn many(deps: &Deps, tenant: &Tenant, ids: impl IntoIterator<Item = i64>) -> DomainResult<HashMap<i64, Stored<Patient>>> {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    let keys: Vec<Key> = ids.iter().map(|id| key(tenant, *id)).collect();
    let mut out = HashMap::new();
    for item in deps.table.get_many(&keys, None).await?.into_iter().flatten() {
        let (p, _) = decode(item)?;
        out.insert(p.id, p);
    }
    Ok(out)
}

/// How many patients the clinic has (ids have no gaps and patients are never deleted).
pub async fn count(deps: &Deps, tenant: &Tenant) -> DomainResult<i64> {
    record::last_id(deps, tenant, Patient::KIND).await
}

/// One page of the newest-first list, with the total. See the module notes.
pub async fn list(deps: &Deps, tenant: &Tenant, search: Option<&str>, paging: Paging) -> DomainResult<(Vec<Stored<Patient>>, usize)> {
    match search.map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            let last = count(deps, tenant).await?;
            // `page` is only bounded below: a huge one must give an empty page, not overflow.
            let skip = i64::try_from((paging.page - 1).saturating_mul(paging.per_page)).unwrap_or(i64::MAX);
            let hi = last.saturating_sub(skip);
            if hi < 1 {
                return Ok((vec![], last as usize));
            }
            let lo = (hi - paging.per_page as i64 + 1).max(1);
            let q = Query::partition(tenant.partition(Patient::KIND)).sort(SortKey::Between(id_key(lo), id_key(hi))).descending();
            let items = antrean_store::query_all(deps.table.as_ref(), q).await?;
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(decode(i)?.0);
            }
            Ok((out, last as usize))
        }
        Some(needle) => {
            let mut ids: Vec<i64> = search_ids(deps, tenant, needle).await?.into_iter().collect();
            ids.sort_unstable_by(|a, b| b.cmp(a));
            let total = ids.len();
            let page: Vec<i64> = ids.into_iter().skip((paging.page - 1).saturating_mul(paging.per_page)).take(paging.per_page).collect();
            let found = many(deps, tenant, page.iter().copied()).await?;
            Ok((page.iter().filter_map(|id| found.get(id).cloned()).collect(), total))
        }
    }
}

fn ids_of(items: &[Item], from_sort_key: bool) -> Vec<i64> {
    items
        .iter()
        .filter_map(|i| {
            if from_sort_key {
                i.get("sk")?.as_str()?.rsplit('#').next()?.parse().ok()
            } else {
                i.get("id")?.as_i64()
            }
        })
        .collect()
}

/// The ids of the patients a search finds: digits are the start of a WhatsApp or BPJS number,
/// anything else the start of words of the name (every word of the search must match).
pub async fn search_ids(deps: &Deps, tenant: &Tenant, needle: &str) -> DomainResult<BTreeSet<i64>> {
    let compact: String = needle.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '+' | '(' | ')')).collect();
    if !compact.is_empty() && compact.chars().all(|c| c.is_ascii_digit()) {
        let guard = |field: &str, prefix: String| {
            Query::partition(tenant.partition(&format!("UNIQUE#{}#{field}", Patient::KIND))).sort(SortKey::BeginsWith(prefix)).limit(MAX_MATCHES).only(&["id"])
        };
        let (wa, bpjs) = futures::future::try_join(
            deps.table.query(&guard("whatsapp_number", whatsapp_prefix(&compact))),
            deps.table.query(&guard("no_bpjs", compact.clone())),
        )
        .await?;
        let mut ids: BTreeSet<i64> = ids_of(&wa.items, false).into_iter().collect();
        ids.extend(ids_of(&bpjs.items, false));
        return Ok(ids.into_iter().take(MAX_MATCHES).collect());
    }
    let words = name_words(needle);
    let mut result: Option<BTreeSet<i64>> = None;
    for w in &words {
        let q = Query::partition(tenant.partition("PATIENT_NAME")).sort(SortKey::BeginsWith(w.clone())).limit(MAX_MATCHES * 4).only(&["id"]);
        let page = deps.table.query(&q).await?;
        let found: BTreeSet<i64> = ids_of(&page.items, true).into_iter().collect();
        result = Some(match result {
            None => found,
            Some(r) => r.intersection(&found).copied().collect(),
        });
        if result.as_ref().is_some_and(BTreeSet::is_empty) {
            break;
        }
    }
    Ok(result.unwrap_or_default().into_iter().rev().take(MAX_MATCHES).collect())
}

fn index_requirements(ops: Vec<Op>) -> Vec<Requirement> {
    ops.into_iter().map(|op| Requirement { op, error: DomainError::Internal("a name index write cannot fail".into()) }).collect()
}

/// Every number of `patient` that another patient already holds, as field errors, so a form
/// hears about both numbers at once. Only a courtesy: the guards in the write decide.
async fn numbers_taken(deps: &Deps, tenant: &Tenant, patient: &Patient, except: Option<i64>) -> DomainResult<()> {
    let mut errors = FieldErrors::new();
    for u in patient.unique() {
        if let Some(holder) = id_by(deps, tenant, u.field, &u.value).await? {
            if Some(holder) != except {
                errors.add(u.field, format!("The {} has already been taken.", validate::human(u.field)));
            }
        }
    }
    errors.into_result()
}

/// Registers a new patient with the next id (reservation create, seeding): the patient, its
/// number guards (422 "The whatsapp number has already been taken." / "The no bpjs has already
/// been taken.") and its name words in one atomic write, with an audit entry.
pub async fn register(deps: &Deps, tenant: &Tenant, actor: &Actor, form: &PatientForm) -> DomainResult<Stored<Patient>> {
    let patient = form.apply(None);
    numbers_taken(deps, tenant, &patient, None).await?;
    record::create(deps, tenant, actor, patient, |id| index_requirements(word_ops(tenant, id, None, &form.patient_name))).await
}

/// Replaces a patient's details (seed "Patient Update"). Numbers stay unique (422 "The whatsapp
/// number has already been taken."); the name index moves with the name.
pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, form: &PatientForm) -> DomainResult<Stored<Patient>> {
    numbers_taken(deps, tenant, &form.apply(None), Some(id)).await?;
    record::update::<Patient>(deps, tenant, actor, id, |current| {
        let new = form.apply(Some(&current.data));
        let reqs = index_requirements(word_ops(tenant, id, Some(&current.data.patient_name), &new.patient_name));
        Ok((new, reqs))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whatsapp_numbers_normalise_to_one_form() {
        for raw in ["081234567890", "+6281234567890", "6281234567890", "81234567890", "0812-3456-7890", "+62 812 3456 7890"] {
            assert_eq!(normalize_whatsapp(raw).as_deref(), Some("6281234567890"), "{raw}");
        }
        assert_eq!(normalize_whatsapp("+60123456789").as_deref(), Some("60123456789"));
        for bad in ["", "0812", "abc", "0812345678901234567", "08123x567890", "+081234567890"] {
            assert_eq!(normalize_whatsapp(bad), None, "{bad}");
        }
        assert_eq!(whatsapp_prefix("0812"), "62812");
    }

    #[test]
    fn a_form_needs_a_name_and_a_number() {
        let mut e = FieldErrors::new();
        let f = PatientForm::parse(&mut e, &json!({"patient_name": "Ahmad", "whatsapp_number": "0812 3456 7890", "no_bpjs": "0001234567890"})).unwrap();
        assert_eq!(f.whatsapp_number.as_deref(), Some("6281234567890"));
        let mut e = FieldErrors::new();
        assert!(PatientForm::parse(&mut e, &json!({"patient_name": "Ahmad", "no_bpjs": "0001234567890"})).is_some());
        let mut e = FieldErrors::new();
        assert!(PatientForm::parse(&mut e, &json!({"patient_name": " ", "no_bpjs": "12", "email": "x"})).is_none());
        assert_eq!(
            Value::Object(e.0),
            json!({"patient_name": ["The patient name field is required."], "no_bpjs": ["The no bpjs field must be 13 digits."],
                   "email": ["The email field must be a valid email address."]})
        );
        let mut e = FieldErrors::new();
        assert!(PatientForm::parse(&mut e, &json!({"patient_name": "A"})).is_none());
        assert_eq!(e.first(), "The whatsapp number field is required when no bpjs is not present.");
    }

    #[test]
    fn names_match_loosely_and_index_by_word() {
        assert!(same_name("ahmad  FAUZI ", "Ahmad Fauzi"));
        assert!(!same_name("Ahmad", "Ahmad Fauzi"));
        assert_eq!(name_words("Siti Nur-Aisyah siti"), BTreeSet::from(["aisyah".to_string(), "nur".into(), "siti".into()]));
    }
}
