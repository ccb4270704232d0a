//! The clinic's domain: what a clinic, a user, a role, a poly are, and the rules that keep
//! them right. Storage goes through the table port (`antrean_store::Table`); no AWS types here.

pub mod audit;
pub mod auth;
pub mod board;
pub mod bpjs;
pub mod checkup_schedule;
pub mod clinic;
pub mod clinic_flow;
pub mod clock;
pub mod configuration;
pub mod appointments;
pub mod error;
pub mod estimates;
pub mod health;
pub mod nested;
pub mod paging;
pub mod patient;
pub mod permission;
pub mod poly;
pub mod privacy;
pub mod queue;
pub mod rate_limit;
pub mod record;
pub mod reminders;
pub mod request_cache;
pub mod reporting;
pub mod reservation;
pub mod role;
pub mod rollup;
pub mod schedule;
pub mod status;
pub mod tenant;
pub mod ticket;
pub mod user;
pub mod validate;
pub mod webhook;

use std::sync::Arc;

use antrean_store::Table;

pub use clock::{Clock, SystemClock};
pub use error::{DomainError, FieldErrors};
pub use tenant::Tenant;

/// What every domain operation needs from the world, built once per process.
#[derive(Clone)]
pub struct Deps {
    pub table: Arc<dyn Table>,
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<auth::token::TokenKeys>,
}

/// For unit tests: the domain on a fresh embedded store in `dir`, at `clock`'s time.
#[cfg(test)]
pub(crate) fn test_deps(dir: &std::path::Path, clock: Arc<dyn Clock>) -> Deps {
    Deps {
        table: Arc::new(antrean_store::embedded::EmbeddedTable::open(dir).unwrap()),
        clock,
        tokens: Arc::new(auth::token::TokenKeys::new(&[7u8; 32], chrono::Duration::hours(1)).unwrap()),
    }
}
