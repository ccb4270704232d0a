//! Queue statuses. Their codes (`status_name`) are what the queue engine keys on; labels and
//! information are the clinic's to edit. Seeded with every clinic, ids 1..7 in workflow order.
use std::collections::HashMap;

use antrean_store::{Item, Key, Op};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::Actor;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{self, Record, Stored, Unique};
use crate::tenant::Tenant;
use crate::{request_cache, validate, Deps};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Status {
    pub status_name: String,
    pub label: String,
    pub information: Option<String>,
}

impl Record for Status {
    const KIND: &'static str = "STATUS";
    const LABEL: &'static str = "Status";
    fn unique(&self) -> Vec<Unique> {
        vec![Unique::new("status_name", &self.status_name)]
    }
}

/// The workflow's codes, in order, with the clinic-facing defaults.
pub const WORKFLOW: &[(&str, &str, &str)] = &[
    ("WAITING", "Menunggu", "Menunggu dipanggil anamnesa"),
    ("ANAMNESA", "Anamnesa", "Sedang pemeriksaan oleh perawat"),
    ("WAITING_DOCTOR", "Menunggu Dokter", "Menunggu dipanggil dokter"),
    ("WITH_DOCTOR", "Dengan Dokter", "Sedang konsultasi dengan dokter"),
    ("DONE", "Selesai", "Selesai, bisa ambil obat/pulang"),
    ("NO_SHOW", "Tidak Hadir", "Tidak datang saat dipanggil"),
    ("CANCELLED", "Dibatalkan", "Batal oleh pasien atau admin"),
];

pub fn defaults() -> Vec<Status> {
    WORKFLOW
        .iter()
        .map(|(code, label, info)| Status { status_name: (*code).into(), label: (*label).into(), information: Some((*info).into()) })
        .collect()
}

pub fn seed_ops(tenant: &Tenant, ts: &str) -> Vec<Op> {
    record::seed_ops(tenant, defaults(), ts).expect("the default statuses serialise")
}

/// The clinic's profile carries a copy of the workflow statuses once it has this: every
/// request reads the profile with its session (or API key) anyway, so a move or a list then
/// reads no status item (seven read units a call otherwise). Each copy is `st_<id>`, the
/// record's item without its key. A workflow status can be neither trashed nor recoded, so
/// [`update`] is the one change that rewrites a copy, in the status's own atomic write.
pub const SYNCED: &str = "statuses_synced";

fn copy_attr(id: i64) -> String {
    format!("st_{id}")
}

