//! Seed section "Poly": select, detail, create, update, delete (soft), trashed, restore.
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;

fn is_seed_timestamp(v: &serde_json::Value) -> bool {
    // 2025-12-13T13:15:15.000000Z
    let s = v.as_str().unwrap_or("");
    s.len() == 27 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[19] == b'.'
}

async fn poly_lifecycle_matches_the_seed(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let r = app.post("/api/poly", &t, json!({"name": "umum"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Poly created successfully");
    let created = &r.body["data"];
    assert_eq!(created["name"], "umum");
    assert_eq!(created["id"], 1);
    assert!(is_seed_timestamp(&created["created_at"]) && is_seed_timestamp(&created["updated_at"]), "{created}");
    app.post("/api/poly", &t, json!({"name": "gigi"})).await;

    let list = app.get("/api/poly", &t).await;
    assert_eq!(list.body["status"], "success");
    let names: Vec<_> = list.body["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["gigi", "umum"]);
    assert!(list.body["data"][0]["deleted_at"].is_null());
    let found = app.get("/api/poly?search=UM", &t).await;
    assert_eq!(found.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(found.body["data"][0]["name"], "umum");

    let detail = app.get("/api/poly/1", &t).await;
    assert_eq!(detail.body["data"]["name"], "umum");
    assert_eq!(detail.body["data"]["id"], 1);

    let upd = app.put("/api/poly/1", &t, json!({"name": "Poli Umum"})).await;
    assert_eq!(upd.status, 200, "{upd:?}");
    assert_eq!(upd.body["message"], "Poly updated successfully");
    assert_eq!(upd.body["data"]["name"], "Poli Umum");
    assert_eq!(upd.body["data"]["created_at"], created["created_at"]);

    let del = app.delete("/api/poly/1", &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Poly deleted successfully"}));
    assert_error(&app.get("/api/poly/1", &t).await, 404, "Poly not found");
    assert_error(&app.delete("/api/poly/1", &t).await, 404, "Poly not found");
    let trashed = app.get("/api/poly/trashed", &t).await;
    assert_eq!(trashed.body["data"].as_array().unwrap().len(), 1);
    assert!(is_seed_timestamp(&trashed.body["data"][0]["deleted_at"]));
    assert_eq!(app.get("/api/poly", &t).await.body["data"].as_array().unwrap().len(), 1);

    let restored = app.post("/api/poly/1/restore", &t, json!(null)).await;
    assert_eq!(restored.body["message"], "Poly restored successfully");
    assert!(restored.body["data"]["deleted_at"].is_null());
    assert_error(&app.post("/api/poly/1/restore", &t, json!(null)).await, 404, "Poly not found or not deleted");
    assert_error(&app.post("/api/poly/99/restore", &t, json!(null)).await, 404, "Poly not found or not deleted");
}

async fn poly_input_errors_change_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let r = app.post("/api/poly", &t, json!({})).await;
    assert_error(&r, 422, "The name field is required.");
    assert_eq!(r.body["errors"], json!({"name": ["The name field is required."]}));
    assert_error(&app.post("/api/poly", &t, json!({"name": "   "})).await, 422, "The name field is required.");
    assert_error(&app.post("/api/poly", &t, json!({"name": 12})).await, 422, "The name field must be a string.");
    assert_error(&app.post("/api/poly", &t, json!({"name": "x".repeat(256)})).await, 422, "The name field must not be greater than 255 characters.");
    let raw = app.client.post(format!("{}/api/poly", app.base)).bearer_auth(&t).header("content-type", "application/json").body("{\"name\":").send().await.unwrap();
    assert_eq!(raw.status(), 400);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body, json!({"status": "error", "message": "The request body is not valid JSON."}));

    app.post("/api/poly", &t, json!({"name": "umum"})).await;
    let dup = app.post("/api/poly", &t, json!({"name": " UMUM "})).await;
    assert_error(&dup, 422, "The name has already been taken.");
    assert_eq!(dup.body["errors"], json!({"name": ["The name has already been taken."]}));
    app.post("/api/poly", &t, json!({"name": "gigi"})).await;
    assert_error(&app.put("/api/poly/2", &t, json!({"name": "Umum"})).await, 422, "The name has already been taken.");
    assert_error(&app.put("/api/poly/99", &t, json!({"name": "baru"})).await, 404, "Poly not found");
    assert_error(&app.get("/api/poly/abc", &t).await, 404, "Poly not found");
    // Nothing above changed anything: two polies, original names; the failed attempts burned no id.
    let names: Vec<_> = app.get("/api/poly", &t).await.body["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["gigi", "umum"]);
    assert_eq!(app.post("/api/poly", &t, json!({"name": "anak"})).await.body["data"]["id"], 3);
    // A renamed poly frees its old name.
    assert_eq!(app.put("/api/poly/2", &t, json!({"name": "Gigi & Mulut"})).await.status, 200);
    assert_eq!(app.post("/api/poly", &t, json!({"name": "gigi"})).await.status, 200);
}

async fn twenty_concurrent_creates_of_one_name_give_one_poly(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let replies = join_all((0..20).map(|_| app.post("/api/poly", &t, json!({"name": "Poli Anak"})))).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let taken = replies.iter().filter(|r| r.status == 422 && r.body["message"] == "The name has already been taken.").count();
    assert_eq!((ok, taken), (1, 19), "{replies:?}");
    assert_eq!(app.get("/api/poly", &t).await.body["data"].as_array().unwrap().len(), 1);
}

async fn concurrent_creates_of_different_names_get_distinct_sequential_ids(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let replies = join_all((0..20).map(|i| {
        let t = t.clone();
        let app = &app;
        async move { app.post("/api/poly", &t, json!({"name": format!("Poli {i}")})).await }
    }))
    .await;
    let mut ids: Vec<i64> = replies.iter().map(|r| r.body["data"]["id"].as_i64().unwrap_or_else(|| panic!("{r:?}"))).collect();
    ids.sort();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>());
}

async fn roles_without_permission_get_403(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    // An API key that may only view polies stands in for a view-only role.
    let key = app.post("/api/auth/permanent-token", &admin, json!({"permissions": ["poly.view"]})).await.body["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.get("/api/poly", &key).await.status, 200);
    for (method, path) in [(Method::POST, "/api/poly"), (Method::PUT, "/api/poly/1"), (Method::DELETE, "/api/poly/1"), (Method::GET, "/api/poly/trashed"), (Method::POST, "/api/poly/1/restore")] {
        let r = app.call(method.clone(), path, Some(&key), Some(json!({"name": "x"}))).await;
        assert_error(&r, 403, "This action is unauthorized.");
    }
}

async fn records_survive_a_restart(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    app.post("/api/poly", &t, json!({"name": "umum"})).await;
    let app = app.restart().await;
    // The same signing secret and sessions: the old token still works.
    assert_eq!(app.get("/api/poly/1", &t).await.body["data"]["name"], "umum");
    // The bootstrap did not run twice: still one superadmin with the same password.
    assert_eq!(app.login("superadmin", crate::helpers::ADMIN_PASSWORD).await.status, 200);
}

on_both_stores!(
    poly_lifecycle_matches_the_seed,
    poly_input_errors_change_nothing,
    twenty_concurrent_creates_of_one_name_give_one_poly,
    concurrent_creates_of_different_names_get_distinct_sequential_ids,
    roles_without_permission_get_403,
    records_survive_a_restart,
);
