//! The clinic named by the host name: with a base domain `antrean.id`, a request to
//! `sehat.antrean.id` names clinic `sehat`. Login uses it as its last hint (after the body's
//! `clinic` and the `X-Clinic` header); a token always carries its own clinic and wins.
use axum::http::{header, HeaderMap};

/// First labels that name the service itself, never a clinic.
pub const RESERVED: &[&str] = &["www", "api"];

/// `BASE_DOMAIN` normalised: lower case, no scheme, no leading `*.` or dots, no port.
pub fn parse_base_domain(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim().to_ascii_lowercase();
    let s = s.trim_start_matches("https://").trim_start_matches("http://");
    let s = s.strip_prefix("*.").unwrap_or(s).trim_matches('.');
    if s.is_empty() {
        return Ok(None);
    }
    let ok = s.contains('.')
        && s.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if ok {
        Ok(Some(s.to_string()))
    } else {
        Err(format!("BASE_DOMAIN '{raw}' is not a domain name like antrean.example.id"))
    }
}

/// The clinic slug in `host` (`<slug>.<base domain>[:port]`), if it has one.
pub fn clinic_from_host(host: &str, base_domain: &str) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
        _ => host,
    };
    let front = host.trim_end_matches('.').strip_suffix(base_domain)?.strip_suffix('.')?;
    (!front.is_empty() && !front.contains('.') && !RESERVED.contains(&front)).then(|| front.to_string())
}

/// The clinic hint of a request's `Host` header.
pub fn clinic_from_headers(headers: &HeaderMap, base_domain: Option<&str>) -> Option<String> {
    let base = base_domain?;
    clinic_from_host(headers.get(header::HOST)?.to_str().ok()?, base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_label_under_the_base_domain() {
        assert_eq!(clinic_from_host("sehat.antrean.id", "antrean.id").as_deref(), Some("sehat"));
        assert_eq!(clinic_from_host("Sehat.Antrean.ID:8443", "antrean.id").as_deref(), Some("sehat"));
        assert_eq!(clinic_from_host("sehat.antrean.id.", "antrean.id").as_deref(), Some("sehat"));
        assert_eq!(clinic_from_host("antrean.id", "antrean.id"), None);
        assert_eq!(clinic_from_host("a.b.antrean.id", "antrean.id"), None);
        assert_eq!(clinic_from_host("sehatantrean.id", "antrean.id"), None);
        assert_eq!(clinic_from_host("sehat.antrean.id.evil.com", "antrean.id"), None);
        assert_eq!(clinic_from_host("www.antrean.id", "antrean.id"), None);
        assert_eq!(clinic_from_host("127.0.0.1:8080", "antrean.id"), None);
    }

    #[test]
    fn base_domain_is_normalised() {
        assert_eq!(parse_base_domain(" https://*.Antrean.ID. ").unwrap().as_deref(), Some("antrean.id"));
        assert_eq!(parse_base_domain("").unwrap(), None);
        assert!(parse_base_domain("localhost").is_err());
        assert!(parse_base_domain("antrean.id/x").is_err());
    }
}
