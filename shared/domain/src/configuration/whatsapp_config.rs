//! WhatsApp configs: the clinic's sending numbers and the WAHA endpoint each one goes
//! through. A number is unique per clinic (a guard item, so two saves at once cannot both
//! take it).
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::is_http_url;
use crate::error::{DomainResult, FieldErrors};
use crate::record::{Record, Unique};
use crate::validate;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WhatsappConfig {
    pub whatsapp_number: String,
    pub waha_api_url: String,
}

impl Record for WhatsappConfig {
    const KIND: &'static str = "WHATSAPP_CONFIG";
    const LABEL: &'static str = "WhatsApp config";
    fn unique(&self) -> Vec<Unique> {
        vec![Unique::new("whatsapp_number", &self.whatsapp_number)]
    }
}

/// `+62 812-3456-7890` -> `6281234567890`: spaces, dashes, dots, brackets and one leading `+`
/// are dropped; what is left must be 8–15 digits in international form (no leading 0).
pub fn normalise_number(raw: &str) -> Option<String> {
    let s = raw.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
    let ok = (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
    ok.then_some(digits)
}

impl WhatsappConfig {
    /// `{"whatsapp_number": "6281234567890", "waha_api_url": "https://waha.example.com/api/send"}`.
    pub fn parse(body: &Value) -> DomainResult<WhatsappConfig> {
        let mut errors = FieldErrors::new();
        let number = validate::required_string(&mut errors, body, "whatsapp_number", 32).and_then(|n| {
            let normal = normalise_number(&n);
            if normal.is_none() {
                errors.add(
                    "whatsapp_number",
                    "The whatsapp number field must be 8 to 15 digits in international form without a leading 0, e.g. 6281234567890.",
                );
            }
            normal
        });
        let url = validate::required_string(&mut errors, body, "waha_api_url", 2048).and_then(|u| {
            if is_http_url(&u) {
                Some(u)
            } else {
                errors.add("waha_api_url", "The waha api url field must be a valid URL (http or https).");
                None
            }
        });
        errors.into_result()?;
        Ok(WhatsappConfig { whatsapp_number: number.unwrap_or_default(), waha_api_url: url.unwrap_or_default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalised_to_international_digits() {
        assert_eq!(normalise_number("6281234567890").as_deref(), Some("6281234567890"));
        assert_eq!(normalise_number(" +62 812-3456-7890 ").as_deref(), Some("6281234567890"));
        for bad in ["081234567890", "62abc4567890", "1234567", "1234567890123456", "+", ""] {
            assert_eq!(normalise_number(bad), None, "{bad}");
        }
    }
}
