//! Priority patients: the elderly (60 or older on the visit day, from the birth date), people
//! with a disability, pregnant women and emergencies. The clinic chooses which of these count
//! (`priority_criteria`); a reservation is marked priority at registration when one of its
//! reasons counts. Call-next then follows the clinic's policy ([`pick`]).
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::settings::{Policy, QueueSettings};
use crate::error::FieldErrors;
use crate::reservation::DayEntry;

/// The age from which a patient counts as elderly.
pub const ELDERLY_AGE: i32 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    Elderly,
    Disability,
    Pregnancy,
    Emergency,
}

impl Criterion {
    pub const ALL: [Criterion; 4] = [Criterion::Elderly, Criterion::Disability, Criterion::Pregnancy, Criterion::Emergency];

    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::Elderly => "elderly",
            Criterion::Disability => "disability",
            Criterion::Pregnancy => "pregnancy",
            Criterion::Emergency => "emergency",
        }
    }

    pub fn parse(s: &str) -> Option<Criterion> {
        Criterion::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn names() -> String {
        Criterion::ALL.map(Criterion::as_str).join(", ")
    }
}

/// Age in whole years on `day`.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// What a registration says about priority: the reasons given (`priority_reasons`, any of
/// disability / pregnancy / emergency; "elderly" is never taken on trust) and the birth date.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriorityForm {
    pub reasons: Vec<Criterion>,
    pub birth_date: Option<NaiveDate>,
}

impl PriorityForm {
    pub fn parse(errors: &mut FieldErrors, body: &Value, visit: Option<NaiveDate>) -> PriorityForm {
        let mut out = PriorityForm::default();
        match body.get("priority_reasons") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for v in list {
                    match v.as_str().and_then(Criterion::parse) {
                        Some(Criterion::Elderly) => errors.add("priority_reasons", "Elderly is worked out from the birth date; send birth_date instead."),
                        Some(c) if !out.reasons.contains(&c) => out.reasons.push(c),
                        Some(_) => {}
                        None => errors.add("priority_reasons", "The priority reasons must be among: disability, pregnancy, emergency."),
                    }
                }
            }
            Some(_) => errors.add("priority_reasons", "The priority reasons field must be an array."),
        }
        match body.get("birth_date") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                Ok(d) if visit.is_none_or(|v| d <= v) && d.year() >= 1880 => out.birth_date = Some(d),
                _ => errors.add("birth_date", "The birth date field must be a valid date (YYYY-MM-DD) not after the visit date."),
            },
            Some(_) => errors.add("birth_date", "The birth date field must be a valid date (YYYY-MM-DD) not after the visit date."),
        }
        out
    }

    /// Every reason that holds on the visit day, the elderly one from the birth date.
    pub fn reasons_on(&self, visit: NaiveDate) -> Vec<Criterion> {
        let mut all = self.reasons.clone();
        if self.birth_date.is_some_and(|b| age_on(b, visit) >= ELDERLY_AGE) {
            all.insert(0, Criterion::Elderly);
        }
        all
    }
}

/// Whether any reason counts under the clinic's criteria.
pub fn is_priority(reasons: &[Criterion], settings: &QueueSettings) -> bool {
    reasons.iter().any(|r| settings.priority_criteria.contains(r))
}

/// The candidates call-next reads before it knows the policy: the lowest priority and the
/// lowest regular number waiting for the doctor.
pub fn candidates(entries: &[DayEntry]) -> Candidates<'_> {
    candidates_of(entries, None)
}

/// The lowest priority and the lowest regular number waiting for the doctor.
pub type Candidates<'a> = (Option<&'a DayEntry>, Option<&'a DayEntry>);

/// [`candidates`] among the numbers booked on `doctor`'s schedule (all numbers for `None`).
pub fn candidates_of(entries: &[DayEntry], doctor: Option<i64>) -> Candidates<'_> {
    let waiting = || {
        entries.iter().filter(move |e| e.status_code == crate::reservation::WAITING_DOCTOR && doctor.is_none_or(|d| e.schedule_doctor_id == Some(d)))
    };
    (waiting().filter(|e| e.priority).min_by_key(|e| e.queue_number), waiting().filter(|e| !e.priority).min_by_key(|e| e.queue_number))
}

