//! One conformance suite for the table port, written once over `&dyn Table` and run against
//! both adapters: `embedded::*` on a fresh SQLite store, `dynamodb::*` on a fresh table created
//! from `template.yaml` in DynamoDB Local (`DYNAMODB_ENDPOINT`, or one the testkit starts).

use std::collections::BTreeMap;
use std::time::Duration;

use antrean_store::*;
use futures::future::join_all;
use serde_json::{json, Value};

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

fn item(v: Value) -> Item {
    v.as_object().expect("a JSON object").clone()
}

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

async fn get(t: &dyn Table, k: &Key) -> Option<Item> {
    t.get(k).await.unwrap_or_else(|e| panic!("get {k:?}: {e}"))
}

async fn write(t: &dyn Table, ops: Vec<Op>) {
    t.write(ops.clone()).await.unwrap_or_else(|e| panic!("write {ops:?}: {e}"));
}

fn failed(index: usize) -> Result<(), StoreError> {
    Err(StoreError::ConditionFailed { index })
}

fn is_invalid(r: &Result<(), StoreError>) -> bool {
    matches!(r, Err(StoreError::Invalid(_)))
}

// ---------------------------------------------------------------- single-item operations

async fn get_returns_exactly_what_was_put(t: &dyn Table) {
    let stored = item(json!({
        "pk": "T#c1#P#1", "sk": "PROFILE",
        "name": "Siti Nurhaliza ✓", "empty": "", "age": 42, "neg": -7,
        "big": 9_007_199_254_740_993_i64, "half": 2.5, "active": true, "nothing": null,
        "tags": ["a", 1, false, null], "address": {"city": "Bandung", "geo": {"lat": -6.9, "lng": 107.6}},
        "expires_at": 1_900_000_000,
    }));
    write(t, vec![Op::put(stored.clone())]).await;
    assert_eq!(get(t, &key("T#c1#P#1", "PROFILE")).await, Some(stored));

    for miss in [key("T#c1#P#1", "PROFILE#2"), key("T#c1#P#1", "PROF"), key("T#c1#P#2", "PROFILE"), key("T#c1#P#", "PROFILE")] {
        assert_eq!(get(t, &miss).await, None, "{miss:?} was never written");
    }

    // Numbers are decimals, as in DynamoDB: a whole float reads back as the integer.
    write(t, vec![Op::put(item(json!({"pk": "T#c1#P#1", "sk": "FEE", "fee": 15000.0, "rate": 0.5})))]).await;
    let fee = get(t, &key("T#c1#P#1", "FEE")).await.expect("the fee item");
    assert_eq!(fee["fee"], json!(15000));
    assert_eq!(fee["rate"], json!(0.5));
}

async fn put_replaces_the_whole_item(t: &dyn Table) {
    let k = key("T#c1#P#1", "PROFILE");
    write(t, vec![Op::put(item(json!({"pk": "T#c1#P#1", "sk": "PROFILE", "name": "Ani", "phone": "0812"})))]).await;
    let second = item(json!({"pk": "T#c1#P#1", "sk": "PROFILE", "name": "Ani Yudhoyono"}));
    write(t, vec![Op::put(second.clone())]).await;
    assert_eq!(get(t, &k).await, Some(second), "a put replaces every attribute, it does not merge");
}

async fn update_sets_removes_adds_and_creates_missing_items(t: &dyn Table) {
    let k = key("T#c1#SEQ", "QUEUE#poli-umum");
    write(t, vec![Op::update(k.clone(), Update::new().set("label", "Poli Umum").set("open", true).add("n", 5))]).await;
    assert_eq!(
        get(t, &k).await,
        Some(item(json!({"pk": "T#c1#SEQ", "sk": "QUEUE#poli-umum", "label": "Poli Umum", "open": true, "n": 5}))),
        "an update of a missing item creates it"
    );

    write(
        t,
        vec![Op::update(
            k.clone(),
            Update::new()
                .set("label", "Poli Gigi")
                .set("rooms", json!({"a": [1, 2]}))
                .remove("open")
                .remove("never_there")
                .add("n", -2)
                .add("served", 3),
        )],
    )
    .await;
    assert_eq!(
        get(t, &k).await,
        Some(item(json!({
            "pk": "T#c1#SEQ", "sk": "QUEUE#poli-umum", "label": "Poli Gigi", "rooms": {"a": [1, 2]}, "n": 3, "served": 3,
        })))
    );

    // An empty update leaves an existing item as it is and creates a missing one bare.
    let before = get(t, &k).await;
    write(t, vec![Op::update(k.clone(), Update::new())]).await;
    assert_eq!(get(t, &k).await, before);
    let bare = key("T#c1#SEQ", "QUEUE#poli-anak");
    write(t, vec![Op::update(bare.clone(), Update::new())]).await;
    assert_eq!(get(t, &bare).await, Some(item(json!({"pk": "T#c1#SEQ", "sk": "QUEUE#poli-anak"}))));
}

