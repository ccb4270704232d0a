//! Issue 16, the queue's later gaps: a patient sent on to another poly (same ticket, the
//! target's own number, its call-next picks them up, one winner under a race), priority marked
//! after registration, and a closed day taking no new numbers.
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::clinic_flow::{board, call_next, register, status_of, to_the_doctor, waiting_for_doctor};
use crate::helpers::{assert_error, Store};
use crate::on_both_stores;
use crate::reservations::{doctor, schedule, Desk};
use crate::users::staff_token;

/// An n8n stand-in on loopback: the JSON bodies it was sent.
async fn n8n() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let keep = keep.clone();
        async move {
            keep.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook/antrean", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// A second poly with its doctor and a schedule today.
async fn dental(desk: &Desk) -> i64 {
    let (app, t) = (&desk.app, &desk.admin);
    let gigi = app.post("/api/poly", t, json!({"name": "Poli Gigi"})).await.body["data"]["id"].as_i64().unwrap();
    let dentist = doctor(app, t, "drg", gigi).await;
    schedule(app, t, dentist, &desk.today, "08:00", "16:00", None).await;
    gigi
}

/// Patient `n` of the first poly, seen by its doctor and finished.
async fn seen_at_general(desk: &Desk, n: usize) -> i64 {
    let r = register(desk, desk.poly, n, json!({})).await;
    let id = r["id"].as_i64().unwrap();
    to_the_doctor(desk, id).await;
    for mv in ["withdoctor", "done"] {
        assert_eq!(desk.app.patch(&format!("/api/queue/{id}/{mv}"), &desk.admin, json!(null)).await.status, 200);
    }
    id
}

/// The desk's store, its day and its clinic, to read the rollups directly.
async fn the_day(desk: &Desk) -> (antrean_domain::Deps, chrono::NaiveDate, antrean_domain::tenant::Tenant) {
    let day = chrono::NaiveDate::parse_from_str(&desk.today, "%Y-%m-%d").unwrap();
    (desk.app.deps().await, day, antrean_domain::tenant::Tenant::parse("default").unwrap())
}

async fn rollup_of(desk: &Desk, poly: i64) -> antrean_domain::rollup::DayPoly {
    let (deps, day, tenant) = the_day(desk).await;
    let all = antrean_domain::rollup::read(deps.table.as_ref(), &tenant, day, day).await.unwrap();
    all.into_iter().find(|d| d.poly_id == poly).unwrap_or_else(|| antrean_domain::rollup::DayPoly::empty(day, poly))
}

async fn a_patient_sent_on_to_another_poly_keeps_the_ticket_and_joins_its_line(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let gigi = dental(&desk).await;
    let anak = app.post("/api/poly", t, json!({"name": "Poli Anak"})).await.body["data"]["id"].as_i64().unwrap();
    let (url, sent) = n8n().await;
    assert_eq!(app.post("/api/configs", t, json!({"name": "n8n_webhook_url", "value": url})).await.status, 200);
    // Poli Gigi's own patient holds its number 1, waiting for the dentist.
    let own = waiting_for_doctor(&desk, gigi, [20]).await[0];

    let r = desk.register(1).await;
    let (id, code) = (r.body["data"]["reservation"]["id"].as_i64().unwrap(), r.body["data"]["ticket"]["code"].clone());
    to_the_doctor(&desk, id).await;
    let transfer = |body: Value| async move { app.patch(&format!("/api/queue/{id}/transfer"), t, body).await };
    assert_eq!(transfer(json!({"poly_id": gigi})).await.status, 409, "the doctor has not seen them yet");
    for mv in ["withdoctor", "done"] {
        assert_eq!(app.patch(&format!("/api/queue/{id}/{mv}"), t, json!(null)).await.status, 200);
    }
    // Refused with a clear message, nothing changed.
    assert_error(&transfer(json!({"poly_id": 999})).await, 422, "The selected poly id is invalid.");
    assert_error(&transfer(json!({"poly_id": desk.poly})).await, 422, "The patient is already at this poly.");
    assert_error(&transfer(json!({"poly_id": anak})).await, 422, "There is no doctor schedule for this poly on this date.");
    assert_error(&transfer(json!({"poly_id": gigi, "service_id": 1})).await, 422, "Send either service_id or poly_id, not both.");
    let nurse = staff_token(app, t, "perawat", json!([4])).await;
    assert_eq!(app.patch(&format!("/api/queue/{id}/transfer"), &nurse, json!({"poly_id": gigi})).await.status, 403);
    assert_eq!(status_of(&desk, id).await, "DONE");
    assert!(sent.lock().unwrap().iter().all(|b| b["status"] != "TRANSFERRED"), "nothing was sent for a refusal");

    let moved = transfer(json!({"poly_id": gigi})).await;
    assert_eq!(moved.status, 200, "{moved:?}");
    assert_eq!(moved.body["message"], "Patient sent on to another poly successfully");
    let d = &moved.body["data"];
    assert_eq!(
        (d["id"].as_i64(), d["poly_id"].as_i64(), d["poly_name"].as_str(), d["queue_number"].as_i64(), d["status"].as_str()),
        (Some(id), Some(gigi), Some("Poli Gigi"), Some(2), Some("WAITING_DOCTOR")),
        "Poli Gigi's next number, waiting for the dentist: {moved:?}"
    );
    assert_eq!(d["ticket_code"], code, "the same ticket");
    let first = &d["poly_history"][0];
    assert_eq!((first["poly_id"].as_i64(), first["queue_number"].as_i64(), first["status_code"].as_str()), (Some(desk.poly), Some(1), Some("DONE")));
    assert!(first["with_doctor_at"].is_string() && first["finished_at"].is_string(), "the first poly's stages are kept: {first}");
    // n8n hears of the move.
    assert_eq!(moved.body["webhook_status"], "success", "{moved:?}");
    let bodies = sent.lock().unwrap().clone();
    let told = bodies.iter().find(|b| b["status"] == "TRANSFERRED").unwrap_or_else(|| panic!("{bodies:?}"));
    assert_eq!((told["current_queue"].as_str(), told["poly"].as_i64(), told["poly_name"].as_str()), (Some("2"), Some(gigi), Some("Poli Gigi")));

    let detail = app.get(&format!("/api/reservation/{id}"), t).await;
    let r = &detail.body["data"]["reservation"];
    assert_eq!((r["poly_id"].as_i64(), r["poly_history"][0]["poly_name"].as_str()), (Some(gigi), Some("Poli Umum")), "{detail:?}");
    // The ticket page shows the new poly and number.
    let code = code.as_str().unwrap();
    let v = app.call(reqwest::Method::GET, &format!("/api/tickets/{code}"), None, None).await.body["data"].clone();
    assert_eq!((v["poly_name"].as_str(), v["queue_number"].as_i64()), (Some("Poli Gigi"), Some(2)), "{v}");
    // The day's list has the patient once, at Poli Gigi; the first poly's list no longer.
    let q = app.get(&format!("/api/queue?date={}&poly_id={gigi}", desk.today), t).await;
    let numbers: Vec<i64> = q.body["data"]["data"].as_array().unwrap().iter().map(|r| r["queue_number"].as_str().unwrap().parse::<i64>().unwrap()).collect();
    assert_eq!(numbers, [1, 2], "{q:?}");
    let all = app.get(&format!("/api/queue?date={}", desk.today), t).await;
    assert_eq!(all.body["data"]["total"], 2, "{all:?}");
    // The rollups: the first poly still counts its consultation and one sent on; Poli Gigi one more number, come in.
    let umum = rollup_of(&desk, desk.poly).await;
    assert_eq!((umum.total(), umum.done(), umum.moved_out, umum.wait_n), (1, 1, 1, 1), "{umum:?}");
    let g = rollup_of(&desk, gigi).await;
    assert_eq!((g.total(), g.status("WAITING_DOCTOR", None), g.moved_in), (2, 2, 1), "{g:?}");

    // Poli Gigi's call-next picks them up in its own order.
    let a = call_next(&desk, gigi, None).await;
    assert_eq!((a.body["queue_number_with_doctor"].as_i64(), a.body["data"]["current"]["id"].as_i64()), (Some(1), Some(own)), "{a:?}");
    let b = call_next(&desk, gigi, None).await;
    assert_eq!((b.body["queue_number_with_doctor"].as_i64(), b.body["data"]["current"]["id"].as_i64()), (Some(2), Some(id)), "{b:?}");
    assert_eq!(status_of(&desk, id).await, "WITH_DOCTOR");
    // Poli Gigi's board section shows them; the first poly's no longer does.
    let s = board(&desk).await;
    assert_eq!((s["data"]["gigi"]["queue_number_with_doctor"].as_i64(), s["data"]["gigi"]["last_call"]["queue_number"].as_i64()), (Some(2), Some(2)), "{s}");
    assert_eq!(s["data"]["umum"]["queue_number_with_doctor"], Value::Null, "{s}");
    let done = app.patch(&format!("/api/queue/{id}/done"), t, json!(null)).await;
    assert_eq!(done.status, 200, "{done:?}");
    let g = rollup_of(&desk, gigi).await;
    assert_eq!((g.done(), g.moved_in, g.wait_n), (2, 1, 2), "its own patient and the one come in: {g:?}");
    // Sent back to the first poly: again its next number there, the history has both.
    let back = transfer(json!({"poly_id": desk.poly})).await;
    assert_eq!((back.status.as_u16(), back.body["data"]["queue_number"].as_i64()), (200, Some(2)), "{back:?}");
    assert_eq!(back.body["data"]["poly_history"].as_array().map(Vec::len), Some(2));
    // A rebuild of the day's rollups from the reservations (antrean-rebuild-rollups) finds what
    // the live writes counted at both polies, the visits before each transfer included.
    let (deps, day, tenant) = the_day(&desk).await;
    let tz = chrono_tz::Asia::Jakarta;
    let live = antrean_domain::rollup::read(deps.table.as_ref(), &tenant, day, day).await.unwrap();
    let outcome = antrean_domain::rollup::rebuild_day(deps.table.as_ref(), &tenant, day, |d| {
        antrean_domain::reporting::source::day_facts(&deps, &tenant, d, tz)
    })
    .await
    .unwrap();
    assert_eq!(outcome.repaired, 0, "the rebuild disagreed with the live rollups: {outcome:?}");
    assert_eq!(antrean_domain::rollup::read(deps.table.as_ref(), &tenant, day, day).await.unwrap(), live);
    // The patient-visits report has a row per poly visit, each as it stood at that poly.
    let name = desk.body(1)["patient_name"].clone();
    let report = app.get(&format!("/api/reports/patient-visits?date_from={0}&date_to={0}&per_page=100", desk.today), t).await;
    assert_eq!(report.status, 200, "{report:?}");
    let mut rows: Vec<(String, i64, String)> = report.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["patient_name"] == name)
        .map(|r| (r["poly"].as_str().unwrap().to_string(), r["reservation_number"].as_i64().unwrap(), r["status"].as_str().unwrap().to_string()))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [("Poli Gigi".to_string(), 2, "DONE".to_string()), ("Poli Umum".to_string(), 1, "DONE".to_string()), ("Poli Umum".to_string(), 2, "WAITING_DOCTOR".to_string())],
        "{report:?}"
    );
}

