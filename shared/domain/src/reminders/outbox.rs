//! WhatsApp messages the product itself asks n8n to send (today: password-recovery codes).
//! They come out of the same due list as the reminders, as `reminder_type` `PASSWORD_RESET`
//! with id `RESET-<user id>`, and are claimed and marked sent the same way. Marking one sent
//! deletes it, so the code it carries does not stay in the table; it also expires with the
//! code (TTL).
//!
//! Keys: `T#<clinic>#WA_OUTBOX` / `<user id, 12>`: one pending message per account (a new
//! request replaces the old one).
use antrean_store::{Cmp, Condition, Item, Key, Op, Query, SortKey, StoreError, Update};
use serde_json::{json, Value};

use crate::error::{DomainError, DomainResult};
use crate::tenant::{id_key, Tenant};
use crate::Deps;

pub const PREFIX: &str = "RESET-";

fn key(tenant: &Tenant, user_id: i64) -> Key {
    Key::new(tenant.partition("WA_OUTBOX"), id_key(user_id))
}

/// A message waiting for n8n.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub user_id: i64,
    pub name: String,
    pub whatsapp_number: String,
    pub message: String,
    pub claimed_until_ms: Option<i64>,
}

/// The put of a message for one account, for the caller's own atomic write.
pub fn put_op(tenant: &Tenant, p: &Pending, expires_at: i64) -> Op {
    let k = key(tenant, p.user_id);
    let item: Item = json!({
        "pk": k.pk, "sk": k.sk, "user_id": p.user_id, "name": p.name, "whatsapp_number": p.whatsapp_number,
        "message": p.message, antrean_store::TTL_ATTRIBUTE: expires_at,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    Op::put(item)
}

pub fn delete_op(tenant: &Tenant, user_id: i64) -> Op {
    Op::delete(key(tenant, user_id))
}

/// The messages not yet sent nor expired (one Query).
pub async fn pending(deps: &Deps, tenant: &Tenant) -> DomainResult<Vec<Pending>> {
    let now = deps.clock.now().timestamp();
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(tenant.partition("WA_OUTBOX")).sort(SortKey::Any)).await?;
    Ok(items
        .iter()
        .filter(|i| !antrean_store::is_expired(i, now))
        .filter_map(|i| {
            let s = |k: &str| i.get(k).and_then(Value::as_str).map(str::to_string);
            Some(Pending {
                user_id: i.get("user_id")?.as_i64()?,
                name: s("name").unwrap_or_default(),
                whatsapp_number: s("whatsapp_number")?,
                message: s("message")?,
                claimed_until_ms: i.get("claimed_until_ms").and_then(Value::as_i64),
            })
        })
        .collect())
}

fn user_of(raw: &str) -> Option<i64> {
    raw.strip_prefix(PREFIX)?.parse::<i64>().ok().filter(|n| *n > 0)
}

pub fn is_outbox_id(raw: &str) -> bool {
    raw.starts_with(PREFIX)
}

/// Claims the message for ten minutes; `Conflict` when it is gone (sent) or held by another run.
pub async fn claim(deps: &Deps, tenant: &Tenant, raw: &str, until_ms: i64) -> DomainResult<()> {
    let user = user_of(raw).ok_or_else(|| DomainError::NotFound(super::NOT_FOUND.into()))?;
    let now_ms = deps.clock.now().timestamp_millis();
    let free = Condition::And(vec![
        Condition::Exists,
        Condition::Or(vec![Condition::attr_not_exists("claimed_until_ms"), Condition::compare("claimed_until_ms", Cmp::Lt, now_ms)]),
    ]);
    match deps.table.write(vec![Op::update_if(key(tenant, user), Update::new().set("claimed_until_ms", until_ms), free)]).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(DomainError::Conflict("The reminder is already sent or being sent by another run.".into())),
        Err(e) => Err(e.into()),
    }
}

/// Marks it sent by deleting it: `Ok(false)` when it was already gone.
pub async fn mark_sent(deps: &Deps, tenant: &Tenant, raw: &str) -> DomainResult<bool> {
    let user = user_of(raw).ok_or_else(|| DomainError::NotFound(super::NOT_FOUND.into()))?;
    match deps.table.write(vec![Op::delete_if(key(tenant, user), Condition::Exists)]).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
