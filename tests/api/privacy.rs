//! UU PDP (issue 14): a clinic admin exports everything stored about one patient, erases the
//! patient's personal data everywhere it is stored (the raw table is scanned), and reads who
//! looked at the record; the reports count the same visits before and after.
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store};
use crate::on_both_stores;
use crate::reservations::{day, doctor, schedule, Desk};
use crate::table_scan::items_containing;

const NAME: &str = "Sulastri Wibowo";
const WHATSAPP: &str = "081298765432";
const BPJS: &str = "0009876543210";
const EMAIL: &str = "sulastri.w@contoh.id";
const CHECKUP_NOTE: &str = "Kontrol gula darah, keluhan kesemutan";

/// What must be gone from every item once the patient is erased (the WhatsApp number is
/// stored as 6281298765432: its tail catches every form).
const TRACES: [&str; 6] = ["sulastri", "wibowo", "81298765432", BPJS, EMAIL, "kesemutan"];

async fn report_totals(desk: &Desk) -> Value {
    let (app, t, today) = (&desk.app, &desk.admin, &desk.today);
    let period = format!("date_from={today}&date_to={today}");
    let visits = app.get(&format!("/api/reports/patient-visits?{period}&per_page=100"), t).await;
    assert_eq!(visits.status, 200, "{visits:?}");
    let bpjs = app.get(&format!("/api/reports/bpjs-vs-general?{period}"), t).await;
    let date = super::reservations::clinic_today();
    let ymd = format!("year={}&month={}&day={}", date.format("%Y"), date.format("%m"), date.format("%d"));
    let summary = app.get(&format!("/api/dashboard/summary?{ymd}"), t).await;
    let patients = app.get("/api/patients", t).await;
    json!({"visits": visits.body["pagination"]["total"], "bpjs": bpjs.body["data"], "summary": summary.body["data"], "patients": patients.body["data"]["total"]})
}

