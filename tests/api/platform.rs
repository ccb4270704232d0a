//! Tenancy: clinics created by the platform operator, each sealed off from the others.
use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, Store, TestApp, PLATFORM_TOKEN};
use crate::on_both_stores;

async fn platform_token_is_required(store: Store) {
    let app = TestApp::spawn(store).await;
    let body = json!({"slug": "sehat", "name": "Klinik Sehat", "admin": {"name": "A", "username": "a", "email": "a@b.id", "password": "secret1"}});
    assert_error(&app.call(Method::POST, "/api/platform/clinics", None, Some(body.clone())).await, 401, "Unauthenticated");
    assert_error(&app.call(Method::POST, "/api/platform/clinics", Some("wrong"), Some(body.clone())).await, 401, "Unauthenticated");
    // A clinic admin's token is not the platform's.
    let admin = app.admin_token().await;
    assert_error(&app.call(Method::POST, "/api/platform/clinics", Some(&admin), Some(body)).await, 401, "Unauthenticated");
}

async fn a_new_clinic_has_the_seed_statuses_roles_and_its_admin(store: Store) {
    let app = TestApp::spawn(store).await;
    let r = app
        .call(Method::POST, "/api/platform/clinics", Some(PLATFORM_TOKEN), Some(json!({"slug": "sehat", "name": "Klinik Sehat",
            "admin": {"name": "Dr. Ani", "username": "ani", "email": "ani@sehat.id", "password": "rahasia1"}})))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["clinic"]["slug"], "sehat");
    assert_eq!(r.body["data"]["clinic"]["timezone"], "Asia/Jakarta");
    assert_eq!(r.body["data"]["admin"]["id"], 1);
    // Login by body field and by header.
    let by_body = app.call(Method::POST, "/api/auth/login", None, Some(json!({"username": "ani", "password": "rahasia1", "clinic": "sehat"}))).await;
    assert_eq!(by_body.status, 200, "{by_body:?}");
    assert_eq!(by_body.body["user"]["roles"][0]["name"], "Super Admin");
    let by_header = app
        .client
        .post(format!("{}/api/auth/login", app.base))
        .header("X-Clinic", "sehat")
        .json(&json!({"username": "ani", "password": "rahasia1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    // Without a hint, login goes to `default`, where "ani" does not exist.
    assert_error(&app.login("ani", "rahasia1").await, 401, "Incorrect username or password");

    let list = app.call(Method::GET, "/api/platform/clinics", Some(PLATFORM_TOKEN), None).await;
    let slugs: Vec<_> = list.body["data"].as_array().unwrap().iter().map(|c| c["slug"].as_str().unwrap().to_string()).collect();
    assert_eq!(slugs, vec!["default", "sehat"]);
}

async fn clinic_input_is_validated_and_slugs_are_unique(store: Store) {
    let app = TestApp::spawn(store).await;
    let r = app.call(Method::POST, "/api/platform/clinics", Some(PLATFORM_TOKEN), Some(json!({"slug": "Bad Slug!", "name": "x", "admin": {}}))).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body["errors"]["slug"].is_array() && r.body["errors"]["admin.username"].is_array(), "{r:?}");
    let body = json!({"slug": "default", "name": "Again", "admin": {"name": "A", "username": "a", "email": "a@b.id", "password": "secret1"}});
    let r = app.call(Method::POST, "/api/platform/clinics", Some(PLATFORM_TOKEN), Some(body)).await;
    assert_error(&r, 422, "The slug has already been taken.");
}

async fn a_token_never_reaches_another_clinic(store: Store) {
    let app = TestApp::spawn(store).await;
    let a = app.admin_token().await;
    let b = app.new_clinic("klinik-b").await;
    let created = app.post("/api/poly", &b, json!({"name": "gigi"})).await;
    let b_id = created.body["data"]["id"].as_i64().unwrap();
    assert_eq!(b_id, 1, "ids are sequential per clinic");
    // Clinic A has no poly 1: A's token must not see B's.
    assert_error(&app.get(&format!("/api/poly/{b_id}"), &a).await, 404, "Poly not found");
    assert_error(&app.put(&format!("/api/poly/{b_id}"), &a, json!({"name": "hijacked"})).await, 404, "Poly not found");
    assert_error(&app.delete(&format!("/api/poly/{b_id}"), &a).await, 404, "Poly not found");
    assert_eq!(app.get("/api/poly", &a).await.body["data"], json!([]));
    // Clinic hints cannot redirect a token.
    let r = app.client.get(format!("{}/api/poly", app.base)).bearer_auth(&a).header("X-Clinic", "klinik-b").send().await.unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["data"], json!([]));
    // The same name is free in each clinic.
    assert_eq!(app.post("/api/poly", &a, json!({"name": "gigi"})).await.status, 200);
    assert_eq!(app.get(&format!("/api/poly/{b_id}"), &b).await.body["data"]["name"], "gigi");
}

on_both_stores!(
    platform_token_is_required,
    a_new_clinic_has_the_seed_statuses_roles_and_its_admin,
    clinic_input_is_validated_and_slugs_are_unique,
    a_token_never_reaches_another_clinic,
);
