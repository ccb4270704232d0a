//! `cargo run --release`: the whole API on 127.0.0.1:8080 over the embedded store in ./.data.
#[tokio::main]
async fn main() {
    antrean_api::telemetry::init(antrean_api::telemetry::wants_json());
    let config = match dev_server::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            std::process::exit(2);
        }
    };
    let store = match &config.store {
        dev_server::StoreChoice::Embedded { data_dir } => format!("embedded store in {}", data_dir.display()),
        dev_server::StoreChoice::DynamoDb { endpoint, table } => {
            format!("DynamoDB table {table}{}", endpoint.as_ref().map(|e| format!(" at {e}")).unwrap_or_default())
        }
    };
    let result = dev_server::serve(config, |addr| println!("Antrean API listening on http://{addr} ({store})")).await;
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
