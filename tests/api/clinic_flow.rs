//! Issue 16, the engine: rooms with a doctor each and call-next per room (exactly one winner
//! under a race), priority patients under the clinic's policy, closing the day, and estimates
//! learned from the clinic's own consultations.
use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::helpers::{assert_error, Store};
use crate::live::{connect, ws_url};
use crate::on_both_stores;
use crate::reservations::{doctor, schedule, Desk};
use crate::users::staff_token;

pub async fn room(desk: &Desk, poly: i64, name: &str, doctor: Option<i64>) -> i64 {
    let r = desk.app.post("/api/queue/rooms", &desk.admin, json!({"poly_id": poly, "name": name, "doctor_id": doctor})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Room created successfully");
    r.body["data"]["id"].as_i64().unwrap()
}

/// Registers patient `n` of `poly` (with `extra` fields in the body); returns the reservation.
pub async fn register(desk: &Desk, poly: i64, n: usize, extra: Value) -> Value {
    let mut body = desk.body(n);
    body["poly_id"] = json!(poly);
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let r = desk.app.post("/api/reservation", &desk.admin, body).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["reservation"].clone()
}

pub async fn to_the_doctor(desk: &Desk, id: i64) {
    for mv in ["anamnesa", "waitingdoctor"] {
        let r = desk.app.patch(&format!("/api/queue/{id}/{mv}"), &desk.admin, json!(null)).await;
        assert_eq!(r.status, 200, "{mv}: {r:?}");
    }
}

/// Patients `ns` of `poly`, each waiting for the doctor; their reservation ids.
pub async fn waiting_for_doctor(desk: &Desk, poly: i64, ns: impl IntoIterator<Item = usize>) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in ns {
        let id = register(desk, poly, n, json!({})).await["id"].as_i64().unwrap();
        to_the_doctor(desk, id).await;
        ids.push(id);
    }
    ids
}

pub async fn call_next(desk: &Desk, poly: i64, room: Option<i64>) -> crate::helpers::Reply {
    desk.app.patch("/api/queue/call-next", &desk.admin, json!({"poly_id": poly, "date": desk.today, "room_id": room})).await
}

/// What a board connecting now is shown.
pub async fn board(desk: &Desk) -> Value {
    let mut b = connect(&ws_url(&desk.app, &desk.admin)).await.expect("a staff token may watch");
    b.snapshot().await
}

pub async fn status_of(desk: &Desk, id: i64) -> String {
    let r = desk.app.get(&format!("/api/reservation/{id}"), &desk.admin).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["reservation"]["status"]["status_name"].as_str().unwrap_or_default().to_string()
}

