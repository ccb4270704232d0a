//! Reservation & queue (seed "Reservation", "Queue") and check-up schedules.
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub mod checkup_schedules;
pub mod clinic_flow;
pub mod reservations;
pub mod roster;
pub mod views;
pub mod workflow;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(reservations::routes()).merge(workflow::routes()).merge(checkup_schedules::routes()).merge(clinic_flow::routes()).merge(roster::routes())
}
