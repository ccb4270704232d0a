//! Seed section "Roles": select, detail, create, update, delete (soft), trashed, restore;
//! the permissions each role grants, and what changing them does to its holders.
use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;
use crate::users::staff_token;

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn names(r: &Value) -> Vec<String> {
    r["data"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_string()).collect()
}

async fn role_lifecycle_matches_the_seed(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let list = app.get("/api/roles", &t).await;
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(names(&list.body), ["Super Admin", "Kepala Klinik", "Dokter", "Perawat Anamnesa", "Perawat Asisten", "Administrasi"]);
    let dokter = &list.body["data"][2];
    assert_eq!(keys(dokter), ["id", "name", "permissions", "created_at", "updated_at", "deleted_at"]);
    let perms: Vec<&str> = dokter["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(perms.contains(&"queue.doctor") && !perms.contains(&"users.manage"), "{perms:?}");
    assert_eq!(names(&app.get("/api/roles?search=PERAWAT", &t).await.body), ["Perawat Anamnesa", "Perawat Asisten"]);

    let r = app.post("/api/roles", &t, json!({"name": "administrator"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Role created successfully");
    assert_eq!(keys(&r.body["data"]), ["name", "permissions", "updated_at", "created_at", "id"]);
    assert_eq!((r.body["data"]["id"].clone(), r.body["data"]["permissions"].clone()), (json!(7), json!([])));
    let created_at = r.body["data"]["created_at"].clone();

    let detail = app.get("/api/roles/7", &t).await;
    assert_eq!(detail.body["data"]["name"], "administrator");
    assert!(detail.body["data"]["deleted_at"].is_null());
    assert_error(&app.get("/api/roles/99", &t).await, 404, "Role not found");

    let upd = app.put("/api/roles/7", &t, json!({"name": "Kasir", "permissions": ["queue.view", "poly.view"]})).await;
    assert_eq!(upd.status, 200, "{upd:?}");
    assert_eq!(upd.body["message"], "Role updated successfully");
    assert_eq!(upd.body["data"]["permissions"], json!(["poly.view", "queue.view"]));
    assert_eq!(upd.body["data"]["created_at"], created_at);
    // The seed's update body names no permissions: they stay.
    let upd = app.put("/api/roles/7", &t, json!({"name": "Kasir Depan"})).await;
    assert_eq!((upd.body["data"]["name"].clone(), upd.body["data"]["permissions"].clone()), (json!("Kasir Depan"), json!(["poly.view", "queue.view"])));
    assert_eq!(app.put("/api/roles/7", &t, json!({"name": "Kasir Depan", "permissions": []})).await.body["data"]["permissions"], json!([]));

    let del = app.delete("/api/roles/7", &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Role deleted successfully"}));
    assert_error(&app.get("/api/roles/7", &t).await, 404, "Role not found");
    assert_error(&app.delete("/api/roles/7", &t).await, 404, "Role not found");
    let trashed = app.get("/api/roles/trashed", &t).await;
    assert_eq!(names(&trashed.body), ["Kasir Depan"]);
    assert!(trashed.body["data"][0]["deleted_at"].is_string());
    assert_eq!(app.get("/api/roles", &t).await.body["data"].as_array().unwrap().len(), 6);

    let restored = app.post("/api/roles/7/restore", &t, json!(null)).await;
    assert_eq!(restored.body["message"], "Role restored successfully");
    assert!(restored.body["data"]["deleted_at"].is_null());
    assert_error(&app.post("/api/roles/7/restore", &t, json!(null)).await, 404, "Role not found or not deleted");
    assert_eq!(app.get("/api/roles/trashed", &t).await.body["data"], json!([]));
}

async fn role_input_errors_change_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let r = app.post("/api/roles", &t, json!({"name": "dokter"})).await;
    assert_error(&r, 422, "The name has already been taken.");
    assert_eq!(r.body["errors"], json!({"name": ["The name has already been taken."]}));
    assert_error(&app.post("/api/roles", &t, json!({})).await, 422, "The name field is required.");
    let r = app.post("/api/roles", &t, json!({"name": "Kasir", "permissions": ["poly.view", "fly.away", "root"]})).await;
    assert_error(&r, 422, "The permissions field names unknown permissions: fly.away, root.");
    assert_eq!(r.body["errors"], json!({"permissions": ["The permissions field names unknown permissions: fly.away, root."]}));
    let r = app.post("/api/roles", &t, json!({"name": "Kasir", "permissions": "poly.view"})).await;
    assert_error(&r, 422, "The permissions field must be an array.");
    assert_error(&app.put("/api/roles/99", &t, json!({"name": "x"})).await, 404, "Role not found");
    assert_error(&app.put("/api/roles/3", &t, json!({"name": "Administrasi"})).await, 422, "The name has already been taken.");
    assert_error(&app.put("/api/roles/3", &t, json!({"name": "Dokter", "permissions": ["nope"]})).await, 422, "The permissions field names unknown permissions: nope.");

    // The Super Admin role cannot go.
    let r = app.delete("/api/roles/1", &t).await;
    assert_error(&r, 409, "The Super Admin role cannot be deleted: the clinic would have no role to manage users.");
    assert_error(&app.delete("/api/roles/99", &t).await, 404, "Role not found");

    // Nothing changed: the six roles as seeded, Dokter's permissions intact, no id burned.
    let list = app.get("/api/roles", &t).await;
    assert_eq!(names(&list.body), ["Super Admin", "Kepala Klinik", "Dokter", "Perawat Anamnesa", "Perawat Asisten", "Administrasi"]);
    assert!(list.body["data"][2]["permissions"].as_array().unwrap().contains(&json!("queue.doctor")));
    assert_eq!(app.get("/api/roles/trashed", &t).await.body["data"], json!([]));
    assert_eq!(app.post("/api/roles", &t, json!({"name": "Kasir"})).await.body["data"]["id"], 7);
}

async fn ten_concurrent_creates_of_one_name_give_one_role(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let replies = join_all((0..10).map(|_| app.post("/api/roles", &t, json!({"name": "Apoteker"})))).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let taken = replies.iter().filter(|r| r.status == 422 && r.body["message"] == "The name has already been taken.").count();
    assert_eq!((ok, taken), (1, 9), "{replies:?}");
    assert_eq!(names(&app.get("/api/roles?search=apoteker", &t).await.body), ["Apoteker"]);
}

async fn a_roles_permissions_are_what_its_holders_may_do(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let r = app.post("/api/roles", &admin, json!({"name": "Kasir", "permissions": ["poly.view"]})).await;
    assert_eq!(r.body["data"]["id"], 7, "{r:?}");
    let kasir = staff_token(&app, &admin, "kasir", json!([7])).await;
    assert_eq!(app.get("/api/poly", &kasir).await.status, 200);
    assert_error(&app.get("/api/roles", &kasir).await, 403, "This action is unauthorized.");
    // A change to the role applies to its holders' next request.
    assert_eq!(app.put("/api/roles/7", &admin, json!({"name": "Kasir", "permissions": ["poly.view", "roles.view"]})).await.status, 200);
    assert_eq!(app.get("/api/roles", &kasir).await.status, 200);
    // A deleted role grants nothing and no longer shows on its holders.
    assert_eq!(app.delete("/api/roles/7", &admin).await.status, 200);
    assert_error(&app.get("/api/poly", &kasir).await, 403, "This action is unauthorized.");
    assert_eq!(app.get("/api/users/2", &admin).await.body["data"]["roles"], json!([]));
    assert_eq!(app.post("/api/roles/7/restore", &admin, json!(null)).await.status, 200);
    assert_eq!(app.get("/api/poly", &kasir).await.status, 200);
    assert_eq!(app.get("/api/users/2", &admin).await.body["data"]["roles"][0]["name"], "Kasir");
}

async fn roles_routes_need_their_permissions(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let dokter = staff_token(&app, &admin, "dokter", json!([3])).await;
    let kepala = staff_token(&app, &admin, "kepala", json!([2])).await;
    let all = [
        (Method::GET, "/api/roles"),
        (Method::GET, "/api/roles/3"),
        (Method::POST, "/api/roles"),
        (Method::PUT, "/api/roles/3"),
        (Method::DELETE, "/api/roles/3"),
        (Method::GET, "/api/roles/trashed"),
        (Method::POST, "/api/roles/3/restore"),
    ];
    for (method, path) in all.iter().cloned() {
        assert_error(&app.call(method, path, Some(&dokter), Some(json!({"name": "x"}))).await, 403, "This action is unauthorized.");
    }
    // Kepala Klinik reads roles but cannot change them.
    assert_eq!(app.get("/api/roles", &kepala).await.status, 200);
    assert_eq!(app.get("/api/roles/3", &kepala).await.status, 200);
    for (method, path) in all.iter().skip(2).cloned() {
        assert_error(&app.call(method, path, Some(&kepala), Some(json!({"name": "x"}))).await, 403, "This action is unauthorized.");
    }
    assert_eq!(app.get("/api/roles/3", &admin).await.body["data"]["name"], "Dokter");
}

on_both_stores!(
    role_lifecycle_matches_the_seed,
    role_input_errors_change_nothing,
    ten_concurrent_creates_of_one_name_give_one_role,
    a_roles_permissions_are_what_its_holders_may_do,
    roles_routes_need_their_permissions,
);
