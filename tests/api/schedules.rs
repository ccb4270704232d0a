//! Seed section "Schedule": select (filters and their priority), detail, create, update,
//! delete (soft); overlaps, also under concurrency; booked places guarding quota and delete.
use antrean_domain::schedule::{self, hold_ops, release_op};
use antrean_domain::Tenant;
use chrono::Datelike;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;
use crate::users::staff_token;

const CONFLICT: &str = "The schedule conflicts with an existing schedule for this doctor.";
const NOT_FOUND: &str = "Schedule not found.";

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn rows(r: &crate::helpers::Reply) -> Vec<Value> {
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"].as_array().unwrap_or_else(|| panic!("{r:?}")).clone()
}

fn ids(r: &crate::helpers::Reply) -> Vec<i64> {
    rows(r).iter().map(|s| s["id"].as_i64().unwrap()).collect()
}

/// The clinic's polies and doctors: "Poli Umum" (1) and "Poli Gigi" (2); doctors `harris`
/// (user 2, Poli Umum) and `gigi` (user 3, Poli Gigi). Returns the doctors' ids.
async fn doctors(app: &TestApp, t: &str) -> (i64, i64) {
    for name in ["Poli Umum", "Poli Gigi"] {
        assert_eq!(app.post("/api/poly", t, json!({"name": name})).await.status, 200);
    }
    let mut out = vec![];
    for (name, poly) in [("harris", 1), ("gigi", 2)] {
        let r = app
            .post(
                "/api/users",
                t,
                json!({"name": name, "username": name, "email": format!("{name}@mail.com"), "password": "dokter123",
                    "password_confirmation": "dokter123", "roles": [3], "poly_id": poly}),
            )
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        out.push(r.body["data"]["id"].as_i64().unwrap());
    }
    (out[0], out[1])
}

fn body(doctor: i64, date: &str, start: &str, end: &str) -> Value {
    json!({"doctor_id": doctor.to_string(), "date": date, "start_time": start, "end_time": end})
}

async fn create(app: &TestApp, t: &str, b: Value) -> i64 {
    let r = app.post("/api/schedule", t, b).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["id"].as_i64().unwrap()
}

