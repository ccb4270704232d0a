//! CORS: which browser origins may call the API. Exact origins plus at most one wildcard
//! subdomain pattern (`https://*.example.id`), the same two forms API Gateway's HTTP API
//! accepts in `AllowOrigins`, so one setting means the same on the dev server and on AWS.
//! Unset: any `http(s)://localhost:<port>` and `http(s)://127.0.0.1:<port>`, for a frontend's
//! dev server. Preflights are answered here, before authentication and rate limits.
use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The request headers the seed's API reads (plus the request id a client may send).
pub const ALLOW_HEADERS: &[&str] = &["authorization", "content-type", "accept", "x-clinic", "x-requested-with", "x-request-id"];
/// The response headers a page may read: the wait after a 429, the request id for support,
/// and the file name of an XLSX export.
pub const EXPOSE_HEADERS: &[&str] = &["retry-after", "x-request-id", "content-disposition"];
pub const ALLOW_METHODS: &[Method] = &[Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS];
/// How long a browser may reuse a preflight answer.
pub const MAX_AGE: Duration = Duration::from_secs(600);

/// `scheme://*.suffix[:port]`: any origin with one or more labels in front of `suffix`.
#[derive(Debug, Clone, PartialEq)]
pub struct Wildcard {
    scheme: String,
    suffix: String,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum AllowedOrigins {
    /// `http(s)://localhost[:port]` and `http(s)://127.0.0.1[:port]`.
    #[default]
    Localhost,
    /// Any origin (`CORS_ORIGINS=*`). Safe only because the API uses bearer tokens, not cookies.
    Any,
    List { exact: Vec<String>, wildcard: Option<Wildcard> },
}

/// An origin split into scheme, host and port; `None` when it is not `scheme://host[:port]`.
fn split(origin: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let (host, port) = if rest.starts_with('[') {
        // An IPv6 literal: `[::1]` or `[::1]:5173`.
        let (h, after) = rest.split_at(rest.find(']')? + 1);
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':')?.parse::<u16>().ok()?)),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some((scheme, host.to_ascii_lowercase(), port))
}

impl AllowedOrigins {
    /// Parses `CORS_ORIGINS`: comma-separated; empty means the localhost default.
    pub fn parse(raw: &str) -> Result<AllowedOrigins, String> {
        let items: Vec<&str> = raw.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if items.is_empty() {
            return Ok(AllowedOrigins::Localhost);
        }
        if items == ["*"] {
            return Ok(AllowedOrigins::Any);
        }
        let mut exact = Vec::new();
        let mut wildcard: Option<Wildcard> = None;
        for item in items {
            let item = item.strip_suffix('/').unwrap_or(item);
            let bad = || format!("CORS_ORIGINS: '{item}' is not an origin like https://app.example.id or https://*.example.id");
            let (scheme, host, port) = split(item).ok_or_else(bad)?;
            if let Some(suffix) = host.strip_prefix("*.") {
                if suffix.contains('*') || !suffix.contains('.') && suffix != "localhost" {
                    return Err(bad());
                }
                if wildcard.is_some() {
                    return Err("CORS_ORIGINS: at most one wildcard pattern (https://*.example.id) is allowed".into());
                }
                wildcard = Some(Wildcard { scheme, suffix: suffix.to_string(), port });
            } else if host.contains('*') {
                return Err(bad());
            } else {
                exact.push(match port {
                    Some(p) => format!("{scheme}://{host}:{p}"),
                    None => format!("{scheme}://{host}"),
                });
            }
        }
        Ok(AllowedOrigins::List { exact, wildcard })
    }

    /// `CORS_ORIGINS` from the environment.
    pub fn from_env() -> Result<AllowedOrigins, String> {
        AllowedOrigins::parse(&std::env::var("CORS_ORIGINS").unwrap_or_default())
    }

    /// Whether a browser page on `origin` may read the API's answers.
    pub fn allows(&self, origin: &str) -> bool {
        let Some((scheme, host, port)) = split(origin) else { return false };
        match self {
            AllowedOrigins::Any => true,
            AllowedOrigins::Localhost => host == "localhost" || host == "127.0.0.1",
            AllowedOrigins::List { exact, wildcard } => {
                let normal = match port {
                    Some(p) => format!("{scheme}://{host}:{p}"),
                    None => format!("{scheme}://{host}"),
                };
                exact.iter().any(|e| *e == normal)
                    || wildcard.as_ref().is_some_and(|w| {
                        w.scheme == scheme
                            && w.port == port
                            && host.strip_suffix(&w.suffix).and_then(|front| front.strip_suffix('.')).is_some_and(|front| {
                                !front.is_empty() && front.split('.').all(|l| !l.is_empty())
                            })
                    })
            }
        }
    }

    /// The layer `service::finish` puts around every route.
    pub fn layer(&self) -> CorsLayer {
        let allowed = self.clone();
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
                origin.to_str().is_ok_and(|o| allowed.allows(o))
            }))
            .allow_methods(ALLOW_METHODS.to_vec())
            .allow_headers(ALLOW_HEADERS.iter().map(|h| HeaderName::from_static(h)).collect::<Vec<_>>())
            .expose_headers(EXPOSE_HEADERS.iter().map(|h| HeaderName::from_static(h)).collect::<Vec<_>>())
            .max_age(MAX_AGE)
            .vary([header::ORIGIN, header::ACCESS_CONTROL_REQUEST_METHOD, header::ACCESS_CONTROL_REQUEST_HEADERS])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_on_any_port_by_default() {
        let o = AllowedOrigins::parse("").unwrap();
        assert!(o.allows("http://localhost:5173"));
        assert!(o.allows("http://127.0.0.1:3000"));
        assert!(o.allows("http://localhost"));
        assert!(!o.allows("http://localhost.evil.com:5173"));
        assert!(!o.allows("http://192.168.1.10:5173"));
        assert!(!o.allows("null"));
    }

    #[test]
    fn exact_origins_and_one_wildcard() {
        let o = AllowedOrigins::parse("https://app.example.id, https://*.klinik.example.id,http://localhost:5173/").unwrap();
        assert!(o.allows("https://app.example.id"));
        assert!(o.allows("HTTPS://APP.example.id"));
        assert!(!o.allows("http://app.example.id"));
        assert!(!o.allows("https://app.example.id:8443"));
        assert!(o.allows("http://localhost:5173"));
        assert!(!o.allows("http://localhost:5174"));
        assert!(o.allows("https://sehat.klinik.example.id"));
        assert!(o.allows("https://a.b.klinik.example.id"));
        assert!(!o.allows("https://klinik.example.id"));
        assert!(!o.allows("https://evilklinik.example.id"));
        assert!(!o.allows("https://sehat.klinik.example.id.evil.com"));
        assert!(!o.allows("http://sehat.klinik.example.id"));
    }

    #[test]
    fn refuses_what_is_not_an_origin() {
        assert!(AllowedOrigins::parse("app.example.id").is_err());
        assert!(AllowedOrigins::parse("https://app.example.id/path").is_err());
        assert!(AllowedOrigins::parse("https://*.a.id,https://*.b.id").is_err());
        assert!(AllowedOrigins::parse("https://app.*.id").is_err());
        assert!(AllowedOrigins::parse("https://*.id").is_err());
        assert!(AllowedOrigins::parse("ftp://x.id").is_err());
        assert_eq!(AllowedOrigins::parse("*").unwrap(), AllowedOrigins::Any);
    }
}
