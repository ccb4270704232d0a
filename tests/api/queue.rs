//! Seed section "Queue": the per-status moves and their state machine, recalls and the three-call
//! limit, the queue list, the current numbers, call-next, and two nurses pressing at once.
use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store};
use crate::on_both_stores;
use crate::reservations::Desk;
use crate::users::staff_token;

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(String::as_str).collect()
}

async fn the_workflow_answers_as_the_seed_shows(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let id = desk.reserve(1).await;
    let patch = |mv: &str| {
        let path = format!("/api/queue/{id}/{mv}");
        async move { app.patch(&path, t, json!(null)).await }
    };

    let r = patch("anamnesa").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(keys(&r.body), ["status", "message", "webhook_status", "webhook_message", "data"]);
    assert_eq!(r.body["message"], "Anamnesa call processed successfully");
    assert_eq!(r.body["webhook_status"], "skipped", "no n8n_webhook_url configured");
    let d = &r.body["data"];
    assert_eq!(keys(d), ["queue_number", "number_of_calls", "reservation"]);
    assert_eq!((d["queue_number"].as_i64(), d["number_of_calls"].as_i64()), (Some(1), Some(1)));
    assert_eq!(keys(&d["reservation"]), [
        "id", "patient_id", "poly_id", "schedule_id", "date", "bpjs", "status_id", "created_at", "updated_at", "deleted_at", "patient", "queue", "status"
    ]);
    assert_eq!(d["reservation"]["status"]["status_name"], "ANAMNESA");
    assert_eq!(d["reservation"]["queue"]["number_of_calls"], 1);
    let current = app.get(&format!("/api/queue/current?poly_id={}&date={}", desk.poly, desk.today), t).await;
    assert_eq!(current.body, json!({"status": "success", "message": "Current queue retrieved successfully", "queue_number_anamnesa": 1, "queue_number_with_doctor": null}));

    // Recalls count up to three; a fourth call is refused with the count.
    assert_eq!(patch("anamnesa").await.body["data"]["number_of_calls"], 2);
    assert_eq!(patch("anamnesa").await.body["data"]["number_of_calls"], 3);
    let fourth = patch("anamnesa").await;
    assert_error(&fourth, 422, "Maximum number of calls reached (3 times)");
    assert_eq!(fourth.body["data"], json!({"number_of_calls": 3}));

    // Moves the state machine does not allow name the current status.
    assert_error(&patch("done").await, 409, "The reservation is Anamnesa (ANAMNESA); it cannot be finished.");
    assert_error(&patch("withdoctor").await, 409, "The reservation is Anamnesa (ANAMNESA); it cannot be called in to the doctor.");

    let r = patch("waitingdoctor").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Reservation moved to waiting doctor successfully");
    assert_eq!(keys(&r.body), ["status", "message", "data"]);
    assert_eq!(r.body["data"]["reservation"]["queue"]["number_of_calls"], 0);
    assert_eq!(r.body["data"]["reservation"]["status"]["status_name"], "WAITING_DOCTOR");

    let r = patch("withdoctor").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "With doctor call processed successfully");
    assert_eq!(keys(&r.body["data"]), ["queue_number", "number_of_calls", "call_time", "reservation"]);
    let call_time = r.body["data"]["call_time"].as_str().unwrap();
    assert!(call_time.ends_with('Z') && call_time.contains('T'), "{call_time}");
    let clock = r.body["data"]["reservation"]["queue"]["call_time"].as_str().unwrap();
    assert_eq!(clock.len(), 8, "HH:MM:SS clinic time: {clock}");
    let current = app.get(&format!("/api/queue/current?poly_id={}&date={}", desk.poly, desk.today), t).await;
    assert_eq!(current.body["queue_number_anamnesa"], Value::Null);
    assert_eq!(current.body["queue_number_with_doctor"], 1);
    // The seed spells the URL `/api/queue/currnet`; a client written from it gets the same answer.
    let seed_spelling = app.get(&format!("/api/queue/currnet?poly_id={}&date={}", desk.poly, desk.today), t).await;
    assert_eq!(seed_spelling.status, 200, "{seed_spelling:?}");
    assert_eq!(seed_spelling.body, current.body);

    let r = patch("done").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Reservation finish");
    assert_eq!(r.body["data"]["reservation"]["status"]["status_name"], "DONE");
    for mv in ["anamnesa", "waitingdoctor", "withdoctor", "done", "noshow", "cancelled"] {
        let r = patch(mv).await;
        assert_eq!(r.status, 409, "{mv} after done: {r:?}");
        assert!(r.body["message"].as_str().unwrap().starts_with("The reservation is Selesai (DONE)"), "{r:?}");
    }
    let current = app.get(&format!("/api/queue/current?poly_id={}&date={}", desk.poly, desk.today), t).await;
    assert_eq!(current.body["message"], "No current queue");
    assert_error(&app.patch("/api/queue/999/anamnesa", t, json!(null)).await, 404, "Reservation not found");

    // No-show and cancel from an open state; a finished patient may come back the same day.
    let second = desk.reserve(2).await;
    let r = app.patch(&format!("/api/queue/{second}/noshow"), t, json!(null)).await;
    assert_eq!(r.body["message"], "Reservation moved to no show successfully", "{r:?}");
    assert_eq!(r.body["data"]["reservation"]["status"]["status_name"], "NO_SHOW");
    assert_eq!(desk.register(1).await.status, 200, "the done patient registers again");
}

