//! BPJS antrean online (Mobile JKN): the bridge between the clinic's queue and BPJS.
//!
//! - Outbound (`outbound`): `antrean/add` when a reservation is made, `antrean/updatewaktu`
//!   with BPJS's task ids from the stage timestamps, `antrean/batal` on cancel (FKTP:
//!   `antrean/add`, `antrean/panggil`, `antrean/batal`). Events are put in the clinic's outbox
//!   in the same atomic write as the change they report, and delivered by the outbox's worker
//!   (`webhook::retry_due`), in order per reservation; `sync` is what the clinic reads of it.
//! - Signed and encrypted calls (`client`, `crypto`); the clinic's configuration with its
//!   sealed credentials (`config`); BPJS codes of polies and doctors, the per-poly number
//!   prefix and the JKN / non-JKN quotas (`mapping`).
//! - Inbound (`ws`): the WS RS endpoints Mobile JKN calls on the clinic.
//!
//! Keys, all under the clinic: `T#<c>#BPJS` / `CONFIG` and `MAPPING`; the sync state of a
//! reservation `T#<c>#BPJS_SYNC#<date>` / `<reservation id, 12>`; a booking code's reservation
//! `T#<c>#BPJS_BOOKING` / `<kodebooking>`; the JKN / non-JKN places taken of a schedule
//! `T#<c>#BPJS_BOOKED` / `<schedule id, 12>`; Mobile JKN's tokens `T#<c>#BPJS_TOKEN` / `<sha256>`.
use antrean_store::Key;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldErrors;
use crate::tenant::{id_key, Tenant};
use crate::validate;

pub mod backfill;
pub mod client;
pub mod codes;
pub mod config;
pub mod crypto;
pub mod estimate;
pub mod fktp;
pub mod mapping;
pub mod outbound;
pub mod prompt;
pub mod quota;
pub mod sync;
pub mod visits;
pub mod ws;

pub const JKN: &str = "JKN";
pub const NON_JKN: &str = "NON JKN";

/// What a reservation carries for BPJS (seed 000's fields), kept on the reservation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Visit {
    /// Unique per clinic: `<yyyymmdd><poly id, 4><queue number, 4>`.
    pub kodebooking: String,
    /// `JKN` or `NON JKN`, from the reservation's `bpjs` flag.
    pub jenispasien: String,
    /// The patient's BPJS card number (empty for NON JKN).
    #[serde(default)]
    pub nomorkartu: String,
    #[serde(default)]
    pub nik: String,
    /// The clinic's medical record number: the patient's id, six digits.
    pub norm: String,
    #[serde(default)]
    pub nomorreferensi: String,
    /// 1 rujukan FKTP, 2 rujukan internal, 3 kontrol, 4 rujukan antar RS.
    #[serde(default)]
    pub jeniskunjungan: Option<i64>,
    /// 1 when the patient was registered by this reservation.
    pub pasienbaru: i64,
    /// `reception` or `mobile_jkn` (ambil antrean).
    #[serde(default)]
    pub source: String,
    /// The place taken of the schedule's JKN or non-JKN quota, if it has one (`jkn`, `nonjkn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<String>,
    /// The patient's check-in at the clinic (ms since the epoch): Mobile JKN's `checkin`, the
    /// desk's `PATCH /api/bpjs/visits/{id}/checkin`, or `checkin_at` of a desk registration.
    /// Task 1 for a new patient, task 3 for a known patient's Mobile JKN booking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkin_ms: Option<i64>,
    /// Admission started serving a new patient (task 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission_ms: Option<i64>,
    /// Admission finished with a new patient booked from Mobile JKN (task 3); a desk
    /// registration's own time is its task 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admitted_ms: Option<i64>,
    /// The clinic has BPJS switched on: events of this reservation go to BPJS.
    #[serde(default)]
    pub sync: bool,
}

