//! The access log of a patient's record: one item per read, export or erasure, kept in the
//! patient's own partition `T#<clinic>#PATIENT_ACCESS#<id>` / `<time>#<uuid>` so the admin reads it
//! with one Query. It names staff and times only, so it outlives an erasure (the clinic must be
//! able to show who saw the data before it was erased).
use antrean_store::{Item, Key, Op, Query, SortKey};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::audit::Actor;
use crate::clock::stamp;
use crate::error::DomainResult;
use crate::tenant::{id_key, Tenant};
use crate::Deps;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// The record was shown (`GET /api/patients/{id}`).
    Read,
    /// Everything about the patient was exported.
    Export,
    /// The patient's personal data was erased.
    Erase,
}

impl Access {
    fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Export => "export",
            Access::Erase => "erase",
        }
    }
}

/// One entry of the log, as `GET /api/patients/{id}/access-log` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AccessEntry {
    pub at: String,
    /// `read`, `export` or `erase`.
    pub action: String,
    pub user_id: Option<i64>,
    /// Set when an API key (an integration) did it.
    pub api_key_id: Option<i64>,
    pub user_name: String,
}

fn partition(tenant: &Tenant, patient_id: i64) -> String {
    tenant.partition(&format!("PATIENT_ACCESS#{}", id_key(patient_id)))
}

/// The log entry, for the caller's own write.
pub fn entry_op(tenant: &Tenant, actor: &Actor, patient_id: i64, what: Access, at: DateTime<Utc>) -> Op {
    let ts = stamp(at);
    let key = Key::new(partition(tenant, patient_id), format!("{ts}#{}", uuid::Uuid::new_v4().simple()));
    let item: Item = json!({
        "pk": key.pk, "sk": key.sk, "patient_id": patient_id, "action": what.as_str(), "at": ts,
        "user_id": actor.user_id, "api_key_id": actor.api_key_id, "user_name": actor.name,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    Op::put(item)
}

/// Logs one access now (a single PutItem).
pub async fn record(deps: &Deps, tenant: &Tenant, actor: &Actor, patient_id: i64, what: Access) -> DomainResult<()> {
    deps.table.write(vec![entry_op(tenant, actor, patient_id, what, deps.clock.now())]).await?;
    Ok(())
}

/// The log, newest first (one Query).
pub async fn list(deps: &Deps, tenant: &Tenant, patient_id: i64) -> DomainResult<Vec<AccessEntry>> {
    let q = Query::partition(partition(tenant, patient_id)).sort(SortKey::Any).descending();
    let items = antrean_store::query_all(deps.table.as_ref(), q).await?;
    Ok(items
        .into_iter()
        .map(|i| {
            let s = |f: &str| i.get(f).and_then(Value::as_str).unwrap_or_default().to_string();
            AccessEntry { at: s("at"), action: s("action"), user_id: i.get("user_id").and_then(Value::as_i64), api_key_id: i.get("api_key_id").and_then(Value::as_i64), user_name: s("user_name") }
        })
        .collect())
}
