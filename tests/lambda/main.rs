//! The Lambda entry points with real events: every function's bootstrap runs under `cargo
//! lambda watch --only-lambda-apis` (the Lambda Runtime API emulator) with the environment
//! `template.yaml` gives it, against DynamoDB Local and moto (S3, the Management API), and
//! gets API Gateway's payloads. Each HTTP request also goes to a dev server on its own table,
//! and the two answers must match: status, envelope (volatile values such as tokens and times
//! aside) and the headers a client reads.
//!
//! These tests need the bootstraps built (`infra/scripts/build-lambdas.sh`), so they are
//! `#[ignore]`d in the plain `cargo nextest run` and run by `bash infra/scripts/lambda-events.sh`
//! (CI: `.ci/run`, after the build), which fails when a bootstrap is missing.
#[path = "../api/helpers.rs"]
mod helpers;

mod emulator;
mod events;
mod hosts;
mod template;

mod http_events;
mod routes;
mod websocket_and_workers;

pub const CORS_ORIGIN: &str = "http://localhost:5173";
pub const BOARD_WS_URL: &str = "wss://w5ck3t1d.execute-api.us-east-1.amazonaws.com/live";

/// A name no other run uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}
