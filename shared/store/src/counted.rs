//! A table that counts the store requests made through it and, for benchmarks, can make each
//! one wait as a DynamoDB round trip from Lambda would (`STORE_LATENCY_MS`).
//!
//! Requests are counted as DynamoDB would see them: a `get` is one GetItem, a `query` one
//! Query, a `get_many` one BatchGetItem per 100 distinct keys, a one-operation `write` one
//! PutItem / UpdateItem / DeleteItem and any other write one TransactWriteItems. The counts are
//! the same on both adapters, so a test can hold an endpoint to a request budget on either.
//!
//! Items written and read are also counted by the kind of item their key names
//! ([`kind_of`]), so a benchmark can tell which items a call's write units go to. With
//! [`CountedTable::sizing`] (benchmarks only) every written item is read back, uncounted, to
//! price the write as AWS does: a write unit per started KB of the item ([`item_size`]), two
//! in a transaction. DynamoDB Local prices a transaction as if it wrote one item.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    write_units: AtomicU64,
    by_kind: Mutex<BTreeMap<String, KindCounts>>,
}

/// What was written to and read from one kind of item ([`kind_of`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct KindCounts {
    /// Operations on items of this kind inside transactions (condition checks included: DynamoDB
    /// bills them as transactional writes).
    pub transaction_items: u64,
    /// Single-item PutItem / UpdateItem / DeleteItem calls.
    pub single_writes: u64,
    /// Items of this kind that reads returned.
    pub items_read: u64,
    /// Write units as AWS prices them (only with [`CountedTable::sizing`]).
    pub write_units: u64,
}

/// The kind of item a key names: the partition key's words after the clinic, without dates
/// and ids (`T#<clinic>#RESERVATION` → `RESERVATION`, `T#<clinic>#QUEUE#2026-01-10` → `QUEUE`),
/// and for counters the counter's name as well (`COUNTER#RESERVATION`).
pub fn kind_of(key: &Key) -> String {
    let words = |s: &str| -> Vec<String> { s.split('#').filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit())).map(str::to_string).collect() };
    let mut pk = words(&key.pk);
    if key.pk.starts_with("T#") && pk.len() >= 2 {
        pk.drain(..2);
    }
    if pk.first().is_some_and(|w| w == "COUNTER") {
        pk.extend(words(&key.sk).into_iter().take(1));
    }
    if pk.is_empty() {
        "OTHER".into()
    } else {
        pk.join("#")
    }
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
    /// Write units of the successful writes as AWS prices them by item size (only with
    /// [`CountedTable::sizing`]; else 0).
    pub write_units: u64,
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
            write_units: self.write_units - before.write_units,
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
            write_units: l(&self.write_units),
        }
    }

    /// The counts by kind of item, since the table was opened.
    pub fn by_kind(&self) -> BTreeMap<String, KindCounts> {
        self.by_kind.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn count_kinds<'a>(&self, keys: impl Iterator<Item = &'a Key>, add: impl Fn(&mut KindCounts)) {
        if let Ok(mut m) = self.by_kind.lock() {
            for k in keys {
                add(m.entry(kind_of(k)).or_default());
            }
        }
    }
}

pub struct CountedTable {
    inner: Arc<dyn Table>,
    counters: Arc<StoreCounters>,
    latency: Duration,
    /// Where written items are read back to be priced (see [`CountedTable::sizing`]).
    sizer: Option<Arc<dyn Table>>,
}

/// An item's size as DynamoDB bills it: each attribute's name and value in bytes (a string's
/// UTF-8 bytes, a number's significant digits halved plus one, one byte for a boolean or null,
/// a map or list 3 bytes plus its elements, each one byte more).
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    match v {
        Value::Null | Value::Bool(_) => 1,
        Value::String(s) => s.len(),
        Value::Number(n) => {
            let digits = n.to_string().trim_start_matches('-').replace('.', "").trim_start_matches('0').trim_end_matches('0').len().max(1);
            digits.div_ceil(2) + 1
        }
        Value::Array(a) => 3 + a.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        Value::Object(m) => 3 + m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum::<usize>(),
    }
}

