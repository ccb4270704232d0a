//! The HTTP API: one `axum::Router` per endpoint group, served unchanged by a Lambda
//! (`lambda_http::run`) or by the dev server (`axum::serve`). Handlers parse, call the
//! domain, and shape the seed's response; no storage calls here.
pub mod envelope;
pub mod error;
pub mod extract;
pub mod groups;
pub mod openapi;
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
}

#[derive(Clone)]
pub struct AppState {
    pub deps: Deps,
    pub config: Arc<ApiConfig>,
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
}

impl Group {
    pub const ALL: &'static [Group] =
        &[Group::Auth, Group::MasterData, Group::Schedule, Group::Queue, Group::Configuration, Group::Report, Group::Platform];
}
