//! Where the reports read reservations from: the queue's own records, by clinic day.
//! The one place that knows the reservation's shape, so the reports and the rollup rebuild
//! do not.
use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::error::DomainResult;
use crate::record::Stored;
use crate::report_visits::Visit;
use crate::reservation::{self, Reservation};
use crate::rollup::{self, ReservationFacts};
use crate::tenant::Tenant;
use crate::{patient, Deps};

/// Every reservation of one clinic day: one Query on the day's queue index, then the records.
async fn day_reservations(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<Vec<Stored<Reservation>>> {
    let ids: Vec<i64> = reservation::day_entries(deps, tenant, date, None).await?.into_iter().map(|e| e.id).collect();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        out.extend(reservation::many(deps, tenant, chunk).await?);
    }
    Ok(out)
}

/// The reservations of one clinic day, any poly, any status.
pub async fn day_visits(deps: &Deps, tenant: &Tenant, date: NaiveDate, tz: Tz) -> DomainResult<Vec<Visit>> {
    let list = day_reservations(deps, tenant, date).await?;
    let patients = patient::many(deps, tenant, list.iter().map(|r| r.data.patient_id)).await?;
    Ok(list
        .into_iter()
        .map(|r| {
            let stages = r.data.stages();
            Visit {
                date,
                queue_number: r.data.queue_number,
                patient_name: patients.get(&r.data.patient_id).map(|p| p.data.patient_name.clone()).unwrap_or_default(),
                poly_id: r.data.poly_id,
                is_bpjs: r.data.bpjs,
                status: r.data.status_code.clone(),
                registered_at: stages.registered_at,
                called_in_at: stages.with_doctor_at,
                wait_secs: rollup::waiting_seconds(date, &stages, tz),
            }
        })
        .collect())
}

/// What the rollups count of each reservation of one clinic day.
pub async fn day_facts(deps: &Deps, tenant: &Tenant, date: NaiveDate, tz: Tz) -> DomainResult<Vec<ReservationFacts>> {
    Ok(day_reservations(deps, tenant, date).await?.iter().map(|r| r.data.facts(tz)).collect())
}