async fn two_nurses_pressing_at_once_move_it_once(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let id = desk.reserve(1).await;
    assert_eq!(app.patch(&format!("/api/queue/{id}/anamnesa"), t, json!(null)).await.status, 200);
    let presses = join_all((0..8).map(|_| {
        let path = format!("/api/queue/{id}/waitingdoctor");
        async move { app.patch(&path, t, json!(null)).await }
    })).await;
    let ok = presses.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{presses:?}");
    for r in presses.iter().filter(|r| r.status != 200) {
        assert_eq!(r.status, 409, "{r:?}");
    }
    // Calls at once: one enters the stage, the rest are recalls or refusals, never more than three calls.
    let calls = join_all((0..6).map(|_| {
        let path = format!("/api/queue/{id}/withdoctor");
        async move { app.patch(&path, t, json!(null)).await }
    })).await;
    let counts: Vec<i64> = calls.iter().filter(|r| r.status == 200).map(|r| r.body["data"]["number_of_calls"].as_i64().unwrap()).collect();
    let mut sorted = counts.clone();
    sorted.sort();
    assert_eq!(sorted, (1..=counts.len() as i64).collect::<Vec<_>>(), "each call counted once: {calls:?}");
    assert!(counts.len() <= 3 && !counts.is_empty(), "{calls:?}");
    let detail = app.get(&format!("/api/reservation/{id}"), t).await;
    assert_eq!(detail.body["data"]["reservation"]["queue"]["number_of_calls"], counts.len() as i64);
}

