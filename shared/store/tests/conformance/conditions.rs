//! Conditions: a write lands only when its condition holds; a failed one changes nothing.
use super::*;

pub(crate) async fn conditions_hold_or_fail_and_a_failed_one_changes_nothing(t: &dyn Table) {
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

pub(crate) async fn conditional_delete(t: &dyn Table) {
    let k = key("T#c1#BOOK#9", "BOOKING");
    let booking = item(json!({"pk": "T#c1#BOOK#9", "sk": "BOOKING", "status": "done"}));
    write(t, vec![Op::put(booking.clone())]).await;
    assert_eq!(t.write(vec![Op::delete_if(k.clone(), Condition::equals("status", "open"))]).await, failed(0));
    assert_eq!(get(t, &k).await, Some(booking));
    write(t, vec![Op::delete_if(k.clone(), Condition::equals("status", "done"))]).await;
    assert_eq!(get(t, &k).await, None);
    assert_eq!(t.write(vec![Op::delete_if(k.clone(), Condition::Exists)]).await, failed(0));
}
