//! Configs (seed "Config"): select, detail, create, update, delete (hard). Names are unique
//! per clinic; `clinic_timezone`, `n8n_webhook_url` and `n8n_webhook_secret` have their
//! values checked. Secret values (`*_secret`, `*_token`, …) are shown only to callers who
//! may change configs.
use antrean_domain::auth::principal::Principal;
use antrean_domain::configuration::config::{self, is_secret, Config};
use antrean_domain::permission::Permission;
use antrean_domain::record::{self, Stored};
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::or_not_found;
use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

/// The seed's detail answer is lower-case; delete and update say "Config".
const DETAIL_NOT_FOUND: &str = "config not found";
const NOT_FOUND: &str = "Config not found";
const MASK: &str = "********";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(select, create)).routes(routes!(detail, update, delete))
}

/// A config as the seed shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigView {
    pub id: i64,
    pub name: String,
    pub value: String,
    pub created_at: Option<String>,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

fn view(s: Stored<Config>, caller: &Principal) -> ConfigView {
    let hide = is_secret(&s.data.name) && !caller.can(Permission::ConfigManage);
    ConfigView {
        id: s.id,
        name: s.data.name,
        value: if hide { MASK.into() } else { s.data.value },
        created_at: Some(s.created_at),
        updated_at: s.updated_at,
        deleted_at: s.deleted_at,
    }
}

/// The create response, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigCreated {
    pub name: String,
    pub value: String,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ConfigBody {
    /// Letters, digits, `_`, `-`, `.`; at most 100; unique per clinic ignoring case.
    pub name: String,
    /// Text (numbers and booleans are stored as text), at most 2000 characters.
    /// `clinic_timezone`: an IANA zone; `n8n_webhook_url`: an http(s) URL;
    /// `n8n_webhook_secret`: at least 16 characters.
    pub value: String,
}

#[utoipa::path(get, path = "/api/configs", tag = "Config", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<ConfigView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<MessageData<Vec<ConfigView>>>> {
    caller.require(Permission::ConfigView)?;
    let list = record::list::<Config>(&s.deps, &caller.tenant, false).await?;
    Ok(Json(envelope::message_data("Config list retrieved successfully", list.into_iter().map(|c| view(c, &caller)).collect())))
}

#[utoipa::path(post, path = "/api/configs", tag = "Config", request_body = ConfigBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<ConfigCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<ConfigCreated>>> {
    caller.require(Permission::ConfigManage)?;
    let config = Config::parse(&body)?;
    config.check_destination(|url| s.webhooks.refusal(url))?;
    let stored = config::create(&s.deps, &caller.tenant, &caller.actor, config).await?;
    Ok(Json(envelope::message_data(
        "Config created successfully",
        ConfigCreated { name: stored.data.name, value: stored.data.value, updated_at: stored.updated_at, created_at: stored.created_at, id: stored.id },
    )))
}

#[utoipa::path(get, path = "/api/configs/{id}", tag = "Config", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<ConfigView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<ConfigView>>> {
    caller.require(Permission::ConfigView)?;
    let id = parse_id(&id, DETAIL_NOT_FOUND)?;
    let config = or_not_found(record::find::<Config>(&s.deps, &caller.tenant, id).await, DETAIL_NOT_FOUND)?;
    Ok(Json(envelope::message_data("Config retrieved successfully", view(config, &caller))))
}

#[utoipa::path(put, path = "/api/configs/{id}", tag = "Config", params(("id" = String, Path)), request_body = ConfigBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<ConfigView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<ConfigView>>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    or_not_found(record::find::<Config>(&s.deps, &caller.tenant, id).await, NOT_FOUND)?;
    let config = Config::parse(&body)?;
    config.check_destination(|url| s.webhooks.refusal(url))?;
    let stored =
        or_not_found(config::update(&s.deps, &caller.tenant, &caller.actor, id, config).await, NOT_FOUND)?;
    Ok(Json(envelope::message_data("Config updated successfully", view(stored, &caller))))
}

#[utoipa::path(delete, path = "/api/configs/{id}", tag = "Config", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    or_not_found(config::delete(&s.deps, &caller.tenant, &caller.actor, id).await, NOT_FOUND)?;
    Ok(Json(envelope::message("Config deleted successfully")))
}