async fn update_refuses_key_changes_and_add_on_text(t: &dyn Table) {
    let k = key("T#c1#P#1", "PROFILE");
    let stored = item(json!({"pk": "T#c1#P#1", "sk": "PROFILE", "name": "Ani", "visits": 1}));
    write(t, vec![Op::put(stored.clone())]).await;

    for update in [Update::new().set("pk", "T#c2#P#1"), Update::new().set("sk", "OTHER"), Update::new().add("name", 1)] {
        let single = t.write(vec![Op::update(k.clone(), update.clone().add("visits", 1))]).await;
        assert!(is_invalid(&single), "{update:?} alone: {single:?}");
        let other = item(json!({"pk": "T#c1#P#2", "sk": "PROFILE"}));
        let in_tx = t.write(vec![Op::put(other), Op::update(k.clone(), update.clone())]).await;
        assert!(is_invalid(&in_tx), "{update:?} in a transaction: {in_tx:?}");
        assert_eq!(get(t, &key("T#c1#P#2", "PROFILE")).await, None, "the refused transaction wrote its other op");
        assert_eq!(get(t, &k).await, Some(stored.clone()));
    }
}

async fn delete_removes_and_tolerates_a_missing_item(t: &dyn Table) {
    let k = key("T#c1#P#1", "PROFILE");
    let neighbour = item(json!({"pk": "T#c1#P#1", "sk": "PROFILE#old"}));
    write(t, vec![Op::put(item(json!({"pk": "T#c1#P#1", "sk": "PROFILE"}))), Op::put(neighbour.clone())]).await;
    write(t, vec![Op::delete(k.clone())]).await;
    assert_eq!(get(t, &k).await, None);
    assert_eq!(get(t, &key("T#c1#P#1", "PROFILE#old")).await, Some(neighbour), "only the named key goes");
    // Deleting what is not there is not an error (DynamoDB's DeleteItem).
    write(t, vec![Op::delete(k.clone())]).await;
    assert_eq!(get(t, &k).await, None);
}

// ---------------------------------------------------------------- conditions

async fn conditions_hold_or_fail_and_a_failed_one_changes_nothing(t: &dyn Table) {
    use Cmp::*;
    use Condition::*;
    let present = key("T#c1#U#1", "USER");
    write(
        t,
        vec![Op::put(item(json!({
            "pk": "T#c1#U#1", "sk": "USER", "s": "text", "digits": "5", "n": 5, "half": 2.5, "one": 1,
            "one_f": 1.0, "flag": true, "nil": null, "tags": ["a", 1],
        })))],
    )
    .await;
    let mut expected = get(t, &present).await.expect("the seeded item");
    assert_eq!(expected["one_f"].as_f64(), Some(1.0));

    let a = |s: &str| s.to_string();
    let eq = |attr: &str, v: Value| Equals(a(attr), v);
    let cmp = |attr: &str, op: Cmp, n: i64| Compare(a(attr), op, n);
    // (condition, holds on the item above, holds where there is no item)
    let mut cases: Vec<(Condition, bool, bool)> = vec![
        (Exists, true, false),
        (NotExists, false, true),
        (AttrExists(a("s")), true, false),
        (AttrExists(a("nil")), true, false),
        (AttrExists(a("nope")), false, false),
        (AttrNotExists(a("nope")), true, true),
        (AttrNotExists(a("s")), false, true),
        (eq("s", json!("text")), true, false),
        (eq("s", json!("Text")), false, false),
        (eq("n", json!(5)), true, false),
        (eq("n", json!(5.0)), true, false),
        (eq("one", json!(1.0)), true, false),
        (eq("one_f", json!(1)), true, false),
        (eq("half", json!(2.5)), true, false),
        (eq("n", json!(6)), false, false),
        (eq("n", json!("5")), false, false),
        (eq("digits", json!(5)), false, false),
        (eq("flag", json!(true)), true, false),
        (eq("flag", json!(false)), false, false),
        (eq("nil", Value::Null), true, false),
        (eq("nope", Value::Null), false, false),
        (eq("tags", json!(["a", 1])), true, false),
        (eq("tags", json!(["a"])), false, false),
        (cmp("n", Lt, 6), true, false),
        (cmp("n", Lt, 5), false, false),
        (cmp("n", Le, 5), true, false),
        (cmp("n", Le, 4), false, false),
        (cmp("n", Gt, 4), true, false),
        (cmp("n", Gt, 5), false, false),
        (cmp("n", Ge, 5), true, false),
        (cmp("n", Ge, 6), false, false),
        (cmp("n", Ne, 4), true, false),
        (cmp("n", Ne, 5), false, false),
        (cmp("n", Gt, -10), true, false),
        (cmp("half", Gt, 2), true, false),
        (cmp("half", Lt, 3), true, false),
        (cmp("half", Ne, 2), true, false),
        (cmp("half", Ge, 3), false, false),
        (And(vec![]), true, true),
        (Or(vec![]), false, false),
        // A group of one part is just that part.
        (And(vec![cmp("n", Ge, 5)]), true, false),
        (Or(vec![cmp("n", Lt, 5)]), false, false),
        (And(vec![Or(vec![eq("s", json!("text"))])]), true, false),
        (And(vec![Exists, cmp("n", Ge, 5)]), true, false),
        (And(vec![Exists, eq("s", json!("Text"))]), false, false),
        (And(vec![AttrNotExists(a("nope")), NotExists]), false, true),
        (Or(vec![eq("s", json!("Text")), cmp("n", Lt, 6)]), true, false),
        (Or(vec![NotExists, eq("s", json!("text"))]), true, true),
        (Or(vec![AttrExists(a("nope")), cmp("n", Gt, 5)]), false, false),
        (Or(vec![And(vec![Exists, eq("flag", json!(true))]), NotExists]), true, true),
        (And(vec![Or(vec![cmp("n", Lt, 0), eq("s", json!("text"))]), AttrExists(a("half"))]), true, false),
    ];
    // A comparison needs a number: a missing attribute, text (even digits) or a bool never satisfies it.
    for attr in ["nope", "s", "digits", "flag", "nil"] {
        for op in [Lt, Le, Gt, Ge, Ne] {
            cases.push((cmp(attr, op, 0), false, false));
            cases.push((cmp(attr, op, 5), false, false));
        }
    }

    let absent = key("T#c1#U#2", "USER");
    for (i, (cond, on_item, on_nothing)) in cases.into_iter().enumerate() {
        let r = t.write(vec![Op::update_if(present.clone(), Update::new().set("touched", i), cond.clone())]).await;
        if on_item {
            assert_eq!(r, Ok(()), "{cond:?} should hold on the item");
            expected.insert("touched".into(), json!(i));
        } else {
            assert_eq!(r, failed(0), "{cond:?} should fail on the item");
        }
        assert_eq!(get(t, &present).await.as_ref(), Some(&expected), "after {cond:?}");

        let new = item(json!({"pk": "T#c1#U#2", "sk": "USER", "case": i}));
        let r = t.write(vec![Op::put_if(new.clone(), cond.clone())]).await;
        if on_nothing {
            assert_eq!(r, Ok(()), "{cond:?} should hold where there is no item");
            assert_eq!(get(t, &absent).await, Some(new));
            write(t, vec![Op::delete(absent.clone())]).await;
        } else {
            assert_eq!(r, failed(0), "{cond:?} should fail where there is no item");
            assert_eq!(get(t, &absent).await, None, "a failed put_if wrote the item ({cond:?})");
        }
    }
}

