//! Message templates (seed "Message Template"): select (search, pages), detail, create,
//! update, delete (hard; refused while a reminder config uses the template).
use antrean_domain::configuration::message_template::{self, MessageTemplate};
use antrean_domain::paging::Paging;
use antrean_domain::permission::Permission;
use antrean_domain::record::{self, Stored};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::or_not_found;
use super::paginate::{paginate, LaravelPage, RequestUrl};
use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

const NOT_FOUND: &str = "Message template not found";
/// The seed's delete answers spell it with a capital T.
const DELETE_NOT_FOUND: &str = "Message Template not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(select, create)).routes(routes!(detail, update, delete))
}

/// A message template as the seed shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateView {
    pub id: i64,
    pub template_name: String,
    pub message: String,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

impl From<Stored<MessageTemplate>> for TemplateView {
    fn from(s: Stored<MessageTemplate>) -> Self {
        TemplateView {
            id: s.id,
            template_name: s.data.template_name,
            message: s.data.message,
            created_at: s.created_at,
            updated_at: s.updated_at,
            deleted_at: s.deleted_at,
        }
    }
}

/// The create response, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateCreated {
    pub template_name: String,
    pub message: String,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TemplateBody {
    /// At most 255 characters.
    pub template_name: String,
    /// At most 4096 characters. Placeholders: `{{patient_name}}`, `{{queue_number}}`,
    /// `{{poly}}`, `{{date}}`, `{{doctor}}`, `{{estimated_time}}`; any other is a 422.
    pub message: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// Case-insensitive part of the template name or message.
    pub search: Option<String>,
    /// From 1 (default 1).
    pub page: Option<String>,
    /// 1–100 (default 10).
    pub per_page: Option<String>,
}

#[utoipa::path(get, path = "/api/message-templates", tag = "Message Template", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<LaravelPage<TemplateView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, url: RequestUrl, Query(q): Query<ListParams>) -> ApiResult<Json<MessageData<LaravelPage<TemplateView>>>> {
    caller.require(Permission::ConfigView)?;
    let paging = Paging::parse(q.page.as_deref(), q.per_page.as_deref())?;
    let needle = q.search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let list: Vec<TemplateView> = record::list::<MessageTemplate>(&s.deps, &caller.tenant, false)
        .await?
        .into_iter()
        .filter(|t| needle.as_ref().is_none_or(|n| t.data.template_name.to_lowercase().contains(n) || t.data.message.to_lowercase().contains(n)))
        .map(TemplateView::from)
        .collect();
    Ok(Json(envelope::message_data("Message templates retrieved successfully", paginate(list, paging, &url))))
}

#[utoipa::path(post, path = "/api/message-templates", tag = "Message Template", request_body = TemplateBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<TemplateCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<TemplateCreated>>> {
    caller.require(Permission::ConfigManage)?;
    let template = MessageTemplate::parse(&body)?;
    let stored = record::create(&s.deps, &caller.tenant, &caller.actor, template, |_| vec![]).await?;
    Ok(Json(envelope::message_data(
        "Message template created successfully",
        TemplateCreated {
            template_name: stored.data.template_name,
            message: stored.data.message,
            updated_at: stored.updated_at,
            created_at: stored.created_at,
            id: stored.id,
        },
    )))
}

#[utoipa::path(get, path = "/api/message-templates/{id}", tag = "Message Template", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<TemplateView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<TemplateView>>> {
    caller.require(Permission::ConfigView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let template = or_not_found(record::find::<MessageTemplate>(&s.deps, &caller.tenant, id).await, NOT_FOUND)?;
    Ok(Json(envelope::message_data("Message template retrieved successfully", template.into())))
}

#[utoipa::path(put, path = "/api/message-templates/{id}", tag = "Message Template", params(("id" = String, Path)), request_body = TemplateBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<TemplateView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<TemplateView>>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    // An unknown id is a 404 before the body is judged, as the seed's Laravel original does.
    or_not_found(record::find::<MessageTemplate>(&s.deps, &caller.tenant, id).await, NOT_FOUND)?;
    let template = MessageTemplate::parse(&body)?;
    let stored = or_not_found(
        record::update::<MessageTemplate>(&s.deps, &caller.tenant, &caller.actor, id, |_| Ok((template.clone(), vec![]))).await,
        NOT_FOUND,
    )?;
    Ok(Json(envelope::message_data("Message template updated successfully", stored.into())))
}

#[utoipa::path(delete, path = "/api/message-templates/{id}", tag = "Message Template", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A reminder config uses the template")))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, DELETE_NOT_FOUND)?;
    message_template::delete(&s.deps, &caller.tenant, &caller.actor, id, DELETE_NOT_FOUND).await?;
    Ok(Json(envelope::message("Message Template deleted successfully")))
}
