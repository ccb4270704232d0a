//! BPJS antrean online, for the clinic: its configuration (never its secrets back), the
//! mapping of polies and doctors to BPJS's codes, BPJS's reference lists, and the sync list.
//! Reads need `bpjs.view`, changes `bpjs.manage`. The endpoints BPJS itself calls are `ws`.
use antrean_domain::bpjs::{config, mapping, sync};
use antrean_domain::permission::Permission;
use antrean_domain::webhook;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::AppState;

pub mod fktp;
pub mod prompt;
pub mod visits;
pub mod ws;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(config_detail, config_save))
        .routes(routes!(mapping_detail, mapping_save))
        .routes(routes!(ref_poli))
        .routes(routes!(ref_dokter))
        .routes(routes!(sync_list))
        .routes(routes!(sync_run))
        .merge(visits::routes())
        .merge(ws::routes())
        .merge(fktp::routes())
}

#[utoipa::path(get, path = "/api/bpjs/config", tag = "BPJS", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>, description = "The configuration; secrets only as `secret_key_set` / `user_key_set` / `ws_password_set`"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn config_detail(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::BpjsView)?;
    let c = config::read(&s.deps, &caller.tenant)
        .await?
        .ok_or_else(|| crate::error::ApiError::not_found(config::NOT_CONFIGURED))?;
    Ok(Json(envelope::message_data("BPJS configuration retrieved successfully", c.view())))
}

/// `PUT /api/bpjs/config`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ConfigBody {
    /// `rs` (FKTRL, `antreanrs`; default) or `fktp` (klinik pratama, `antreanfktp`).
    pub tier: Option<String>,
    /// BPJS's base URL, e.g. `https://apijkn.bpjs-kesehatan.go.id`.
    pub base_url: String,
    /// Default `antreanrs` / `antreanfktp` by tier.
    pub service_name: Option<String>,
    pub cons_id: String,
    /// Required the first time; left out, the stored one stays. Never answered back.
    pub secret_key: Option<String>,
    /// Required the first time; left out, the stored one stays. Never answered back.
    pub user_key: Option<String>,
    /// The user Mobile JKN signs in with on the clinic's WS (`x-username`).
    pub ws_username: Option<String>,
    /// Its password (8+ characters; kept as a hash).
    pub ws_password: Option<String>,
    /// `true` (default): reservations are reported to BPJS.
    pub enabled: Option<bool>,
    /// `keterangan` sent to patients.
    pub keterangan: Option<String>,
}

#[utoipa::path(put, path = "/api/bpjs/config", tag = "BPJS", request_body = ConfigBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn config_save(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::BpjsManage)?;
    let was_on = config::read(&s.deps, &caller.tenant).await?.is_some_and(|c| c.enabled);
    // Where the product never sends (metadata and link-local addresses; loopback on Lambda).
    let c = config::save(&s.deps, &caller.tenant, &caller.actor, &body, &|u| s.webhooks.refusal(u)).await?;
    let mut view = c.view();
    if c.enabled && !was_on {
        // Switched on: today's and later reservations made without BPJS are queued now.
        let today = antrean_domain::reservation::clinic_today(&s.deps, &caller.tenant).await?.0;
        let done = antrean_domain::bpjs::backfill::run(&s.deps, &caller.tenant, today).await?;
        view["backfill"] = json!(done);
    }
    Ok(Json(envelope::message_data("BPJS configuration saved successfully", view)))
}

fn mapping_view(m: &mapping::Mapping) -> Value {
    json!({
        "polies": m.polies.iter().map(|(id, p)| json!({"poly_id": id, "kodepoli": p.kodepoli, "namapoli": p.namapoli, "prefix": p.prefix})).collect::<Vec<_>>(),
        "doctors": m.doctors.iter().map(|(id, d)| json!({"doctor_id": id, "kodedokter": d.kodedokter, "namadokter": d.namadokter})).collect::<Vec<_>>(),
    })
}

