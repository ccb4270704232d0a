//! Doctor schedules (seed section "Schedule"): select (filters `doctor_id`, `date`, `month`,
//! `year`), detail, create, update, delete (soft). The rules and the key layout are in
//! `antrean_domain::schedule`.
use antrean_domain::permission::Permission;
use antrean_domain::record::Stored;
use antrean_domain::schedule::{self, ListFilter, ListParams, Schedule};
use antrean_domain::user::User;
use antrean_domain::{configuration, DomainError};
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

/// The seed's words (its delete example), used by every schedule route.
const NOT_FOUND: &str = "Schedule not found.";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(select, create))
        .routes(routes!(detail, update, delete))
}

/// The doctor as the seed nests it: the user's own fields, no roles.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoctorView {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub email_verified_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub poly_id: Option<i64>,
    pub username: String,
    pub deleted_at: Option<String>,
}

impl From<Stored<User>> for DoctorView {
    fn from(u: Stored<User>) -> Self {
        DoctorView {
            id: u.id,
            name: u.data.name,
            email: u.data.email,
            email_verified_at: u.data.email_verified_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
            poly_id: u.data.poly_id,
            username: u.data.username,
            deleted_at: u.deleted_at,
        }
    }
}

/// A schedule as the seed shows it in select and detail (plus `poly_id` and `quota`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub id: i64,
    pub doctor_id: i64,
    pub poly_id: i64,
    /// `YYYY-MM-DD`
    pub date: String,
    /// `HH:MM:SS`
    pub start_time: String,
    /// `HH:MM:SS`
    pub end_time: String,
    /// `null`: no limit.
    pub quota: Option<i64>,
    /// BPJS's JKN quota of this schedule; only when the clinic set one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_jkn: Option<i64>,
    /// BPJS's non-JKN quota of this schedule; only when the clinic set one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_non_jkn: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
    /// `null` only if the user record is gone.
    pub doctor: Option<DoctorView>,
}

/// The update response: the schedule without the nested doctor, as in the seed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleUpdated {
    pub id: i64,
    pub doctor_id: i64,
    pub poly_id: i64,
    pub date: String,
    pub start_time: String,
    pub end_time: String,
    pub quota: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

/// The create response, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleCreated {
    pub doctor_id: i64,
    pub poly_id: i64,
    pub date: String,
    pub start_time: String,
    pub end_time: String,
    pub quota: Option<i64>,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
}

