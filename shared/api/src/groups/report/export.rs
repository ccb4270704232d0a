//! Delivering an export: the XLSX is built from the same rows as the page, written to the
//! blob store under the clinic's prefix (`T#<clinic>/exports/…`; on AWS the report function's
//! bucket is the reports bucket, whose lifecycle rule expires exports) and handed out as a
//! short-lived link.
use antrean_domain::reporting::export::{self, Heading};
use antrean_domain::reporting::{self, Kind};
use antrean_blobs::BlobKey;
use antrean_domain::{clinic, DomainError, Tenant};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::reports::Prepared;
use crate::error::ApiResult;
use crate::groups::configuration::paginate::RequestUrl;
use crate::AppState;

/// How long an export's download link works: long enough to click, short enough not to
/// travel. The file itself expires with the reports bucket's lifecycle rule.
pub const EXPORT_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `{"status":"success","url":…}`
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportLink {
    pub status: &'static str,
    pub url: String,
}

/// The workbook of a report for the filters, and its file name.
pub async fn build(s: &AppState, tenant: &Tenant, kind: Kind, p: &Prepared) -> ApiResult<(Vec<u8>, String)> {
    let rows = reporting::all_rows(&s.deps, tenant, kind, &p.filters, &p.polies, p.tz).await?;
    let clinic_name = clinic::find(&s.deps, tenant).await?.map(|c| c.name).unwrap_or_else(|| tenant.slug().to_string());
    let users = if p.filters.user_id.is_some() { antrean_domain::reporting::activity::user_names(&s.deps, tenant).await? } else { Default::default() };
    let filters = p.filters.describe(&p.polies, &users);
    let generated_at = s.deps.clock.now().with_timezone(&p.tz).naive_local();
    let zone = p.tz.name().to_string();
    // Building a large workbook is CPU work: keep it off the async workers.
    let bytes = tokio::task::spawn_blocking(move || {
        export::xlsx(&Heading { clinic: &clinic_name, kind, filters: &filters, generated_at, zone: &zone }, &rows)
    })
    .await
    .map_err(|e| antrean_domain::DomainError::Internal(format!("export task failed: {e}")))??;
    Ok((bytes, export::file_name(kind, p.filters.from, p.filters.to)))
}

/// Stores the workbook under the clinic's prefix and answers with a short-lived link to it:
/// a redirect (a browser link downloads the file directly, and no response-size limit of
/// the host is reached), or `{"status":"success","url":…}` for `Accept: application/json`.
pub async fn export(s: &AppState, tenant: &Tenant, kind: Kind, p: Prepared, headers: &HeaderMap, url: &RequestUrl) -> ApiResult<Response> {
    let (bytes, name) = build(s, tenant, kind, &p).await?;
    let now = s.deps.clock.now();
    let key = BlobKey::new(format!("T#{}/exports/{}/{}/{name}", tenant.slug(), now.format("%Y-%m-%d"), uuid::Uuid::new_v4().simple()))
        .map_err(|e| DomainError::Internal(e.to_string()))?;
    // S3 down: a 503 that says so (`DomainError::from`), and no link to a file that is not there.
    s.blobs.put(&key, bytes, XLSX).await.map_err(DomainError::from)?;
    let link = s.blobs.download_url(&key, &url.base, EXPORT_LINK_TTL).await.map_err(DomainError::from)?;
    let wants_json = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return Ok(Json(ExportLink { status: "success", url: link }).into_response());
    }
    let mut res = StatusCode::FOUND.into_response();
    let location = HeaderValue::from_str(&link).map_err(|_| DomainError::Internal("the export link is not a header value".into()))?;
    res.headers_mut().insert(header::LOCATION, location);
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
