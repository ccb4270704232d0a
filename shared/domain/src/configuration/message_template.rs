//! Message templates: the WhatsApp texts reminders send, with placeholders the product fills
//! in (`{{patient_name}}`, …). A placeholder the product does not know is refused when the
//! template is saved, not discovered when a patient gets a message with braces in it.
//!
//! A template that a reminder config uses cannot be deleted: reminder configs count their
//! uses in a reference item (`T#<clinic>#REFS#MESSAGE_TEMPLATE` / `<id>`) in the same write
//! that links or unlinks them, and a delete requires that count to be zero in its own write.
use antrean_store::{Condition, Key, Op, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{self, Action, Actor};
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{self, record_key, Record};
use crate::tenant::{id_key, Tenant};
use crate::{validate, Deps};

/// The placeholders the product fills in, in the order the error message lists them.
pub const PLACEHOLDERS: &[&str] = &["patient_name", "queue_number", "poly", "date", "doctor", "estimated_time", "ticket_url"];

pub const MAX_MESSAGE_CHARS: usize = 4096;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MessageTemplate {
    pub template_name: String,
    pub message: String,
}

impl Record for MessageTemplate {
    const KIND: &'static str = "MESSAGE_TEMPLATE";
    const LABEL: &'static str = "Message template";
}

/// The `{{…}}` names in a message (inner spaces ignored), and whether a `{{` is never closed.
fn placeholders(message: &str) -> (Vec<&str>, bool) {
    let mut names = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                names.push(after[..end].trim());
                rest = &after[end + 2..];
            }
            None => return (names, true),
        }
    }
    (names, false)
}

fn known_list() -> String {
    PLACEHOLDERS.iter().map(|p| format!("{{{{{p}}}}}")).collect::<Vec<_>>().join(", ")
}

impl MessageTemplate {
    /// `{"template_name": "Reminder H-1", "message": "Dear {{patient_name}}, …"}`.
    pub fn parse(body: &Value) -> DomainResult<MessageTemplate> {
        let mut errors = FieldErrors::new();
        let template_name = validate::required_string(&mut errors, body, "template_name", 255);
        let message = validate::required_string(&mut errors, body, "message", MAX_MESSAGE_CHARS);
        if let Some(m) = &message {
            let (names, unclosed) = placeholders(m);
            let mut unknown: Vec<String> = Vec::new();
            for n in names {
                let shown = format!("{{{{{n}}}}}");
                if !PLACEHOLDERS.contains(&n) && !unknown.contains(&shown) {
                    unknown.push(shown);
                }
            }
            match unknown.len() {
                0 => {}
                1 => errors.add("message", format!("The message field contains an unknown placeholder: {}. Known placeholders: {}.", unknown[0], known_list())),
                _ => errors.add("message", format!("The message field contains unknown placeholders: {}. Known placeholders: {}.", unknown.join(", "), known_list())),
            }
            if unclosed {
                errors.add("message", "The message field has a placeholder opened with {{ that is never closed with }}.");
            }
        }
        errors.into_result()?;
        Ok(MessageTemplate { template_name: template_name.unwrap_or_default(), message: message.unwrap_or_default() })
    }

    /// The message with its placeholders filled in; a placeholder without a value is left
    /// empty rather than shown to a patient as `{{…}}`.
    pub fn render(&self, values: &[(&str, &str)]) -> String {
        let mut out = String::with_capacity(self.message.len());
        let mut rest = self.message.as_str();
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            out.push_str(&rest[..start]);
            let name = after[..end].trim();
            if let Some((_, v)) = values.iter().find(|(k, _)| *k == name) {
                out.push_str(v);
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

/// The item counting how many reminder configs use template `id`.
pub(crate) fn refs_key(tenant: &Tenant, id: i64) -> Key {
    Key::new(tenant.partition("REFS#MESSAGE_TEMPLATE"), id_key(id))
}

/// Hard delete, refused (409) while a reminder config uses the template.
pub async fn delete(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, not_found: &str) -> DomainResult<()> {
    let now = deps.clock.now();
    let ops = vec![
        Op::delete_if(record_key::<MessageTemplate>(tenant, id), Condition::Exists),
        // Checks "no uses" and tidies the count away in one operation.
        Op::delete_if(refs_key(tenant, id), Condition::Or(vec![Condition::attr_not_exists("n"), Condition::equals("n", 0)])),
        audit::entry(tenant, actor, Action::Delete, MessageTemplate::KIND, id, now),
    ];
    match deps.table.write(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { index: 0 }) => Err(DomainError::NotFound(not_found.to_string())),
        Err(StoreError::ConditionFailed { .. }) => {
            Err(DomainError::Conflict("The message template is used by a reminder config; change or delete that reminder config first.".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Reads a template (no trash here: a stored template is live).
pub async fn find(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Option<record::Stored<MessageTemplate>>> {
    record::get::<MessageTemplate>(deps, tenant, id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message_error(body: Value) -> String {
        match MessageTemplate::parse(&body) {
            Err(DomainError::Validation(e)) => e.0["message"][0].as_str().unwrap().to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn known_placeholders_pass_and_unknown_ones_are_named() {
        let t = MessageTemplate::parse(&json!({"template_name": "H-1", "message": "Dear {{patient_name}}, no {{ queue_number }} at {{poly}} on {{date}} with {{doctor}} ~{{estimated_time}}"})).unwrap();
        assert_eq!(t.template_name, "H-1");
        let e = message_error(json!({"template_name": "x", "message": "Hi {{name}} {{patient_name}} {{name}}"}));
        assert!(e.starts_with("The message field contains an unknown placeholder: {{name}}. Known placeholders: {{patient_name}}, {{queue_number}}"), "{e}");
        let e = message_error(json!({"template_name": "x", "message": "{{a}} {{b}}"}));
        assert!(e.starts_with("The message field contains unknown placeholders: {{a}}, {{b}}."), "{e}");
        assert!(message_error(json!({"template_name": "x", "message": "Hi {{patient_name"})).contains("never closed"));
    }

    #[test]
    fn renders_values_and_blanks_missing_ones() {
        let t = MessageTemplate { template_name: "x".into(), message: "Dear {{patient_name}}, #{{ queue_number }} {{doctor}}.".into() };
        assert_eq!(t.render(&[("patient_name", "Budi"), ("queue_number", "A-003")]), "Dear Budi, #A-003 .");
    }
}
