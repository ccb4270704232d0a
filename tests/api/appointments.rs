//! Appointments: holidays, weekly templates and generation, time slots and booking under
//! contention, holds, booking rules. Dates are relative to the clinic's today, so every run
//! books in the future.
use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Reply, Store, TestApp};
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

    /// A schedule of the doctor on `date`, with slots when `slot_minutes` is given.
    async fn schedule(&self, date: &str, start: &str, end: &str, quota: Option<i64>, slot_minutes: Option<i64>) -> i64 {
        let body = json!({"doctor_id": self.doctor, "date": date, "start_time": start, "end_time": end, "quota": quota, "slot_minutes": slot_minutes});
        let r = self.app.post("/api/schedule", &self.admin, body).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"]["id"].as_i64().unwrap()
    }

    async fn book(&self, schedule: i64, slot: Option<&str>, n: usize) -> Reply {
        self.app.post("/api/appointments", &self.admin, booking(schedule, slot, n)).await
    }

    async fn booked(&self, schedule: i64, slot: Option<&str>, n: usize) -> i64 {
        let r = self.book(schedule, slot, n).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"]["id"].as_i64().unwrap()
    }

    /// The schedule's row of `GET /api/appointments/slots` on its date.
    async fn slots(&self, date: &str, schedule: i64) -> Value {
        let r = self.app.get(&format!("/api/appointments/slots?poly_id={}&from={date}", self.poly), &self.admin).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"].as_array().unwrap().iter().find(|s| s["schedule_id"] == schedule).cloned().unwrap_or_else(|| panic!("no schedule {schedule}: {r:?}"))
    }

    /// An API key for a patient-facing app: read slots, hold and confirm.
    async fn patient_app_key(&self) -> String {
        let r = self
            .app
            .post("/api/auth/permanent-token", &self.admin, json!({"token_name": "patient-app", "permissions": ["slots.view", "appointments.hold"]}))
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"]["token"].as_str().unwrap().to_string()
    }

    async fn generate(&self, from: &str, to: &str) -> Value {
        let r = self.app.post("/api/appointments/templates/generate", &self.admin, json!({"from": from, "to": to})).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"].clone()
    }
}

/// Patient `n`'s booking body (WhatsApp 0813000000<n>).
fn booking(schedule: i64, slot: Option<&str>, n: usize) -> Value {
    json!({"schedule_id": schedule, "slot": slot, "patient_name": format!("Pasien {n}"), "whatsapp_number": format!("0813{n:08}"),
        "birth_date": "1990-05-01"})
}

