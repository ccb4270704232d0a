//! Concurrency: racing conditional writes have exactly the winners they should.
use super::*;

/// Writes, trying again (with a random pause) while the store reports a conflicting write.
pub(crate) async fn write_retrying(t: &dyn Table, ops: impl Fn() -> Vec<Op>) -> Result<(), StoreError> {
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

pub(crate) fn bump(counter: &Key, cap: i64) -> Op {
    Op::update_if(
        counter.clone(),
        Update::new().add("n", 1),
        Condition::Or(vec![Condition::attr_not_exists("n"), Condition::compare("n", Cmp::Lt, cap)]),
    )
}

pub(crate) async fn concurrent_conditional_increments_all_count(t: &dyn Table) {
    let counter = key("T#c1#SEQ", "TICKET");
    let results = join_all((0..50).map(|_| write_retrying(t, || vec![bump(&counter, 1000)]))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(get(t, &counter).await.unwrap()["n"], json!(50));
}

pub(crate) async fn concurrent_transactions_serialise_on_a_counter(t: &dyn Table) {
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

pub(crate) async fn concurrent_increments_stop_at_the_cap(t: &dyn Table) {
    let counter = key("T#c1#QUOTA", "DAY");
    let results = join_all((0..40).map(|_| write_retrying(t, || vec![bump(&counter, 25)]))).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let refused = results.iter().filter(|r| **r == failed(0)).count();
    assert_eq!((ok, refused), (25, 15), "{results:?}");
    assert_eq!(get(t, &counter).await.unwrap()["n"], json!(25));
}

pub(crate) async fn concurrent_put_new_has_exactly_one_winner(t: &dyn Table) {
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
