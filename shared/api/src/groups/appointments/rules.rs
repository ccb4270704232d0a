//! Booking rules per poly: `GET|PUT /api/appointments/rules/{poly_id}` (`schedules.view` /
//! `schedules.manage`). See `antrean_domain::appointments::rules`.
use antrean_domain::appointments::rules::{self, Rules};
use antrean_domain::permission::Permission;
use axum::extract::{Path, State};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(detail, update))
}

#[utoipa::path(get, path = "/api/appointments/rules/{poly_id}", tag = "Appointments", params(("poly_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(poly): Path<String>) -> ApiResult<Json<MessageData<Rules>>> {
    caller.require(Permission::SchedulesView)?;
    let poly = parse_id(&poly, "Poly not found")?;
    antrean_domain::record::find::<antrean_domain::poly::Poly>(&s.deps, &caller.tenant, poly).await?;
    Ok(Json(envelope::message_data("Booking rules retrieved successfully.", rules::of_poly(&s.deps, &caller.tenant, poly).await?)))
}

/// Body: `age_categories` (`["CHILD","TEEN","ADULT"]` or null), `one_active_per_poly`
/// (default true), `days_ahead` (0–365 or null), `closes_minutes_before` (0–1440 or null),
/// `max_reschedules` (0–10, default 2).
#[utoipa::path(put, path = "/api/appointments/rules/{poly_id}", tag = "Appointments", params(("poly_id" = String, Path)), request_body = Object,
    security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(poly): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Rules>>> {
    caller.require(Permission::SchedulesManage)?;
    let poly = parse_id(&poly, "Poly not found")?;
    let r = rules::set(&s.deps, &caller.tenant, &caller.actor, poly, &body).await?;
    Ok(Json(envelope::message_data("Booking rules updated successfully.", r)))
}
