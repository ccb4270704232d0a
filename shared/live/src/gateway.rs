//! The WebSocket API's three routes on Lambda (`functions/ws-connect`, `ws-disconnect`,
//! `ws-default`), as plain functions of the API Gateway event so tests can call them.
//!
//! - `$connect` admits a connection only with a valid `token` query parameter: a board token
//!   or a staff token that may see the queue. It records the connection under its clinic with
//!   a TTL. API Gateway does not let anyone post to a connection while `$connect` runs, so the
//!   first snapshot comes from `$default`: the board sends `{"action":"hello","token":"…"}`
//!   as soon as the socket opens and is answered with the snapshot.
//! - `$default` answers `hello` / `snapshot` with the clinic's snapshot, and ignores `ping`
//!   (boards send one every few minutes to stay under API Gateway's 10-minute idle timeout).
//! - `$disconnect` carries no token and no clinic, and every record lives under its clinic, so
//!   it cannot find the record: the record is removed by the first push that meets a 410 Gone,
//!   or by its TTL (2 h 15 min, past API Gateway's 2-hour connection limit).
use antrean_domain::auth::principal::{self, Principal};
use antrean_domain::board::{self, filter};
use antrean_domain::Deps;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use serde_json::Value;

use crate::apigw::{Delivery, ManagementApi};
use crate::registry;

pub fn respond(status: i64, body: &str) -> ApiGatewayProxyResponse {
    let mut r = ApiGatewayProxyResponse::default();
    r.status_code = status;
    r.body = (!body.is_empty()).then(|| Body::Text(body.to_string()));
    r
}

/// The caller behind a token, if it may watch the board.
pub async fn watcher(deps: &Deps, token: Option<&str>) -> Option<Principal> {
    let token = token.map(str::trim).filter(|t| !t.is_empty())?;
    let p = principal::authenticate(deps, token).await.ok()?;
    board::may_watch(&p).then_some(p)
}

/// The management endpoint of the API an event came through: `https://{domain}/{stage}`.
pub fn endpoint_of(event: &ApiGatewayWebsocketProxyRequest) -> Option<String> {
    let ctx = &event.request_context;
    Some(format!("https://{}/{}", ctx.domain_name.as_deref()?, ctx.stage.as_deref()?))
}

/// `$connect`.
pub async fn on_connect(deps: &Deps, event: &ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let Some(connection_id) = event.request_context.connection_id.as_deref() else { return respond(400, "") };
    // A patient's ticket page: admitted for a code that names a ticket, to hear that one only.
    if let Some(code) = event.query_string_parameters.first("ticket") {
        return match antrean_domain::ticket::find(deps, code).await {
            Ok((tenant, _)) => match registry::record_ticket(deps, &tenant, code, connection_id).await {
                Ok(()) => respond(200, ""),
                Err(e) => {
                    tracing::error!(error = %e, "cannot record a connection");
                    respond(500, "")
                }
            },
            Err(_) => respond(404, "Ticket not found"),
        };
    }
    let Some(p) = watcher(deps, event.query_string_parameters.first("token")).await else {
        return respond(401, "Unauthenticated.");
    };
    match registry::record(deps, &p, connection_id).await {
        Ok(()) => {
            tracing::info!(clinic = %p.tenant.slug(), "board connected");
            respond(200, "")
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot record a connection");
            respond(500, "")
        }
    }
}

/// `$disconnect`: see the module note.
pub async fn on_disconnect(event: &ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    tracing::info!(
        status = event.request_context.disconnect_status_code,
        reason = event.request_context.disconnect_reason.as_deref().unwrap_or(""),
        "board disconnected"
    );
    respond(200, "")
}

/// `$default`.
pub async fn on_default(deps: &Deps, api: &ManagementApi, event: &ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let Some(connection_id) = event.request_context.connection_id.as_deref() else { return respond(400, "") };
    let message: Value = event.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    match message.get("action").and_then(Value::as_str) {
        Some("hello") | Some("snapshot") => {}
        Some("ping") => return respond(200, ""),
        _ => return respond(400, "Unknown action."),
    }
    if let Some(code) = message.get("ticket").and_then(Value::as_str) {
        return ticket_hello(deps, api, connection_id, code).await;
    }
    let Some(p) = watcher(deps, message.get("token").and_then(Value::as_str)).await else {
        return respond(401, "Unauthenticated.");
    };
    // Only a connection that `$connect` admitted for this clinic; it shows its own sections.
    let filter = match registry::get(deps, &p.tenant, connection_id).await {
        Ok(Some(c)) => c.filter,
        Ok(None) => return respond(403, "Unknown connection."),
        Err(e) => {
            tracing::error!(error = %e, "cannot read a connection");
            return respond(500, "");
        }
    };
    let snapshot = match board::today(deps, &p.tenant).await {
        Ok(today) => board::snapshot(deps, &p.tenant, today).await,
        Err(e) => Err(e),
    };
    let text = match snapshot {
        Ok(s) => filter::message_for(&s, &filter),
        Err(_) => return respond(500, ""),
    };
    match api.post(connection_id, text.into()).await {
        Delivery::Sent => respond(200, ""),
        Delivery::Gone => {
            let _ = registry::forget(deps, &p.tenant, connection_id).await;
            respond(410, "")
        }
        other => {
            tracing::warn!(?other, "cannot answer hello");
            respond(502, "")
        }
    }
}

/// `hello` from a ticket page: its own ticket's view, to a connection admitted for that code.
async fn ticket_hello(deps: &Deps, api: &ManagementApi, connection_id: &str, code: &str) -> ApiGatewayProxyResponse {
    let Ok((tenant, _, text)) = crate::ticket::current(deps, code).await else { return respond(404, "Ticket not found") };
    match registry::get(deps, &tenant, connection_id).await {
        Ok(Some(c)) if c.ticket.as_deref() == Some(code) => {}
        Ok(_) => return respond(403, "Unknown connection."),
        Err(_) => return respond(500, ""),
    }
    match api.post(connection_id, text.into()).await {
        Delivery::Sent => respond(200, ""),
        Delivery::Gone => {
            let _ = registry::forget(deps, &tenant, connection_id).await;
            respond(410, "")
        }
        _ => respond(502, ""),
    }
}
