//! The site on AWS Lambda: `GET /health` (the store answers), `GET /api/openapi.json` and the
//! board and ticket pages (`/board/*`, built into the binary), so a deployed stack hosts the
//! pages its `page_url` links point at.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    antrean_lambda_host::run(antrean_api::Group::Site).await
}
