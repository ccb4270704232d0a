//! The configuration endpoint group (message templates, reminder configs, WhatsApp configs,
//! configs, FAQ with its files in `FILES_BUCKET`) on AWS Lambda.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    antrean_lambda_host::run(antrean_api::Group::Configuration).await
}
