//! Queries on the table and its indexes: sort-key conditions, order, pages, cursors.
use super::*;

/// Every page of `q`, checking each holds at most `limit` items and that paging ends.
pub(crate) async fn read_pages(t: &dyn Table, q: &Query, expected_len: usize) -> Vec<Item> {
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
pub(crate) fn expected(items: &[Item], index: Index, pk: &str, sk: &SortKey, ascending: bool) -> Vec<Item> {
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

pub(crate) fn sort_key_cases(p: &str) -> Vec<SortKey> {
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

pub(crate) async fn check_index(t: &dyn Table, items: &[Item], index: Index, pk: &str, cases: Vec<SortKey>) {
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
pub(crate) fn query_fixture() -> Vec<Item> {
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

pub(crate) async fn load_fixture(t: &dyn Table) -> Vec<Item> {
    let items = query_fixture();
    for chunk in items.chunks(10) {
        write(t, chunk.iter().cloned().map(Op::put).collect()).await;
    }
    items
}

pub(crate) async fn table_queries_filter_order_and_page(t: &dyn Table) {
    let items = load_fixture(t).await;
    let mut cases = sort_key_cases("a#");
    cases.extend([SortKey::BeginsWith("b".into()), SortKey::Between("B".into(), "b#".into()), SortKey::Ge("é".into())]);
    check_index(t, &items, Index::Table, "T#c1#Q#0501", cases).await;
    check_index(t, &items, Index::Table, "T#c1#Q#0502", vec![SortKey::Any, SortKey::BeginsWith("a#".into())]).await;
    let nothing = t.query(&Query::partition("T#c1#Q#05")).await.unwrap();
    assert!(nothing.items.is_empty() && nothing.cursor.is_none(), "a partition key matches exactly, never as a prefix");
}

pub(crate) async fn gsi_queries_filter_order_and_page(t: &dyn Table) {
    let items = load_fixture(t).await;
    check_index(t, &items, Index::Gsi1, "T#c1#DOC#7", sort_key_cases("t")).await;
    check_index(t, &items, Index::Gsi2, "T#c1#DAY#0501", sort_key_cases("n")).await;
}

pub(crate) async fn gsis_are_sparse_and_follow_updates(t: &dyn Table) {
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

pub(crate) async fn gsi_paging_visits_tied_sort_keys_once(t: &dyn Table) {
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

pub(crate) async fn malformed_cursors_and_zero_limits_are_invalid(t: &dyn Table) {
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