async fn schedule_lifecycle_matches_the_seed(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let (harris, _) = doctors(&app, &t).await;

    // The seed's create body: a string doctor id, HH:MM times, a quota.
    let r = app
        .post(
            "/api/schedule",
            &t,
            json!({"doctor_id": harris.to_string(), "date": "2025-12-16", "start_time": "10:00", "end_time": "15:00", "quota": 25}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["status"], "success");
    assert_eq!(r.body["message"], "Schedule created successfully.");
    let created = r.body["data"].clone();
    assert_eq!(
        keys(&created),
        [
            "doctor_id",
            "poly_id",
            "date",
            "start_time",
            "end_time",
            "quota",
            "updated_at",
            "created_at",
            "id"
        ]
    );
    assert_eq!(created["doctor_id"], harris);
    assert_eq!(created["poly_id"], 1, "the schedule belongs to the doctor's poly");
    assert_eq!(
        (created["start_time"].as_str(), created["end_time"].as_str()),
        (Some("10:00:00"), Some("15:00:00"))
    );
    assert_eq!(created["quota"], 25);
    assert_eq!(created["created_at"], created["updated_at"]);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(id, 1);

    let list = app.get("/api/schedule?date=2025-12-16", &t).await;
    assert_eq!(list.body["message"], "Schedules retrieved successfully.");
    let data = rows(&list);
    assert_eq!(data.len(), 1);
    let row = &data[0];
    assert_eq!(
        keys(row),
        [
            "id",
            "doctor_id",
            "poly_id",
            "date",
            "start_time",
            "end_time",
            "quota",
            "created_at",
            "updated_at",
            "deleted_at",
            "doctor"
        ]
    );
    assert_eq!(row["date"], "2025-12-16");
    assert!(row["deleted_at"].is_null());
    let doctor = &row["doctor"];
    assert_eq!(
        keys(doctor),
        [
            "id",
            "name",
            "email",
            "email_verified_at",
            "created_at",
            "updated_at",
            "poly_id",
            "username",
            "deleted_at"
        ]
    );
    assert_eq!(
        (doctor["id"].as_i64(), doctor["username"].as_str(), doctor["poly_id"].as_i64()),
        (Some(harris), Some("harris"), Some(1))
    );

    let detail = app.get(&format!("/api/schedule/{id}"), &t).await;
    assert_eq!(detail.status, 200, "{detail:?}");
    assert_eq!(detail.body["message"], "Schedule retrieved successfully.");
    assert_eq!(&detail.body["data"], row);

    // The seed's update body; `quota` absent means no limit (PUT replaces).
    let upd = app
        .put(
            &format!("/api/schedule/{id}"),
            &t,
            json!({"doctor_id": harris, "date": "2025-12-16", "start_time": "10:00:00", "end_time": "13:00"}),
        )
        .await;
    assert_eq!(upd.status, 200, "{upd:?}");
    assert_eq!(upd.body["message"], "Schedule updated successfully.");
    let updated = &upd.body["data"];
    assert_eq!(
        keys(updated),
        [
            "id",
            "doctor_id",
            "poly_id",
            "date",
            "start_time",
            "end_time",
            "quota",
            "created_at",
            "updated_at",
            "deleted_at"
        ]
    );
    assert_eq!((updated["end_time"].as_str(), updated["quota"].is_null()), (Some("13:00:00"), true));
    assert_eq!(updated["created_at"], created["created_at"]);
    assert_eq!(app.get(&format!("/api/schedule/{id}"), &t).await.body["data"]["end_time"], "13:00:00");

    let del = app.delete(&format!("/api/schedule/{id}"), &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Schedule deleted successfully."}));
    assert_error(&app.get(&format!("/api/schedule/{id}"), &t).await, 404, NOT_FOUND);
    assert_error(&app.delete(&format!("/api/schedule/{id}"), &t).await, 404, NOT_FOUND);
    assert_error(
        &app.put(&format!("/api/schedule/{id}"), &t, body(harris, "2025-12-16", "10:00", "11:00"))
            .await,
        404,
        NOT_FOUND,
    );
    assert!(rows(&app.get("/api/schedule?date=2025-12-16", &t).await).is_empty());
    // A deleted schedule frees its hours.
    create(&app, &t, body(harris, "2025-12-16", "10:00", "15:00")).await;
}

async fn date_filters_follow_the_seed_priority(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let (harris, gigi) = doctors(&app, &t).await;
    let this_year = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Jakarta).year();
    let a = create(&app, &t, body(harris, "2023-12-15", "10:00", "16:00")).await;
    let b = create(&app, &t, body(gigi, "2023-12-15", "08:00", "12:00")).await;
    let c = create(&app, &t, body(harris, "2023-12-31", "08:00", "12:00")).await;
    let d = create(&app, &t, body(harris, "2023-11-03", "08:00", "12:00")).await;
    let e = create(&app, &t, body(harris, "2022-12-15", "08:00", "12:00")).await;
    let f = create(&app, &t, body(gigi, &format!("{this_year}-03-10"), "08:00", "12:00")).await;
    let g = create(&app, &t, body(harris, &format!("{this_year}-12-01"), "08:00", "12:00")).await;

    let q = |query: &str| {
        let path = format!("/api/schedule{query}");
        let (app, t) = (&app, &t);
        async move { app.get(&path, t).await }
    };
    // An exact date wins over month and year; a day is ordered by start time.
    assert_eq!(ids(&q("?date=2023-12-15&month=11&year=2022").await), [b, a]);
    assert_eq!(ids(&q("?month=12&year=2023").await), [b, a, c]);
    assert_eq!(ids(&q("?month=11&year=2023").await), [d]);
    assert_eq!(ids(&q("?month=12&year=2022").await), [e]);
    assert_eq!(ids(&q("?year=2023").await), [d, b, a, c]);
    assert_eq!(ids(&q("?year=2022").await), [e]);
    // A month alone is that month of this year; nothing at all is this year.
    assert_eq!(ids(&q("?month=03").await), [f]);
    assert_eq!(ids(&q("?month=3").await), [f]);
    assert_eq!(ids(&q("").await), [f, g]);
    // The doctor filter comes on top.
    assert_eq!(ids(&q(&format!("?doctor_id={harris}&month=12&year=2023")).await), [a, c]);
    assert_eq!(ids(&q(&format!("?doctor_id={gigi}&date=2023-12-15")).await), [b]);
    assert_eq!(ids(&q(&format!("?doctor_id={gigi}")).await), [f]);
    assert!(ids(&q("?doctor_id=99&year=2023").await).is_empty());

    // The seed's own example URL lacks an `&`: its date is not a date.
    let r = q(&format!("?doctor_id={harris}&date=2023-12-15month=12&year=2023")).await;
    assert_error(&r, 422, "The date field must match the format Y-m-d.");
    assert_eq!(r.body["errors"], json!({"date": ["The date field must match the format Y-m-d."]}));
    let r = q("?date=2023-02-30&month=13&year=25&doctor_id=x").await;
    assert_eq!(
        r.body["errors"],
        json!({"doctor_id": ["The doctor id field must be an integer."], "date": ["The date field must be a valid date."],
            "month": ["The month field must be between 1 and 12."], "year": ["The year field must be 4 digits."]})
    );
}

async fn overlapping_schedules_are_refused(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let (harris, gigi) = doctors(&app, &t).await;
    let first = create(&app, &t, body(harris, "2025-12-16", "10:00", "15:00")).await;
    for (start, end) in [
        ("14:00", "16:00"),
        ("09:00", "10:30"),
        ("11:00", "12:00"),
        ("08:00", "18:00"),
        ("10:00", "15:00"),
    ] {
        let r = app.post("/api/schedule", &t, body(harris, "2025-12-16", start, end)).await;
        assert_eq!(r.status, 422, "{start}-{end}: {r:?}");
        assert_eq!(r.body, json!({"status": "error", "message": CONFLICT}));
    }
    // Touching ends, another doctor, another day: all fine.
    let later = create(&app, &t, body(harris, "2025-12-16", "15:00", "17:00")).await;
    create(&app, &t, body(harris, "2025-12-16", "07:00:00", "10:00:00")).await;
    create(&app, &t, body(gigi, "2025-12-16", "10:00", "15:00")).await;
    let next_day = create(&app, &t, body(harris, "2025-12-17", "10:00", "15:00")).await;

    // An update may keep or shrink its own hours, not run into another's.
    let ok = app
        .put(&format!("/api/schedule/{first}"), &t, body(harris, "2025-12-16", "10:00", "14:00"))
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let r = app
        .put(&format!("/api/schedule/{later}"), &t, body(harris, "2025-12-16", "13:00", "17:00"))
        .await;
    assert_eq!(r.body, json!({"status": "error", "message": CONFLICT}));
    let r = app
        .put(&format!("/api/schedule/{next_day}"), &t, body(harris, "2025-12-16", "11:00", "12:00"))
        .await;
    assert_eq!(r.body, json!({"status": "error", "message": CONFLICT}));
    // Moved to a free slot of the other day, it leaves its old hours free.
    let moved = app
        .put(&format!("/api/schedule/{next_day}"), &t, body(harris, "2025-12-16", "17:00", "19:00"))
        .await;
    assert_eq!(moved.status, 200, "{moved:?}");
    create(&app, &t, body(harris, "2025-12-17", "10:00", "15:00")).await;
    let refused = app.get(&format!("/api/schedule/{later}"), &t).await;
    assert_eq!(refused.body["data"]["start_time"], "15:00:00", "a refused update changes nothing");
}

async fn concurrent_overlapping_creates_leave_one(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let (harris, _) = doctors(&app, &t).await;
    let tries = (0..10).map(|i| {
        let start = format!("{:02}:{:02}", 9 + i % 3, (i * 7) % 60);
        app.post("/api/schedule", &t, body(harris, "2025-12-16", &start, "12:30"))
    });
    let replies = join_all(tries).await;
    let won: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(won.len(), 1, "{replies:?}");
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(r.body, json!({"status": "error", "message": CONFLICT}), "{r:?}");
    }
    assert_eq!(
        ids(&app.get("/api/schedule?date=2025-12-16", &t).await),
        [won[0].body["data"]["id"].as_i64().unwrap()]
    );
    // Racing updates into one free slot: also one wins.
    let a = create(&app, &t, body(harris, "2025-12-17", "08:00", "09:00")).await;
    let b = create(&app, &t, body(harris, "2025-12-18", "08:00", "09:00")).await;
    let paths = [a, b].map(|id| format!("/api/schedule/{id}"));
    let replies = join_all(paths.iter().map(|p| app.put(p, &t, body(harris, "2025-12-16", "14:00", "15:00")))).await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1, "{replies:?}");
    assert_eq!(rows(&app.get("/api/schedule?date=2025-12-16", &t).await).len(), 2);
}

