//! Extractors: the JSON body (a clear 400 when it is not JSON), the caller behind the bearer
//! token, and record ids from the path.
use antrean_domain::auth::principal::{self, Principal};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde_json::Value;

use crate::error::ApiError;
use crate::AppState;

/// A JSON object body. An empty body (or `null`) counts as `{}` so that missing fields get the seed's
/// field errors rather than a parse error.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.")
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "The request body could not be read.")
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Object(Default::default())));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v @ Value::Object(_)) => Ok(JsonBody(v)),
            // The seed documents bodyless calls as `null`.
            Ok(Value::Null) => Ok(JsonBody(Value::Object(Default::default()))),
            Ok(_) => Err(ApiError::new(StatusCode::BAD_REQUEST, "The request body must be a JSON object.")),
            Err(_) => Err(ApiError::new(StatusCode::BAD_REQUEST, "The request body is not valid JSON.")),
        }
    }
}

/// The bearer token from `Authorization`, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The authenticated caller. Routes then ask `caller.require(Permission::…)`.
pub struct Caller(pub Principal);

impl std::ops::Deref for Caller {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(ApiError::unauthenticated)?;
        let principal = principal::authenticate(&state.deps, token).await?;
        tracing::Span::current().record("clinic", principal.tenant.slug());
        // n8n's API keys are counted per key (429 over `RATE_API_KEY_PER_MINUTE`).
        crate::rate_limit::per_api_key(state, &principal).await?;
        Ok(Caller(principal))
    }
}

/// A record id from the path. Anything that is not a positive integer cannot name a record,
/// so it gets the module's "not found".
pub fn parse_id(raw: &str, not_found: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| ApiError::not_found(not_found))
}
