//! Check-up schedules (seed section "Checkup Schedule"): select (filters `search`, `patient_id`,
//! `poly_id`, `date`; pages with the seed's `meta`), detail, create, update, delete (soft).
//! Every view nests the schedule's `patient` and `poly`.
use antrean_domain::checkup_schedule::{self, CheckupWithRelations, Filter};
use antrean_domain::paging::{PageMeta, Paging};
use antrean_domain::permission::Permission;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::groups::master_data::patients::PatientView;
use crate::groups::master_data::poly::PolyView;
use crate::AppState;

const NOT_FOUND: &str = "Checkup schedule not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(select, create)).routes(routes!(detail, update, delete))
}

/// A check-up schedule as the seed shows it in select, detail and update.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckupView {
    pub id: i64,
    pub patient_id: i64,
    pub poly_id: i64,
    /// `yyyy-mm-dd`.
    pub date: String,
    pub description: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
    pub patient: Option<PatientView>,
    /// `null` when the poly has since been deleted.
    pub poly: Option<PolyView>,
}

impl From<CheckupWithRelations> for CheckupView {
    fn from(c: CheckupWithRelations) -> Self {
        let s = c.schedule;
        CheckupView {
            id: s.id,
            patient_id: s.data.patient_id,
            poly_id: s.data.poly_id,
            date: s.data.date,
            description: s.data.description,
            created_at: s.created_at,
            updated_at: s.updated_at,
            deleted_at: s.deleted_at,
            patient: c.patient.map(PatientView::from),
            poly: c.poly.map(PolyView::from),
        }
    }
}

/// The create response, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckupCreated {
    pub patient_id: i64,
    pub poly_id: i64,
    pub date: String,
    pub description: Option<String>,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
    pub patient: Option<PatientView>,
    pub poly: Option<PolyView>,
}

impl From<CheckupWithRelations> for CheckupCreated {
    fn from(c: CheckupWithRelations) -> Self {
        let s = c.schedule;
        CheckupCreated {
            patient_id: s.data.patient_id,
            poly_id: s.data.poly_id,
            date: s.data.date,
            description: s.data.description,
            updated_at: s.updated_at,
            created_at: s.created_at,
            id: s.id,
            patient: c.patient.map(PatientView::from),
            poly: c.poly.map(PolyView::from),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CheckupBody {
    /// A patient of the clinic. Required on create.
    pub patient_id: Option<i64>,
    /// A live poly of the clinic. Required on create.
    pub poly_id: Option<i64>,
    /// `yyyy-mm-dd`. Required on create.
    pub date: Option<String>,
    /// At most 1000 characters; null clears it.
    pub description: Option<String>,
}

/// The seed's `meta` block, in its order.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckupMeta {
    pub current_page: usize,
    pub per_page: usize,
    pub total: usize,
    pub last_page: usize,
}

impl From<PageMeta> for CheckupMeta {
    fn from(m: PageMeta) -> Self {
        CheckupMeta { current_page: m.current_page, per_page: m.per_page, total: m.total, last_page: m.last_page }
    }
}

/// `{"status":"success","message":…,"data":[…],"meta":{…}}`
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckupPage {
    pub status: &'static str,
    pub message: String,
    pub data: Vec<CheckupView>,
    pub meta: CheckupMeta,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CheckupListParams {
    /// The patient (start of name words, WhatsApp or BPJS number), part of the poly name, or part of the description.
    pub search: Option<String>,
    #[param(value_type = Option<i64>)]
    pub patient_id: Option<String>,
    #[param(value_type = Option<i64>)]
    pub poly_id: Option<String>,
    /// `yyyy-mm-dd`.
    pub date: Option<String>,
    /// From 1 (default 1).
    #[param(value_type = Option<u32>)]
    pub page: Option<String>,
    /// 1–100 (default 10).
    #[param(value_type = Option<u32>)]
    pub per_page: Option<String>,
}

#[utoipa::path(get, path = "/api/checkup-schedule", tag = "Checkup Schedule", params(CheckupListParams), security(("bearer" = [])),
    responses((status = 200, body = CheckupPage, description = "Newest date first"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, Query(q): Query<CheckupListParams>) -> ApiResult<Json<CheckupPage>> {
    caller.require(Permission::CheckupsView)?;
    let paging = Paging::parse(q.page.as_deref(), q.per_page.as_deref())?;
    let filter = Filter::parse(q.search.as_deref(), q.patient_id.as_deref(), q.poly_id.as_deref(), q.date.as_deref())?;
    let (schedules, meta) = checkup_schedule::list(&s.deps, &caller.tenant, &filter, paging).await?;
    let data = checkup_schedule::with_relations(&s.deps, &caller.tenant, schedules).await?.into_iter().map(CheckupView::from).collect();
    Ok(Json(CheckupPage { status: "success", message: "Checkup schedules retrieved successfully".into(), data, meta: meta.into() }))
}

#[utoipa::path(post, path = "/api/checkup-schedule", tag = "Checkup Schedule", request_body = CheckupBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<CheckupCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<CheckupCreated>>> {
    caller.require(Permission::CheckupsManage)?;
    let stored = checkup_schedule::create(&s.deps, &caller.tenant, &caller.actor, &body).await?;
    let full = checkup_schedule::with_relations_one(&s.deps, &caller.tenant, stored).await?;
    Ok(Json(envelope::message_data("Checkup schedule created successfully", full.into())))
}

#[utoipa::path(get, path = "/api/checkup-schedule/{id}", tag = "Checkup Schedule", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<CheckupView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<CheckupView>>> {
    caller.require(Permission::CheckupsView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let stored = checkup_schedule::find(&s.deps, &caller.tenant, id).await?;
    let full = checkup_schedule::with_relations_one(&s.deps, &caller.tenant, stored).await?;
    Ok(Json(envelope::message_data("Checkup schedule retrieved successfully", full.into())))
}

#[utoipa::path(put, path = "/api/checkup-schedule/{id}", tag = "Checkup Schedule", params(("id" = String, Path)), request_body = CheckupBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<CheckupView>, description = "Fields left out keep their value"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<MessageData<CheckupView>>> {
    caller.require(Permission::CheckupsManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let stored = checkup_schedule::update(&s.deps, &caller.tenant, &caller.actor, id, &body).await?;
    let full = checkup_schedule::with_relations_one(&s.deps, &caller.tenant, stored).await?;
    Ok(Json(envelope::message_data("Checkup schedule updated successfully", full.into())))
}

#[utoipa::path(delete, path = "/api/checkup-schedule/{id}", tag = "Checkup Schedule", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::CheckupsManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    checkup_schedule::delete(&s.deps, &caller.tenant, &caller.actor, id).await?;
    Ok(Json(envelope::message("Checkup schedule deleted successfully")))
}
