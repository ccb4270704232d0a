//! `$connect` of the boards' WebSocket API: admits a valid board or staff token and records the
//! connection under its clinic (see `antrean_live::gateway`).
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    antrean_api::telemetry::init(true);
    let deps = antrean_lambda_host::state_from_env().await?.deps;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
        Ok::<ApiGatewayProxyResponse, lambda_runtime::Error>(antrean_live::gateway::on_connect(deps, &event.payload).await)
    }))
    .await
}