fn slot_of<'a>(row: &'a Value, start: &str) -> &'a Value {
    row["slots"].as_array().unwrap().iter().find(|s| s["start"] == start).unwrap_or_else(|| panic!("no slot {start}: {row}"))
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
    // An update replaces the hours and keeps the active flag when the body leaves it out.
    let r = app.put(&format!("/api/appointments/templates/{afternoon}"), t, json!({"doctor_id": c.doctor, "weekday": "Minggu", "start_time": "14:00", "end_time": "16:00"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!((r.body["data"]["weekday"].as_i64(), r.body["data"]["day"].as_str(), r.body["data"]["active"].as_bool()), (Some(7), Some("Minggu"), Some(false)));
    assert_eq!(app.delete(&format!("/api/appointments/templates/{afternoon}"), t).await.status, 200);
    assert_error(&app.get(&format!("/api/appointments/templates/{afternoon}"), t).await, 404, "Schedule template not found");
    c.template(json!({"doctor_id": c.doctor, "weekday": weekday(7), "start_time": "16:00", "end_time": "17:00", "active": false})).await;

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

async fn slots_are_booked_once_and_refusals_change_nothing(store: Store) {
    let c = Clinic::open(store).await;
    let (app, t) = (&c.app, &c.admin);
    let tomorrow = day(1);
    let sched = c.schedule(&tomorrow, "08:00", "10:00", Some(10), Some(30)).await;
    let row = c.slots(&tomorrow, sched).await;
    let starts: Vec<&str> = row["slots"].as_array().unwrap().iter().map(|s| s["start"].as_str().unwrap()).collect();
    assert_eq!(starts, ["08:00:00", "08:30:00", "09:00:00", "09:30:00"]);
    assert_eq!(slot_of(&row, "08:30:00"), &json!({"start": "08:30:00", "end": "09:00:00", "capacity": 1, "taken": 0, "free": 1, "open": true}));

    let r = c.book(sched, Some("08:30"), 1).await;
    assert_eq!(r.status, 200, "{r:?}");
    let a = &r.body["data"];
    assert_eq!((a["status"].as_str(), a["start_time"].as_str(), a["end_time"].as_str()), (Some("BOOKED"), Some("08:30:00"), Some("09:00:00")));
    assert_eq!((a["date"].as_str(), a["poly_id"].as_i64(), a["doctor_id"].as_i64()), (Some(tomorrow.as_str()), Some(c.poly), Some(c.doctor)));
    assert_eq!(a["whatsapp_number"], "6281300000001");
    let id = a["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/api/appointments/{id}"), t).await.body["data"]["slot"], "08:30:00");
    let row = c.slots(&tomorrow, sched).await;
    assert_eq!((slot_of(&row, "08:30:00")["taken"].as_i64(), slot_of(&row, "08:30:00")["free"].as_i64()), (Some(1), Some(0)));
    assert_eq!((row["booked"].as_i64(), row["free"].as_i64()), (Some(1), Some(9)));

    // The taken slot: 409 in seed 003's words, and nothing changes.
    assert_error(&c.book(sched, Some("08:30"), 2).await, 409, "This time is already taken, choose another free time.");
    // One active booking per patient and poly (4008), naming the booking they have.
    let again = c.book(sched, Some("09:00"), 1).await;
    assert_error(&again, 422, &format!("Pasien 1 is already booked on {tomorrow} at 08:30. Only one active booking per poly is allowed."));
    assert_eq!(again.body["data"]["code"], 4008);
    // Slots that are not the schedule's, a missing slot, bad fields.
    assert_error(&c.book(sched, Some("08:15"), 3).await, 422, "The selected slot is not a time slot of this schedule.");
    assert_error(&c.book(sched, None, 3).await, 422, "The slot field is required for a schedule with time slots.");
    let bad = app.post("/api/appointments", t, json!({"slot": "08:00", "birth_date": "tomorrow"})).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    for field in ["patient_name", "whatsapp_number", "birth_date", "schedule_id"] {
        assert!(bad.body["errors"].get(field).is_some(), "{field}: {bad:?}");
    }
    assert_error(&app.post("/api/appointments", t, booking(999, Some("08:00"), 3)).await, 422, "The selected schedule id is invalid.");
    let row = c.slots(&tomorrow, sched).await;
    assert_eq!(row["booked"], 1, "refusals took no place: {row}");
    let day_list = app.get(&format!("/api/appointments?date={tomorrow}"), t).await;
    assert_eq!(day_list.body["data"].as_array().unwrap().len(), 1, "{day_list:?}");

    // A holiday closes the day for booking.
    let later = c.schedule(&day(2), "08:00", "10:00", None, Some(30)).await;
    assert_eq!(app.post("/api/appointments/holidays", t, json!({"date": day(2), "name": "Cuti bersama"})).await.status, 200);
    assert_error(&c.book(later, Some("08:00"), 4).await, 422, &format!("The clinic is closed on {} (Cuti bersama).", day(2)));
    let closed = c.slots(&day(2), later).await;
    assert_eq!((closed["closed"].as_str(), slot_of(&closed, "08:00:00")["open"].as_bool()), (Some("Cuti bersama"), Some(false)));

    // Reading slots is slots.view; booking is appointments.book.
    let asisten = staff_token(app, t, "asisten", json!([5])).await;
    assert_eq!(app.get(&format!("/api/appointments/slots?poly_id={}", c.poly), &asisten).await.status, 200);
    assert_error(&app.post("/api/appointments", &asisten, booking(sched, Some("09:00"), 5)).await, 403, "This action is unauthorized.");
    assert_error(&app.get(&format!("/api/appointments/slots?from={tomorrow}"), t).await, 422, "The poly id field is required when doctor id is not present.");

    // Booked slots cannot be re-cut under their bookings.
    let recut = json!({"doctor_id": c.doctor, "date": tomorrow, "start_time": "08:00", "end_time": "10:00", "quota": 10, "slot_minutes": 20});
    assert_error(&app.put(&format!("/api/schedule/{sched}"), t, recut).await, 409, "The schedule has booked reservations; its time slots cannot be changed.");
    assert_eq!(c.slots(&tomorrow, sched).await["slots"].as_array().unwrap().len(), 4);
}

async fn two_hundred_bookings_of_one_slot_give_exactly_one(store: Store) {
    let c = Clinic::open(store).await;
    let tomorrow = day(1);
    let sched = c.schedule(&tomorrow, "08:00", "09:00", None, Some(15)).await;
    // On DynamoDB half the requests go to a second server on the same table, as two Lambda instances would.
    let twin = if store == Store::DynamoDb { Some(c.app.twin().await) } else { None };
    let replies = join_all((0..200).map(|n| {
        let app = match &twin {
            Some(t) if n % 2 == 1 => t,
            _ => &c.app,
        };
        app.post("/api/appointments", &c.admin, booking(sched, Some("08:15"), n))
    }))
    .await;
    let ok: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 1, "exactly one booking lands");
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_error(r, 409, "This time is already taken, choose another free time.");
    }
    let row = c.slots(&tomorrow, sched).await;
    assert_eq!(slot_of(&row, "08:15:00")["taken"], 1, "{row}");
    assert_eq!(row["booked"], 1, "{row}");
    let list = c.app.get(&format!("/api/appointments?date={tomorrow}&poly_id={}", c.poly), &c.admin).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1, "{list:?}");
}

