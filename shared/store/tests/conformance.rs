//! One conformance suite for the table port, written once over `&dyn Table` and run against
//! both adapters: `embedded::*` on a fresh SQLite store, `dynamodb::*` on a fresh table created
//! from `template.yaml` in DynamoDB Local (`DYNAMODB_ENDPOINT`, or one the testkit starts).

use std::time::Duration;

use antrean_store::*;
use futures::future::join_all;
use serde_json::{json, Value};

#[path = "conformance/single.rs"]
mod single;
#[path = "conformance/conditions.rs"]
mod conditions;
#[path = "conformance/atomic.rs"]
mod atomic;
#[path = "conformance/queries.rs"]
mod queries;
#[path = "conformance/concurrency.rs"]
mod concurrency;
#[path = "conformance/batch.rs"]
mod batch;
use single::*;
use conditions::*;
use atomic::*;
use queries::*;
use concurrency::*;
use batch::*;

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let (table, _dir) = antrean_testkit::embedded_table();
                    super::$test(&table).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let table = antrean_testkit::dynamo_table(include_str!("../../../template.yaml")).await;
                    super::$test(&table).await;
                }
            )*
        }
    };
}

conformance!(
    get_returns_exactly_what_was_put,
    put_replaces_the_whole_item,
    update_sets_removes_adds_and_creates_missing_items,
    update_refuses_key_changes_and_add_on_text,
    delete_removes_and_tolerates_a_missing_item,
    conditions_hold_or_fail_and_a_failed_one_changes_nothing,
    conditional_delete,
    multi_op_writes_apply_all_or_nothing,
    check_ops_guard_a_write_and_write_nothing,
    writes_are_validated,
    table_queries_filter_order_and_page,
    gsi_queries_filter_order_and_page,
    gsis_are_sparse_and_follow_updates,
    gsi_paging_visits_tied_sort_keys_once,
    malformed_cursors_and_zero_limits_are_invalid,
    concurrent_conditional_increments_all_count,
    concurrent_transactions_serialise_on_a_counter,
    concurrent_increments_stop_at_the_cap,
    concurrent_put_new_has_exactly_one_winner,
    get_many_answers_every_key_in_order,
    get_many_reads_past_one_batch,
    projections_keep_only_what_was_asked,
);

pub(crate) fn item(v: Value) -> Item {
    v.as_object().expect("a JSON object").clone()
}

pub(crate) fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

pub(crate) async fn get(t: &dyn Table, k: &Key) -> Option<Item> {
    t.get(k).await.unwrap_or_else(|e| panic!("get {k:?}: {e}"))
}

pub(crate) async fn write(t: &dyn Table, ops: Vec<Op>) {
    t.write(ops.clone()).await.unwrap_or_else(|e| panic!("write {ops:?}: {e}"));
}

pub(crate) fn failed(index: usize) -> Result<(), StoreError> {
    Err(StoreError::ConditionFailed { index })
}

pub(crate) fn is_invalid(r: &Result<(), StoreError>) -> bool {
    matches!(r, Err(StoreError::Invalid(_)))
}
