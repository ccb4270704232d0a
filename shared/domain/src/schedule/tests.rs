use std::sync::Arc;

use serde_json::json;

use super::*;

fn schedule(start: &str, end: &str, quota: Option<i64>) -> Schedule {
    Schedule {
        doctor_id: 3,
        poly_id: 1,
        date: "2025-12-16".into(),
        start_time: start.into(),
        end_time: end.into(),
        quota,
        slot_minutes: None,
        slot_capacity: None,
        bpjs_quota: None,
    }
}

fn slot_of(quota: Option<i64>, booked: i64) -> Slot {
    let schedule = Stored {
        id: 7,
        data: schedule("10:00:00", "15:00:00", quota),
        created_at: "t".into(),
        updated_at: "t".into(),
        deleted_at: None,
    };
    Slot {
        schedule,
        version: 4,
        booked,
    }
}

fn errors_of(body: Value) -> Value {
    let mut e = FieldErrors::new();
    assert!(ScheduleForm::parse(&mut e, &body).is_none(), "{body} should be refused");
    Value::Object(e.0)
}

#[test]
fn times_take_minutes_or_seconds() {
    assert_eq!(parse_time("10:00").as_deref(), Some("10:00:00"));
    assert_eq!(parse_time("23:59:59").as_deref(), Some("23:59:59"));
    for bad in ["24:00", "9:00", "10:60", "10:00:60", "10", "10:00:00:00", "ab:cd", "", "10:0"] {
        assert_eq!(parse_time(bad), None, "{bad}");
    }
}

#[test]
fn the_seed_body_parses() {
    let mut e = FieldErrors::new();
    let f = ScheduleForm::parse(
        &mut e,
        &json!({"doctor_id": "3", "date": "2025-12-16", "start_time": "10:00", "end_time": "15:00", "quota": 25}),
    )
    .unwrap();
    assert_eq!(
        f,
        ScheduleForm {
            doctor_id: 3,
            date: NaiveDate::from_ymd_opt(2025, 12, 16).unwrap(),
            start_time: "10:00:00".into(),
            end_time: "15:00:00".into(),
            quota: Some(25),
            slot_minutes: None,
            slot_capacity: None,
            bpjs_quota: None,
        }
    );
    let f = ScheduleForm::parse(
        &mut e,
        &json!({"doctor_id": 3, "date": "2025-12-16", "start_time": "10:00:00", "end_time": "15:30", "quota": null}),
    )
    .unwrap();
    assert_eq!(f.quota, None);
    assert!(e.is_empty());
}

#[test]
fn every_problem_is_named() {
    assert_eq!(
        errors_of(json!({})),
        json!({"doctor_id": ["The doctor id field is required."], "date": ["The date field is required."],
            "start_time": ["The start time field is required."], "end_time": ["The end time field is required."]})
    );
    assert_eq!(
        errors_of(json!({"doctor_id": "x", "date": "2025-02-30", "start_time": "25:00", "end_time": "10:00", "quota": 0})),
        json!({"doctor_id": ["The doctor id field must be an integer."], "date": ["The date field must be a valid date."],
            "start_time": ["The start time field must match the format H:i or H:i:s."], "quota": ["The quota field must be at least 1."]})
    );
    assert_eq!(
        errors_of(json!({"doctor_id": 3, "date": "16-12-2025", "start_time": "10:00", "end_time": "10:00", "quota": "many"})),
        json!({"date": ["The date field must match the format Y-m-d."], "end_time": ["The end time field must be a time after start time."],
            "quota": ["The quota field must be an integer."]})
    );
    assert_eq!(
        errors_of(json!({"doctor_id": 3, "date": "2025-12-16", "start_time": "10:00", "end_time": "11:00", "quota": 1.5}))["quota"],
        json!(["The quota field must be an integer."])
    );
}

#[test]
fn overlap_is_strict_at_the_ends() {
    let a = schedule("08:00:00", "12:00:00", None);
    assert!(overlaps(&a, &schedule("11:59:00", "13:00:00", None)));
    assert!(overlaps(&a, &schedule("07:00:00", "08:00:01", None)));
    assert!(overlaps(&a, &schedule("09:00:00", "10:00:00", None)));
    assert!(overlaps(&a, &schedule("07:00:00", "13:00:00", None)));
    assert!(!overlaps(&a, &schedule("12:00:00", "16:00:00", None)));
    assert!(!overlaps(&a, &schedule("06:00:00", "08:00:00", None)));
}

