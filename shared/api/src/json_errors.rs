//! Every error answer in the seed's envelope. Our handlers already answer `ApiError`; this
//! layer catches what they do not write: axum's own rejections (plain text: a query string or
//! path that does not deserialise, a JSON body of the wrong shape, a missing content type, a
//! WebSocket upgrade without its headers), and any empty or non-JSON error from a layer.
//! Status codes stay, but for a query string that does not fit its parameters, which becomes
//! the 422 with a field error a Laravel client expects. 5xx bodies are never shown.
use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Error bodies are short; anything longer is not read (and not shown).
const MAX_ERROR_BODY: usize = 16 * 1024;

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            ct == "application/json" || ct.ends_with("+json")
        })
}

/// The field a serde error names: `per_page: invalid digit…`, ``missing field `date` `` or
/// ``duplicate field `search` ``.
fn field_of(detail: &str) -> Option<String> {
    let valid = |f: &str| !f.is_empty() && f.len() <= 64 && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if let Some(rest) = detail.split("field `").nth(1) {
        let f = rest.split('`').next()?;
        return valid(f).then(|| f.to_string());
    }
    let (f, _) = detail.split_once(": ")?;
    valid(f).then(|| f.to_string())
}

/// The envelope for an error answer that is not one already.
pub fn describe(status: StatusCode, text: &str) -> ApiError {
    let text = text.trim();
    if status.is_server_error() {
        if !text.is_empty() {
            tracing::error!(status = status.as_u16(), body = %text, "non-JSON server error");
        }
        return ApiError::new(status, "Internal server error");
    }
    if let Some(detail) = text.strip_prefix("Failed to deserialize query string") {
        let detail = detail.trim_start_matches(':').trim();
        let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "The query string is invalid.");
        if let Some(field) = field_of(detail) {
            let message = if detail.contains("missing field") {
                format!("The {field} field is required.")
            } else {
                format!("The {field} field is invalid.")
            };
            let mut errors = Map::new();
            errors.insert(field, Value::Array(vec![Value::String(message.clone())]));
            err.message = message;
            err.errors = Some(errors);
        }
        return err;
    }
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.".to_string(),
        StatusCode::NOT_FOUND => "The requested route does not exist.".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "The method is not allowed for this route.".to_string(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "The request body must be sent as application/json.".to_string(),
        _ if text.starts_with("Invalid URL") || text.starts_with("Wrong number of path arguments") => {
            "The URL is not valid.".to_string()
        }
        _ if text.starts_with("Failed to parse the request body as JSON") => "The request body is not valid JSON.".to_string(),
        _ if text.starts_with("Failed to deserialize the JSON body") => "The given data was invalid.".to_string(),
        // A short plain sentence (a WebSocket upgrade refused, a signed link expired) says why.
        _ if !text.is_empty() && text.len() <= 200 && !text.contains('<') && text.chars().all(|c| !c.is_control()) => text.to_string(),
        _ => format!("{}.", status.canonical_reason().unwrap_or("Error")),
    };
    ApiError::new(status, message)
}

/// The layer: passes JSON and non-error answers through untouched.
pub async fn layer(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(res.headers()) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = match to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    let mut out = describe(status, &text).into_response();
    // Keep what the original said besides its body (Allow, Retry-After, CORS, request id).
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_failures_become_field_errors() {
        let e = describe(StatusCode::BAD_REQUEST, "Failed to deserialize query string: per_page: invalid digit found in string");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.message, "The per_page field is invalid.");
        assert!(e.errors.unwrap().contains_key("per_page"));
        let e = describe(StatusCode::BAD_REQUEST, "Failed to deserialize query string: missing field `date`");
        assert_eq!(e.message, "The date field is required.");
        let e = describe(StatusCode::BAD_REQUEST, "Failed to deserialize query string: duplicate field `search`");
        assert_eq!(e.message, "The search field is invalid.");
    }

    #[test]
    fn server_errors_say_nothing_inside() {
        let e = describe(StatusCode::INTERNAL_SERVER_ERROR, "Missing request extension: AppState at src/x.rs");
        assert_eq!(e.message, "Internal server error");
    }

    #[test]
    fn other_rejections_keep_their_status() {
        assert_eq!(describe(StatusCode::BAD_REQUEST, "Invalid URL: Cannot parse `x` to a `i64`").message, "The URL is not valid.");
        assert_eq!(describe(StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded").message, "The request body is too large.");
        assert_eq!(describe(StatusCode::IM_A_TEAPOT, "").message, "I'm a teapot.");
    }
}
