//! What a board that was away learns when it connects again: the snapshot's `calls`, every
//! recent call of its sections in call order with an id of its own (two calls at one poly and a
//! recall too, though each poly keeps one last call), the same ids in every snapshot; and boards
//! limited to rooms by id (exact) or by name (any poly's room of that name).
use serde_json::{json, Value};

use crate::helpers::Store;
use crate::live::{connect, ws_url};
use crate::on_both_stores;
use crate::reservations::{doctor, schedule, Desk};

pub(crate) async fn reserve(desk: &Desk, poly: i64, n: usize) -> i64 {
    let mut body = desk.body(n);
    body["poly_id"] = json!(poly);
    let r = desk.app.post("/api/reservation", &desk.admin, body).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["reservation"]["id"].as_i64().unwrap()
}

async fn mv(desk: &Desk, id: i64, to: &str) {
    let r = desk.app.patch(&format!("/api/queue/{id}/{to}"), &desk.admin, json!(null)).await;
    assert_eq!(r.status, 200, "{to}: {r:?}");
}

async fn call_next(desk: &Desk, poly: i64, room: i64) {
    let r = desk.app.patch("/api/queue/call-next", &desk.admin, json!({"poly_id": poly, "date": desk.today, "room_id": room})).await;
    assert_eq!(r.status, 200, "{r:?}");
}

/// A second poly, Poli Gigi, with its dentist's schedule today.
pub(crate) async fn poli_gigi(desk: &Desk) -> i64 {
    let (app, t) = (&desk.app, &desk.admin);
    let gigi = app.post("/api/poly", t, json!({"name": "Poli Gigi"})).await.body["data"]["id"].as_i64().unwrap();
    let dentist = doctor(app, t, "gigi", gigi).await;
    schedule(app, t, dentist, &desk.today, "08:00", "16:00", None).await;
    gigi
}

pub(crate) async fn room(desk: &Desk, poly: i64, name: &str) -> i64 {
    let r = desk.app.post("/api/queue/rooms", &desk.admin, json!({"poly_id": poly, "name": name})).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["id"].as_i64().unwrap()
}

