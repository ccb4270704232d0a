//! Seed section "Reservation": create (hands out the queue number), select, detail, update;
//! the rules that hold under concurrency: numbers 1..n without gaps, quotas, one open
//! reservation per patient, poly and day, nothing left behind by a failed create.
use std::collections::BTreeSet;

use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Reply, Store, TestApp};
use crate::on_both_stores;
use crate::users::staff_token;

/// A clinic ready to register patients: Poli Umum (id 1), doctor Harris on it, and today's
/// schedule (08:00–16:00) with the given quota.
pub struct Desk {
    pub app: TestApp,
    pub admin: String,
    pub poly: i64,
    pub doctor: i64,
    pub schedule: i64,
    pub today: String,
}

/// The clinic's today (Asia/Jakarta, the default zone).
pub fn clinic_today() -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&chrono_tz::Asia::Jakarta).date_naive()
}

pub fn day(offset: i64) -> String {
    (clinic_today() + chrono::Duration::days(offset)).format("%Y-%m-%d").to_string()
}

/// Adds a doctor on `poly` and returns their user id.
pub async fn doctor(app: &TestApp, admin: &str, username: &str, poly: i64) -> i64 {
    let r = app
        .post(
            "/api/users",
            admin,
            json!({"name": format!("dr. {username}"), "username": username, "email": format!("{username}@mail.com"), "password": "dokter123",
                "password_confirmation": "dokter123", "roles": [3], "poly_id": poly}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["id"].as_i64().unwrap()
}

pub async fn schedule(app: &TestApp, admin: &str, doctor: i64, date: &str, start: &str, end: &str, quota: Option<i64>) -> i64 {
    let r = app.post("/api/schedule", admin, json!({"doctor_id": doctor.to_string(), "date": date, "start_time": start, "end_time": end, "quota": quota})).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["id"].as_i64().unwrap()
}

impl Desk {
    pub async fn open(store: Store, quota: Option<i64>) -> Desk {
        let app = TestApp::spawn(store).await;
        let admin = app.admin_token().await;
        let r = app.post("/api/poly", &admin, json!({"name": "Poli Umum"})).await;
        assert_eq!(r.status, 200, "{r:?}");
        let poly = r.body["data"]["id"].as_i64().unwrap();
        let doctor = doctor(&app, &admin, "harris", poly).await;
        let today = day(0);
        let schedule = schedule(&app, &admin, doctor, &today, "08:00", "16:00", quota).await;
        Desk { app, admin, poly, doctor, schedule, today }
    }

    /// The seed's create body for patient `n` (WhatsApp 0812000000<n>, BPJS 000000000<n>).
    pub fn body(&self, n: usize) -> Value {
        json!({
            "patient_name": format!("Pasien {n}"), "no_bpjs": format!("{n:013}"), "whatsapp_number": format!("0812{n:08}"),
            "email": format!("pasien{n}@gmail.com"), "poly_id": self.poly, "schedule_id": null, "bpjs": n % 2 == 0, "date": self.today,
        })
    }

    pub async fn register(&self, n: usize) -> Reply {
        self.app.post("/api/reservation", &self.admin, self.body(n)).await
    }

    /// Registers patient `n` and returns the reservation id.
    pub async fn reserve(&self, n: usize) -> i64 {
        let r = self.register(n).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"]["reservation"]["id"].as_i64().unwrap()
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(String::as_str).collect()
}

const RESERVATION_KEYS: [&str; 10] = ["id", "patient_id", "poly_id", "schedule_id", "date", "bpjs", "status_id", "created_at", "updated_at", "deleted_at"];

async fn create_detail_and_list_match_the_seed(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let body = json!({"patient_name": "Ahmad Fauzi", "no_bpjs": "0001234567890", "whatsapp_number": "081234567890",
        "email": "ahmad.fauzi@gmail.com", "poly_id": desk.poly, "schedule_id": null, "bpjs": true, "date": desk.today});
    let r = app.post("/api/reservation", t, body.clone()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["status"], "success");
    assert_eq!(r.body["message"], "Reservation successfully created");
    let d = &r.body["data"];
    assert_eq!(keys(&d["patient"]), ["patient_name", "whatsapp_number", "no_bpjs", "email", "updated_at", "created_at", "id"]);
    assert_eq!(d["patient"]["whatsapp_number"], "6281234567890", "stored in the international form");
    assert_eq!(
        keys(&d["reservation"]),
        ["patient_id", "poly_id", "schedule_id", "bpjs", "date", "status_id", "updated_at", "created_at", "id", "status"]
    );
    assert_eq!(d["reservation"]["schedule_id"], desk.schedule, "null schedule_id picks the day's schedule");
    assert_eq!(d["reservation"]["status"]["status_name"], "WAITING");
    assert_eq!(d["reservation"]["status_id"], d["reservation"]["status"]["id"]);
    assert_eq!(keys(&d["queue"]), ["reservation_id", "poly_id", "queue_number", "date", "re_reservation_time", "updated_at", "created_at", "id"]);
    assert_eq!(d["queue"]["queue_number"], 1);
    let time = d["queue"]["re_reservation_time"].as_str().unwrap();
    assert!(time.len() == 8 && time.as_bytes()[2] == b':', "{time}");
    let id = d["reservation"]["id"].as_i64().unwrap();

    // The same patient again (by number and name, any spacing or case) is refused for the same poly and day.
    let again = app.post("/api/reservation", t, json!({"patient_name": "ahmad  FAUZI", "whatsapp_number": "+62 812 3456 7890", "poly_id": desk.poly, "date": desk.today})).await;
    assert_error(&again, 422, "The patient already has an active reservation for this poly on this date.");
    // A number registered under another name.
    let other = app.post("/api/reservation", t, json!({"patient_name": "Budi", "whatsapp_number": "081234567890", "poly_id": desk.poly, "date": desk.today})).await;
    assert_error(&other, 422, "WhatsApp number or BPJS number is already registered with a different patient name");
    let other = app.post("/api/reservation", t, json!({"patient_name": "Budi", "no_bpjs": "0001234567890", "poly_id": desk.poly, "date": desk.today})).await;
    assert_error(&other, 422, "WhatsApp number or BPJS number is already registered with a different patient name");
    let second = desk.reserve(2).await;

    let detail = app.get(&format!("/api/reservation/{id}"), t).await;
    assert_eq!(detail.status, 200, "{detail:?}");
    assert_eq!(detail.body["message"], "Reservation detail retrieved successfully");
    let r = &detail.body["data"]["reservation"];
    let mut expected: Vec<&str> = RESERVATION_KEYS.to_vec();
    expected.extend(["patient", "queue", "status", "poly"]);
    assert_eq!(keys(r), expected);
    assert_eq!(r["patient"]["patient_name"], "Ahmad Fauzi");
    assert_eq!(r["queue"]["queue_number"], 1);
    assert_eq!(r["queue"]["reservation_id"], id);
    assert!(r["queue"]["call_time"].is_null());
    assert_eq!(r["poly"]["name"], "Poli Umum");
    assert_error(&app.get("/api/reservation/999", t).await, 404, "Reservation not found");
    assert_error(&app.get("/api/reservation/abc", t).await, 404, "Reservation not found");

    let list = app.get("/api/reservation?page=1&per_page=1", t).await;
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(list.body["message"], "Reservation list retrieved successfully");
    let page = &list.body["data"];
    assert_eq!((page["current_page"].as_i64(), page["last_page"].as_i64(), page["total"].as_i64()), (Some(1), Some(2), Some(2)));
    assert_eq!(page["data"][0]["id"], second, "newest first");
    assert_eq!(page["data"][0]["queue"]["queue_number"], 2);
    assert!(page["next_page_url"].as_str().unwrap().contains("per_page=1&page=2"), "{page}");
    let by_name = app.get(&format!("/api/reservation?search=ahmad&date={}&poly_id={}", desk.today, desk.poly), t).await;
    assert_eq!(by_name.body["data"]["total"], 1, "{by_name:?}");
    assert_eq!(by_name.body["data"]["data"][0]["id"], id);
    let by_number = app.get("/api/reservation?search=0812345", t).await;
    assert_eq!(by_number.body["data"]["total"], 1, "{by_number:?}");
    let by_bpjs = app.get("/api/reservation?search=0001234567890", t).await;
    assert_eq!(by_bpjs.body["data"]["data"][0]["id"], id);
    let by_status = app.get("/api/reservation?status_id=2", t).await;
    assert_eq!(by_status.body["data"]["total"], 0, "nobody is at anamnesa yet");
    let bad = app.get("/api/reservation?poly_id=x&date=30-12-2025", t).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    assert_eq!(bad.body["errors"]["date"][0], "The date field must match the format Y-m-d.");
}

async fn bad_input_is_refused_and_changes_nothing(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let r = app.post("/api/reservation", t, json!({"patient_name": "", "email": "not-an-email", "bpjs": "maybe"})).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["message"], "The patient name field is required.", "the first error, as Laravel reports it");
    let e = &r.body["errors"];
    assert_eq!(e["patient_name"][0], "The patient name field is required.");
    assert_eq!(e["email"][0], "The email field must be a valid email address.");
    assert_eq!(e["poly_id"][0], "The poly id field is required.");
    assert_eq!(e["date"][0], "The date field is required.");
    assert_eq!(e["bpjs"][0], "The bpjs field must be true or false.");
    let mut past = desk.body(1);
    past["date"] = json!(day(-1));
    let r = app.post("/api/reservation", t, past).await;
    assert_eq!(r.body["errors"]["date"][0], "The date field must be a date after or equal to today.", "{r:?}");
    let mut no_poly = desk.body(1);
    no_poly["poly_id"] = json!(99);
    assert_eq!(app.post("/api/reservation", t, no_poly).await.body["errors"]["poly_id"][0], "The selected poly id is invalid.");
    let mut tomorrow = desk.body(1);
    tomorrow["date"] = json!(day(1));
    assert_error(&app.post("/api/reservation", t, tomorrow.clone()).await, 422, "There is no doctor schedule for this poly on this date.");
    tomorrow["schedule_id"] = json!(desk.schedule);
    let r = app.post("/api/reservation", t, tomorrow).await;
    assert_eq!(r.body["errors"]["schedule_id"][0], "The selected schedule is not for this poly on this date.", "{r:?}");
    let mut unknown = desk.body(1);
    unknown["schedule_id"] = json!(4242);
    assert_eq!(app.post("/api/reservation", t, unknown).await.body["errors"]["schedule_id"][0], "The selected schedule id is invalid.");
    assert_eq!(app.call(reqwest::Method::POST, "/api/reservation", Some(t), None).await.status, 422);

    // Nothing of it was stored: no reservation, no patient, and the first real one is number 1.
    assert_eq!(app.get("/api/reservation", t).await.body["data"]["total"], 0);
    assert_eq!(app.get("/api/patients", t).await.body["data"]["total"], 0);
    let r = desk.register(1).await;
    assert_eq!(r.body["data"]["queue"]["queue_number"], 1, "{r:?}");
    assert_eq!(r.body["data"]["reservation"]["id"], 1);
    assert_eq!(r.body["data"]["patient"]["id"], 1);
}

/// Two hundred receptionists at once: numbers 1..200, each once.
async fn concurrent_creates_number_without_gaps(store: Store) {
    let desk = Desk::open(store, None).await;
    let n = 200;
    let replies = join_all((1..=n).map(|i| desk.register(i))).await;
    let mut numbers = BTreeSet::new();
    for r in &replies {
        assert_eq!(r.status, 200, "{r:?}");
        assert!(numbers.insert(r.body["data"]["queue"]["queue_number"].as_i64().unwrap()), "a number was handed out twice");
    }
    assert_eq!(numbers, (1..=n as i64).collect::<BTreeSet<_>>());
    let list = desk.app.get(&format!("/api/queue?date={}&per_page=100&page=2", desk.today), &desk.admin).await;
    assert_eq!(list.body["data"]["total"], n, "{list:?}");
}

/// Two server instances on one DynamoDB table (two Lambdas): the conditional writes alone keep
/// the numbers right.
async fn two_instances_share_one_counter(store: Store) {
    if store != Store::DynamoDb {
        return;
    }
    let desk = Desk::open(store, None).await;
    let twin = desk.app.twin().await;
    let twin_token = twin.admin_token().await;
    let n = 60;
    let replies = join_all((1..=n).map(|i| {
        let (app, token) = if i % 2 == 0 { (&desk.app, &desk.admin) } else { (&twin, &twin_token) };
        app.post("/api/reservation", token, desk.body(i))
    }))
    .await;
    let numbers: BTreeSet<i64> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{r:?}");
            r.body["data"]["queue"]["queue_number"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(numbers, (1..=n as i64).collect::<BTreeSet<_>>());
}

/// A quota of 25 and 40 callers: exactly 25 places, the rest "Quota is full", and a failed
/// create leaves no patient and burns no number.
async fn the_quota_holds_under_load(store: Store) {
    let desk = Desk::open(store, Some(25)).await;
    let replies = join_all((1..=40).map(|i| desk.register(i))).await;
    let ok: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 25, "{replies:?}");
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_error(r, 422, "Quota is full");
    }
    let numbers: BTreeSet<i64> = ok.iter().map(|r| r.body["data"]["queue"]["queue_number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (1..=25).collect::<BTreeSet<_>>());
    assert_eq!(desk.app.get("/api/patients", &desk.admin).await.body["data"]["total"], 25, "no patient without a reservation");

    // A second schedule that day: the next number is 26, not a gap left by the refusals.
    let other = doctor(&desk.app, &desk.admin, "rina", desk.poly).await;
    schedule(&desk.app, &desk.admin, other, &desk.today, "16:00", "20:00", None).await;
    let r = desk.register(41).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["queue"]["queue_number"], 26);
    // The first schedule is full; the one with room was picked.
    assert_ne!(r.body["data"]["reservation"]["schedule_id"], desk.schedule);
    // Cancelling gives the place back.
    let first = ok[0].body["data"]["reservation"]["id"].as_i64().unwrap();
    let cancel = desk.app.patch(&format!("/api/queue/{first}/cancelled"), &desk.admin, json!(null)).await;
    assert_eq!(cancel.status, 200, "{cancel:?}");
    let mut again = desk.body(42);
    again["schedule_id"] = json!(desk.schedule);
    let r = desk.app.post("/api/reservation", &desk.admin, again).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["queue"]["queue_number"], 27);
}

async fn update_changes_details_never_the_number(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let id = desk.reserve(1).await;
    desk.reserve(2).await;
    let mut body = desk.body(1);
    body["patient_name"] = json!("Pasien Satu");
    body["email"] = json!("satu@gmail.com");
    body["no_bpjs"] = json!("0001234567891");
    body["bpjs"] = json!(true);
    let r = app.put(&format!("/api/reservation/{id}"), t, body.clone()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Reservation successfully updated");
    assert_eq!(r.body["data"]["patient"]["patient_name"], "Pasien Satu");
    assert_eq!(r.body["data"]["patient"]["no_bpjs"], "0001234567891");
    let res = &r.body["data"]["reservation"];
    assert_eq!(res["bpjs"], true);
    let mut expected: Vec<&str> = RESERVATION_KEYS.to_vec();
    expected.extend(["patient", "status"]);
    assert_eq!(keys(res), expected);
    let detail = app.get(&format!("/api/reservation/{id}"), t).await;
    assert_eq!(detail.body["data"]["reservation"]["queue"]["queue_number"], 1);
    assert_eq!(detail.body["data"]["reservation"]["patient"]["email"], "satu@gmail.com");
    // The new name is searchable, the old one no more.
    assert_eq!(app.get("/api/reservation?search=satu", t).await.body["data"]["total"], 1);

    let mut moved = body.clone();
    moved["date"] = json!(day(1));
    assert_error(
        &app.put(&format!("/api/reservation/{id}"), t, moved).await,
        422,
        "The poly and date of a reservation cannot be changed, as its queue number belongs to them. Cancel this reservation and create a new one instead.",
    );
    let mut taken = body.clone();
    taken["whatsapp_number"] = json!(desk.body(2)["whatsapp_number"]);
    let r = app.put(&format!("/api/reservation/{id}"), t, taken).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"]["whatsapp_number"][0], "The whatsapp number has already been taken.");
    assert_error(&app.put("/api/reservation/77", t, body).await, 404, "Reservation not found");
}

async fn clinics_and_roles_are_kept_apart(store: Store) {
    let desk = Desk::open(store, None).await;
    let id = desk.reserve(1).await;
    let other = desk.app.new_clinic("sehat").await;
    assert_error(&desk.app.get(&format!("/api/reservation/{id}"), &other).await, 404, "Reservation not found");
    assert_eq!(desk.app.get("/api/reservation", &other).await.body["data"]["total"], 0);
    assert_error(&desk.app.patch(&format!("/api/queue/{id}/anamnesa"), &other, json!(null)).await, 404, "Reservation not found");
    // A doctor reads reservations but does not register patients or cancel them.
    let dokter = staff_token(&desk.app, &desk.admin, "dokter2", json!([3])).await;
    assert_eq!(desk.app.get("/api/reservation", &dokter).await.status, 200);
    assert_eq!(desk.app.post("/api/reservation", &dokter, desk.body(2)).await.status, 403);
    assert_eq!(desk.app.patch(&format!("/api/queue/{id}/cancelled"), &dokter, json!(null)).await.status, 403);
    assert_eq!(desk.app.call(reqwest::Method::GET, "/api/reservation", None, None).await.status, 401);
}

/// A schedule with bookings keeps them: no delete, no quota below the booked count.
async fn a_booked_schedule_keeps_its_places(store: Store) {
    let desk = Desk::open(store, Some(5)).await;
    let (app, t) = (&desk.app, &desk.admin);
    for n in 1..=3 {
        desk.reserve(n).await;
    }
    let path = format!("/api/schedule/{}", desk.schedule);
    assert_error(&app.delete(&path, t).await, 409, "The schedule has booked reservations and cannot be deleted.");
    let shrink = json!({"doctor_id": desk.doctor, "date": desk.today, "start_time": "08:00", "end_time": "16:00", "quota": 2});
    assert_error(&app.put(&path, t, shrink).await, 409, "The schedule has 3 booked reservations; the quota cannot be lower than that.");
    let fits = json!({"doctor_id": desk.doctor, "date": desk.today, "start_time": "08:00", "end_time": "16:00", "quota": 3});
    assert_eq!(app.put(&path, t, fits).await.status, 200);
    assert_error(&desk.register(4).await, 422, "Quota is full");
}

on_both_stores!(
    a_booked_schedule_keeps_its_places,
    create_detail_and_list_match_the_seed,
    bad_input_is_refused_and_changes_nothing,
    concurrent_creates_number_without_gaps,
    two_instances_share_one_counter,
    the_quota_holds_under_load,
    update_changes_details_never_the_number,
    clinics_and_roles_are_kept_apart,
);
