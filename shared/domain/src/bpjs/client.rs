//! The signed BPJS client: every call carries `x-cons-id`, `x-timestamp` (Unix seconds, UTC),
//! `x-signature` and `user_key`; an answer's `metadata` is read and an encrypted `response`
//! (a string) decrypted with the same timestamp. It sends through the outbox's HTTP port
//! (`webhook::WebhookSender`), so tests and hosts plug in the same adapter as for n8n.
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::config::{BpjsConfig, Credentials};
use super::crypto;
use crate::webhook::WebhookSender;

/// What BPJS answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub http: u16,
    /// `metadata.code` (BPJS's own: 200 ok, 201 refused, 208 duplicate …); the HTTP status when absent.
    pub code: i64,
    /// `metadata.message`, as BPJS wrote it.
    pub message: String,
    /// `response`, decrypted when it came encrypted.
    pub response: Option<Value>,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.http) && self.code == 200
    }
}

/// The four headers of a call at `now`.
pub fn headers(creds: &Credentials, now: DateTime<Utc>) -> Vec<(String, String)> {
    let ts = now.timestamp();
    vec![
        ("x-cons-id".into(), creds.cons_id.clone()),
        ("x-timestamp".into(), ts.to_string()),
        ("x-signature".into(), crypto::signature(&creds.cons_id, &creds.secret, ts)),
        ("user_key".into(), creds.user_key.clone()),
        ("Content-Type".into(), "application/json".into()),
        ("Accept".into(), "application/json".into()),
    ]
}

/// Reads an answer body; an encrypted `response` is decrypted with the call's timestamp.
pub fn read_answer(http: u16, body: &[u8], creds: &Credentials, timestamp: i64) -> Answer {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    // BPJS spells it `metadata` on antrean and `metaData` on some services.
    let meta = v.get("metadata").or_else(|| v.get("metaData"));
    let code = meta
        .and_then(|m| m.get("code"))
        .and_then(|c| c.as_i64().or_else(|| c.as_str().and_then(|s| s.trim().parse().ok())))
        .unwrap_or(http as i64);
    let message = meta
        .and_then(|m| m.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            if v.is_null() {
                format!("HTTP {http}, no BPJS answer")
            } else {
                format!("HTTP {http}")
            }
        });
    let response = match v.get("response") {
        Some(Value::String(s)) if !s.is_empty() => match crypto::decrypt_response(&creds.cons_id, &creds.secret, timestamp, s) {
            Some(text) => Some(serde_json::from_str(&text).unwrap_or(Value::String(text))),
            None => Some(Value::String(s.clone())),
        },
        Some(Value::Null) | None => None,
        Some(other) => Some(other.clone()),
    };
    Answer { http, code, message, response }
}

/// One signed call: `Err(short reason)` when no answer came back (timeout, refused connection).
pub async fn call(
    sender: &dyn WebhookSender,
    config: &BpjsConfig,
    creds: &Credentials,
    method: &str,
    path: &str,
    body: Option<&Value>,
    now: DateTime<Utc>,
) -> Result<Answer, String> {
    let url = config.url(path);
    let bytes = body.map(|b| serde_json::to_vec(b).expect("JSON serialises"));
    let (http, answer) = sender.request(method, &url, bytes, headers(creds, now)).await?;
    Ok(read_answer(http, &answer, creds, now.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            cons_id: "fake-cons-1".into(),
            secret: "fake-secret-1".into(),
            user_key: "fake-user-key-1".into(),
        }
    }

    #[test]
    fn headers_are_signed_at_the_call_time() {
        let now = DateTime::from_timestamp(1_767_000_000, 0).unwrap();
        let h = headers(&creds(), now);
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("x-timestamp"), "1767000000");
        assert!(crypto::verify_signature("fake-cons-1", "fake-secret-1", 1_767_000_000, &get("x-signature")));
        assert_eq!(get("user_key"), "fake-user-key-1");
    }

    #[test]
    fn answers_are_read_and_decrypted() {
        let enc = crypto::encrypt_response("fake-cons-1", "fake-secret-1", 99, r#"{"list":[{"kdpoli":"ANA"}]}"#);
        let body = serde_json::json!({"response": enc, "metadata": {"code": 200, "message": "Ok"}});
        let a = read_answer(200, &serde_json::to_vec(&body).unwrap(), &creds(), 99);
        assert!(a.ok());
        assert_eq!(a.response.unwrap()["list"][0]["kdpoli"], "ANA");
        let a = read_answer(200, br#"{"metadata":{"code":"201","message":"Rujukan tidak valid"}}"#, &creds(), 99);
        assert_eq!((a.code, a.message.as_str(), a.ok()), (201, "Rujukan tidak valid", false));
        let a = read_answer(502, b"<html>bad gateway</html>", &creds(), 99);
        assert_eq!((a.code, a.ok()), (502, false));
    }
}
