//! What a host serves besides the endpoint groups: the health check, the OpenAPI document and
//! the display-board and ticket pages. The same routes on the dev server and on AWS (the
//! `site` Lambda), so a deployed stack answers `/health` and `/api/openapi.json` and hosts
//! the pages its `page_url` links point at, with no other step.
mod pages;

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Message};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(openapi_json))
        .merge(pages::routes())
}

/// 200 when the store answers, 503 when it does not: a load balancer or uptime check that
/// reads it learns whether the API can work, not only that the process runs.
#[utoipa::path(get, path = "/health", tag = "Site",
    responses((status = 200, body = Message, description = "The API runs and its store answers"),
        (status = 503, body = ErrorBody, description = "The store cannot be reached")))]
async fn health(State(s): State<AppState>) -> Response {
    let mut res = match antrean_domain::health::store_reachable(&s.deps).await {
        Ok(()) => Json(envelope::message("OK")).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: the store cannot be reached");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The store cannot be reached.",
            )
            .into_response()
        }
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The whole API's document, built once per process (it is the same for every request).
#[utoipa::path(get, path = "/api/openapi.json", tag = "Site",
    responses((status = 200, content_type = "application/json", body = Object, description = "This OpenAPI 3.1 document")))]
async fn openapi_json() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| {
        crate::openapi::document()
            .to_json()
            .expect("the OpenAPI document serialises")
    });
    ([(header::CONTENT_TYPE, "application/json")], body.as_str()).into_response()
}
