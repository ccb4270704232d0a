//! Appointments: booking ahead (holidays, weekly templates and generation, time slots, holds,
//! booking rules, the appointment's life up to the queue). Served by the schedule group's
//! Lambda. The rules and keys are in `antrean_domain::appointments`.
use chrono::NaiveDate;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::AppState;

pub mod bookings;
pub mod calendar;
pub mod holidays;
pub mod rules;
pub mod templates;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(holidays::routes())
        .merge(templates::routes())
        .merge(rules::routes())
        .merge(calendar::routes())
        .merge(bookings::routes())
}

/// A `Y-m-d` date from the path; anything else names nothing (404 with the module's words).
pub fn path_date(raw: &str, not_found: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().filter(|_| raw.len() == 10).ok_or_else(|| ApiError::not_found(not_found))
}
