//! The cloud adapter: API Gateway's Management API (`POST /@connections/{id}`) to every
//! connection recorded under the clinic. Posts run concurrently, each bounded by a short
//! timeout; a connection that answers 410 Gone is removed from the table.
//!
//! When the Management API itself is down (every post of a push failed or timed out), pushes
//! pause for `pause_when_down`: the queue's answers are not held up by a post budget on every
//! move, and the boards catch up with the first snapshot after it (each is complete). The
//! connections are kept meanwhile (they may be fine); stale ones go at the first push that
//! meets their 410, or by their TTL.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use antrean_domain::board::Snapshot;
use antrean_domain::{Deps, Tenant};
use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_apigatewaymanagement::Client;
use futures::stream::{self, StreamExt};

use crate::registry;
use crate::LivePush;

/// What one post came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// 410: the connection is gone (its record is removed).
    Gone,
    TimedOut,
    Failed(String),
}

/// One push's posts so far: those that reached the Management API and those that did not.
#[derive(Default)]
struct Tally {
    reached: std::sync::atomic::AtomicUsize,
    failed: std::sync::atomic::AtomicUsize,
}

pub struct ManagementApi {
    client: Client,
    deps: Deps,
    /// The most one post may take.
    pub post_timeout: Duration,
    /// Posts in flight at once.
    pub concurrency: usize,
    /// How long pushes pause after one found the Management API down.
    pub pause_when_down: Duration,
    down_until: Mutex<Option<Instant>>,
}

impl ManagementApi {
    /// A client for the WebSocket API's connection endpoint,
    /// `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`.
    pub async fn connect(endpoint: &str, deps: Deps) -> ManagementApi {
        let shared = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(&shared).endpoint_url(endpoint).build();
        ManagementApi::with_client(Client::from_conf(config), deps)
    }

    pub fn with_client(client: Client, deps: Deps) -> ManagementApi {
        ManagementApi {
            client,
            deps,
            post_timeout: Duration::from_millis(1000),
            concurrency: 64,
            pause_when_down: Duration::from_secs(15),
            down_until: Mutex::new(None),
        }
    }

    /// Posts one message to one connection.
    pub async fn post(&self, connection_id: &str, text: Arc<str>) -> Delivery {
        let send = self.client.post_to_connection().connection_id(connection_id).data(Blob::new(text.as_bytes())).send();
        match tokio::time::timeout(self.post_timeout, send).await {
            Err(_) => Delivery::TimedOut,
            Ok(Ok(_)) => Delivery::Sent,
            Ok(Err(e)) => {
                if e.as_service_error().is_some_and(|s| s.is_gone_exception()) {
                    Delivery::Gone
                } else {
                    Delivery::Failed(aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e).to_string())
                }
            }
        }
    }

    /// Posts to every connection of the clinic (a ticket page gets its own ticket's view
    /// instead of `text`); returns each connection's outcome.
    pub async fn broadcast(&self, tenant: &Tenant, text: Arc<str>) -> Vec<(String, Delivery)> {
        if self.paused() {
            tracing::debug!("live push: the Management API was down a moment ago; skipped");
            return vec![];
        }
        let connections = match registry::list(&self.deps, tenant).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "live push: cannot read the clinic's connections");
                return vec![];
            }
        };
        // Counted as each post ends, so a push cut short by the request's budget still tells.
        let (total, tally) = (connections.len(), Tally::default());
        let tally = &tally;
        let results: Vec<(String, Delivery)> = stream::iter(connections)
            .map(|c| {
                let text = text.clone();
                async move {
                    let text = match &c.ticket {
                        // A board limited to some sections gets those only.
                        None => match antrean_domain::board::filter::text_for(&text, &c.filter) {
                            Some(own) => own.into(),
                            None => return (c.id, Delivery::Sent),
                        },
                        Some(code) => match crate::ticket::current(&self.deps, code).await {
                            Ok((_, _, own)) => own.into(),
                            // The ticket is gone (it cannot be, but then it hears nothing).
                            Err(_) => return (c.id, Delivery::Sent),
                        },
                    };
                    let outcome = self.post(&c.id, text).await;
                    self.count(tally, total, &outcome);
                    (c.id, outcome)
                }
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        for (id, outcome) in &results {
            match outcome {
                Delivery::Gone => {
                    if let Err(e) = registry::forget(&self.deps, tenant, id).await {
                        tracing::warn!(error = %e, "live push: cannot remove a gone connection");
                    }
                }
                Delivery::Failed(e) => tracing::warn!(error = %e, "live push: a post failed"),
                Delivery::TimedOut => tracing::warn!("live push: a post timed out"),
                Delivery::Sent => {}
            }
        }
        results
    }

    /// Notes one post's outcome; when every post of the push has failed, pushes pause.
    fn count(&self, tally: &Tally, total: usize, outcome: &Delivery) {
        use std::sync::atomic::Ordering::Relaxed;
        let reached = !matches!(outcome, Delivery::Failed(_) | Delivery::TimedOut);
        let failed = if reached { tally.reached.fetch_add(1, Relaxed); tally.failed.load(Relaxed) } else { tally.failed.fetch_add(1, Relaxed) + 1 };
        if failed == total && tally.reached.load(Relaxed) == 0 {
            tracing::warn!(pause = ?self.pause_when_down, "live push: no post reached the Management API; pushes pause");
            *self.down_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now() + self.pause_when_down);
        }
    }

    fn paused(&self) -> bool {
        let mut until = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        match *until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    /// Closes a connection at API Gateway and forgets it.
    pub async fn disconnect(&self, tenant: &Tenant, connection_id: &str) {
        let _ = tokio::time::timeout(self.post_timeout, self.client.delete_connection().connection_id(connection_id).send()).await;
        let _ = registry::forget(&self.deps, tenant, connection_id).await;
    }
}

#[async_trait]
impl LivePush for ManagementApi {
    async fn watched(&self, tenant: &Tenant) -> bool {
        // A failed read counts as watched: the push then tries and logs.
        registry::list(&self.deps, tenant).await.map_or(true, |c| !c.is_empty())
    }

    async fn push(&self, tenant: &Tenant, snapshot: &Snapshot) {
        match serde_json::to_string(snapshot) {
            Ok(text) => {
                self.broadcast(tenant, text.into()).await;
            }
            Err(e) => tracing::warn!(error = %e, "live push: cannot serialise the snapshot"),
        }
    }

    async fn close_board(&self, tenant: &Tenant, board_id: i64) {
        let Ok(connections) = registry::list(&self.deps, tenant).await else { return };
        for c in connections.into_iter().filter(|c| c.board_id == Some(board_id)) {
            self.disconnect(tenant, &c.id).await;
        }
    }
}