fn view(s: Stored<Schedule>, doctor: Option<Stored<User>>) -> ScheduleView {
    ScheduleView {
        id: s.id,
        doctor_id: s.data.doctor_id,
        poly_id: s.data.poly_id,
        date: s.data.date,
        start_time: s.data.start_time,
        end_time: s.data.end_time,
        quota: s.data.quota,
        quota_jkn: s.data.bpjs_quota.as_ref().and_then(|q| q.jkn),
        quota_non_jkn: s.data.bpjs_quota.as_ref().and_then(|q| q.non_jkn),
        created_at: s.created_at,
        updated_at: s.updated_at,
        deleted_at: s.deleted_at,
        doctor: doctor.map(DoctorView::from),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ScheduleBody {
    /// A live user with the "Dokter" role and a poly; `"3"` is accepted too.
    #[schema(value_type = Object)]
    pub doctor_id: serde_json::Value,
    /// `YYYY-MM-DD`
    pub date: String,
    /// `HH:MM` or `HH:MM:SS`
    pub start_time: String,
    /// `HH:MM` or `HH:MM:SS`, after `start_time`
    pub end_time: String,
    /// At least 1; `null` or absent: no limit.
    pub quota: Option<i64>,
    /// 5–240: cut the schedule into bookable time slots of this length (see "Appointments").
    pub slot_minutes: Option<i64>,
    /// 1–100 bookings per slot (default 1).
    pub slot_capacity: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SelectParams {
    /// Only this doctor's schedules.
    pub doctor_id: Option<String>,
    /// `Y-m-d`: exactly this day (wins over month and year).
    pub date: Option<String>,
    /// `1`–`12`: with `year` that month, alone that month of this year.
    pub month: Option<String>,
    /// `Y`: the whole year. No date filter at all means this year.
    pub year: Option<String>,
}

/// Domain "not found" in the seed's words.
fn seed_words(e: DomainError) -> ApiError {
    match e {
        DomainError::NotFound(_) => ApiError::not_found(NOT_FOUND),
        other => other.into(),
    }
}

#[utoipa::path(get, path = "/api/schedule", tag = "Schedule", params(SelectParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<ScheduleView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, Query(q): Query<SelectParams>) -> ApiResult<Json<MessageData<Vec<ScheduleView>>>> {
    caller.require(Permission::SchedulesView)?;
    let tz = configuration::clinic_timezone(&s.deps, &caller.tenant).await?;
    let this_year = s.deps.clock.now().with_timezone(&tz).year();
    let params = ListParams {
        doctor_id: q.doctor_id,
        date: q.date,
        month: q.month,
        year: q.year,
    };
    let filter = ListFilter::parse(&params, this_year)?;
    let list = schedule::list(&s.deps, &caller.tenant, &filter).await?;
    let doctors = schedule::doctors_of(&s.deps, &caller.tenant, &list).await?;
    let data = list
        .into_iter()
        .map(|sch| {
            let doctor = doctors.get(&sch.data.doctor_id).cloned();
            view(sch, doctor)
        })
        .collect();
    Ok(Json(envelope::message_data("Schedules retrieved successfully.", data)))
}

#[utoipa::path(get, path = "/api/schedule/{id}", tag = "Schedule", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<ScheduleView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<ScheduleView>>> {
    caller.require(Permission::SchedulesView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let sch = schedule::find(&s.deps, &caller.tenant, id).await.map_err(seed_words)?;
    let mut doctors = schedule::doctors_of(&s.deps, &caller.tenant, std::slice::from_ref(&sch)).await?;
    let doctor = doctors.remove(&sch.data.doctor_id);
    Ok(Json(envelope::message_data("Schedule retrieved successfully.", view(sch, doctor))))
}

#[utoipa::path(post, path = "/api/schedule", tag = "Schedule", request_body = ScheduleBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<ScheduleCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<ScheduleCreated>>> {
    caller.require(Permission::SchedulesManage)?;
    let st = schedule::create(&s.deps, &caller.tenant, &caller.actor, &body).await?;
    Ok(Json(envelope::message_data(
        "Schedule created successfully.",
        ScheduleCreated {
            doctor_id: st.data.doctor_id,
            poly_id: st.data.poly_id,
            date: st.data.date,
            start_time: st.data.start_time,
            end_time: st.data.end_time,
            quota: st.data.quota,
            updated_at: st.updated_at,
            created_at: st.created_at,
            id: st.id,
        },
    )))
}

#[utoipa::path(put, path = "/api/schedule/{id}", tag = "Schedule", params(("id" = String, Path)), request_body = ScheduleBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<ScheduleUpdated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<MessageData<ScheduleUpdated>>> {
    caller.require(Permission::SchedulesManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let st = schedule::update(&s.deps, &caller.tenant, &caller.actor, id, &body)
        .await
        .map_err(seed_words)?;
    Ok(Json(envelope::message_data(
        "Schedule updated successfully.",
        ScheduleUpdated {
            id: st.id,
            doctor_id: st.data.doctor_id,
            poly_id: st.data.poly_id,
            date: st.data.date,
            start_time: st.data.start_time,
            end_time: st.data.end_time,
            quota: st.data.quota,
            created_at: st.created_at,
            updated_at: st.updated_at,
            deleted_at: st.deleted_at,
        },
    )))
}

#[utoipa::path(delete, path = "/api/schedule/{id}", tag = "Schedule", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::SchedulesManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    schedule::trash(&s.deps, &caller.tenant, &caller.actor, id).await.map_err(seed_words)?;
    Ok(Json(envelope::message("Schedule deleted successfully.")))
}