async fn bad_input_gets_the_seed_errors_and_changes_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let (harris, _) = doctors(&app, &t).await;
    // A doctor without a poly, and a nurse.
    let nopoly = app
        .post(
            "/api/users",
            &t,
            json!({"name": "Tanpa Poli", "username": "tanpa", "email": "tanpa@mail.com", "password": "dokter123",
            "password_confirmation": "dokter123", "roles": [3]}),
        )
        .await;
    let nopoly = nopoly.body["data"]["id"].as_i64().unwrap_or_else(|| panic!("{nopoly:?}"));
    let nurse = app
        .post(
            "/api/users",
            &t,
            json!({"name": "Suster", "username": "suster", "email": "suster@mail.com", "password": "dokter123",
            "password_confirmation": "dokter123", "roles": [4], "poly_id": 1}),
        )
        .await;
    let nurse = nurse.body["data"]["id"].as_i64().unwrap_or_else(|| panic!("{nurse:?}"));

    let r = app.post("/api/schedule", &t, json!({})).await;
    assert_error(&r, 422, "The doctor id field is required.");
    assert_eq!(
        r.body["errors"],
        json!({"doctor_id": ["The doctor id field is required."], "date": ["The date field is required."],
            "start_time": ["The start time field is required."], "end_time": ["The end time field is required."]})
    );
    let r = app
        .post(
            "/api/schedule",
            &t,
            json!({"doctor_id": 99, "date": "2025-02-30", "start_time": "10:00", "end_time": "09:00", "quota": 0}),
        )
        .await;
    assert_error(&r, 422, "The selected doctor id is invalid.");
    assert_eq!(
        r.body["errors"],
        json!({"doctor_id": ["The selected doctor id is invalid."], "date": ["The date field must be a valid date."],
            "end_time": ["The end time field must be a time after start time."], "quota": ["The quota field must be at least 1."]})
    );
    let field_error = |b: Value, field: &'static str, message: &'static str| {
        let app = &app;
        let t = &t;
        async move {
            let r = app.post("/api/schedule", t, b.clone()).await;
            assert_error(&r, 422, message);
            assert_eq!(r.body["errors"], json!({field: [message]}), "{b}");
        }
    };
    let ok = |f: &str, v: Value| {
        let mut b = body(harris, "2025-12-16", "10:00", "15:00");
        b[f] = v;
        b
    };
    field_error(ok("doctor_id", json!(1)), "doctor_id", "The selected doctor id is not a doctor.").await;
    field_error(ok("doctor_id", json!(nurse)), "doctor_id", "The selected doctor id is not a doctor.").await;
    field_error(ok("doctor_id", json!(nopoly)), "doctor_id", "The selected doctor has no poly.").await;
    field_error(ok("doctor_id", json!("tiga")), "doctor_id", "The doctor id field must be an integer.").await;
    field_error(ok("date", json!("16-12-2025")), "date", "The date field must match the format Y-m-d.").await;
    field_error(ok("date", json!("2025-13-01")), "date", "The date field must be a valid date.").await;
    field_error(
        ok("start_time", json!("10.00")),
        "start_time",
        "The start time field must match the format H:i or H:i:s.",
    )
    .await;
    field_error(
        ok("end_time", json!("24:00")),
        "end_time",
        "The end time field must match the format H:i or H:i:s.",
    )
    .await;
    field_error(
        ok("end_time", json!("10:00:00")),
        "end_time",
        "The end time field must be a time after start time.",
    )
    .await;
    field_error(ok("quota", json!("banyak")), "quota", "The quota field must be an integer.").await;
    field_error(ok("quota", json!(-1)), "quota", "The quota field must be at least 1.").await;
    let raw = app
        .client
        .post(format!("{}/api/schedule", app.base))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"date\":")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert!(rows(&app.get("/api/schedule?year=2025", &t).await).is_empty(), "nothing was stored");

    // A deleted doctor, or one whose poly was deleted, can no longer be scheduled.
    let gigi_poly = app.delete("/api/poly/2", &t).await;
    assert_eq!(gigi_poly.status, 200, "{gigi_poly:?}");
    field_error(ok("doctor_id", json!(3)), "doctor_id", "The selected doctor's poly has been deleted.").await;
    assert_eq!(app.delete(&format!("/api/users/{harris}"), &t).await.status, 200);
    field_error(ok("doctor_id", json!(harris)), "doctor_id", "The selected doctor id is invalid.").await;

    // An update with a bad body changes nothing either.
    let r = app.post(&format!("/api/users/{harris}/restore"), &t, json!(null)).await;
    assert_eq!(r.status, 200, "{r:?}");
    let id = create(&app, &t, body(harris, "2025-12-16", "10:00", "15:00")).await;
    let r = app
        .put(
            &format!("/api/schedule/{id}"),
            &t,
            json!({"doctor_id": harris, "date": "2025-12-16", "start_time": "16:00", "end_time": "15:00"}),
        )
        .await;
    assert_error(&r, 422, "The end time field must be a time after start time.");
    assert_eq!(app.get(&format!("/api/schedule/{id}"), &t).await.body["data"]["start_time"], "10:00:00");
}