async fn rooms_are_kept_and_call_next_names_the_room(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let second_doctor = doctor(app, t, "sari", desk.poly).await;
    let r1 = room(&desk, desk.poly, "Ruang 1", Some(desk.doctor)).await;
    let r2 = room(&desk, desk.poly, "Ruang 2", Some(second_doctor)).await;

    // Bad input: a clear error, nothing made.
    let taken = app.post("/api/queue/rooms", t, json!({"poly_id": desk.poly, "name": "ruang 2"})).await;
    assert_eq!(taken.status, 422, "one name per poly: {taken:?}");
    assert!(taken.body["errors"]["name"].is_array(), "{taken:?}");
    let bad = app.post("/api/queue/rooms", t, json!({"poly_id": 99, "name": "Ruang 9", "doctor_id": 999})).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    assert_eq!(bad.body["errors"]["poly_id"], json!(["The selected poly id is invalid."]));
    assert_eq!(bad.body["errors"]["doctor_id"], json!(["The selected doctor id is invalid."]));
    let nurse = staff_token(app, t, "perawat", json!([4])).await;
    assert_eq!(app.post("/api/queue/rooms", &nurse, json!({"poly_id": desk.poly, "name": "Ruang 3"})).await.status, 403);
    let list = app.get(&format!("/api/queue/rooms?poly_id={}", desk.poly), &nurse).await;
    assert_eq!(list.status, 200, "{list:?}");
    let names: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ruang 1", "Ruang 2"]);
    assert_eq!(list.body["data"][1]["doctor_id"], json!(second_doctor));

    let ids = waiting_for_doctor(&desk, desk.poly, 1..=3).await;
    let first = call_next(&desk, desk.poly, Some(r1)).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!((first.body["queue_number_with_doctor"].as_i64(), first.body["room"].as_str()), (Some(1), Some("Ruang 1")), "{first:?}");
    let second = call_next(&desk, desk.poly, Some(r2)).await;
    assert_eq!((second.body["queue_number_with_doctor"].as_i64(), second.body["room"].as_str()), (Some(2), Some("Ruang 2")), "{second:?}");
    assert_eq!(second.body["data"]["finished"], Value::Null, "room 2 had nobody in it: room 1's patient stays");
    assert_eq!(status_of(&desk, ids[0]).await, "WITH_DOCTOR");

    // The board names the room in the call and shows who is in each room.
    let s = board(&desk).await;
    let umum = &s["data"]["umum"];
    assert_eq!(umum["kind"], "poly");
    assert_eq!(umum["last_call"]["room"], "Ruang 2", "{s}");
    assert_eq!(umum["last_call"]["queue_number"], 2);
    assert_eq!(
        umum["rooms"],
        json!([{"room_id": r1, "room": "Ruang 1", "queue_number": 1, "priority": false}, {"room_id": r2, "room": "Ruang 2", "queue_number": 2, "priority": false}])
    );

    // Room 1 again: finishes its own patient, not room 2's, and takes the next.
    let third = call_next(&desk, desk.poly, Some(r1)).await;
    assert_eq!(third.body["data"]["finished"]["id"], json!(ids[0]), "{third:?}");
    assert_eq!((third.body["queue_number_with_doctor"].as_i64(), third.body["room"].as_str()), (Some(3), Some("Ruang 1")));
    assert_eq!((status_of(&desk, ids[0]).await, status_of(&desk, ids[1]).await), ("DONE".to_string(), "WITH_DOCTOR".to_string()));
    // A recall of the patient in room 1 is announced to room 1.
    let recall = app.patch(&format!("/api/queue/{}/withdoctor", ids[2]), t, json!(null)).await;
    assert_eq!(recall.status, 200, "{recall:?}");
    let s = board(&desk).await;
    assert_eq!((s["data"]["umum"]["last_call"]["room"].as_str(), s["data"]["umum"]["last_call"]["number_of_calls"].as_i64()), (Some("Ruang 1"), Some(2)));
    // The queue list shows the room.
    let q = app.get(&format!("/api/queue?date={}", desk.today), t).await;
    let rows = q.body["data"]["data"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["room"].clone()).collect::<Vec<_>>(), [json!("Ruang 1"), json!("Ruang 2"), json!("Ruang 1")]);

    // A room of another poly, or none: refused, nothing changes.
    let gigi = app.post("/api/poly", t, json!({"name": "Poli Gigi"})).await.body["data"]["id"].as_i64().unwrap();
    let other = room(&desk, gigi, "Ruang Gigi", None).await;
    waiting_for_doctor(&desk, desk.poly, [4]).await;
    assert_error(&call_next(&desk, desk.poly, Some(other)).await, 422, "The selected room is not a room of this poly.");
    assert_error(&call_next(&desk, desk.poly, Some(999)).await, 422, "The selected room id is invalid.");
    assert_eq!(status_of(&desk, ids[1]).await, "WITH_DOCTOR", "nothing changed");
    // A removed room is gone from the list; reservations called in to it keep its name.
    assert_eq!(app.delete(&format!("/api/queue/rooms/{r2}"), t).await.status, 200);
    assert_eq!(app.get("/api/queue/rooms", t).await.body["data"].as_array().map(Vec::len), Some(2));
    let q = app.get(&format!("/api/queue?date={}", desk.today), t).await;
    assert_eq!(q.body["data"]["data"][1]["room"], "Ruang 2");
}

