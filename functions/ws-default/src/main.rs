//! `$default` of the boards' WebSocket API: answers a board's `hello` with the clinic's
//! snapshot through the Management API (`WS_MANAGEMENT_ENDPOINT`, else the endpoint the event
//! came through). See `antrean_live::gateway`.
use antrean_live::apigw::ManagementApi;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::{service_fn, LambdaEvent};
use tokio::sync::OnceCell;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    antrean_api::telemetry::init(true);
    let deps = antrean_lambda_host::state_from_env().await?.deps;
    let api: OnceCell<ManagementApi> = OnceCell::new();
    let (deps, api) = (&deps, &api);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
        let endpoint = std::env::var("WS_MANAGEMENT_ENDPOINT")
            .ok()
            .filter(|e| !e.trim().is_empty())
            .or_else(|| antrean_live::gateway::endpoint_of(&event.payload));
        let Some(endpoint) = endpoint else {
            return Ok::<ApiGatewayProxyResponse, lambda_runtime::Error>(antrean_live::gateway::respond(500, ""));
        };
        let api = api.get_or_init(|| ManagementApi::connect(&endpoint, deps.clone())).await;
        Ok(antrean_live::gateway::on_default(deps, api, &event.payload).await)
    }))
    .await
}
