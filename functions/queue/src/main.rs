//! The reservation & queue endpoint group (with check-up schedules and display boards) on AWS Lambda.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    antrean_lambda_host::run(antrean_api::Group::Queue).await
}
