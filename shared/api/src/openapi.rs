//! The OpenAPI 3.1 document, generated from the handlers' annotations (never by hand).
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Antrean Klinik API", description = "Queue and appointment back end for small clinics. Any route may answer 503 with `Retry-After` (the error envelope, nothing changed) when the database stays busy or out of reach past its retries; FAQ uploads and report exports do when file storage is out of reach."),
    components(schemas(crate::error::ErrorBody))
)]
struct Base;

pub fn base() -> OpenApi {
    let mut doc = Base::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("A sign-in token from /api/auth/login or an API key")).build()),
    );
    doc
}

/// The whole API's document, as the dev server serves it at `/api/openapi.json`.
pub fn document() -> OpenApi {
    crate::service::routes(crate::Group::ALL).split_for_parts().1
}
