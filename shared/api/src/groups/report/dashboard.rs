//! Dashboard (seed section "Dashboard"): seven charts read from the rollups.
use antrean_domain::reporting::dashboard::{self, AverageWait, Attendance, BpjsGeneral, DateQuery, HourValue, NameValue, PeriodQuery};
use antrean_domain::permission::Permission;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(reservation_trend))
        .routes(routes!(reservations_by_poly))
        .routes(routes!(patient_attendance))
        .routes(routes!(average_waiting_time))
        .routes(routes!(clinic_peak_hours))
        .routes(routes!(bpjs_vs_general))
}

/// A period: `year` alone (a row per month), with `month` (a row per day), with `day` too
/// (one row). Without any, this year. Counted in the clinic's calendar.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// e.g. `2026`
    pub year: Option<String>,
    /// `1`–`12` (`01` accepted)
    pub month: Option<String>,
    /// Day of the month; needs `month`.
    pub day: Option<String>,
    /// Only this poly.
    pub poly_id: Option<String>,
}

impl PeriodParams {
    fn query(self) -> PeriodQuery {
        PeriodQuery { year: self.year, month: self.month, day: self.day, poly_id: self.poly_id }
    }
}

/// One day (default: today, clinic time).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateParams {
    /// `yyyy-mm-dd`
    pub date: Option<String>,
    /// Only this poly.
    pub poly_id: Option<String>,
    /// Taken as `date` when `date` is absent and it is a `yyyy-mm-dd` date (the seed's example sends it so).
    #[param(ignore)]
    pub year: Option<String>,
}

impl DateParams {
    fn query(self) -> DateQuery {
        DateQuery { date: self.date, poly_id: self.poly_id, year: self.year }
    }
}

#[utoipa::path(get, path = "/api/dashboard/summary", tag = "Dashboard", params(DateParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<NameValue>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn summary(State(s): State<AppState>, caller: Caller, Query(q): Query<DateParams>) -> ApiResult<Json<MessageData<Vec<NameValue>>>> {
    caller.require(Permission::DashboardView)?;
    let f = dashboard::day_figures(&s.deps, &caller.tenant, &q.query()).await?;
    Ok(Json(envelope::message_data("Summary data retrieved successfully", dashboard::summary(&f))))
}

#[utoipa::path(get, path = "/api/dashboard/reservation-trend", tag = "Dashboard", params(PeriodParams), security(("bearer" = [])),
    responses((status = 200, description = "Rows `{\"label\": \"2026-01\", \"<poly name>\": n, …}`", body = MessageData<Vec<Object>>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reservation_trend(State(s): State<AppState>, caller: Caller, Query(q): Query<PeriodParams>) -> ApiResult<Json<MessageData<Vec<Value>>>> {
    caller.require(Permission::DashboardView)?;
    let f = dashboard::period_figures(&s.deps, &caller.tenant, &q.query()).await?;
    Ok(Json(envelope::message_data("Reservation trend data retrieved successfully", dashboard::reservation_trend(&f))))
}

#[utoipa::path(get, path = "/api/dashboard/reservations-by-poly", tag = "Dashboard", params(PeriodParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<NameValue>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reservations_by_poly(State(s): State<AppState>, caller: Caller, Query(q): Query<PeriodParams>) -> ApiResult<Json<MessageData<Vec<NameValue>>>> {
    caller.require(Permission::DashboardView)?;
    let f = dashboard::period_figures(&s.deps, &caller.tenant, &q.query()).await?;
    Ok(Json(envelope::message_data("Reservation comparison by poly retrieved successfully", dashboard::reservations_by_poly(&f))))
}

#[utoipa::path(get, path = "/api/dashboard/patient-attendance", tag = "Dashboard", params(PeriodParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Attendance>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn patient_attendance(State(s): State<AppState>, caller: Caller, Query(q): Query<PeriodParams>) -> ApiResult<Json<MessageData<Attendance>>> {
    caller.require(Permission::DashboardView)?;
    let f = dashboard::period_figures(&s.deps, &caller.tenant, &q.query()).await?;
    Ok(Json(envelope::message_data("Patient attendance data retrieved successfully", dashboard::attendance(&f))))
}

#[utoipa::path(get, path = "/api/dashboard/average-waiting-time", tag = "Dashboard", params(PeriodParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<AverageWait>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn average_waiting_time(State(s): State<AppState>, caller: Caller, Query(q): Query<PeriodParams>) -> ApiResult<Json<MessageData<Vec<AverageWait>>>> {
    caller.require(Permission::DashboardView)?;
    let f = dashboard::period_figures(&s.deps, &caller.tenant, &q.query()).await?;
    Ok(Json(envelope::message_data("Average waiting time retrieved successfully", dashboard::average_waiting_time(&f))))
}

#[utoipa::path(get, path = "/api/dashboard/clinic-peak-hours", tag = "Dashboard", params(DateParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<HourValue>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn clinic_peak_hours(State(s): State<AppState>, caller: Caller, Query(q): Query<DateParams>) -> ApiResult<Json<MessageData<Vec<HourValue>>>> {
    caller.require(Permission::DashboardView)?;
    let f = dashboard::day_figures(&s.deps, &caller.tenant, &q.query()).await?;
    Ok(Json(envelope::message_data("Clinic peak hours retrieved successfully", dashboard::peak_hours(&f))))
}

#[utoipa::path(get, path = "/api/dashboard/bpjs-vs-general", tag = "Dashboard", params(PeriodParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<BpjsGeneral>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn bpjs_vs_general(State(s): State<AppState>, caller: Caller, Query(q): Query<PeriodParams>) -> ApiResult<Json<MessageData<Vec<BpjsGeneral>>>> {
    caller.require(Permission::DashboardView)?;
    let f = dashboard::period_figures(&s.deps, &caller.tenant, &q.query()).await?;
    Ok(Json(envelope::message_data("BPJS vs general patient comparison retrieved successfully", dashboard::bpjs_vs_general(&f))))
}