async fn unknown_and_foreign_ids_are_404(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let (harris, _) = doctors(&app, &t).await;
    let id = create(&app, &t, body(harris, "2025-12-16", "10:00", "15:00")).await;
    for path in ["/api/schedule/999", "/api/schedule/abc", "/api/schedule/0", "/api/schedule/-1"] {
        assert_error(&app.get(path, &t).await, 404, NOT_FOUND);
        assert_error(&app.put(path, &t, body(harris, "2025-12-16", "16:00", "17:00")).await, 404, NOT_FOUND);
        assert_error(&app.delete(path, &t).await, 404, NOT_FOUND);
    }
    // Another clinic sees none of it, and cannot use this clinic's doctor.
    let other = app.new_clinic("sehat").await;
    assert_error(&app.get(&format!("/api/schedule/{id}"), &other).await, 404, NOT_FOUND);
    assert_error(
        &app.put(&format!("/api/schedule/{id}"), &other, body(harris, "2025-12-16", "10:00", "15:00"))
            .await,
        404,
        NOT_FOUND,
    );
    assert_error(&app.delete(&format!("/api/schedule/{id}"), &other).await, 404, NOT_FOUND);
    assert!(rows(&app.get("/api/schedule?date=2025-12-16", &other).await).is_empty());
    let r = app.post("/api/schedule", &other, body(harris, "2025-12-16", "10:00", "15:00")).await;
    assert_error(&r, 422, "The selected doctor id is invalid.");
    assert_eq!(
        app.get(&format!("/api/schedule/{id}"), &t).await.status,
        200,
        "still there in its own clinic"
    );
}

