//! Booked appointments: `POST /api/appointments` (reception books, `appointments.book`),
//! `GET /api/appointments?date&poly_id` and `GET /api/appointments/{id}` (`appointments.view`),
//! `PATCH /api/appointments/{id}/cancel|reschedule|check-in` and `POST /api/appointments/no-shows`
//! (`appointments.book`); holds: `POST /api/appointments/holds`, `POST .../holds/{id}/confirm`,
//! `DELETE .../holds/{id}` (`appointments.hold`, a patient-facing API key).
use antrean_domain::appointments::appointment::{self, Booked};
use antrean_domain::appointments::hold::{self, Held};
use antrean_domain::appointments::lifecycle;
use antrean_domain::permission::Permission;
use antrean_domain::FieldErrors;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::groups::queue::reservations::{filter_date, filter_id};
use crate::AppState;

const NOT_FOUND: &str = "Appointment not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(select, book))
        .routes(routes!(detail))
        .routes(routes!(cancel))
        .routes(routes!(reschedule))
        .routes(routes!(check_in))
        .routes(routes!(no_shows))
        .routes(routes!(hold_place))
        .routes(routes!(confirm))
        .routes(routes!(release))
}

fn view(a: Booked) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DayParams {
    /// `Y-m-d`, default today.
    pub date: Option<String>,
    pub poly_id: Option<String>,
}

#[utoipa::path(get, path = "/api/appointments", tag = "Appointments", params(DayParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<Object>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, Query(q): Query<DayParams>) -> ApiResult<Json<MessageData<Vec<Value>>>> {
    caller.require(Permission::AppointmentsView)?;
    let mut errors = FieldErrors::new();
    let date = filter_date(&mut errors, "date", q.date.as_deref());
    let poly = filter_id(&mut errors, "poly_id", q.poly_id.as_deref());
    errors.into_result()?;
    let (today, _) = antrean_domain::reservation::clinic_today(&s.deps, &caller.tenant).await?;
    let list = appointment::on_day(&s.deps, &caller.tenant, date.unwrap_or(today), poly).await?;
    Ok(Json(envelope::message_data("Appointments retrieved successfully.", list.into_iter().map(view).collect())))
}

/// Body: `schedule_id`, `slot` (`HH:MM`, required when the schedule has slots), the patient's
/// `patient_name`, `whatsapp_number` and/or `no_bpjs`, `email`, `birth_date`, `bpjs`.
/// 409 "This time is already taken, choose another free time." when the slot is full.
#[utoipa::path(post, path = "/api/appointments", tag = "Appointments", request_body = Object, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn book(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::AppointmentsBook)?;
    let a = appointment::book(&s.deps, &caller.tenant, &caller.actor, &body).await?;
    Ok(Json(envelope::message_data("Appointment booked successfully.", view(a))))
}

#[utoipa::path(get, path = "/api/appointments/{id}", tag = "Appointments", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::AppointmentsView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let a = appointment::find(&s.deps, &caller.tenant, id).await?;
    Ok(Json(envelope::message_data("Appointment retrieved successfully.", view(a))))
}

/// Body: `reason`. Gives the place back.
#[utoipa::path(patch, path = "/api/appointments/{id}/cancel", tag = "Appointments", params(("id" = String, Path)), request_body = Object, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn cancel(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::AppointmentsBook)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let a = lifecycle::cancel(&s.deps, &caller.tenant, &caller.actor, id, &body).await?;
    Ok(Json(envelope::message_data("Appointment cancelled successfully.", view(a))))
}

/// Body: `schedule_id`, `slot`. The old place is given back only if the new one is taken.
#[utoipa::path(patch, path = "/api/appointments/{id}/reschedule", tag = "Appointments", params(("id" = String, Path)), request_body = Object,
    security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reschedule(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::AppointmentsBook)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let a = lifecycle::reschedule(&s.deps, &caller.tenant, &caller.actor, id, &body).await?;
    Ok(Json(envelope::message_data("Appointment rescheduled successfully.", view(a))))
}

/// On the appointment's day: registers the patient and hands out the queue number.
#[utoipa::path(patch, path = "/api/appointments/{id}/check-in", tag = "Appointments", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn check_in(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::AppointmentsBook)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let (a, created) = lifecycle::check_in(&s.deps, &caller.tenant, &caller.actor, id).await?;
    let r = &created.reservation;
    let queue = json!({"reservation_id": r.id, "poly_id": r.data.poly_id, "queue_number": r.data.queue_number, "date": r.data.date});
    Ok(Json(envelope::message_data("Appointment checked in successfully.", json!({"appointment": view(a), "patient_id": created.patient.id, "queue": queue}))))
}

/// Body: `date` (default today). Marks that day's appointments not checked in after their schedule ended.
#[utoipa::path(post, path = "/api/appointments/no-shows", tag = "Appointments", request_body = Object, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn no_shows(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::AppointmentsBook)?;
    let mut errors = FieldErrors::new();
    let date = filter_date(&mut errors, "date", body.get("date").and_then(Value::as_str));
    errors.into_result()?;
    let (today, _) = antrean_domain::reservation::clinic_today(&s.deps, &caller.tenant).await?;
    let n = lifecycle::mark_no_shows(&s.deps, &caller.tenant, &caller.actor, date.unwrap_or(today)).await?;
    Ok(Json(envelope::message_data(format!("{n} appointments marked as no-show."), json!({"marked": n}))))
}

/// Body: `schedule_id`, `slot`, `reserve_minutes` (1–30, default 10) and the patient's details.
#[utoipa::path(post, path = "/api/appointments/holds", tag = "Appointments", request_body = Object, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn hold_place(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Held>>> {
    caller.require(Permission::AppointmentsHold)?;
    let h = hold::create(&s.deps, &caller.tenant, &caller.actor, &body).await?;
    Ok(Json(envelope::message_data("Place held successfully.", h)))
}

#[utoipa::path(post, path = "/api/appointments/holds/{id}/confirm", tag = "Appointments", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn confirm(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::AppointmentsHold)?;
    let a = hold::confirm(&s.deps, &caller.tenant, &caller.actor, &id).await?;
    Ok(Json(envelope::message_data("Appointment booked successfully.", view(a))))
}

#[utoipa::path(delete, path = "/api/appointments/holds/{id}", tag = "Appointments", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn release(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::AppointmentsHold)?;
    hold::release(&s.deps, &caller.tenant, &caller.actor, &id).await?;
    Ok(Json(envelope::message("Hold released.")))
}