/// Two rooms press call-next at the same time, again and again, until nobody is waiting:
/// every number is called in exactly once, none is skipped, and each room only ever finishes
/// its own patient.
async fn two_rooms_pressing_at_once_never_take_the_same_patient(store: Store) {
    const PATIENTS: usize = 24;
    let desk = Desk::open(store, None).await;
    let r1 = room(&desk, desk.poly, "Ruang 1", None).await;
    let r2 = room(&desk, desk.poly, "Ruang 2", None).await;
    waiting_for_doctor(&desk, desk.poly, 1..=PATIENTS).await;
    let press = |room: i64| {
        let desk = &desk;
        async move {
            let (mut called, mut finished) = (Vec::new(), Vec::new());
            loop {
                let r = call_next(desk, desk.poly, Some(room)).await;
                assert_eq!(r.status, 200, "{r:?}");
                let Some(n) = r.body["queue_number_with_doctor"].as_i64() else {
                    break;
                };
                assert_eq!(r.body["room"].as_str(), Some(if room == r1 { "Ruang 1" } else { "Ruang 2" }));
                if let Some(f) = r.body["data"]["finished"]["queue"]["queue_number"].as_i64() {
                    finished.push(f);
                }
                called.push(n);
            }
            (called, finished)
        }
    };
    let ((a, a_done), (b, b_done)) = futures::join!(press(r1), press(r2));
    let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (1..=PATIENTS as i64).collect::<Vec<_>>(), "room 1 called {a:?}, room 2 called {b:?}");
    assert!(!a.is_empty() && !b.is_empty(), "both rooms took patients: {a:?} / {b:?}");
    // A room finishes exactly the patients it called in, but the last one, in order.
    assert_eq!(a_done, a[..a.len() - 1], "room 1");
    assert_eq!(b_done, b[..b.len() - 1], "room 2");
    let q = desk.app.get(&format!("/api/queue?date={}&per_page=100", desk.today), &desk.admin).await;
    let statuses: Vec<String> =
        q.body["data"]["data"].as_array().unwrap().iter().map(|r| r["reservation"]["status"]["status_name"].as_str().unwrap().to_string()).collect();
    assert_eq!(statuses.iter().filter(|s| *s == "DONE").count(), PATIENTS - 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "WITH_DOCTOR").count(), 2, "one in each room: {statuses:?}");
}

/// The numbers call-next calls in, in order, until nobody is waiting.
pub async fn call_order(desk: &Desk, poly: i64) -> Vec<i64> {
    let mut out = Vec::new();
    loop {
        let r = call_next(desk, poly, None).await;
        assert_eq!(r.status, 200, "{r:?}");
        match r.body["queue_number_with_doctor"].as_i64() {
            Some(n) => out.push(n),
            None => return out,
        }
    }
}

