//! Every 15 minutes (an EventBridge schedule): appointments still booked after their schedule
//! ended become NO_SHOW in every clinic (`antrean_domain::appointments::lifecycle::sweep_no_shows`).
//! Overlapping runs are safe: each mark is conditioned on the version it read.
use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    antrean_api::telemetry::init(true);
    let deps = antrean_lambda_host::deps_from_env().await?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<EventBridgeEvent>| async move {
        let marked = antrean_domain::appointments::lifecycle::sweep_no_shows(deps).await.map_err(|e| {
            tracing::error!(error = %e, "no-show sweep failed");
            lambda_runtime::Error::from(e.to_string())
        })?;
        tracing::info!(marked, "no-show sweep");
        Ok::<Value, lambda_runtime::Error>(json!({ "marked": marked }))
    }))
    .await
}
