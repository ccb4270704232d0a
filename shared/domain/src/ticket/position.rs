//! Where a reservation stands in its poly's day: who is being served now, how many are still
//! ahead of it, and when its turn is expected. Read by the ticket page and by the QUEUE and
//! TIME reminders, so the patient hears the same estimate everywhere.
//!
//! The clinic's one estimate, also BPJS's (`estimasidilayani`, `waktutunggu`): the later of
//! now and the reservation's schedule start, plus the patients ahead times the time per
//! patient, shared by the rooms serving now. Time per patient: the median of the recent
//! consultations of the schedule's doctor, else of the poly (`estimates`, learned from its own
//! history) where history allows; else the clinic's config `minutes_per_patient` (1–240), else
//! the schedule's span divided by its quota, else 10 minutes.
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

use crate::configuration::config::config_value;
use crate::error::DomainResult;
use crate::estimates::{self, ServiceTimes};
use crate::queue::current_of;
use crate::reservation::{day_entries, is_open, DayEntry, Reservation, WITH_DOCTOR};
use crate::schedule::Schedule;
use crate::tenant::Tenant;
use crate::Deps;

pub const MINUTES_PER_PATIENT: &str = "minutes_per_patient";
const DEFAULT_MINUTES: i64 = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub now_anamnesa: Option<i64>,
    /// The number with the doctor now: "the number now served".
    pub now_serving: Option<i64>,
    /// Open numbers before this one; `None` once this one is with the doctor or finished.
    pub ahead: Option<i64>,
    /// When this one is expected in; `None` once it is with the doctor or finished.
    pub estimated_at: Option<DateTime<Utc>>,
}

/// One poly's day as the estimates need it.
#[derive(Debug, Clone)]
pub struct PolyDay {
    pub entries: Vec<DayEntry>,
    pub configured_minutes: Option<i64>,
    pub tz: Tz,
    /// The poly's recent consultations (empty: nothing learned yet).
    pub learned: ServiceTimes,
}

/// The clinic's `minutes_per_patient`, when it is a sensible number.
pub async fn configured_minutes(deps: &Deps, tenant: &Tenant) -> DomainResult<Option<i64>> {
    Ok(config_value(deps, tenant, MINUTES_PER_PATIENT).await?.and_then(|v| v.trim().parse::<i64>().ok()).filter(|m| (1..=240).contains(m)))
}

impl PolyDay {
    pub async fn load(deps: &Deps, tenant: &Tenant, poly_id: i64, date: NaiveDate, tz: Tz) -> DomainResult<PolyDay> {
        let (entries, configured_minutes, learned) = futures::try_join!(day_entries(deps, tenant, date, Some(poly_id)), configured_minutes(deps, tenant), async {
            Ok(ServiceTimes::from_item(deps.table.get(&estimates::key(tenant, poly_id)).await?.as_ref()))
        })?;
        Ok(PolyDay { entries, configured_minutes, tz, learned })
    }

    /// The minutes one patient takes under `schedule`.
    pub fn minutes_per_patient(&self, schedule: Option<&Schedule>) -> i64 {
        if let Some(m) = self.configured_minutes {
            return m;
        }
        let span = schedule.and_then(|s| Some((parse_time(&s.end_time)? - parse_time(&s.start_time)?).num_minutes()));
        match (span, schedule.and_then(|s| s.quota)) {
            (Some(span), Some(q)) if q > 0 && span > 0 => (span / q).clamp(1, 240),
            _ => DEFAULT_MINUTES,
        }
    }

    /// The seconds one patient takes at `at` under `schedule` (its doctor's pace first):
    /// learned where the history allows, else [`Self::minutes_per_patient`].
    pub fn seconds_per_patient(&self, schedule: Option<&Schedule>, at: DateTime<Utc>) -> i64 {
        let doctor = schedule.map(|s| s.doctor_id);
        self.learned.median_seconds(at.with_timezone(&self.tz).hour(), doctor).unwrap_or_else(|| self.minutes_per_patient(schedule) * 60)
    }

    /// The seconds between two patients in the line: one patient's time shared by the rooms.
    pub fn pace_seconds(&self, schedule: Option<&Schedule>, at: DateTime<Utc>) -> i64 {
        self.seconds_per_patient(schedule, at) / self.rooms_serving()
    }

    /// When number `n` of `schedule` is expected in, counted from the schedule's start:
    /// start + (n − 1) × the pace (BPJS's `estimasidilayani`, told once at booking).
    pub fn expected_from_start(&self, schedule: &Schedule, n: i64) -> Option<DateTime<Utc>> {
        let start = schedule_start(schedule, self.tz)?;
        Some(start + Duration::seconds((n - 1).max(0) * self.pace_seconds(Some(schedule), start)))
    }

    /// Rooms calling patients in now (each serves the line in parallel); at least one.
    pub fn rooms_serving(&self) -> i64 {
        let rooms: std::collections::BTreeSet<i64> = self.entries.iter().filter(|e| e.status_code == WITH_DOCTOR).filter_map(|e| e.room_id).collect();
        (rooms.len() as i64).max(1)
    }