async fn conditional_delete(t: &dyn Table) {
    let k = key("T#c1#BOOK#9", "BOOKING");
    let booking = item(json!({"pk": "T#c1#BOOK#9", "sk": "BOOKING", "status": "done"}));
    write(t, vec![Op::put(booking.clone())]).await;
    assert_eq!(t.write(vec![Op::delete_if(k.clone(), Condition::equals("status", "open"))]).await, failed(0));
    assert_eq!(get(t, &k).await, Some(booking));
    write(t, vec![Op::delete_if(k.clone(), Condition::equals("status", "done"))]).await;
    assert_eq!(get(t, &k).await, None);
    assert_eq!(t.write(vec![Op::delete_if(k.clone(), Condition::Exists)]).await, failed(0));
}

// ---------------------------------------------------------------- atomic writes

async fn multi_op_writes_apply_all_or_nothing(t: &dyn Table) {
    let counter = key("T#c1#SEQ", "TICKET");
    let taken = key("T#c1#UNIQ", "USERNAME#ani");
    let taken_by_a = item(json!({"pk": "T#c1#UNIQ", "sk": "USERNAME#ani", "owner": "a"}));
    let old = key("T#c1#T", "0");
    write(t, vec![Op::put(item(json!({"pk": "T#c1#SEQ", "sk": "TICKET", "n": 1}))), Op::put(taken_by_a.clone())]).await;
    write(t, vec![Op::put(item(json!({"pk": "T#c1#T", "sk": "0"})))]).await;

    // All three kinds in one write take effect together.
    let t1 = item(json!({"pk": "T#c1#T", "sk": "1", "owner": "a"}));
    write(t, vec![Op::put(t1.clone()), Op::update(counter.clone(), Update::new().add("n", 1)), Op::delete(old.clone())]).await;
    assert_eq!(get(t, &key("T#c1#T", "1")).await, Some(t1.clone()));
    assert_eq!(get(t, &counter).await.unwrap()["n"], json!(2));
    assert_eq!(get(t, &old).await, None);
    let state = || async {
        (get(t, &counter).await, get(t, &taken).await, get(t, &key("T#c1#T", "1")).await, get(t, &key("T#c1#T", "2")).await)
    };
    let before = state().await;

    // The last op fails: the put and the update before it are not applied.
    let r = t
        .write(vec![
            Op::put_new(item(json!({"pk": "T#c1#T", "sk": "2"}))),
            Op::update_if(counter.clone(), Update::new().add("n", 1), Condition::Exists),
            Op::put_new(item(json!({"pk": "T#c1#UNIQ", "sk": "USERNAME#ani", "owner": "b"}))),
        ])
        .await;
    assert_eq!(r, failed(2));
    assert_eq!(state().await, before, "a failed write left part of itself behind");

    // The middle op fails: the delete before it and the put after it are not applied.
    let r = t
        .write(vec![
            Op::delete(key("T#c1#T", "1")),
            Op::update_if(counter.clone(), Update::new().add("n", 1), Condition::compare("n", Cmp::Gt, 100)),
            Op::put(item(json!({"pk": "T#c1#T", "sk": "2"}))),
        ])
        .await;
    assert_eq!(r, failed(1));
    assert_eq!(state().await, before);

    // The first op fails.
    let r = t
        .write(vec![
            Op::delete_if(taken.clone(), Condition::equals("owner", "b")),
            Op::put(item(json!({"pk": "T#c1#T", "sk": "2"}))),
            Op::update(counter.clone(), Update::new().add("n", 1)),
        ])
        .await;
    assert_eq!(r, failed(0));
    assert_eq!(state().await, before);
}

