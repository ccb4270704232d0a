//! Seed sections "Message Template", "Reminder Config", "Whatsapp Config" and "Config":
//! select, detail, create, update, delete (hard), as a client written from the seed sees them.
use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;

fn is_seed_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 27 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[19] == b'.'
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

const TEMPLATE: &str = "Dear {{patient_name}}, your appointment is tomorrow.";

async fn message_templates_match_the_seed(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let r = app.post("/api/message-templates", &t, json!({"template_name": "Reminder H-1", "message": TEMPLATE})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Message template created successfully");
    assert_eq!(keys(&r.body["data"]), ["template_name", "message", "updated_at", "created_at", "id"]);
    assert_eq!((r.body["data"]["id"].as_i64(), r.body["data"]["message"].as_str()), (Some(1), Some(TEMPLATE)));
    assert!(is_seed_timestamp(&r.body["data"]["created_at"]));
    app.post("/api/message-templates", &t, json!({"template_name": "Panggilan", "message": "Nomor {{queue_number}} ke {{poly}}"})).await;

    // The seed's Laravel paginator, links built from where the request came in.
    let list = app.get("/api/message-templates", &t).await;
    assert_eq!(list.body["message"], "Message templates retrieved successfully");
    let page = &list.body["data"];
    assert_eq!(
        keys(page),
        ["current_page", "data", "first_page_url", "from", "last_page", "last_page_url", "links", "next_page_url", "path", "per_page", "prev_page_url", "to", "total"]
    );
    let base = format!("{}/api/message-templates", app.base);
    assert_eq!(page["first_page_url"], format!("{base}?page=1"));
    assert_eq!(page["path"], base);
    assert_eq!((page["total"].as_i64(), page["per_page"].as_i64(), page["from"].as_i64(), page["to"].as_i64()), (Some(2), Some(10), Some(1), Some(2)));
    assert_eq!(
        page["links"],
        json!([
            {"url": null, "label": "&laquo; Previous", "page": null, "active": false},
            {"url": format!("{base}?page=1"), "label": "1", "page": 1, "active": true},
            {"url": null, "label": "Next &raquo;", "page": null, "active": false}
        ])
    );
    assert_eq!(keys(&page["data"][0]), ["id", "template_name", "message", "created_at", "updated_at", "deleted_at"]);
    let found = app.get("/api/message-templates?search=reminder&page=1&per_page=10", &t).await;
    assert_eq!(found.body["data"]["data"].as_array().unwrap().len(), 1);
    assert_eq!(found.body["data"]["data"][0]["template_name"], "Reminder H-1");
    let second = app.get("/api/message-templates?per_page=1&page=2", &t).await;
    assert_eq!(second.body["data"]["data"][0]["id"], 2);
    assert_eq!(second.body["data"]["prev_page_url"], format!("{base}?per_page=1&page=1"));
    assert_error(&app.get("/api/message-templates?per_page=0", &t).await, 422, "The per page field must be at least 1.");

    let detail = app.get("/api/message-templates/1", &t).await;
    assert_eq!(detail.body["message"], "Message template retrieved successfully");
    assert_eq!(detail.body["data"]["template_name"], "Reminder H-1");
    let upd = app.put("/api/message-templates/1", &t, json!({"template_name": "Reminder H-1 Updated", "message": "Dear {{patient_name}}, please remember your appointment tomorrow."})).await;
    assert_eq!(upd.status, 200, "{upd:?}");
    assert_eq!(upd.body["message"], "Message template updated successfully");
    assert_eq!(upd.body["data"]["template_name"], "Reminder H-1 Updated");
    assert!(upd.body["data"]["deleted_at"].is_null());

    let del = app.delete("/api/message-templates/1", &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Message Template deleted successfully"}));
    assert_error(&app.delete("/api/message-templates/1", &t).await, 404, "Message Template not found");
    assert_error(&app.get("/api/message-templates/1", &t).await, 404, "Message template not found");
    assert_error(&app.put("/api/message-templates/1", &t, json!({"template_name": "x", "message": "y"})).await, 404, "Message template not found");
    assert_error(&app.get("/api/message-templates/abc", &t).await, 404, "Message template not found");
}

async fn template_errors_name_the_problem_and_change_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let r = app.post("/api/message-templates", &t, json!({})).await;
    assert_error(&r, 422, "The template name field is required.");
    assert_eq!(r.body["errors"], json!({"template_name": ["The template name field is required."], "message": ["The message field is required."]}));
    let r = app.post("/api/message-templates", &t, json!({"template_name": "x", "message": "Halo {{nama_pasien}}, nomor {{queue_number}}"})).await;
    assert_eq!(r.status, 422, "{r:?}");
    let m = r.body["errors"]["message"][0].as_str().unwrap();
    assert!(m.contains("{{nama_pasien}}") && m.contains("{{patient_name}}"), "{m}");
    assert_eq!(app.get("/api/message-templates", &t).await.body["data"]["total"], 0);

    app.post("/api/message-templates", &t, json!({"template_name": "H-1", "message": TEMPLATE})).await;
    let r = app.put("/api/message-templates/1", &t, json!({"template_name": "H-1", "message": "Hi {{unknown}}"})).await;
    assert_eq!(r.status, 422);
    assert!(r.body["message"].as_str().unwrap().contains("{{unknown}}"));
    assert_eq!(app.get("/api/message-templates/1", &t).await.body["data"]["message"], TEMPLATE);
    // The failed attempts burned no id.
    assert_eq!(app.post("/api/message-templates", &t, json!({"template_name": "H-2", "message": "ok"})).await.body["data"]["id"], 2);
}

async fn reminder_configs_nest_their_template(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    app.post("/api/message-templates", &t, json!({"template_name": "Reminder H-1 Updated", "message": TEMPLATE})).await;
    let body = json!({"message_template_id": 1, "reminder_offset": 30, "reminder_patient_count": 5, "reminder_type": "QUEUE"});
    let r = app.post("/api/reminder-configs", &t, body.clone()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Reminder config created successfully");
    assert_eq!(
        keys(&r.body["data"]),
        ["message_template_id", "reminder_offset", "reminder_patient_count", "reminder_type", "updated_at", "created_at", "id", "message_template"]
    );
    assert_eq!(r.body["data"]["message_template"]["template_name"], "Reminder H-1 Updated");
    assert_eq!(keys(&r.body["data"]["message_template"]), ["id", "template_name", "message", "created_at", "updated_at", "deleted_at"]);

    let list = app.get("/api/reminder-configs?page=1&per_page=10", &t).await;
    assert_eq!(list.body["message"], "Reminder configs retrieved successfully");
    assert_eq!(list.body["data"]["data"][0]["reminder_type"], "QUEUE");
    assert_eq!(list.body["data"]["data"][0]["message_template"]["id"], 1);
    assert_eq!(list.body["data"]["first_page_url"], format!("{}/api/reminder-configs?per_page=10&page=1", app.base));
    let detail = app.get("/api/reminder-configs/1", &t).await;
    assert_eq!(detail.body["message"], "Reminder config retrieved successfully");
    assert_eq!(detail.body["data"]["reminder_offset"], 30);

    // The seed's update example sends a template's fields: nothing of the config changes.
    let upd = app.put("/api/reminder-configs/1", &t, json!({"template_name": "Reminder H-1 Updated", "message": TEMPLATE})).await;
    assert_eq!(upd.status, 200, "{upd:?}");
    assert_eq!(upd.body["message"], "Reminder config updated successfully");
    assert_eq!((upd.body["data"]["reminder_offset"].as_i64(), upd.body["data"]["reminder_type"].as_str()), (Some(30), Some("QUEUE")));
    // Moving it to another template moves the template's use.
    app.post("/api/message-templates", &t, json!({"template_name": "Jadwal", "message": "{{date}} {{doctor}}"})).await;
    let moved = app.put("/api/reminder-configs/1", &t, json!({"message_template_id": 2, "reminder_type": "schedule"})).await;
    assert_eq!(moved.body["data"]["message_template"]["template_name"], "Jadwal", "{moved:?}");
    assert_eq!(moved.body["data"]["reminder_type"], "SCHEDULE");

    // A template in use cannot be deleted; once unused it can.
    let r = app.delete("/api/message-templates/2", &t).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(app.get("/api/message-templates/2", &t).await.status, 200);
    assert_eq!(app.delete("/api/message-templates/1", &t).await.status, 200, "template 1 is no longer used");
    let del = app.delete("/api/reminder-configs/1", &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Reminder config deleted successfully"}));
    assert_error(&app.delete("/api/reminder-configs/1", &t).await, 404, "Reminder config not found");
    assert_error(&app.get("/api/reminder-configs/1", &t).await, 404, "Reminder config not found");
    assert_error(&app.put("/api/reminder-configs/1", &t, body).await, 404, "Reminder config not found");
    assert_eq!(app.delete("/api/message-templates/2", &t).await.status, 200);
}

async fn reminder_config_errors_change_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    app.post("/api/message-templates", &t, json!({"template_name": "H-1", "message": TEMPLATE})).await;
    let r = app.post("/api/reminder-configs", &t, json!({"message_template_id": 1, "reminder_offset": 30})).await;
    assert_error(&r, 422, "The reminder patient count field is required.");
    assert_eq!(
        r.body["errors"],
        json!({"reminder_patient_count": ["The reminder patient count field is required."], "reminder_type": ["The reminder type field is required."]})
    );
    let r = app.post("/api/reminder-configs", &t, json!({"message_template_id": 9, "reminder_offset": 30, "reminder_patient_count": 5, "reminder_type": "QUEUE"})).await;
    assert_error(&r, 422, "The selected message template id is invalid.");
    let r = app.post("/api/reminder-configs", &t, json!({"message_template_id": 1, "reminder_offset": -1, "reminder_patient_count": "lima", "reminder_type": "SMS"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(keys(&r.body["errors"]), ["reminder_offset", "reminder_patient_count", "reminder_type"]);
    assert_eq!(app.get("/api/reminder-configs", &t).await.body["data"]["total"], 0);

    app.post("/api/reminder-configs", &t, json!({"message_template_id": 1, "reminder_offset": 30, "reminder_patient_count": 5, "reminder_type": "QUEUE"})).await;
    assert_error(&app.put("/api/reminder-configs/1", &t, json!({"message_template_id": 7})).await, 422, "The selected message template id is invalid.");
    assert_eq!(app.get("/api/reminder-configs/1", &t).await.body["data"]["message_template_id"], 1);
    // The template is still counted as used once: deleting it is refused.
    assert_eq!(app.delete("/api/message-templates/1", &t).await.status, 409);
}

async fn template_delete_racing_reminder_creates_never_leaves_a_dangling_reminder(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    app.post("/api/message-templates", &t, json!({"template_name": "H-1", "message": TEMPLATE})).await;
    let body = json!({"message_template_id": 1, "reminder_offset": 10, "reminder_patient_count": 3, "reminder_type": "QUEUE"});
    let creates = join_all((0..6).map(|_| app.post("/api/reminder-configs", &t, body.clone())));
    let (replies, del) = futures::join!(creates, app.delete("/api/message-templates/1", &t));
    let made = replies.iter().filter(|r| r.status == 200).count();
    let template_alive = app.get("/api/message-templates/1", &t).await.status == 200;
    // Either the template survived (and every reminder points at it) or it was deleted
    // before any reminder was made (and none was).
    if del.status == 200 {
        assert!(!template_alive && made == 0, "deleted with {made} reminders made: {replies:?}");
    } else {
        assert_eq!(del.status, 409, "{del:?}");
        assert!(template_alive && made > 0);
    }
    let list = app.get("/api/reminder-configs?per_page=100", &t).await;
    assert_eq!(list.body["data"]["total"], made);
    for r in list.body["data"]["data"].as_array().unwrap() {
        assert_eq!(r["message_template"]["id"], 1, "{r}");
    }
}

async fn whatsapp_configs_match_the_seed(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let body = json!({"whatsapp_number": "6281234567890", "waha_api_url": "https://waha.example.com/api/send"});
    let r = app.post("/api/whatsapp-configs", &t, body.clone()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "WhatsApp config created successfully");
    assert_eq!(keys(&r.body["data"]), ["whatsapp_number", "waha_api_url", "updated_at", "created_at", "id"]);
    let dup = app.post("/api/whatsapp-configs", &t, json!({"whatsapp_number": "+62 812-3456-7890", "waha_api_url": "https://other.example.com"})).await;
    assert_error(&dup, 422, "The whatsapp number has already been taken.");
    assert_eq!(dup.body["errors"], json!({"whatsapp_number": ["The whatsapp number has already been taken."]}));
    let bad = app.post("/api/whatsapp-configs", &t, json!({"whatsapp_number": "0812-3456", "waha_api_url": "waha.example.com"})).await;
    assert_eq!(bad.status, 422);
    assert_eq!(keys(&bad.body["errors"]), ["whatsapp_number", "waha_api_url"]);

    let list = app.get("/api/whatsapp-configs", &t).await;
    assert_eq!(list.body["message"], "WhatsApp config list retrieved successfully");
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(keys(&list.body["data"][0]), ["id", "whatsapp_number", "waha_api_url", "created_at", "updated_at", "deleted_at"]);
    let detail = app.get("/api/whatsapp-configs/1", &t).await;
    assert_eq!(detail.body["message"], "WhatsApp config retrieved successfully");
    let upd = app.put("/api/whatsapp-configs/1", &t, json!({"whatsapp_number": "6281234567890", "waha_api_url": "https://waha2.example.com/api/send"})).await;
    assert_eq!(upd.body["message"], "WhatsApp config updated successfully", "{upd:?}");
    assert_eq!(upd.body["data"]["waha_api_url"], "https://waha2.example.com/api/send");
    assert_error(&app.put("/api/whatsapp-configs/9", &t, body.clone()).await, 404, "WhatsApp config not found");
    assert_error(&app.get("/api/whatsapp-configs/9", &t).await, 404, "Whatsapp config not found");
    let del = app.delete("/api/whatsapp-configs/1", &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Whatsapp config deleted successfully"}));
    assert_error(&app.delete("/api/whatsapp-configs/1", &t).await, 404, "Whatsapp config not found");
    // The deleted config's number is free again.
    assert_eq!(app.post("/api/whatsapp-configs", &t, body).await.status, 200);
}

async fn ten_concurrent_creates_of_one_whatsapp_number_give_one(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let replies = join_all((0..10).map(|i| {
        app.post("/api/whatsapp-configs", &t, json!({"whatsapp_number": "6281234567890", "waha_api_url": format!("https://waha{i}.example.com")}))
    }))
    .await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let taken = replies.iter().filter(|r| r.status == 422 && r.body["message"] == "The whatsapp number has already been taken.").count();
    assert_eq!((ok, taken), (1, 9), "{replies:?}");
    assert_eq!(app.get("/api/whatsapp-configs", &t).await.body["data"].as_array().unwrap().len(), 1);
}

async fn ten_concurrent_creates_of_one_config_name_give_one(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let zones = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "UTC", "Asia/Singapore"];
    let replies =
        join_all((0..10).map(|i| app.post("/api/configs", &t, json!({"name": if i % 2 == 0 { "clinic_timezone" } else { "Clinic_Timezone" }, "value": zones[i % 5]}))))
            .await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let taken = replies.iter().filter(|r| r.status == 422 && r.body["errors"]["name"][0] == "The name has already been taken.").count();
    assert_eq!((ok, taken), (1, 9), "{replies:?}");
    assert_eq!(app.get("/api/configs", &t).await.body["data"].as_array().unwrap().len(), 1);
}

async fn configs_match_the_seed_and_check_known_values(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let r = app.post("/api/configs", &t, json!({"name": "clinic_timezone", "value": "Asia/Jakarta"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Config created successfully");
    assert_eq!(keys(&r.body["data"]), ["name", "value", "updated_at", "created_at", "id"]);
    let r = app.post("/api/configs", &t, json!({})).await;
    assert_error(&r, 422, "The name field is required.");
    assert_eq!(r.body["errors"], json!({"name": ["The name field is required."], "value": ["The value field is required."]}));

    // A zone that does not exist: 422, and the stored one is unchanged.
    let r = app.put("/api/configs/1", &t, json!({"name": "clinic_timezone", "value": "Asia/Bandung"})).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body["errors"]["value"][0].as_str().unwrap().contains("valid timezone"), "{r:?}");
    assert_eq!(app.get("/api/configs/1", &t).await.body["data"]["value"], "Asia/Jakarta");
    let r = app.post("/api/configs", &t, json!({"name": "n8n_webhook_url", "value": "not a url"})).await;
    assert!(r.status == 422 && r.body["errors"]["value"][0].as_str().unwrap().contains("URL"), "{r:?}");
    assert_eq!(app.post("/api/configs", &t, json!({"name": "n8n_webhook_url", "value": "https://n8n.example.com/webhook/a2158f48"})).await.status, 200);
    assert_eq!(app.post("/api/configs", &t, json!({"name": "n8n_webhook_secret", "value": "s3cret-s3cret-s3cret"})).await.status, 200);

    let list = app.get("/api/configs", &t).await;
    assert_eq!(list.body["message"], "Config list retrieved successfully");
    assert_eq!(list.body["data"].as_array().unwrap().len(), 3);
    assert_eq!(keys(&list.body["data"][0]), ["id", "name", "value", "created_at", "updated_at", "deleted_at"]);
    let upd = app.put("/api/configs/1", &t, json!({"name": "clinic_timezone", "value": "Asia/Makassar"})).await;
    assert_eq!(upd.body["message"], "Config updated successfully");
    assert_eq!(upd.body["data"]["value"], "Asia/Makassar");
    let taken = app.put("/api/configs/2", &t, json!({"name": "CLINIC_TIMEZONE", "value": "UTC"})).await;
    assert_error(&taken, 422, "The name has already been taken.");
    assert_eq!(app.get("/api/configs/2", &t).await.body["data"]["name"], "n8n_webhook_url");

    // A view-only caller sees the secret masked; a manager sees it.
    let viewer = app.post("/api/auth/permanent-token", &t, json!({"permissions": ["config.view"]})).await.body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/configs/3", &viewer).await.body["data"]["value"], "********");
    assert_eq!(app.get("/api/configs/3", &t).await.body["data"]["value"], "s3cret-s3cret-s3cret");

    assert_error(&app.get("/api/configs/9", &t).await, 404, "config not found");
    let del = app.delete("/api/configs/1", &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Config deleted successfully"}));
    assert_error(&app.delete("/api/configs/1", &t).await, 404, "Config not found");
    assert_eq!(app.post("/api/configs", &t, json!({"name": "clinic_timezone", "value": "UTC"})).await.status, 200, "the name is free again");
}

async fn configuration_routes_check_permissions(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let key = |perms: Value| {
        let app = &app;
        let admin = admin.clone();
        async move { app.post("/api/auth/permanent-token", &admin, json!({"permissions": perms})).await.body["data"]["token"].as_str().unwrap().to_string() }
    };
    let viewer = key(json!(["config.view"])).await;
    let outsider = key(json!(["poly.view"])).await;
    for path in ["/api/message-templates", "/api/reminder-configs", "/api/whatsapp-configs", "/api/configs", "/api/faq"] {
        assert_eq!(app.get(path, &viewer).await.status, 200, "{path}");
        assert_error(&app.get(path, &outsider).await, 403, "This action is unauthorized.");
        assert_error(&app.get(&format!("{path}/1"), &outsider).await, 403, "This action is unauthorized.");
        for (method, p) in [(Method::POST, path.to_string()), (Method::PUT, format!("{path}/1")), (Method::DELETE, format!("{path}/1"))] {
            let r = app.call(method.clone(), &p, Some(&viewer), Some(json!({"name": "x"}))).await;
            assert_error(&r, 403, "This action is unauthorized.");
        }
    }
    assert_error(&app.call(Method::POST, "/api/faq/1", Some(&viewer), Some(json!({"_method": "PUT"}))).await, 403, "This action is unauthorized.");
    assert_eq!(app.call(Method::GET, "/api/configs", None, None).await.status, 401);
}

async fn clinics_do_not_see_each_others_configuration(store: Store) {
    let app = TestApp::spawn(store).await;
    let a = app.admin_token().await;
    let b = app.new_clinic("klinik-b").await;
    app.post("/api/whatsapp-configs", &a, json!({"whatsapp_number": "6281234567890", "waha_api_url": "https://waha.a.id"})).await;
    app.post("/api/configs", &a, json!({"name": "clinic_timezone", "value": "Asia/Jayapura"})).await;
    assert!(app.get("/api/whatsapp-configs", &b).await.body["data"].as_array().unwrap().is_empty());
    assert_error(&app.get("/api/configs/1", &b).await, 404, "config not found");
    // Uniqueness is per clinic.
    assert_eq!(app.post("/api/whatsapp-configs", &b, json!({"whatsapp_number": "6281234567890", "waha_api_url": "https://waha.b.id"})).await.status, 200);
    assert_eq!(app.post("/api/configs", &b, json!({"name": "clinic_timezone", "value": "Asia/Jakarta"})).await.status, 200);
}

on_both_stores!(
    message_templates_match_the_seed,
    template_errors_name_the_problem_and_change_nothing,
    reminder_configs_nest_their_template,
    reminder_config_errors_change_nothing,
    template_delete_racing_reminder_creates_never_leaves_a_dangling_reminder,
    whatsapp_configs_match_the_seed,
    ten_concurrent_creates_of_one_whatsapp_number_give_one,
    ten_concurrent_creates_of_one_config_name_give_one,
    configs_match_the_seed_and_check_known_values,
    configuration_routes_check_permissions,
    clinics_do_not_see_each_others_configuration,
);
