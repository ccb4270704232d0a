//! Auth (seed section "Authentication"): login, logout, permanent token (API keys for n8n).
use antrean_domain::auth::api_key;
use antrean_domain::auth::login::{self, LoginRequest};
use antrean_domain::auth::principal::Credential;
use antrean_domain::permission::{self, Permission};
use antrean_domain::poly::Poly;
use antrean_domain::record;
use antrean_domain::role::Role;
use antrean_domain::{DomainError, FieldErrors, Tenant};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Data, Message, MessageData};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(permanent_token))
        .routes(routes!(list_api_keys))
        .routes(routes!(revoke_api_key))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ForgotPasswordBody {
    pub username: String,
    /// As for login: else `X-Clinic`, else the host name's clinic, else `default`.
    pub clinic: Option<String>,
}

/// The clinic of a body that names one the way login does; `None` when it cannot be a clinic.
fn body_tenant(s: &AppState, headers: &HeaderMap, body: &Value) -> Option<Tenant> {
    let hint = body.get("clinic").and_then(Value::as_str).map(str::trim).filter(|c| !c.is_empty());
    login_clinic(hint, headers, s.config.base_domain.as_deref()).and_then(|slug| Tenant::parse(&slug).ok())
}

#[utoipa::path(post, path = "/api/auth/forgot-password", tag = "Auth", request_body = ForgotPasswordBody,
    responses((status = 200, body = Message, description = "Always the same answer: whether the account exists is never told. The code goes to the account's WhatsApp number through n8n (`GET /api/reminders/due`), never into an answer."),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn forgot_password(State(s): State<AppState>, headers: HeaderMap, JsonBody(body): JsonBody) -> ApiResult<Json<Message>> {
    let mut errors = FieldErrors::new();
    let username = antrean_domain::validate::required_string(&mut errors, &body, "username", 255);
    errors.into_result()?;
    if let (Some(tenant), Some(username)) = (body_tenant(&s, &headers, &body), username) {
        antrean_domain::auth::recovery::request(&s.deps, &tenant, &username).await?;
    }
    Ok(Json(envelope::message(antrean_domain::auth::recovery::REQUESTED)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ResetPasswordBody {
    pub username: String,
    pub clinic: Option<String>,
    /// The 6 digits sent by WhatsApp; 5 tries within 10 minutes.
    pub code: String,
    pub password: String,
    pub password_confirmation: String,
}

#[utoipa::path(post, path = "/api/auth/reset-password", tag = "Auth", request_body = ResetPasswordBody,
    responses((status = 200, body = Message, description = "The new password is set, a lock is lifted, and every session of the account ends"),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody, description = "A wrong, used or expired code (the same for an unknown account), or password rules"),
        (status = 429, body = ErrorBody)))]
async fn reset_password(State(s): State<AppState>, headers: HeaderMap, JsonBody(body): JsonBody) -> ApiResult<Json<Message>> {
    let mut errors = FieldErrors::new();
    let username = antrean_domain::validate::required_string(&mut errors, &body, "username", 255);
    let form = antrean_domain::auth::recovery::ResetForm::parse(&body);
    let form = match form {
        Ok(f) => {
            errors.into_result()?;
            f
        }
        Err(DomainError::Validation(mut more)) => {
            for (field, msgs) in errors.0 {
                more.0.insert(field, msgs);
            }
            return Err(DomainError::Validation(more).into());
        }
        Err(e) => return Err(e.into()),
    };
    let wrong = || ApiError::from(FieldErrors::single("code", "The code is invalid or has expired."));
    let tenant = body_tenant(&s, &headers, &body).ok_or_else(wrong)?;
    antrean_domain::auth::recovery::reset(&s.deps, &tenant, &username.unwrap_or_default(), &form).await?;
    Ok(Json(envelope::message("Password reset successfully. Sign in with the new password.")))
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
    /// The clinic's slug; else the `X-Clinic` header; else the host name's clinic
    /// (`<slug>.<BASE_DOMAIN>`); else `default`.
    pub clinic: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdName {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginUser {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub email: String,
    pub poly: Option<IdName>,
    pub roles: Vec<IdName>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub status: &'static str,
    pub message: &'static str,
    pub token: String,
    #[serde(rename = "type")]
    pub token_type: &'static str,
    /// When the token stops working (seed timestamp format).
    pub expires_at: String,
    pub user: LoginUser,
}

/// Which clinic a login is for: the body's `clinic`, else `X-Clinic`, else the host name
/// (`<slug>.<BASE_DOMAIN>`), else `default`.
pub fn login_clinic(body_clinic: Option<&str>, headers: &HeaderMap, base_domain: Option<&str>) -> Option<String> {
    body_clinic
        .map(str::to_string)
        .or_else(|| headers.get("x-clinic").and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
        .or_else(|| crate::clinic_host::clinic_from_headers(headers, base_domain))
        .or_else(|| Some("default".to_string()))
}

#[utoipa::path(post, path = "/api/auth/login", tag = "Auth", request_body = LoginBody,
    responses((status = 200, body = LoginResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 423, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(State(s): State<AppState>, headers: HeaderMap, JsonBody(body): JsonBody) -> ApiResult<Json<LoginResponse>> {
    let req = LoginRequest::parse(&body)?;
    let wrong = || ApiError::from(DomainError::InvalidCredentials(login::WRONG_CREDENTIALS.into()));
    let slug = login_clinic(req.clinic.as_deref(), &headers, s.config.base_domain.as_deref()).ok_or_else(wrong)?;
    // An unknown clinic answers like a wrong password: nothing tells which clinics exist.
    let tenant = Tenant::parse(&slug).map_err(|_| wrong())?;
    tracing::Span::current().record("clinic", tenant.slug());
    let done = login::login(&s.deps, &tenant, &req).await?;
    let user = done.user;
    let poly = match user.data.poly_id {
        Some(id) => record::get::<Poly>(&s.deps, &tenant, id).await?.map(|p| IdName { id: p.id, name: p.data.name }),
        None => None,
    };
    let mut roles = Vec::new();
    for id in &user.data.roles {
        if let Some(r) = record::get::<Role>(&s.deps, &tenant, *id).await? {
            if !r.is_trashed() {
                roles.push(IdName { id: r.id, name: r.data.name });
            }
        }
    }
    let expires_at = chrono::DateTime::from_timestamp(done.claims.exp, 0).map(antrean_domain::clock::stamp).unwrap_or_default();
    Ok(Json(LoginResponse {
        status: "success",
        message: "Login success",
        token: done.token,
        token_type: "Bearer",
        expires_at,
        user: LoginUser { id: user.id, name: user.data.name, username: user.data.username, email: user.data.email, poly, roles },
    }))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "Auth", security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn logout(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Message>> {
    match &caller.credential {
        Credential::Session { jti, .. } => {
            login::logout(&s.deps, &caller.tenant, jti).await?;
            Ok(Json(envelope::message("Logout success")))
        }
        Credential::ApiKey { .. } => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "An API key does not log out; revoke it with DELETE /api/auth/api-keys/{id}.",
        )),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct PermanentTokenBody {
    /// A name to recognise the key by; default `permanent-token`.
    pub name: Option<String>,
    /// Permission names; default: what n8n reminders read. Never more than the creator has.
    pub permissions: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermanentToken {
    pub id: i64,
    pub token_name: String,
    /// Shown once: store it in n8n now.
    pub token: String,
    pub permissions: Vec<Permission>,
}

#[utoipa::path(post, path = "/api/auth/permanent-token", tag = "Auth", request_body(content = Option<PermanentTokenBody>), security(("bearer" = [])),
    responses((status = 200, body = MessageData<PermanentToken>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn permanent_token(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<PermanentToken>>> {
    caller.require(Permission::ApiKeysManage)?;
    let mut errors = FieldErrors::new();
    let name = antrean_domain::validate::optional_string(&mut errors, &body, "name", 100);
    let permissions = match body.get("permissions") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            let names: Vec<String> = list.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect();
            match permission::parse_list(&names) {
                Ok(p) => Some(p),
                Err(bad) => {
                    errors.add("permissions", format!("Unknown permissions: {}.", bad.join(", ")));
                    None
                }
            }
        }
        Some(_) => {
            errors.add("permissions", "The permissions field must be an array.");
            None
        }
    };
    errors.into_result()?;
    let (stored, token) = api_key::create(&s.deps, &caller, name, permissions).await?;
    Ok(Json(envelope::message_data(
        "Permanent token generated successfully",
        PermanentToken { id: stored.id, token_name: stored.data.token_name, token, permissions: stored.data.permissions },
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: i64,
    pub token_name: String,
    pub permissions: Vec<Permission>,
    pub created_by: Option<i64>,
    pub created_at: String,
}

#[utoipa::path(get, path = "/api/auth/api-keys", tag = "Auth", security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<ApiKeyView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_api_keys(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Data<Vec<ApiKeyView>>>> {
    caller.require(Permission::ApiKeysManage)?;
    let keys = api_key::list(&s.deps, &caller.tenant).await?;
    Ok(Json(envelope::data(
        keys.into_iter()
            .map(|k| ApiKeyView {
                id: k.id,
                token_name: k.data.token_name,
                permissions: k.data.permissions,
                created_by: k.data.created_by,
                created_at: k.created_at,
            })
            .collect(),
    )))
}

#[utoipa::path(delete, path = "/api/auth/api-keys/{id}", tag = "Auth", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_api_key(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::ApiKeysManage)?;
    let id = parse_id(&id, "API key not found")?;
    api_key::revoke(&s.deps, &caller.tenant, &caller.actor, id).await?;
    Ok(Json(envelope::message("API key revoked successfully")))
}