async fn check_ops_guard_a_write_and_write_nothing(t: &dyn Table) {
    let quota = key("T#c1#QUOTA", "2024-05");
    let quota_item = item(json!({"pk": "T#c1#QUOTA", "sk": "2024-05", "used": 3}));
    write(t, vec![Op::put(quota_item.clone())]).await;

    let visit1 = item(json!({"pk": "T#c1#V", "sk": "1"}));
    write(t, vec![Op::check(quota.clone(), Condition::compare("used", Cmp::Lt, 5)), Op::put(visit1.clone())]).await;
    assert_eq!(get(t, &key("T#c1#V", "1")).await, Some(visit1));
    assert_eq!(get(t, &quota).await, Some(quota_item.clone()), "a check writes nothing");

    let r = t
        .write(vec![Op::put(item(json!({"pk": "T#c1#V", "sk": "2"}))), Op::check(quota.clone(), Condition::compare("used", Cmp::Ge, 5))])
        .await;
    assert_eq!(r, failed(1));
    assert_eq!(get(t, &key("T#c1#V", "2")).await, None);

    // A check alone.
    write(t, vec![Op::check(quota.clone(), Condition::equals("used", 3))]).await;
    assert_eq!(t.write(vec![Op::check(quota.clone(), Condition::equals("used", 4))]).await, failed(0));
    let missing = key("T#c1#QUOTA", "2024-06");
    write(t, vec![Op::check(missing.clone(), Condition::NotExists)]).await;
    assert_eq!(get(t, &missing).await, None, "a check on a missing item does not create it");
    assert_eq!(t.write(vec![Op::check(missing.clone(), Condition::Exists)]).await, failed(0));
    assert_eq!(get(t, &quota).await, Some(quota_item));
}

async fn writes_are_validated(t: &dyn Table) {
    let put = |i: usize| Op::put(item(json!({"pk": "T#c1#BULK", "sk": format!("{i:03}")})));
    assert!(is_invalid(&t.write(vec![]).await), "an empty write");

    let r = t.write((0..MAX_WRITE_OPS + 1).map(put).collect()).await;
    assert!(is_invalid(&r), "{} ops: {r:?}", MAX_WRITE_OPS + 1);
    assert!(query_all(t, Query::partition("T#c1#BULK")).await.unwrap().is_empty());

    write(t, (0..MAX_WRITE_OPS).map(put).collect()).await;
    assert_eq!(query_all(t, Query::partition("T#c1#BULK")).await.unwrap().len(), MAX_WRITE_OPS);

    let k = key("T#c1#DUP", "1");
    let twice: Vec<Vec<Op>> = vec![
        vec![Op::put(item(json!({"pk": "T#c1#DUP", "sk": "1"}))), Op::update(k.clone(), Update::new().add("n", 1))],
        vec![Op::check(k.clone(), Condition::NotExists), Op::put(item(json!({"pk": "T#c1#DUP", "sk": "1"})))],
        vec![Op::put(item(json!({"pk": "T#c1#DUP", "sk": "2"}))), Op::delete(k.clone()), Op::delete(k.clone())],
    ];
    for ops in twice {
        let r = t.write(ops.clone()).await;
        assert!(is_invalid(&r), "one key twice in {ops:?}: {r:?}");
    }
    assert_eq!(get(t, &k).await, None);
    assert_eq!(get(t, &key("T#c1#DUP", "2")).await, None);

    // Keys must be non-empty strings, GSI keys included (template.yaml declares them S).
    for bad in [
        json!({"pk": "T#c1#X"}),
        json!({"sk": "1"}),
        json!({"pk": 7, "sk": "1"}),
        json!({"pk": "", "sk": "1"}),
        json!({"pk": "T#c1#X", "sk": ""}),
        json!({"pk": "T#c1#X", "sk": "1", "gsi1pk": 7, "gsi1sk": "a"}),
        json!({"pk": "T#c1#X", "sk": "1", "gsi2pk": "G", "gsi2sk": ""}),
    ] {
        let r = t.write(vec![Op::put(item(bad.clone()))]).await;
        assert!(is_invalid(&r), "{bad}: {r:?}");
    }
    let r = t.write(vec![Op::update(key("T#c1#X", "2"), Update::new().set("gsi1sk", ""))]).await;
    assert!(is_invalid(&r), "an empty GSI key by update: {r:?}");
    assert_eq!(get(t, &key("T#c1#X", "1")).await, None);
    assert_eq!(get(t, &key("T#c1#X", "2")).await, None);
}

// ---------------------------------------------------------------- queries