/// Two doctors send the same patient on at the same moment: exactly one transfer happens.
async fn a_double_transfer_has_exactly_one_winner(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let gigi = dental(&desk).await;
    let anak = dental_like(&desk, "Poli Anak", "dranak").await;
    for round in 0..3 {
        let id = seen_at_general(&desk, 1 + round).await;
        let send = |poly: i64| async move { app.patch(&format!("/api/queue/{id}/transfer"), t, json!({"poly_id": poly})).await };
        let (a, b) = futures::join!(send(gigi), send(anak));
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}: {a:?} / {b:?}");
        let winner = if a.status == 200 { &a } else { &b };
        assert_eq!(winner.body["data"]["poly_history"].as_array().map(Vec::len), Some(1), "moved once: {winner:?}");
        let lost = if a.status == 200 { &b } else { &a };
        assert!(lost.body["message"].as_str().unwrap_or_default().contains("WAITING_DOCTOR"), "{lost:?}");
    }
    // Three patients moved, each exactly once: the two polies' lines hold three numbers in all, 1..n each.
    let mut total = 0;
    for poly in [gigi, anak] {
        let q = app.get(&format!("/api/queue?date={}&poly_id={poly}", desk.today), t).await;
        let numbers: Vec<i64> = q.body["data"]["data"].as_array().unwrap().iter().map(|r| r["queue_number"].as_str().unwrap().parse::<i64>().unwrap()).collect();
        assert_eq!(numbers, (1..=numbers.len() as i64).collect::<Vec<_>>(), "no number burned or doubled: {q:?}");
        total += numbers.len();
        assert_eq!(rollup_of(&desk, poly).await.moved_in, numbers.len() as i64);
    }
    assert_eq!(total, 3);
    assert_eq!(rollup_of(&desk, desk.poly).await.moved_out, 3);
}

