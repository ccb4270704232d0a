//! Batch reads and projections.
use super::*;

pub(crate) async fn get_many(t: &dyn Table, keys: &[Key], only: Option<&[String]>) -> Vec<Option<Item>> {
    t.get_many(keys, only).await.unwrap_or_else(|e| panic!("get_many of {} keys: {e}", keys.len()))
}

pub(crate) async fn get_many_answers_every_key_in_order(t: &dyn Table) {
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

pub(crate) async fn get_many_reads_past_one_batch(t: &dyn Table) {
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

pub(crate) async fn projections_keep_only_what_was_asked(t: &dyn Table) {
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
