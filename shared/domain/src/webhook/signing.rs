//! What n8n checks: the body, its headers and the HMAC signature over the exact bytes.
use super::*;

/// `sha256=<hex HMAC-SHA256(secret, body)>`: the value of `X-Antrean-Signature`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// True when `header` is the signature of `body` under `secret` (compared in constant time):
/// what a receiver does.
pub fn verify_signature(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(sig) = header.trim().strip_prefix("sha256=").and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The POST body, key order as in the seed; the extra fields follow its three.
pub fn body(tenant: &Tenant, event: &CallEvent, event_id: &str) -> Vec<u8> {
    let mut body = json!({
        "current_queue": event.current_queue.to_string(),
        "status": event.status,
        "poly": event.poly_id,
        "poly_name": event.poly_name,
        "date": event.date.format("%Y-%m-%d").to_string(),
        "clinic": tenant.slug(),
        "event_id": event_id,
    });
    if let Some(room) = &event.room {
        body["room"] = json!(room);
    }
    serde_json::to_vec(&body).expect("a JSON object serialises")
}

pub(super) fn headers(event_id: &str, attempt: i64, secret: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
    let mut h = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("User-Agent".to_string(), USER_AGENT.to_string()),
        (EVENT_ID_HEADER.to_string(), event_id.to_string()),
        (ATTEMPT_HEADER.to_string(), attempt.to_string()),
    ];
    if let Some(s) = secret {
        h.push((SIGNATURE_HEADER.to_string(), signature(s, body)));
    }
    h
}