async fn holds_race_for_the_last_places_and_confirm_or_release(store: Store) {
    let c = Clinic::open(store).await;
    let app = &c.app;
    let key = c.patient_app_key().await;
    let tomorrow = day(1);
    // A schedule booked as a whole (no slots) with 3 places, one taken by reception.
    let sched = c.schedule(&tomorrow, "08:00", "12:00", Some(3), None).await;
    c.booked(sched, None, 1000).await;
    let hold = |n: usize| {
        let mut b = booking(sched, None, n);
        b["reserve_minutes"] = json!(5);
        app.post("/api/appointments/holds", &key, b)
    };
    let replies = join_all((0..30).map(hold)).await;
    let held: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(held.len(), 2, "two places were left");
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_error(r, 422, "Quota is full");
    }
    let row = c.slots(&tomorrow, sched).await;
    assert_eq!((row["booked"].as_i64(), row["free"].as_i64()), (Some(3), Some(0)), "never over quota: {row}");
    let h = &held[0].body["data"];
    assert_eq!(h["reserve_minutes"], 5);
    assert_eq!(h["start_time"], "08:00:00");
    assert!(h["expires_at"].as_str().unwrap().ends_with('Z'));

    // Confirming turns the hold into a booking on the same place; the hold is gone.
    let id = h["id"].as_str().unwrap();
    let r = app.post(&format!("/api/appointments/holds/{id}/confirm"), &key, json!(null)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!((r.body["data"]["status"].as_str(), r.body["data"]["source"].as_str()), (Some("BOOKED"), Some("hold")));
    assert_error(&app.post(&format!("/api/appointments/holds/{id}/confirm"), &key, json!(null)).await, 404, "Hold not found");
    assert_eq!(c.slots(&tomorrow, sched).await["booked"], 3);
    // Releasing the other gives its place back.
    let other = held[1].body["data"]["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/appointments/holds/{other}"), &key).await.status, 200);
    assert_eq!(c.slots(&tomorrow, sched).await["free"], 1);
    assert_error(&app.post("/api/appointments/holds/1-nothing/confirm", &key, json!(null)).await, 404, "Hold not found");

    // The window is 1–30 minutes; the key may read slots and hold, nothing else.
    let mut b = booking(sched, None, 77);
    b["reserve_minutes"] = json!(31);
    assert_error(&app.post("/api/appointments/holds", &key, b).await, 422, "The reserve minutes field must be between 1 and 30.");
    assert_eq!(app.get(&format!("/api/appointments/slots?poly_id={}&from={tomorrow}", c.poly), &key).await.status, 200);
    assert_error(&app.post("/api/appointments", &key, booking(sched, None, 78)).await, 403, "This action is unauthorized.");
    assert_error(&app.get(&format!("/api/appointments?date={tomorrow}"), &key).await, 403, "This action is unauthorized.");
}