/// Regular numbers called in to the doctor since the last priority one; with no priority one
/// called yet today, "enough" (a priority patient does not wait for N regulars first).
pub fn regular_since_priority(entries: &[DayEntry]) -> i64 {
    let mut called: Vec<&DayEntry> = entries.iter().filter(|e| e.doctor_ms.is_some()).collect();
    if !called.iter().any(|e| e.priority) {
        return i64::MAX;
    }
    called.sort_by_key(|e| (e.doctor_ms, e.queue_number));
    called.iter().rev().take_while(|e| !e.priority).count() as i64
}

/// Who call-next calls in under the clinic's policy, from the two candidates.
pub fn pick<'a>(entries: &[DayEntry], priority: Option<&'a DayEntry>, regular: Option<&'a DayEntry>, settings: &QueueSettings) -> Option<&'a DayEntry> {
    match (priority, regular) {
        (Some(p), Some(r)) => Some(match settings.priority_policy {
            Policy::QueueOrder => {
                if p.queue_number < r.queue_number {
                    p
                } else {
                    r
                }
            }
            Policy::PriorityFirst => p,
            Policy::Interleave => {
                if regular_since_priority(entries) >= settings.priority_every {
                    p
                } else {
                    r
                }
            }
        }),
        (p, r) => p.or(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(n: i64, priority: bool, code: &str, doctor_ms: Option<i64>) -> DayEntry {
        DayEntry {
            id: n,
            poly_id: 1,
            patient_id: n,
            queue_number: n,
            status_code: code.into(),
            status_id: 1,
            called_ms: doctor_ms,
            priority,
            doctor_ms,
            ..Default::default()
        }
    }

    fn order(mut entries: Vec<DayEntry>, settings: &QueueSettings) -> Vec<i64> {
        let mut out = Vec::new();
        for t in 1.. {
            let (p, r) = candidates(&entries);
            let Some(next) = pick(&entries, p, r, settings).map(|e| e.id) else {
                break;
            };
            let e = entries.iter_mut().find(|e| e.id == next).unwrap();
            e.status_code = "DONE".into();
            e.doctor_ms = Some(t);
            out.push(next);
        }
        out
    }

    #[test]
    fn call_next_follows_the_policy() {
        let day: Vec<DayEntry> = (1..=8).map(|n| entry(n, [3, 4, 7].contains(&n), "WAITING_DOCTOR", None)).collect();
        let mut s = QueueSettings::default();
        assert_eq!(order(day.clone(), &s), vec![3, 4, 7, 1, 2, 5, 6, 8], "priority first");
        s.priority_policy = Policy::Interleave;
        s.priority_every = 2;
        // The first priority patient does not wait; then one after every two regular ones.
        assert_eq!(order(day.clone(), &s), vec![3, 1, 2, 4, 5, 6, 7, 8]);
        s.priority_policy = Policy::QueueOrder;
        assert_eq!(order(day, &s), (1..=8).collect::<Vec<_>>());
    }

    #[test]
    fn elderly_comes_from_the_birth_date_and_criteria_decide() {
        let visit = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        let mut errors = FieldErrors::new();
        let f = PriorityForm::parse(&mut errors, &json!({"birth_date": "1966-01-10", "priority_reasons": ["pregnancy"]}), Some(visit));
        assert!(errors.is_empty());
        assert_eq!(f.reasons_on(visit), vec![Criterion::Elderly, Criterion::Pregnancy]);
        let young = PriorityForm::parse(&mut errors, &json!({"birth_date": "1966-01-11"}), Some(visit));
        assert_eq!(young.reasons_on(visit), vec![], "59 until tomorrow");
        let mut s = QueueSettings { priority_criteria: vec![Criterion::Disability], ..Default::default() };
        assert!(!is_priority(&f.reasons_on(visit), &s));
        s.priority_criteria.push(Criterion::Elderly);
        assert!(is_priority(&f.reasons_on(visit), &s));
        PriorityForm::parse(&mut errors, &json!({"birth_date": "2027-01-01", "priority_reasons": ["elderly", "vip"]}), Some(visit));
        assert_eq!(errors.0.len(), 2, "{errors:?}");
    }
}
