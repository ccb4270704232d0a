//! Live push to the waiting-room display boards.
//!
//! The port ([`LivePush`]): send a clinic's snapshot to every connection of that clinic and no
//! other. Two adapters: the dev server's in-process [`hub::Hub`] (a tokio broadcast channel per
//! clinic) and, with the `aws` feature, [`apigw::ManagementApi`] (API Gateway's Management
//! API, connections recorded under the clinic in the table by [`registry`]).
//!
//! A push never fails or slows the API call that caused it beyond a small bound: errors are
//! logged, and because every message is a full snapshot, a board that missed one is repaired
//! by the next.
pub mod hub;
pub mod registry;
pub mod ticket;

#[cfg(feature = "aws")]
pub mod apigw;
#[cfg(feature = "aws")]
pub mod gateway;

use std::sync::Arc;
use std::time::Duration;

use antrean_domain::board::{self, Snapshot};
use antrean_domain::{Deps, Tenant};
use async_trait::async_trait;
use chrono::NaiveDate;

/// The live-push port.
#[async_trait]
pub trait LivePush: Send + Sync {
    /// Sends the snapshot to every connection of the clinic. Never fails the caller.
    async fn push(&self, tenant: &Tenant, snapshot: &Snapshot);
    /// Closes the connections opened with a revoked board token.
    async fn close_board(&self, tenant: &Tenant, board_id: i64);
    /// Whether any board of the clinic is connected: without one, no snapshot is built.
    async fn watched(&self, _tenant: &Tenant) -> bool {
        true
    }
}

/// No live push (a Lambda deployed without a WebSocket API).
pub struct NoPush;

#[async_trait]
impl LivePush for NoPush {
    async fn push(&self, _: &Tenant, _: &Snapshot) {}
    async fn watched(&self, _: &Tenant) -> bool {
        false
    }
    async fn close_board(&self, _: &Tenant, _: i64) {}
}

/// How the API reaches the boards: the port and where boards connect.
#[derive(Clone)]
pub struct Live {
    pub port: Arc<dyn LivePush>,
    /// The WebSocket URL boards connect to (`wss://…/prod`); `None`: the host the request came
    /// to, path `/ws` (the dev server).
    pub ws_url: Option<String>,
    /// The board page (`https://…/index.html`); `None`: the host the request came to, `/board/`.
    pub page_url: Option<String>,
    /// Push from a spawned task (a long-lived server) rather than inside the request (a Lambda,
    /// which may freeze spawned work once it has answered).
    pub detach: bool,
    /// The most a push may add to the request that caused it, when not detached.
    pub budget: Duration,
}

impl Live {
    pub fn new(port: Arc<dyn LivePush>, detach: bool) -> Live {
        Live { port, ws_url: None, page_url: None, detach, budget: Duration::from_millis(1500) }
    }

    pub fn none() -> Live {
        Live::new(Arc::new(NoPush), false)
    }

    /// A number moved in the clinic's queue of `date`: push the clinic's snapshot to its boards
    /// if `date` is the clinic's today (the day boards show).
    pub async fn changed(&self, deps: &Deps, tenant: &Tenant, date: NaiveDate) {
        let (port, deps, tenant) = (self.port.clone(), deps.clone(), tenant.clone());
        let work = async move { publish(port.as_ref(), &deps, &tenant, Some(date)).await };
        if self.detach {
            tokio::spawn(work);
        } else if tokio::time::timeout(self.budget, work).await.is_err() {
            tracing::warn!("live push took longer than its budget; boards catch up with the next change");
        }
    }

    /// Push the clinic's current snapshot whatever changed (e.g. a poly renamed).
    pub async fn refresh(&self, deps: &Deps, tenant: &Tenant) {
        let (port, deps, tenant) = (self.port.clone(), deps.clone(), tenant.clone());
        let work = async move { publish(port.as_ref(), &deps, &tenant, None).await };
        if self.detach {
            tokio::spawn(work);
        } else {
            let _ = tokio::time::timeout(self.budget, work).await;
        }
    }
}

/// Computes today's snapshot and pushes it; `only_for`: skip unless that date is today.
pub async fn publish(port: &dyn LivePush, deps: &Deps, tenant: &Tenant, only_for: Option<NaiveDate>) {
    if !port.watched(tenant).await {
        return;
    }
    let today = match board::today(deps, tenant).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "live push: cannot read the clinic's day");
            return;
        }
    };
    if only_for.is_some_and(|d| d != today) {
        return;
    }
    match board::snapshot(deps, tenant, today).await {
        Ok(s) => port.push(tenant, &s).await,
        Err(e) => tracing::warn!(error = %e, "live push: cannot build the snapshot"),
    }
}

/// Percent-encodes a query value (tokens hold `|`).
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