async fn priority_follows_the_clinic_policy(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let defaults = app.get("/api/queue/settings", t).await;
    assert_eq!(defaults.status, 200, "{defaults:?}");
    assert_eq!(
        defaults.body["data"],
        json!({"priority_criteria": ["elderly", "disability", "pregnancy", "emergency"], "priority_policy": "priority_first", "priority_every": 3, "day_close_time": null})
    );
    // This clinic counts the elderly and pregnancy only.
    let nurse = staff_token(app, t, "perawat", json!([4])).await;
    assert_eq!(app.put("/api/queue/settings", &nurse, json!({"priority_criteria": ["elderly"]})).await.status, 403);
    let bad = app.put("/api/queue/settings", t, json!({"priority_criteria": ["vip"], "priority_policy": "fastest", "priority_every": 0})).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    assert_eq!(bad.body["errors"].as_object().map(|e| e.len()), Some(3), "{bad:?}");
    let saved = app.put("/api/queue/settings", t, json!({"priority_criteria": ["elderly", "pregnancy"]})).await;
    assert_eq!(saved.status, 200, "{saved:?}");
    assert_eq!(saved.body["data"]["priority_policy"], "priority_first", "fields left out keep their value");

    let sixty_today = (crate::reservations::clinic_today() - chrono::Months::new(12 * 60)).format("%Y-%m-%d").to_string();
    let extra = |n: usize| match n {
        2 => json!({"birth_date": sixty_today}),
        4 => json!({"priority_reasons": ["pregnancy"]}),
        5 => json!({"priority_reasons": ["disability"], "birth_date": "1990-05-01"}),
        _ => json!({}),
    };
    let mut ids = Vec::new();
    for n in 1..=6 {
        let r = register(&desk, desk.poly, n, extra(n)).await;
        ids.push(r["id"].as_i64().unwrap());
    }
    // "Elderly" is never taken on trust, and a birth date must be a date: refused, nothing made.
    let mut body = desk.body(7);
    body["priority_reasons"] = json!(["elderly"]);
    body["birth_date"] = json!("tomorrow");
    let bad = app.post("/api/reservation", t, body).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    assert!(bad.body["errors"]["priority_reasons"].is_array() && bad.body["errors"]["birth_date"].is_array(), "{bad:?}");
    let q = app.get(&format!("/api/queue?date={}", desk.today), t).await;
    let rows = q.body["data"]["data"].as_array().unwrap();
    let flags: Vec<bool> = rows.iter().map(|r| r["priority"].as_bool().unwrap()).collect();
    assert_eq!(flags, [false, true, false, true, false, false], "60 today counts; disability does not count in this clinic");
    assert_eq!(rows[4]["priority_reasons"], json!(["disability"]), "what reception said is kept");
    assert_eq!(rows[1]["priority_reasons"], json!(["elderly"]));
    for id in &ids {
        to_the_doctor(&desk, *id).await;
    }
    // Priority first: the elderly patient and the pregnant one, then the rest in order.
    let first = call_next(&desk, desk.poly, None).await;
    let s = board(&desk).await;
    assert_eq!(
        (s["data"]["umum"]["queue_number_with_doctor"].as_i64(), s["data"]["umum"]["queue_number_with_doctor_priority"].as_bool()),
        (Some(2), Some(true)),
        "{s}"
    );
    assert_eq!(s["data"]["umum"]["last_call"]["priority"], true, "{s}");
    let mut order = vec![first.body["queue_number_with_doctor"].as_i64().unwrap()];
    order.extend(call_order(&desk, desk.poly).await);
    assert_eq!(order, [2, 4, 1, 3, 5, 6]);

    // One priority after every two regular ones, on another poly.
    let saved = app.put("/api/queue/settings", t, json!({"priority_policy": "interleave", "priority_every": 2})).await;
    assert_eq!(saved.status, 200, "{saved:?}");
    let gigi = app.post("/api/poly", t, json!({"name": "Poli Gigi"})).await.body["data"]["id"].as_i64().unwrap();
    let dentist = doctor(app, t, "gigi", gigi).await;
    schedule(app, t, dentist, &desk.today, "08:00", "16:00", None).await;
    for n in 11..=18 {
        let r = register(&desk, gigi, n, if [13, 14, 17].contains(&n) { json!({"priority_reasons": ["pregnancy"]}) } else { json!({}) }).await;
        to_the_doctor(&desk, r["id"].as_i64().unwrap()).await;
    }
    // Numbers 1..8 of Poli Gigi; priority: 3, 4, 7. The first priority patient does not wait.
    assert_eq!(call_order(&desk, gigi).await, [3, 1, 2, 4, 5, 6, 7, 8]);
}

