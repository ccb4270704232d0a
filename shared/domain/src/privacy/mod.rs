//! A patient's personal data under UU PDP (Law 27 of 2022): the clinic, as controller, must be
//! able to tell a patient everything it holds about them, erase it on request, and say who
//! looked at it.
//!
//! - [`footprint`]: every item the product keeps about one patient, found by the keys that
//!   name the patient (no table scan): the patient record, its unique guards and name words,
//!   its reservations (via `PATIENT_RESERVATION#<id>`) and their ticket pointers, its check-up
//!   schedules (via `CHECKUP_BY_PATIENT#<id>`), the appointments booked for the same WhatsApp or
//!   BPJS number (or checked in as one of its reservations), and the access log.
//! - [`erase`]: personal fields removed everywhere they are stored; what reports count stays.
//! - [`access`]: who read, exported or erased a patient's record, and when.
//!
//! What holds no personal data and is left as it is: reservations and queue entries (ids,
//! numbers, times), rollups, audit entries (who did what to which id), the n8n outbox (queue
//! numbers and polies), reminder markers.
pub mod access;
pub mod erase;
pub mod footprint;

/// The name an erased patient is shown under, in reports and lists that still count the visit.
pub const ERASED_NAME: &str = "Pasien dihapus";
