//! Audit entries: who did what to which record, written in the same atomic write as the
//! change itself, so the trail can never disagree with the data.
use antrean_store::{Item, Op};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::clock::stamp;
use crate::tenant::Tenant;

/// Who is acting: a signed-in user, an API key (n8n), or the platform operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub api_key_id: Option<i64>,
    pub name: String,
    pub roles: Vec<String>,
}

impl Actor {
    pub fn system(name: &str) -> Actor {
        Actor { user_id: None, api_key_id: None, name: name.into(), roles: vec![] }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    Restore,
    /// An account locked after too many wrong passwords.
    Lock,
    /// An administrator lifted a lock.
    Unblock,
    /// A password reset with a one-time code.
    PasswordReset,
    /// A patient's personal data erased (UU PDP).
    Erase,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Restore => "restore",
            Action::Lock => "lock",
            Action::Unblock => "unblock",
            Action::PasswordReset => "password_reset",
            Action::Erase => "erase",
        }
    }
}

/// The partition of the audit entries of `at`'s UTC month: `T#<clinic>#AUDIT#<yyyy-mm>`, sorted
/// by time, so a report over a date range reads one Query (sort-key range) per month.
///
/// Clinics created before the monthly partitions have their older entries in one partition per
/// UTC day (`T#<clinic>#AUDIT#<yyyy-mm-dd>`); the report reads those too for them (see
/// [`MONTHLY`]).
pub fn partition_of(tenant: &Tenant, at: DateTime<Utc>) -> String {
    tenant.partition(&format!("AUDIT#{}", at.format("%Y-%m")))
}

/// The attribute of a clinic profile that says its audit trail was monthly from the start.
pub const MONTHLY: &str = "audit_monthly";

pub fn entry(tenant: &Tenant, actor: &Actor, action: Action, entity: &str, record_id: i64, at: DateTime<Utc>) -> Op {
    let ts = stamp(at);
    let item: Item = json!({
        "pk": partition_of(tenant, at),
        "sk": format!("{ts}#{}", uuid::Uuid::new_v4().simple()),
        "user_id": actor.user_id,
        "api_key_id": actor.api_key_id,
        "user_name": actor.name,
        "roles": actor.roles,
        "action": action.as_str(),
        "entity": entity,
        "record_id": record_id,
        "at": ts,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    Op::put(item)
}
