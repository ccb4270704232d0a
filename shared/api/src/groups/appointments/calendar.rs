//! What a booking screen and a calendar read: `GET /api/appointments/slots`,
//! `/availability` and `/timeline` (`slots.view`; a patient-facing API key may hold it).
use antrean_domain::appointments::calendar::{self, DayAvailability, Event, Range, ScheduleSlots};
use antrean_domain::permission::Permission;
use antrean_domain::FieldErrors;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::groups::queue::reservations::{filter_date, filter_id};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(slots)).routes(routes!(availability)).routes(routes!(timeline))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SlotParams {
    /// A poly's schedules (this or `doctor_id` is required).
    pub poly_id: Option<String>,
    /// A doctor's schedules.
    pub doctor_id: Option<String>,
    /// `Y-m-d`, default today.
    pub from: Option<String>,
    /// `Y-m-d`, default `from`; at most 31 days.
    pub to: Option<String>,
}

/// Each schedule of the range with its slots: `start`, `end`, `capacity`, `taken` (bookings
/// and live holds), `free`, and `open` (bookable now). Holds that ran out are not counted.
#[utoipa::path(get, path = "/api/appointments/slots", tag = "Appointments", params(SlotParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<Object>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn slots(State(s): State<AppState>, caller: Caller, Query(q): Query<SlotParams>) -> ApiResult<Json<MessageData<Vec<ScheduleSlots>>>> {
    caller.require(Permission::SlotsView)?;
    let mut errors = FieldErrors::new();
    let poly = filter_id(&mut errors, "poly_id", q.poly_id.as_deref());
    let doctor = filter_id(&mut errors, "doctor_id", q.doctor_id.as_deref());
    let from = filter_date(&mut errors, "from", q.from.as_deref());
    let to = filter_date(&mut errors, "to", q.to.as_deref());
    errors.into_result()?;
    let (today, tz) = antrean_domain::reservation::clinic_today(&s.deps, &caller.tenant).await?;
    let range = Range::parse(poly, doctor, from, to, today)?;
    let list = calendar::slots(&s.deps, &caller.tenant, &range, tz).await?;
    Ok(Json(envelope::message_data("Slots retrieved successfully.", list)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AvailabilityParams {
    pub poly_id: Option<String>,
    pub doctor_id: Option<String>,
    /// The next N days from today (1–31, default 7).
    pub days: Option<String>,
}

/// The dates with free places in the next `days` days, each with its `free` count and `first_free` slot.
#[utoipa::path(get, path = "/api/appointments/availability", tag = "Appointments", params(AvailabilityParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<Object>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn availability(State(s): State<AppState>, caller: Caller, Query(q): Query<AvailabilityParams>) -> ApiResult<Json<MessageData<Vec<DayAvailability>>>> {
    caller.require(Permission::SlotsView)?;
    let mut errors = FieldErrors::new();
    let poly = filter_id(&mut errors, "poly_id", q.poly_id.as_deref());
    let doctor = filter_id(&mut errors, "doctor_id", q.doctor_id.as_deref());
    let days = match q.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => 7,
        Some(d) => match d.parse::<i64>() {
            Ok(n) if (1..=calendar::MAX_DAYS).contains(&n) => n,
            _ => {
                errors.add("days", format!("The days field must be between 1 and {}.", calendar::MAX_DAYS));
                7
            }
        },
    };
    errors.into_result()?;
    let (_, tz) = antrean_domain::reservation::clinic_today(&s.deps, &caller.tenant).await?;
    let list = calendar::availability(&s.deps, &caller.tenant, poly, doctor, days, tz).await?;
    Ok(Json(envelope::message_data("Availability retrieved successfully.", list)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TimelineParams {
    pub poly_id: Option<String>,
    pub doctor_id: Option<String>,
    /// `Y-m-d`, default today.
    pub date: Option<String>,
    /// `day` (default) or `week` (7 days from `date`).
    pub view: Option<String>,
}

/// The bookings as FullCalendar events: `id`, `title` (the patient), `start`, `end`
/// (clinic time), `resourceId` (the doctor), `status`, and `extendedProps`.
#[utoipa::path(get, path = "/api/appointments/timeline", tag = "Appointments", params(TimelineParams), security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn timeline(State(s): State<AppState>, caller: Caller, Query(q): Query<TimelineParams>) -> ApiResult<Json<Vec<Event>>> {
    caller.require(Permission::AppointmentsView)?;
    let mut errors = FieldErrors::new();
    let poly = filter_id(&mut errors, "poly_id", q.poly_id.as_deref());
    let doctor = filter_id(&mut errors, "doctor_id", q.doctor_id.as_deref());
    let date = filter_date(&mut errors, "date", q.date.as_deref());
    let days = match q.view.as_deref().map(str::trim) {
        None | Some("") | Some("day") => 1,
        Some("week") => 7,
        Some(_) => {
            errors.add("view", "The view field must be day or week.");
            1
        }
    };
    errors.into_result()?;
    let (today, _) = antrean_domain::reservation::clinic_today(&s.deps, &caller.tenant).await?;
    // FullCalendar's event source reads a bare array.
    Ok(Json(calendar::timeline(&s.deps, &caller.tenant, poly, doctor, date.unwrap_or(today), days).await?))
}
