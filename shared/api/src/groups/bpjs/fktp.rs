//! The Antrean FKTP endpoints (klinik pratama) BPJS calls on the clinic: not built yet.
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
