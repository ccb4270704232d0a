//! Status (seed section "Status"): select, detail, create, update, delete (soft), trashed,
//! restore. The seven workflow statuses keep their codes and cannot be deleted.
use antrean_domain::permission::Permission;
use antrean_domain::record::{self, Stored};
use antrean_domain::status::{self, Status};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Data, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

const NOT_FOUND: &str = "Status not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(select, create))
        .routes(routes!(trashed))
        .routes(routes!(detail, update, delete))
        .routes(routes!(restore))
}

/// A status as the seed shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    pub id: i64,
    pub status_name: String,
    pub label: String,
    pub information: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

impl From<Stored<Status>> for StatusView {
    fn from(s: Stored<Status>) -> Self {
        StatusView {
            id: s.id,
            status_name: s.data.status_name,
            label: s.data.label,
            information: s.data.information,
            created_at: s.created_at,
            updated_at: s.updated_at,
            deleted_at: s.deleted_at,
        }
    }
}

/// The create response, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCreated {
    pub status_name: String,
    pub label: String,
    pub information: Option<String>,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct StatusBody {
    /// The code, unique within the clinic, stored upper-case, at most 50 characters. A workflow
    /// status's code cannot change.
    pub status_name: String,
    /// What the clinic calls it, at most 255 characters.
    pub label: String,
    /// At most 1000 characters.
    pub information: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Case-insensitive part of the code or the label.
    pub search: Option<String>,
}

#[utoipa::path(get, path = "/api/status", tag = "Status", params(SearchParams), security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<StatusView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, Query(q): Query<SearchParams>) -> ApiResult<Json<Data<Vec<StatusView>>>> {
    caller.require(Permission::StatusView)?;
    let list = status::list(&s.deps, &caller.tenant, false, q.search.as_deref()).await?;
    Ok(Json(envelope::data(list.into_iter().map(StatusView::from).collect())))
}

#[utoipa::path(get, path = "/api/status/trashed", tag = "Status", params(SearchParams), security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<StatusView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn trashed(State(s): State<AppState>, caller: Caller, Query(q): Query<SearchParams>) -> ApiResult<Json<Data<Vec<StatusView>>>> {
    caller.require(Permission::StatusManage)?;
    let list = status::list(&s.deps, &caller.tenant, true, q.search.as_deref()).await?;
    Ok(Json(envelope::data(list.into_iter().map(StatusView::from).collect())))
}

#[utoipa::path(post, path = "/api/status", tag = "Status", request_body = StatusBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<StatusCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<StatusCreated>>> {
    caller.require(Permission::StatusManage)?;
    let new = Status::parse(&body)?;
    let stored = record::create(&s.deps, &caller.tenant, &caller.actor, new, |_| vec![]).await?;
    Ok(Json(envelope::message_data(
        "Status created successfully",
        StatusCreated {
            status_name: stored.data.status_name,
            label: stored.data.label,
            information: stored.data.information,
            updated_at: stored.updated_at,
            created_at: stored.created_at,
            id: stored.id,
        },
    )))
}

#[utoipa::path(get, path = "/api/status/{id}", tag = "Status", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Data<StatusView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Data<StatusView>>> {
    caller.require(Permission::StatusView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let found = record::find::<Status>(&s.deps, &caller.tenant, id).await?;
    Ok(Json(envelope::data(found.into())))
}

#[utoipa::path(put, path = "/api/status/{id}", tag = "Status", params(("id" = String, Path)), request_body = StatusBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<StatusView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<StatusView>>> {
    caller.require(Permission::StatusManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    // An unknown id is a 404 before the body is judged.
    record::find::<Status>(&s.deps, &caller.tenant, id).await?;
    let new = Status::parse(&body)?;
    let stored = status::update(&s.deps, &caller.tenant, &caller.actor, id, new).await?;
    Ok(Json(envelope::message_data("Status updated successfully", stored.into())))
}

#[utoipa::path(delete, path = "/api/status/{id}", tag = "Status", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::StatusManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    status::trash(&s.deps, &caller.tenant, &caller.actor, id).await?;
    Ok(Json(envelope::message("Status deleted successfully")))
}

#[utoipa::path(post, path = "/api/status/{id}/restore", tag = "Status", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<StatusView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn restore(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<StatusView>>> {
    caller.require(Permission::StatusManage)?;
    let id = parse_id(&id, "Status not found or not deleted")?;
    let stored = record::restore::<Status>(&s.deps, &caller.tenant, &caller.actor, id).await?;
    Ok(Json(envelope::message_data("Status restored successfully", stored.into())))
}
