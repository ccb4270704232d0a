//! Users (seed section "Users"): select (search, pages), detail, create, update, delete
//! (soft), trashed, restore. Every view nests the user's roles (with `pivot`) and poly, and
//! never a password or hash (those live in the separate credential item).
use antrean_domain::paging::{PageMeta, Paging};
use antrean_domain::permission::Permission;
use antrean_domain::record::{self, Stored};
use antrean_domain::role::Role;
use antrean_domain::user::{self, User, UserWithRelations};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::poly::PolyView;
use crate::envelope::{self, Data, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

const NOT_FOUND: &str = "User not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(select, create))
        .routes(routes!(trashed))
        .routes(routes!(detail, update, delete))
        .routes(routes!(restore))
        .routes(routes!(unblock))
}

/// The seed's role-user link.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pivot {
    pub user_id: i64,
    pub role_id: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A role as nested in a user view.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserRoleView {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
    pub pivot: Pivot,
}

/// A user as the seed shows it in select, detail, update, trashed and restore.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub email_verified_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub poly_id: Option<i64>,
    pub username: String,
    /// Where a password-recovery code goes (optional).
    pub whatsapp_number: Option<String>,
    pub deleted_at: Option<String>,
    pub roles: Vec<UserRoleView>,
    pub poly: Option<PolyView>,
    /// BPJS's code of the doctor, when the clinic gave one (not in the seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kodedokter: Option<i64>,
}

/// The create response, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserCreated {
    pub name: String,
    pub username: String,
    pub email: String,
    pub poly_id: Option<i64>,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
    pub roles: Vec<UserRoleView>,
    pub poly: Option<PolyView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kodedokter: Option<i64>,
}

/// `{"status":"success","data":[…],"meta":{…}}`
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub status: &'static str,
    pub data: Vec<UserView>,
    pub meta: PageMeta,
}

fn role_views(user_id: i64, roles: Vec<(Stored<Role>, String)>) -> Vec<UserRoleView> {
    roles
        .into_iter()
        .map(|(r, given)| UserRoleView {
            id: r.id,
            name: r.data.name,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
            pivot: Pivot { user_id, role_id: r.id, created_at: given.clone(), updated_at: given },
        })
        .collect()
}

impl From<UserWithRelations> for UserView {
    fn from(u: UserWithRelations) -> Self {
        let s: Stored<User> = u.user;
        UserView {
            id: s.id,
            roles: role_views(s.id, u.roles),
            poly: u.poly.map(PolyView::from),
            name: s.data.name,
            email: s.data.email,
            email_verified_at: s.data.email_verified_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
            poly_id: s.data.poly_id,
            username: s.data.username,
            whatsapp_number: s.data.whatsapp_number,
            deleted_at: s.deleted_at,
            kodedokter: u.kodedokter,
        }
    }
}

