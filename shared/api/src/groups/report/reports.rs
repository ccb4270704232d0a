//! Reports (seed section "Report (Page & Export)"): each a page with the seed's `pagination`
//! block and an `/export` of the very same rows as XLSX.
use antrean_domain::paging::Paging;
use antrean_domain::permission::Permission;
use antrean_domain::reporting::{self, Filters, Kind, Pagination, Polies, RawFilters, Rows};
use antrean_domain::Tenant;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::groups::configuration::paginate::RequestUrl;
use crate::AppState;

/// The filters of a report (each report takes the ones the seed lists for it; others are ignored).
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReportParams {
    /// `yyyy-mm-dd`, clinic calendar. Default: the first of `date_to`'s month (this month without either).
    pub date_from: Option<String>,
    /// `yyyy-mm-dd`, at most 366 days after `date_from`. Default: today.
    pub date_to: Option<String>,
    /// Only this poly (not for user-activity).
    pub poly_id: Option<String>,
    /// `BPJS` or `GENERAL` (patient-visits, no-show-cancelled).
    pub insurance_type: Option<String>,
    /// Status ids or codes, repeated: `status[]=5&status[]=NO_SHOW` (patient-visits).
    #[param(rename = "status[]")]
    pub status: Option<Vec<String>>,
    /// Only this user's actions (user-activity).
    pub user_id: Option<String>,
    /// Page number, from 1 (pages only).
    pub page: Option<String>,
    /// Rows per page, 1–100, default 10 (pages only).
    pub per_page: Option<String>,
}

/// The query pairs as sent; repeated keys (`status[]`) are kept.
pub type Pairs = Vec<(String, String)>;

fn one(pairs: &Pairs, key: &str) -> Option<String> {
    pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

pub fn raw_filters(pairs: &Pairs) -> RawFilters {
    RawFilters {
        date_from: one(pairs, "date_from"),
        date_to: one(pairs, "date_to"),
        poly_id: one(pairs, "poly_id"),
        insurance_type: one(pairs, "insurance_type"),
        status: pairs
            .iter()
            .filter(|(k, _)| k == "status" || k == "status[]" || (k.starts_with("status[") && k.ends_with(']')))
            .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
            .collect(),
        user_id: one(pairs, "user_id"),
    }
}

/// A report page: `{"status","message","data":[rows],"pagination":{…}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportPage {
    pub status: &'static str,
    pub message: &'static str,
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<Value>,
    pub pagination: Pagination,
}

fn permission_for(kind: Kind) -> Permission {
    if kind == Kind::UserActivity {
        Permission::AuditView
    } else {
        Permission::ReportsView
    }
}

/// What a report handler needs after the checks: the filters, polies and zone.
pub struct Prepared {
    pub filters: Filters,
    pub polies: Polies,
    pub tz: Tz,
}

pub async fn prepare(s: &AppState, tenant: &Tenant, kind: Kind, pairs: &Pairs) -> ApiResult<Prepared> {
    let tz = reporting::clinic_zone(&s.deps, tenant).await?;
    let polies = Polies::load(&s.deps, tenant).await?;
    let filters = Filters::parse(&s.deps, tenant, kind, &raw_filters(pairs), &polies, tz).await?;
    Ok(Prepared { filters, polies, tz })
}

async fn page(s: AppState, caller: Caller, kind: Kind, pairs: Pairs) -> ApiResult<Json<ReportPage>> {
    caller.require(permission_for(kind))?;
    let paging = Paging::parse(one(&pairs, "page").as_deref(), one(&pairs, "per_page").as_deref())?;
    let p = prepare(&s, &caller.tenant, kind, &pairs).await?;
    let (rows, pagination): (Rows, Pagination) = reporting::page(&s.deps, &caller.tenant, kind, &p.filters, &p.polies, p.tz, paging).await?;
    Ok(Json(ReportPage { status: "success", message: kind.message(), data: rows.to_json(), pagination }))
}

async fn export(s: AppState, caller: Caller, kind: Kind, pairs: Pairs, headers: HeaderMap, url: RequestUrl) -> ApiResult<Response> {
    caller.require(permission_for(kind))?;
    caller.require(Permission::ReportsExport)?;
    let p = prepare(&s, &caller.tenant, kind, &pairs).await?;
    super::export::export(&s, &caller.tenant, kind, p, &headers, &url).await
}

macro_rules! report_routes {
    ($($page:ident, $export:ident, $kind:expr, $path:literal, $export_path:literal;)*) => {
        pub fn routes() -> OpenApiRouter<AppState> {
            OpenApiRouter::new()
                $(.routes(routes!($page)).routes(routes!($export)))*
        }
        $(
            #[utoipa::path(get, path = $path, tag = "Report", params(ReportParams), security(("bearer" = [])),
                responses((status = 200, body = ReportPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
            async fn $page(State(s): State<AppState>, caller: Caller, Query(pairs): Query<Pairs>) -> ApiResult<Json<ReportPage>> {
                page(s, caller, $kind, pairs).await
            }

            /// Builds the XLSX, stores it under the clinic's prefix and redirects to a short-lived
            /// download link (`Accept: application/json`: `{"status":"success","url":…}`).
            #[utoipa::path(get, path = $export_path, tag = "Report", params(ReportParams), security(("bearer" = [])),
                responses((status = 302, description = "Redirect to the XLSX download"),
                    (status = 200, description = "With `Accept: application/json`: `{\"status\":\"success\",\"url\":…}`", body = super::export::ExportLink),
                    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
            async fn $export(State(s): State<AppState>, caller: Caller, headers: HeaderMap, url: RequestUrl, Query(pairs): Query<Pairs>) -> ApiResult<Response> {
                export(s, caller, $kind, pairs, headers, url).await
            }
        )*
    };
}

report_routes! {
    patient_visits, patient_visits_export, Kind::PatientVisits, "/api/reports/patient-visits", "/api/reports/patient-visits/export";
    no_show_cancelled, no_show_cancelled_export, Kind::NoShowCancelled, "/api/reports/no-show-cancelled", "/api/reports/no-show-cancelled/export";
    bpjs_vs_general, bpjs_vs_general_export, Kind::BpjsVsGeneral, "/api/reports/bpjs-vs-general", "/api/reports/bpjs-vs-general/export";
    poly_performance, poly_performance_export, Kind::PolyPerformance, "/api/reports/poly-performance", "/api/reports/poly-performance/export";
    waiting_time, waiting_time_export, Kind::WaitingTime, "/api/reports/waiting-time", "/api/reports/waiting-time/export";
    busy_hour, busy_hour_export, Kind::BusyHour, "/api/reports/busy-hour", "/api/reports/busy-hour/export";
    user_activity, user_activity_export, Kind::UserActivity, "/api/reports/user-activity", "/api/reports/user-activity/export";
}
