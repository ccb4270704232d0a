//! Roles (seed section "Roles"): select, detail, create, update, delete (soft), trashed,
//! restore. Besides the seed's fields every role shows its `permissions`.
use antrean_domain::permission::Permission;
use antrean_domain::record::{self, Stored};
use antrean_domain::role::{self, Role, RoleForm};
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

const NOT_FOUND: &str = "Role not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(select, create))
        .routes(routes!(trashed))
        .routes(routes!(detail, update, delete))
        .routes(routes!(restore))
}

/// A role as the seed shows it, plus the permissions it grants.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    pub id: i64,
    pub name: String,
    pub permissions: Vec<Permission>,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

impl From<Stored<Role>> for RoleView {
    fn from(s: Stored<Role>) -> Self {
        RoleView {
            id: s.id,
            name: s.data.name,
            permissions: s.data.permissions,
            created_at: s.created_at,
            updated_at: s.updated_at,
            deleted_at: s.deleted_at,
        }
    }
}

/// The create response, in the seed's field order (plus the permissions).
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleCreated {
    pub name: String,
    pub permissions: Vec<Permission>,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RoleBody {
    /// Unique within the clinic, at most 255 characters.
    pub name: String,
    /// Permission names. On create, absent means none; on update, absent keeps the current ones.
    pub permissions: Option<Vec<Permission>>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Case-insensitive part of the name.
    pub search: Option<String>,
}

#[utoipa::path(get, path = "/api/roles", tag = "Roles", params(SearchParams), security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<RoleView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, Query(q): Query<SearchParams>) -> ApiResult<Json<Data<Vec<RoleView>>>> {
    caller.require(Permission::RolesView)?;
    let list = role::list(&s.deps, &caller.tenant, false, q.search.as_deref()).await?;
    Ok(Json(envelope::data(list.into_iter().map(RoleView::from).collect())))
}

#[utoipa::path(get, path = "/api/roles/trashed", tag = "Roles", params(SearchParams), security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<RoleView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn trashed(State(s): State<AppState>, caller: Caller, Query(q): Query<SearchParams>) -> ApiResult<Json<Data<Vec<RoleView>>>> {
    caller.require(Permission::RolesManage)?;
    let list = role::list(&s.deps, &caller.tenant, true, q.search.as_deref()).await?;
    Ok(Json(envelope::data(list.into_iter().map(RoleView::from).collect())))
}

#[utoipa::path(post, path = "/api/roles", tag = "Roles", request_body = RoleBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<RoleCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<RoleCreated>>> {
    caller.require(Permission::RolesManage)?;
    let form = RoleForm::parse(&body)?;
    let stored = role::create(&s.deps, &caller.tenant, &caller.actor, form).await?;
    Ok(Json(envelope::message_data(
        "Role created successfully",
        RoleCreated {
            name: stored.data.name,
            permissions: stored.data.permissions,
            updated_at: stored.updated_at,
            created_at: stored.created_at,
            id: stored.id,
        },
    )))
}

#[utoipa::path(get, path = "/api/roles/{id}", tag = "Roles", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Data<RoleView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Data<RoleView>>> {
    caller.require(Permission::RolesView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let found = record::find::<Role>(&s.deps, &caller.tenant, id).await?;
    Ok(Json(envelope::data(found.into())))
}

#[utoipa::path(put, path = "/api/roles/{id}", tag = "Roles", params(("id" = String, Path)), request_body = RoleBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<RoleView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<RoleView>>> {
    caller.require(Permission::RolesManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    // An unknown id is a 404 before the body is judged.
    record::find::<Role>(&s.deps, &caller.tenant, id).await?;
    let form = RoleForm::parse(&body)?;
    let stored = role::update(&s.deps, &caller.tenant, &caller.actor, id, form).await?;
    Ok(Json(envelope::message_data("Role updated successfully", stored.into())))
}

#[utoipa::path(delete, path = "/api/roles/{id}", tag = "Roles", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::RolesManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    role::trash(&s.deps, &caller.tenant, &caller.actor, id).await?;
    Ok(Json(envelope::message("Role deleted successfully")))
}

#[utoipa::path(post, path = "/api/roles/{id}/restore", tag = "Roles", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<RoleView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn restore(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<RoleView>>> {
    caller.require(Permission::RolesManage)?;
    let id = parse_id(&id, "Role not found or not deleted")?;
    let stored = record::restore::<Role>(&s.deps, &caller.tenant, &caller.actor, id).await?;
    Ok(Json(envelope::message_data("Role restored successfully", stored.into())))
}
