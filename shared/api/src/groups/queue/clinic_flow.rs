//! The queue clinics actually run (issue 16): a poly's rooms and their doctors, the clinic's
//! queue settings (priority criteria and policy, the day's close time), and closing a day by
//! hand. Call-next per room and priority ordering are in `workflow` (the same engine).
use antrean_domain::clinic_flow::end_of_day::{self, DayClosed};
use antrean_domain::clinic_flow::{mark_priority, poly_transfer};
use antrean_domain::rollup::services::{self as service_rollup, ServiceDay};
use antrean_domain::webhook::{self, CallEvent};
use antrean_domain::clinic_flow::rooms::{self, Room, NOT_FOUND};
use antrean_domain::clinic_flow::services::{self, Service, StageMove};
use antrean_domain::clinic_flow::settings::{self as queue_settings, Policy, QueueSettings};
use antrean_domain::permission::Permission;
use antrean_domain::queue;
use antrean_domain::record::{self, Stored};
use antrean_domain::FieldErrors;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::reservations::{filter_date, filter_id};
use crate::envelope::{self, Data, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rooms, create_room))
        .routes(routes!(update_room, delete_room))
        .routes(routes!(show_settings, update_settings))
        .routes(routes!(close_day))
        .routes(routes!(list_services, create_service))
        .routes(routes!(delete_service))
        .routes(routes!(transfer))
        .routes(routes!(service_step))
        .routes(routes!(mark_priority))
        .routes(routes!(services_summary))
}

