//! Prompt sends: the outbox worker runs every minute (every 30 s on the dev server), which is
//! late for a patient who watches Mobile JKN at the desk. So the request that put BPJS events
//! in the outbox also tries to send them once it has written them: the HTTP layer runs every
//! request inside [`scope`], `outbound::enqueue` marks the clinic, and after the handler the
//! layer calls [`send_now`] with a short timeout. The outbox stays the source of truth: the
//! send is the worker's own run (same claim, order and backoff), and a slow or absent BPJS only
//! leaves the events due for the worker; the request's answer never depends on it.
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::tenant::Tenant;
use crate::webhook::{self, WebhookSender};
use crate::Deps;

tokio::task_local! {
    static MARKED: Arc<Mutex<Vec<Tenant>>>;
}

/// Runs one request; answers its output and the clinics it put BPJS events in the outbox for.
pub async fn scope<F: Future>(f: F) -> (F::Output, Vec<Tenant>) {
    let marked = Arc::new(Mutex::new(Vec::new()));
    let out = MARKED.scope(marked.clone(), f).await;
    let tenants = std::mem::take(&mut *marked.lock().unwrap_or_else(|e| e.into_inner()));
    (out, tenants)
}

/// The clinic has BPJS events to send (outside a scope: nothing, the worker sends them).
pub(crate) fn mark(tenant: &Tenant) {
    let _ = MARKED.try_with(|m| {
        let mut m = m.lock().unwrap_or_else(|e| e.into_inner());
        if !m.contains(tenant) {
            m.push(tenant.clone());
        }
    });
}

/// Sends what is due for these clinics now, giving up after `within` (what is left stays due).
pub async fn send_now(deps: &Deps, sender: &dyn WebhookSender, tenants: &[Tenant], within: Duration) {
    for tenant in tenants {
        match tokio::time::timeout(within, webhook::retry_clinic(deps, sender, tenant)).await {
            Ok(Ok(report)) => tracing::debug!(clinic = tenant.slug(), ?report, "BPJS events sent promptly"),
            Ok(Err(e)) => tracing::warn!(clinic = tenant.slug(), error = %e, "prompt BPJS send failed; the worker sends them"),
            Err(_) => tracing::info!(clinic = tenant.slug(), "BPJS slow to answer; the worker sends the rest"),
        }
    }
}