/// The optional BPJS fields of a reservation body: `nik`, `nomorreferensi`, `jeniskunjungan`,
/// and for a new patient `pasienbaru` and the admission desk's own times `checkin_at` (the
/// patient arrived: task 1) and `admission_at` (the desk started serving them: task 2).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VisitForm {
    pub nik: Option<String>,
    pub nomorreferensi: Option<String>,
    pub jeniskunjungan: Option<i64>,
    /// `true`: new to the clinic although already on file (registered earlier, e.g. through
    /// Mobile JKN's info pasien baru, and never seen).
    pub pasienbaru: Option<bool>,
    pub checkin_at: Option<i64>,
    pub admission_at: Option<i64>,
}

/// An RFC 3339 time of the body as ms since the epoch.
fn optional_time(errors: &mut FieldErrors, body: &Value, field: &str) -> Option<i64> {
    match body.get(field) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_str().and_then(crate::reservation::parse_stamp) {
            Some(t) => Some(t.timestamp_millis()),
            None => {
                errors.add(field, format!("The {} field must be a date and time (RFC 3339, e.g. 2026-01-10T01:05:00Z).", validate::human(field)));
                None
            }
        },
    }
}

impl VisitForm {
    pub fn parse(errors: &mut FieldErrors, body: &Value) -> VisitForm {
        let nik = validate::optional_string(errors, body, "nik", 16);
        if let Some(n) = &nik {
            if n.len() != 16 || !n.bytes().all(|b| b.is_ascii_digit()) {
                errors.add("nik", "The nik field must be 16 digits.");
            }
        }
        let nomorreferensi = validate::optional_string(errors, body, "nomorreferensi", 30);
        let jeniskunjungan = match body.get("jeniskunjungan") {
            None | Some(Value::Null) => None,
            Some(v) => match validate::as_id(v).filter(|n| (1..=4).contains(n)) {
                Some(n) => Some(n),
                None => {
                    errors.add("jeniskunjungan", "The jeniskunjungan field must be 1, 2, 3 or 4.");
                    None
                }
            },
        };
        let pasienbaru = match body.get("pasienbaru") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(v) => match v.as_i64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => {
                    errors.add("pasienbaru", "The pasienbaru field must be true or false.");
                    None
                }
            },
        };
        let checkin_at = optional_time(errors, body, "checkin_at");
        let admission_at = optional_time(errors, body, "admission_at");
        if let (Some(c), Some(a)) = (checkin_at, admission_at) {
            if c > a {
                errors.add("admission_at", "The admission at field must not be before checkin at.");
            }
        }
        VisitForm {
            nik,
            nomorreferensi,
            jeniskunjungan,
            pasienbaru,
            checkin_at,
            admission_at,
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == VisitForm::default()
    }
}

/// `<yyyymmdd><poly id, 4 digits><queue number, 4 digits>`: unique per clinic, as a day's poly
/// hands out each number once.
pub fn kodebooking(date: NaiveDate, poly_id: i64, queue_number: i64) -> String {
    format!("{}{:04}{:04}", date.format("%Y%m%d"), poly_id, queue_number)
}

/// The medical record number BPJS is told (`norm`): the patient's id, six digits.
pub fn norm(patient_id: i64) -> String {
    format!("{patient_id:06}")
}

