//! The capacity units DynamoDB reports, counted per table as AWS bills them.
use super::*;

/// The capacity units DynamoDB reported as consumed by this table's calls: every GetItem,
/// Query, PutItem / UpdateItem / DeleteItem and TransactWriteItems asks for
/// `ReturnConsumedCapacity::Total`. Kept in thousandths of a unit. A call that fails (a refused
/// condition, a cancelled transaction, throttling) reports no capacity although DynamoDB may
/// charge for it; such calls are counted in `unreported`. Transactions are also counted with
/// their items: DynamoDB charges 2 WCU per item (up to 1 KB) of a transaction, while DynamoDB
/// Local reports a whole transaction as if it wrote one item.
#[derive(Debug, Default)]
pub struct CapacityUsed {
    read_milli: AtomicU64,
    write_milli: AtomicU64,
    calls: AtomicU64,
    unreported: AtomicU64,
    transactions: AtomicU64,
    transaction_items: AtomicU64,
    transaction_write_milli: AtomicU64,
}

/// A snapshot of [`CapacityUsed`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CapacityTotals {
    pub read_units: f64,
    pub write_units: f64,
    /// Calls made (each Query page is one).
    pub calls: u64,
    /// Calls that failed and so reported nothing.
    pub unreported: u64,
    /// Successful TransactWriteItems calls, their items, and the write units reported for them.
    pub transactions: u64,
    pub transaction_items: u64,
    pub transaction_write_units: f64,
}

#[derive(Clone, Copy)]
pub(super) enum Used {
    Read,
    Write,
    /// A TransactWriteItems of this many items.
    Transaction(usize),
}

impl CapacityUsed {
    pub fn totals(&self) -> CapacityTotals {
        CapacityTotals {
            read_units: self.read_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            write_units: self.write_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            calls: self.calls.load(Ordering::Relaxed),
            unreported: self.unreported.load(Ordering::Relaxed),
            transactions: self.transactions.load(Ordering::Relaxed),
            transaction_items: self.transaction_items.load(Ordering::Relaxed),
            transaction_write_units: self.transaction_write_milli.load(Ordering::Relaxed) as f64 / 1000.0,
        }
    }

    pub(super) fn failed(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.unreported.fetch_add(1, Ordering::Relaxed);
    }

    /// One call's answer: `None` when the call failed. The read / write split is DynamoDB's when
    /// it gives one, else the call's total goes to the kind of call it was.
    pub(super) fn count<'a>(&self, used: Used, reported: Option<impl IntoIterator<Item = &'a aws_sdk_dynamodb::types::ConsumedCapacity>>) {
        let Some(reported) = reported else {
            return self.failed();
        };
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Used::Transaction(items) = used {
            self.transactions.fetch_add(1, Ordering::Relaxed);
            self.transaction_items.fetch_add(items as u64, Ordering::Relaxed);
        }
        let milli = |units: f64| (units * 1000.0).round().max(0.0) as u64;
        for c in reported {
            let (read, write) = match (c.read_capacity_units(), c.write_capacity_units()) {
                (None, None) => match used {
                    Used::Read => (c.capacity_units().unwrap_or(0.0), 0.0),
                    Used::Write | Used::Transaction(_) => (0.0, c.capacity_units().unwrap_or(0.0)),
                },
                (r, w) => (r.unwrap_or(0.0), w.unwrap_or(0.0)),
            };
            self.read_milli.fetch_add(milli(read), Ordering::Relaxed);
            self.write_milli.fetch_add(milli(write), Ordering::Relaxed);
            if matches!(used, Used::Transaction(_)) {
                self.transaction_write_milli.fetch_add(milli(write), Ordering::Relaxed);
            }
        }
    }
}
