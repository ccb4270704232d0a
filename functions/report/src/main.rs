//! The report endpoint group (dashboard, reports and their XLSX exports) on AWS Lambda.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    antrean_lambda_host::run(antrean_api::Group::Report).await
}
