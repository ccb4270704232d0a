//! The BPJS antrean group on AWS Lambda: the clinic's BPJS configuration, mapping and sync
//! list, and the WS RS endpoints Mobile JKN calls. Deliveries to BPJS go through the outbox
//! (the `webhook-retry` function sends them).
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    antrean_lambda_host::run(antrean_api::Group::Bpjs).await
}
