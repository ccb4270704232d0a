//! A table that counts the store requests made through it and, for benchmarks, can make each
//! one wait as a DynamoDB round trip from Lambda would (`STORE_LATENCY_MS`).
//!
//! Requests are counted as DynamoDB would see them: a `get` is one GetItem, a `query` one
//! Query, a `get_many` one BatchGetItem per 100 distinct keys, a one-operation `write` one
//! PutItem / UpdateItem / DeleteItem and any other write one TransactWriteItems. The counts are
//! the same on both adapters, so a test can hold an endpoint to a request budget on either.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::port::*;

#[derive(Debug, Default)]
pub struct StoreCounters {
    gets: AtomicU64,
    batch_gets: AtomicU64,
    batch_keys: AtomicU64,
    queries: AtomicU64,
    single_writes: AtomicU64,
    transactions: AtomicU64,
    transaction_items: AtomicU64,
    items_read: AtomicU64,
}

/// A snapshot of [`StoreCounters`]; subtract two to get what happened between them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreCounts {
    pub gets: u64,
    /// BatchGetItem calls (100 keys each at most) and the keys they asked for.
    pub batch_gets: u64,
    pub batch_keys: u64,
    pub queries: u64,
    pub single_writes: u64,
    pub transactions: u64,
    pub transaction_items: u64,
    /// Items that reads returned (found gets, batch answers, query pages).
    pub items_read: u64,
}

impl StoreCounts {
    /// Read requests: GetItem, BatchGetItem and Query calls.
    pub fn reads(&self) -> u64 {
        self.gets + self.batch_gets + self.queries
    }
    /// Write requests: single-item writes and transactions.
    pub fn writes(&self) -> u64 {
        self.single_writes + self.transactions
    }
    pub fn requests(&self) -> u64 {
        self.reads() + self.writes()
    }
    pub fn since(&self, before: &StoreCounts) -> StoreCounts {
        StoreCounts {
            gets: self.gets - before.gets,
            batch_gets: self.batch_gets - before.batch_gets,
            batch_keys: self.batch_keys - before.batch_keys,
            queries: self.queries - before.queries,
            single_writes: self.single_writes - before.single_writes,
            transactions: self.transactions - before.transactions,
            transaction_items: self.transaction_items - before.transaction_items,
            items_read: self.items_read - before.items_read,
        }
    }
}

impl StoreCounters {
    pub fn snapshot(&self) -> StoreCounts {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StoreCounts {
            gets: l(&self.gets),
            batch_gets: l(&self.batch_gets),
            batch_keys: l(&self.batch_keys),
            queries: l(&self.queries),
            single_writes: l(&self.single_writes),
            transactions: l(&self.transactions),
            transaction_items: l(&self.transaction_items),
            items_read: l(&self.items_read),
        }
    }
}

pub struct CountedTable {
    inner: Arc<dyn Table>,
    counters: Arc<StoreCounters>,
    latency: Duration,
}

impl CountedTable {
    /// Counts the requests to `inner`; each one first waits `latency` (zero: no wait).
    pub fn new(inner: Arc<dyn Table>, latency: Duration) -> Self {
        CountedTable { inner, counters: Arc::default(), latency }
    }

    pub fn counters(&self) -> Arc<StoreCounters> {
        self.counters.clone()
    }

    /// Waits as `round_trips` sequential DynamoDB calls would.
    async fn wait(&self, round_trips: u32) {
        if !self.latency.is_zero() && round_trips > 0 {
            tokio::time::sleep(self.latency * round_trips).await;
        }
    }
}

fn bump(c: &AtomicU64, by: u64) {
    c.fetch_add(by, Ordering::Relaxed);
}

#[async_trait]
impl Table for CountedTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        bump(&self.counters.gets, 1);
        self.wait(1).await;
        let found = self.inner.get(key).await?;
        bump(&self.counters.items_read, u64::from(found.is_some()));
        Ok(found)
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        bump(&self.counters.queries, 1);
        self.wait(1).await;
        let page = self.inner.query(query).await?;
        bump(&self.counters.items_read, page.items.len() as u64);
        Ok(page)
    }

    async fn get_many(&self, keys: &[Key], only: Option<&[String]>) -> Result<Vec<Option<Item>>, StoreError> {
        let calls = batch_calls(keys);
        bump(&self.counters.batch_gets, calls as u64);
        bump(&self.counters.batch_keys, keys.len() as u64);
        // The DynamoDB adapter keeps four calls in flight: that many overlap.
        self.wait(calls.div_ceil(4) as u32).await;
        let found = self.inner.get_many(keys, only).await?;
        bump(&self.counters.items_read, found.iter().flatten().count() as u64);
        Ok(found)
    }

    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        if ops.len() == 1 && !matches!(ops[0], Op::Check { .. }) {
            bump(&self.counters.single_writes, 1);
        } else {
            bump(&self.counters.transactions, 1);
            bump(&self.counters.transaction_items, ops.len() as u64);
        }
        self.wait(1).await;
        self.inner.write(ops).await
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
}
