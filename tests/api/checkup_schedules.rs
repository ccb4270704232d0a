//! Seed section "Checkup Schedule": select (filters, pages, `meta`), detail, create, update,
//! delete (soft), each with the nested `patient` and `poly`.
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Reply, Store, TestApp};
use crate::on_both_stores;
use crate::patients::seed_patients;

const URL: &str = "/api/checkup-schedule";
const VIEW_KEYS: [&str; 10] = ["id", "patient_id", "poly_id", "date", "description", "created_at", "updated_at", "deleted_at", "patient", "poly"];
const PATIENT_KEYS: [&str; 9] = ["id", "patient_name", "no_bpjs", "whatsapp_number", "email", "chat_id", "created_at", "updated_at", "deleted_at"];

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(String::as_str).collect()
}

fn ids(r: &Reply) -> Vec<i64> {
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"].as_array().unwrap_or_else(|| panic!("{r:?}")).iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

/// Poli Umum (1), Poli Gigi (2) and the seed's patients Saipul Anwar (1), Rachmat Hidayat (2), Ansori (3).
async fn clinic(store: Store) -> (TestApp, String) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    for name in ["Poli Umum", "Poli Gigi"] {
        assert_eq!(app.post("/api/poly", &t, json!({"name": name})).await.status, 200);
    }
    seed_patients(&app.deps().await).await;
    (app, t)
}

async fn create(app: &TestApp, t: &str, body: Value) -> Value {
    let r = app.post(URL, t, body).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"].clone()
}

