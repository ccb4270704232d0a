//! The dev server's own hub: one tokio broadcast channel per clinic. A connection subscribes to
//! its clinic's channel only, so a push reaches that clinic and no other.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use antrean_domain::board::Snapshot;
use antrean_domain::Tenant;
use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::LivePush;

/// What a connection hears from its clinic's channel.
#[derive(Debug, Clone)]
pub enum Signal {
    /// A snapshot, serialised once for every connection.
    Snapshot(Arc<str>),
    /// The board with this id was revoked: its connections close.
    CloseBoard(i64),
}

struct Channel {
    tx: broadcast::Sender<Signal>,
    /// The `at` of the newest snapshot sent: an older one (a slower computation that started
    /// earlier) is dropped, so boards never step back.
    last_at: String,
}

/// Snapshots are whole: a slow connection that falls this far behind skips to the newest.
const CAPACITY: usize = 16;

#[derive(Default)]
pub struct Hub {
    clinics: Mutex<HashMap<String, Channel>>,
}

impl Hub {
    pub fn new() -> Hub {
        Hub::default()
    }

    /// Joins the clinic's channel.
    pub fn subscribe(&self, tenant: &Tenant) -> broadcast::Receiver<Signal> {
        let mut clinics = self.clinics.lock().expect("hub lock");
        clinics
            .entry(tenant.slug().to_string())
            .or_insert_with(|| Channel { tx: broadcast::channel(CAPACITY).0, last_at: String::new() })
            .tx
            .subscribe()
    }

    /// Open connections of the clinic.
    pub fn connections(&self, tenant: &Tenant) -> usize {
        self.clinics.lock().expect("hub lock").get(tenant.slug()).map_or(0, |c| c.tx.receiver_count())
    }

    fn send(&self, tenant: &Tenant, signal: Signal, at: Option<&str>) {
        let mut clinics = self.clinics.lock().expect("hub lock");
        let Some(channel) = clinics.get_mut(tenant.slug()) else { return };
        if channel.tx.receiver_count() == 0 {
            clinics.remove(tenant.slug());
            return;
        }
        if let Some(at) = at {
            if at < channel.last_at.as_str() {
                return;
            }
            channel.last_at = at.to_string();
        }
        let _ = channel.tx.send(signal);
    }
}

#[async_trait]
impl LivePush for Hub {
    async fn watched(&self, tenant: &Tenant) -> bool {
        self.connections(tenant) > 0
    }

    async fn push(&self, tenant: &Tenant, snapshot: &Snapshot) {
        match serde_json::to_string(snapshot) {
            Ok(text) => self.send(tenant, Signal::Snapshot(text.into()), Some(&snapshot.at)),
            Err(e) => tracing::warn!(error = %e, "live push: cannot serialise the snapshot"),
        }
    }

    async fn close_board(&self, tenant: &Tenant, board_id: i64) {
        self.send(tenant, Signal::CloseBoard(board_id), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use antrean_domain::board::{ClinicView, Polies};

    fn snap(slug: &str, at: &str) -> Snapshot {
        Snapshot {
            event: "queue.snapshot".into(),
            clinic: ClinicView { slug: slug.into(), name: "K".into(), timezone: "Asia/Jakarta".into() },
            date: "2026-01-10".into(),
            at: at.into(),
            data: Polies::default(),
            calls: vec![],
        }
    }

    #[tokio::test]
    async fn a_push_reaches_its_clinic_only_and_never_steps_back() {
        let hub = Hub::new();
        let (a, b) = (Tenant::parse("klinik-a").unwrap(), Tenant::parse("klinik-b").unwrap());
        let mut ra = hub.subscribe(&a);
        let mut rb = hub.subscribe(&b);
        hub.push(&a, &snap("klinik-a", "2026-01-10T01:00:00.000002Z")).await;
        hub.push(&a, &snap("klinik-a", "2026-01-10T01:00:00.000001Z")).await;
        match ra.recv().await.unwrap() {
            Signal::Snapshot(t) => assert!(t.contains("000002Z")),
            other => panic!("{other:?}"),
        }
        assert!(ra.try_recv().is_err(), "the older snapshot was dropped");
        assert!(rb.try_recv().is_err(), "clinic b heard nothing");
        assert_eq!(hub.connections(&a), 1);
    }
}
