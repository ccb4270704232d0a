//! The admission desk's BPJS steps on a visit (`PATCH /api/bpjs/visits/{id}/{step}`: check-in,
//! admission started, admission done; `reservations.update`) and the backfill of reservations
//! BPJS has not had (`POST /api/bpjs/sync/backfill`; `bpjs.manage`).
use antrean_domain::bpjs::{backfill, visits};
use antrean_domain::permission::Permission;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, MessageData};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(visit_step)).routes(routes!(sync_backfill))
}

const NOT_FOUND: &str = "Reservation not found";

#[utoipa::path(patch, path = "/api/bpjs/visits/{id}/{step}", tag = "BPJS",
    params(("id" = String, Path, description = "The reservation id"),
        ("step" = String, Path, description = "`checkin` (task 1 for a new patient, task 3 for a known patient's Mobile JKN booking), `admission` (task 2) or `admitted` (task 3) of a new patient booked from Mobile JKN")),
    security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>, description = "The reservation's BPJS data with the new stamp (a repeat changes nothing)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The reservation is no longer open"),
        (status = 422, body = ErrorBody, description = "No BPJS data, or not a new patient's Mobile JKN booking")))]
async fn visit_step(State(s): State<AppState>, caller: Caller, Path((id, step)): Path<(String, String)>) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::ReservationsUpdate)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let step = visits::Step::parse(&step).ok_or_else(|| ApiError::not_found("The requested route does not exist."))?;
    let r = visits::stamp(&s.deps, &caller.tenant, &caller.actor, id, step, None).await?;
    Ok(Json(envelope::message_data("BPJS visit updated successfully", visits::view(&r))))
}

/// `{"date": "2026-01-10"}`: from that day (default today) to `HORIZON_DAYS` later.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct BackfillBody {
    pub date: Option<String>,
}

#[utoipa::path(post, path = "/api/bpjs/sync/backfill", tag = "BPJS", request_body = Option<BackfillBody>, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>, description = "`{queued, already, busy}`: reservations queued now, already syncing, changed meanwhile"),
        (status = 400, body = ErrorBody, description = "A body that is not JSON or not a JSON object"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn sync_backfill(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::BpjsManage)?;
    let today = antrean_domain::reservation::clinic_today(&s.deps, &caller.tenant).await?.0;
    let from = match body.get("date").and_then(Value::as_str).map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) if d >= today => d,
            Ok(_) => return Err(antrean_domain::FieldErrors::single("date", "The date must be today or later.").into()),
            Err(_) => return Err(antrean_domain::FieldErrors::single("date", "The date field must match the format Y-m-d.").into()),
        },
        None => today,
    };
    let config = antrean_domain::bpjs::config::required(&s.deps, &caller.tenant).await?;
    if !config.enabled {
        return Err(antrean_domain::DomainError::Unprocessable("BPJS is switched off for this clinic.".into()).into());
    }
    let done = backfill::run(&s.deps, &caller.tenant, from).await?;
    Ok(Json(envelope::message_data("BPJS backfill queued", json!(done))))
}