async fn checkup_lifecycle_matches_the_seed(store: Store) {
    let (app, t) = clinic(store).await;
    let r = app.post(URL, &t, json!({"patient_id": 2, "poly_id": 2, "date": "2026-01-15", "description": "Routine dental check-up"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Checkup schedule created successfully");
    let created = &r.body["data"];
    assert_eq!(keys(created), ["patient_id", "poly_id", "date", "description", "updated_at", "created_at", "id", "patient", "poly"]);
    assert_eq!(
        (&created["id"], &created["patient_id"], &created["poly_id"], &created["date"]),
        (&json!(1), &json!(2), &json!(2), &json!("2026-01-15"))
    );
    assert_eq!(created["description"], "Routine dental check-up");
    assert_eq!(keys(&created["patient"]), PATIENT_KEYS);
    assert_eq!((&created["patient"]["id"], &created["patient"]["patient_name"]), (&json!(2), &json!("Rachmat Hidayat")));
    assert_eq!(created["patient"]["whatsapp_number"], "6281234567891");
    assert_eq!(keys(&created["poly"]), ["id", "name", "created_at", "updated_at", "deleted_at"]);
    assert_eq!(created["poly"]["name"], "Poli Gigi");

    let list = app.get(URL, &t).await;
    assert_eq!(keys(&list.body), ["status", "message", "data", "meta"], "{list:?}");
    assert_eq!(list.body["message"], "Checkup schedules retrieved successfully");
    assert_eq!(keys(&list.body["meta"]), ["current_page", "per_page", "total", "last_page"]);
    assert_eq!(list.body["meta"], json!({"current_page": 1, "per_page": 10, "total": 1, "last_page": 1}));
    let row = &list.body["data"][0];
    assert_eq!(keys(row), VIEW_KEYS);
    assert!(row["deleted_at"].is_null());
    assert_eq!((&row["patient"], &row["poly"], &row["created_at"]), (&created["patient"], &created["poly"], &created["created_at"]));

    let detail = app.get(&format!("{URL}/1"), &t).await;
    assert_eq!(detail.body["message"], "Checkup schedule retrieved successfully", "{detail:?}");
    assert_eq!(detail.body["data"], *row);

    let upd = app.put(&format!("{URL}/1"), &t, json!({"description": "Routine dental check-up (updated)"})).await;
    assert_eq!(upd.status, 200, "{upd:?}");
    assert_eq!(upd.body["message"], "Checkup schedule updated successfully");
    let d = &upd.body["data"];
    assert_eq!(keys(d), VIEW_KEYS);
    assert_eq!(d["description"], "Routine dental check-up (updated)");
    assert_eq!((&d["patient_id"], &d["poly_id"], &d["date"], &d["created_at"]), (&json!(2), &json!(2), &json!("2026-01-15"), &created["created_at"]));
    // The seed's own update example sends a config's fields: nothing of the schedule changes.
    let odd = app.put(&format!("{URL}/1"), &t, json!({"name": "clinic_timezone", "value": "Asia/Jakarta"})).await;
    assert_eq!(odd.status, 200, "{odd:?}");
    assert_eq!((&odd.body["data"]["description"], &odd.body["data"]["date"]), (&d["description"], &d["date"]));
    // A full body moves everything; a null description clears it.
    let full = app.put(&format!("{URL}/1"), &t, json!({"patient_id": "1", "poly_id": 1, "date": "2026-02-01", "description": null})).await;
    let f = &full.body["data"];
    assert_eq!((&f["patient_id"], &f["poly_id"], &f["date"]), (&json!(1), &json!(1), &json!("2026-02-01")), "{full:?}");
    assert!(f["description"].is_null());
    assert_eq!((&f["patient"]["patient_name"], &f["poly"]["name"]), (&json!("Saipul Anwar"), &json!("Poli Umum")));

    // A deleted poly shows as null; the schedule can still be edited without naming it again.
    assert_eq!(app.delete("/api/poly/1", &t).await.status, 200);
    assert!(app.get(&format!("{URL}/1"), &t).await.body["data"]["poly"].is_null());
    assert_eq!(app.put(&format!("{URL}/1"), &t, json!({"description": "x"})).await.status, 200);
    let again = app.put(&format!("{URL}/1"), &t, json!({"poly_id": 1})).await;
    assert_error(&again, 422, "The selected poly id is invalid.");

    let del = app.delete(&format!("{URL}/1"), &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Checkup schedule deleted successfully"}));
    assert_error(&app.get(&format!("{URL}/1"), &t).await, 404, "Checkup schedule not found");
    assert_error(&app.delete(&format!("{URL}/1"), &t).await, 404, "Checkup schedule not found");
    assert_error(&app.put(&format!("{URL}/1"), &t, json!({"description": "y"})).await, 404, "Checkup schedule not found");
    let empty = app.get(&format!("{URL}?patient_id=1&date=2026-02-01"), &t).await;
    assert!(ids(&empty).is_empty());
    assert_eq!(app.get(URL, &t).await.body["meta"]["total"], 0);
}

async fn checkup_input_errors_change_nothing(store: Store) {
    let (app, t) = clinic(store).await;
    let r = app.post(URL, &t, json!({})).await;
    assert_error(&r, 422, "The patient id field is required.");
    assert_eq!(
        r.body["errors"],
        json!({"patient_id": ["The patient id field is required."], "poly_id": ["The poly id field is required."], "date": ["The date field is required."]})
    );
    // The seed's error.
    let r = app.post(URL, &t, json!({"patient_id": 12, "poly_id": 2, "date": "2026-01-15", "description": "Routine dental check-up"})).await;
    assert_eq!(
        r.body,
        json!({"status": "error", "message": "The selected patient id is invalid.", "errors": {"patient_id": ["The selected patient id is invalid."]}})
    );
    assert_eq!(r.status, 422);
    let r = app.post(URL, &t, json!({"patient_id": 99, "poly_id": 42, "date": "2026-02-30", "description": 5})).await;
    assert_eq!(
        r.body["errors"],
        json!({"patient_id": ["The selected patient id is invalid."], "poly_id": ["The selected poly id is invalid."],
               "date": ["The date field must be a valid date in the format Y-m-d."], "description": ["The description field must be a string."]}),
        "{r:?}"
    );
    let r = app.post(URL, &t, json!({"patient_id": "abc", "poly_id": 1.5, "date": "15-01-2026", "description": "x".repeat(1001)})).await;
    assert_eq!(
        r.body["errors"],
        json!({"patient_id": ["The patient id field must be an integer."], "poly_id": ["The poly id field must be an integer."],
               "date": ["The date field must be a valid date in the format Y-m-d."], "description": ["The description field must not be greater than 1000 characters."]}),
        "{r:?}"
    );
    let raw = app
        .client
        .post(format!("{}{URL}", app.base))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"patient_id\":")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    // A deleted poly cannot be chosen.
    app.post("/api/poly", &t, json!({"name": "Poli Anak"})).await;
    assert_eq!(app.delete("/api/poly/3", &t).await.status, 200);
    assert_error(&app.post(URL, &t, json!({"patient_id": 1, "poly_id": 3, "date": "2026-01-15"})).await, 422, "The selected poly id is invalid.");
    // Another clinic's patient and poly are unknown here.
    let other = app.new_clinic("sehat").await;
    let r = app.post(URL, &other, json!({"patient_id": 1, "poly_id": 1, "date": "2026-01-15"})).await;
    assert_eq!(
        r.body["errors"],
        json!({"patient_id": ["The selected patient id is invalid."], "poly_id": ["The selected poly id is invalid."]}),
        "{r:?}"
    );

    assert_eq!(app.get(URL, &t).await.body["meta"]["total"], 0, "nothing above was stored");
    let first = create(&app, &t, json!({"patient_id": 1, "poly_id": 1, "date": "2026-01-15", "description": "Kontrol"})).await;
    assert_eq!(first["id"], 1, "the failed creates burned no id");
    let one = format!("{URL}/1");
    let before = app.get(&one, &t).await.body["data"].clone();
    for (body, field, message) in [
        (json!({"patient_id": 99}), "patient_id", "The selected patient id is invalid."),
        (json!({"poly_id": 3}), "poly_id", "The selected poly id is invalid."),
        (json!({"poly_id": null}), "poly_id", "The poly id field is required."),
        (json!({"date": "2026/01/20"}), "date", "The date field must be a valid date in the format Y-m-d."),
        (json!({"date": ""}), "date", "The date field is required."),
        (json!({"description": ["x"]}), "description", "The description field must be a string."),
    ] {
        let r = app.put(&one, &t, body).await;
        assert_error(&r, 422, message);
        assert_eq!(r.body["errors"], json!({field: [message]}));
    }
    assert_error(&app.put(&format!("{URL}/99"), &t, json!({"patient_id": 99})).await, 404, "Checkup schedule not found");
    assert_error(&app.put(&format!("{URL}/abc"), &t, json!({})).await, 404, "Checkup schedule not found");
    assert_error(&app.get(&format!("{URL}/0"), &t).await, 404, "Checkup schedule not found");
    assert_error(&app.delete(&format!("{URL}/99"), &t).await, 404, "Checkup schedule not found");
    assert_eq!(app.get(&one, &t).await.body["data"], before, "nothing above changed the schedule");
    for (q, field, message) in [
        ("patient_id=abc", "patient_id", "The patient id field must be an integer."),
        ("poly_id=-1", "poly_id", "The poly id field must be an integer."),
        ("date=2026-02-30", "date", "The date field must be a valid date in the format Y-m-d."),
        ("per_page=101", "per_page", "The per page field must not be greater than 100."),
    ] {
        let r = app.get(&format!("{URL}?{q}"), &t).await;
        assert_error(&r, 422, message);
        assert_eq!(r.body["errors"], json!({field: [message]}));
    }
}

async fn checkup_filters_search_and_pages(store: Store) {
    let (app, t) = clinic(store).await;
    for (patient, poly, date, description) in [
        (1, 1, "2026-01-10", Some("Kontrol gula darah")),
        (2, 2, "2026-01-15", Some("Routine dental check-up")),
        (3, 2, "2026-01-15", Some("Scaling")),
        (1, 2, "2026-01-20", None),
        (2, 1, "2026-01-10", Some("Kontrol tensi")),
        (1, 1, "2026-02-01", Some("Kontrol lanjutan")),
    ] {
        create(&app, &t, json!({"patient_id": patient, "poly_id": poly, "date": date, "description": description})).await;
    }
    let q = |query: &str| format!("{URL}?{query}");
    let all = app.get(URL, &t).await;
    assert_eq!(ids(&all), [6, 4, 3, 2, 5, 1], "newest date first, then newest id");
    assert_eq!(all.body["meta"], json!({"current_page": 1, "per_page": 10, "total": 6, "last_page": 1}));
    let p2 = app.get(&q("per_page=4&page=2"), &t).await;
    assert_eq!(ids(&p2), [5, 1]);
    assert_eq!(p2.body["meta"], json!({"current_page": 2, "per_page": 4, "total": 6, "last_page": 2}));
    assert!(ids(&app.get(&q("per_page=4&page=3"), &t).await).is_empty());
    // Nested objects on every row of a page, each the right one.
    for row in all.body["data"].as_array().unwrap() {
        assert_eq!(row["patient"]["id"], row["patient_id"]);
        assert_eq!(row["poly"]["id"], row["poly_id"]);
    }

    for (query, expected) in [
        ("patient_id=1", vec![6, 4, 1]),
        ("patient_id=1&poly_id=1", vec![6, 1]),
        ("patient_id=1&date=2026-01-10", vec![1]),
        ("poly_id=2", vec![4, 3, 2]),
        ("poly_id=2&date=2026-01-15", vec![3, 2]),
        ("date=2026-01-15", vec![3, 2]),
        ("date=2026-03-01", vec![]),
        ("patient_id=99", vec![]),
        ("patient_id=&poly_id=&date=&search=", vec![6, 4, 3, 2, 5, 1]),
        ("search=saipul", vec![6, 4, 1]),
        ("search=kontrol", vec![6, 5, 1]),
        ("search=SCAL", vec![3]),
        ("search=gigi", vec![4, 3, 2]),
        ("search=0812345678", vec![6, 4, 3, 2, 5, 1]),
        ("search=rachmat&poly_id=1", vec![5]),
        ("search=kontrol&date=2026-01-10&per_page=1&page=2", vec![1]),
    ] {
        assert_eq!(ids(&app.get(&q(query), &t).await), expected, "{query}");
    }
    assert_eq!(
        app.get(&q("search=kontrol&per_page=1"), &t).await.body["meta"],
        json!({"current_page": 1, "per_page": 1, "total": 3, "last_page": 3})
    );

    // Changes move the schedule between the filters.
    assert_eq!(app.put(&format!("{URL}/2"), &t, json!({"date": "2026-03-01"})).await.status, 200);
    assert_eq!(ids(&app.get(&q("date=2026-01-15"), &t).await), [3]);
    assert_eq!(ids(&app.get(&q("date=2026-03-01"), &t).await), [2]);
    assert_eq!(ids(&app.get(&q("poly_id=2"), &t).await), [2, 4, 3]);
    assert_eq!(app.put(&format!("{URL}/3"), &t, json!({"patient_id": 1, "poly_id": 1, "description": "Tambal"})).await.status, 200);
    assert!(ids(&app.get(&q("patient_id=3"), &t).await).is_empty());
    assert_eq!(ids(&app.get(&q("patient_id=1"), &t).await), [6, 4, 3, 1]);
    assert_eq!(ids(&app.get(&q("poly_id=2"), &t).await), [2, 4]);
    assert!(ids(&app.get(&q("search=scaling"), &t).await).is_empty());
    assert_eq!(ids(&app.get(&q("search=tambal"), &t).await), [3]);
    assert_eq!(app.delete(&format!("{URL}/6"), &t).await.status, 200);
    assert_eq!(ids(&app.get(&q("patient_id=1"), &t).await), [4, 3, 1]);
    assert!(ids(&app.get(&q("date=2026-02-01"), &t).await).is_empty());
    assert_eq!(ids(&app.get(&q("search=kontrol"), &t).await), [5, 1]);
    assert_eq!(ids(&app.get(URL, &t).await), [2, 4, 3, 5, 1]);
}

async fn checkups_are_per_clinic_and_need_permissions(store: Store) {
    let (app, admin) = clinic(store).await;
    let first = create(&app, &admin, json!({"patient_id": 1, "poly_id": 1, "date": "2026-01-15"})).await;
    let one = format!("{URL}/1");
    let other = app.new_clinic("sehat").await;
    assert_error(&app.get(&one, &other).await, 404, "Checkup schedule not found");
    assert_error(&app.put(&one, &other, json!({"description": "x"})).await, 404, "Checkup schedule not found");
    assert_error(&app.delete(&one, &other).await, 404, "Checkup schedule not found");
    assert_eq!(app.get(URL, &other).await.body["meta"]["total"], 0);
    assert!(ids(&app.get(&format!("{URL}?patient_id=1"), &other).await).is_empty());

    // Kepala Klinik (role 2) sees check-ups but does not change them.
    let head = crate::users::staff_token(&app, &admin, "kepala", json!([2])).await;
    assert_eq!(ids(&app.get(URL, &head).await), [1]);
    assert_eq!(app.get(&one, &head).await.status, 200);
    let body = json!({"patient_id": 1, "poly_id": 1, "date": "2026-01-20", "description": "x"});
    for (method, path) in [(Method::POST, URL), (Method::PUT, one.as_str()), (Method::DELETE, one.as_str())] {
        assert_error(&app.call(method, path, Some(&head), Some(body.clone())).await, 403, "This action is unauthorized.");
    }
    // A key that may only see polies sees no check-ups.
    let key = app.post("/api/auth/permanent-token", &admin, json!({"permissions": ["poly.view"]})).await.body["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    for (method, path) in
        [(Method::GET, URL), (Method::GET, one.as_str()), (Method::POST, URL), (Method::PUT, one.as_str()), (Method::DELETE, one.as_str())]
    {
        assert_error(&app.call(method, path, Some(&key), Some(body.clone())).await, 403, "This action is unauthorized.");
    }
    let after = app.get(&one, &admin).await.body["data"].clone();
    assert_eq!((&after["date"], &after["updated_at"]), (&first["date"], &first["updated_at"]), "nothing above changed it");
    assert_eq!(app.get(URL, &admin).await.body["meta"]["total"], 1);
}

on_both_stores!(
    checkup_lifecycle_matches_the_seed,
    checkup_input_errors_change_nothing,
    checkup_filters_search_and_pages,
    checkups_are_per_clinic_and_need_permissions,
);
