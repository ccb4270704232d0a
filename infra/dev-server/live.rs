//! The dev server's side of the live queue: `/ws?token=…` served through the in-process hub.
//! Same protocol as API Gateway's WebSocket API. (The board pages are the site group's.)
use std::sync::Arc;

use antrean_api::client_addr::ClientAddr;
use antrean_api::error::ApiError;
use antrean_api::AppState;
use antrean_domain::auth::principal::{self, Credential, Principal};
use antrean_domain::board;
use antrean_domain::ticket::view::TicketView;
use antrean_domain::{Deps, DomainError, Tenant};
use antrean_live::hub::{Hub, Signal};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

pub fn routes(hub: Arc<Hub>) -> Router<AppState> {
    Router::new()
        .route(
            "/ws",
            get(move |state: State<AppState>, addr: ClientAddr, query: Query<Params>, ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>| {
                upgrade(hub.clone(), state, addr, query, ws)
            }),
        )
}

#[derive(Debug, Deserialize)]
struct Params {
    token: Option<String>,
    /// A patient's ticket code: the socket then carries that ticket's view only.
    ticket: Option<String>,
}

/// Admits a board token or a staff token that may see the queue; anything else is refused
/// before the upgrade (401, or 403 for a valid token without the permission).
async fn upgrade(
    hub: Arc<Hub>,
    State(s): State<AppState>,
    ClientAddr(address): ClientAddr,
    Query(p): Query<Params>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Some(code) = p.ticket.filter(|t| !t.trim().is_empty()) {
        // Rate-limited and checked like the ticket route: a wrong code is the same 404.
        let (tenant, view) = match antrean_api::groups::ticket::lookup(&s, address, &code).await {
            Ok(found) => found,
            Err(e) => return e.into_response(),
        };
        return match ws {
            Ok(ws) => ws.on_upgrade(move |socket| serve_ticket(hub, s.deps, tenant, code, view, socket)).into_response(),
            Err(rejection) => rejection.into_response(),
        };
    }
    let token = p.token.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let Some(token) = token else { return ApiError::unauthenticated().into_response() };
    let principal = match principal::authenticate(&s.deps, token).await {
        Ok(p) => p,
        Err(e) => return ApiError::from(e).into_response(),
    };
    tracing::Span::current().record("clinic", principal.tenant.slug());
    if !board::may_watch(&principal) {
        return ApiError::from(DomainError::Forbidden).into_response();
    }
    match ws {
        Ok(ws) => ws.on_upgrade(move |socket| serve(hub, s.deps, principal, socket)).into_response(),
        Err(rejection) => rejection.into_response(),
    }
}

async fn snapshot_text(deps: &Deps, p: &Principal) -> Option<String> {
    let today = board::today(deps, &p.tenant).await.ok()?;
    let snapshot = board::snapshot(deps, &p.tenant, today).await.map_err(|e| tracing::warn!(error = %e, "cannot build a snapshot")).ok()?;
    serde_json::to_string(&snapshot).ok()
}

async fn serve(hub: Arc<Hub>, deps: Deps, p: Principal, mut socket: WebSocket) {
    // Join the channel first: a change made while the first snapshot is computed still arrives.
    let mut signals = hub.subscribe(&p.tenant);
    let board_id = match p.credential {
        Credential::ApiKey { id } => Some(id),
        Credential::Session { .. } => None,
    };
    if let Some(text) = snapshot_text(&deps, &p).await {
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            signal = signals.recv() => match signal {
                Ok(Signal::Snapshot(text)) => {
                    if socket.send(Message::Text((&*text).into())).await.is_err() {
                        break;
                    }
                }
                Ok(Signal::CloseBoard(id)) if Some(id) == board_id => {
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 4001, reason: "board revoked".into() }))).await;
                    break;
                }
                Ok(Signal::CloseBoard(_)) => {}
                // Fell behind: the next snapshot is whole, so skipping is harmless.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    let action = serde_json::from_str::<Value>(&text).ok().and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_string));
                    match action.as_deref() {
                        Some("hello") | Some("snapshot") => {
                            if let Some(text) = snapshot_text(&deps, &p).await {
                                if socket.send(Message::Text(text.into())).await.is_err() {
                                    break;
                                }
                            }
                        }
                        // Keep-alive; API Gateway drops a connection idle for 10 minutes.
                        Some("ping") => {}
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// A ticket page's socket: its view now, then again whenever the clinic's queue changed and the
/// view with it. The clinic's snapshots only wake it up; they are never forwarded.
async fn serve_ticket(hub: Arc<Hub>, deps: Deps, tenant: Tenant, code: String, first: TicketView, mut socket: WebSocket) {
    let mut signals = hub.subscribe(&tenant);
    if socket.send(Message::Text(antrean_live::ticket::message(&first).into())).await.is_err() {
        return;
    }
    let mut last = first;
    loop {
        tokio::select! {
            signal = signals.recv() => match signal {
                Ok(Signal::Snapshot(_)) | Err(RecvError::Lagged(_)) => {
                    match antrean_live::ticket::current(&deps, &code).await {
                        Ok((_, view, text)) if !antrean_live::ticket::same(&view, &last) => {
                            if socket.send(Message::Text(text.into())).await.is_err() {
                                break;
                            }
                            last = view;
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "cannot read a ticket for its page"),
                    }
                }
                Ok(Signal::CloseBoard(_)) => {}
                Err(RecvError::Closed) => break,
            },
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    // `hello` / `snapshot`: send the view again (the page asks after reconnecting).
                    let asks = serde_json::from_str::<Value>(&text).ok().and_then(|v| v.get("action").and_then(Value::as_str).map(|a| a == "hello" || a == "snapshot"));
                    if asks == Some(true) {
                        if let Ok((_, view, text)) = antrean_live::ticket::current(&deps, &code).await {
                            if socket.send(Message::Text(text.into())).await.is_err() {
                                break;
                            }
                            last = view;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}