/// A new reservation's BPJS data: when the clinic configured BPJS, the form gave BPJS fields,
/// or the schedule has a JKN / non-JKN quota (the place taken must be given back on cancel).
pub(crate) fn visit_of(
    form: &crate::reservation::ReservationForm,
    patient: &crate::record::Stored<crate::patient::Patient>,
    new_patient: bool,
    number: i64,
    source: &str,
    config: Option<&config::BpjsConfig>,
    kind_quota: bool,
) -> Option<Visit> {
    if config.is_none() && form.visit.is_empty() && !kind_quota {
        return None;
    }
    Some(Visit {
        kodebooking: kodebooking(form.date, form.poly_id, number),
        jenispasien: if form.bpjs { JKN } else { NON_JKN }.into(),
        nomorkartu: if form.bpjs {
            patient.data.no_bpjs.clone().unwrap_or_default()
        } else {
            String::new()
        },
        nik: form.visit.nik.clone().unwrap_or_default(),
        norm: norm(patient.id),
        nomorreferensi: if form.bpjs {
            form.visit.nomorreferensi.clone().unwrap_or_default()
        } else {
            String::new()
        },
        jeniskunjungan: form.visit.jeniskunjungan,
        pasienbaru: i64::from(new_patient || form.visit.pasienbaru == Some(true)),
        source: source.into(),
        quota: kind_quota.then(|| quota::kind(form.bpjs).to_string()),
        checkin_ms: form.visit.checkin_at,
        admission_ms: form.visit.admission_at,
        admitted_ms: None,
        sync: config.is_some_and(|c| c.enabled),
    })
}

/// What the clinic sees of a reservation's BPJS data (`antrean_bpjs` on the reservation).
pub fn visit_view(v: &Visit) -> Value {
    serde_json::json!({
        "kodebooking": v.kodebooking, "jenispasien": v.jenispasien, "nomorkartu": v.nomorkartu, "nik": v.nik, "norm": v.norm,
        "nomorreferensi": v.nomorreferensi, "jeniskunjungan": v.jeniskunjungan, "pasienbaru": v.pasienbaru, "source": v.source,
        "checkin_ms": v.checkin_ms, "admission_ms": v.admission_ms, "admitted_ms": v.admitted_ms, "sync": v.sync,
    })
}

/// The op that erases a reservation's BPJS personal data (UU PDP erasure): card number, NIK
/// and referral; `None` when it has none.
pub(crate) fn erase_op(tenant: &Tenant, r: &crate::record::Stored<crate::reservation::Reservation>) -> Option<antrean_store::Op> {
    let v = r
        .data
        .bpjs_visit
        .as_ref()
        .filter(|v| !(v.nomorkartu.is_empty() && v.nik.is_empty() && v.nomorreferensi.is_empty()))?;
    let erased = Visit {
        nomorkartu: String::new(),
        nik: String::new(),
        nomorreferensi: String::new(),
        ..v.clone()
    };
    let value = serde_json::to_value(erased).ok()?;
    let key = crate::record::record_key::<crate::reservation::Reservation>(tenant, r.id);
    Some(antrean_store::Op::update(key, antrean_store::Update::new().set("bpjs_visit", value)))
}

pub(crate) fn booking_key(tenant: &Tenant, kodebooking: &str) -> Key {
    Key::new(tenant.partition("BPJS_BOOKING"), kodebooking)
}

pub(crate) fn sync_key(tenant: &Tenant, date: &str, reservation_id: i64) -> Key {
    Key::new(tenant.partition(&format!("BPJS_SYNC#{date}")), id_key(reservation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booking_codes_are_unique_per_poly_day_and_number() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        assert_eq!(kodebooking(d, 3, 12), "2026011000030012");
        assert_ne!(kodebooking(d, 1, 12), kodebooking(d, 11, 2));
        assert_eq!(norm(42), "000042");
    }

    #[test]
    fn visit_fields_are_checked() {
        let mut e = FieldErrors::new();
        let f = VisitForm::parse(
            &mut e,
            &json!({"nik": "3212345678987654", "nomorreferensi": "0001R0040116A000001", "jeniskunjungan": 3}),
        );
        assert!(e.is_empty());
        assert_eq!(f.jeniskunjungan, Some(3));
        let mut e = FieldErrors::new();
        VisitForm::parse(&mut e, &json!({"nik": "12ab", "jeniskunjungan": 5}));
        assert!(e.has("nik") && e.has("jeniskunjungan"));
        let mut e = FieldErrors::new();
        assert!(VisitForm::parse(&mut e, &json!({})).is_empty());
    }
}