#[test]
fn room_is_the_quota_or_no_limit() {
    assert!(slot_of(None, 1000).has_room());
    assert!(slot_of(Some(2), 1).has_room());
    assert!(!slot_of(Some(2), 2).has_room());
    assert!(!slot_of(Some(2), 3).has_room());
}

#[test]
fn hold_checks_the_version_and_the_quota() {
    let t = Tenant::parse("klinik").unwrap();
    let [check, take] = hold_ops(&t, &slot_of(Some(25), 3));
    assert_eq!(
        check,
        Op::check(
            Key::new("T#klinik#SCHEDULE", "000000000007"),
            Condition::And(vec![Condition::equals("_v", 4), Condition::attr_not_exists("deleted_at")])
        )
    );
    assert_eq!(
        take,
        Op::update_if(
            Key::new("T#klinik#SCHEDULE_BOOKED", "000000000007"),
            Update::new().add("booked", 1),
            Condition::Or(vec![Condition::attr_not_exists("booked"), Condition::compare("booked", Cmp::Lt, 25)])
        )
    );
    let [_, unlimited] = hold_ops(&t, &slot_of(None, 3));
    assert_eq!(
        unlimited,
        Op::update(Key::new("T#klinik#SCHEDULE_BOOKED", "000000000007"), Update::new().add("booked", 1))
    );
    assert_eq!(
        release_op(&t, 7),
        Op::update(Key::new("T#klinik#SCHEDULE_BOOKED", "000000000007"), Update::new().add("booked", -1))
    );
}

#[test]
fn filters_follow_the_seed_priority() {
    let p = |d: Option<&str>, m: Option<&str>, y: Option<&str>| ListParams {
        doctor_id: None,
        date: d.map(Into::into),
        month: m.map(Into::into),
        year: y.map(Into::into),
    };
    let period = |params: ListParams| ListFilter::parse(&params, 2026).unwrap().period;
    let day = NaiveDate::from_ymd_opt(2025, 12, 15).unwrap();
    assert_eq!(period(p(Some("2025-12-15"), Some("1"), Some("2024"))), Period::Day(day));
    assert_eq!(period(p(None, Some("02"), Some("2024"))), Period::Month { year: 2024, month: 2 });
    assert_eq!(period(p(None, Some("2"), None)), Period::Month { year: 2026, month: 2 });
    assert_eq!(period(p(None, None, Some("2024"))), Period::Year(2024));
    assert_eq!(period(p(Some(" "), None, None)), Period::Year(2026));
    match ListFilter::parse(
        &ListParams {
            doctor_id: Some("abc".into()),
            ..p(Some("2025-12-15month=12"), Some("13"), Some("25"))
        },
        2026,
    ) {
        Err(DomainError::Validation(e)) => assert_eq!(
            Value::Object(e.0),
            json!({"doctor_id": ["The doctor id field must be an integer."], "date": ["The date field must match the format Y-m-d."],
                "month": ["The month field must be between 1 and 12."], "year": ["The year field must be 4 digits."]})
        ),
        other => panic!("{other:?}"),
    }
}

async fn clinic() -> (tempfile::TempDir, Deps, Tenant, Actor) {
    let dir = tempfile::tempdir().unwrap();
    let deps = crate::test_deps(dir.path(), Arc::new(crate::SystemClock));
    let tenant = Tenant::parse("klinik").unwrap();
    let ts = "2025-01-01T00:00:00.000000Z";
    deps.table.write(crate::role::seed_ops(&tenant, ts)).await.unwrap();
    deps.table
        .write(record::seed_ops(&tenant, vec![Poly { name: "Poli Umum".into() }], ts).unwrap())
        .await
        .unwrap();
    let doctor = User {
        name: "Harris A".into(),
        email: "harris@mail.com".into(),
        email_verified_at: None,
        poly_id: Some(1),
        username: "harris".into(),
        roles: vec![3],
        role_since: vec![],
        whatsapp_number: None,
        sessions_revoked_ms: None,
    };
    deps.table.write(record::seed_ops(&tenant, vec![doctor], ts).unwrap()).await.unwrap();
    (dir, deps, tenant, Actor::system("test"))
}

