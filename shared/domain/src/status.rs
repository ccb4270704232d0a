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
        if let Some(map) = from_items(deps.table.get_many(&workflow_keys(tenant), None).await?)? {
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
    record::update::<Status>(deps, tenant, actor, id, |current| {
        let code = &current.data.status_name;
        if is_workflow(code) && *code != new.status_name {
            return Err(FieldErrors::single(
                "status_name",
                format!("The status name of the workflow status {code} cannot be changed: the queue depends on it."),
            ));
        }
        Ok((new.clone(), vec![]))
    })
    .await
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

    #[test]
    fn the_workflow_is_seven_fixed_codes() {
        assert_eq!(WORKFLOW.len(), 7);
        assert!(is_workflow("WAITING") && is_workflow("CANCELLED") && !is_workflow("REGISTERED"));
    }
}
