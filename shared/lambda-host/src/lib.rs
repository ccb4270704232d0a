//! The Lambda host: state is built once per container (clients, keys), outside the handler,
//! then the group's axum router is served by `lambda_http::run`.
use std::sync::Arc;

use antrean_api::{ApiConfig, AppState, Group};
use antrean_domain::auth::token::TokenKeys;
use antrean_domain::{Deps, SystemClock};
use antrean_store::dynamodb::DynamoTable;

fn required(name: &str) -> Result<String, lambda_http::Error> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is required").into())
}

/// Reads TABLE_NAME, JWT_SECRET, TOKEN_TTL_MINUTES and the edge settings of `ApiConfig::from_env`
/// (PLATFORM_TOKEN, CORS_ORIGINS, BASE_DOMAIN, RATE_*_PER_MINUTE), and builds the state.
pub async fn state_from_env() -> Result<AppState, lambda_http::Error> {
    let deps = deps_from_env().await?;
    Ok(AppState {
        live: live_from_env(&deps).await,
        deps,
        config: Arc::new(ApiConfig::from_env()?),
        blobs: blobs_from_env().await?,
        webhooks: webhooks_from_env()?,
    })
}

/// The domain's dependencies alone (TABLE_NAME, DYNAMODB_ENDPOINT, JWT_SECRET,
/// TOKEN_TTL_MINUTES): what a worker without HTTP routes needs.
pub async fn deps_from_env() -> Result<Deps, lambda_http::Error> {
    let table = DynamoTable::connect(std::env::var("DYNAMODB_ENDPOINT").ok().as_deref(), &required("TABLE_NAME")?).await;
    let minutes = std::env::var("TOKEN_TTL_MINUTES").ok().and_then(|m| m.parse().ok()).unwrap_or(720);
    let tokens = TokenKeys::new(required("JWT_SECRET")?.as_bytes(), chrono::Duration::minutes(minutes))
        .map_err(|e| e.to_string())?;
    Ok(Deps { table: Arc::new(table), clock: Arc::new(SystemClock), tokens: Arc::new(tokens) })
}

/// Outbound webhooks (n8n): the reqwest adapter with its 3-second timeout.
pub fn webhooks_from_env() -> Result<Arc<dyn antrean_domain::webhook::WebhookSender>, lambda_http::Error> {
    Ok(Arc::new(antrean_domain::webhook::http::ReqwestSender::standard()?))
}

/// FAQ files: the S3 bucket `FILES_BUCKET` (endpoint override `S3_ENDPOINT`); without it file
/// uploads fail with a 500 and store nothing (only the configuration function needs it).
async fn blobs_from_env() -> Result<Arc<dyn antrean_blobs::BlobStore>, lambda_http::Error> {
    match antrean_blobs::BlobChoice::from_env(Default::default()) {
        choice @ antrean_blobs::BlobChoice::S3 { .. } => Ok(antrean_blobs::Blobs::open(&choice).await?.store),
        antrean_blobs::BlobChoice::Local { .. } => Ok(antrean_blobs::Blobs::none().store),
    }
}

/// Live push to the display boards: API Gateway's Management API at `WS_MANAGEMENT_ENDPOINT`
/// (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`); `BOARD_WS_URL` and
/// `BOARD_PAGE_URL` are what `POST /api/boards` hands out. Without the endpoint, no push.
pub async fn live_from_env(deps: &Deps) -> antrean_live::Live {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut live = match set("WS_MANAGEMENT_ENDPOINT") {
        Some(endpoint) => antrean_live::Live::new(Arc::new(antrean_live::apigw::ManagementApi::connect(&endpoint, deps.clone()).await), false),
        None => antrean_live::Live::none(),
    };
    live.ws_url = set("BOARD_WS_URL");
    live.page_url = set("BOARD_PAGE_URL");
    live
}

/// The whole of a function's `main`.
pub async fn run(group: Group) -> Result<(), lambda_http::Error> {
    antrean_api::telemetry::init(true);
    let state = state_from_env().await?;
    lambda_http::run(antrean_api::service::group_service(group, state)).await
}
