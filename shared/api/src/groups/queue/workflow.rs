//! The queue (seed section "Queue"): the six per-status moves, the queue list, the current
//! numbers and call-next. After every move that changes a number the clinic's boards get a new
//! snapshot; after every call n8n is told (`webhook_status` / `webhook_message`).
use antrean_domain::board::{self, Call};
use antrean_domain::paging::Paging;
use antrean_domain::permission::Permission;
use antrean_domain::queue::{self, Move};
use antrean_domain::reservation::Full;
use antrean_domain::tenant::Tenant;
use antrean_domain::webhook::{self, CallEvent, Outcome, WebhookStatus};
use antrean_domain::FieldErrors;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::reservations::{filter_date, filter_id};
use super::views::{self, Nest};
use crate::envelope::{self, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::groups::configuration::paginate::{paginate_page, LaravelPage, RequestUrl};
use crate::AppState;

const NOT_FOUND: &str = "Reservation not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        // The seed writes the queue list as `/api/queue/`.
        .route("/api/queue/", axum::routing::get(list))
        .routes(routes!(current))
        // The seed's current-queue URL is spelled `/api/queue/currnet`: a client written from it works.
        .route("/api/queue/currnet", axum::routing::get(current))
        .routes(routes!(call_next))
        .routes(routes!(anamnesa))
        .routes(routes!(waiting_doctor))
        .routes(routes!(with_doctor))
        .routes(routes!(done))
        .routes(routes!(no_show))
        .routes(routes!(cancelled))
}

/// Who may make each move.
fn permission(mv: Move) -> Permission {
    match mv {
        Move::Anamnesa | Move::WaitingDoctor => Permission::QueueAnamnesa,
        Move::WithDoctor | Move::Done => Permission::QueueDoctor,
        Move::NoShow | Move::Cancelled => Permission::QueueCancel,
    }
}

/// After a change: push the snapshot to the boards, tell n8n of a call.
/// None of it can fail the change, which has already happened.
async fn announce(s: &AppState, tenant: &Tenant, date: chrono::NaiveDate, call: Option<(Call, String)>) -> Option<Outcome> {
    let (call, poly_name) = match call {
        Some(c) => c,
        None => {
            s.live.changed(&s.deps, tenant, date).await;
            return None;
        }
    };
    // The move's own write recorded the call for the boards.
    s.live.changed(&s.deps, tenant, date).await;
    let event = CallEvent {
        current_queue: call.queue_number,
        status: match call.stage {
            board::Stage::Anamnesa => "ANAMNESA",
            board::Stage::WithDoctor => "WITH_DOCTOR",
        },
        poly_id: call.poly_id,
        poly_name,
        date: call.date,
        room: call.room.clone(),
    };
    Some(webhook::notify(&s.deps, s.webhooks.as_ref(), tenant, &event).await)
}

fn poly_name(f: &Full) -> String {
    f.poly.as_ref().map(|p| p.data.name.clone()).unwrap_or_default()
}

fn with_webhook(mut m: Map<String, Value>, outcome: Option<&Outcome>) -> Map<String, Value> {
    if let Some(o) = outcome {
        m.insert("webhook_status".into(), serde_json::to_value(o.status).unwrap_or(Value::Null));
        m.insert("webhook_message".into(), Value::String(o.message.clone()));
    }
    m
}