/// A room as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomView {
    pub id: i64,
    pub poly_id: i64,
    /// As announced: "Ruang 2".
    pub name: String,
    pub doctor_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Stored<Room>> for RoomView {
    fn from(s: Stored<Room>) -> Self {
        RoomView { id: s.id, poly_id: s.data.poly_id, name: s.data.name, doctor_id: s.data.doctor_id, created_at: s.created_at, updated_at: s.updated_at }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RoomBody {
    pub poly_id: i64,
    /// Unique within the poly, at most 100 characters.
    pub name: String,
    /// The doctor working in it (a user id); null for none.
    pub doctor_id: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RoomParams {
    #[param(value_type = Option<u32>)]
    pub poly_id: Option<String>,
}

#[utoipa::path(get, path = "/api/queue/rooms", tag = "Rooms", params(RoomParams), security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<RoomView>>, description = "The clinic's rooms (of one poly when asked), by poly and name"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_rooms(State(s): State<AppState>, caller: Caller, Query(q): Query<RoomParams>) -> ApiResult<Json<Data<Vec<RoomView>>>> {
    caller.require(Permission::QueueView)?;
    let mut errors = FieldErrors::new();
    let poly_id = filter_id(&mut errors, "poly_id", q.poly_id.as_deref());
    errors.into_result()?;
    let list = rooms::list(&s.deps, &caller.tenant, poly_id).await?;
    Ok(Json(envelope::data(list.into_iter().map(RoomView::from).collect())))
}

#[utoipa::path(post, path = "/api/queue/rooms", tag = "Rooms", request_body = RoomBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<RoomView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody, description = "A bad field, an unknown poly or doctor, or the name taken in this poly")))]
async fn create_room(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<RoomView>>> {
    caller.require(Permission::RoomsManage)?;
    let room = Room::parse(&s.deps, &caller.tenant, &body).await?;
    let stored = record::create(&s.deps, &caller.tenant, &caller.actor, room, |_| vec![]).await?;
    Ok(Json(envelope::message_data("Room created successfully", stored.into())))
}

#[utoipa::path(put, path = "/api/queue/rooms/{id}", tag = "Rooms", params(("id" = String, Path)), request_body = RoomBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<RoomView>, description = "Renamed, moved to another doctor (the day's roster)"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_room(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<RoomView>>> {
    caller.require(Permission::RoomsManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    record::find::<Room>(&s.deps, &caller.tenant, id).await?;
    let room = Room::parse(&s.deps, &caller.tenant, &body).await?;
    let stored = record::update::<Room>(&s.deps, &caller.tenant, &caller.actor, id, |_| Ok((room.clone(), vec![]))).await?;
    Ok(Json(envelope::message_data("Room updated successfully", stored.into())))
}

#[utoipa::path(delete, path = "/api/queue/rooms/{id}", tag = "Rooms", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message, description = "Removed; reservations called in to it keep its name"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_room(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::RoomsManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    record::delete::<Room>(&s.deps, &caller.tenant, &caller.actor, id).await?;
    Ok(Json(envelope::message("Room deleted successfully")))
}

/// The queue settings as the API shows them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettingsView {
    /// Which reasons make a reservation priority: any of `elderly`, `disability`, `pregnancy`, `emergency`.
    pub priority_criteria: Vec<String>,
    pub priority_policy: Policy,
    /// For `interleave`: one priority number after every this many regular ones (1–20).
    pub priority_every: i64,
    /// `HH:MM` clinic time; null: at the end of the day's last schedule.
    pub day_close_time: Option<String>,
}

impl From<QueueSettings> for SettingsView {
    fn from(s: QueueSettings) -> Self {
        SettingsView {
            priority_criteria: s.priority_criteria.iter().map(|c| c.as_str().to_string()).collect(),
            priority_policy: s.priority_policy,
            priority_every: s.priority_every,
            day_close_time: s.day_close_time,
        }
    }
}

#[utoipa::path(get, path = "/api/queue/settings", tag = "Queue settings", security(("bearer" = [])),
    responses((status = 200, body = Data<SettingsView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn show_settings(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Data<SettingsView>>> {
    caller.require(Permission::QueueView)?;
    Ok(Json(envelope::data(queue_settings::read(&s.deps, &caller.tenant).await?.into())))
}

#[utoipa::path(put, path = "/api/queue/settings", tag = "Queue settings", request_body = SettingsView, security(("bearer" = [])),
    responses((status = 200, body = MessageData<SettingsView>, description = "Fields left out keep their value"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_settings(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<SettingsView>>> {
    caller.require(Permission::QueueSettings)?;
    let saved = queue_settings::update(&s.deps, &caller.tenant, &caller.actor, &body).await?;
    Ok(Json(envelope::message_data("Queue settings updated successfully", saved.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CloseDayBody {
    /// `YYYY-MM-DD`; default the clinic's today.
    pub date: Option<String>,
}

#[utoipa::path(post, path = "/api/queue/close-day", tag = "Queue", request_body = CloseDayBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>, description = "Waiting numbers became no-shows; those in progress are left; the boards are cleared. Twice is harmless."),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn close_day(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::QueueCloseDay)?;
    let mut errors = FieldErrors::new();
    let raw = match body.get("date") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) => Some(d.clone()),
        Some(_) => {
            errors.add("date", "The date field must be a valid date (YYYY-MM-DD).");
            None
        }
    };
    let date = filter_date(&mut errors, "date", raw.as_deref());
    errors.into_result()?;
    let date = queue::day_or_today(&s.deps, &caller.tenant, date).await?;
    let closed: DayClosed = end_of_day::close_day(&s.deps, &caller.tenant, &caller.actor, date).await?;
    s.live.changed(&s.deps, &caller.tenant, date).await;
    let message = if closed.already_closed { "The day was already closed" } else { "Day closed successfully" };
    Ok(Json(envelope::message_data(message, serde_json::to_value(&closed).unwrap_or(Value::Null))))
}

/// A service as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub id: i64,
    pub name: String,
    /// `pharmacy`, `laboratory`, `cashier` or `other`.
    pub kind: services::ServiceKind,
    pub created_at: String,
}

impl From<Stored<Service>> for ServiceView {
    fn from(s: Stored<Service>) -> Self {
        ServiceView { id: s.id, name: s.data.name, kind: s.data.kind, created_at: s.created_at }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ServiceBody {
    /// Unique within the clinic: "Apotek".
    pub name: String,
    pub kind: Option<services::ServiceKind>,
}

#[utoipa::path(get, path = "/api/queue/services", tag = "Services", security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<ServiceView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_services(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Data<Vec<ServiceView>>>> {
    caller.require(Permission::QueueView)?;
    let mut list = record::list::<Service>(&s.deps, &caller.tenant, false).await?;
    list.sort_by_key(|s| s.id);
    Ok(Json(envelope::data(list.into_iter().map(ServiceView::from).collect())))
}

#[utoipa::path(post, path = "/api/queue/services", tag = "Services", request_body = ServiceBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<ServiceView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_service(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<ServiceView>>> {
    caller.require(Permission::RoomsManage)?;
    let service = Service::parse(&body)?;
    let stored = record::create(&s.deps, &caller.tenant, &caller.actor, service, |_| vec![]).await?;
    Ok(Json(envelope::message_data("Service created successfully", stored.into())))
}

#[utoipa::path(delete, path = "/api/queue/services/{id}", tag = "Services", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_service(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::RoomsManage)?;
    let id = parse_id(&id, services::NOT_FOUND)?;
    record::trash::<Service>(&s.deps, &caller.tenant, &caller.actor, id, vec![]).await?;
    Ok(Json(envelope::message("Service deleted successfully")))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SummaryParams {
    /// `YYYY-MM-DD`; default the clinic's today.
    pub from: Option<String>,
    /// `YYYY-MM-DD`; default `from`. At most 366 days after it.
    pub to: Option<String>,
}

#[utoipa::path(get, path = "/api/queue/services/summary", tag = "Services", params(SummaryParams), security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<ServiceDay>>, description = "Per service and day: patients sent on, how many are in each stage now, and the mean wait from being sent on to the first call (at the pharmacy: until the medicine was ready)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn services_summary(State(s): State<AppState>, caller: Caller, Query(q): Query<SummaryParams>) -> ApiResult<Json<Data<Vec<ServiceDay>>>> {
    caller.require(Permission::DashboardView)?;
    let mut errors = FieldErrors::new();
    let from = filter_date(&mut errors, "from", q.from.as_deref());
    let to = filter_date(&mut errors, "to", q.to.as_deref());
    errors.into_result()?;
    let from = queue::day_or_today(&s.deps, &caller.tenant, from).await?;
    let to = to.unwrap_or(from);
    if to < from || (to - from).num_days() > 366 {
        return Err(FieldErrors::single("to", "The to field must be a date on or after from, at most 366 days later.").into());
    }
    Ok(Json(envelope::data(service_rollup::read(s.deps.table.as_ref(), &caller.tenant, from, to).await?)))
}

/// Where the patient is now, for the answers of transfer and the service steps.
fn stage_view(r: &Stored<antrean_domain::reservation::Reservation>) -> Value {
    let stage = r.data.services.last();
    serde_json::json!({
        "id": r.id,
        "queue_number": r.data.queue_number,
        "poly_id": r.data.poly_id,
        "status": r.data.status_code,
        "service": stage.map(|s| serde_json::json!({
            "service_id": s.service_id, "service_name": s.service_name, "kind": s.kind, "status": s.status,
            "label": services::label(&s.status), "number_of_calls": s.number_of_calls, "history": s.history,
        })),
        "services": r.data.services,
    })
}

/// Either `service_id` (a service after the doctor) or `poly_id` (another poly of the clinic).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TransferBody {
    pub service_id: Option<i64>,
    /// The poly to send the patient on to: they take its next number of the day and wait for its doctor.
    pub poly_id: Option<i64>,
}

#[utoipa::path(patch, path = "/api/queue/{id}/transfer", tag = "Services", params(("id" = String, Path, description = "The reservation id")),
    request_body = TransferBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>, description = "Sent on, the same ticket: to a service, a new stage there with the same number; to a poly, that poly's next number, waiting for its doctor (n8n is told, `status` TRANSFERRED)"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The doctor has not finished, or the patient is still at another service"),
        (status = 422, body = ErrorBody, description = "An unknown service or poly, the same poly, no schedule or no quota left at the target poly that day, the day closed")))]
async fn transfer(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<Value>> {
    caller.require(Permission::QueueDoctor)?;
    let id = parse_id(&id, "Reservation not found")?;
    let to_poly = body.get("poly_id").is_some_and(|v| !v.is_null());
    if to_poly && body.get("service_id").is_some_and(|v| !v.is_null()) {
        return Err(antrean_domain::FieldErrors::single("poly_id", "Send either service_id or poly_id, not both.").into());
    }
    if !to_poly {
        let after = services::transfer(&s.deps, &caller.tenant, &caller.actor, id, &body).await?;
        s.live.changed(&s.deps, &caller.tenant, after.data.visit_date()).await;
        return Ok(Json(serde_json::to_value(envelope::message_data("Patient sent on successfully", stage_view(&after))).unwrap_or(Value::Null)));
    }
    let moved = poly_transfer::transfer(&s.deps, &caller.tenant, &caller.actor, id, &body).await?;
    let r = &moved.reservation;
    s.live.changed(&s.deps, &caller.tenant, r.data.visit_date()).await;
    let event = CallEvent {
        current_queue: r.data.queue_number,
        status: "TRANSFERRED",
        poly_id: r.data.poly_id,
        poly_name: moved.poly_name.clone(),
        date: r.data.visit_date(),
        room: None,
    };
    let outcome = webhook::notify(&s.deps, s.webhooks.as_ref(), &caller.tenant, &event).await;
    Ok(Json(serde_json::json!({
        "status": "success",
        "message": "Patient sent on to another poly successfully",
        "webhook_status": outcome.status,
        "webhook_message": outcome.message,
        "data": {
            "id": r.id, "ticket_code": r.data.ticket_code, "poly_id": r.data.poly_id, "poly_name": moved.poly_name,
            "queue_number": r.data.queue_number, "status": r.data.status_code, "schedule_id": r.data.schedule_id,
            "poly_history": r.data.poly_history,
        },
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct PriorityBody {
    /// Replaces the reasons: any of `disability`, `pregnancy`, `emergency`; `[]` takes them off. Left out: kept.
    pub priority_reasons: Option<Vec<String>>,
    /// `YYYY-MM-DD` (the elderly criterion); kept on the patient too. Left out: the one on file.
    pub birth_date: Option<String>,
}

#[utoipa::path(patch, path = "/api/queue/{id}/priority", tag = "Queue", params(("id" = String, Path, description = "The reservation id")),
    request_body = PriorityBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>, description = "Marked (or unmarked) under the clinic's criteria; the next call-next follows it"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The patient is no longer waiting"), (status = 422, body = ErrorBody)))]
async fn mark_priority(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::ReservationsUpdate)?;
    let id = parse_id(&id, "Reservation not found")?;
    let r = mark_priority::mark(&s.deps, &caller.tenant, &caller.actor, id, &body).await?;
    s.live.changed(&s.deps, &caller.tenant, r.data.visit_date()).await;
    let data = serde_json::json!({
        "id": r.id, "queue_number": r.data.queue_number, "poly_id": r.data.poly_id, "status": r.data.status_code,
        "priority": r.data.priority, "priority_reasons": r.data.priority_reasons, "birth_date": r.data.birth_date,
    });
    Ok(Json(envelope::message_data("Priority updated successfully", data)))
}

#[utoipa::path(patch, path = "/api/queue/{id}/service/{step}", tag = "Services",
    params(("id" = String, Path, description = "The reservation id"), ("step" = String, Path, description = "`call` (again: a recall), `done`; at the pharmacy `preparing`, `ready` (the call), `collected`")),
    security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not possible from the current stage"), (status = 422, body = ErrorBody, description = "Maximum number of calls reached (3 times)")))]
async fn service_step(State(s): State<AppState>, caller: Caller, Path((id, step)): Path<(String, String)>) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::QueueService)?;
    let id = parse_id(&id, "Reservation not found")?;
    let Some(mv) = StageMove::parse(&step) else { return Err(antrean_domain::DomainError::NotFound("Unknown service step".into()).into()) };
    let after = services::move_stage(&s.deps, &caller.tenant, &caller.actor, id, mv).await?;
    s.live.changed(&s.deps, &caller.tenant, after.data.visit_date()).await;
    Ok(Json(envelope::message_data("Service step processed successfully", stage_view(&after))))
}