async fn permissions_are_checked(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let (harris, _) = doctors(&app, &t).await;
    let id = create(&app, &t, body(harris, "2025-12-16", "10:00", "15:00")).await;
    // Perawat Asisten (5) sees schedules; Administrasi (6) manages them.
    let viewer = staff_token(&app, &t, "asisten", json!([5])).await;
    assert_eq!(app.get("/api/schedule?date=2025-12-16", &viewer).await.status, 200);
    assert_eq!(app.get(&format!("/api/schedule/{id}"), &viewer).await.status, 200);
    assert_error(
        &app.post("/api/schedule", &viewer, body(harris, "2025-12-17", "10:00", "15:00")).await,
        403,
        "This action is unauthorized.",
    );
    assert_error(
        &app.put(&format!("/api/schedule/{id}"), &viewer, body(harris, "2025-12-16", "10:00", "11:00"))
            .await,
        403,
        "This action is unauthorized.",
    );
    assert_error(
        &app.delete(&format!("/api/schedule/{id}"), &viewer).await,
        403,
        "This action is unauthorized.",
    );
    let admin = staff_token(&app, &t, "administrasi", json!([6])).await;
    assert_eq!(
        app.post("/api/schedule", &admin, body(harris, "2025-12-17", "10:00", "15:00"))
            .await
            .status,
        200
    );
    // A role without schedules.view sees nothing.
    let r = app.post("/api/roles", &t, json!({"name": "kasir", "permissions": ["poly.view"]})).await;
    let role = r.body["data"]["id"].clone();
    let nobody = staff_token(&app, &t, "kasir", json!([role])).await;
    assert_error(&app.get("/api/schedule", &nobody).await, 403, "This action is unauthorized.");
    assert_error(
        &app.get(&format!("/api/schedule/{id}"), &nobody).await,
        403,
        "This action is unauthorized.",
    );
    assert_error(&app.call(reqwest::Method::GET, "/api/schedule", None, None).await, 401, "Unauthenticated");
}