async fn make_move(s: AppState, caller: Caller, id: String, mv: Move, room_id: Option<i64>) -> ApiResult<Json<Value>> {
    caller.require(permission(mv))?;
    let id = parse_id(&id, NOT_FOUND)?;
    let moved = queue::transition_to_room(&s.deps, &caller.tenant, &caller.actor, id, mv, room_id).await?;
    let r = &moved.full.reservation.data;
    let outcome = announce(&s, &caller.tenant, r.visit_date(), moved.call.map(|c| (c, poly_name(&moved.full)))).await;
    let nest = Nest { poly: false, ..Nest::ALL };
    let mut data = Map::new();
    if mv.stage().is_some() {
        data.insert("queue_number".into(), r.queue_number.into());
        data.insert("number_of_calls".into(), r.number_of_calls.into());
        if mv == Move::WithDoctor {
            data.insert("call_time".into(), moved.call_time.clone().map(Value::String).unwrap_or(Value::Null));
        }
    }
    data.insert("reservation".into(), views::full(&moved.full, nest));
    let mut body = Map::new();
    body.insert("status".into(), "success".into());
    body.insert("message".into(), mv.message().into());
    let mut body = with_webhook(body, outcome.as_ref());
    body.insert("data".into(), Value::Object(data));
    Ok(Json(Value::Object(body)))
}

macro_rules! move_route {
    ($name:ident, $segment:literal, $mv:expr, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(patch, path = concat!("/api/queue/{id}/", $segment), tag = "Queue", params(("id" = String, Path, description = "The reservation id")),
            security(("bearer" = [])),
            responses((status = 200, body = Object, description = $what), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Not allowed from the current status"),
                (status = 422, body = ErrorBody, description = "Maximum number of calls reached (3 times)")))]
        async fn $name(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
            make_move(s, caller, id, $mv, None).await
        }
    };
}

/// The with-doctor move's optional body: `{"room_id"}`, the room the patient is called in to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct WithDoctorBody {
    /// A room of the reservation's poly; the board, the voice call and n8n name it.
    pub room_id: Option<i64>,
}

/// Calls the patient in to the doctor (again: a recall), to the room named in the body if any.
#[utoipa::path(patch, path = "/api/queue/{id}/withdoctor", tag = "Queue", params(("id" = String, Path, description = "The reservation id")),
    request_body(content = Option<WithDoctorBody>, description = "Optional"), security(("bearer" = [])),
    responses((status = 200, body = Object, description = "Calls the patient in to the doctor (again: a recall), naming the room when one is given"),
        (status = 400, body = ErrorBody, description = "A body that is not JSON or not a JSON object"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not allowed from the current status"),
        (status = 422, body = ErrorBody, description = "Maximum number of calls reached (3 times), or a room that is not one of this poly's")))]
async fn with_doctor(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult<Json<Value>> {
    // The seed sends no body; a JSON object may name the room.
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|_| antrean_domain::DomainError::BadRequest("The body must be JSON.".into()))?
    };
    let mut errors = FieldErrors::new();
    let room_id = if body.is_object() { antrean_domain::validate::optional_id(&mut errors, &body, "room_id") } else { Some(None) };
    errors.into_result()?;
    make_move(s, caller, id, Move::WithDoctor, room_id.flatten()).await
}

move_route!(anamnesa, "anamnesa", Move::Anamnesa, "Calls the number to anamnesa (again: a recall).");
move_route!(waiting_doctor, "waitingdoctor", Move::WaitingDoctor, "Anamnesa done: the patient waits for the doctor.");
move_route!(done, "done", Move::Done, "The doctor has finished with the patient.");
move_route!(no_show, "noshow", Move::NoShow, "Called, did not come.");
move_route!(cancelled, "cancelled", Move::Cancelled, "Called off by the patient or the clinic; the quota place is given back.");

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueListParams {
    #[param(value_type = Option<u32>)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>)]
    pub per_page: Option<String>,
    #[param(value_type = Option<u32>)]
    pub poly_id: Option<String>,
    #[param(value_type = Option<u32>)]
    pub status_id: Option<String>,
    /// `YYYY-MM-DD`; default the clinic's today.
    pub date: Option<String>,
}

