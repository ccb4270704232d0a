//! Password recovery by a WhatsApp code (sent through n8n's due list, never in an answer),
//! 10 minutes, 5 tries, every session ends; lockout after 5 wrong passwords and an admin's
//! unblock; all of it in the activity trail.
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;
use crate::users::staff_token;

const GENERIC: &str = "If the account exists and has a WhatsApp number, a recovery code has been sent to it. The code is valid for 10 minutes.";

/// A clinic with a WhatsApp config, a nurse with a WhatsApp number, and a default n8n key.
async fn clinic(store: Store) -> (TestApp, String, String, i64) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let r = app.post("/api/whatsapp-configs", &admin, json!({"whatsapp_number": "6281100000001", "waha_api_url": "http://waha.local/api/sendText"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app
        .post("/api/users", &admin, json!({"name": "Perawat Ani", "username": "ani", "email": "ani@mail.com", "password": "lama123",
            "password_confirmation": "lama123", "roles": [4], "whatsapp_number": "0812 3456 7890"}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let id = r.body["data"]["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/api/users/{id}"), &admin).await.body["data"]["whatsapp_number"], "6281234567890");
    let key = app.post("/api/auth/permanent-token", &admin, json!({"name": "n8n"})).await.body["data"]["token"].as_str().unwrap().to_string();
    (app, admin, key, id)
}

async fn forgot(app: &TestApp, username: &str) -> crate::helpers::Reply {
    app.call(reqwest::Method::POST, "/api/auth/forgot-password", None, Some(json!({"username": username}))).await
}

async fn reset(app: &TestApp, username: &str, code: &str, password: &str) -> crate::helpers::Reply {
    let body = json!({"username": username, "code": code, "password": password, "password_confirmation": password});
    app.call(reqwest::Method::POST, "/api/auth/reset-password", None, Some(body)).await
}

/// The code n8n would send, from the due list.
async fn code_for(app: &TestApp, key: &str, user: i64) -> (String, Value) {
    let due = app.get("/api/reminders/due", key).await;
    let row = due.body["data"].as_array().unwrap().iter().find(|r| r["reminder_id"] == format!("RESET-{user}")).cloned().unwrap_or_else(|| panic!("no code: {due:?}"));
    let message = row["message"].as_str().unwrap();
    let code: String = message.split(": ").nth(1).unwrap().chars().take(6).collect();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{message}");
    (code, row)
}

async fn a_code_by_whatsapp_resets_the_password_and_ends_every_session(store: Store) {
    let (app, admin, key, id) = clinic(store).await;
    let before = [app.token("ani", "lama123").await, app.token("ani", "lama123").await];
    // The same answer whether or not the account exists; the code is in neither.
    let unknown = forgot(&app, "nobody").await;
    let known = forgot(&app, "ani").await;
    assert_eq!((unknown.status.as_u16(), known.status.as_u16()), (200, 200));
    assert_eq!(unknown.body, known.body);
    assert_eq!(known.body["message"], GENERIC);
    let (code, row) = code_for(&app, &key, id).await;
    assert!(!known.body.to_string().contains(&code));
    // Asking again within a minute sends nothing new (a phone cannot be flooded).
    assert_eq!(forgot(&app, "ani").await.body["message"], GENERIC);
    assert_eq!(code_for(&app, &key, id).await.0, code);
    assert_eq!((row["reminder_type"].as_str(), row["whatsapp_number"].as_str()), (Some("PASSWORD_RESET"), Some("6281234567890")));
    assert_eq!(row["whatsapp_config"]["whatsapp_number"], "6281100000001");

    // A wrong code costs a try; the right one sets the password once.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_error(&reset(&app, "ani", wrong, "baru12345").await, 422, "The code is invalid or has expired. 4 tries left.");
    assert_error(&reset(&app, "nobody", &code, "baru12345").await, 422, "The code is invalid or has expired.");
    let r = reset(&app, "ani", &code, "short").await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body["errors"]["password"].is_array(), "password rules apply: {r:?}");
    let r = reset(&app, "ani", &code, "baru12345").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_error(&reset(&app, "ani", &code, "lain12345").await, 422, "The code is invalid or has expired.");
    for t in &before {
        assert_error(&app.get("/api/poly", t).await, 401, "Unauthenticated");
    }
    assert_eq!(app.login("ani", "lama123").await.status, 401);
    let fresh = app.token("ani", "baru12345").await;
    assert_eq!(app.get("/api/poly", &fresh).await.status, 200, "a session opened after the reset works");
    // Sent or not, the message is gone from the due list once the code is used.
    let due = app.get("/api/reminders/due", &key).await;
    assert!(!due.body.to_string().contains(&code), "{due:?}");
    let activity = app.get("/api/reports/user-activity", &admin).await;
    assert!(activity.body.to_string().contains("User password reset by code"), "{activity:?}");
}

async fn five_wrong_codes_end_the_code(store: Store) {
    let (app, _, key, id) = clinic(store).await;
    forgot(&app, "ani").await;
    let (code, _) = code_for(&app, &key, id).await;
    // n8n claims, sends and marks it sent: the message leaves the due list, idempotently.
    let rid = format!("RESET-{id}");
    assert_eq!(app.post(&format!("/api/reminders/{rid}/claim"), &key, json!(null)).await.status, 200);
    assert_eq!(app.post(&format!("/api/reminders/{rid}/sent"), &key, json!(null)).await.body["already_sent"], false);
    assert_eq!(app.post(&format!("/api/reminders/{rid}/sent"), &key, json!(null)).await.body["already_sent"], true);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (1..5).rev() {
        assert_error(&reset(&app, "ani", wrong, "baru12345").await, 422, &format!("The code is invalid or has expired. {left} tries left."));
    }
    assert_error(&reset(&app, "ani", wrong, "baru12345").await, 422, "Too many wrong codes. Request a new code.");
    assert_error(&reset(&app, "ani", &code, "baru12345").await, 422, "The code is invalid or has expired.");
    assert_eq!(app.login("ani", "lama123").await.status, 200, "the password did not change");
}

async fn a_locked_account_is_unblocked_by_an_admin(store: Store) {
    let (app, admin, _, id) = clinic(store).await;
    for _ in 0..5 {
        app.login("ani", "salah").await;
    }
    assert_eq!(app.login("ani", "lama123").await.status, 423);
    let nurse = staff_token(&app, &admin, "budi", json!([4])).await;
    assert_error(&app.post(&format!("/api/users/{id}/unblock"), &nurse, json!(null)).await, 403, "This action is unauthorized.");
    assert_error(&app.post("/api/users/999/unblock", &admin, json!(null)).await, 404, "User not found");
    let r = app.post(&format!("/api/users/{id}/unblock"), &admin, json!(null)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "User unblocked successfully");
    assert_eq!(app.login("ani", "lama123").await.status, 200);
    let activity = app.get("/api/reports/user-activity", &admin).await.body.to_string();
    assert!(activity.contains("User locked") && activity.contains("User unblocked"), "{activity}");
}

on_both_stores!(
    a_code_by_whatsapp_resets_the_password_and_ends_every_session,
    five_wrong_codes_end_the_code,
    a_locked_account_is_unblocked_by_an_admin,
);
