//! The HTTP API: one `axum::Router` per endpoint group, served unchanged by a Lambda
//! (`lambda_http::run`) or by the dev server (`axum::serve`). Handlers parse, call the
//! domain, and shape the seed's response; no storage calls here.
pub mod client_addr;
pub mod clinic_host;
pub mod cors;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod groups;
pub mod json_errors;
pub mod openapi;
pub mod rate_limit;
pub mod security_headers;
pub mod service;
pub mod telemetry;

use std::sync::Arc;

use antrean_domain::Deps;

pub use error::{ApiError, ApiResult};

/// Settings of one deployment, read once at start.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    /// The platform operator's token for `/api/platform/*`; unset disables those routes.
    pub platform_token: Option<String>,
    /// Browser origins allowed by CORS (`CORS_ORIGINS`; unset: localhost on any port).
    pub cors: cors::AllowedOrigins,
    /// `BASE_DOMAIN`: login reads the clinic from `<slug>.<base domain>` when no other hint is given.
    pub base_domain: Option<String>,
    /// Per-address and per-API-key rate limits (`RATE_*_PER_MINUTE`).
    pub limits: rate_limit::Limits,
}

impl ApiConfig {
    /// Everything from the environment: `PLATFORM_TOKEN`, `CORS_ORIGINS`, `BASE_DOMAIN`,
    /// `RATE_LOGIN_PER_MINUTE`, `RATE_PUBLIC_PER_MINUTE`, `RATE_API_KEY_PER_MINUTE`.
    pub fn from_env() -> Result<ApiConfig, String> {
        Ok(ApiConfig {
            platform_token: std::env::var("PLATFORM_TOKEN").ok().filter(|t| !t.trim().is_empty()),
            cors: cors::AllowedOrigins::from_env()?,
            base_domain: clinic_host::parse_base_domain(&std::env::var("BASE_DOMAIN").unwrap_or_default())?,
            limits: rate_limit::Limits::from_env()?,
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub deps: Deps,
    pub config: Arc<ApiConfig>,
    /// Live push to the display boards (the dev server's hub, or API Gateway's Management API).
    pub live: antrean_live::Live,
    /// Uploaded files (FAQ documents): S3, or a local folder on the dev server.
    pub blobs: Arc<dyn antrean_blobs::BlobStore>,
    /// Outbound webhooks (n8n): the reqwest adapter with a 3-second timeout.
    pub webhooks: Arc<dyn antrean_domain::webhook::WebhookSender>,
}

/// The endpoint groups of the seed's module table, plus the platform group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Login, logout, API keys.
    Auth,
    /// Users, roles, poly, status, patients (seed M7).
    MasterData,
    /// Doctor schedules (seed M1).
    Schedule,
    /// Reservations, the queue and check-up schedules.
    Queue,
    /// Message templates, reminder configs, WhatsApp configs, configs, FAQ.
    Configuration,
    /// Dashboards and reports.
    Report,
    /// Clinics, for the platform operator.
    Platform,
    /// The health check, the OpenAPI document and the board and ticket pages.
    Site,
}

impl Group {
    pub const ALL: &'static [Group] =
        &[Group::Auth, Group::MasterData, Group::Schedule, Group::Queue, Group::Configuration, Group::Report, Group::Platform, Group::Site];
}
