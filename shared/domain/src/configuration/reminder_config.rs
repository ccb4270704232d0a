//! Reminder configs: when n8n should send which message template. `QUEUE` reminders go out
//! when a patient is `reminder_patient_count` places from being called; `TIME` reminders
//! `reminder_offset` minutes before the estimated time (`SCHEDULE`, the earlier name, means the
//! same); `CHECKUP` reminders the day before a check-up schedule (H-1). See `reminders`.
//!
//! Each config uses one message template. The link is checked in the same write that makes
//! it (the template must exist), and counted in the template's reference item so the
//! template cannot be deleted while used (see `message_template`).
use antrean_store::{Condition, Op, StoreError, Update};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::integer;
use super::message_template::{self, refs_key, MessageTemplate};
use crate::audit::{self, Action, Actor};
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{self, record_key, Record, Requirement, Stored};
use crate::tenant::Tenant;
use crate::validate::as_id;
use crate::Deps;

pub const REMINDER_TYPES: &[&str] = &["QUEUE", "TIME", "CHECKUP", "SCHEDULE"];
/// A week, in minutes.
pub const MAX_OFFSET_MINUTES: i64 = 10_080;
pub const MAX_PATIENT_COUNT: i64 = 100;

const INVALID_TEMPLATE: &str = "The selected message template id is invalid.";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReminderConfig {
    pub message_template_id: i64,
    pub reminder_offset: i64,
    pub reminder_patient_count: i64,
    pub reminder_type: String,
}

impl Record for ReminderConfig {
    const KIND: &'static str = "REMINDER_CONFIG";
    const LABEL: &'static str = "Reminder config";
}

/// A checked create or update body. On update an absent field keeps its current value.
#[derive(Debug, Clone, PartialEq)]
pub struct ReminderForm {
    message_template_id: Option<i64>,
    reminder_offset: Option<i64>,
    reminder_patient_count: Option<i64>,
    reminder_type: Option<String>,
}

impl ReminderForm {
    /// Every rule at once, in the seed's field order; `editing` is the current config on update.
    pub async fn parse(deps: &Deps, tenant: &Tenant, body: &Value, editing: Option<&ReminderConfig>) -> DomainResult<ReminderForm> {
        let mut errors = FieldErrors::new();
        let message_template_id = match body.get("message_template_id") {
            None | Some(Value::Null) if editing.is_some() => None,
            None | Some(Value::Null) => {
                errors.add("message_template_id", "The message template id field is required.");
                None
            }
            Some(v) => match as_id(v) {
                Some(id) if message_template::find(deps, tenant, id).await?.is_some() => Some(id),
                Some(_) => {
                    errors.add("message_template_id", INVALID_TEMPLATE);
                    None
                }
                None => {
                    errors.add("message_template_id", "The message template id field must be an integer.");
                    None
                }
            },
        };
        let reminder_offset = integer(&mut errors, body, "reminder_offset", 0, MAX_OFFSET_MINUTES, editing.map(|c| c.reminder_offset));
        let reminder_patient_count =
            integer(&mut errors, body, "reminder_patient_count", 0, MAX_PATIENT_COUNT, editing.map(|c| c.reminder_patient_count));
        let reminder_type = match body.get("reminder_type") {
            None | Some(Value::Null) if editing.is_some() => None,
            None | Some(Value::Null) => {
                errors.add("reminder_type", "The reminder type field is required.");
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                errors.add("reminder_type", "The reminder type field is required.");
                None
            }
            Some(Value::String(s)) if REMINDER_TYPES.contains(&s.trim().to_uppercase().as_str()) => Some(s.trim().to_uppercase()),
            Some(_) => {
                errors.add("reminder_type", format!("The selected reminder type is invalid (one of {}).", REMINDER_TYPES.join(", ")));
                None
            }
        };
        errors.into_result()?;
        Ok(ReminderForm { message_template_id, reminder_offset, reminder_patient_count, reminder_type })
    }

    fn apply(&self, current: Option<&ReminderConfig>) -> ReminderConfig {
        ReminderConfig {
            message_template_id: self.message_template_id.or(current.map(|c| c.message_template_id)).unwrap_or_default(),
            reminder_offset: self.reminder_offset.or(current.map(|c| c.reminder_offset)).unwrap_or_default(),
            reminder_patient_count: self.reminder_patient_count.or(current.map(|c| c.reminder_patient_count)).unwrap_or_default(),
            reminder_type: self.reminder_type.clone().or(current.map(|c| c.reminder_type.clone())).unwrap_or_default(),
        }
    }
}

/// The template exists at the moment of the write (it may have been deleted since the form
/// was checked).
fn template_exists(tenant: &Tenant, id: i64) -> Requirement {
    Requirement {
        op: Op::check(record_key::<MessageTemplate>(tenant, id), Condition::Exists),
        error: FieldErrors::single("message_template_id", INVALID_TEMPLATE),
    }
}

fn count_use(tenant: &Tenant, template_id: i64, by: i64) -> Requirement {
    Requirement {
        op: Op::update(refs_key(tenant, template_id), Update::new().add("n", by)),
        error: DomainError::Internal("unconditional reference count update failed".into()),
    }
}

pub async fn create(deps: &Deps, tenant: &Tenant, actor: &Actor, form: ReminderForm) -> DomainResult<Stored<ReminderConfig>> {
    let data = form.apply(None);
    let template = data.message_template_id;
    record::create(deps, tenant, actor, data, |_| vec![template_exists(tenant, template), count_use(tenant, template, 1)]).await
}

pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, form: ReminderForm) -> DomainResult<Stored<ReminderConfig>> {
    record::update::<ReminderConfig>(deps, tenant, actor, id, |current| {
        let data = form.apply(Some(&current.data));
        let (old, new) = (current.data.message_template_id, data.message_template_id);
        let mut reqs = vec![template_exists(tenant, new)];
        if old != new {
            reqs.push(count_use(tenant, new, 1));
            reqs.push(count_use(tenant, old, -1));
        }
        Ok((data, reqs))
    })
    .await
}

/// Hard delete; the template's use count drops in the same write.
pub async fn delete(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, not_found: &str) -> DomainResult<()> {
    for _ in 0..20 {
        let Some(current) = record::get::<ReminderConfig>(deps, tenant, id).await? else {
            return Err(DomainError::NotFound(not_found.to_string()));
        };
        let template = current.data.message_template_id;
        let now = deps.clock.now();
        let ops = vec![
            // Still pointing at the template we uncount (an update may have moved it).
            Op::delete_if(record_key::<ReminderConfig>(tenant, id), Condition::equals("message_template_id", template)),
            count_use(tenant, template, -1).op,
            audit::entry(tenant, actor, Action::Delete, ReminderConfig::KIND, id, now),
        ];
        match deps.table.write(ops).await {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
                tokio::time::sleep(std::time::Duration::from_millis(2 + rand::random::<u64>() % 10)).await
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict("The reminder config is being changed by someone else; try again.".into()))
}

/// Every reminder config of the clinic, in id order (one partition: it stays small).
pub async fn list(deps: &Deps, tenant: &Tenant) -> DomainResult<Vec<Stored<ReminderConfig>>> {
    record::list::<ReminderConfig>(deps, tenant, false).await
}