async fn call_next_finishes_one_and_calls_the_next(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let ids: Vec<i64> = {
        let mut v = Vec::new();
        for n in 1..=3 {
            v.push(desk.reserve(n).await);
        }
        v
    };
    let body = json!({"poly_id": desk.poly.to_string(), "date": desk.today});
    let none = app.patch("/api/queue/call-next", t, body.clone()).await;
    assert_eq!(
        none.body,
        json!({"status": "success", "message": "No queue to call", "queue_number_with_doctor": null, "webhook_status": "skipped", "webhook_message": "Queue not found"})
    );
    // Numbers 1 and 2 have had anamnesa; 3 has not.
    for id in &ids[..2] {
        app.patch(&format!("/api/queue/{id}/anamnesa"), t, json!(null)).await;
        app.patch(&format!("/api/queue/{id}/waitingdoctor"), t, json!(null)).await;
    }
    let first = app.patch("/api/queue/call-next", t, body.clone()).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.body["message"], "Queue processed successfully");
    assert_eq!(keys(&first.body), ["status", "message", "queue_number_with_doctor", "webhook_status", "webhook_message", "data"]);
    assert_eq!(first.body["queue_number_with_doctor"], 1);
    assert_eq!(first.body["data"]["finished"], Value::Null);
    assert_eq!(first.body["data"]["current"]["id"], ids[0]);
    assert_eq!(first.body["data"]["current"]["queue"]["number_of_calls"], 1);

    let second = app.patch("/api/queue/call-next", t, body.clone()).await;
    assert_eq!(second.body["queue_number_with_doctor"], 2, "{second:?}");
    assert_eq!(second.body["data"]["finished"]["id"], ids[0]);
    let done = app.get(&format!("/api/reservation/{}", ids[0]), t).await;
    assert_eq!(done.body["data"]["reservation"]["status"]["status_name"], "DONE");
    // Number 3 never had anamnesa: nobody left waiting for the doctor.
    assert_eq!(app.patch("/api/queue/call-next", t, body).await.body["message"], "No queue to call");

    let bad = app.patch("/api/queue/call-next", t, json!({})).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    assert_eq!(bad.body["message"], "The poly id field is required.");
    assert_eq!(bad.body["errors"], json!({"poly_id": ["The poly id field is required."], "date": ["The date field is required."]}));
    let bad = app.get("/api/queue/current", t).await;
    assert_eq!(bad.body["errors"]["poly_id"][0], "The poly id field is required.", "{bad:?}");
    // A doctor may call next; a nurse at anamnesa may not.
    let nurse = staff_token(app, t, "perawat", json!([4])).await;
    assert_eq!(app.patch("/api/queue/call-next", &nurse, json!({"poly_id": desk.poly, "date": desk.today})).await.status, 403);
}

async fn the_queue_list_pages_one_day(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    for n in 1..=3 {
        desk.reserve(n).await;
    }
    app.patch("/api/queue/2/anamnesa", t, json!(null)).await;
    let r = app.get(&format!("/api/queue/?poly_id={}&date={}&page=1&per_page=2", desk.poly, desk.today), t).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Queue list retrieved successfully");
    let page = &r.body["data"];
    assert_eq!((page["total"].as_i64(), page["last_page"].as_i64(), page["to"].as_i64()), (Some(3), Some(2), Some(2)));
    let row = &page["data"][0];
    assert_eq!(keys(row), [
        "id", "reservation_id", "poly_id", "queue_number", "date", "re_reservation_time", "call_time", "created_at", "updated_at", "deleted_at",
        "number_of_calls", "notification_status", "ticket_code", "priority", "priority_reasons", "birth_date", "room_id", "room", "reservation"
    ]);
    assert_eq!(row["queue_number"], "1", "the seed's queue list shows the number as a string");
    assert_eq!(row["reservation"]["patient"]["patient_name"], "Pasien 1");
    assert_eq!(row["reservation"]["poly"]["name"], "Poli Umum");
    let anamnesa = app.get(&format!("/api/queue?status_id=2&date={}", desk.today), t).await;
    assert_eq!(anamnesa.body["data"]["total"], 1);
    assert_eq!(anamnesa.body["data"]["data"][0]["reservation_id"], 2);
    // Without a date: the clinic's today.
    assert_eq!(app.get("/api/queue", t).await.body["data"]["total"], 3);
    let empty = app.get("/api/queue?date=2020-01-01", t).await;
    assert_eq!(empty.body["data"]["total"], 0);
}

on_both_stores!(
    the_workflow_answers_as_the_seed_shows,
    two_nurses_pressing_at_once_move_it_once,
    call_next_finishes_one_and_calls_the_next,
    the_queue_list_pages_one_day,
);
