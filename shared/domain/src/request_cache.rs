//! Settings one request reads several times (the clinic's zone and engine configs, its
//! workflow statuses, a poly) are read once per request: the HTTP layer runs every request
//! inside [`scope`], and the readers here keep what they loaded for the rest of that request.
//!
//! Never across requests: a new request starts empty, so a changed permission, status label or
//! zone is seen by the very next request. Outside a scope (tools, background tasks) nothing is
//! kept and every read goes to the store.
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::error::DomainResult;

type Slot = Arc<OnceCell<Arc<dyn Any + Send + Sync>>>;

#[derive(Default)]
pub struct RequestCache {
    slots: Mutex<HashMap<String, Slot>>,
}

tokio::task_local! {
    static CACHE: Arc<RequestCache>;
}

/// Runs one request with its own, empty cache.
pub async fn scope<F: Future>(f: F) -> F::Output {
    CACHE.scope(Arc::new(RequestCache::default()), f).await
}

fn slot(name: &str) -> Option<Slot> {
    CACHE
        .try_with(|c| {
            let mut slots = c.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(name.to_string()).or_default().clone()
        })
        .ok()
}

/// The value `name` holds in this request, loading it once (concurrent askers share one load).
pub async fn memo<T, F>(name: &str, load: F) -> DomainResult<T>
where
    T: Clone + Send + Sync + 'static,
    F: Future<Output = DomainResult<T>>,
{
    let Some(slot) = slot(name) else { return load.await };
    let value = slot.get_or_try_init(|| async { load.await.map(|v| Arc::new(v) as Arc<dyn Any + Send + Sync>) }).await?;
    match value.downcast_ref::<T>() {
        Some(v) => Ok(v.clone()),
        // One name always holds one type; a mismatch is a programming error: read afresh.
        None => Err(crate::DomainError::Internal(format!("request cache: {name} holds another type"))),
    }
}

/// Keeps a value that a batch read brought along, so later `memo` calls of `name` use it.
pub fn prime<T: Clone + Send + Sync + 'static>(name: &str, value: T) {
    if let Some(slot) = slot(name) {
        let _ = slot.set(Arc::new(value));
    }
}

/// Whether `name` is already known in this request (a batch need not fetch it again).
pub fn has(name: &str) -> bool {
    slot(name).is_some_and(|s| s.initialized())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_load_per_request_and_none_kept_after() {
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, crate::DomainError>(7)
        };
        scope(async {
            let (a, b) = tokio::join!(memo("x", load()), memo("x", load()));
            assert_eq!((a.unwrap(), b.unwrap()), (7, 7));
            assert_eq!(memo("x", load()).await.unwrap(), 7);
        })
        .await;
        assert_eq!(loads.load(Ordering::SeqCst), 1, "one request, one load");
        scope(async { memo("x", load()).await.unwrap() }).await;
        assert_eq!(loads.load(Ordering::SeqCst), 2, "the next request loads afresh");
        memo("x", load()).await.unwrap();
        memo("x", load()).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 4, "outside a request nothing is kept");
    }

    #[tokio::test]
    async fn primed_values_are_used() {
        scope(async {
            prime("y", String::from("from a batch"));
            assert!(has("y"));
            let v: String = memo("y", async { panic!("must not load") }).await.unwrap();
            assert_eq!(v, "from a batch");
        })
        .await;
    }
}