async fn booking_rules_refuse_with_the_seed_codes(store: Store) {
    let c = Clinic::open(store).await;
    let (app, t) = (&c.app, &c.admin);
    let sched = c.schedule(&day(1), "08:00", "12:00", None, Some(30)).await;
    let r = app.get(&format!("/api/appointments/rules/{}", c.poly), t).await;
    assert_eq!(r.body["data"]["one_active_per_poly"], true, "defaults: {r:?}");
    let r = app.put(&format!("/api/appointments/rules/{}", c.poly), t, json!({"age_categories": ["child"], "days_ahead": 3, "max_reschedules": 1})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["age_categories"], json!(["CHILD"]));

    // An adult at a children-only poly (4005); no birth date at all; a child books.
    let adult = c.book(sched, Some("08:00"), 1).await;
    assert_error(&adult, 422, "This poly is for children: patients aged 18 and older cannot book it.");
    assert_eq!(adult.body["data"]["code"], 4005);
    let mut unknown = booking(sched, Some("08:00"), 2);
    unknown["birth_date"] = Value::Null;
    assert_error(&app.post("/api/appointments", t, unknown).await, 422, "The birth date field is required for this poly.");
    let child_born = (crate::reservations::clinic_today() - chrono::Duration::days(365 * 6)).format("%Y-%m-%d").to_string();
    let mut child = booking(sched, Some("08:00"), 3);
    child["birth_date"] = json!(child_born);
    assert_eq!(app.post("/api/appointments", t, child.clone()).await.status, 200);

    // Adults only now: the child is outside the allowed groups (4029).
    app.put(&format!("/api/appointments/rules/{}", c.poly), t, json!({"age_categories": ["ADULT"], "days_ahead": 3})).await;
    child["slot"] = json!("08:30");
    child["whatsapp_number"] = json!("081399999999");
    let r = app.post("/api/appointments", t, child).await;
    assert_error(&r, 422, "Booking is not available for this age group: the clinic allows ADULT at this poly.");
    assert_eq!(r.body["data"]["code"], 4029);

    // Booking opens 3 days ahead.
    let far = c.schedule(&day(5), "08:00", "12:00", None, Some(30)).await;
    let opens = day(2);
    assert_error(&c.book(far, Some("08:00"), 4).await, 422, &format!("Booking opens 3 days ahead: {} can be booked from {opens}.", day(5)));

    // Bad rules name their fields and change nothing.
    let bad = app.put(&format!("/api/appointments/rules/{}", c.poly), t, json!({"age_categories": ["OLD"], "days_ahead": -1, "closes_minutes_before": "x"})).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    for field in ["age_categories", "days_ahead", "closes_minutes_before"] {
        assert!(bad.body["errors"].get(field).is_some(), "{field}: {bad:?}");
    }
    assert_eq!(app.get(&format!("/api/appointments/rules/{}", c.poly), t).await.body["data"]["age_categories"], json!(["ADULT"]));
    assert_error(&app.put("/api/appointments/rules/99", t, json!({})).await, 404, "Poly not found");
}

