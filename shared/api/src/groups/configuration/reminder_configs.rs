//! Reminder configs (seed "Reminder Config"): select (pages), detail, create, update,
//! delete (hard). Every view nests its `message_template`.
use std::collections::HashMap;

use antrean_domain::configuration::message_template;
use antrean_domain::configuration::reminder_config::{self, ReminderConfig, ReminderForm};
use antrean_domain::paging::Paging;
use antrean_domain::permission::Permission;
use antrean_domain::record::{self, Stored};
use antrean_domain::{Deps, Tenant};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::message_templates::TemplateView;
use super::or_not_found;
use super::paginate::{paginate, LaravelPage, RequestUrl};
use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

const NOT_FOUND: &str = "Reminder config not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(select, create)).routes(routes!(detail, update, delete))
}

/// A reminder config as the seed shows it in select, detail and update.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderView {
    pub id: i64,
    pub message_template_id: i64,
    pub reminder_offset: i64,
    pub reminder_patient_count: i64,
    pub reminder_type: String,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
    pub message_template: Option<TemplateView>,
}

/// The create response, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderCreated {
    pub message_template_id: i64,
    pub reminder_offset: i64,
    pub reminder_patient_count: i64,
    pub reminder_type: String,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
    pub message_template: Option<TemplateView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ReminderBody {
    /// An existing message template.
    pub message_template_id: i64,
    /// Minutes, 0–10080 (`SCHEDULE`: how long before the appointment).
    pub reminder_offset: i64,
    /// 0–100 (`QUEUE`: how many places before the patient's turn).
    pub reminder_patient_count: i64,
    /// `QUEUE` or `SCHEDULE`. On update every field is optional: absent keeps the current value.
    pub reminder_type: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// From 1 (default 1).
    pub page: Option<String>,
    /// 1–100 (default 10).
    pub per_page: Option<String>,
}

/// Reads the templates the configs use, each once.
async fn templates(deps: &Deps, tenant: &Tenant, ids: impl Iterator<Item = i64>) -> ApiResult<HashMap<i64, TemplateView>> {
    let mut out = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(e) = out.entry(id) {
            if let Some(t) = message_template::find(deps, tenant, id).await? {
                e.insert(TemplateView::from(t));
            }
        }
    }
    Ok(out)
}

fn view(s: Stored<ReminderConfig>, templates: &HashMap<i64, TemplateView>) -> ReminderView {
    ReminderView {
        id: s.id,
        message_template_id: s.data.message_template_id,
        reminder_offset: s.data.reminder_offset,
        reminder_patient_count: s.data.reminder_patient_count,
        reminder_type: s.data.reminder_type,
        created_at: s.created_at,
        updated_at: s.updated_at,
        deleted_at: s.deleted_at,
        message_template: templates.get(&s.data.message_template_id).cloned(),
    }
}

async fn view_one(s: &AppState, tenant: &Tenant, r: Stored<ReminderConfig>) -> ApiResult<ReminderView> {
    let t = templates(&s.deps, tenant, std::iter::once(r.data.message_template_id)).await?;
    Ok(view(r, &t))
}

#[utoipa::path(get, path = "/api/reminder-configs", tag = "Reminder Config", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<LaravelPage<ReminderView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, url: RequestUrl, Query(q): Query<ListParams>) -> ApiResult<Json<MessageData<LaravelPage<ReminderView>>>> {
    caller.require(Permission::ConfigView)?;
    let paging = Paging::parse(q.page.as_deref(), q.per_page.as_deref())?;
    let list = reminder_config::list(&s.deps, &caller.tenant).await?;
    // Only the page's configs need their templates.
    let page = paginate(list, paging, &url);
    let t = templates(&s.deps, &caller.tenant, page.data.iter().map(|r| r.data.message_template_id)).await?;
    let page = page.map(|r| view(r, &t));
    Ok(Json(envelope::message_data("Reminder configs retrieved successfully", page)))
}

#[utoipa::path(post, path = "/api/reminder-configs", tag = "Reminder Config", request_body = ReminderBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<ReminderCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<ReminderCreated>>> {
    caller.require(Permission::ConfigManage)?;
    let form = ReminderForm::parse(&s.deps, &caller.tenant, &body, None).await?;
    let stored = reminder_config::create(&s.deps, &caller.tenant, &caller.actor, form).await?;
    let v = view_one(&s, &caller.tenant, stored).await?;
    Ok(Json(envelope::message_data(
        "Reminder config created successfully",
        ReminderCreated {
            message_template_id: v.message_template_id,
            reminder_offset: v.reminder_offset,
            reminder_patient_count: v.reminder_patient_count,
            reminder_type: v.reminder_type,
            updated_at: v.updated_at,
            created_at: v.created_at,
            id: v.id,
            message_template: v.message_template,
        },
    )))
}

#[utoipa::path(get, path = "/api/reminder-configs/{id}", tag = "Reminder Config", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<ReminderView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<ReminderView>>> {
    caller.require(Permission::ConfigView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let r = or_not_found(record::find::<ReminderConfig>(&s.deps, &caller.tenant, id).await, NOT_FOUND)?;
    Ok(Json(envelope::message_data("Reminder config retrieved successfully", view_one(&s, &caller.tenant, r).await?)))
}

#[utoipa::path(put, path = "/api/reminder-configs/{id}", tag = "Reminder Config", params(("id" = String, Path)), request_body = ReminderBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<ReminderView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<ReminderView>>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let current = or_not_found(record::find::<ReminderConfig>(&s.deps, &caller.tenant, id).await, NOT_FOUND)?;
    let form = ReminderForm::parse(&s.deps, &caller.tenant, &body, Some(&current.data)).await?;
    let stored = or_not_found(reminder_config::update(&s.deps, &caller.tenant, &caller.actor, id, form).await, NOT_FOUND)?;
    Ok(Json(envelope::message_data("Reminder config updated successfully", view_one(&s, &caller.tenant, stored).await?)))
}

#[utoipa::path(delete, path = "/api/reminder-configs/{id}", tag = "Reminder Config", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    reminder_config::delete(&s.deps, &caller.tenant, &caller.actor, id, NOT_FOUND).await?;
    Ok(Json(envelope::message("Reminder config deleted successfully")))
}
