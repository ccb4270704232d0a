//! `estimasidilayani`: the schedule's start plus (number − 1) × the poly's service minutes.
//! The minutes are learned: the median time with the doctor (called in → done) of the poly's
//! most recent finished visits, from their stage timestamps; the clinic's configured default
//! (`service_minutes` of the BPJS config) until there are `MIN_SAMPLES` of them.
//! Kept behind `service_minutes`, one call, so a general estimates module can take its place.
use chrono::{Duration, NaiveDateTime};
use chrono_tz::Tz;

use crate::error::DomainResult;
use crate::reservation::{self, DONE};
use crate::schedule::Slot;
use crate::tenant::Tenant;
use crate::Deps;

/// Days looked back (today included).
const DAYS: i64 = 3;
/// Finished visits the median is taken of, at most.
const MAX_SAMPLES: usize = 30;
pub const MIN_SAMPLES: usize = 3;

/// The median of `minutes`, or `default` with fewer than `MIN_SAMPLES`.
pub fn median_or(mut minutes: Vec<i64>, default: i64) -> i64 {
    if minutes.len() < MIN_SAMPLES {
        return default;
    }
    minutes.sort_unstable();
    let n = minutes.len();
    let m = if n % 2 == 1 {
        minutes[n / 2]
    } else {
        (minutes[n / 2 - 1] + minutes[n / 2] + 1) / 2
    };
    m.max(1)
}

/// The poly's service minutes now (see the module notes).
pub async fn service_minutes(deps: &Deps, tenant: &Tenant, poly_id: i64, default: i64) -> DomainResult<i64> {
    let (today, _) = reservation::clinic_today(deps, tenant).await?;
    let mut ids = Vec::new();
    for back in 0..DAYS {
        let day = today - Duration::days(back);
        let mut done: Vec<i64> = reservation::day_entries(deps, tenant, day, Some(poly_id))
            .await?
            .into_iter()
            .filter(|e| e.status_code == DONE)
            .map(|e| e.id)
            .collect();
        done.reverse();
        ids.extend(done);
        if ids.len() >= MAX_SAMPLES {
            break;
        }
    }
    ids.truncate(MAX_SAMPLES);
    if ids.len() < MIN_SAMPLES {
        return Ok(default);
    }
    let minutes = reservation::many(deps, tenant, &ids)
        .await?
        .iter()
        .filter_map(|r| {
            let s = r.data.stages();
            Some((s.finished_at? - s.with_doctor_at?).num_seconds())
        })
        .filter(|secs| *secs > 0)
        .map(|secs| (secs + 30) / 60)
        .collect();
    Ok(median_or(minutes, default))
}

/// ms since the epoch when number `n` of `slot` is expected to be seen.
pub fn estimated_ms(slot: &Slot, n: i64, minutes: i64, zone: Tz) -> i64 {
    let s = &slot.schedule.data;
    let Ok(start) = NaiveDateTime::parse_from_str(&format!("{} {}", s.date, s.start_time), "%Y-%m-%d %H:%M:%S") else {
        return 0;
    };
    let at = start.and_local_timezone(zone).earliest().map(|t| t.timestamp_millis()).unwrap_or(0);
    at + (n - 1).max(0) * minutes * 60_000
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use antrean_store::Op;
    use chrono::Utc;

    use crate::clock::stamp;
    use crate::record::{self, Stored};
    use crate::reservation::Reservation;

    /// A finished visit of poly 1 today that took `minutes` with the doctor.
    fn visit(id: i64, minutes: i64, today: &str) -> Stored<Reservation> {
        let start = Utc::now() - chrono::Duration::minutes(120 - id);
        let r: Reservation = serde_json::from_value(serde_json::json!({
            "patient_id": id, "poly_id": 1, "schedule_id": 1, "date": today, "bpjs": true, "status_id": 5, "status_code": "DONE",
            "queue_number": id, "re_reservation_time": "08:00:00", "queue_updated_at": stamp(start),
            "with_doctor_at": stamp(start), "finished_at": stamp(start + chrono::Duration::minutes(minutes)),
        }))
        .unwrap();
        Stored {
            id,
            data: r,
            created_at: stamp(start),
            updated_at: stamp(start),
            deleted_at: None,
        }
    }

    #[tokio::test]
    async fn the_minutes_are_learned_from_the_day_s_finished_visits() {
        let dir = tempfile::tempdir().unwrap();
        let deps = Deps {
            table: Arc::new(antrean_store::embedded::EmbeddedTable::open(dir.path()).unwrap()),
            clock: Arc::new(crate::SystemClock),
            tokens: Arc::new(crate::auth::token::TokenKeys::new(&[7u8; 32], chrono::Duration::hours(1)).unwrap()),
        };
        let tenant = Tenant::parse("sehat").unwrap();
        let (today, _) = reservation::clinic_today(&deps, &tenant).await.unwrap();
        let day = today.format("%Y-%m-%d").to_string();
        let put = |v: Stored<Reservation>| {
            vec![
                Op::put(record::item_of(&tenant, &v, 1).unwrap()),
                Op::put(reservation::day_item(&tenant, v.id, &v.data, None)),
            ]
        };
        deps.table.write([put(visit(1, 5, &day)), put(visit(2, 30, &day))].concat()).await.unwrap();
        assert_eq!(service_minutes(&deps, &tenant, 1, 10).await.unwrap(), 10, "two visits: the configured default");
        deps.table.write([put(visit(3, 7, &day)), put(visit(4, 9, &day))].concat()).await.unwrap();
        assert_eq!(service_minutes(&deps, &tenant, 1, 10).await.unwrap(), 8, "the median of 5, 7, 9 and 30");
        assert_eq!(service_minutes(&deps, &tenant, 2, 10).await.unwrap(), 10, "another poly has no history");
    }

    #[test]
    fn the_median_needs_a_few_visits() {
        assert_eq!(median_or(vec![], 10), 10);
        assert_eq!(median_or(vec![4, 40], 10), 10);
        assert_eq!(median_or(vec![4, 40, 6], 10), 6);
        assert_eq!(median_or(vec![4, 8, 6, 12], 10), 7);
    }
}
