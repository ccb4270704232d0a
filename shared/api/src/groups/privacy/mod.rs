//! A patient's personal data under UU PDP: export everything stored about a patient, erase it,
//! and read who looked at the record. Only holders of `patients.privacy` (the clinic's admin);
//! every export and erasure is itself logged in the patient's access log.
use antrean_domain::privacy::access::{self, AccessEntry};
use antrean_domain::privacy::erase::{self, Erased};
use antrean_domain::privacy::footprint::{self, NOT_FOUND};
use antrean_domain::permission::Permission;
use antrean_domain::FieldErrors;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(personal_data)).routes(routes!(erase_patient)).routes(routes!(access_log))
}

/// Everything stored about the patient, as stored (ids, times and statuses included).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalData {
    /// The patient record.
    #[schema(value_type = Object)]
    pub patient: Value,
    /// Every reservation (queue visit) with its stage times.
    #[schema(value_type = Vec<Object>)]
    pub reservations: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub checkup_schedules: Vec<Value>,
    /// Appointments booked under the patient's WhatsApp or BPJS number, or checked in as one of
    /// its reservations.
    #[schema(value_type = Vec<Object>)]
    pub appointments: Vec<Value>,
    /// Who read, exported or erased the record, newest first.
    pub access_log: Vec<AccessEntry>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct EraseBody {
    /// Must be `true`: erasure cannot be undone.
    pub confirm: bool,
}

fn values<T: Serialize>(list: Vec<T>) -> Vec<Value> {
    list.into_iter().filter_map(|v| serde_json::to_value(v).ok()).collect()
}

#[utoipa::path(get, path = "/api/patients/{id}/personal-data", tag = "Patient privacy", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<PersonalData>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn personal_data(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<PersonalData>>> {
    caller.require(Permission::PatientsPrivacy)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let e = footprint::export(&s.deps, &caller.tenant, &caller.actor, id).await?;
    let data = PersonalData {
        patient: serde_json::to_value(e.patient).unwrap_or_default(),
        reservations: values(e.reservations),
        checkup_schedules: values(e.checkup_schedules),
        appointments: values(e.appointments),
        access_log: e.access_log,
    };
    Ok(Json(envelope::message_data("Patient data exported successfully", data)))
}

#[utoipa::path(post, path = "/api/patients/{id}/erase", tag = "Patient privacy", params(("id" = String, Path)), request_body = EraseBody, security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The patient is in the queue or has a booked appointment"), (status = 422, body = ErrorBody)))]
async fn erase_patient(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<Message>> {
    caller.require(Permission::PatientsPrivacy)?;
    let id = parse_id(&id, NOT_FOUND)?;
    if body.get("confirm") != Some(&Value::Bool(true)) {
        return Err(FieldErrors::single("confirm", "The confirm field must be true: erasing a patient's data cannot be undone.").into());
    }
    Ok(Json(envelope::message(match erase::erase(&s.deps, &caller.tenant, &caller.actor, id).await? {
        Erased::Now => "Patient data erased successfully",
        Erased::Already => "Patient data was already erased",
    })))
}

#[utoipa::path(get, path = "/api/patients/{id}/access-log", tag = "Patient privacy", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<AccessEntry>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn access_log(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<Vec<AccessEntry>>>> {
    caller.require(Permission::PatientsPrivacy)?;
    let id = parse_id(&id, NOT_FOUND)?;
    antrean_domain::patient::read(&s.deps, &caller.tenant, id).await?.ok_or_else(|| antrean_domain::DomainError::NotFound(NOT_FOUND.into()))?;
    let log = access::list(&s.deps, &caller.tenant, id).await?;
    Ok(Json(envelope::message_data("Patient access log retrieved successfully", log)))
}