/// Every page of `q`, checking each holds at most `limit` items and that paging ends.
async fn read_pages(t: &dyn Table, q: &Query, expected_len: usize) -> Vec<Item> {
    let max_pages = match q.limit {
        Some(l) => expected_len.div_ceil(l) + 1,
        None => 1,
    };
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..max_pages {
        let page = t.query(&q.clone().after(cursor)).await.unwrap_or_else(|e| panic!("{q:?}: {e}"));
        if let Some(l) = q.limit {
            assert!(page.items.len() <= l, "{q:?}: a page of {} items", page.items.len());
        }
        out.extend(page.items);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("{q:?}: still handing out cursors after {max_pages} pages for {expected_len} items");
}

/// What the index `index` holds for `pk` under `sk`, in order: the model the adapters must match.
fn expected(items: &[Item], index: Index, pk: &str, sk: &SortKey, ascending: bool) -> Vec<Item> {
    let (pk_attr, sk_attr) = index.key_attributes();
    let mut hits: Vec<(String, Item)> = items
        .iter()
        .filter(|i| i.get(pk_attr).and_then(Value::as_str) == Some(pk))
        .filter_map(|i| Some((i.get(sk_attr)?.as_str()?.to_string(), i.clone())))
        .filter(|(s, _)| sk.matches(s))
        .collect();
    hits.sort_by(|a, b| a.0.cmp(&b.0)); // byte-wise, as DynamoDB orders strings
    if !ascending {
        hits.reverse();
    }
    hits.into_iter().map(|(_, i)| i).collect()
}

fn sort_key_cases(p: &str) -> Vec<SortKey> {
    let s = |x: &str| format!("{p}{x}");
    vec![
        SortKey::Any,
        SortKey::Eq(s("07")),
        SortKey::Eq(s("99")),
        SortKey::BeginsWith(s("1")),
        SortKey::BeginsWith(p.to_string()),
        SortKey::BeginsWith("zzz".into()),
        SortKey::Between(s("05"), s("15")),
        SortKey::Between(s("07"), s("07")),
        SortKey::Lt(s("10")),
        SortKey::Le(s("10")),
        SortKey::Gt(s("10")),
        SortKey::Ge(s("10")),
        SortKey::Lt("".into()),
        SortKey::Le("".into()),
        SortKey::Eq("".into()),
        SortKey::Ge("".into()),
        SortKey::BeginsWith("".into()),
        SortKey::Between("".into(), s("07")),
        SortKey::Between(s("07"), s("05")),
        SortKey::Gt("~".into()),
    ]
}

async fn check_index(t: &dyn Table, items: &[Item], index: Index, pk: &str, cases: Vec<SortKey>) {
    let mut nonempty = 0;
    let cases_len = cases.len();
    for sk in cases {
        for ascending in [true, false] {
            let want = expected(items, index, pk, &sk, ascending);
            nonempty += usize::from(!want.is_empty());
            for limit in [None, Some(1), Some(2), Some(5), Some(100)] {
                let mut q = Query::partition(pk).on(index).sort(sk.clone());
                q.ascending = ascending;
                q.limit = limit;
                let got = read_pages(t, &q, want.len()).await;
                let got_keys: Vec<_> = got.iter().map(Key::of).collect();
                let want_keys: Vec<_> = want.iter().map(Key::of).collect();
                assert_eq!(got_keys, want_keys, "{q:?}");
                assert_eq!(got, want, "{q:?}: whole items");
            }
        }
    }
    assert!(nonempty >= cases_len, "the data set should make most cases return something");
}

/// Items over two partitions of the base table and both GSIs, with neighbours that a
/// sloppy key condition would leak in, and byte-order traps in the sort keys.
fn query_fixture() -> Vec<Item> {
    let mut items = Vec::new();
    let sks = [
        "A#1", "Z", "a#01", "a#02", "a#1", "a#10", "a#2", "b", "b#", "b#x", "ba", "c~", "é", "a", "B", "s07", "s10", "s15",
    ];
    for (i, sk) in sks.iter().enumerate() {
        let mut it = item(json!({"pk": "T#c1#Q#0501", "sk": sk, "i": i}));
        if i % 3 != 0 {
            it.insert("gsi1pk".into(), json!("T#c1#DOC#7"));
            it.insert("gsi1sk".into(), json!(format!("t{:02}", (i * 7) % 23)));
        }
        if i % 2 == 0 {
            it.insert("gsi2pk".into(), json!("T#c1#DAY#0501"));
            it.insert("gsi2sk".into(), json!(format!("n{:02}", (i * 5) % 21)));
        }
        items.push(it);
    }
    for (j, sk) in ["a#1", "a#3", "m"].iter().enumerate() {
        let i = 18 + j;
        items.push(item(json!({
            "pk": "T#c1#Q#0502", "sk": sk, "i": i,
            "gsi1pk": "T#c1#DOC#7", "gsi1sk": format!("t{:02}", (i * 7) % 23),
            "gsi2pk": "T#c1#DAY#0501", "gsi2sk": format!("n{:02}", (i * 5) % 21),
        })));
    }
    // Neighbours: a prefix and an extension of the partition keys, other GSI partitions.
    items.push(item(json!({"pk": "T#c1#Q#050", "sk": "a#1", "gsi1pk": "T#c1#DOC#", "gsi1sk": "t07", "gsi2pk": "T#c1#DAY#050", "gsi2sk": "n10"})));
    items.push(item(json!({"pk": "T#c1#Q#0501#x", "sk": "a#1", "gsi1pk": "T#c1#DOC#70", "gsi1sk": "t07", "gsi2pk": "T#c1#DAY#0501#x", "gsi2sk": "n10"})));
    // Sparse: half a GSI key keeps an item out of that GSI.
    items.push(item(json!({"pk": "T#c1#Q#0501", "sk": "sparse#1", "gsi1pk": "T#c1#DOC#7", "gsi2sk": "n11"})));
    items.push(item(json!({"pk": "T#c1#Q#0501", "sk": "sparse#2", "gsi1sk": "t08", "gsi2pk": "T#c1#DAY#0501"})));
    items
}

async fn load_fixture(t: &dyn Table) -> Vec<Item> {
    let items = query_fixture();
    for chunk in items.chunks(10) {
        write(t, chunk.iter().cloned().map(Op::put).collect()).await;
    }
    items
}

async fn table_queries_filter_order_and_page(t: &dyn Table) {
    let items = load_fixture(t).await;
    let mut cases = sort_key_cases("a#");
    cases.extend([SortKey::BeginsWith("b".into()), SortKey::Between("B".into(), "b#".into()), SortKey::Ge("é".into())]);
    check_index(t, &items, Index::Table, "T#c1#Q#0501", cases).await;
    check_index(t, &items, Index::Table, "T#c1#Q#0502", vec![SortKey::Any, SortKey::BeginsWith("a#".into())]).await;
    let nothing = t.query(&Query::partition("T#c1#Q#05")).await.unwrap();
    assert!(nothing.items.is_empty() && nothing.cursor.is_none(), "a partition key matches exactly, never as a prefix");
}

async fn gsi_queries_filter_order_and_page(t: &dyn Table) {
    let items = load_fixture(t).await;
    check_index(t, &items, Index::Gsi1, "T#c1#DOC#7", sort_key_cases("t")).await;
    check_index(t, &items, Index::Gsi2, "T#c1#DAY#0501", sort_key_cases("n")).await;
}

async fn gsis_are_sparse_and_follow_updates(t: &dyn Table) {
    let items = load_fixture(t).await;
    let gsi1 = || async { query_all(t, Query::partition("T#c1#DOC#7").on(Index::Gsi1)).await.unwrap() };
    let skl = |v: &[Item]| v.iter().map(|i| i["sk"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let before = gsi1().await;
    assert_eq!(before, expected(&items, Index::Gsi1, "T#c1#DOC#7", &SortKey::Any, true));
    assert!(!skl(&before).iter().any(|s| s.starts_with("sparse")), "an item with half a GSI key is not in the GSI");
    assert!(!skl(&before).contains(&"A#1".to_string()), "an item without GSI attributes is not in the GSI");

    // Taking a GSI attribute away removes the item from the GSI; adding both puts it in.
    write(t, vec![Op::update(key("T#c1#Q#0501", "Z"), Update::new().remove("gsi1sk"))]).await;
    write(t, vec![Op::update(key("T#c1#Q#0501", "sparse#1"), Update::new().set("gsi1sk", "t99"))]).await;
    write(t, vec![Op::update(key("T#c1#Q#0501", "A#1"), Update::new().set("gsi1pk", "T#c1#DOC#7").set("gsi1sk", "t00a"))]).await;
    let after = skl(&gsi1().await);
    assert!(!after.contains(&"Z".to_string()));
    assert_eq!(after.last().map(String::as_str), Some("sparse#1"), "t99 sorts last: {after:?}");
    assert_eq!(after.iter().filter(|s| *s == "A#1").count(), 1);
    assert_eq!(after.len(), before.len() + 1);
    // Deleting an item takes it out of every index.
    write(t, vec![Op::delete(key("T#c1#Q#0501", "sparse#1"))]).await;
    assert!(!skl(&gsi1().await).contains(&"sparse#1".to_string()));
}

async fn gsi_paging_visits_tied_sort_keys_once(t: &dyn Table) {
    // Many items may share a GSI sort key (same slot, same day): paging must neither skip nor
    // repeat them, and groups still come in sort-key order.
    let mut ops = Vec::new();
    for i in 0..12 {
        let slot = if i % 2 == 0 { "09:00" } else { "10:00" };
        ops.push(Op::put(item(json!({
            "pk": format!("T#c1#BOOK#{}", i % 4), "sk": format!("B#{i:02}"), "gsi2pk": "T#c1#SLOTS", "gsi2sk": slot,
        }))));
    }
    write(t, ops).await;
    for ascending in [true, false] {
        for limit in [1, 2, 5] {
            let mut q = Query::partition("T#c1#SLOTS").on(Index::Gsi2).limit(limit);
            q.ascending = ascending;
            let got = read_pages(t, &q, 12).await;
            let slots: Vec<_> = got.iter().map(|i| i["gsi2sk"].as_str().unwrap().to_string()).collect();
            let mut sorted = slots.clone();
            sorted.sort();
            if !ascending {
                sorted.reverse();
            }
            assert_eq!(slots, sorted, "{q:?}");
            let mut keys: Vec<_> = got.iter().map(|i| Key::of(i).unwrap()).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), 12, "{q:?}: every item exactly once, got {} distinct of {}", keys.len(), got.len());
            assert_eq!(got.len(), 12, "{q:?}");
        }
    }
}

async fn malformed_cursors_and_zero_limits_are_invalid(t: &dyn Table) {
    write(t, vec![Op::put(item(json!({"pk": "T#c1#Q", "sk": "1", "gsi1pk": "G", "gsi1sk": "1"})))]).await;
    for index in [Index::Table, Index::Gsi1] {
        for cursor in ["not a cursor!", "e30" /* {} */, "bm90IGpzb24" /* not json */] {
            let q = Query::partition(if index == Index::Table { "T#c1#Q" } else { "G" }).on(index).after(Some(cursor.into()));
            let r = t.query(&q).await;
            assert!(matches!(r, Err(StoreError::Invalid(_))), "{q:?}: {r:?}");
        }
        let q = Query::partition("T#c1#Q").on(index).limit(0);
        let r = t.query(&q).await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{q:?}: {r:?}");
    }
}

// ---------------------------------------------------------------- concurrency

/// Writes, trying again (with a random pause) while the store reports a conflicting write.
async fn write_retrying(t: &dyn Table, ops: impl Fn() -> Vec<Op>) -> Result<(), StoreError> {
    for attempt in 0..200u32 {
        match t.write(ops()).await {
            Err(StoreError::Conflict) => {
                let ceiling = 5u64 << attempt.min(5);
                tokio::time::sleep(Duration::from_millis(rand::random_range(1..=ceiling))).await;
            }
            other => return other,
        }
    }
    panic!("still conflicting after 200 attempts");
}

fn bump(counter: &Key, cap: i64) -> Op {
    Op::update_if(
        counter.clone(),
        Update::new().add("n", 1),
        Condition::Or(vec![Condition::attr_not_exists("n"), Condition::compare("n", Cmp::Lt, cap)]),
    )
}

async fn concurrent_conditional_increments_all_count(t: &dyn Table) {
    let counter = key("T#c1#SEQ", "TICKET");
    let results = join_all((0..50).map(|_| write_retrying(t, || vec![bump(&counter, 1000)]))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(get(t, &counter).await.unwrap()["n"], json!(50));
}

async fn concurrent_transactions_serialise_on_a_counter(t: &dyn Table) {
    // Each transaction takes a number and writes its own ticket, as queue numbering does.
    let counter = key("T#c1#SEQ", "TICKET");
    let results = join_all((0..50).map(|i| {
        let counter = &counter;
        write_retrying(t, move || {
            vec![bump(counter, 1000), Op::put_new(item(json!({"pk": "T#c1#TICKETS", "sk": format!("{i:02}")})))]
        })
    }))
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(get(t, &counter).await.unwrap()["n"], json!(50));
    assert_eq!(query_all(t, Query::partition("T#c1#TICKETS")).await.unwrap().len(), 50);
}

async fn concurrent_increments_stop_at_the_cap(t: &dyn Table) {
    let counter = key("T#c1#QUOTA", "DAY");
    let results = join_all((0..40).map(|_| write_retrying(t, || vec![bump(&counter, 25)]))).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let refused = results.iter().filter(|r| **r == failed(0)).count();
    assert_eq!((ok, refused), (25, 15), "{results:?}");
    assert_eq!(get(t, &counter).await.unwrap()["n"], json!(25));
}

async fn concurrent_put_new_has_exactly_one_winner(t: &dyn Table) {
    let k = key("T#c1#UNIQ", "EMAIL#ani@example.com");
    let results = join_all((0..20).map(|i| {
        write_retrying(t, move || vec![Op::put_new(item(json!({"pk": "T#c1#UNIQ", "sk": "EMAIL#ani@example.com", "owner": i})))])
    }))
    .await;
    let winners: Vec<usize> = (0..20).filter(|i| results[*i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || *r == failed(0)), "{results:?}");
    assert_eq!(get(t, &k).await.unwrap()["owner"], json!(winners[0]));
}

// ---------------------------------------------------------------- batch reads and projections

async fn get_many(t: &dyn Table, keys: &[Key], only: Option<&[String]>) -> Vec<Option<Item>> {
    t.get_many(keys, only).await.unwrap_or_else(|e| panic!("get_many of {} keys: {e}", keys.len()))
}

async fn get_many_answers_every_key_in_order(t: &dyn Table) {
    for i in 0..5 {
        write(t, vec![Op::put(item(json!({"pk": "B", "sk": format!("{i}"), "n": i, "nested": {"a": [1, "x"]}})))]).await;
    }
    // Asked out of order, with a missing key, a key of another partition and one key twice.
    let keys = vec![key("B", "3"), key("B", "9"), key("B", "0"), key("other", "0"), key("B", "3"), key("B", "4")];
    let got = get_many(t, &keys, None).await;
    assert_eq!(got.len(), keys.len());
    let n: Vec<Option<i64>> = got.iter().map(|i| i.as_ref().map(|i| i["n"].as_i64().unwrap())).collect();
    assert_eq!(n, vec![Some(3), None, Some(0), None, Some(3), Some(4)]);
    // Each answer is the whole item, exactly as `get` returns it.
    assert_eq!(got[0], get(t, &key("B", "3")).await);
    assert!(get_many(t, &[], None).await.is_empty());
}

async fn get_many_reads_past_one_batch(t: &dyn Table) {
    // 250 items: more than two BatchGetItem calls' worth, written 25 at a time.
    let items: Vec<Item> = (0..250).map(|i| item(json!({"pk": "M", "sk": format!("{i:04}"), "n": i, "pad": "x".repeat(200)}))).collect();
    for chunk in items.chunks(25) {
        write(t, chunk.iter().cloned().map(Op::put).collect()).await;
    }
    let mut keys: Vec<Key> = (0..300).rev().map(|i| key("M", &format!("{i:04}"))).collect();
    keys.push(key("M", "0007"));
    let got = get_many(t, &keys, None).await;
    assert_eq!(got.len(), 301);
    for (k, found) in keys.iter().zip(&got) {
        let i: i64 = k.sk.parse().unwrap();
        match found {
            Some(item) => assert_eq!((item["n"].as_i64(), i < 250), (Some(i), true), "{k:?}"),
            None => assert!(i >= 250, "{k:?} was written but not found"),
        }
    }
    assert_eq!(got.iter().flatten().count(), 251);
}

async fn projections_keep_only_what_was_asked(t: &dyn Table) {
    for i in 0..3 {
        let v = json!({"pk": "P", "sk": format!("{i}"), "gsi1pk": "PG", "gsi1sk": format!("{i}"), "name": format!("n{i}"), "big": "y".repeat(500), "n": i});
        write(t, vec![Op::put(item(v))]).await;
    }
    let only = vec!["name".to_string(), "missing".to_string()];
    let got = get_many(t, &[key("P", "1"), key("P", "7")], Some(&only)).await;
    let mut names: Vec<&String> = got[0].as_ref().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["gsi1pk", "gsi1sk", "name", "pk", "sk"]);
    assert_eq!(got[1], None);
    for index in [Index::Table, Index::Gsi1] {
        let pk = if index == Index::Table { "P" } else { "PG" };
        let q = Query::partition(pk).on(index).only(&["n"]).limit(2);
        let first = t.query(&q).await.unwrap();
        assert_eq!(first.items.len(), 2);
        for it in &first.items {
            assert!(it.contains_key("n") && it.contains_key("pk") && !it.contains_key("big") && !it.contains_key("name"), "{it:?}");
        }
        // A projected page still pages on.
        let rest = t.query(&q.clone().after(first.cursor.clone())).await.unwrap();
        assert_eq!(rest.items.iter().map(|i| i["n"].as_i64().unwrap()).collect::<Vec<_>>(), vec![2]);
    }
}

// ---------------------------------------------------------------- DynamoDB table creation

#[test]
fn template_defines_the_table_the_port_expects() {
    let def = antrean_store::dynamodb::TableDefinition::from_template(include_str!("../../../template.yaml")).unwrap();
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(def.key, s("pk", "sk"));
    assert_eq!(def.indexes, vec![("gsi1".to_string(), s("gsi1pk", "gsi1sk")), ("gsi2".to_string(), s("gsi2pk", "gsi2sk"))]);
    assert_eq!(def.ttl_attribute.as_deref(), Some(TTL_ATTRIBUTE));
    let attrs: BTreeMap<_, _> = def.attributes.into_iter().collect();
    assert_eq!(attrs.len(), 6);
    assert!(attrs.values().all(|t| t == "S"), "{attrs:?}");
}

/// The functions' table policies allow every call the DynamoDB adapter makes: a call left out
/// works against DynamoDB Local and fails with AccessDenied on AWS.
#[test]
fn template_policies_allow_every_call_the_adapter_makes() {
    let doc: serde_yaml::Value = serde_yaml::from_str(include_str!("../../../template.yaml")).unwrap();
    let actions = |policy: &str| -> Vec<String> {
        let statements = doc["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"].as_sequence().unwrap_or_else(|| panic!("{policy}"));
        statements.iter().flat_map(|s| s["Action"].as_sequence().cloned().unwrap_or_default()).filter_map(|a| a.as_str().map(str::to_string)).collect()
    };
    let read = actions("ClinicTableReadPolicy");
    for call in ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"] {
        assert!(read.iter().any(|a| a == call), "ClinicTableReadPolicy lacks {call}: {read:?}");
    }
    assert!(!read.iter().any(|a| a == "dynamodb:Scan"), "no Scan: {read:?}");
    let write = actions("ClinicTableWritePolicy");
    // TransactWriteItems is authorised per item by these.
    for call in ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"] {
        assert!(write.iter().any(|a| a == call), "ClinicTableWritePolicy lacks {call}: {write:?}");
    }
}