#[utoipa::path(get, path = "/api/bpjs/mapping", tag = "BPJS", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn mapping_detail(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::BpjsView)?;
    let m = mapping::read(&s.deps, &caller.tenant).await?;
    Ok(Json(envelope::message_data("BPJS mapping retrieved successfully", mapping_view(&m))))
}

/// `{"polies":[{"poly_id":1,"kodepoli":"ANA","prefix":"A"}],"doctors":[{"doctor_id":2,"kodedokter":12345}]}`;
/// a `null` code removes the entry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct MappingBody {
    #[schema(value_type = Option<Vec<Object>>)]
    pub polies: Option<Vec<Value>>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub doctors: Option<Vec<Value>>,
}

#[utoipa::path(put, path = "/api/bpjs/mapping", tag = "BPJS", request_body = MappingBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody, description = "A code not in BPJS's reference list, an unknown poly or doctor, or BPJS unreachable")))]
async fn mapping_save(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::BpjsManage)?;
    let m = mapping::save(&s.deps, s.webhooks.as_ref(), &caller.tenant, &caller.actor, &body).await?;
    Ok(Json(envelope::message_data("BPJS mapping saved successfully", mapping_view(&m))))
}

#[utoipa::path(get, path = "/api/bpjs/ref/poli", tag = "BPJS", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<Object>>, description = "BPJS's poli list (`ref/poli`), as `{kode, nama}`"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn ref_poli(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<MessageData<Vec<Value>>>> {
    caller.require(Permission::BpjsManage)?;
    let list = mapping::reference(&s.deps, s.webhooks.as_ref(), &caller.tenant, mapping::Reference::Poli).await?;
    Ok(Json(envelope::message_data("BPJS poli list retrieved successfully", list)))
}

#[utoipa::path(get, path = "/api/bpjs/ref/dokter", tag = "BPJS", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<Object>>, description = "BPJS's doctor list (`ref/dokter`), as `{kode, nama}`"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn ref_dokter(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<MessageData<Vec<Value>>>> {
    caller.require(Permission::BpjsManage)?;
    let list = mapping::reference(&s.deps, s.webhooks.as_ref(), &caller.tenant, mapping::Reference::Dokter).await?;
    Ok(Json(envelope::message_data("BPJS doctor list retrieved successfully", list)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SyncParams {
    /// `YYYY-MM-DD`; default the clinic's today.
    pub date: Option<String>,
    /// `sent`, `pending` or `error`.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/bpjs/sync", tag = "BPJS", params(SyncParams), security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<Object>>, description = "Per reservation: `status` and each event's `status`, `message` (BPJS's answer), `attempts`, `at`"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn sync_list(State(s): State<AppState>, caller: Caller, Query(p): Query<SyncParams>) -> ApiResult<Json<MessageData<Vec<Value>>>> {
    caller.require(Permission::BpjsView)?;
    let date = match p.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| antrean_domain::FieldErrors::single("date", "The date field must match the format Y-m-d."))?,
        None => antrean_domain::reservation::clinic_today(&s.deps, &caller.tenant).await?.0,
    };
    let status = p.status.as_deref().map(str::trim).filter(|x| !x.is_empty());
    if status.is_some_and(|x| !matches!(x, "sent" | "pending" | "error")) {
        return Err(antrean_domain::FieldErrors::single("status", "The selected status is invalid.").into());
    }
    let list = sync::list(&s.deps, &caller.tenant, date, status).await?;
    Ok(Json(envelope::message_data("BPJS sync list retrieved successfully", list)))
}

#[utoipa::path(post, path = "/api/bpjs/sync/run", tag = "BPJS", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Object>, description = "`{delivered, failed, expired}`: what this run did with the clinic's due deliveries"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn sync_run(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<MessageData<Value>>> {
    caller.require(Permission::BpjsManage)?;
    let report = webhook::retry_clinic(&s.deps, s.webhooks.as_ref(), &caller.tenant).await?;
    Ok(Json(envelope::message_data("Due deliveries processed", json!(report))))
}
