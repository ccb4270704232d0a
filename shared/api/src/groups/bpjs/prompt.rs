//! The layer behind prompt BPJS sends (`antrean_domain::bpjs::prompt`): a request that put
//! BPJS events in the outbox tries to send them before it answers, for at most
//! `BPJS_PROMPT_SECONDS` (default 2; `0` leaves everything to the worker). On Lambda nothing
//! runs after the answer, so this is the same request on every host.
use std::sync::OnceLock;
use std::time::Duration;

use antrean_domain::bpjs::prompt;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// `BPJS_PROMPT_SECONDS`, read once; `None` when prompt sends are off.
fn within() -> Option<Duration> {
    static WITHIN: OnceLock<Option<Duration>> = OnceLock::new();
    *WITHIN.get_or_init(|| {
        let secs = std::env::var("BPJS_PROMPT_SECONDS").ok().and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(2.0);
        (secs > 0.0).then(|| Duration::from_secs_f64(secs.min(10.0)))
    })
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (response, tenants) = prompt::scope(next.run(req)).await;
    if !tenants.is_empty() {
        if let Some(within) = within() {
            prompt::send_now(&state.deps, state.webhooks.as_ref(), &tenants, within).await;
        }
    }
    response
}
