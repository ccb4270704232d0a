//! Seed section "Status": select, detail, create, update, delete (soft), trashed, restore;
//! the seven workflow statuses keep their codes and cannot be deleted.
use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;
use crate::users::staff_token;

const WORKFLOW: [&str; 7] = ["WAITING", "ANAMNESA", "WAITING_DOCTOR", "WITH_DOCTOR", "DONE", "NO_SHOW", "CANCELLED"];

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn codes(r: &Value) -> Vec<String> {
    r["data"].as_array().unwrap().iter().map(|x| x["status_name"].as_str().unwrap().to_string()).collect()
}

async fn status_lifecycle_matches_the_seed(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let list = app.get("/api/status", &t).await;
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(codes(&list.body), WORKFLOW);
    let waiting = &list.body["data"][0];
    assert_eq!(keys(waiting), ["id", "status_name", "label", "information", "created_at", "updated_at", "deleted_at"]);
    assert_eq!(
        (waiting["id"].clone(), waiting["label"].clone(), waiting["information"].clone()),
        (json!(1), json!("Menunggu"), json!("Menunggu dipanggil anamnesa"))
    );
    assert_eq!(codes(&app.get("/api/status?search=waiting", &t).await.body), ["WAITING", "WAITING_DOCTOR"]);
    assert_eq!(codes(&app.get("/api/status?search=dokter", &t).await.body), ["WAITING_DOCTOR", "WITH_DOCTOR"]);

    // The seed's create example.
    let r = app.post("/api/status", &t, json!({"status_name": "REGISTERED", "label": "Terdaftar", "information": "Sudah daftar"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Status created successfully");
    let d = &r.body["data"];
    assert_eq!(keys(d), ["status_name", "label", "information", "updated_at", "created_at", "id"]);
    assert_eq!((d["status_name"].clone(), d["id"].clone()), (json!("REGISTERED"), json!(8)));

    let detail = app.get("/api/status/2", &t).await;
    assert_eq!(detail.body["data"]["status_name"], "ANAMNESA");
    assert_eq!(detail.body["data"]["information"], "Sedang pemeriksaan oleh perawat");
    assert_error(&app.get("/api/status/99", &t).await, 404, "Status not found");

    // A custom status is fully editable; codes are stored upper-case.
    let upd = app.put("/api/status/8", &t, json!({"status_name": "registered_online", "label": "Daftar Online"})).await;
    assert_eq!(upd.status, 200, "{upd:?}");
    assert_eq!(upd.body["message"], "Status updated successfully");
    assert_eq!(keys(&upd.body["data"]), ["id", "status_name", "label", "information", "created_at", "updated_at", "deleted_at"]);
    assert_eq!(
        (upd.body["data"]["status_name"].clone(), upd.body["data"]["information"].clone()),
        (json!("REGISTERED_ONLINE"), Value::Null)
    );
    // A workflow status: label and information are the clinic's.
    let upd = app.put("/api/status/1", &t, json!({"status_name": "waiting", "label": "Antre", "information": "Silakan duduk"})).await;
    assert_eq!(upd.status, 200, "{upd:?}");
    assert_eq!((upd.body["data"]["status_name"].clone(), upd.body["data"]["label"].clone()), (json!("WAITING"), json!("Antre")));

    let del = app.delete("/api/status/8", &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Status deleted successfully"}));
    assert_error(&app.get("/api/status/8", &t).await, 404, "Status not found");
    assert_error(&app.delete("/api/status/8", &t).await, 404, "Status not found");
    let trashed = app.get("/api/status/trashed", &t).await;
    assert_eq!(codes(&trashed.body), ["REGISTERED_ONLINE"]);
    assert!(trashed.body["data"][0]["deleted_at"].is_string());
    assert_eq!(codes(&app.get("/api/status", &t).await.body), WORKFLOW);

    let restored = app.post("/api/status/8/restore", &t, json!(null)).await;
    assert_eq!(restored.body["message"], "Status restored successfully");
    assert!(restored.body["data"]["deleted_at"].is_null());
    assert_error(&app.post("/api/status/8/restore", &t, json!(null)).await, 404, "Status not found or not deleted");
    assert_eq!(app.get("/api/status", &t).await.body["data"].as_array().unwrap().len(), 8);
}

async fn workflow_statuses_keep_their_codes(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    for id in 1..=7 {
        let code = WORKFLOW[id - 1];
        let r = app.put(&format!("/api/status/{id}"), &t, json!({"status_name": "RENAMED", "label": "x"})).await;
        let msg = format!("The status name of the workflow status {code} cannot be changed: the queue depends on it.");
        assert_error(&r, 422, &msg);
        assert_eq!(r.body["errors"], json!({"status_name": [msg]}));
        let r = app.delete(&format!("/api/status/{id}"), &t).await;
        assert_error(&r, 409, &format!("The workflow status {code} cannot be deleted: the queue depends on it."));
    }
    // Nothing changed, and "RENAMED" was never taken.
    let list = app.get("/api/status", &t).await;
    assert_eq!(codes(&list.body), WORKFLOW);
    assert_eq!(list.body["data"][0]["label"], "Menunggu");
    assert_eq!(app.get("/api/status/trashed", &t).await.body["data"], json!([]));
    assert_eq!(app.post("/api/status", &t, json!({"status_name": "RENAMED", "label": "x"})).await.body["data"]["id"], 8);
}

async fn status_input_errors_change_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let r = app.post("/api/status", &t, json!({})).await;
    assert_error(&r, 422, "The status name field is required.");
    assert_eq!(r.body["errors"], json!({"status_name": ["The status name field is required."], "label": ["The label field is required."]}));
    let r = app.post("/api/status", &t, json!({"status_name": " done ", "label": "Selesai lagi"})).await;
    assert_error(&r, 422, "The status name has already been taken.");
    assert_eq!(r.body["errors"], json!({"status_name": ["The status name has already been taken."]}));
    assert_error(&app.post("/api/status", &t, json!({"status_name": "X", "label": "x", "information": 5})).await, 422, "The information field must be a string.");
    assert_error(&app.post("/api/status", &t, json!({"status_name": "X".repeat(51), "label": "x"})).await, 422, "The status name field must not be greater than 50 characters.");
    assert_error(&app.put("/api/status/99", &t, json!({"status_name": "X", "label": "x"})).await, 404, "Status not found");
    assert_eq!(app.post("/api/status", &t, json!({"status_name": "REGISTERED", "label": "Terdaftar"})).await.body["data"]["id"], 8);
    assert_error(&app.put("/api/status/8", &t, json!({"status_name": "no_show", "label": "x"})).await, 422, "The status name has already been taken.");
    assert_error(&app.delete("/api/status/99", &t).await, 404, "Status not found");
    let list = app.get("/api/status", &t).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 8);
    assert_eq!(list.body["data"][7]["status_name"], "REGISTERED");
    assert_eq!(app.post("/api/status", &t, json!({"status_name": "ARRIVED", "label": "Datang"})).await.body["data"]["id"], 9);
}

async fn ten_concurrent_creates_of_one_code_give_one_status(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let replies = join_all((0..10).map(|i| {
        let code = if i % 2 == 0 { "registered" } else { "REGISTERED" };
        app.post("/api/status", &t, json!({"status_name": code, "label": "Terdaftar"}))
    }))
    .await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let taken = replies.iter().filter(|r| r.status == 422 && r.body["message"] == "The status name has already been taken.").count();
    assert_eq!((ok, taken), (1, 9), "{replies:?}");
    assert_eq!(codes(&app.get("/api/status?search=regis", &t).await.body), ["REGISTERED"]);
}

async fn status_routes_need_their_permissions(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let dokter = staff_token(&app, &admin, "dokter", json!([3])).await;
    assert_eq!(app.get("/api/status", &dokter).await.status, 200);
    assert_eq!(app.get("/api/status/1", &dokter).await.status, 200);
    for (method, path) in [
        (Method::POST, "/api/status"),
        (Method::PUT, "/api/status/1"),
        (Method::DELETE, "/api/status/1"),
        (Method::GET, "/api/status/trashed"),
        (Method::POST, "/api/status/1/restore"),
    ] {
        let r = app.call(method, path, Some(&dokter), Some(json!({"status_name": "WAITING", "label": "x"}))).await;
        assert_error(&r, 403, "This action is unauthorized.");
    }
    // A role without status.view sees nothing.
    let r = app.post("/api/roles", &admin, json!({"name": "Tamu", "permissions": ["poly.view"]})).await;
    let tamu = staff_token(&app, &admin, "tamu", json!([r.body["data"]["id"]])).await;
    assert_error(&app.get("/api/status", &tamu).await, 403, "This action is unauthorized.");
    assert_error(&app.get("/api/status/1", &tamu).await, 403, "This action is unauthorized.");
    assert_eq!(app.get("/api/status/1", &admin).await.body["data"]["label"], "Menunggu");
}

on_both_stores!(
    status_lifecycle_matches_the_seed,
    workflow_statuses_keep_their_codes,
    status_input_errors_change_nothing,
    ten_concurrent_creates_of_one_code_give_one_status,
    status_routes_need_their_permissions,
);
