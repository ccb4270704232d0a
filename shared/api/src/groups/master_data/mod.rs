//! Master data (seed M7): users, roles, poly, status, patients.
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub mod poly;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(poly::routes())
}