/// Write units for an item of `size` bytes: one per started KB, at least one.
fn units_of(size: usize) -> u64 {
    (size.div_ceil(1024)).max(1) as u64
}

impl CountedTable {
    /// Counts the requests to `inner`; each one first waits `latency` (zero: no wait).
    pub fn new(inner: Arc<dyn Table>, latency: Duration) -> Self {
        CountedTable { inner, counters: Arc::default(), latency, sizer: None }
    }

    /// Prices every successful write by the size of the items it wrote, read back after it
    /// through `reader` (the same table on a connection of its own, so that neither these
    /// counters nor the adapter's capacity counters see the reads): for benchmarks, which want
    /// AWS's bill, not DynamoDB Local's.
    pub fn sizing(mut self, reader: Arc<dyn Table>) -> Self {
        self.sizer = Some(reader);
        self
    }

    /// The write units of a successful write of `ops`, by kind of item: each item's units at
    /// its size after the write (a put's item as sent; a delete, or a check of a missing item,
    /// one unit), doubled in a transaction.
    async fn price(&self, reader: &dyn Table, ops: &[Op]) -> Vec<(Key, u64)> {
        let per_item = if ops.len() == 1 && !matches!(ops[0], Op::Check { .. }) { 1 } else { 2 };
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let (key, units) = match op {
                Op::Put { item, .. } => (Key::of(item), units_of(item_size(item))),
                Op::Update { key, .. } | Op::Check { key, .. } => {
                    let size = reader.get(key).await.ok().flatten().map_or(0, |i| item_size(&i));
                    (Some(key.clone()), units_of(size))
                }
                Op::Delete { key, .. } => (Some(key.clone()), 1),
            };
            if let Some(key) = key {
                out.push((key, units * per_item));
            }
        }
        out
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
        self.counters.count_kinds(found.iter().map(|_| key), |c| c.items_read += 1);
        Ok(found)
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        bump(&self.counters.queries, 1);
        self.wait(1).await;
        let page = self.inner.query(query).await?;
        bump(&self.counters.items_read, page.items.len() as u64);
        let keys: Vec<Key> = page.items.iter().filter_map(Key::of).collect();
        self.counters.count_kinds(keys.iter(), |c| c.items_read += 1);
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
        self.counters.count_kinds(keys.iter().zip(&found).filter(|(_, f)| f.is_some()).map(|(k, _)| k), |c| c.items_read += 1);
        Ok(found)
    }

    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        let keys: Vec<Key> = ops.iter().filter_map(|op| op.key().ok()).collect();
        if ops.len() == 1 && !matches!(ops[0], Op::Check { .. }) {
            bump(&self.counters.single_writes, 1);
            self.counters.count_kinds(keys.iter(), |c| c.single_writes += 1);
        } else {
            bump(&self.counters.transactions, 1);
            bump(&self.counters.transaction_items, ops.len() as u64);
            self.counters.count_kinds(keys.iter(), |c| c.transaction_items += 1);
        }
        self.wait(1).await;
        let Some(reader) = &self.sizer else { return self.inner.write(ops).await };
        let priced = ops.clone();
        self.inner.write(ops).await?;
        let units = self.price(reader.as_ref(), &priced).await;
        bump(&self.counters.write_units, units.iter().map(|(_, u)| u).sum());
        if let Ok(mut m) = self.counters.by_kind.lock() {
            for (key, u) in &units {
                m.entry(kind_of(key)).or_default().write_units += u;
            }
        }
        Ok(())
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_leave_out_the_clinic_dates_and_ids() {
        let kind = |pk: &str, sk: &str| kind_of(&Key::new(pk, sk));
        assert_eq!(kind("T#klinik-a#RESERVATION", "000000000012"), "RESERVATION");
        assert_eq!(kind("T#klinik-a#QUEUE#2026-01-10", "000000000001#000000000003"), "QUEUE");
        assert_eq!(kind("T#klinik-a#ROLLUP#2026", "2026-01-10#000000000001"), "ROLLUP");
        assert_eq!(kind("T#klinik-a#UNIQUE#PATIENT#whatsapp_number", "0812"), "UNIQUE#PATIENT#whatsapp_number");
        assert_eq!(kind("T#klinik-a#COUNTER", "QUEUE#2026-01-10#000000000001"), "COUNTER#QUEUE");
        assert_eq!(kind("PLATFORM#CLINICS", "klinik-a"), "PLATFORM#CLINICS");
    }

    #[cfg(feature = "embedded")]
    #[tokio::test]
    async fn writes_and_reads_are_counted_by_kind() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let inner: Arc<dyn Table> = Arc::new(crate::embedded::EmbeddedTable::open(dir.path()).expect("an embedded table"));
        let t = CountedTable::new(inner, Duration::ZERO);
        let item = |pk: &str, sk: &str| -> Item { serde_json::from_value(serde_json::json!({"pk": pk, "sk": sk})).expect("an item") };
        t.write(vec![Op::put(item("T#c#RESERVATION", "1")), Op::put(item("T#c#QUEUE#2026-01-10", "1#1"))]).await.expect("a transaction");
        t.write(vec![Op::put(item("T#c#RESERVATION", "2"))]).await.expect("a single write");
        t.get_many(&[Key::new("T#c#RESERVATION", "1"), Key::new("T#c#RESERVATION", "9")], None).await.expect("a batch read");
        let kinds = t.counters().by_kind();
        assert_eq!(kinds["RESERVATION"], KindCounts { transaction_items: 1, single_writes: 1, items_read: 1, write_units: 0 });
        assert_eq!(kinds["QUEUE"], KindCounts { transaction_items: 1, single_writes: 0, items_read: 0, write_units: 0 });
    }

    #[test]
    fn sizes_follow_dynamodb() {
        let item: Item = serde_json::from_value(serde_json::json!({"pk": "T#c#X", "n": 12345, "ok": true, "m": {"a": "xy"}, "l": [1, "z"]})).expect("an item");
        // pk 2+5, n 1+(5 digits: 3+1), ok 2+1, m 1+(3+1+1+2), l 1+(3+(1+2)+(1+1))
        assert_eq!(item_size(&item), 7 + 5 + 3 + 8 + 9);
        assert_eq!((units_of(0), units_of(1024), units_of(1025)), (1, 1, 2));
    }

    #[cfg(feature = "embedded")]
    #[tokio::test]
    async fn sizing_prices_a_transaction_by_its_items() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let inner: Arc<dyn Table> = Arc::new(crate::embedded::EmbeddedTable::open(dir.path()).expect("an embedded table"));
        let t = CountedTable::new(inner.clone(), Duration::ZERO).sizing(inner);
        let big = "x".repeat(1500);
        let item = |sk: &str, body: &str| -> Item { serde_json::from_value(serde_json::json!({"pk": "T#c#RESERVATION", "sk": sk, "body": body})).expect("an item") };
        // A 1.5 KB item and a small one in a transaction: 2 × 2 + 2 × 1.
        t.write(vec![Op::put(item("1", &big)), Op::put(item("2", "kecil"))]).await.expect("a transaction");
        assert_eq!(t.counters().snapshot().write_units, 6);
        // An update of the big one alone: 2 (its size after the write).
        t.write(vec![Op::update(Key::new("T#c#RESERVATION", "1"), Update::new().set("more", "y"))]).await.expect("an update");
        assert_eq!(t.counters().snapshot().write_units, 8);
        assert_eq!(t.counters().by_kind()["RESERVATION"].write_units, 8);
    }
}
