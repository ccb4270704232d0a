//! Appointments: holidays, weekly templates and generation, time slots and booking under
//! contention, holds, booking rules. Dates are relative to the clinic's today, so every run
//! books in the future.
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;
use crate::reservations::{day, doctor};
use crate::users::staff_token;

/// A clinic with Poli Umum and doctor Harris on it.
struct Clinic {
    app: TestApp,
    admin: String,
    poly: i64,
    doctor: i64,
}

impl Clinic {
    async fn open(store: Store) -> Clinic {
        let app = TestApp::spawn(store).await;
        let admin = app.admin_token().await;
        let r = app.post("/api/poly", &admin, json!({"name": "Poli Umum"})).await;
        assert_eq!(r.status, 200, "{r:?}");
        let poly = r.body["data"]["id"].as_i64().unwrap();
        let doctor = doctor(&app, &admin, "harris", poly).await;
        Clinic { app, admin, poly, doctor }
    }

    async fn template(&self, body: Value) -> i64 {
        let r = self.app.post("/api/appointments/templates", &self.admin, body).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"]["id"].as_i64().unwrap()
    }

    async fn generate(&self, from: &str, to: &str) -> Value {
        let r = self.app.post("/api/appointments/templates/generate", &self.admin, json!({"from": from, "to": to})).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"].clone()
    }
}

/// 1 = Monday … 7 = Sunday, of `day(offset)`.
fn weekday(offset: i64) -> u32 {
    use chrono::Datelike;
    (crate::reservations::clinic_today() + chrono::Duration::days(offset)).weekday().number_from_monday()
}

fn dates_of(list: &Value, reason: Option<&str>) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|r| reason.is_none_or(|want| r["reason"] == want))
        .map(|r| r["date"].as_str().unwrap().to_string())
        .collect()
}

