//! Builds the service a host runs: the chosen groups' routes, JSON answers for unknown routes
//! and methods, and request tracing with a request id and the clinic; and the edge every route
//! inherits: CORS, per-address and per-API-key rate limits, a body size limit, and every error
//! in the seed's envelope.
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::{groups, json_errors, rate_limit, security_headers, AppState, Group};

/// The largest request body a route reads: 1 MiB, a 413 in the seed's envelope beyond it. A
/// route that takes more (FAQ uploads) raises its own limit with
/// `.layer(DefaultBodyLimit::max(n))` on its routes: the limit nearest the route wins.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// The routes of the given groups with their OpenAPI description.
pub fn routes(selected: &[Group]) -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::with_openapi(crate::openapi::base());
    for group in selected {
        router = router.merge(match group {
            Group::Auth => groups::auth::routes(),
            Group::MasterData => groups::master_data::routes(),
            Group::Schedule => groups::schedule::routes().merge(groups::appointments::routes()),
            Group::Queue => groups::queue::routes().merge(groups::boards::routes()).merge(groups::ticket::routes()).merge(groups::reminders::routes()),
            Group::Configuration => groups::configuration::routes(),
            Group::Report => groups::report::routes(),
            Group::Platform => groups::platform::routes(),
            Group::Bpjs => groups::bpjs::routes(),
            Group::Site => groups::site::routes(),
        });
    }
    router
}

async fn not_found() -> impl IntoResponse {
    ApiError::new(StatusCode::NOT_FOUND, "The requested route does not exist.")
}

async fn method_not_allowed() -> impl IntoResponse {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "The method is not allowed for this route.")
}

/// Adds what every host needs around a router, outermost first: security headers, request id, tracing, CORS
/// (preflights answered here, before anything else), rate limits, JSON errors, body limit,
/// then the routes with JSON fallbacks.
pub fn finish(router: Router<AppState>, state: AppState) -> Router {
    let x_request_id = axum::http::HeaderName::from_static("x-request-id");
    let cors = state.config.cors.layer();
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        // Settings a request reads several times are read once (antrean_domain::request_cache).
        .layer(axum::middleware::from_fn(|req, next: axum::middleware::Next| antrean_domain::request_cache::scope(next.run(req))))
        // BPJS events a request put in the outbox are tried before it answers (groups::bpjs::prompt).
        .layer(axum::middleware::from_fn_with_state(state.clone(), groups::bpjs::prompt::layer))
        .layer(axum::middleware::from_fn(json_errors::layer))
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::layer))
        .with_state(state)
        .layer(cors)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    // The path, never the query string or headers: they may carry tokens.
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path(), clinic = tracing::field::Empty)
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis)),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .layer(axum::middleware::from_fn(security_headers::layer))
}

/// One group's service, as its Lambda runs it.
pub fn group_service(group: Group, state: AppState) -> Router {
    let (router, _) = routes(&[group]).split_for_parts();
    finish(router, state)
}