async fn reschedule_cancel_and_check_in(store: Store) {
    let c = Clinic::open(store).await;
    let (app, t) = (&c.app, &c.admin);
    let tomorrow = day(1);
    let sched = c.schedule(&tomorrow, "08:00", "10:00", None, Some(30)).await;
    app.put(&format!("/api/appointments/rules/{}", c.poly), t, json!({"max_reschedules": 1})).await;
    let id = c.booked(sched, Some("08:00"), 1).await;
    let other = c.booked(sched, Some("09:30"), 2).await;

    // Moving onto a taken slot changes nothing.
    let r = app.patch(&format!("/api/appointments/{id}/reschedule"), t, json!({"schedule_id": sched, "slot": "09:30"})).await;
    assert_error(&r, 409, "This time is already taken, choose another free time.");
    assert_eq!(app.get(&format!("/api/appointments/{id}"), t).await.body["data"]["start_time"], "08:00:00");
    // A free slot: taken there, freed here, counted.
    let r = app.patch(&format!("/api/appointments/{id}/reschedule"), t, json!({"schedule_id": sched, "slot": "09:00"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!((r.body["data"]["start_time"].as_str(), r.body["data"]["reschedule_count"].as_i64()), (Some("09:00:00"), Some(1)));
    let row = c.slots(&tomorrow, sched).await;
    assert_eq!((slot_of(&row, "08:00:00")["taken"].as_i64(), slot_of(&row, "09:00:00")["taken"].as_i64()), (Some(0), Some(1)));
    assert_eq!(row["booked"], 2, "{row}");
    // The clinic allows one reschedule; to another day's schedule it would be a second.
    let later = c.schedule(&day(2), "08:00", "10:00", None, Some(30)).await;
    let r = app.patch(&format!("/api/appointments/{id}/reschedule"), t, json!({"schedule_id": later, "slot": "08:00"})).await;
    assert_error(&r, 422, "This appointment has been rescheduled 1 times, the most the clinic allows.");

    // Reception books and moves appointments; an assistant nurse cannot.
    let asisten = staff_token(app, t, "asisten", json!([5])).await;
    let r = app.patch(&format!("/api/appointments/{id}/reschedule"), &asisten, json!({"schedule_id": sched, "slot": "08:30"})).await;
    assert_error(&r, 403, "This action is unauthorized.");
    assert_error(&app.patch(&format!("/api/appointments/{id}/cancel"), &asisten, json!({"reason": "x"})).await, 403, "This action is unauthorized.");
    // Cancel needs a reason, gives the place back and lets the patient book again.
    assert_error(&app.patch(&format!("/api/appointments/{other}/cancel"), t, json!({})).await, 422, "The reason field is required.");
    let r = app.patch(&format!("/api/appointments/{other}/cancel"), t, json!({"reason": "Pasien berhalangan"})).await;
    assert_eq!((r.status.as_u16(), r.body["data"]["status"].as_str()), (200, Some("CANCELLED")), "{r:?}");
    assert_eq!(r.body["data"]["cancel_reason"], "Pasien berhalangan");
    assert_error(&app.patch(&format!("/api/appointments/{other}/cancel"), t, json!({"reason": "lagi"})).await, 409, "The appointment is CANCELLED; it cannot be cancelled.");
    assert_eq!(slot_of(&c.slots(&tomorrow, sched).await, "09:30:00")["taken"], 0);
    c.booked(sched, Some("09:30"), 2).await;
    // Not its day: no check-in yet.
    assert_error(&app.patch(&format!("/api/appointments/{id}/check-in"), t, json!(null)).await, 422, &format!("Check-in is only possible on the appointment's day ({tomorrow})."));

    // Today (a schedule for the whole day with 2 places): the arrival gets the day's queue
    // number on the place it holds; a walk-in takes the other place, and then it is full.
    let today = c.schedule(&day(0), "00:00", "23:59", Some(2), None).await;
    let visit = c.booked(today, None, 5).await;
    let r = app.patch(&format!("/api/appointments/{visit}/check-in"), t, json!(null)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["appointment"]["status"], "ARRIVED");
    assert_eq!(r.body["data"]["queue"]["queue_number"], 1);
    let reservation = r.body["data"]["queue"]["reservation_id"].as_i64().unwrap();
    assert_eq!(r.body["data"]["appointment"]["reservation_id"], reservation);
    let res = app.get(&format!("/api/reservation/{reservation}"), t).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.body["data"]["reservation"]["schedule_id"], today);
    assert_error(&app.patch(&format!("/api/appointments/{visit}/check-in"), t, json!(null)).await, 409, "The appointment is ARRIVED; it cannot be checked in.");
    let walk_in = json!({"patient_name": "Walk In", "whatsapp_number": "081311112222", "poly_id": c.poly, "schedule_id": today, "date": day(0)});
    let r = app.post("/api/reservation", t, walk_in.clone()).await;
    assert_eq!((r.status.as_u16(), &r.body["data"]["queue"]["queue_number"]), (200, &json!(2)), "{r:?}");
    let mut second = walk_in;
    second["whatsapp_number"] = json!("081311113333");
    second["patient_name"] = json!("Walk In Dua");
    assert_error(&app.post("/api/reservation", t, second).await, 422, "Quota is full");
    assert_error(&app.get("/api/appointments/999", t).await, 404, "Appointment not found");
}

async fn availability_and_the_fullcalendar_timeline(store: Store) {
    let c = Clinic::open(store).await;
    let (app, t) = (&c.app, &c.admin);
    let (d1, d2) = (day(1), day(2));
    let first = c.schedule(&d1, "08:00", "09:00", None, Some(30)).await;
    c.schedule(&d2, "10:00", "11:00", Some(5), Some(30)).await;
    let booked = c.booked(first, Some("08:00"), 1).await;

    let r = app.get(&format!("/api/appointments/availability?doctor_id={}&days=3", c.doctor), t).await;
    assert_eq!(r.status, 200, "{r:?}");
    let days = r.body["data"].as_array().unwrap();
    assert_eq!(days.len(), 2, "{r:?}");
    assert_eq!((days[0]["date"].as_str(), days[0]["free"].as_i64()), (Some(d1.as_str()), Some(1)));
    assert_eq!(days[0]["first_free"]["start"], "08:30:00");
    assert_eq!((days[1]["date"].as_str(), days[1]["first_free"]["start"].as_str()), (Some(d2.as_str()), Some("10:00:00")));
    // Full: the day drops out.
    c.booked(first, Some("08:30"), 2).await;
    let r = app.get(&format!("/api/appointments/availability?poly_id={}&days=3", c.poly), t).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1, "{r:?}");
    assert_error(&app.get("/api/appointments/availability?poly_id=1&days=99", t).await, 422, "The days field must be between 1 and 31.");

    let r = app.get(&format!("/api/appointments/timeline?doctor_id={}&date={d1}", c.doctor), t).await;
    assert_eq!(r.status, 200, "{r:?}");
    let events = r.body.as_array().unwrap();
    assert_eq!(events.len(), 2, "{r:?}");
    let e = &events[0];
    assert_eq!(e["id"], booked.to_string());
    assert_eq!(e["title"], "Pasien 1");
    assert_eq!((e["start"].as_str(), e["end"].as_str()), (Some(format!("{d1}T08:00:00").as_str()), Some(format!("{d1}T08:30:00").as_str())));
    assert_eq!(e["resourceId"], c.doctor.to_string());
    assert_eq!(e["status"], "BOOKED");
    let week = app.get(&format!("/api/appointments/timeline?poly_id={}&date={}&view=week", c.poly, day(0)), t).await;
    assert_eq!(week.body.as_array().unwrap().len(), 2, "{week:?}");
    let empty = app.get(&format!("/api/appointments/timeline?poly_id={}&date={d2}", c.poly), t).await;
    assert_eq!(empty.body, json!([]));
    assert_error(&app.get("/api/appointments/timeline?view=month", t).await, 422, "The view field must be day or week.");
}

/// Every appointment route is in the OpenAPI document the dev server serves.
async fn the_routes_are_documented(store: Store) {
    let app = TestApp::spawn(store).await;
    let r = app.client.get(format!("{}/api/openapi.json", app.base)).send().await.unwrap();
    let doc: Value = r.json().await.unwrap();
    for path in ["/api/appointments", "/api/appointments/{id}", "/api/appointments/holidays", "/api/appointments/holidays/{date}",
        "/api/appointments/templates", "/api/appointments/templates/generate", "/api/appointments/templates/{id}/activate",
        "/api/appointments/slots", "/api/appointments/holds", "/api/appointments/holds/{id}/confirm", "/api/appointments/{id}/reschedule",
        "/api/appointments/{id}/cancel", "/api/appointments/{id}/check-in", "/api/appointments/rules/{poly_id}", "/api/appointments/availability",
        "/api/appointments/timeline", "/api/appointments/no-shows"]
    {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
}

on_both_stores!(
    the_routes_are_documented,
    holidays_are_kept_per_date,
    templates_generate_schedules_once_and_skip_holidays,
    slots_are_booked_once_and_refusals_change_nothing,
    two_hundred_bookings_of_one_slot_give_exactly_one,
    holds_race_for_the_last_places_and_confirm_or_release,
    booking_rules_refuse_with_the_seed_codes,
    reschedule_cancel_and_check_in,
    availability_and_the_fullcalendar_timeline,
);
