//! Poly (seed section "Poly"): select, detail, create, update, delete (soft), trashed, restore.
use antrean_domain::permission::Permission;
use antrean_domain::bpjs::mapping::{self, Mapping};
use antrean_domain::poly::{self, Poly};
use antrean_domain::record::{self, Stored};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Data, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

const NOT_FOUND: &str = "Poly not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(select, create))
        .routes(routes!(trashed))
        .routes(routes!(detail, update, delete))
        .routes(routes!(restore))
}

/// A poly as the seed shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolyView {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
    /// BPJS's poli code, when the clinic gave one (not in the seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kodepoli: Option<String>,
    /// The letter(s) before the number in BPJS's `nomorantrean` ("A-12"), with `kodepoli`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

impl From<Stored<Poly>> for PolyView {
    fn from(s: Stored<Poly>) -> Self {
        PolyView { id: s.id, name: s.data.name, created_at: s.created_at, updated_at: s.updated_at, deleted_at: s.deleted_at, kodepoli: None, prefix: None }
    }
}

impl PolyView {
    /// With its BPJS code from the clinic's mapping.
    pub fn with_codes(mut self, m: &Mapping) -> Self {
        if let Some(c) = m.polies.get(&self.id) {
            self.kodepoli = Some(c.kodepoli.clone());
            self.prefix = Some(c.prefix.clone());
        }
        self
    }
}

/// The create response, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolyCreated {
    pub name: String,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kodepoli: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct PolyBody {
    /// Unique within the clinic, at most 255 characters.
    pub name: String,
    /// BPJS's poli code (in `ref/poli` when the clinic has BPJS configured); `null` removes
    /// it, absent keeps it.
    pub kodepoli: Option<String>,
    /// 1 to 3 letters before the number in BPJS's `nomorantrean` (default A, B, … by id).
    pub prefix: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Case-insensitive part of the name.
    pub search: Option<String>,
}

fn matching(list: Vec<Stored<Poly>>, search: Option<&str>, codes: &Mapping) -> Vec<PolyView> {
    let needle = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let mut out: Vec<PolyView> = list
        .into_iter()
        .filter(|p| needle.as_ref().is_none_or(|n| p.data.name.to_lowercase().contains(n)))
        .map(|p| PolyView::from(p).with_codes(codes))
        .collect();
    out.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
    out
}

#[utoipa::path(get, path = "/api/poly", tag = "Poly", params(SearchParams), security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<PolyView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, Query(q): Query<SearchParams>) -> ApiResult<Json<Data<Vec<PolyView>>>> {
    caller.require(Permission::PolyView)?;
    let list = record::list::<Poly>(&s.deps, &caller.tenant, false).await?;
    let codes = mapping::read(&s.deps, &caller.tenant).await?;
    Ok(Json(envelope::data(matching(list, q.search.as_deref(), &codes))))
}

#[utoipa::path(get, path = "/api/poly/trashed", tag = "Poly", params(SearchParams), security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<PolyView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn trashed(State(s): State<AppState>, caller: Caller, Query(q): Query<SearchParams>) -> ApiResult<Json<Data<Vec<PolyView>>>> {
    caller.require(Permission::PolyManage)?;
    let list = record::list::<Poly>(&s.deps, &caller.tenant, true).await?;
    let codes = mapping::read(&s.deps, &caller.tenant).await?;
    Ok(Json(envelope::data(matching(list, q.search.as_deref(), &codes))))
}

#[utoipa::path(post, path = "/api/poly", tag = "Poly", request_body = PolyBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<PolyCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<PolyCreated>>> {
    caller.require(Permission::PolyManage)?;
    let stored = poly::create(&s.deps, s.webhooks.as_ref(), &caller.tenant, &caller.actor, &body).await?;
    let v = PolyView::from(stored).with_codes(&mapping::read(&s.deps, &caller.tenant).await?);
    Ok(Json(envelope::message_data(
        "Poly created successfully",
        PolyCreated { name: v.name, updated_at: v.updated_at, created_at: v.created_at, id: v.id, kodepoli: v.kodepoli, prefix: v.prefix },
    )))
}

#[utoipa::path(get, path = "/api/poly/{id}", tag = "Poly", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Data<PolyView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Data<PolyView>>> {
    caller.require(Permission::PolyView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let poly = record::find::<Poly>(&s.deps, &caller.tenant, id).await?;
    Ok(Json(envelope::data(PolyView::from(poly).with_codes(&mapping::read(&s.deps, &caller.tenant).await?))))
}

#[utoipa::path(put, path = "/api/poly/{id}", tag = "Poly", params(("id" = String, Path)), request_body = PolyBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<PolyView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<PolyView>>> {
    caller.require(Permission::PolyManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    // An unknown id is a 404 before the body is judged, as the seed's Laravel original does.
    record::find::<Poly>(&s.deps, &caller.tenant, id).await?;
    let stored = poly::update(&s.deps, s.webhooks.as_ref(), &caller.tenant, &caller.actor, id, &body).await?;
    let v = PolyView::from(stored).with_codes(&mapping::read(&s.deps, &caller.tenant).await?);
    Ok(Json(envelope::message_data("Poly updated successfully", v)))
}

#[utoipa::path(delete, path = "/api/poly/{id}", tag = "Poly", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::PolyManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    record::trash::<Poly>(&s.deps, &caller.tenant, &caller.actor, id, vec![]).await?;
    Ok(Json(envelope::message("Poly deleted successfully")))
}

#[utoipa::path(post, path = "/api/poly/{id}/restore", tag = "Poly", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<PolyView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn restore(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MessageData<PolyView>>> {
    caller.require(Permission::PolyManage)?;
    let id = parse_id(&id, "Poly not found or not deleted")?;
    let stored = record::restore::<Poly>(&s.deps, &caller.tenant, &caller.actor, id).await?;
    let v = PolyView::from(stored).with_codes(&mapping::read(&s.deps, &caller.tenant).await?);
    Ok(Json(envelope::message_data("Poly restored successfully", v)))
}
