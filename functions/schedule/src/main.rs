//! The schedule endpoint group (doctor schedules) on AWS Lambda.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    antrean_lambda_host::run(antrean_api::Group::Schedule).await
}
