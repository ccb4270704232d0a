//! `$disconnect` of the boards' WebSocket API (see `antrean_live::gateway::on_disconnect`).
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    antrean_api::telemetry::init(true);
    lambda_runtime::run(service_fn(|event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
        Ok::<ApiGatewayProxyResponse, lambda_runtime::Error>(antrean_live::gateway::on_disconnect(&event.payload).await)
    }))
    .await
}
