//! Atomic writes: several operations apply all or nothing.
use super::*;

pub(crate) async fn multi_op_writes_apply_all_or_nothing(t: &dyn Table) {
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

pub(crate) async fn check_ops_guard_a_write_and_write_nothing(t: &dyn Table) {
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

pub(crate) async fn writes_are_validated(t: &dyn Table) {
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