/// A status's copy: its item without the key and the version (the copy is never written on
/// condition of it).
fn copy_of(item: &Item) -> Value {
    Value::Object(item.iter().filter(|(k, _)| !["pk", "sk", record::VERSION].contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// The attributes a new clinic's profile starts with: the copy of the statuses
/// [`seed_ops`] writes, and [`SYNCED`].
pub fn profile_copy(tenant: &Tenant, seeded: &[Op]) -> Vec<(String, Value)> {
    let wanted = workflow_keys(tenant);
    let mut out: Vec<(String, Value)> = seeded
        .iter()
        .filter_map(|op| match op {
            Op::Put { item, .. } => wanted.iter().position(|k| Key::of(item).as_ref() == Some(k)).map(|i| (copy_attr(i as i64 + 1), copy_of(item))),
            _ => None,
        })
        .collect();
    if out.len() == WORKFLOW.len() {
        out.push((SYNCED.into(), Value::Bool(true)));
    }
    out
}

/// The op that rewrites a workflow status's copy on the profile, for the status's own write;
/// none for other statuses or a profile that keeps no copies (it then keeps reading them).
fn copy_op(synced: bool, tenant: &Tenant, stored: &Stored<Status>) -> DomainResult<Vec<Op>> {
    if !synced || !(1..=WORKFLOW.len() as i64).contains(&stored.id) {
        return Ok(vec![]);
    }
    let copy = copy_of(&record::item_of(tenant, stored, 0)?);
    Ok(vec![Op::update(crate::clinic::profile_key(tenant), antrean_store::Update::new().set(&copy_attr(stored.id), copy))])
}

/// A clinic created before the profile kept the statuses gets the copy once, from the items
/// just read: written only if none of them changed meanwhile (each checked at the version
/// read). Should that fail, the next request tries again; nothing else depends on it.
async fn copy_to_profile(deps: &Deps, tenant: &Tenant, items: &[Option<Item>]) {
    let mut ops = Vec::new();
    let mut update = antrean_store::Update::new().set(SYNCED, true);
    for (key, item) in workflow_keys(tenant).into_iter().zip(items.iter().flatten()) {
        let Some(id) = item.get("id").and_then(Value::as_i64) else { return };
        let version = item.get(record::VERSION).and_then(Value::as_i64).unwrap_or(0);
        update = update.set(&copy_attr(id), copy_of(item));
        ops.push(Op::check(key, antrean_store::Condition::equals(record::VERSION, version)));
    }
    ops.push(Op::update_if(crate::clinic::profile_key(tenant), update, antrean_store::Condition::Exists));
    if let Err(e) = deps.table.write(ops).await {
        tracing::debug!(clinic = tenant.slug(), error = %e, "the statuses were not copied to the profile this time");
    }
}

/// The workflow statuses a profile item carries, if it carries them ([`SYNCED`]).
fn from_profile(profile: Option<&Item>) -> DomainResult<Option<HashMap<i64, Stored<Status>>>> {
    let Some(p) = profile.filter(|p| synced(p)) else { return Ok(None) };
    let items = (1..=WORKFLOW.len() as i64).map(|id| p.get(&copy_attr(id)).and_then(Value::as_object).cloned());
    from_items(items)
}

/// Keeps the statuses a profile item read by this request carries (the authentication batch
/// reads it) for the rest of the request.
pub fn take_from_profile(tenant: &Tenant, profile: Option<&Item>) {
    match from_profile(profile) {
        Ok(Some(map)) => request_cache::prime(&cache_name(tenant), map),
        Ok(None) => {}
        Err(e) => tracing::warn!(clinic = tenant.slug(), error = %e, "the profile's copy of the statuses is unreadable; reading the statuses"),
    }
}

/// The keys of the workflow statuses: ids 1..7, as every clinic is seeded.
pub fn workflow_keys(tenant: &Tenant) -> Vec<Key> {
    (1..=WORKFLOW.len() as i64).map(|id| record::record_key::<Status>(tenant, id)).collect()
}

fn cache_name(tenant: &Tenant) -> String {
    format!("statuses:{}", tenant.slug())
}

/// The workflow statuses by id from a batch read of [`workflow_keys`] (live and trashed: old
/// reservations keep theirs); `None` when one is missing (then read them with [`workflow`]).
fn from_items(items: impl IntoIterator<Item = Option<Item>>) -> DomainResult<Option<HashMap<i64, Stored<Status>>>> {
    let mut out = HashMap::new();
    for item in items {
        let Some(item) = item else { return Ok(None) };
        let s: Stored<Status> = record::decode(item)?;
        out.insert(s.id, s);
    }
    Ok(Some(out))
}

/// Keeps the statuses a batch read of [`workflow_keys`] brought for the rest of the request.
pub fn take_from_batch(tenant: &Tenant, items: Vec<Option<Item>>) -> DomainResult<()> {
    if let Some(map) = from_items(items)? {
        request_cache::prime(&cache_name(tenant), map);
    }
    Ok(())
}

/// Whether this request already has the statuses (a batch read need not fetch them again).
pub fn known(tenant: &Tenant) -> bool {
    request_cache::has(&cache_name(tenant))
}

/// The clinic's workflow statuses by id: one batch read, once per request. Reservations only
/// ever hold these (the engine sets them by code).
pub async fn workflow(deps: &Deps, tenant: &Tenant) -> DomainResult<HashMap<i64, Stored<Status>>> {
    request_cache::memo(&cache_name(tenant), async {
        let profile = deps.table.get(&crate::clinic::profile_key(tenant)).await?;
        if let Some(map) = from_profile(profile.as_ref())? {
            return Ok(map);
        }
        let items = deps.table.get_many(&workflow_keys(tenant), None).await?;
        if let Some(map) = from_items(items.clone())? {
            if profile.is_some() {
                copy_to_profile(deps, tenant, &items).await;
            }
            return Ok(map);
        }
        // A clinic seeded otherwise: every status it has.
        Ok(record::list_all::<Status>(deps, tenant).await?.into_iter().map(|s| (s.id, s)).collect())
    })
    .await
}

/// The live status with a workflow code (`WAITING` …).
pub fn status_by_code<'a>(statuses: &'a HashMap<i64, Stored<Status>>, code: &str) -> DomainResult<&'a Stored<Status>> {
    statuses
        .values()
        .filter(|s| !s.is_trashed() && s.data.status_name.eq_ignore_ascii_case(code))
        .min_by_key(|s| s.id)
        .ok_or_else(|| DomainError::Internal(format!("the clinic has no live {code} status")))
}

/// True for the codes the queue engine keys on.
pub fn is_workflow(code: &str) -> bool {
    WORKFLOW.iter().any(|(c, _, _)| *c == code)
}

impl Status {
    /// `{"status_name": "REGISTERED", "label": "Terdaftar", "information": "Sudah daftar"}`:
    /// the code is required (≤ 50, stored upper-case), the label required (≤ 255), the
    /// information optional (≤ 1000).
    pub fn parse(body: &Value) -> DomainResult<Status> {
        let mut errors = FieldErrors::new();
        let status_name = validate::required_string(&mut errors, body, "status_name", 50);
        let label = validate::required_string(&mut errors, body, "label", 255);
        let information = validate::optional_string(&mut errors, body, "information", 1000);
        errors.into_result()?;
        Ok(Status { status_name: status_name.unwrap().to_uppercase(), label: label.unwrap(), information })
    }

    /// Case-insensitive part of the code or the label.
    pub fn matches(&self, needle: &str) -> bool {
        self.status_name.to_lowercase().contains(needle) || self.label.to_lowercase().contains(needle)
    }
}

/// Replaces a status's fields. A workflow status keeps its code (422 on a change): only its
/// label and information are the clinic's to edit.
pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, new: Status) -> DomainResult<Stored<Status>> {
    let synced = profile_synced(deps, tenant).await?;
    let change = |current: &Stored<Status>| {
        let code = &current.data.status_name;
        if is_workflow(code) && *code != new.status_name {
            return Err(FieldErrors::single(
                "status_name",
                format!("The status name of the workflow status {code} cannot be changed: the queue depends on it."),
            ));
        }
        Ok((new.clone(), vec![]))
    };
    record::update_with::<Status>(deps, tenant, actor, id, change, |stored| copy_op(synced, tenant, stored)).await
}