async fn holidays_are_kept_per_date(store: Store) {
    let c = Clinic::open(store).await;
    let (app, t) = (&c.app, &c.admin);
    let r = app.post("/api/appointments/holidays", t, json!({"date": day(8), "name": "Idul Fitri", "description": "Libur nasional"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["date"], day(8));
    assert_eq!(r.body["data"]["name"], "Idul Fitri");
    // One holiday per date; bad bodies name every field and change nothing.
    let again = app.post("/api/appointments/holidays", t, json!({"date": day(8), "name": "Lagi"})).await;
    assert_error(&again, 422, "There is already a holiday on this date.");
    let bad = app.post("/api/appointments/holidays", t, json!({"date": "31-12-2026", "name": ""})).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    assert_eq!(bad.body["errors"]["date"], json!(["The date field must match the format Y-m-d."]));
    assert_eq!(bad.body["errors"]["name"], json!(["The name field is required."]));

    let list = app.get(&format!("/api/appointments/holidays?from={}&to={}", day(0), day(30)), t).await;
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(dates_of(&list.body["data"], None), vec![day(8)]);

    // Renamed, then moved to another date: the old date is free again.
    let r = app.put(&format!("/api/appointments/holidays/{}", day(8)), t, json!({"name": "Lebaran"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(app.get(&format!("/api/appointments/holidays/{}", day(8)), t).await.body["data"]["name"], "Lebaran");
    let r = app.put(&format!("/api/appointments/holidays/{}", day(8)), t, json!({"name": "Lebaran", "date": day(9)})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_error(&app.get(&format!("/api/appointments/holidays/{}", day(8)), t).await, 404, "Holiday not found");
    assert_error(&app.get("/api/appointments/holidays/2026-13-40", t).await, 404, "Holiday not found");
    assert_eq!(app.delete(&format!("/api/appointments/holidays/{}", day(9)), t).await.status, 200);
    assert_error(&app.delete(&format!("/api/appointments/holidays/{}", day(9)), t).await, 404, "Holiday not found");

    // Reading is schedules.view, changing schedules.manage.
    let asisten = staff_token(app, t, "asisten", json!([5])).await;
    assert_eq!(app.get("/api/appointments/holidays", &asisten).await.status, 200);
    assert_error(&app.post("/api/appointments/holidays", &asisten, json!({"date": day(3), "name": "x"})).await, 403, "This action is unauthorized.");
}

async fn templates_generate_schedules_once_and_skip_holidays(store: Store) {
    let c = Clinic::open(store).await;
    let (app, t) = (&c.app, &c.admin);
    let morning = c
        .template(json!({"doctor_id": c.doctor, "weekday": weekday(7), "start_time": "08:00", "end_time": "12:00", "quota": 8, "slot_minutes": 30}))
        .await;
    let next_day = c.template(json!({"doctor_id": c.doctor, "weekday": weekday(8), "start_time": "08:00", "end_time": "12:00"})).await;
    let afternoon = c.template(json!({"doctor_id": c.doctor, "weekday": weekday(7), "start_time": "13:00", "end_time": "15:00", "active": false})).await;
    let r = app.get(&format!("/api/appointments/templates/{morning}"), t).await;
    assert_eq!(r.body["data"]["poly_id"], c.poly, "the doctor's poly");
    assert_eq!(r.body["data"]["start_time"], "08:00:00");
    assert_eq!(r.body["data"]["active"], true);
    assert_eq!(app.get(&format!("/api/appointments/templates/{afternoon}"), t).await.body["data"]["active"], false);
    assert_eq!(app.post("/api/appointments/holidays", t, json!({"date": day(8), "name": "Libur"})).await.status, 200);

    // The week from day 7: the morning template on day 7; the next day is a holiday.
    let g = c.generate(&day(7), &day(13)).await;
    assert_eq!(dates_of(&g["created"], None), vec![day(7)], "{g}");
    assert_eq!(g["created"][0]["template_id"], morning);
    assert_eq!(dates_of(&g["skipped"], Some("holiday")), vec![day(8)], "{g}");
    assert_eq!(g["skipped"][0]["template_id"], next_day);
    let sched = app.get(&format!("/api/schedule?date={}", day(7)), t).await;
    let rows = sched.body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{sched:?}");
    assert_eq!((rows[0]["start_time"].as_str(), rows[0]["quota"].as_i64()), (Some("08:00:00"), Some(8)));

    // Twice: nothing new, and the answer says why.
    let g = c.generate(&day(7), &day(13)).await;
    assert_eq!(g["created"], json!([]), "{g}");
    assert_eq!(dates_of(&g["skipped"], Some("exists")), vec![day(7)], "{g}");
    assert_eq!(dates_of(&g["skipped"], Some("holiday")), vec![day(8)], "{g}");

    // Activated, the afternoon template adds its own hours beside the morning.
    let r = app.put(&format!("/api/appointments/templates/{afternoon}/activate"), t, json!(null)).await;
    assert_eq!((r.status.as_u16(), &r.body["data"]["active"]), (200, &json!(true)), "{r:?}");
    let g = c.generate(&day(7), &day(7)).await;
    assert_eq!(g["created"].as_array().unwrap().len(), 1, "{g}");
    assert_eq!(g["created"][0]["template_id"], afternoon);
    let r = app.put(&format!("/api/appointments/templates/{afternoon}/deactivate"), t, json!(null)).await;
    assert_eq!(r.body["data"]["active"], false, "{r:?}");
    let list = app.get(&format!("/api/appointments/templates?doctor_id={}", c.doctor), t).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 3, "{list:?}");

    // Bad input names every problem and changes nothing.
    let bad = app.post("/api/appointments/templates", t, json!({"doctor_id": 999, "weekday": 9, "start_time": "10:00", "end_time": "09:00", "slot_minutes": 2})).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    for field in ["doctor_id", "weekday", "end_time", "slot_minutes"] {
        assert!(bad.body["errors"].get(field).is_some(), "{field}: {bad:?}");
    }
    let bad = app.post("/api/appointments/templates/generate", t, json!({"from": day(5), "to": day(4)})).await;
    assert_error(&bad, 422, "The to field must be a date after or equal to from.");
    let bad = app.post("/api/appointments/templates/generate", t, json!({"from": day(-1), "to": day(4)})).await;
    assert_error(&bad, 422, "The from field must be a date after or equal to today.");
    assert_eq!(app.get("/api/appointments/templates", t).await.body["data"].as_array().unwrap().len(), 3);
    assert_error(&app.get("/api/appointments/templates/99", t).await, 404, "Schedule template not found");
    let asisten = staff_token(app, t, "asisten", json!([5])).await;
    assert_error(&app.post("/api/appointments/templates/generate", &asisten, json!({"from": day(1), "to": day(2)})).await, 403, "This action is unauthorized.");
}

on_both_stores!(holidays_are_kept_per_date, templates_generate_schedules_once_and_skip_holidays);
