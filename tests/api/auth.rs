//! Seed section "Authentication": login, logout, permanent token; lockout; API keys.
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_error, Store, TestApp, ADMIN_PASSWORD};
use crate::on_both_stores;

async fn login_answers_with_token_and_user(store: Store) {
    let app = TestApp::spawn(store).await;
    let r = app.login("superadmin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["status"], "success");
    assert_eq!(r.body["message"], "Login success");
    assert_eq!(r.body["type"], "Bearer");
    assert!(r.body["token"].as_str().unwrap().len() > 20);
    let user = &r.body["user"];
    assert_eq!(user["id"], 1);
    assert_eq!(user["username"], "superadmin");
    assert_eq!(user["email"], "superadmin@mail.com");
    assert!(user["poly"].is_null());
    assert_eq!(user["roles"], json!([{"id": 1, "name": "Super Admin"}]));
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
}

async fn login_errors_read_as_the_seed(store: Store) {
    let app = TestApp::spawn(store).await;
    let r = app.call(Method::POST, "/api/auth/login", None, Some(json!({"username": "superadmin"}))).await;
    assert_error(&r, 422, "The password field is required.");
    assert_eq!(r.body["errors"], json!({"password": ["The password field is required."]}));
    let r = app.call(Method::POST, "/api/auth/login", None, Some(json!({}))).await;
    assert_eq!(r.status, 422);
    assert!(r.body["errors"]["username"].is_array() && r.body["errors"]["password"].is_array(), "{r:?}");
    let r = app.login("superadmin", "wrong-password").await;
    assert_error(&r, 401, "Incorrect username or password");
    let r = app.login("nobody", "wrong-password").await;
    assert_error(&r, 401, "Incorrect username or password");
    let r = app.call(Method::POST, "/api/auth/login", None, Some(json!({"username": "superadmin", "password": ADMIN_PASSWORD, "clinic": "no-such-clinic"}))).await;
    assert_error(&r, 401, "Incorrect username or password");
}

async fn logout_revokes_the_token(store: Store) {
    let app = TestApp::spawn(store).await;
    let token = app.admin_token().await;
    let other = app.admin_token().await;
    assert_eq!(app.get("/api/poly", &token).await.status, 200);
    let r = app.post("/api/auth/logout", &token, json!(null)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, json!({"status": "success", "message": "Logout success"}));
    assert_error(&app.get("/api/poly", &token).await, 401, "Unauthenticated");
    assert_error(&app.post("/api/auth/logout", &token, json!(null)).await, 401, "Unauthenticated");
    // Only that token: another session of the same user goes on working.
    assert_eq!(app.get("/api/poly", &other).await.status, 200);
}

async fn garbage_and_missing_tokens_are_unauthenticated(store: Store) {
    let app = TestApp::spawn(store).await;
    assert_error(&app.call(Method::GET, "/api/poly", None, None).await, 401, "Unauthenticated");
    assert_error(&app.get("/api/poly", "not-a-token").await, 401, "Unauthenticated");
    assert_error(&app.get("/api/poly", "default|1|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await, 401, "Unauthenticated");
    // A token signed with another secret.
    let forged = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwiY2xpbmljIjoiZGVmYXVsdCIsImp0aSI6IngiLCJpYXQiOjEsImV4cCI6OTk5OTk5OTk5OX0.c2lnbmF0dXJl";
    assert_error(&app.get("/api/poly", forged).await, 401, "Unauthenticated");
}

async fn five_failed_logins_lock_the_account(store: Store) {
    let app = TestApp::spawn(store).await;
    for _ in 0..4 {
        assert_error(&app.login("superadmin", "wrong-password").await, 401, "Incorrect username or password");
    }
    let fifth = app.login("superadmin", "wrong-password").await;
    assert_eq!(fifth.status, 423, "{fifth:?}");
    assert!(fifth.body["message"].as_str().unwrap().contains("locked"), "{fifth:?}");
    // Even the right password is refused while locked, and the answer says so.
    let r = app.login("superadmin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, 423, "{r:?}");
    assert!(r.headers.get("retry-after").is_some());
}

async fn a_good_login_resets_the_failure_count(store: Store) {
    let app = TestApp::spawn(store).await;
    for _ in 0..4 {
        app.login("superadmin", "wrong-password").await;
    }
    assert_eq!(app.login("superadmin", ADMIN_PASSWORD).await.status, 200);
    for _ in 0..4 {
        assert_eq!(app.login("superadmin", "wrong-password").await.status, 401);
    }
    assert_eq!(app.login("superadmin", ADMIN_PASSWORD).await.status, 200);
}

async fn api_keys_are_shown_once_listed_and_revocable(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let r = app.post("/api/auth/permanent-token", &admin, json!(null)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Permanent token generated successfully");
    assert_eq!(r.body["data"]["token_name"], "permanent-token");
    let key = r.body["data"]["token"].as_str().unwrap().to_string();
    let id = r.body["data"]["id"].as_i64().unwrap();

    // The key works as a bearer token for what n8n's workflows read: polies, statuses, the
    // queue, reservations, patients, configuration…
    for path in ["/api/poly", "/api/status", "/api/queue", "/api/reservation", "/api/patients", "/api/reminder-configs", "/api/whatsapp-configs", "/api/message-templates"] {
        let r = app.get(path, &key).await;
        assert_eq!(r.status, 200, "{path} with a default n8n key: {r:?}");
    }
    // …and nothing more: the default n8n set cannot manage polies.
    assert_error(&app.post("/api/poly", &key, json!({"name": "gigi"})).await, 403, "This action is unauthorized.");

    let list = app.get("/api/auth/api-keys", &admin).await;
    let keys = list.body["data"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], id);
    assert!(!list.body.to_string().contains(&key[key.rfind('|').unwrap() + 1..]), "the secret must never be listed");

    let r = app.delete(&format!("/api/auth/api-keys/{id}"), &admin).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_error(&app.get("/api/poly", &key).await, 401, "Unauthenticated");
    assert_error(&app.delete(&format!("/api/auth/api-keys/{id}"), &admin).await, 404, "API key not found");
}

async fn api_key_permissions_are_chosen_and_bounded(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let r = app.post("/api/auth/permanent-token", &admin, json!({"name": "n8n", "permissions": ["poly.view", "poly.manage"]})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let key = r.body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(app.post("/api/poly", &key, json!({"name": "gigi"})).await.status, 200);
    let r = app.post("/api/auth/permanent-token", &admin, json!({"permissions": ["poly.fly"]})).await;
    assert_error(&r, 422, "Unknown permissions: poly.fly.");
    // A key cannot mint keys unless given that permission.
    assert_error(&app.post("/api/auth/permanent-token", &key, json!(null)).await, 403, "This action is unauthorized.");
}

on_both_stores!(
    login_answers_with_token_and_user,
    login_errors_read_as_the_seed,
    logout_revokes_the_token,
    garbage_and_missing_tokens_are_unauthenticated,
    five_failed_logins_lock_the_account,
    a_good_login_resets_the_failure_count,
    api_keys_are_shown_once_listed_and_revocable,
    api_key_permissions_are_chosen_and_bounded,
);
