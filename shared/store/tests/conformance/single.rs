//! Single-item operations: get, put, update, delete.
use super::*;

pub(crate) async fn get_returns_exactly_what_was_put(t: &dyn Table) {
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

pub(crate) async fn put_replaces_the_whole_item(t: &dyn Table) {
    let k = key("T#c1#P#1", "PROFILE");
    write(t, vec![Op::put(item(json!({"pk": "T#c1#P#1", "sk": "PROFILE", "name": "Ani", "phone": "0812"})))]).await;
    let second = item(json!({"pk": "T#c1#P#1", "sk": "PROFILE", "name": "Ani Yudhoyono"}));
    write(t, vec![Op::put(second.clone())]).await;
    assert_eq!(get(t, &k).await, Some(second), "a put replaces every attribute, it does not merge");
}

pub(crate) async fn update_sets_removes_adds_and_creates_missing_items(t: &dyn Table) {
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

pub(crate) async fn update_refuses_key_changes_and_add_on_text(t: &dyn Table) {
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

pub(crate) async fn delete_removes_and_tolerates_a_missing_item(t: &dyn Table) {
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
