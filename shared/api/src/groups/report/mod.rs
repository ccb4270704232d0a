//! The report endpoint group (seed sections "Dashboard" and "Report (Page & Export)"):
//! seven dashboard charts, seven report pages and their XLSX exports.
mod dashboard;
mod export;
mod reports;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub use export::XLSX;

pub fn routes() -> OpenApiRouter<AppState> {
    dashboard::routes().merge(reports::routes())
}