/// Whether the clinic's profile keeps copies of the statuses (a flag that, once set, stays).
async fn profile_synced(deps: &Deps, tenant: &Tenant) -> DomainResult<bool> {
    Ok(deps.table.get(&crate::clinic::profile_key(tenant)).await?.is_some_and(|p| synced(&p)))
}

fn synced(profile: &Item) -> bool {
    profile.get(SYNCED).and_then(Value::as_bool) == Some(true)
}

/// Soft delete; a workflow status is refused (409). Workflow codes never change and are
/// never freed, so checking the code read here is as good as checking it in the write.
pub async fn trash(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    let current = record::find::<Status>(deps, tenant, id).await?;
    if is_workflow(&current.data.status_name) {
        return Err(DomainError::Conflict(format!(
            "The workflow status {} cannot be deleted: the queue depends on it.",
            current.data.status_name
        )));
    }
    record::trash::<Status>(deps, tenant, actor, id, vec![]).await
}

/// Live (or trashed) statuses matching `search` (code or label), by id.
pub async fn list(deps: &Deps, tenant: &Tenant, trashed: bool, search: Option<&str>) -> DomainResult<Vec<Stored<Status>>> {
    let needle = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let mut out: Vec<Stored<Status>> = record::list::<Status>(deps, tenant, trashed)
        .await?
        .into_iter()
        .filter(|s| needle.as_deref().is_none_or(|n| s.data.matches(n)))
        .collect();
    out.sort_by_key(|s| s.id);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_are_upper_cased_and_information_is_optional() {
        let s = Status::parse(&json!({"status_name": " registered ", "label": "Terdaftar"})).unwrap();
        assert_eq!(s, Status { status_name: "REGISTERED".into(), label: "Terdaftar".into(), information: None });
        match Status::parse(&json!({"label": 3})) {
            Err(DomainError::Validation(e)) => assert_eq!(
                Value::Object(e.0),
                json!({"status_name": ["The status name field is required."], "label": ["The label field must be a string."]})
            ),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_older_clinic_gets_the_copy_once_and_edits_keep_it_right() {
        use std::sync::Arc;

        let dir = tempfile::tempdir().unwrap();
        let deps = crate::test_deps(dir.path(), Arc::new(crate::SystemClock));
        let t = Tenant::parse("klinik-lama").unwrap();
        // A clinic from before: its statuses, and a profile without their copy.
        let key = crate::clinic::profile_key(&t);
        let profile: Item = json!({"pk": key.pk, "sk": key.sk, "name": "Klinik Lama"}).as_object().unwrap().clone();
        let mut ops = seed_ops(&t, "2025-01-01T00:00:00.000000Z");
        ops.push(Op::put_new(profile));
        deps.table.write(ops).await.unwrap();
        let read = request_cache::scope(workflow(&deps, &t)).await.unwrap();
        assert_eq!(read.len(), 7);
        let profile = deps.table.get(&key).await.unwrap().unwrap();
        assert_eq!(from_profile(Some(&profile)).unwrap(), Some(read.clone()), "the first read left the copy on the profile");
        // An edit of a workflow status rewrites its copy in the same write.
        let edited = Status { status_name: "ANAMNESA".into(), label: "Dipanggil Perawat".into(), information: None };
        let stored = update(&deps, &t, &Actor::system("test"), 2, edited).await.unwrap();
        let profile = deps.table.get(&key).await.unwrap().unwrap();
        let copies = from_profile(Some(&profile)).unwrap().unwrap();
        assert_eq!(copies[&2], stored);
        assert_eq!(copies[&2], record::find::<Status>(&deps, &t, 2).await.unwrap());
        assert_eq!(copies[&1], read[&1], "the others are as they were");
    }

    #[test]
    fn the_workflow_is_seven_fixed_codes() {
        assert_eq!(WORKFLOW.len(), 7);
        assert!(is_workflow("WAITING") && is_workflow("CANCELLED") && !is_workflow("REGISTERED"));
    }
}