    pub fn position(&self, r: &Reservation, schedule: Option<&Schedule>, now: DateTime<Utc>) -> Position {
        let (now_anamnesa, now_serving) = current_of(&self.entries, r.poly_id);
        let waiting = is_open(&r.status_code) && r.status_code != WITH_DOCTOR;
        if !waiting {
            return Position { now_anamnesa, now_serving, ahead: None, estimated_at: None };
        }
        let ahead = self
            .entries
            .iter()
            .filter(|e| e.queue_number < r.queue_number && is_open(&e.status_code) && e.status_code != WITH_DOCTOR)
            .count() as i64;
        let start = schedule.and_then(|s| schedule_start(s, self.tz));
        let from = start.map_or(now, |s| s.max(now));
        // The one with the doctor now is not finished yet: count them too.
        let in_front = ahead + i64::from(now_serving.is_some());
        let estimated_at = Some(from + Duration::seconds(in_front * self.seconds_per_patient(schedule, from) / self.rooms_serving()));
        Position { now_anamnesa, now_serving, ahead: Some(ahead), estimated_at }
    }
}

fn schedule_start(s: &Schedule, tz: Tz) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(&s.date, "%Y-%m-%d").ok()?;
    day.and_time(parse_time(&s.start_time)?).and_local_timezone(tz).earliest().map(|t| t.with_timezone(&Utc))
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M:%S").or_else(|_| NaiveTime::parse_from_str(s, "%H:%M")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: i64, code: &str) -> DayEntry {
        DayEntry { id: n, poly_id: 1, patient_id: n, queue_number: n, status_code: code.into(), status_id: 1, called_ms: Some(n), bpjs: Some(false), ..Default::default() }
    }

    fn reservation(n: i64, code: &str) -> Reservation {
        serde_json::from_value(serde_json::json!({
            "patient_id": n, "poly_id": 1, "schedule_id": 1, "date": "2026-01-10", "bpjs": false, "status_id": 1,
            "status_code": code, "queue_number": n, "re_reservation_time": "07:00:00", "queue_updated_at": "2026-01-10T00:00:00.000000Z",
        }))
        .unwrap()
    }

    fn schedule(quota: Option<i64>) -> Schedule {
        Schedule { doctor_id: 1, poly_id: 1, date: "2026-01-10".into(), start_time: "08:00:00".into(), end_time: "12:00:00".into(), quota, slot_minutes: None, slot_capacity: None, bpjs_quota: None }
    }

    #[test]
    fn counts_who_is_ahead_and_estimates_from_the_schedule() {
        let day = PolyDay {
            entries: vec![entry(1, "DONE"), entry(2, "WITH_DOCTOR"), entry(3, "NO_SHOW"), entry(4, "WAITING_DOCTOR"), entry(5, "WAITING"), entry(6, "WAITING")],
            configured_minutes: None,
            tz: chrono_tz::Asia::Jakarta,
            learned: ServiceTimes::default(),
        };
        // 07:00 Jakarta: before the schedule starts at 08:00; 240 minutes / 16 places = 15 each.
        let now = "2026-01-10T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let p = day.position(&reservation(5, "WAITING"), Some(&schedule(Some(16))), now);
        assert_eq!((p.now_serving, p.ahead), (Some(2), Some(1)));
        // 08:00 + (1 ahead + 1 with the doctor) × 15 minutes = 08:30 Jakarta = 01:30 UTC.
        assert_eq!(p.estimated_at, Some("2026-01-10T01:30:00Z".parse().unwrap()));
        // Without a quota: 10 minutes each; after the start, from now.
        let later = "2026-01-10T02:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let p = day.position(&reservation(6, "WAITING"), Some(&schedule(None)), later);
        assert_eq!(p.ahead, Some(2));
        assert_eq!(p.estimated_at, Some("2026-01-10T02:30:00Z".parse().unwrap()));
        // Being served or finished: nothing ahead, no estimate.
        for code in ["WITH_DOCTOR", "DONE", "CANCELLED"] {
            let p = day.position(&reservation(2, code), Some(&schedule(None)), now);
            assert_eq!((p.ahead, p.estimated_at), (None, None), "{code}");
        }
        let fixed = PolyDay { configured_minutes: Some(5), ..day };
        assert_eq!(fixed.minutes_per_patient(Some(&schedule(Some(16)))), 5);
    }

    #[test]
    fn learned_consultation_times_replace_the_rule_and_rooms_share_the_line() {
        let samples = vec![crate::estimates::Sample { seconds: 4 * 60, hour: 9, doctor_id: None }; 8];
        let mut day = PolyDay {
            entries: vec![entry(1, "WITH_DOCTOR"), entry(2, "WAITING"), entry(3, "WAITING")],
            configured_minutes: Some(10),
            tz: chrono_tz::Asia::Jakarta,
            learned: ServiceTimes { samples, rev: Some(8) },
        };
        // 09:00 Jakarta: 2 in front (1 ahead + 1 with the doctor) × 4 learned minutes.
        let now = "2026-01-10T02:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let p = day.position(&reservation(3, "WAITING"), None, now);
        assert_eq!(p.estimated_at, Some("2026-01-10T02:08:00Z".parse().unwrap()));
        // Two rooms calling in: half the wait.
        day.entries[0].room_id = Some(1);
        day.entries.push(DayEntry { room_id: Some(2), ..entry(9, "WITH_DOCTOR") });
        let p = day.position(&reservation(3, "WAITING"), None, now);
        assert_eq!(p.estimated_at, Some("2026-01-10T02:04:00Z".parse().unwrap()), "2 in front × 4 minutes / 2 rooms");
    }
}
