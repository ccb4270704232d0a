//! Configuration (seed "Configuration"): message templates, reminder configs, WhatsApp
//! configs, configs and FAQ. Reads need `config.view`, changes `config.manage`.
use antrean_domain::error::DomainResult;
use antrean_domain::DomainError;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::AppState;

pub mod configs;
pub mod faq;
pub mod message_templates;
pub mod paginate;
pub mod reminder_configs;
pub mod whatsapp_configs;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(message_templates::routes())
        .merge(reminder_configs::routes())
        .merge(whatsapp_configs::routes())
        .merge(configs::routes())
        .merge(faq::routes())
}

/// The seed words "not found" differently per endpoint (`Message template` / `Message
/// Template`, `WhatsApp` / `Whatsapp`); each endpoint answers its own words.
pub(crate) fn or_not_found<T>(r: DomainResult<T>, message: &str) -> Result<T, ApiError> {
    r.map_err(|e| match e {
        DomainError::NotFound(_) => ApiError::not_found(message),
        other => other.into(),
    })
}
