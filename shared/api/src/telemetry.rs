//! Structured logs: JSON on Lambda (CloudWatch parses it), readable text locally. Request
//! spans carry the request id and the clinic; no token, password or API key is ever a field.
use tracing_subscriber::{fmt, EnvFilter};

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    // A second init (tests start many servers in one process) is fine to ignore.
    let _ = if json { builder.json().with_current_span(true).with_span_list(false).try_init() } else { builder.try_init() };
}

/// `LOG_FORMAT=json`, or running on Lambda, selects JSON.
pub fn wants_json() -> bool {
    std::env::var("LOG_FORMAT").map(|v| v.eq_ignore_ascii_case("json")).unwrap_or(false)
        || std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
}
