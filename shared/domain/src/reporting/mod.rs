//! Reports (seed section "Report (Page & Export)"): seven reports, each a page of rows with
//! the seed's `pagination` block and an XLSX export of the very same rows, and the dashboard's
//! charts.
//!
//! Every report is a list of rows of typed cells ([`Cell`]): the page shows them as JSON, the
//! export writes them as real dates, times and numbers, so the two cannot disagree. The
//! per-day-per-poly reports read rollups (one item per poly per day, [`from_rollups`]); patient
//! visits read the reservations of the days a page needs ([`visits`]); user activity reads the
//! audit entries of the days asked ([`activity`]).
use chrono_tz::Tz;

use crate::error::DomainResult;
use crate::paging::Paging;
use crate::tenant::Tenant;
use crate::Deps;

pub mod activity;
pub mod cells;
pub mod dashboard;
pub mod export;
pub mod filters;
pub mod from_rollups;
pub mod kind;
pub mod source;
pub mod visits;

pub use cells::{minutes, Cell, Column, Fixed2, Pagination, Rows};
pub use filters::{clinic_zone, given, parse_date, parse_poly, today, Filters, Polies, RawFilters, MAX_RANGE_DAYS};
pub use from_rollups::{peak_hour, rollup_rows, workflow_codes};
pub use kind::Kind;

/// Every row of a report for the filters (what the export writes).
pub async fn all_rows(deps: &Deps, tenant: &Tenant, kind: Kind, f: &Filters, polies: &Polies, tz: Tz) -> DomainResult<Rows> {
    match kind {
        Kind::PatientVisits => visits::all_rows(deps, tenant, f, polies, tz).await,
        Kind::UserActivity => activity::rows(deps, tenant, f, tz).await,
        _ => rollup_rows(deps, tenant, kind, f, polies).await,
    }
}

/// One page of a report and its `pagination` block.
pub async fn page(deps: &Deps, tenant: &Tenant, kind: Kind, f: &Filters, polies: &Polies, tz: Tz, paging: Paging) -> DomainResult<(Rows, Pagination)> {
    if kind == Kind::PatientVisits {
        return visits::page(deps, tenant, f, polies, tz, paging).await;
    }
    let all = all_rows(deps, tenant, kind, f, polies, tz).await?;
    let total = all.rows.len();
    let rows = all.rows.into_iter().skip((paging.page - 1).saturating_mul(paging.per_page)).take(paging.per_page).collect();
    Ok((Rows { columns: all.columns, rows }, Pagination::of(paging, total)))
}