async fn closing_the_day_makes_waiting_numbers_no_shows_and_leaves_the_rest(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(desk.reserve(n).await);
    }
    // 1 and 5 never called; 2 at anamnesa; 3 waiting for the doctor; 4 with the doctor.
    let moves: [&[&str]; 3] = [&["anamnesa"], &["anamnesa", "waitingdoctor"], &["anamnesa", "waitingdoctor", "withdoctor"]];
    for (id, mvs) in ids[1..4].iter().zip(moves) {
        for mv in mvs {
            assert_eq!(app.patch(&format!("/api/queue/{id}/{mv}"), t, json!(null)).await.status, 200);
        }
    }
    let nurse = staff_token(app, t, "perawat", json!([4])).await;
    assert_eq!(app.post("/api/queue/close-day", &nurse, json!({})).await.status, 403);
    assert_error(&app.post("/api/queue/close-day", t, json!({"date": "10-01-2026"})).await, 422, "The date field must match the format Y-m-d.");

    let r = app.post("/api/queue/close-day", t, json!({"date": desk.today})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Day closed successfully");
    assert_eq!(r.body["data"]["no_shows"], json!([ids[0], ids[4]]), "{r:?}");
    assert_eq!(r.body["data"]["left_in_progress"], json!([ids[1], ids[2], ids[3]]), "{r:?}");
    let mut now: Vec<String> = Vec::new();
    for id in &ids {
        now.push(status_of(&desk, *id).await);
    }
    assert_eq!(now, ["NO_SHOW", "ANAMNESA", "WAITING_DOCTOR", "WITH_DOCTOR", "NO_SHOW"]);
    // Counted in the rollups, audited, the boards cleared.
    let summary = app.get(&format!("/api/dashboard/summary?date={}", desk.today), t).await;
    assert_eq!(summary.body["data"][3], json!({"name": "No Show Patients Today", "value": 2}), "{summary:?}");
    let activity = app.get("/api/reports/user-activity?per_page=100", t).await;
    let audited: BTreeSet<i64> = activity.body["data"].as_array().unwrap().iter().filter_map(|r| r["reservation_id"].as_i64()).collect();
    assert!(audited.contains(&ids[0]) && audited.contains(&ids[4]), "{activity:?}");
    let s = board(&desk).await;
    assert_eq!((s["data"]["umum"]["queue_number_anamnesa"].clone(), s["data"]["umum"]["queue_number_with_doctor"].clone()), (Value::Null, Value::Null), "{s}");
    assert_eq!(s["data"]["umum"]["last_call"], Value::Null);
    // The day's rollup items are back to their counts: the board's numbers and calls are gone.
    let deps = app.deps().await;
    let tenant = antrean_domain::Tenant::parse("default").unwrap();
    let date = chrono::NaiveDate::parse_from_str(&desk.today, "%Y-%m-%d").unwrap();
    let year = antrean_store::Query::partition(antrean_domain::rollup::partition(&tenant, chrono::Datelike::year(&date)));
    let buckets = antrean_store::query_all(deps.table.as_ref(), year.sort(antrean_domain::rollup::sort_key_range(date, date))).await.unwrap();
    assert_eq!(buckets.len(), 1, "{buckets:?}");
    let kept: Vec<&String> = buckets[0].keys().filter(|a| a.starts_with("recent_") || (a.starts_with('q') && a[1..].parse::<i64>().is_ok())).collect();
    assert!(kept.is_empty(), "the closed day's board state is removed: {kept:?}");
    assert!(buckets[0].get("g_no_show").is_some(), "the counts stay: {:?}", buckets[0]);

    // Twice: nothing more happens. Staff still finish those in progress.
    let again = app.post("/api/queue/close-day", t, json!({"date": desk.today})).await;
    assert_eq!((again.body["message"].as_str(), again.body["data"]["no_shows"].clone()), (Some("The day was already closed"), json!([])), "{again:?}");
    assert_eq!(app.patch(&format!("/api/queue/{}/done", ids[3]), t, json!(null)).await.status, 200);
    let summary = app.get(&format!("/api/dashboard/summary?date={}", desk.today), t).await;
    assert_eq!(summary.body["data"][3]["value"], 2, "no second count: {summary:?}");
}

