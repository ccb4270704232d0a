//! Reminders for n8n: `GET /api/reminders/due` with a default API key, claiming, marking sent
//! (idempotent, `notification_status` on the queue entry), QUEUE / TIME / CHECKUP rules.
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store};
use crate::on_both_stores;
use crate::reservations::{day, Desk};

/// A clinic with a WhatsApp config, one template and the given reminder configs; returns the
/// desk and a default n8n API key.
async fn clinic(store: Store, configs: &[Value]) -> (Desk, String) {
    let desk = Desk::open(store, Some(16)).await;
    let (app, t) = (&desk.app, &desk.admin);
    let r = app.post("/api/whatsapp-configs", t, json!({"whatsapp_number": "6281100000001", "waha_api_url": "http://waha.local/api/sendText"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app.post("/api/message-templates", t, json!({"template_name": "Pengingat", "message": "Halo {{patient_name}}, nomor {{ queue_number }} di {{poly}} ({{date}}), dr {{doctor}}, perkiraan {{estimated_time}} {{ticket_url}}"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let template = r.body["data"]["id"].as_i64().unwrap();
    for c in configs {
        let mut body = c.clone();
        body["message_template_id"] = template.into();
        let r = app.post("/api/reminder-configs", t, body).await;
        assert_eq!(r.status, 200, "{r:?}");
    }
    let key = app.post("/api/auth/permanent-token", t, json!({"name": "n8n"})).await.body["data"]["token"].as_str().unwrap().to_string();
    (desk, key)
}

fn ids(r: &Value) -> Vec<String> {
    r["data"].as_array().unwrap_or_else(|| panic!("{r}")).iter().map(|d| d["reminder_id"].as_str().unwrap().to_string()).collect()
}

async fn queue_reminders_go_to_the_patients_near_their_turn(store: Store) {
    let (desk, key) = clinic(store, &[json!({"reminder_type": "QUEUE", "reminder_patient_count": 1, "reminder_offset": 0})]).await;
    let (app, t) = (&desk.app, &desk.admin);
    let a = desk.reserve(1).await;
    let b = desk.reserve(2).await;
    let _c = desk.reserve(3).await;
    let r = app.get("/api/reminders/due", &key).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Due reminders retrieved successfully");
    // Nobody ahead of 1, one ahead of 2; 3 has two ahead.
    assert_eq!(ids(&r.body), [format!("QUEUE-1-{a}"), format!("QUEUE-1-{b}")]);
    let first = &r.body["data"][0];
    assert_eq!(first["whatsapp_number"], "6281200000001");
    assert_eq!(first["chat_id"], "6281200000001@c.us");
    assert_eq!(first["whatsapp_config"], json!({"id": 1, "whatsapp_number": "6281100000001", "waha_api_url": "http://waha.local/api/sendText"}));
    let msg = first["message"].as_str().unwrap();
    assert!(msg.starts_with(&format!("Halo Pasien 1, nomor 1 di Poli Umum ({}), dr dr. harris, perkiraan ", desk.today)), "{msg}");
    assert!(!msg.contains("{{"), "{msg}");
    // The patient's live ticket page, in the message and beside it.
    let url = first["ticket_url"].as_str().unwrap();
    assert!(url.contains("/board/ticket.html?code=default.") && msg.ends_with(url), "{msg}");
    let code = url.rsplit("code=").next().unwrap();
    assert_eq!(app.call(reqwest::Method::GET, &format!("/api/tickets/{code}"), None, None).await.body["data"]["queue_number"], 1);

    // n8n claims, sends, marks sent: twice is harmless, and the queue entry shows it.
    let id = format!("QUEUE-1-{a}");
    assert_eq!(app.post(&format!("/api/reminders/{id}/claim"), &key, json!(null)).await.status, 200);
    let again = app.post(&format!("/api/reminders/{id}/claim"), &key, json!(null)).await;
    assert_eq!(again.status, 409, "a second run must skip it: {again:?}");
    assert_eq!(ids(&app.get("/api/reminders/due", &key).await.body), [format!("QUEUE-1-{b}")], "a claimed reminder is not due");
    let r = app.post(&format!("/api/reminders/{id}/sent"), &key, json!(null)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["already_sent"], false);
    let r = app.post(&format!("/api/reminders/{id}/sent"), &key, json!(null)).await;
    assert_eq!((r.status.as_u16(), r.body["already_sent"].as_bool()), (200, Some(true)), "{r:?}");
    assert_eq!(app.post(&format!("/api/reminders/{id}/claim"), &key, json!(null)).await.status, 409, "sent: never claimed again");
    let detail = app.get(&format!("/api/reservation/{a}"), t).await;
    assert_eq!(detail.body["data"]["reservation"]["queue"]["notification_status"], true, "{detail:?}");
    let other = app.get(&format!("/api/reservation/{b}"), t).await;
    assert_eq!(other.body["data"]["reservation"]["queue"]["notification_status"], false);
    // The reservation still moves on (marking it did not leave a stale version behind).
    assert_eq!(app.patch(&format!("/api/queue/{a}/anamnesa"), t, json!(null)).await.status, 200);
    // Patient 2 is called to anamnesa: here already, no reminder any more.
    assert_eq!(app.patch(&format!("/api/queue/{b}/anamnesa"), t, json!(null)).await.status, 200);
    let due = ids(&app.get("/api/reminders/due", &key).await.body);
    assert!(!due.contains(&id) && !due.contains(&format!("QUEUE-1-{b}")), "{due:?}");

    // Wrong ids: 404, nothing changes.
    for bad in ["QUEUE-1-999", "QUEUE-9-1", "nonsense", "QUEUE-1"] {
        assert_error(&app.post(&format!("/api/reminders/{bad}/sent"), &key, json!(null)).await, 404, "Reminder not found");
    }
}

async fn time_and_checkup_reminders(store: Store) {
    let (desk, key) = clinic(store, &[
        json!({"reminder_type": "TIME", "reminder_patient_count": 0, "reminder_offset": 10080}),
        json!({"reminder_type": "CHECKUP", "reminder_patient_count": 0, "reminder_offset": 0}),
    ]).await;
    let (app, t) = (&desk.app, &desk.admin);
    let a = desk.reserve(1).await;
    // A check-up tomorrow for patient 1, one the day after (not due yet).
    let r = app.post("/api/checkup-schedule", t, json!({"patient_id": 1, "poly_id": desk.poly, "date": day(1), "description": "Kontrol"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let checkup = r.body["data"]["id"].as_i64().unwrap();
    assert_eq!(app.post("/api/checkup-schedule", t, json!({"patient_id": 1, "poly_id": desk.poly, "date": day(2)})).await.status, 200);
    let r = app.get("/api/reminders/due", &key).await;
    assert_eq!(ids(&r.body), [format!("TIME-1-{a}"), format!("CHECKUP-2-{checkup}")], "{r:?}");
    let c = &r.body["data"][1];
    assert_eq!((c["checkup_schedule_id"].as_i64(), c["reservation_id"].clone(), c["date"].as_str()), (Some(checkup), Value::Null, Some(day(1).as_str())));
    let sent = app.post(&format!("/api/reminders/CHECKUP-2-{checkup}/sent"), &key, json!(null)).await;
    assert_eq!(sent.status, 200, "{sent:?}");
    assert_eq!(ids(&app.get("/api/reminders/due", &key).await.body), [format!("TIME-1-{a}")]);
}

async fn reminders_need_a_sender_and_the_permission(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let r = app.post("/api/message-templates", t, json!({"template_name": "P", "message": "Halo {{patient_name}}"})).await;
    let template = r.body["data"]["id"].as_i64().unwrap();
    app.post("/api/reminder-configs", t, json!({"message_template_id": template, "reminder_type": "QUEUE", "reminder_patient_count": 5, "reminder_offset": 0})).await;
    desk.reserve(1).await;
    let key = app.post("/api/auth/permanent-token", t, json!(null)).await.body["data"]["token"].as_str().unwrap().to_string();
    let r = app.get("/api/reminders/due", &key).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"], json!([]));
    assert!(r.body["message"].as_str().unwrap().contains("No WhatsApp config"), "{r:?}");
    // A key made for something else may not read reminders.
    let narrow = app.post("/api/auth/permanent-token", t, json!({"permissions": ["poly.view"]})).await.body["data"]["token"].as_str().unwrap().to_string();
    assert_error(&app.get("/api/reminders/due", &narrow).await, 403, "This action is unauthorized.");
    assert_error(&app.post("/api/reminders/QUEUE-1-1/sent", &narrow, json!(null)).await, 403, "This action is unauthorized.");
}

on_both_stores!(queue_reminders_go_to_the_patients_near_their_turn, time_and_checkup_reminders, reminders_need_a_sender_and_the_permission,);
