//! The reservation list (seed "Reservation" select): newest first, filtered.
use antrean_store::{Query, SortKey};
use chrono::NaiveDate;
use serde_json::Value;

use super::*;
use crate::error::DomainResult;
use crate::patient;
use crate::record::{self, Record, Stored};
use crate::tenant::{id_key, Tenant};
use crate::Deps;

// ----- lists

/// The filters of `GET /api/reservation`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilters {
    pub poly_id: Option<i64>,
    pub status_id: Option<i64>,
    pub date: Option<NaiveDate>,
    pub search: Option<String>,
}

fn keep(r: &Stored<Reservation>, f: &ListFilters) -> bool {
    f.poly_id.is_none_or(|p| r.data.poly_id == p)
        && f.status_id.is_none_or(|s| r.data.status_id == s)
        && f.date.is_none_or(|d| r.data.visit_date() == d)
}

/// The reservation ids that may match, newest first, and whether that list is exact (`true`)
/// or still needs the filters applied to the records.
async fn candidates(deps: &Deps, tenant: &Tenant, f: &ListFilters) -> DomainResult<Vec<i64>> {
    let mut ids: Vec<i64> = if let Some(needle) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let patients = patient::search_ids(deps, tenant, needle).await?;
        let queries = patients.iter().map(|p| {
            let q = Query::partition(tenant.partition(&format!("PATIENT_RESERVATION#{}", id_key(*p)))).sort(SortKey::Any).only(&["id", "poly_id", "date"]);
            antrean_store::query_all(deps.table.as_ref(), q)
        });
        let mut ids = Vec::new();
        for items in futures::future::try_join_all(queries).await? {
            for i in items {
                let date_ok = f.date.is_none_or(|d| i.get("date").and_then(Value::as_str) == Some(d.format("%Y-%m-%d").to_string().as_str()));
                let poly_ok = f.poly_id.is_none_or(|p| i.get("poly_id").and_then(Value::as_i64) == Some(p));
                if let (true, true, Some(id)) = (date_ok, poly_ok, i.get("id").and_then(Value::as_i64)) {
                    ids.push(id);
                }
            }
        }
        ids
    } else if let Some(d) = f.date {
        day_entries(deps, tenant, d, f.poly_id).await?.into_iter().filter(|e| f.status_id.is_none_or(|s| e.status_id == s)).map(|e| e.id).collect()
    } else {
        let last = record::last_id(deps, tenant, Reservation::KIND).await?;
        let lo = (last - MAX_MATCHES as i64 + 1).max(1);
        (lo..=last).collect()
    };
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    ids.truncate(MAX_MATCHES);
    Ok(ids)
}

/// One page of reservations, newest first, and the total that match. Without a date or a
/// search, the filters look through the newest [`MAX_MATCHES`] reservations.
pub async fn list(deps: &Deps, tenant: &Tenant, f: &ListFilters, paging: crate::paging::Paging) -> DomainResult<(Vec<Full>, usize)> {
    let no_filter = f.search.as_deref().is_none_or(|s| s.trim().is_empty()) && f.date.is_none() && f.poly_id.is_none() && f.status_id.is_none();
    if no_filter {
        // Reservations are never deleted and ids have no gaps: a page is an id range.
        let last = record::last_id(deps, tenant, Reservation::KIND).await?;
        let hi = last.saturating_sub(i64::try_from(paging.offset()).unwrap_or(i64::MAX));
        let lo = (hi - paging.per_page as i64 + 1).max(1);
        let ids: Vec<i64> = if hi < 1 { vec![] } else { (lo..=hi).rev().collect() };
        let page = many(deps, tenant, &ids).await?;
        return Ok((with_relations(deps, tenant, page).await?, last as usize));
    }
    let ids = candidates(deps, tenant, f).await?;
    // Index entries can be a moment behind a status change: the records decide.
    let mut matching = Vec::new();
    for chunk in ids.chunks(100) {
        matching.extend(many(deps, tenant, chunk).await?.into_iter().filter(|r| keep(r, f)));
    }
    let total = matching.len();
    let page: Vec<Stored<Reservation>> = matching.into_iter().skip(paging.offset()).take(paging.per_page).collect();
    Ok((with_relations(deps, tenant, page).await?, total))
}