/// The scheduled run (the dev server's task and the Lambda call the same sweep): a day closes
/// once the clinic's close time has passed, and only once.
async fn the_day_closes_by_itself_at_the_clinics_time(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let waiting = desk.reserve(1).await;
    let deps = app.deps().await;
    let jakarta_now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Jakarta).format("%H:%M").to_string();
    assert_eq!(app.put("/api/queue/settings", t, json!({"day_close_time": "23:59"})).await.status, 200);
    let closed = antrean_domain::clinic_flow::end_of_day::sweep(&deps).await.unwrap();
    if jakarta_now.as_str() < "23:59" {
        assert!(closed.iter().all(|(_, d)| d.date != desk.today), "not yet: {closed:?}");
        assert_eq!(status_of(&desk, waiting).await, "WAITING");
    }
    assert_eq!(app.put("/api/queue/settings", t, json!({"day_close_time": "00:00"})).await.status, 200);
    let closed = antrean_domain::clinic_flow::end_of_day::sweep(&deps).await.unwrap();
    let today: Vec<_> = closed.iter().filter(|(slug, d)| slug == "default" && d.date == desk.today).collect();
    assert_eq!(today.len(), 1, "{closed:?}");
    assert_eq!(today[0].1.no_shows, vec![waiting]);
    assert_eq!(status_of(&desk, waiting).await, "NO_SHOW");
    let activity = app.get("/api/reports/user-activity?per_page=100", t).await;
    assert!(activity.body["data"].as_array().unwrap().iter().any(|r| r["reservation_id"] == json!(waiting) && r["user"] == "end of day"), "{activity:?}");
    let closed = antrean_domain::clinic_flow::end_of_day::sweep(&deps).await.unwrap();
    assert!(closed.iter().all(|(_, d)| d.date != desk.today), "idempotent: {closed:?}");
}

fn minutes(hhmm: &str) -> i64 {
    let (h, m) = hhmm.split_once(':').unwrap();
    h.parse::<i64>().unwrap() * 60 + m.parse::<i64>().unwrap()
}

/// The ticket's estimate comes from the poly's own consultations once there are enough of
/// them, not from the fixed 10 minutes per patient.
async fn the_ticket_estimate_learns_from_finished_consultations(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let mut tickets = Vec::new();
    for n in 1..=10 {
        let r = desk.register(n).await;
        tickets.push((r.body["data"]["reservation"]["id"].as_i64().unwrap(), r.body["data"]["ticket"]["code"].as_str().unwrap().to_string()));
    }
    let estimate = |code: String| async move {
        let r = app.call(reqwest::Method::GET, &format!("/api/tickets/{code}"), None, None).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"]["estimated_time"].as_str().unwrap().to_string()
    };
    // From when the line moves: now, or the schedule's start at 08:00.
    let base = || minutes(&chrono::Utc::now().with_timezone(&chrono_tz::Asia::Jakarta).format("%H:%M").to_string()).max(8 * 60);
    let before = estimate(tickets[9].1.clone()).await;
    assert!((minutes(&before) - base()).rem_euclid(1440) >= 85, "9 ahead × 10 minutes without history: {before}");
    // Five quick consultations (seconds each): enough history.
    for (id, _) in &tickets[..5] {
        for mv in ["anamnesa", "waitingdoctor", "withdoctor", "done"] {
            assert_eq!(app.patch(&format!("/api/queue/{id}/{mv}"), t, json!(null)).await.status, 200);
        }
    }
    let after = estimate(tickets[9].1.clone()).await;
    let lead = (minutes(&after) - base()).rem_euclid(1440);
    assert!(lead <= 2 || lead >= 1438, "4 ahead × a median of seconds ≈ now, not 40 minutes on: {after}");
}

