//! Weekly doctor templates and generation (seed 004 "Jadwal Praktek Dokter"):
//! `GET|POST /api/appointments/templates`, `GET|PUT|DELETE /api/appointments/templates/{id}`,
//! `PUT /api/appointments/templates/{id}/activate|deactivate`, and
//! `POST /api/appointments/templates/generate`. Reading needs `schedules.view`, the rest
//! `schedules.manage`.
use antrean_domain::appointments::template::{self, Generation, Template};
use antrean_domain::permission::Permission;
use antrean_domain::record::Stored;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::groups::queue::reservations::filter_id;
use crate::AppState;

const NOT_FOUND: &str = "Schedule template not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(select, create))
        .routes(routes!(detail, update, delete))
        .routes(routes!(activate))
        .routes(routes!(deactivate))
        .routes(routes!(generate))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WeeklyTemplateView {
    pub id: i64,
    pub doctor_id: i64,
    pub poly_id: i64,
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u32,
    /// The weekday in Indonesian (`Senin` …).
    pub day: &'static str,
    pub start_time: String,
    pub end_time: String,
    pub quota: Option<i64>,
    pub slot_minutes: Option<i64>,
    pub slot_capacity: Option<i64>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Stored<Template>> for WeeklyTemplateView {
    fn from(t: Stored<Template>) -> Self {
        let day = t.data.day_name();
        let d = t.data;
        WeeklyTemplateView {
            id: t.id,
            doctor_id: d.doctor_id,
            poly_id: d.poly_id,
            weekday: d.weekday,
            day,
            start_time: d.start_time,
            end_time: d.end_time,
            quota: d.quota,
            slot_minutes: d.slot_minutes,
            slot_capacity: d.slot_capacity,
            active: d.active,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct WeeklyTemplateBody {
    /// A live user with the `Dokter` role and a poly.
    #[schema(value_type = Object)]
    pub doctor_id: serde_json::Value,
    /// Optional: must be the doctor's poly.
    pub poly_id: Option<i64>,
    /// `1`–`7` (Monday first) or `Senin` … `Minggu` / `Monday` … `Sunday`.
    #[schema(value_type = Object)]
    pub weekday: serde_json::Value,
    /// `HH:MM` or `HH:MM:SS`
    pub start_time: String,
    /// `HH:MM` or `HH:MM:SS`, after `start_time`
    pub end_time: String,
    /// 1–10000; absent: no limit.
    pub quota: Option<i64>,
    /// 5–240 minutes: the schedules it generates are cut into slots of this length.
    pub slot_minutes: Option<i64>,
    /// 1–100 bookings per slot (default 1).
    pub slot_capacity: Option<i64>,
    /// Default `true` on create; absent on update keeps it.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct GenerateBody {
    /// `Y-m-d`, today or later.
    pub from: String,
    /// `Y-m-d`, at most 92 days after `from`.
    pub to: String,
    /// Only this doctor's templates.
    pub doctor_id: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TemplateParams {
    pub doctor_id: Option<String>,
}

#[utoipa::path(get, path = "/api/appointments/templates", tag = "Appointments", params(TemplateParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<WeeklyTemplateView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, Query(q): Query<TemplateParams>) -> ApiResult<Json<MessageData<Vec<WeeklyTemplateView>>>> {
    caller.require(Permission::SchedulesView)?;
    let mut errors = antrean_domain::FieldErrors::new();
    let doctor = filter_id(&mut errors, "doctor_id", q.doctor_id.as_deref());
    errors.into_result()?;
    let list = template::list(&s.deps, &caller.tenant, doctor).await?;
    Ok(Json(envelope::message_data("Schedule templates retrieved successfully.", list.into_iter().map(WeeklyTemplateView::from).collect())))
}

#[utoipa::path(post, path = "/api/appointments/templates", tag = "Appointments", request_body = WeeklyTemplateBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<WeeklyTemplateView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<WeeklyTemplateView>>> {
    caller.require(Permission::SchedulesManage)?;
    let t = template::create(&s.deps, &caller.tenant, &caller.actor, &body).await?;
    Ok(Json(envelope::message_data("Schedule template created successfully.", t.into())))
}

#[utoipa::path(get, path = "/api/appointments/templates/{id}", tag = "Appointments", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<WeeklyTemplateView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<WeeklyTemplateView>>> {
    caller.require(Permission::SchedulesView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let t = antrean_domain::record::find::<Template>(&s.deps, &caller.tenant, id).await?;
    Ok(Json(envelope::message_data("Schedule template retrieved successfully.", t.into())))
}

#[utoipa::path(put, path = "/api/appointments/templates/{id}", tag = "Appointments", params(("id" = String, Path)), request_body = WeeklyTemplateBody,
    security(("bearer" = [])),
    responses((status = 200, body = MessageData<WeeklyTemplateView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<WeeklyTemplateView>>> {
    caller.require(Permission::SchedulesManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let t = template::update(&s.deps, &caller.tenant, &caller.actor, id, &body).await?;
    Ok(Json(envelope::message_data("Schedule template updated successfully.", t.into())))
}

#[utoipa::path(delete, path = "/api/appointments/templates/{id}", tag = "Appointments", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::SchedulesManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    template::delete(&s.deps, &caller.tenant, &caller.actor, id).await?;
    Ok(Json(envelope::message("Schedule template deleted successfully.")))
}

async fn switch(s: AppState, caller: Caller, id: String, active: bool) -> ApiResult<Json<MessageData<WeeklyTemplateView>>> {
    caller.require(Permission::SchedulesManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let t = template::set_active(&s.deps, &caller.tenant, &caller.actor, id, active).await?;
    let word = if active { "activated" } else { "deactivated" };
    Ok(Json(envelope::message_data(format!("Schedule template {word} successfully."), t.into())))
}

#[utoipa::path(put, path = "/api/appointments/templates/{id}/activate", tag = "Appointments", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<WeeklyTemplateView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn activate(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<WeeklyTemplateView>>> {
    switch(s, caller, id, true).await
}

#[utoipa::path(put, path = "/api/appointments/templates/{id}/deactivate", tag = "Appointments", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<WeeklyTemplateView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn deactivate(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<WeeklyTemplateView>>> {
    switch(s, caller, id, false).await
}

/// What a generate run made: `created` schedules and `skipped` dates with their `reason`
/// (`holiday`, `exists`, `refused`) and a `detail`.
#[utoipa::path(post, path = "/api/appointments/templates/generate", tag = "Appointments", request_body = GenerateBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn generate(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Generation>>> {
    caller.require(Permission::SchedulesManage)?;
    let g = template::generate(&s.deps, &caller.tenant, &caller.actor, &body).await?;
    let msg = format!("Generated {} schedules, skipped {}.", g.created.len(), g.skipped.len());
    Ok(Json(envelope::message_data(msg, g)))
}