async fn a_patient_is_exported_erased_and_the_reports_still_count(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    // An n8n that is down: every queue call waits in the outbox, whose payloads the scan reads too.
    let r = app.post("/api/configs", t, json!({"name": "n8n_webhook_url", "value": "http://127.0.0.1:9/webhook"})).await;
    assert_eq!(r.status, 200, "{r:?}");

    // Sulastri books an appointment, arrives (check-in registers her and queues her), and
    // has a check-up schedule; Pasien 2 is another patient who must stay as he is.
    let ratna = doctor(app, t, "ratna", desk.poly).await;
    let whole_day = schedule(app, t, ratna, &day(0), "00:00", "23:59", Some(5)).await;
    let r = app.post("/api/appointments", t, json!({"schedule_id": whole_day, "patient_name": NAME, "whatsapp_number": WHATSAPP, "no_bpjs": BPJS, "email": EMAIL, "birth_date": "1961-02-03", "bpjs": true})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let appointment = r.body["data"]["id"].as_i64().unwrap();
    let r = app.patch(&format!("/api/appointments/{appointment}/check-in"), t, json!(null)).await;
    assert_eq!(r.status, 200, "{r:?}");
    let reservation = r.body["data"]["queue"]["reservation_id"].as_i64().unwrap();
    let res = app.get(&format!("/api/reservation/{reservation}"), t).await;
    let id = res.body["data"]["reservation"]["patient_id"].as_i64().unwrap();
    let ticket = res.body["data"]["ticket"]["code"].as_str().map(str::to_string);
    let r = app.post("/api/checkup-schedule", t, json!({"patient_id": id, "poly_id": desk.poly, "date": day(14), "description": CHECKUP_NOTE})).await;
    assert_eq!(r.status, 200, "{r:?}");
    desk.reserve(2).await;

    // Reading the record is logged; the export has all of it and logs itself.
    assert_eq!(app.get(&format!("/api/patients/{id}"), t).await.status, 200);
    let export = app.get(&format!("/api/patients/{id}/personal-data"), t).await;
    assert_eq!(export.status, 200, "{export:?}");
    assert_eq!(export.body["message"], "Patient data exported successfully");
    let data = &export.body["data"];
    assert_eq!(data["patient"]["patient_name"], NAME);
    assert_eq!(data["patient"]["whatsapp_number"], "6281298765432");
    assert_eq!(data["reservations"].as_array().unwrap().len(), 1, "{data}");
    assert_eq!(data["reservations"][0]["id"], reservation);
    assert_eq!(data["checkup_schedules"][0]["description"], CHECKUP_NOTE);
    assert_eq!(data["appointments"][0]["id"], appointment);
    assert_eq!(data["appointments"][0]["birth_date"], "1961-02-03");
    let log = app.get(&format!("/api/patients/{id}/access-log"), t).await;
    let actions: Vec<&str> = log.body["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["export", "read"], "{log:?}");
    assert_eq!(log.body["data"][1]["user_name"], "Super Admin", "{log:?}");

    // While she is in the queue the erasure is refused and changes nothing.
    let erase = format!("/api/patients/{id}/erase");
    assert_error(&app.post(&erase, t, json!({"confirm": true})).await, 409, "The patient has a reservation that is not finished; finish or cancel it before erasing the patient's data.");
    for mv in ["anamnesa", "waitingdoctor", "withdoctor", "done"] {
        assert_eq!(app.patch(&format!("/api/queue/{reservation}/{mv}"), t, json!(null)).await.status, 200, "{mv}");
    }
    let r = app.post(&erase, t, json!({})).await;
    assert_eq!(r.status.as_u16(), 422, "{r:?}");
    assert!(!items_containing(&desk.app, "sulastri").await.is_empty(), "nothing erased without confirm");

    assert!(!items_containing(&desk.app, "#OUTBOX").await.is_empty(), "the calls wait in the outbox");
    let before = report_totals(&desk).await;
    let r = app.post(&erase, t, json!({"confirm": true})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Patient data erased successfully");

    // No item of the table holds any of it any more.
    for trace in TRACES {
        let found = items_containing(&desk.app, trace).await;
        assert!(found.is_empty(), "{trace:?} is still stored: {found:#?}");
    }
    // The other patient is untouched; the reports count the same.
    assert!(!items_containing(&desk.app, "Pasien 2").await.is_empty());
    assert_eq!(report_totals(&desk).await, before);
    let period = format!("date_from={}&date_to={}", desk.today, desk.today);
    let visits = app.get(&format!("/api/reports/patient-visits?{period}&per_page=100"), t).await;
    let names: Vec<&str> = visits.body["data"].as_array().unwrap().iter().map(|v| v["patient_name"].as_str().unwrap_or("")).collect();
    assert!(names.contains(&"Pasien dihapus") && names.contains(&"Pasien 2"), "{names:?}");

    // The record answers as gone; its ticket no longer opens; a second erasure is harmless.
    assert_error(&app.get(&format!("/api/patients/{id}"), t).await, 404, "Patient not found");
    if let Some(code) = ticket {
        assert_eq!(app.call(reqwest::Method::GET, &format!("/api/tickets/{code}"), None, None).await.status, 404);
    }
    let again = app.post(&erase, t, json!({"confirm": true})).await;
    assert_eq!((again.status.as_u16(), again.body["message"].as_str()), (200, Some("Patient data was already erased")));
    let log = app.get(&format!("/api/patients/{id}/access-log"), t).await;
    assert_eq!(log.body["data"][0]["action"], "erase", "{log:?}");
    // She may come back as a new patient with the same number.
    let r = app.post("/api/reservation", t, json!({"patient_name": NAME, "whatsapp_number": WHATSAPP, "poly_id": desk.poly, "bpjs": false, "date": desk.today})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_ne!(r.body["data"]["reservation"]["patient_id"].as_i64(), Some(id));
}

async fn only_privacy_holders_reach_it(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    desk.reserve(1).await;
    // Administrasi registers and edits patients, but is not the clinic's data controller.
    let clerk = crate::users::staff_token(app, t, "loket", json!([6])).await;
    for (method, path) in [(reqwest::Method::GET, "/api/patients/1/personal-data"), (reqwest::Method::POST, "/api/patients/1/erase"), (reqwest::Method::GET, "/api/patients/1/access-log")] {
        let r = app.call(method.clone(), path, Some(&clerk), Some(json!({"confirm": true}))).await;
        assert_eq!(r.status.as_u16(), 403, "{method} {path}: {r:?}");
    }
    assert!(!items_containing(app, "Pasien 1").await.is_empty(), "nothing erased");
    assert_error(&app.get("/api/patients/999/personal-data", t).await, 404, "Patient not found");
    assert_error(&app.post("/api/patients/999/erase", t, json!({"confirm": true})).await, 404, "Patient not found");
}

on_both_stores!(a_patient_is_exported_erased_and_the_reports_still_count, only_privacy_holders_reach_it);