impl From<UserWithRelations> for UserCreated {
    fn from(u: UserWithRelations) -> Self {
        let s: Stored<User> = u.user;
        UserCreated {
            roles: role_views(s.id, u.roles),
            poly: u.poly.map(PolyView::from),
            name: s.data.name,
            username: s.data.username,
            email: s.data.email,
            poly_id: s.data.poly_id,
            updated_at: s.updated_at,
            created_at: s.created_at,
            id: s.id,
            kodedokter: u.kodedokter,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UserBody {
    pub name: String,
    /// Unique within the clinic (ignoring case), at most 100 characters.
    pub username: String,
    /// Unique within the clinic (ignoring case).
    pub email: String,
    /// At least 6 characters. Required on create; on update, absent or empty keeps the password.
    pub password: Option<String>,
    /// Must equal `password`.
    pub password_confirmation: Option<String>,
    /// Ids of live roles, at least one, e.g. `[1, 3]`.
    pub roles: Vec<i64>,
    /// A live poly, or null.
    pub poly_id: Option<i64>,
    /// A doctor's BPJS code (in `ref/dokter` when the clinic has BPJS configured); `null`
    /// removes it, absent keeps it.
    pub kodedokter: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UserListParams {
    /// Case-insensitive part of the name, username or email.
    pub search: Option<String>,
    /// Page number, from 1 (default 1).
    #[param(value_type = Option<u32>)]
    pub page: Option<String>,
    /// Users per page, 1–100 (default 10).
    #[param(value_type = Option<u32>)]
    pub per_page: Option<String>,
}

async fn page_of(s: &AppState, caller: &Caller, q: UserListParams, trashed: bool) -> ApiResult<Json<UserPage>> {
    let paging = Paging::parse(q.page.as_deref(), q.per_page.as_deref())?;
    let users = user::list(&s.deps, &caller.tenant, trashed, q.search.as_deref()).await?;
    let (users, meta) = paging.slice(users);
    let data = user::with_relations(&s.deps, &caller.tenant, users).await?.into_iter().map(UserView::from).collect();
    Ok(Json(UserPage { status: "success", data, meta }))
}

#[utoipa::path(get, path = "/api/users", tag = "Users", params(UserListParams), security(("bearer" = [])),
    responses((status = 200, body = UserPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, Query(q): Query<UserListParams>) -> ApiResult<Json<UserPage>> {
    caller.require(Permission::UsersView)?;
    page_of(&s, &caller, q, false).await
}

#[utoipa::path(get, path = "/api/users/trashed", tag = "Users", params(UserListParams), security(("bearer" = [])),
    responses((status = 200, body = UserPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn trashed(State(s): State<AppState>, caller: Caller, Query(q): Query<UserListParams>) -> ApiResult<Json<UserPage>> {
    caller.require(Permission::UsersManage)?;
    page_of(&s, &caller, q, true).await
}

#[utoipa::path(post, path = "/api/users", tag = "Users", request_body = UserBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<UserCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<UserCreated>>> {
    caller.require(Permission::UsersManage)?;
    let stored = user::create(&s.deps, s.webhooks.as_ref(), &caller.tenant, &caller.actor, &body).await?;
    let full = user::with_relations_one(&s.deps, &caller.tenant, stored).await?;
    Ok(Json(envelope::message_data("User created successfully", full.into())))
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "Users", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Data<UserView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Data<UserView>>> {
    caller.require(Permission::UsersView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let found = user::find(&s.deps, &caller.tenant, id).await?;
    let full = user::with_relations_one(&s.deps, &caller.tenant, found).await?;
    Ok(Json(envelope::data(full.into())))
}

#[utoipa::path(put, path = "/api/users/{id}", tag = "Users", params(("id" = String, Path)), request_body = UserBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<UserView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<UserView>>> {
    caller.require(Permission::UsersManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let stored = user::update(&s.deps, s.webhooks.as_ref(), &caller.tenant, &caller.actor, id, &body).await?;
    let full = user::with_relations_one(&s.deps, &caller.tenant, stored).await?;
    Ok(Json(envelope::message_data("User updated successfully", full.into())))
}

#[utoipa::path(delete, path = "/api/users/{id}", tag = "Users", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::UsersManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    user::trash(&s.deps, &caller.tenant, &caller.actor, id).await?;
    Ok(Json(envelope::message("User deleted successfully")))
}

#[utoipa::path(post, path = "/api/users/{id}/restore", tag = "Users", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<UserView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn restore(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<UserView>>> {
    caller.require(Permission::UsersManage)?;
    let id = parse_id(&id, "User not found or not deleted")?;
    let stored = record::restore::<User>(&s.deps, &caller.tenant, &caller.actor, id).await?;
    let full = user::with_relations_one(&s.deps, &caller.tenant, stored).await?;
    Ok(Json(envelope::message_data("User restored successfully", full.into())))
}

#[utoipa::path(post, path = "/api/users/{id}/unblock", tag = "Users", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message, description = "Lifts a lock after 5 wrong passwords (audited)"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn unblock(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::UsersManage)?;
    let id = parse_id(&id, "User not found")?;
    antrean_domain::auth::login::unblock(&s.deps, &caller.tenant, &caller.actor, id).await?;
    Ok(Json(envelope::message("User unblocked successfully")))
}
