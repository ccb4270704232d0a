//! WhatsApp configs (seed "Whatsapp Config"): select, detail, create, update, delete (hard).
//! A number is unique per clinic.
use antrean_domain::configuration::whatsapp_config::WhatsappConfig;
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

/// The seed spells it "Whatsapp" on detail and delete, "WhatsApp" on update.
const NOT_FOUND: &str = "Whatsapp config not found";
const UPDATE_NOT_FOUND: &str = "WhatsApp config not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(select, create)).routes(routes!(detail, update, delete))
}

/// A WhatsApp config as the seed shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatsappView {
    pub id: i64,
    pub whatsapp_number: String,
    pub waha_api_url: String,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

impl From<Stored<WhatsappConfig>> for WhatsappView {
    fn from(s: Stored<WhatsappConfig>) -> Self {
        WhatsappView {
            id: s.id,
            whatsapp_number: s.data.whatsapp_number,
            waha_api_url: s.data.waha_api_url,
            created_at: s.created_at,
            updated_at: s.updated_at,
            deleted_at: s.deleted_at,
        }
    }
}

/// The create response, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatsappCreated {
    pub whatsapp_number: String,
    pub waha_api_url: String,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct WhatsappBody {
    /// 8–15 digits in international form (`6281234567890`; spaces, dashes and a leading `+`
    /// are dropped). Unique per clinic.
    pub whatsapp_number: String,
    /// The WAHA endpoint, an http(s) URL.
    pub waha_api_url: String,
}

#[utoipa::path(get, path = "/api/whatsapp-configs", tag = "Whatsapp Config", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<WhatsappView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<MessageData<Vec<WhatsappView>>>> {
    caller.require(Permission::ConfigView)?;
    let list = record::list::<WhatsappConfig>(&s.deps, &caller.tenant, false).await?;
    Ok(Json(envelope::message_data("WhatsApp config list retrieved successfully", list.into_iter().map(WhatsappView::from).collect())))
}

#[utoipa::path(post, path = "/api/whatsapp-configs", tag = "Whatsapp Config", request_body = WhatsappBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<WhatsappCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<WhatsappCreated>>> {
    caller.require(Permission::ConfigManage)?;
    let config = WhatsappConfig::parse(&body)?;
    let stored = record::create(&s.deps, &caller.tenant, &caller.actor, config, |_| vec![]).await?;
    Ok(Json(envelope::message_data(
        "WhatsApp config created successfully",
        WhatsappCreated {
            whatsapp_number: stored.data.whatsapp_number,
            waha_api_url: stored.data.waha_api_url,
            updated_at: stored.updated_at,
            created_at: stored.created_at,
            id: stored.id,
        },
    )))
}

#[utoipa::path(get, path = "/api/whatsapp-configs/{id}", tag = "Whatsapp Config", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<WhatsappView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<WhatsappView>>> {
    caller.require(Permission::ConfigView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let config = or_not_found(record::find::<WhatsappConfig>(&s.deps, &caller.tenant, id).await, NOT_FOUND)?;
    Ok(Json(envelope::message_data("WhatsApp config retrieved successfully", config.into())))
}

#[utoipa::path(put, path = "/api/whatsapp-configs/{id}", tag = "Whatsapp Config", params(("id" = String, Path)), request_body = WhatsappBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<WhatsappView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<WhatsappView>>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, UPDATE_NOT_FOUND)?;
    or_not_found(record::find::<WhatsappConfig>(&s.deps, &caller.tenant, id).await, UPDATE_NOT_FOUND)?;
    let config = WhatsappConfig::parse(&body)?;
    let stored = or_not_found(
        record::update::<WhatsappConfig>(&s.deps, &caller.tenant, &caller.actor, id, |_| Ok((config.clone(), vec![]))).await,
        UPDATE_NOT_FOUND,
    )?;
    Ok(Json(envelope::message_data("WhatsApp config updated successfully", stored.into())))
}

#[utoipa::path(delete, path = "/api/whatsapp-configs/{id}", tag = "Whatsapp Config", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    or_not_found(record::delete::<WhatsappConfig>(&s.deps, &caller.tenant, &caller.actor, id).await, NOT_FOUND)?;
    Ok(Json(envelope::message("Whatsapp config deleted successfully")))
}
