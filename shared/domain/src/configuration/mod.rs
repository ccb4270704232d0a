//! Configuration (seed "Configuration"): message templates, reminder configs, WhatsApp
//! configs, named configs (the clinic's timezone, the n8n webhook) and FAQ documents.
use serde_json::Value;

use crate::error::FieldErrors;
use crate::validate::human;

pub mod config;
pub mod faq;
pub mod message_template;
pub mod reminder_config;
pub mod settings;
pub mod whatsapp_config;

pub use config::{clinic_timezone, config_value};

/// A required integer in `min..=max` (`"30"` is accepted too, as form clients send strings).
/// `current` stands in when the field is absent (an update that leaves it as it was).
pub(crate) fn integer(errors: &mut FieldErrors, body: &Value, field: &str, min: i64, max: i64, current: Option<i64>) -> Option<i64> {
    let h = human(field);
    let n = match body.get(field) {
        None | Some(Value::Null) => {
            if current.is_none() {
                errors.add(field, format!("The {h} field is required."));
            }
            return current;
        }
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) if s.trim().is_empty() => {
            errors.add(field, format!("The {h} field is required."));
            return None;
        }
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match n {
        None => {
            errors.add(field, format!("The {h} field must be an integer."));
            None
        }
        Some(n) if n < min || n > max => {
            errors.add(field, format!("The {h} field must be between {min} and {max}."));
            None
        }
        Some(n) => Some(n),
    }
}

/// An absolute `http://` or `https://` URL with a host and no spaces.
pub fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let name = host.strip_prefix('[').map(|h| h.split(']').next().unwrap_or("")).unwrap_or_else(|| host.split(':').next().unwrap_or(""));
    !name.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && !name.starts_with('.')
        && !name.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls() {
        for ok in ["https://waha.example.com/api/send", "http://127.0.0.1:3000/x?y=1", "https://n8n.local", "http://[::1]:8080/"] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in ["", "waha.example.com", "ftp://x.y", "https://", "https:///path", "https://exa mple.com", "javascript:alert(1)", "https://.x"] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