async fn dental_like(desk: &Desk, name: &str, username: &str) -> i64 {
    let (app, t) = (&desk.app, &desk.admin);
    let poly = app.post("/api/poly", t, json!({"name": name})).await.body["data"]["id"].as_i64().unwrap();
    let d = doctor(app, t, username, poly).await;
    schedule(app, t, d, &desk.today, "08:00", "16:00", None).await;
    poly
}

async fn a_closed_day_takes_no_new_numbers(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let gigi = dental(&desk).await;
    let seen = seen_at_general(&desk, 1).await;
    desk.reserve(2).await;
    let closed = app.post("/api/queue/close-day", t, json!({"date": desk.today})).await;
    assert_eq!(closed.status, 200, "{closed:?}");
    let message = "The queue for this day has been closed; no new numbers are handed out for it.";
    // Reception, a new patient or a known one: refused, nothing made.
    assert_error(&desk.register(3).await, 422, message);
    assert_error(&app.post("/api/reservation", t, { let mut b = desk.body(3); b["poly_id"] = json!(gigi); b }).await, 422, message);
    // A transfer hands out a number too.
    assert_error(&app.patch(&format!("/api/queue/{seen}/transfer"), t, json!({"poly_id": gigi})).await, 422, message);
    assert_eq!(status_of(&desk, seen).await, "DONE");
    let q = app.get(&format!("/api/queue?date={}", desk.today), t).await;
    assert_eq!(q.body["data"]["total"], 2, "{q:?}");
    let umum = rollup_of(&desk, desk.poly).await;
    assert_eq!((umum.total(), umum.no_show()), (2, 1), "{umum:?}");
    // Tomorrow is open.
    let mut b = desk.body(3);
    b["date"] = json!(crate::reservations::day(1));
    let tomorrow_doctor = desk.doctor;
    schedule(app, t, tomorrow_doctor, &crate::reservations::day(1), "08:00", "16:00", None).await;
    assert_eq!(app.post("/api/reservation", t, b).await.status, 200);
}

