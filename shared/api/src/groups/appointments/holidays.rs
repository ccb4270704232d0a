//! Holidays (seed 004 "Holidays"): `GET|POST /api/appointments/holidays`,
//! `GET|PUT|DELETE /api/appointments/holidays/{date}`. Reading needs `schedules.view`,
//! changes `schedules.manage`.
use antrean_domain::appointments::holiday::{self, Holiday};
use antrean_domain::permission::Permission;
use antrean_domain::FieldErrors;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::path_date;
use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::groups::queue::reservations::filter_date;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(select, create)).routes(routes!(detail, update, delete))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayView {
    /// `YYYY-MM-DD`, also the holiday's id in paths.
    pub date: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Holiday> for HolidayView {
    fn from(h: Holiday) -> Self {
        HolidayView { date: h.date, name: h.name, description: h.description, created_at: h.created_at, updated_at: h.updated_at }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct HolidayBody {
    /// `YYYY-MM-DD`; required on create, on update it moves the holiday.
    pub date: Option<String>,
    /// At most 100 characters.
    pub name: String,
    /// At most 500 characters.
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HolidayRange {
    /// `Y-m-d`, default 1 January of this year.
    pub from: Option<String>,
    /// `Y-m-d`, default 31 December of `from`'s year.
    pub to: Option<String>,
}

#[utoipa::path(get, path = "/api/appointments/holidays", tag = "Appointments", params(HolidayRange), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<HolidayView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, Query(q): Query<HolidayRange>) -> ApiResult<Json<MessageData<Vec<HolidayView>>>> {
    caller.require(Permission::SchedulesView)?;
    let mut errors = FieldErrors::new();
    let from = filter_date(&mut errors, "from", q.from.as_deref());
    let to = filter_date(&mut errors, "to", q.to.as_deref());
    errors.into_result()?;
    let (today, _) = antrean_domain::reservation::clinic_today(&s.deps, &caller.tenant).await?;
    let from = from.unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
    let to = to.unwrap_or_else(|| NaiveDate::from_ymd_opt(from.year(), 12, 31).unwrap_or(from));
    let list = holiday::between(&s.deps, &caller.tenant, from, to).await?;
    Ok(Json(envelope::message_data("Holidays retrieved successfully.", list.into_iter().map(HolidayView::from).collect())))
}

#[utoipa::path(post, path = "/api/appointments/holidays", tag = "Appointments", request_body = HolidayBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<HolidayView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<HolidayView>>> {
    caller.require(Permission::SchedulesManage)?;
    let h = holiday::create(&s.deps, &caller.tenant, &caller.actor, &body).await?;
    Ok(Json(envelope::message_data("Holiday created successfully.", h.into())))
}

#[utoipa::path(get, path = "/api/appointments/holidays/{date}", tag = "Appointments", params(("date" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<HolidayView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(date): Path<String>) -> ApiResult<Json<MessageData<HolidayView>>> {
    caller.require(Permission::SchedulesView)?;
    let date = path_date(&date, holiday::NOT_FOUND)?;
    let h = holiday::find(&s.deps, &caller.tenant, date).await?;
    Ok(Json(envelope::message_data("Holiday retrieved successfully.", h.into())))
}

#[utoipa::path(put, path = "/api/appointments/holidays/{date}", tag = "Appointments", params(("date" = String, Path)), request_body = HolidayBody,
    security(("bearer" = [])),
    responses((status = 200, body = MessageData<HolidayView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(date): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<HolidayView>>> {
    caller.require(Permission::SchedulesManage)?;
    let date = path_date(&date, holiday::NOT_FOUND)?;
    let h = holiday::update(&s.deps, &caller.tenant, &caller.actor, date, &body).await?;
    Ok(Json(envelope::message_data("Holiday updated successfully.", h.into())))
}

#[utoipa::path(delete, path = "/api/appointments/holidays/{date}", tag = "Appointments", params(("date" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(date): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::SchedulesManage)?;
    let date = path_date(&date, holiday::NOT_FOUND)?;
    holiday::delete(&s.deps, &caller.tenant, &caller.actor, date).await?;
    Ok(Json(envelope::message("Holiday deleted successfully.")))
}
