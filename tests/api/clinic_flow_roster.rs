//! Issue 16, rooms by the day: the roster says which doctor sits in which room on a date;
//! call-next from a room calls its doctor's own patients first, then the shared line; a call
//! in to the doctor can name the room.
use serde_json::{json, Value};

use crate::clinic_flow::{board, call_next, register, room, to_the_doctor};
use crate::helpers::{assert_error, Store};
use crate::on_both_stores;
use crate::reservations::{day, doctor, schedule, Desk};
use crate::users::staff_token;

fn doctors_of(roster: &Value) -> Vec<(i64, Option<i64>, String)> {
    roster.as_array().unwrap().iter().map(|r| (r["room_id"].as_i64().unwrap(), r["doctor_id"].as_i64(), r["source"].as_str().unwrap().to_string())).collect()
}

async fn each_room_calls_its_doctors_patients_first(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let (harris, sari) = (desk.doctor, doctor(app, t, "sari", desk.poly).await);
    let sari_schedule = schedule(app, t, sari, &desk.today, "08:00", "16:00", None).await;
    let r1 = room(&desk, desk.poly, "Ruang 1", Some(harris)).await;
    let r2 = room(&desk, desk.poly, "Ruang 2", Some(sari)).await;
    let roster = app.get(&format!("/api/queue/rooms/roster?date={}", desk.today), t).await;
    assert_eq!(roster.status, 200, "{roster:?}");
    assert_eq!(doctors_of(&roster.body["data"]), [(r1, Some(harris), "default".into()), (r2, Some(sari), "default".into())]);

    // Today they swap rooms. Bad rosters are refused whole.
    let put = |body: Value| async move { app.put("/api/queue/rooms/roster", t, body).await };
    let nurse = staff_token(app, t, "perawat", json!([4])).await;
    assert_eq!(app.put("/api/queue/rooms/roster", &nurse, json!({"date": desk.today, "rooms": [{"room_id": r1, "doctor_id": sari}]})).await.status, 403);
    let twice = put(json!({"date": desk.today, "rooms": [{"room_id": r1, "doctor_id": sari}]})).await;
    assert_eq!(twice.status, 422, "Sari would sit in both rooms: {twice:?}");
    assert_eq!(twice.body["errors"]["rooms"][0], "Doctor 3 would sit in Ruang 1 and Ruang 2 on the same day.".replace('3', &sari.to_string()), "{twice:?}");
    assert_eq!(put(json!({"date": desk.today, "rooms": [{"room_id": 999, "doctor_id": sari}]})).await.status, 422);
    assert_eq!(put(json!({"date": desk.today, "rooms": [{"room_id": r1, "doctor_id": 999}]})).await.status, 422);
    assert_error(&put(json!({"date": day(-1), "rooms": [{"room_id": r1, "doctor_id": null}]})).await, 422, "The date field must be a date after or equal to today.");
    assert_eq!(put(json!({"date": desk.today, "rooms": []})).await.status, 422);
    let same = app.get(&format!("/api/queue/rooms/roster?date={}", desk.today), t).await;
    assert_eq!(doctors_of(&same.body["data"])[0].2, "default", "nothing changed");
    let swapped = put(json!({"date": desk.today, "rooms": [{"room_id": r1, "doctor_id": sari}, {"room_id": r2, "doctor_id": harris}]})).await;
    assert_eq!(swapped.status, 200, "{swapped:?}");
    assert_eq!(swapped.body["message"], "Room roster updated successfully");
    assert_eq!(doctors_of(&swapped.body["data"]), [(r1, Some(sari), "roster".into()), (r2, Some(harris), "roster".into())]);
    // Tomorrow keeps the rooms' own doctors.
    let tomorrow = app.get(&format!("/api/queue/rooms/roster?date={}", day(1)), t).await;
    assert_eq!(doctors_of(&tomorrow.body["data"]), [(r1, Some(harris), "default".into()), (r2, Some(sari), "default".into())]);

    // Numbers 1 and 3 are booked with dr. Harris, 2 and 4 with dr. Sari.
    let mut ids = Vec::new();
    for n in 1..=4 {
        let on = if n % 2 == 1 { desk.schedule } else { sari_schedule };
        let r = register(&desk, desk.poly, n, json!({"schedule_id": on})).await;
        to_the_doctor(&desk, r["id"].as_i64().unwrap()).await;
        ids.push(r["id"].as_i64().unwrap());
    }
    let called = |r: &crate::helpers::Reply| (r.body["queue_number_with_doctor"].as_i64(), r.body["room"].as_str().map(str::to_string));
    // Ruang 1 (dr. Sari today) takes Sari's first patient, not number 1.
    assert_eq!(called(&call_next(&desk, desk.poly, Some(r1)).await), (Some(2), Some("Ruang 1".into())));
    assert_eq!(called(&call_next(&desk, desk.poly, Some(r2)).await), (Some(1), Some("Ruang 2".into())));
    let next = call_next(&desk, desk.poly, Some(r1)).await;
    assert_eq!(called(&next), (Some(4), Some("Ruang 1".into())));
    // Nobody of dr. Sari's left: Ruang 1 takes the next of the shared line.
    assert_eq!(called(&call_next(&desk, desk.poly, Some(r1)).await), (Some(3), Some("Ruang 1".into())));

    // A call in to the doctor by hand names the room: board, queue list.
    let r = register(&desk, desk.poly, 5, json!({})).await;
    let five = r["id"].as_i64().unwrap();
    to_the_doctor(&desk, five).await;
    let gigi = app.post("/api/poly", t, json!({"name": "Poli Gigi"})).await.body["data"]["id"].as_i64().unwrap();
    let other = room(&desk, gigi, "Ruang Gigi", None).await;
    assert_error(&app.patch(&format!("/api/queue/{five}/withdoctor"), t, json!({"room_id": other})).await, 422, "The selected room is not a room of this poly.");
    assert_eq!(app.patch(&format!("/api/queue/{five}/withdoctor"), t, json!({"room_id": "x"})).await.status, 422);
    let q = app.get(&format!("/api/queue?date={}&per_page=100", desk.today), t).await;
    let row = q.body["data"]["data"].as_array().unwrap().iter().find(|r| r["reservation"]["id"] == json!(five)).cloned().unwrap();
    assert_eq!(row["reservation"]["status"]["status_name"], "WAITING_DOCTOR", "nothing changed: {row}");
    let with = app.patch(&format!("/api/queue/{five}/withdoctor"), t, json!({"room_id": r2})).await;
    assert_eq!(with.status, 200, "{with:?}");
    let s = board(&desk).await;
    assert_eq!((s["data"]["umum"]["last_call"]["room"].as_str(), s["data"]["umum"]["last_call"]["queue_number"].as_i64()), (Some("Ruang 2"), Some(5)), "{s}");
    let q = app.get(&format!("/api/queue?date={}&per_page=100", desk.today), t).await;
    let row = q.body["data"]["data"].as_array().unwrap().iter().find(|r| r["reservation"]["id"] == json!(five)).cloned().unwrap();
    assert_eq!(row["room"], "Ruang 2", "{row}");
    // The seed's body-less call still works.
    let recall = app.patch(&format!("/api/queue/{five}/withdoctor"), t, json!(null)).await;
    assert_eq!((recall.status.as_u16(), recall.body["data"]["number_of_calls"].as_i64()), (200, Some(2)), "{recall:?}");
    assert_eq!(ids.len(), 4);
}

#[test]
fn the_roster_and_priority_routes_are_documented() {
    let doc = serde_json::to_value(antrean_api::openapi::document()).unwrap();
    assert!(doc["paths"]["/api/queue/rooms/roster"]["get"].is_object() && doc["paths"]["/api/queue/rooms/roster"]["put"].is_object());
    assert!(doc["paths"]["/api/queue/{id}/withdoctor"]["patch"]["requestBody"].is_object(), "withdoctor names its optional room_id");
}

on_both_stores!(each_room_calls_its_doctors_patients_first);