#[utoipa::path(get, path = "/api/queue", tag = "Queue", params(QueueListParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<LaravelPage<Object>>, description = "One day's queue in poly and queue-number order"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(State(s): State<AppState>, caller: Caller, url: RequestUrl, Query(q): Query<QueueListParams>) -> ApiResult<Json<MessageData<LaravelPage<Value>>>> {
    caller.require(Permission::QueueView)?;
    let mut errors = FieldErrors::new();
    let paging = Paging::parse(q.page.as_deref(), q.per_page.as_deref());
    let poly_id = filter_id(&mut errors, "poly_id", q.poly_id.as_deref());
    let status_id = filter_id(&mut errors, "status_id", q.status_id.as_deref());
    let date = filter_date(&mut errors, "date", q.date.as_deref());
    errors.into_result()?;
    let paging = paging?;
    let date = queue::day_or_today(&s.deps, &caller.tenant, date).await?;
    let (rows, total) = queue::list(&s.deps, &caller.tenant, date, poly_id, status_id, paging).await?;
    let rows = rows.iter().map(views::queue_row).collect();
    Ok(Json(envelope::message_data("Queue list retrieved successfully", paginate_page(rows, total, paging, &url))))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PolyDayParams {
    /// Required.
    #[param(value_type = u32)]
    pub poly_id: Option<String>,
    /// Required, `YYYY-MM-DD`.
    pub date: Option<String>,
}

#[utoipa::path(get, path = "/api/queue/current", tag = "Queue", params(PolyDayParams), security(("bearer" = [])),
    responses((status = 200, body = Object, description = "`queue_number_anamnesa` and `queue_number_with_doctor`, null when nobody is there"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn current(State(s): State<AppState>, caller: Caller, Query(q): Query<PolyDayParams>) -> ApiResult<Json<Value>> {
    caller.require(Permission::QueueView)?;
    let (poly_id, date) = queue::parse_poly_day(&json!({ "poly_id": q.poly_id, "date": q.date }))?;
    let (anamnesa, with_doctor) = queue::current(&s.deps, &caller.tenant, poly_id, date).await?;
    let message = if anamnesa.is_none() && with_doctor.is_none() { "No current queue" } else { "Current queue retrieved successfully" };
    Ok(Json(json!({
        "status": "success", "message": message, "queue_number_anamnesa": anamnesa, "queue_number_with_doctor": with_doctor,
    })))
}

/// `{"poly_id", "date", "room_id"}`: `room_id` (optional) is the room pressing; it finishes
/// the patient in that room and calls the next one in to it.
#[utoipa::path(patch, path = "/api/queue/call-next", tag = "Queue", request_body = Object, security(("bearer" = [])),
    responses((status = 200, body = Object, description = "Finishes whoever is with the doctor (in the room named) and calls in the next waiting-doctor number under the clinic's priority policy"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn call_next(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<Value>> {
    caller.require(Permission::QueueDoctor)?;
    let (poly_id, date, room_id) = queue::parse_call_next(&body)?;
    let next = queue::call_next(&s.deps, &caller.tenant, &caller.actor, poly_id, date, room_id).await?;
    let Some(current) = &next.current else {
        return Ok(Json(json!({
            "status": "success", "message": "No queue to call", "queue_number_with_doctor": null,
            "webhook_status": WebhookStatus::Skipped, "webhook_message": "Queue not found",
        })));
    };
    let outcome = announce(&s, &caller.tenant, date, next.call.map(|c| (c, poly_name(current)))).await;
    let nest = Nest { status: false, poly: false, ..Nest::ALL };
    let mut m = Map::new();
    m.insert("status".into(), "success".into());
    m.insert("message".into(), "Queue processed successfully".into());
    m.insert("queue_number_with_doctor".into(), current.reservation.data.queue_number.into());
    if let Some(room) = &current.reservation.data.room {
        m.insert("room".into(), room.clone().into());
    }
    let mut m = with_webhook(m, outcome.as_ref());
    m.insert(
        "data".into(),
        json!({
            "finished": next.finished.as_ref().map(|f| views::full(f, nest)),
            "current": views::full(current, nest),
        }),
    );
    Ok(Json(Value::Object(m)))
}