/// Booked places come from reservations; here they are taken through the domain's own
/// `hold_ops`, exactly as the reservation engine takes them.
async fn booked_places_guard_quota_moves_and_delete(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let (harris, gigi) = doctors(&app, &t).await;
    let mut b = body(harris, "2025-12-16", "10:00", "15:00");
    b["quota"] = json!(5);
    let id = create(&app, &t, b.clone()).await;
    let deps = app.deps().await;
    let tenant = Tenant::parse("default").unwrap();
    for _ in 0..3 {
        let slot = schedule::slot(&deps, &tenant, id).await.unwrap();
        deps.table.write(hold_ops(&tenant, &slot).to_vec()).await.unwrap();
    }
    assert_eq!(schedule::slot(&deps, &tenant, id).await.unwrap().booked, 3);

    let path = format!("/api/schedule/{id}");
    b["quota"] = json!(2);
    assert_error(
        &app.put(&path, &t, b.clone()).await,
        409,
        "The schedule has 3 booked reservations; the quota cannot be lower than that.",
    );
    let moved = "The schedule has booked reservations; its date, doctor and poly cannot be changed.";
    let mut other_day = b.clone();
    other_day["date"] = json!("2025-12-17");
    other_day["quota"] = json!(5);
    assert_error(&app.put(&path, &t, other_day.clone()).await, 409, moved);
    let mut other_doctor = other_day.clone();
    other_doctor["date"] = json!("2025-12-16");
    other_doctor["doctor_id"] = json!(gigi);
    assert_error(&app.put(&path, &t, other_doctor).await, 409, moved);
    assert_error(
        &app.delete(&path, &t).await,
        409,
        "The schedule has booked reservations and cannot be deleted.",
    );
    assert_eq!(app.get(&path, &t).await.body["data"]["quota"], 5, "refusals change nothing");

    // Down to the booked count, other hours, or no limit at all: fine.
    b["quota"] = json!(3);
    b["end_time"] = json!("16:00");
    assert_eq!(app.put(&path, &t, b.clone()).await.status, 200);
    let full = schedule::slot(&deps, &tenant, id).await.unwrap();
    assert!(!full.has_room());
    b["quota"] = Value::Null;
    let r = app.put(&path, &t, b.clone()).await;
    assert_eq!((r.status.as_u16(), r.body["data"]["quota"].clone()), (200, Value::Null), "{r:?}");

    for _ in 0..3 {
        deps.table.write(vec![release_op(&tenant, id)]).await.unwrap();
    }
    assert_eq!(app.put(&path, &t, other_day).await.status, 200);
    assert_eq!(app.delete(&path, &t).await.status, 200);
}

on_both_stores!(
    schedule_lifecycle_matches_the_seed,
    date_filters_follow_the_seed_priority,
    overlapping_schedules_are_refused,
    concurrent_overlapping_creates_leave_one,
    bad_input_gets_the_seed_errors_and_changes_nothing,
    unknown_and_foreign_ids_are_404,
    permissions_are_checked,
    booked_places_guard_quota_moves_and_delete,
);
