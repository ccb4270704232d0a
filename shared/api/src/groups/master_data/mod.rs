//! Master data (seed M7): users, roles, poly, status, patients.
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub mod patients;
pub mod poly;
pub mod roles;
pub mod status;
pub mod users;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(poly::routes()).merge(users::routes()).merge(roles::routes()).merge(status::routes()).merge(patients::routes()).merge(crate::groups::privacy::routes())
}
