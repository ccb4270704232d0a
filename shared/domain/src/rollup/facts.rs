//! What a rollup counts of one reservation, and the waiting time as the clinic means it.
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use super::{count_attr, hour_attr, slot_of};

/// When a reservation's stages happened (UTC instants, as the queue stores them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageTimes {
    /// The queue number was handed out.
    pub registered_at: Option<DateTime<Utc>>,
    /// A nurse called the patient to anamnesa.
    pub anamnesa_at: Option<DateTime<Utc>>,
    /// Anamnesa done; waiting for the doctor.
    pub waiting_doctor_at: Option<DateTime<Utc>>,
    /// The doctor called the patient in.
    pub with_doctor_at: Option<DateTime<Utc>>,
    /// Done, no-show or cancelled.
    pub finished_at: Option<DateTime<Utc>>,
}

/// How long the patient waited, in seconds, as the clinic means it: from taking the queue
/// number until the doctor called them in. For a booking made on an earlier day than the
/// visit, the wait starts when a nurse first called them to anamnesa, the first moment the
/// clinic knows they were there. `None` while (or if never) called in.
pub fn waiting_seconds(visit_date: NaiveDate, stages: &StageTimes, tz: Tz) -> Option<i64> {
    let end = stages.with_doctor_at?;
    let registered_same_day = stages.registered_at.filter(|r| r.with_timezone(&tz).date_naive() == visit_date);
    let start = registered_same_day.or(stages.anamnesa_at)?;
    Some((end - start).num_seconds().max(0))
}

/// What a rollup counts of one reservation. Built from the reservation by the queue code
/// (see [`ReservationFacts::new`]) before and after each change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationFacts {
    pub poly_id: i64,
    /// The visit date in the clinic's calendar.
    pub date: NaiveDate,
    /// The status code (`WAITING` … `CANCELLED`).
    pub status: String,
    pub is_bpjs: bool,
    /// The hour (0–23, clinic time) the queue number was handed out.
    pub registered_hour: u32,
    /// See [`waiting_seconds`].
    pub wait_secs: Option<i64>,
    /// The patient came to this poly from another one (`clinic_flow::poly_transfer`).
    pub transferred_in: bool,
    /// The patient was sent on from this poly to another one.
    pub transferred_out: bool,
}

impl ReservationFacts {
    /// `date` is the visit date, `status` the status code, `tz` the clinic's zone. A
    /// reservation without a registration time counts in the hour of its stage times' first
    /// entry, else 00.
    pub fn new(poly_id: i64, date: NaiveDate, status: &str, is_bpjs: bool, stages: &StageTimes, tz: Tz) -> Self {
        let registered = stages.registered_at.or(stages.anamnesa_at).or(stages.with_doctor_at);
        ReservationFacts {
            poly_id,
            date,
            status: status.to_ascii_uppercase(),
            is_bpjs,
            registered_hour: registered.map(|r| r.with_timezone(&tz).hour()).unwrap_or(0),
            wait_secs: waiting_seconds(date, stages, tz),
            transferred_in: false,
            transferred_out: false,
        }
    }

    pub(crate) fn same_bucket(&self, other: &ReservationFacts) -> bool {
        self.poly_id == other.poly_id && self.date == other.date
    }

    /// The attribute increments this reservation contributes to its bucket.
    pub(crate) fn contribution(&self) -> Vec<(String, i64)> {
        let mut out = vec![(count_attr(self.is_bpjs, slot_of(&self.status)), 1), (hour_attr(self.registered_hour), 1)];
        if let Some(w) = self.wait_secs {
            out.push(("wait_sum".into(), w));
            out.push(("wait_n".into(), 1));
        }
        if self.transferred_in {
            out.push(("moved_in".into(), 1));
        }
        if self.transferred_out {
            out.push(("moved_out".into(), 1));
        }
        out
    }
}