/// Places are taken with `hold_ops` and given back with `release_op`; the quota and
/// the bookings guard updates and deletes.
#[tokio::test]
async fn bookings_guard_the_schedule() {
    let (_dir, deps, t, actor) = clinic().await;
    let body = json!({"doctor_id": 1, "date": "2025-12-16", "start_time": "10:00", "end_time": "15:00", "quota": 2});
    let s = create(&deps, &t, &actor, &body).await.unwrap();
    assert_eq!(s.data.poly_id, 1);
    let day = NaiveDate::from_ymd_opt(2025, 12, 16).unwrap();
    let slots = on_day(&deps, &t, 1, day).await.unwrap();
    assert_eq!(slots.len(), 1);
    assert!(on_day(&deps, &t, 2, day).await.unwrap().is_empty());
    for _ in 0..2 {
        let slot = slot(&deps, &t, s.id).await.unwrap();
        assert!(slot.has_room());
        deps.table.write(hold_ops(&t, &slot).to_vec()).await.unwrap();
    }
    let full = slot(&deps, &t, s.id).await.unwrap();
    assert_eq!(full.booked, 2);
    assert!(!full.has_room());
    assert_eq!(
        deps.table.write(hold_ops(&t, &full).to_vec()).await,
        Err(StoreError::ConditionFailed { index: 1 })
    );

    let shrink = json!({"doctor_id": 1, "date": "2025-12-16", "start_time": "10:00", "end_time": "15:00", "quota": 1});
    match update(&deps, &t, &actor, s.id, &shrink).await {
        Err(DomainError::Conflict(m)) => assert_eq!(m, quota_below_booked(2)),
        other => panic!("{other:?}"),
    }
    let mut moved = body.clone();
    moved["date"] = json!("2025-12-17");
    assert!(matches!(update(&deps, &t, &actor, s.id, &moved).await, Err(DomainError::Conflict(m)) if m == HAS_BOOKINGS_MOVE));
    assert!(matches!(trash(&deps, &t, &actor, s.id).await, Err(DomainError::Conflict(m)) if m == HAS_BOOKINGS_DELETE));

    // A stale slot (the schedule changed since it was read) fails on the version check.
    let later = json!({"doctor_id": 1, "date": "2025-12-16", "start_time": "10:00", "end_time": "16:00", "quota": 3});
    update(&deps, &t, &actor, s.id, &later).await.unwrap();
    assert_eq!(
        deps.table.write(hold_ops(&t, &full).to_vec()).await,
        Err(StoreError::ConditionFailed { index: 0 })
    );

    deps.table.write(vec![release_op(&t, s.id)]).await.unwrap();
    deps.table.write(vec![release_op(&t, s.id)]).await.unwrap();
    update(&deps, &t, &actor, s.id, &moved).await.unwrap();
    assert!(on_day(&deps, &t, 1, day).await.unwrap().is_empty());
    assert_eq!(on_day(&deps, &t, 1, day.succ_opt().unwrap()).await.unwrap().len(), 1);
    trash(&deps, &t, &actor, s.id).await.unwrap();
    assert!(matches!(slot(&deps, &t, s.id).await, Err(DomainError::NotFound(m)) if m == "Schedule not found"));
    assert!(on_day(&deps, &t, 1, day.succ_opt().unwrap()).await.unwrap().is_empty());
    let all = list(
        &deps,
        &t,
        &ListFilter {
            doctor_id: None,
            period: Period::Year(2025),
        },
    )
    .await
    .unwrap();
    assert!(all.is_empty());
}

#[tokio::test]
async fn racing_overlapping_creates_leave_one() {
    let (_dir, deps, t, actor) = clinic().await;
    let tries = (0..10).map(|i| {
        let (deps, t, actor) = (deps.clone(), t.clone(), actor.clone());
        tokio::spawn(async move {
            let body = json!({"doctor_id": 1, "date": "2025-12-16", "start_time": format!("{:02}:00", 8 + i % 3), "end_time": "12:00"});
            create(&deps, &t, &actor, &body).await
        })
    });
    let results: Vec<_> = futures::future::join_all(tries).await.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(matches!(r, Err(DomainError::Unprocessable(m)) if m == CONFLICT), "{r:?}");
    }
    let day = NaiveDate::from_ymd_opt(2025, 12, 16).unwrap();
    assert_eq!(
        list(
            &deps,
            &t,
            &ListFilter {
                doctor_id: Some(1),
                period: Period::Day(day)
            }
        )
        .await
        .unwrap()
        .len(),
        1
    );
}
