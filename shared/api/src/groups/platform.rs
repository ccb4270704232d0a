//! The platform group: the operator creates and lists clinics with `PLATFORM_TOKEN`.
use antrean_domain::clinic::{self, Clinic, NewClinic};
use axum::extract::State;
use axum::http::request::Parts;
use axum::extract::FromRequestParts;
use axum::Json;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Data, MessageData};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{bearer, JsonBody};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_clinics, create_clinic))
}

/// The platform operator, proven by the deployment's `PLATFORM_TOKEN`.
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = state.config.platform_token.as_deref().filter(|t| !t.is_empty()).ok_or_else(ApiError::unauthenticated)?;
        let given = bearer(parts).ok_or_else(ApiError::unauthenticated)?;
        if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            Ok(Operator)
        } else {
            Err(ApiError::unauthenticated())
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct NewAdminBody {
    pub name: String,
    pub username: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct NewClinicBody {
    /// Lowercase letters, digits and inner dashes; used at login and in host names.
    pub slug: String,
    pub name: String,
    pub admin: NewAdminBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClinicView {
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub created_at: String,
}

impl From<Clinic> for ClinicView {
    fn from(c: Clinic) -> Self {
        ClinicView { slug: c.slug, name: c.name, timezone: c.timezone, created_at: c.created_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminView {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedClinic {
    pub clinic: ClinicView,
    pub admin: AdminView,
}

#[utoipa::path(post, path = "/api/platform/clinics", tag = "Platform", request_body = NewClinicBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<CreatedClinic>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_clinic(State(s): State<AppState>, _op: Operator, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<CreatedClinic>>> {
    let new = NewClinic::parse(&body)?;
    let (clinic, admin) = clinic::create(&s.deps, new).await?;
    Ok(Json(envelope::message_data(
        "Clinic created successfully",
        CreatedClinic {
            clinic: clinic.into(),
            admin: AdminView { id: admin.id, name: admin.data.name, username: admin.data.username, email: admin.data.email },
        },
    )))
}

#[utoipa::path(get, path = "/api/platform/clinics", tag = "Platform", security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<ClinicView>>), (status = 401, body = ErrorBody)))]
async fn list_clinics(State(s): State<AppState>, _op: Operator) -> ApiResult<Json<Data<Vec<ClinicView>>>> {
    let clinics = clinic::list(&s.deps).await?;
    Ok(Json(envelope::data(clinics.into_iter().map(ClinicView::from).collect())))
}