/// A BPJS patient's antrean is the first poly's booking, reported done there (tasks 3, 4, 5):
/// being seen at a second poly sends BPJS no second set of tasks for the same booking.
async fn a_bpjs_booking_is_reported_once_when_the_patient_moves_on(store: Store) {
    let b = crate::bpjs::Bridge::open(store, Some(30), true).await;
    let (app, t) = (b.app(), &b.desk.admin);
    let gigi = dental(&b.desk).await;
    let r = app.post("/api/reservation", t, b.desk.body(2)).await;
    assert_eq!(r.status, 200, "{r:?}");
    let id = r.body["data"]["reservation"]["id"].as_i64().unwrap();
    for mv in ["anamnesa", "waitingdoctor", "withdoctor", "done"] {
        assert_eq!(app.patch(&format!("/api/queue/{id}/{mv}"), t, json!(null)).await.status, 200);
    }
    b.run().await;
    let tasks: Vec<i64> = b.fake.events().iter().filter_map(|c| c.body["taskid"].as_i64()).collect();
    assert_eq!(tasks, [3, 4, 5]);
    let moved = app.patch(&format!("/api/queue/{id}/transfer"), t, json!({"poly_id": gigi})).await;
    assert_eq!(moved.status, 200, "{moved:?}");
    assert_eq!(call_next(&b.desk, gigi, None).await.body["data"]["current"]["id"].as_i64(), Some(id));
    assert_eq!(app.patch(&format!("/api/queue/{id}/done"), t, json!(null)).await.status, 200);
    assert_eq!(b.run().await["delivered"], 0, "nothing new for BPJS");
    let tasks: Vec<i64> = b.fake.events().iter().filter_map(|c| c.body["taskid"].as_i64()).collect();
    assert_eq!(tasks, [3, 4, 5], "no second task 4 or 5 for the same booking");
}

