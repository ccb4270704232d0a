//! Reservations (seed section "Reservation"): select, create (hands out the queue number),
//! detail, update. Reservations are never deleted: a cancelled one stays as history.
use antrean_domain::paging::Paging;
use antrean_domain::permission::Permission;
use antrean_domain::reservation::{self, ListFilters};
use antrean_domain::FieldErrors;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::{self, Nest};
use crate::envelope::{self, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::groups::configuration::paginate::{paginate_page, LaravelPage, RequestUrl};
use crate::groups::master_data::patients::PatientView;
use crate::groups::master_data::status::StatusView;
use crate::AppState;

const NOT_FOUND: &str = "Reservation not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(select, create)).routes(routes!(detail, update))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReservationListParams {
    #[param(value_type = Option<u32>)]
    pub page: Option<String>,
    /// 1–100 (default 10).
    #[param(value_type = Option<u32>)]
    pub per_page: Option<String>,
    #[param(value_type = Option<u32>)]
    pub poly_id: Option<String>,
    #[param(value_type = Option<u32>)]
    pub status_id: Option<String>,
    /// `YYYY-MM-DD`: that day's reservations.
    pub date: Option<String>,
    /// The start of words of the patient's name, or of a WhatsApp or BPJS number.
    pub search: Option<String>,
}

/// An optional id filter from the query string; empty counts as absent, as in Laravel.
pub fn filter_id(errors: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<i64> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errors.add(field, format!("The {} field must be an integer.", field.replace('_', " ")));
            None
        }
    }
}

/// An optional `YYYY-MM-DD` filter from the query string.
pub fn filter_date(errors: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<NaiveDate> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(d) if raw.len() == 10 => Some(d),
        _ => {
            errors.add(field, format!("The {field} field must match the format Y-m-d."));
            None
        }
    }
}

#[utoipa::path(get, path = "/api/reservation", tag = "Reservation", params(ReservationListParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<LaravelPage<Object>>, description = "Newest first, each with patient, queue, status and poly"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, url: RequestUrl, Query(q): Query<ReservationListParams>) -> ApiResult<Json<MessageData<LaravelPage<Value>>>> {
    caller.require(Permission::ReservationsView)?;
    let mut errors = FieldErrors::new();
    let paging = Paging::parse(q.page.as_deref(), q.per_page.as_deref());
    let filters = ListFilters {
        poly_id: filter_id(&mut errors, "poly_id", q.poly_id.as_deref()),
        status_id: filter_id(&mut errors, "status_id", q.status_id.as_deref()),
        date: filter_date(&mut errors, "date", q.date.as_deref()),
        search: q.search.clone().filter(|s| !s.trim().is_empty()),
    };
    errors.into_result()?;
    let paging = paging?;
    let (list, total) = reservation::list(&s.deps, &caller.tenant, &filters, paging).await?;
    let rows = list.iter().map(|f| views::full(f, Nest::ALL)).collect();
    Ok(Json(envelope::message_data("Reservation list retrieved successfully", paginate_page(rows, total, paging, &url))))
}

#[utoipa::path(post, path = "/api/reservation", tag = "Reservation", request_body = Object, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>, description = "`{patient, reservation (with status), queue, ticket: {code, url}}`"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, headers: axum::http::HeaderMap, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::ReservationsCreate)?;
    let made = reservation::create(&s.deps, &caller.tenant, &caller.actor, &body).await?;
    // No board push: a board shows the numbers called, and a new number has not been called.
    // (A push would cost every open board a message and the clinic a snapshot's reads.)
    let p = &made.patient;
    let r = &made.reservation;
    // The create response lists fields in the order Laravel's `create()` returns them.
    let data = json!({
        "patient": {
            "patient_name": p.data.patient_name, "whatsapp_number": p.data.whatsapp_number, "no_bpjs": p.data.no_bpjs,
            "email": p.data.email, "updated_at": p.updated_at, "created_at": p.created_at, "id": p.id,
        },
        "reservation": {
            "patient_id": r.data.patient_id, "poly_id": r.data.poly_id, "schedule_id": r.data.schedule_id, "bpjs": r.data.bpjs,
            "date": r.data.date, "status_id": r.data.status_id, "updated_at": r.updated_at, "created_at": r.created_at, "id": r.id,
            "status": StatusView::from(made.status.clone()),
        },
        "queue": {
            "reservation_id": r.id, "poly_id": r.data.poly_id, "queue_number": r.data.queue_number, "date": r.data.date,
            "re_reservation_time": r.data.re_reservation_time, "updated_at": r.data.queue_updated_at, "created_at": r.created_at, "id": r.id,
        },
        // The patient's own status page: print it on the slip or send it by WhatsApp.
        "ticket": r.data.ticket_code.as_ref().map(|code| json!({ "code": code, "url": crate::groups::ticket::page_url(&s, &headers, code) })),
    });
    Ok(Json(envelope::message_data("Reservation successfully created", data)))
}

#[utoipa::path(get, path = "/api/reservation/{id}", tag = "Reservation", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>, description = "`{reservation}` with patient, queue, status and poly"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::ReservationsView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let full = reservation::full(&s.deps, &caller.tenant, id).await?;
    Ok(Json(envelope::message_data("Reservation detail retrieved successfully", json!({ "reservation": views::full(&full, Nest::ALL) }))))
}

#[utoipa::path(put, path = "/api/reservation/{id}", tag = "Reservation", params(("id" = String, Path)), request_body = Object, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>, description = "`{patient, reservation}`; the queue number never changes"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::ReservationsUpdate)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let done = reservation::update(&s.deps, &caller.tenant, &caller.actor, id, &body).await?;
    let data = json!({
        "patient": PatientView::from(done.patient.clone()),
        "reservation": views::full(&done.full, Nest { queue: false, poly: false, ..Nest::ALL }),
    });
    Ok(Json(envelope::message_data("Reservation successfully updated", data)))
}
