//! Rate limits at the edge, counted in the table (`antrean_domain::rate_limit`) so they hold
//! across every Lambda instance:
//!
//! - login (`POST /api/auth/login`): per client address, `RATE_LOGIN_PER_MINUTE` (20), always,
//!   whatever headers the request carries;
//! - every other request without `Authorization` (nothing to authenticate yet): per client
//!   address, `RATE_PUBLIC_PER_MINUTE` (120); OPTIONS (CORS preflights), `/health`,
//!   `/debug/capacity` and the page files under `/board` ([`is_page_file`]) are free;
//! - calls authenticated by an API key (n8n): per key, `RATE_API_KEY_PER_MINUTE` (600), counted
//!   once the key is proven (so nobody can spend another's quota with a made-up secret).
//!
//! Sessions of signed-in staff are not limited here (API Gateway's throttling covers floods).
//! Where no clinic is known yet the counter lives under the clinic hint (login's resolution:
//! body, `X-Clinic`, host name) or `default`. Over the limit: 429, `Retry-After`, the seed's
//! envelope. A limit of 0 turns its rule off.
use antrean_domain::auth::principal::{Credential, Principal};
use antrean_domain::rate_limit::{self, Counter};
use antrean_domain::Tenant;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::client_addr::client_addr;
use crate::error::ApiError;
use crate::groups::auth::login_clinic;
use crate::AppState;

pub const LOGIN_PATH: &str = "/api/auth/login";
/// Unlimited: the health check, and the dev server's benchmark counters (`BENCH_CAPACITY=1`),
/// which must not count (nor write) themselves.
const FREE_PATHS: [&str; 2] = ["/health", "/debug/capacity"];
const WINDOW_SECS: i64 = 60;

/// A file of the board or ticket page (`GET`/`HEAD` of `/board`, `/board/…`): the same bytes
/// for everybody, served from memory, telling nothing. Not counted: a TV loads seven of them
/// each time it reloads, and behind the clinic's one address (its Wi-Fi, shared with the
/// patients' ticket pages) a few reloads would use up the minute's public allowance and lock
/// the board out of its own socket. What they lead to still counts: the board's socket
/// (`/ws?token=`, dev server) and ticket look-ups (with their own limit too).
pub fn is_page_file(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD) && (path == "/board" || path.starts_with("/board/"))
}

/// Requests per minute; 0 turns a rule off.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Login attempts per client address.
    pub login_per_minute: u32,
    /// Other requests without `Authorization`, per client address.
    pub public_per_minute: u32,
    /// Requests per API key.
    pub api_key_per_minute: u32,
    /// Ticket look-ups (page and socket) per client address and clinic, on top of the public limit.
    pub ticket_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { login_per_minute: 20, public_per_minute: 120, api_key_per_minute: 600, ticket_per_minute: 30 }
    }
}

impl Limits {
    /// No limits at all.
    pub fn off() -> Self {
        Limits { login_per_minute: 0, public_per_minute: 0, api_key_per_minute: 0, ticket_per_minute: 0 }
    }

    /// `RATE_LOGIN_PER_MINUTE`, `RATE_PUBLIC_PER_MINUTE`, `RATE_API_KEY_PER_MINUTE`; unset keeps
    /// the default.
    pub fn from_env() -> Result<Limits, String> {
        let read = |name: &str, default: u32| -> Result<u32, String> {
            match std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| format!("{name} '{v}' is not a whole number (0 turns the limit off)")),
            }
        };
        let d = Limits::default();
        Ok(Limits {
            login_per_minute: read("RATE_LOGIN_PER_MINUTE", d.login_per_minute)?,
            public_per_minute: read("RATE_PUBLIC_PER_MINUTE", d.public_per_minute)?,
            api_key_per_minute: read("RATE_API_KEY_PER_MINUTE", d.api_key_per_minute)?,
            ticket_per_minute: read("RATE_TICKET_PER_MINUTE", d.ticket_per_minute)?,
        })
    }
}

pub fn default_tenant() -> Tenant {
    Tenant::parse("default").expect("a valid slug")
}