#[tokio::test]
async fn dynamodb_table_is_created_once_as_the_template_says() {
    let template = include_str!("../../../template.yaml");
    let table = antrean_testkit::dynamo_table(template).await;
    assert!(!table.create_table_if_missing(template).await.unwrap(), "the second call finds the table");
    let client = table.client();
    let desc = client.describe_table().table_name(table.table_name()).send().await.unwrap();
    let desc = desc.table().unwrap();
    let mut gsis: Vec<_> = desc
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            let schema: Vec<_> = g.key_schema().iter().map(|k| format!("{}:{}", k.attribute_name(), k.key_type().as_str())).collect();
            (g.index_name().unwrap().to_string(), schema.join(","), g.projection().and_then(|p| p.projection_type()).map(|p| p.as_str().to_string()))
        })
        .collect();
    gsis.sort();
    assert_eq!(
        gsis,
        vec![
            ("gsi1".into(), "gsi1pk:HASH,gsi1sk:RANGE".into(), Some("ALL".into())),
            ("gsi2".into(), "gsi2pk:HASH,gsi2sk:RANGE".into(), Some("ALL".into())),
        ]
    );
    let ttl = client.describe_time_to_live().table_name(table.table_name()).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some(TTL_ATTRIBUTE));
    assert_eq!(ttl.time_to_live_status().map(|s| s.as_str()), Some("ENABLED"));
}
