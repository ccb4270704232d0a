//! Patients (seed section "Patient"): select (search on name, WhatsApp and BPJS number; Laravel's
//! paginator), detail, update. Patients are registered by reservations, never here, and never
//! deleted.
use antrean_domain::paging::Paging;
use antrean_domain::patient::{self, Patient, PatientForm};
use antrean_domain::permission::Permission;
use antrean_domain::record::Stored;
use antrean_domain::{DomainError, FieldErrors};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::groups::configuration::paginate::{paginate_page, LaravelPage, RequestUrl};
use crate::AppState;

const NOT_FOUND: &str = "Patient not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(select)).routes(routes!(detail, update))
}

/// A patient as the seed shows it (also nested in check-up schedules and reservations).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientView {
    pub id: i64,
    pub patient_name: String,
    /// 13 digits.
    pub no_bpjs: Option<String>,
    /// International form without `+`: `6281234567890`.
    pub whatsapp_number: Option<String>,
    pub email: Option<String>,
    /// The WhatsApp gateway's chat id, set by integrations.
    pub chat_id: Option<String>,
    /// `YYYY-MM-DD`, when reception gave it (registration or marking priority).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

impl From<Stored<Patient>> for PatientView {
    fn from(s: Stored<Patient>) -> Self {
        PatientView {
            id: s.id,
            patient_name: s.data.patient_name,
            no_bpjs: s.data.no_bpjs,
            whatsapp_number: s.data.whatsapp_number,
            email: s.data.email,
            chat_id: s.data.chat_id,
            birth_date: s.data.birth_date,
            created_at: s.created_at,
            updated_at: s.updated_at,
            deleted_at: s.deleted_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct PatientBody {
    /// Required, at most 255 characters.
    pub patient_name: String,
    /// Required unless `no_bpjs` is given; `0812…`, `+62 812…`, `62812…` are all stored as `62812…`.
    /// Unique within the clinic.
    pub whatsapp_number: Option<String>,
    /// 13 digits, unique within the clinic.
    pub no_bpjs: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PatientListParams {
    /// The start of words of the name (`andi wij`), or the start of a WhatsApp (`0812…`) or BPJS number.
    pub search: Option<String>,
    /// From 1 (default 1).
    #[param(value_type = Option<u32>)]
    pub page: Option<String>,
    /// 1–100 (default 10).
    #[param(value_type = Option<u32>)]
    pub per_page: Option<String>,
}

#[utoipa::path(get, path = "/api/patients", tag = "Patient", params(PatientListParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<LaravelPage<PatientView>>, description = "Newest first"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn select(
    State(s): State<AppState>,
    caller: Caller,
    url: RequestUrl,
    Query(q): Query<PatientListParams>,
) -> ApiResult<Json<MessageData<LaravelPage<PatientView>>>> {
    caller.require(Permission::PatientsView)?;
    let paging = Paging::parse(q.page.as_deref(), q.per_page.as_deref())?;
    let (patients, total) = patient::list(&s.deps, &caller.tenant, q.search.as_deref(), paging).await?;
    let views = patients.into_iter().map(PatientView::from).collect();
    Ok(Json(envelope::message_data("Patient list retrieved successfully", paginate_page(views, total, paging, &url))))
}

#[utoipa::path(get, path = "/api/patients/{id}", tag = "Patient", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<PatientView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<PatientView>>> {
    caller.require(Permission::PatientsView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let p = patient::find(&s.deps, &caller.tenant, id).await?;
    // UU PDP: who looked at a patient's record is kept (GET /api/patients/{id}/access-log).
    antrean_domain::privacy::access::record(&s.deps, &caller.tenant, &caller.actor, id, antrean_domain::privacy::access::Access::Read).await?;
    Ok(Json(envelope::message_data("Patient detail retrieved successfully", p.into())))
}

#[utoipa::path(put, path = "/api/patients/{id}", tag = "Patient", params(("id" = String, Path)), request_body = PatientBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<PatientView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<MessageData<PatientView>>> {
    caller.require(Permission::PatientsManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    // An unknown id is a 404 before the body is judged, as the seed's Laravel original does.
    patient::find(&s.deps, &caller.tenant, id).await?;
    let mut errors = FieldErrors::new();
    let form = PatientForm::parse(&mut errors, &body);
    errors.into_result()?;
    let form = form.ok_or_else(|| DomainError::Internal("a patient form without errors parsed to nothing".into()))?;
    let stored = patient::update(&s.deps, &caller.tenant, &caller.actor, id, &form).await?;
    Ok(Json(envelope::message_data("Patient updated successfully", stored.into())))
}
