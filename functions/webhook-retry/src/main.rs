//! Every minute (an EventBridge schedule): retries the n8n webhook deliveries that are due in
//! every clinic's outbox (`antrean_domain::webhook::retry_due`). Overlapping runs are safe:
//! each delivery is claimed by a conditional write before it is sent.
use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    antrean_api::telemetry::init(true);
    let deps = antrean_lambda_host::deps_from_env().await?;
    let sender = antrean_lambda_host::webhooks_from_env()?;
    let (deps, sender) = (&deps, sender.as_ref());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| async move {
        let report = antrean_domain::webhook::retry_due(deps, sender).await.map_err(|e| {
            tracing::error!(error = %e, "webhook retry run failed");
            lambda_runtime::Error::from(e.to_string())
        })?;
        tracing::info!(
            scheduled = %event.payload.time.map(|t| t.to_rfc3339()).unwrap_or_default(),
            delivered = report.delivered,
            failed = report.failed,
            expired = report.expired,
            "webhook retry run"
        );
        Ok::<Value, lambda_runtime::Error>(json!(report))
    }))
    .await
}
