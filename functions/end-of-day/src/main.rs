//! Every 5 minutes (an EventBridge schedule): in every clinic, a queue day whose close time
//! has passed is closed (`antrean_domain::clinic_flow::end_of_day::sweep`): numbers still
//! waiting become no-shows, those in progress are left, the day's boards are cleared and get
//! the new (empty) snapshot. Overlapping runs are safe: each no-show is conditioned on the
//! version it read and the day's closed mark is put once.
use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    antrean_api::telemetry::init(true);
    let deps = antrean_lambda_host::deps_from_env().await?;
    let live = antrean_lambda_host::live_from_env(&deps).await;
    let (deps, live) = (&deps, &live);
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<EventBridgeEvent>| async move {
        let closed = antrean_domain::clinic_flow::end_of_day::sweep(deps).await.map_err(|e| {
            tracing::error!(error = %e, "end of day failed");
            lambda_runtime::Error::from(e.to_string())
        })?;
        let mut days = Vec::new();
        for (slug, day) in &closed {
            tracing::info!(clinic = %slug, date = %day.date, no_shows = day.no_shows.len(), left = day.left_in_progress.len(), "day closed");
            if let (Ok(tenant), Ok(date)) = (antrean_domain::Tenant::parse(slug), day.date.parse()) {
                live.changed(deps, &tenant, date).await;
            }
            days.push(json!({ "clinic": slug, "date": day.date, "no_shows": day.no_shows.len(), "left_in_progress": day.left_in_progress.len() }));
        }
        Ok::<Value, lambda_runtime::Error>(json!({ "closed": days }))
    }))
    .await
}