/// `(section, number, stage, recall, room)` of each listed call.
fn heard(s: &Value) -> Vec<(String, i64, String, bool, Option<String>)> {
    s["calls"]
        .as_array()
        .unwrap_or_else(|| panic!("a snapshot lists its calls: {s}"))
        .iter()
        .map(|c| {
            (
                c["section"].as_str().unwrap().to_string(),
                c["queue_number"].as_i64().unwrap(),
                c["stage"].as_str().unwrap_or_default().to_string(),
                c["recall"].as_bool().unwrap(),
                c["room"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn ids(s: &Value) -> Vec<String> {
    s["calls"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

async fn a_returning_board_hears_every_call_it_missed_in_order(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let umum = desk.poly;
    let gigi = poli_gigi(&desk).await;
    let ruang_umum = room(&desk, umum, "Ruang 2").await;
    let ruang_gigi = room(&desk, gigi, "Ruang 2").await;
    let (u1, u2, g1) = (reserve(&desk, umum, 1).await, reserve(&desk, umum, 2).await, reserve(&desk, gigi, 3).await);

    // Nothing called yet: an empty list.
    let mut early = connect(&ws_url(app, t)).await.unwrap();
    assert_eq!(early.snapshot().await["calls"], json!([]));

    // While the board is away: two numbers and a recall at Poli Umum, one at Poli Gigi, then each
    // poly's doctor calls one in to its "Ruang 2".
    mv(&desk, u1, "anamnesa").await;
    mv(&desk, u2, "anamnesa").await;
    mv(&desk, g1, "anamnesa").await;
    mv(&desk, u2, "anamnesa").await;
    mv(&desk, u1, "waitingdoctor").await;
    call_next(&desk, umum, ruang_umum).await;
    mv(&desk, g1, "waitingdoctor").await;
    call_next(&desk, gigi, ruang_gigi).await;

    let mut board = connect(&ws_url(app, t)).await.unwrap();
    let s = board.snapshot().await;
    let umum_key = "umum".to_string();
    let room2 = Some("Ruang 2".to_string());
    assert_eq!(
        heard(&s),
        [
            (umum_key.clone(), 1, "anamnesa".into(), false, None),
            (umum_key.clone(), 2, "anamnesa".into(), false, None),
            ("gigi".into(), 1, "anamnesa".into(), false, None),
            (umum_key.clone(), 2, "anamnesa".into(), true, None),
            (umum_key.clone(), 1, "with_doctor".into(), false, room2.clone()),
            ("gigi".into(), 1, "with_doctor".into(), false, room2.clone()),
        ],
        "{s}"
    );
    let first = ids(&s);
    assert_eq!(first.iter().collect::<std::collections::BTreeSet<_>>().len(), 6, "an id per call: {first:?}");
    assert_eq!(s["calls"][4]["room_id"], json!(ruang_umum));
    assert_eq!(s["calls"][5]["room_id"], json!(ruang_gigi));
    assert_eq!(s["data"]["umum"]["last_call"]["room_id"], json!(ruang_umum), "the last call says its room's id too");
    let times: Vec<&str> = s["calls"].as_array().unwrap().iter().map(|c| c["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first: {times:?}");
    // Asked again (hello): the same calls, the same ids.
    board.send(json!({"action": "hello", "token": t})).await;
    assert_eq!(ids(&board.snapshot().await), first);
    // The board that stayed connected got every push; its latest lists the same calls.
    let mut latest = Value::Null;
    while let Ok(Some(v)) = early.next(std::time::Duration::from_millis(500)).await {
        latest = v;
    }
    assert_eq!(ids(&latest), first, "pushes carry the list too");

    // A board for Poli Umum's Ruang 2 by id: that room's call only, not Gigi's "Ruang 2", not anamnesa.
    let by_id = app.post("/api/boards", t, json!({"name": "TV Ruang 2", "room_ids": [ruang_umum]})).await;
    assert_eq!(by_id.status, 200, "{by_id:?}");
    assert_eq!((&by_id.body["data"]["room_ids"], &by_id.body["data"]["rooms"]), (&json!([ruang_umum]), &json!([])));
    let mut tv = connect(by_id.body["data"]["ws_url"].as_str().unwrap()).await.unwrap();
    let s = tv.snapshot().await;
    assert_eq!(s["data"].as_object().unwrap().keys().collect::<Vec<_>>(), ["umum"]);
    assert_eq!(heard(&s), [(umum_key.clone(), 1, "with_doctor".into(), false, room2.clone())]);
    // By name (as before ids): every poly's "Ruang 2".
    let by_name = app.post("/api/boards", t, json!({"name": "TV Ruang 2 (nama)", "rooms": ["ruang 2"]})).await;
    let mut tv = connect(by_name.body["data"]["ws_url"].as_str().unwrap()).await.unwrap();
    let s = tv.snapshot().await;
    assert_eq!(heard(&s).iter().map(|h| h.0.as_str()).collect::<Vec<_>>(), ["umum", "gigi"]);
}

async fn boards_choose_rooms_by_live_id(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let r = room(&desk, desk.poly, "Ruang 1").await;
    let gone = room(&desk, desk.poly, "Ruang 9").await;
    assert_eq!(app.delete(&format!("/api/queue/rooms/{gone}"), t).await.status, 200);
    for (body, field) in [
        (json!({"room_ids": [999]}), "room_ids.0"),
        (json!({"room_ids": [r, gone]}), "room_ids.1"),
        (json!({"room_ids": ["abc"]}), "room_ids.0"),
        (json!({"room_ids": r}), "room_ids"),
    ] {
        let reply = app.post("/api/boards", t, body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {reply:?}");
        assert!(reply.body["errors"][field].is_array(), "{body}: {reply:?}");
    }
    assert_eq!(app.get("/api/boards", t).await.body["data"], json!([]), "nothing was created");
    let board = app.post("/api/boards", t, json!({"name": "TV", "room_ids": [r.to_string(), r]})).await;
    assert_eq!(board.body["data"]["room_ids"], json!([r]), "{board:?}");
    let id = board.body["data"]["id"].as_i64().unwrap();
    let bad = app.patch(&format!("/api/boards/{id}"), t, json!({"room_ids": [gone]})).await;
    assert_eq!((bad.status.as_u16(), &bad.body["errors"]["room_ids.0"]), (422, &json!(["The selected room_ids.0 is invalid."])), "{bad:?}");
    assert_eq!(app.get("/api/boards", t).await.body["data"][0]["room_ids"], json!([r]), "unchanged");
    let lifted = app.patch(&format!("/api/boards/{id}"), t, json!({"room_ids": null})).await;
    assert_eq!(lifted.body["data"]["room_ids"], json!([]), "{lifted:?}");
}

/// Pharmacy calls ("ready to collect") of two patients while the board is away: both listed, in
/// order, with ids that stay when the patients move on. A service keeps each number's latest
/// call, so a recall stands for that number's call.
async fn every_patient_called_at_the_pharmacy_is_listed(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let apotek = app.post("/api/queue/services", t, json!({"name": "Apotek", "kind": "pharmacy"})).await.body["data"]["id"].as_i64().unwrap();
    let mut ids = Vec::new();
    for n in 1..=3 {
        let id = reserve(&desk, desk.poly, n).await;
        for to in ["anamnesa", "waitingdoctor", "withdoctor", "done"] {
            mv(&desk, id, to).await;
        }
        let sent = app.patch(&format!("/api/queue/{id}/transfer"), t, json!({"service_id": apotek})).await;
        assert_eq!(sent.status, 200, "{sent:?}");
        mv(&desk, id, "service/preparing").await;
        ids.push(id);
    }
    let before = ids_of_kind(&connect(&ws_url(app, t)).await.unwrap().snapshot().await, "service");
    assert!(before.is_empty(), "nobody called at the pharmacy yet: {before:?}");
    mv(&desk, ids[0], "service/ready").await;
    mv(&desk, ids[1], "service/ready").await;
    mv(&desk, ids[2], "service/ready").await;
    mv(&desk, ids[0], "service/ready").await; // a recall
    let s = connect(&ws_url(app, t)).await.unwrap().snapshot().await;
    let pharmacy: Vec<(i64, String, bool)> = s["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "service")
        .map(|c| (c["queue_number"].as_i64().unwrap(), c["status"].as_str().unwrap().to_string(), c["recall"].as_bool().unwrap()))
        .collect();
    assert_eq!(pharmacy, [(2, "ready".into(), false), (3, "ready".into(), false), (1, "ready".into(), true)], "{s}");
    assert!(s["calls"].as_array().unwrap().iter().filter(|c| c["kind"] == "service").all(|c| c["section"] == "service_apotek" && c["service_id"] == apotek));
    // The patients collect their medicine: the calls keep their ids (a board that said them says them not again).
    let listed = ids_of_kind(&s, "service");
    mv(&desk, ids[1], "service/collected").await;
    mv(&desk, ids[0], "service/collected").await;
    let after = connect(&ws_url(app, t)).await.unwrap().snapshot().await;
    assert_eq!(ids_of_kind(&after, "service"), listed, "{after}");
}

fn ids_of_kind(s: &Value, kind: &str) -> Vec<String> {
    s["calls"].as_array().unwrap().iter().filter(|c| c["kind"] == kind).map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

on_both_stores!(a_returning_board_hears_every_call_it_missed_in_order, boards_choose_rooms_by_live_id, every_patient_called_at_the_pharmacy_is_listed);