/// After the doctor: the pharmacy's three stages (BPJS tasks 5, 6, 7), then the cashier, on
/// the same ticket; each service has its own board section; the ticket says where they are.
async fn patients_sent_on_to_the_pharmacy_and_cashier_keep_their_ticket(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let service = |name: &str, kind: &str| {
        let body = json!({"name": name, "kind": kind});
        async move {
            let r = app.post("/api/queue/services", t, body).await;
            assert_eq!(r.status, 200, "{r:?}");
            r.body["data"]["id"].as_i64().unwrap()
        }
    };
    let apotek = service("Apotek", "pharmacy").await;
    let kasir = service("Kasir", "cashier").await;
    assert_eq!(app.post("/api/queue/services", t, json!({"name": "Spa", "kind": "spa"})).await.status, 422);
    let nurse = staff_token(app, t, "perawat", json!([4])).await;
    assert_eq!(app.post("/api/queue/services", &nurse, json!({"name": "Lab"})).await.status, 403);

    let r = desk.register(1).await;
    let (id, code) = (r.body["data"]["reservation"]["id"].as_i64().unwrap(), r.body["data"]["ticket"]["code"].as_str().unwrap().to_string());
    for mv in ["anamnesa", "waitingdoctor", "withdoctor"] {
        assert_eq!(app.patch(&format!("/api/queue/{id}/{mv}"), t, json!(null)).await.status, 200);
    }
    let transfer = |service: i64| async move { app.patch(&format!("/api/queue/{id}/transfer"), t, json!({"service_id": service})).await };
    assert_eq!(transfer(apotek).await.status, 409, "the doctor has not finished yet");
    assert_eq!(app.patch(&format!("/api/queue/{id}/done"), t, json!(null)).await.status, 200);
    assert_error(&transfer(999).await, 422, "The selected service id is invalid.");
    let sent = transfer(apotek).await;
    assert_eq!(sent.status, 200, "{sent:?}");
    assert_eq!(
        (sent.body["data"]["service"]["status"].as_str(), sent.body["data"]["service"]["label"].as_str()),
        (Some("waiting_medicine"), Some("Menunggu obat"))
    );
    assert_eq!(sent.body["data"]["service"]["history"][0]["bpjs_task"], 5);
    let ticket = || async { app.call(reqwest::Method::GET, &format!("/api/tickets/{code}"), None, None).await.body["data"].clone() };
    let v = ticket().await;
    assert_eq!(
        (v["status_label"].as_str(), v["service"]["kind"].as_str(), v["queue_number"].as_i64()),
        (Some("Menunggu obat"), Some("pharmacy"), Some(1)),
        "{v}"
    );
    let s = board(&desk).await;
    assert_eq!(
        (s["data"]["service_apotek"]["kind"].as_str(), s["data"]["service_apotek"]["waiting"].as_i64(), s["data"]["service_apotek"]["called"].clone()),
        (Some("service"), Some(1), json!([])),
        "{s}"
    );
    assert!(s["data"]["umum"]["kind"] == "poly" && s["data"]["service_kasir"]["waiting"] == 0, "{s}");

    let step = |name: &'static str| async move { app.patch(&format!("/api/queue/{id}/service/{name}"), t, json!(null)).await };
    assert_eq!(step("ready").await.status, 409, "prepared before ready");
    assert_eq!(app.patch(&format!("/api/queue/{id}/service/preparing"), &nurse, json!(null)).await.status, 403);
    assert_eq!(step("preparing").await.status, 200);
    assert_eq!(ticket().await["status_label"], "Obat sedang disiapkan");
    assert_eq!(transfer(kasir).await.status, 409, "still at the pharmacy");
    let ready = step("ready").await;
    assert_eq!(
        (ready.body["data"]["service"]["status"].as_str(), ready.body["data"]["service"]["number_of_calls"].as_i64()),
        (Some("ready"), Some(1)),
        "{ready:?}"
    );
    let s = board(&desk).await;
    let apotek_board = &s["data"]["service_apotek"];
    assert_eq!(apotek_board["called"], json!([{"queue_number": 1, "poly_id": desk.poly, "status": "ready", "priority": false}]), "{s}");
    assert_eq!((apotek_board["last_call"]["status"].as_str(), apotek_board["waiting"].as_i64()), (Some("ready"), Some(0)));
    for _ in 0..2 {
        assert_eq!(step("ready").await.status, 200, "a recall");
    }
    assert_error(&step("ready").await, 422, "Maximum number of calls reached (3 times)");
    let collected = step("collected").await;
    assert_eq!(collected.status, 200, "{collected:?}");
    let history = collected.body["data"]["service"]["history"].as_array().unwrap();
    let steps: Vec<(&str, Value)> = history.iter().map(|h| (h["status"].as_str().unwrap(), h["bpjs_task"].clone())).collect();
    assert_eq!(steps, [("waiting_medicine", json!(5)), ("preparing", json!(6)), ("ready", json!(7)), ("collected", Value::Null)]);

    // Then the cashier: its own stages, the pharmacy's history kept.
    assert_eq!(transfer(kasir).await.body["data"]["service"]["status"], "waiting");
    assert_eq!(step("preparing").await.status, 409, "the cashier prepares no medicine");
    assert_eq!(step("call").await.body["data"]["service"]["status"], "called");
    assert_eq!(board(&desk).await["data"]["service_kasir"]["last_call"]["queue_number"], 1);
    let done = step("done").await;
    assert_eq!(done.body["data"]["services"].as_array().map(Vec::len), Some(2), "{done:?}");
    assert_eq!((ticket().await["service"]["status"].as_str(), status_of(&desk, id).await.as_str()), (Some("done"), "DONE"));

    // The services' day, for the dashboard: sent on, where they are now, the wait until called.
    let summary = app.get(&format!("/api/queue/services/summary?from={}", desk.today), t).await;
    assert_eq!(summary.status, 200, "{summary:?}");
    let days = summary.body["data"].as_array().unwrap();
    let of = |name: &str| days.iter().find(|d| d["service_name"] == name).cloned().unwrap_or_else(|| panic!("{name}: {summary:?}"));
    let (pharmacy, cashier) = (of("Apotek"), of("Kasir"));
    assert_eq!((pharmacy["sent"].as_i64(), pharmacy["stages"].clone(), pharmacy["waited"].as_i64()), (Some(1), json!({"collected": 1}), Some(1)), "{pharmacy}");
    assert!(pharmacy["average_wait_minutes"].as_f64().is_some_and(|m| (0.0..5.0).contains(&m)), "{pharmacy}");
    assert_eq!((cashier["sent"].as_i64(), cashier["stages"].clone(), cashier["waited"].as_i64()), (Some(1), json!({"done": 1}), Some(1)), "{cashier}");
    assert_eq!(app.get(&format!("/api/queue/services/summary?from={}", desk.today), &nurse).await.status, 403);
    assert_eq!(app.get(&format!("/api/queue/services/summary?from={}&to=2020-01-01", desk.today), t).await.status, 422);
}

/// Every route of this issue is in the OpenAPI document.
#[test]
fn the_new_routes_are_documented() {
    let doc = serde_json::to_value(antrean_api::openapi::document()).unwrap();
    for path in [
        "/api/queue/rooms",
        "/api/queue/rooms/{id}",
        "/api/queue/settings",
        "/api/queue/close-day",
        "/api/queue/services",
        "/api/queue/services/{id}",
        "/api/queue/{id}/transfer",
        "/api/queue/{id}/service/{step}",
        "/api/queue/{id}/priority",
        "/api/queue/services/summary",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
}

on_both_stores!(
    rooms_are_kept_and_call_next_names_the_room,
    two_rooms_pressing_at_once_never_take_the_same_patient,
    priority_follows_the_clinic_policy,
    closing_the_day_makes_waiting_numbers_no_shows_and_leaves_the_rest,
    the_day_closes_by_itself_at_the_clinics_time,
    the_ticket_estimate_learns_from_finished_consultations,
    patients_sent_on_to_the_pharmacy_and_cashier_keep_their_ticket,
);
