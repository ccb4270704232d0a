//! BPJS's estimates are the clinic's own (`ticket::position::PolyDay`: the learned time per
//! patient of the schedule's doctor, else of the poly, else the clinic's `minutes_per_patient`,
//! else the schedule's span / quota, else 10 minutes; shared by the rooms serving):
//!
//! - `estimasidilayani` (add, ambil antrean): the schedule's start plus (number − 1) × that pace;
//! - `waktutunggu` (sisa antrean): seconds until the ticket page's "expected at".
use crate::error::DomainResult;
use crate::configuration::config::clinic_timezone;
use crate::reservation::Reservation;
use crate::schedule::Slot;
use crate::tenant::Tenant;
use crate::ticket::position::PolyDay;
use crate::Deps;

async fn day(deps: &Deps, tenant: &Tenant, r: &Reservation) -> DomainResult<PolyDay> {
    let tz = clinic_timezone(deps, tenant).await?;
    PolyDay::load(deps, tenant, r.poly_id, r.visit_date(), tz).await
}

/// `estimasidilayani`: ms since the epoch when `r` is expected to be seen.
pub async fn estimasidilayani(deps: &Deps, tenant: &Tenant, r: &Reservation, slot: &Slot) -> DomainResult<i64> {
    let day = day(deps, tenant, r).await?;
    Ok(day.expected_from_start(&slot.schedule.data, r.queue_number).map_or(0, |t| t.timestamp_millis()))
}

/// `waktutunggu`: seconds until `r` is expected in (0 once due, with the doctor or finished).
pub async fn waktutunggu(deps: &Deps, tenant: &Tenant, r: &Reservation, slot: Option<&Slot>) -> DomainResult<i64> {
    let day = day(deps, tenant, r).await?;
    let now = deps.clock.now();
    let at = day.position(r, slot.map(|s| &s.schedule.data), now).estimated_at;
    Ok(at.map_or(0, |t| (t - now).num_seconds().max(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use chrono::Utc;

    use crate::estimates::{Sample, ServiceTimes};
    use crate::record::Stored;
    use crate::schedule::Schedule;

    #[tokio::test]
    async fn bpjs_reads_the_clinic_s_one_learned_estimate() {
        let dir = tempfile::tempdir().unwrap();
        let deps = crate::test_deps(dir.path(), Arc::new(crate::SystemClock));
        let tenant = Tenant::parse("sehat").unwrap();
        let date = (Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
        let schedule = Schedule {
            doctor_id: 7, poly_id: 1, date: date.clone(), start_time: "08:00:00".into(), end_time: "12:00:00".into(),
            quota: Some(16), slot_minutes: None, slot_capacity: None, bpjs_quota: None,
        };
        let slot = Slot { schedule: Stored { id: 1, data: schedule, created_at: String::new(), updated_at: String::new(), deleted_at: None }, version: 1, booked: 0 };
        let r: Reservation = serde_json::from_value(serde_json::json!({
            "patient_id": 1, "poly_id": 1, "schedule_id": 1, "date": date, "bpjs": true, "status_id": 1, "status_code": "WAITING",
            "queue_number": 3, "re_reservation_time": "08:00:00", "queue_updated_at": "2026-01-10T00:00:00.000000Z",
        }))
        .unwrap();
        let start = estimasidilayani(&deps, &tenant, &Reservation { queue_number: 1, ..r.clone() }, &slot).await.unwrap();
        // No history: the schedule's span / quota (240 / 16 = 15 minutes) per patient.
        assert_eq!(estimasidilayani(&deps, &tenant, &r, &slot).await.unwrap() - start, 2 * 15 * 60_000);
        // The doctor's own consultations (4 minutes, mornings) once there are enough.
        let samples = vec![Sample { seconds: 240, hour: 8, doctor_id: Some(7) }; 6];
        let op = ServiceTimes::default().add_op(&tenant, 1, &samples);
        deps.table.write(vec![op]).await.unwrap();
        assert_eq!(estimasidilayani(&deps, &tenant, &r, &slot).await.unwrap() - start, 2 * 4 * 60_000);
    }
}
