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

/// Reads TABLE_NAME, JWT_SECRET, TOKEN_TTL_MINUTES and PLATFORM_TOKEN, and builds the state.
pub async fn state_from_env() -> Result<AppState, lambda_http::Error> {
    let table = DynamoTable::connect(std::env::var("DYNAMODB_ENDPOINT").ok().as_deref(), &required("TABLE_NAME")?).await;
    let minutes = std::env::var("TOKEN_TTL_MINUTES").ok().and_then(|m| m.parse().ok()).unwrap_or(720);
    let tokens = TokenKeys::new(required("JWT_SECRET")?.as_bytes(), chrono::Duration::minutes(minutes))
        .map_err(|e| e.to_string())?;
    Ok(AppState {
        deps: Deps { table: Arc::new(table), clock: Arc::new(SystemClock), tokens: Arc::new(tokens) },
        config: Arc::new(ApiConfig { platform_token: std::env::var("PLATFORM_TOKEN").ok().filter(|t| !t.is_empty()) }),
    })
}

/// The whole of a function's `main`.
pub async fn run(group: Group) -> Result<(), lambda_http::Error> {
    antrean_api::telemetry::init(true);
    let state = state_from_env().await?;
    lambda_http::run(antrean_api::service::group_service(group, state)).await
}