/// Mobile JKN's ambil antrean goes through reception's create: a closed day refuses it too,
/// in BPJS's own answer shape.
async fn mobile_jkn_takes_no_number_on_a_closed_day(store: Store) {
    use crate::bpjs_ws::{new_patient, take, Jkn};
    let b = crate::bpjs::Bridge::open(store, Some(30), true).await;
    let app = b.app();
    let jkn = Jkn::sign_in(app).await;
    new_patient(&jkn, app, "0000000000077", "Budi Santoso", "081277777777").await;
    let today = b.desk.today.clone();
    assert_eq!(app.post("/api/queue/close-day", &b.desk.admin, json!({"date": today})).await.status, 200);
    let r = jkn.call(app, "ambilantrean", take("0000000000077", &today)).await;
    assert_eq!(r["metadata"], json!({"message": "The queue for this day has been closed; no new numbers are handed out for it.", "code": 201}), "{r}");
    let q = app.get(&format!("/api/queue?date={today}"), &b.desk.admin).await;
    assert_eq!(q.body["data"]["total"], 0, "nothing made: {q:?}");
}

async fn priority_can_be_marked_after_registration(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let ids = waiting_for_doctor(&desk, desk.poly, 1..=4).await;
    let mark = |id: i64, body: Value| async move { app.patch(&format!("/api/queue/{id}/priority"), t, body).await };
    // Bad input: named, nothing changed.
    let bad = mark(ids[2], json!({"priority_reasons": ["vip"], "birth_date": "2999-01-01"})).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    assert!(bad.body["errors"]["priority_reasons"].is_array() && bad.body["errors"]["birth_date"].is_array(), "{bad:?}");
    assert_eq!(mark(ids[2], json!({})).await.status, 422, "nothing to change");
    assert_eq!(mark(999, json!({"priority_reasons": ["pregnancy"]})).await.status, 404);
    let nurse = staff_token(app, t, "perawat", json!([4])).await;
    assert_eq!(app.patch(&format!("/api/queue/{}/priority", ids[2]), &nurse, json!({"priority_reasons": ["pregnancy"]})).await.status, 403);

    // Number 3 turns out to be pregnant: called next at once (priority first).
    let marked = mark(ids[2], json!({"priority_reasons": ["pregnancy"]})).await;
    assert_eq!(marked.status, 200, "{marked:?}");
    assert_eq!((marked.body["message"].as_str(), marked.body["data"]["priority"].as_bool()), (Some("Priority updated successfully"), Some(true)));
    // Number 4 is 60 today: the birth date marks them elderly and is kept on the patient.
    let sixty = (crate::reservations::clinic_today() - chrono::Months::new(12 * 60)).format("%Y-%m-%d").to_string();
    let elderly = mark(ids[3], json!({"birth_date": sixty})).await;
    assert_eq!((elderly.body["data"]["priority"].as_bool(), elderly.body["data"]["priority_reasons"].clone()), (Some(true), json!(["elderly"])), "{elderly:?}");
    let patient = app.get(&format!("/api/reservation/{}", ids[3]), t).await.body["data"]["reservation"]["patient_id"].as_i64().unwrap();
    let p = app.get(&format!("/api/patients/{patient}"), t).await;
    assert_eq!(p.body["data"]["birth_date"], json!(sixty), "{p:?}");
    // Unmarked again: an empty list takes the stated reasons off (the birth date still counts).
    let off = mark(ids[2], json!({"priority_reasons": []})).await;
    assert_eq!(off.body["data"]["priority"], false, "{off:?}");
    let activity = app.get("/api/reports/user-activity?per_page=100", t).await;
    let audited = activity.body["data"].as_array().unwrap().iter().filter(|r| r["reservation_id"] == json!(ids[2])).count();
    assert!(audited >= 2, "{activity:?}");

    let first = call_next(&desk, desk.poly, None).await;
    assert_eq!(first.body["queue_number_with_doctor"].as_i64(), Some(4), "the elderly patient first: {first:?}");
    // Now with the doctor: priority no longer changes anything.
    assert_eq!(mark(ids[3], json!({"priority_reasons": []})).await.status, 409);
    let mark_again = mark(ids[1], json!({"priority_reasons": ["emergency"]})).await;
    assert_eq!(mark_again.status, 200);
    assert_eq!(call_next(&desk, desk.poly, None).await.body["queue_number_with_doctor"].as_i64(), Some(2));
    assert_eq!(crate::clinic_flow::call_order(&desk, desk.poly).await, [1, 3]);

    // The patient's birth date on file counts at their next registration.
    let next_day = crate::reservations::day(1);
    schedule(app, t, desk.doctor, &next_day, "08:00", "16:00", None).await;
    let mut body = desk.body(4);
    body["date"] = json!(next_day);
    let again = app.post("/api/reservation", t, body).await;
    assert_eq!(again.status, 200, "{again:?}");
    let rid = again.body["data"]["reservation"]["id"].as_i64().unwrap();
    let q = app.get(&format!("/api/queue?date={next_day}"), t).await;
    let row = q.body["data"]["data"].as_array().unwrap().iter().find(|r| r["reservation"]["id"] == json!(rid)).cloned().unwrap_or_default();
    assert_eq!(row["priority"], true, "{q:?}");
}

