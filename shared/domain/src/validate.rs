//! Laravel-style field rules, so messages read exactly as the seed's clients expect.
use chrono::NaiveDate;
use serde_json::Value;

use crate::error::FieldErrors;

/// A required string field: present, a string, not blank, at most `max` characters.
/// Returns the trimmed value when valid.
pub fn required_string(errors: &mut FieldErrors, body: &Value, field: &str, max: usize) -> Option<String> {
    match body.get(field) {
        None | Some(Value::Null) => {
            errors.add(field, format!("The {} field is required.", human(field)));
            None
        }
        Some(v) => string_rule(errors, field, v, max, true),
    }
}

/// An optional string: absent or null gives `None`; otherwise the same rules as required.
pub fn optional_string(errors: &mut FieldErrors, body: &Value, field: &str, max: usize) -> Option<String> {
    match body.get(field) {
        None | Some(Value::Null) => None,
        Some(v) => string_rule(errors, field, v, max, false),
    }
}

fn string_rule(errors: &mut FieldErrors, field: &str, v: &Value, max: usize, required: bool) -> Option<String> {
    let Some(s) = v.as_str() else {
        errors.add(field, format!("The {} field must be a string.", human(field)));
        return None;
    };
    let s = s.trim();
    if s.is_empty() {
        if required {
            errors.add(field, format!("The {} field is required.", human(field)));
        }
        return None;
    }
    if s.chars().count() > max {
        errors.add(field, format!("The {} field must not be greater than {max} characters.", human(field)));
        return None;
    }
    Some(s.to_string())
}

/// An optional integer id (`"7"` is accepted too, as the seed's examples send strings).
pub fn optional_id(errors: &mut FieldErrors, body: &Value, field: &str) -> Option<Option<i64>> {
    match body.get(field) {
        None | Some(Value::Null) => Some(None),
        Some(v) => match as_id(v) {
            Some(id) => Some(Some(id)),
            None => {
                errors.add(field, format!("The {} field must be an integer.", human(field)));
                None
            }
        },
    }
}

pub fn as_id(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().filter(|i| *i > 0),
        Value::String(s) => s.trim().parse::<i64>().ok().filter(|i| *i > 0),
        _ => None,
    }
}

/// A `YYYY-MM-DD` date field (required).
pub fn required_date(errors: &mut FieldErrors, body: &Value, field: &str) -> Option<NaiveDate> {
    match body.get(field) {
        None | Some(Value::Null) => {
            errors.add(field, format!("The {} field is required.", human(field)));
            None
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            errors.add(field, format!("The {} field is required.", human(field)));
            None
        }
        Some(Value::String(s)) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(d) if s.trim().len() == 10 => Some(d),
            _ => {
                errors.add(field, format!("The {} field must match the format Y-m-d.", human(field)));
                None
            }
        },
        Some(_) => {
            errors.add(field, format!("The {} field must match the format Y-m-d.", human(field)));
            None
        }
    }
}

/// A required positive integer id (`"1"` accepted, as the seed sends strings).
pub fn required_id(errors: &mut FieldErrors, body: &Value, field: &str) -> Option<i64> {
    match optional_id(errors, body, field) {
        Some(Some(id)) => Some(id),
        Some(None) => {
            errors.add(field, format!("The {} field is required.", human(field)));
            None
        }
        None => None,
    }
}

/// Field names as Laravel prints them: `poly_id` -> `poly id`.
pub fn human(field: &str) -> String {
    field.replace('_', " ")
}

/// A valid e-mail address, loosely (something@domain.tld, no spaces).
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && !domain.contains('@')
}
