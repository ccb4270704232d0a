//! Where the reports read reservations from: the queue's own records, by clinic day.
//! The one place that knows the reservation's shape, so the reports and the rollup rebuild
//! do not.
use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::error::{DomainError, DomainResult};
use crate::report_visits::Visit;
use crate::rollup::ReservationFacts;
use crate::tenant::Tenant;
use crate::Deps;

/// The reservations of one clinic day, any poly, any status.
pub async fn day_visits(_deps: &Deps, _tenant: &Tenant, _date: NaiveDate, _tz: Tz) -> DomainResult<Vec<Visit>> {
    Err(DomainError::Internal("reservations are not stored yet".into()))
}

/// What the rollups count of each reservation of one clinic day.
pub async fn day_facts(deps: &Deps, tenant: &Tenant, date: NaiveDate, tz: Tz) -> DomainResult<Vec<ReservationFacts>> {
    let _ = (deps, tenant, date, tz);
    Err(DomainError::Internal("reservations are not stored yet".into()))
}