on_both_stores!(
    a_patient_sent_on_to_another_poly_keeps_the_ticket_and_joins_its_line,
    a_double_transfer_has_exactly_one_winner,
    a_closed_day_takes_no_new_numbers,
    mobile_jkn_takes_no_number_on_a_closed_day,
    a_bpjs_booking_is_reported_once_when_the_patient_moves_on,
    priority_can_be_marked_after_registration,
    the_new_routes_stay_within_the_store_budget,
);

/// What the new queue routes cost in store requests (the dev server's counters): a transfer
/// costs what a create does, the rest what a queue move does.
async fn the_new_routes_stay_within_the_store_budget(store: Store) {
    use crate::store_budget::{cost, within};
    let desk = crate::store_budget::desk(store).await;
    let (app, t) = (&desk.app, &desk.admin);
    let gigi = dental(&desk).await;
    let r1 = crate::clinic_flow::room(&desk, desk.poly, "Ruang 1", Some(desk.doctor)).await;
    let roster = json!({"date": desk.today, "rooms": [{"room_id": r1, "doctor_id": desk.doctor}]});
    assert_eq!(app.put("/api/queue/rooms/roster", t, roster).await.status, 200);
    let ids = waiting_for_doctor(&desk, desk.poly, 1..=3).await;

    let (c, r) = cost(app, app.patch(&format!("/api/queue/{}/priority", ids[2]), t, json!({"priority_reasons": ["emergency"]}))).await;
    assert_eq!(r.status, 200, "{r:?}");
    within("priority marked", c, 3, 1);
    let next = json!({"poly_id": desk.poly, "date": desk.today, "room_id": r1});
    let (c, r) = cost(app, app.patch("/api/queue/call-next", t, next.clone())).await;
    assert_eq!(r.body["queue_number_with_doctor"], 3, "{r:?}");
    within("call-next from a room on the roster", c, 3, 1);
    let (c, r) = cost(app, app.patch(&format!("/api/queue/{}/withdoctor", ids[0]), t, json!({"room_id": r1}))).await;
    assert_eq!(r.status, 200, "{r:?}");
    within("withdoctor to a room", c, 3, 1);
    assert_eq!(app.patch(&format!("/api/queue/{}/done", ids[0]), t, json!(null)).await.status, 200);
    let (c, r) = cost(app, app.patch(&format!("/api/queue/{}/transfer", ids[0]), t, json!({"poly_id": gigi}))).await;
    assert_eq!(r.status, 200, "{r:?}");
    within("transfer to another poly", c, 5, 1);
}