async fn count(state: &AppState, tenant: &Tenant, bucket: &str, subject: &str, limit: u32) -> Result<(), ApiError> {
    let counter = Counter { tenant, bucket, subject, limit, window_secs: WINDOW_SECS };
    rate_limit::hit(&state.deps, &counter).await.map_err(|e| {
        if matches!(e, antrean_domain::DomainError::TooManyRequests { .. }) {
            tracing::warn!(clinic = tenant.slug(), bucket, "rate limit reached");
        }
        ApiError::from(e)
    })
}

/// Per API key, once the key is proven; called by the `Caller` extractor.
pub async fn per_api_key(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    match principal.credential {
        Credential::ApiKey { id } => count(state, &principal.tenant, "apikey", &id.to_string(), state.config.limits.api_key_per_minute).await,
        Credential::Session { .. } => Ok(()),
    }
}

/// Per client address within the clinic a ticket code names (the ticket page and its socket),
/// so guessing codes is slow and one clinic's patients cannot use up another's allowance.
pub async fn per_ticket_lookup(state: &AppState, tenant: &Tenant, address: Option<std::net::IpAddr>) -> Result<(), ApiError> {
    let limit = state.config.limits.ticket_per_minute;
    if limit == 0 {
        return Ok(());
    }
    let address = address.map(|a| a.to_string()).unwrap_or_else(|| "unknown".into());
    count(state, tenant, "ticket", &address, limit).await
}

/// The `clinic` field of a login body, which the login handler reads again later.
async fn peek_login_clinic(req: Request) -> Result<(Request, Option<String>), Response> {
    let (parts, body) = req.into_parts();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.").into_response();
    if declared.is_some_and(|n| n > crate::service::JSON_BODY_LIMIT) {
        return Err(too_large());
    }
    let bytes = match to_bytes(body, crate::service::JSON_BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) if declared.is_none() => return Err(too_large()),
        Err(_) => return Err(ApiError::new(StatusCode::BAD_REQUEST, "The request body could not be read.").into_response()),
    };
    let clinic = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("clinic")?.as_str().map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty());
    Ok((Request::from_parts(parts, Body::from(bytes)), clinic))
}

/// The layer `service::finish` puts around every route: per-address limits on login and on
/// requests without credentials.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = &state.config.limits;
    // Password recovery counts with login: both guess at accounts.
    let is_login = req.method() == Method::POST && [LOGIN_PATH, "/api/auth/forgot-password", "/api/auth/reset-password"].contains(&req.uri().path());
    let (bucket, limit) = if is_login {
        ("login", limits.login_per_minute)
    } else if req.method() == Method::OPTIONS
        || FREE_PATHS.contains(&req.uri().path())
        || is_page_file(req.method(), req.uri().path())
        || req.headers().contains_key(header::AUTHORIZATION)
        // BPJS's calls carry its token (checked by the route); only getting one is limited.
        || (req.uri().path().starts_with("/api/bpjs/") && req.headers().contains_key("x-token"))
    {
        return next.run(req).await;
    } else {
        ("public", limits.public_per_minute)
    };
    if limit == 0 {
        return next.run(req).await;
    }
    let address = client_addr(req.extensions()).map(|a| a.to_string()).unwrap_or_else(|| "unknown".into());
    let (req, body_clinic) = if is_login {
        match peek_login_clinic(req).await {
            Ok(r) => r,
            Err(response) => return response,
        }
    } else {
        (req, None)
    };
    let tenant = login_clinic(body_clinic.as_deref(), req.headers(), state.config.base_domain.as_deref())
        .and_then(|slug| Tenant::parse(&slug).ok())
        .unwrap_or_else(default_tenant);
    match count(&state, &tenant, bucket, &address, limit).await {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_board_and_ticket_page_files_are_free_and_nothing_else() {
        for path in ["/board", "/board/", "/board/index.html", "/board/board-socket.js", "/board/ticket.html"] {
            assert!(is_page_file(&Method::GET, path), "{path}");
            assert!(is_page_file(&Method::HEAD, path), "{path}");
        }
        assert!(!is_page_file(&Method::POST, "/board/index.html"));
        for path in ["/boards", "/api/boards", "/ws", "/api/tickets/x", "/boardx.js"] {
            assert!(!is_page_file(&Method::GET, path), "{path}");
        }
    }
}
