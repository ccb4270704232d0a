//! The board's state kept on the poly-day rollup buckets (`board::state`): whatever the desk
//! does (calls, recalls, call-next to rooms, a priority mark, no-show, cancel, a transfer to
//! another poly, a rollup rebuild), the snapshot built from the buckets shows the same numbers,
//! rooms and priority flags as one built from the whole day's queue; and a day begun before the
//! buckets kept that state (no mark) is still shown right, from the day's queue.
use antrean_domain::board::{self, FromQueue, FromRollups};
use antrean_domain::reporting::source;
use antrean_domain::{rollup, Tenant};
use antrean_store::{Op, Update};
use serde_json::{json, Value};

use crate::board_calls::{poli_gigi, reserve, room};
use crate::helpers::Store;
use crate::on_both_stores;
use crate::reservations::{clinic_today, Desk};

async fn mv(desk: &Desk, id: i64, to: &str, body: Value) {
    let r = desk.app.patch(&format!("/api/queue/{id}/{to}"), &desk.admin, body).await;
    assert_eq!(r.status, 200, "{to}: {r:?}");
}

/// What a board shows of each poly, without the calls (the queue does not keep those).
fn numbers(s: &board::Snapshot) -> Value {
    let v = serde_json::to_value(&s.data).unwrap();
    let mut out = serde_json::Map::new();
    for (k, p) in v.as_object().unwrap() {
        let mut p = p.clone();
        p.as_object_mut().unwrap().remove("last_call");
        out.insert(k.clone(), p);
    }
    Value::Object(out)
}

/// The snapshot from the buckets and from the whole day's queue show the same numbers; the
/// buckets' is what the boards get.
async fn same_as_the_queue(desk: &Desk, step: &str) -> Value {
    let deps = desk.app.deps().await;
    let tenant = Tenant::parse("default").unwrap();
    let day = clinic_today();
    let (kept, queue) = (
        board::snapshot_with(&FromRollups, &deps, &tenant, day).await.unwrap(),
        board::snapshot_with(&FromQueue, &deps, &tenant, day).await.unwrap(),
    );
    assert_eq!(numbers(&kept), numbers(&queue), "after {step}");
    let live = board::snapshot(&deps, &tenant, day).await.unwrap();
    assert_eq!((numbers(&live), &live.calls), (numbers(&kept), &kept.calls), "after {step}");
    serde_json::to_value(&kept).unwrap()
}

async fn the_buckets_show_what_the_queue_says(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let umum = desk.poly;
    let gigi = poli_gigi(&desk).await;
    let (r1, r2, g1) = (room(&desk, umum, "Ruang 1").await, room(&desk, umum, "Ruang 2").await, room(&desk, gigi, "Ruang 1").await);
    let mut u = Vec::new();
    for n in 1..=6 {
        u.push(reserve(&desk, umum, n).await);
    }
    let g = vec![reserve(&desk, gigi, 7).await, reserve(&desk, gigi, 8).await];
    same_as_the_queue(&desk, "registering").await;

    mv(&desk, u[0], "anamnesa", json!(null)).await;
    mv(&desk, u[1], "anamnesa", json!(null)).await;
    let s = same_as_the_queue(&desk, "two calls to anamnesa").await;
    assert_eq!(s["data"]["umum"]["queue_number_anamnesa"], 2, "{s}");
    // A priority mark while at anamnesa shows at once.
    let p = app.patch(&format!("/api/queue/{}/priority", u[1]), t, json!({"priority_reasons": ["pregnancy"]})).await;
    assert_eq!(p.status, 200, "{p:?}");
    let s = same_as_the_queue(&desk, "a priority mark").await;
    assert_eq!(s["data"]["umum"]["queue_number_anamnesa_priority"], true, "{s}");
    mv(&desk, u[0], "anamnesa", json!(null)).await; // a recall: number 1 is the latest again
    let s = same_as_the_queue(&desk, "a recall").await;
    assert_eq!((&s["data"]["umum"]["queue_number_anamnesa"], &s["data"]["umum"]["queue_number_anamnesa_priority"]), (&json!(1), &json!(false)));

    for id in [u[0], u[1]] {
        mv(&desk, id, "waitingdoctor", json!(null)).await;
    }
    mv(&desk, u[0], "withdoctor", json!({"room_id": r1})).await;
    let next = app.patch("/api/queue/call-next", t, json!({"poly_id": umum, "date": desk.today, "room_id": r2})).await;
    assert_eq!(next.status, 200, "{next:?}");
    let s = same_as_the_queue(&desk, "two rooms").await;
    let rooms: Vec<(i64, i64)> = s["data"]["umum"]["rooms"].as_array().unwrap().iter().map(|r| (r["room_id"].as_i64().unwrap(), r["queue_number"].as_i64().unwrap())).collect();
    assert_eq!(rooms, [(r1, 1), (r2, 2)], "{s}");
    assert_eq!(s["data"]["umum"]["queue_number_with_doctor_priority"], true, "number 2 is a priority patient");
    assert_eq!(s["data"]["umum"]["last_call"]["room_id"], json!(r2), "{s}");

    // No-show and cancel of numbers at anamnesa; a number finished and sent on to Poli Gigi.
    mv(&desk, u[2], "anamnesa", json!(null)).await;
    mv(&desk, u[2], "noshow", json!(null)).await;
    mv(&desk, u[3], "anamnesa", json!(null)).await;
    mv(&desk, u[3], "cancelled", json!(null)).await;
    let s = same_as_the_queue(&desk, "a no-show and a cancel").await;
    assert_eq!(s["data"]["umum"]["queue_number_anamnesa"], Value::Null, "{s}");
    mv(&desk, u[0], "done", json!(null)).await;
    let sent = app.patch(&format!("/api/queue/{}/transfer", u[0]), t, json!({"poly_id": gigi})).await;
    assert_eq!(sent.status, 200, "{sent:?}");
    same_as_the_queue(&desk, "a transfer").await;
    mv(&desk, g[0], "anamnesa", json!(null)).await;
    mv(&desk, g[0], "waitingdoctor", json!(null)).await;
    mv(&desk, g[0], "withdoctor", json!({"room_id": g1})).await;
    let s = same_as_the_queue(&desk, "Poli Gigi's doctor").await;
    assert_eq!(s["data"]["gigi"]["queue_number_with_doctor"], 1, "{s}");

    // A rebuild of the day's counts keeps what the boards show; so does a repair.
    let deps = app.deps().await;
    let tenant = Tenant::parse("default").unwrap();
    let (date, tz) = (clinic_today(), chrono_tz::Asia::Jakarta);
    let before = same_as_the_queue(&desk, "the day so far").await;
    let k = rollup::key(&tenant, date, umum);
    deps.table.write(vec![Op::update(k, Update::new().add("b_waiting", 3).add("rev", 1))]).await.unwrap();
    let outcome = rollup::rebuild_day(deps.table.as_ref(), &tenant, date, |d| source::day_facts(&deps, &tenant, d, tz)).await.unwrap();
    assert_eq!(outcome, rollup::RebuildOutcome { repaired: 1, unchanged: 1 });
    let after = same_as_the_queue(&desk, "a rebuild").await;
    assert_eq!((&after["data"], &after["calls"]), (&before["data"], &before["calls"]), "a rebuild changes nothing the boards show");
    mv(&desk, u[1], "done", json!(null)).await;
    same_as_the_queue(&desk, "finishing after the rebuild").await;
}

/// A day begun before the boards' state was kept on the buckets: its buckets carry no mark and
/// no numbers, its polies' calls are on their board items. The snapshot reads that poly's
/// numbers from the day's queue and lists the old calls with the new ones.
async fn a_day_begun_before_is_shown_from_the_queue(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let mut u = Vec::new();
    for n in 1..=3 {
        u.push(desk.reserve(n).await);
    }
    mv(&desk, u[0], "anamnesa", json!(null)).await;
    mv(&desk, u[1], "anamnesa", json!(null)).await;
    // What such a bucket looks like: the counts only. Its calls were on the board item.
    let deps = app.deps().await;
    let tenant = Tenant::parse("default").unwrap();
    let date = clinic_today();
    let k = rollup::key(&tenant, date, desk.poly);
    let mut item = deps.table.get(&k).await.unwrap().expect("the poly's bucket");
    assert_eq!(item.get(board::state::MARK), Some(&json!(1)), "number 1 marked its bucket");
    item.retain(|a, _| !board::state::is_board_attr(a));
    deps.table.write(vec![Op::put(item)]).await.unwrap();
    let old_call = board::Call {
        poly_id: desk.poly,
        date,
        queue_number: 2,
        stage: board::Stage::Anamnesa,
        number_of_calls: 1,
        at: chrono::Utc::now() - chrono::Duration::seconds(30),
        room: None,
        priority: false,
    };
    deps.table.write(vec![board::call_op(&tenant, &old_call)]).await.unwrap();

    let s = serde_json::to_value(board::snapshot(&deps, &tenant, date).await.unwrap()).unwrap();
    assert_eq!(s["data"]["umum"]["queue_number_anamnesa"], 2, "from the day's queue: {s}");
    assert_eq!(s["data"]["umum"]["last_call"]["queue_number"], 2, "{s}");
    // Moves after the deploy: the new call lands on the bucket and joins the old one.
    mv(&desk, u[2], "anamnesa", json!(null)).await;
    mv(&desk, u[0], "waitingdoctor", json!(null)).await;
    let s = same_as_the_queue(&desk, "moves on an unmarked bucket").await;
    assert_eq!(s["data"]["umum"]["queue_number_anamnesa"], 3, "{s}");
    assert_eq!(s["data"]["umum"]["last_call"]["queue_number"], 3, "the newer call wins: {s}");
    let heard: Vec<i64> = s["calls"].as_array().unwrap().iter().map(|c| c["queue_number"].as_i64().unwrap()).collect();
    assert_eq!(heard, [2, 3], "the old call and the new: {s}");
    // And what the boards are pushed says the same.
    let mut board = crate::live::connect(&crate::live::ws_url(app, t)).await.unwrap();
    let pushed = board.snapshot().await;
    assert_eq!(pushed["data"]["umum"]["queue_number_anamnesa"], 3, "{pushed}");
}

on_both_stores!(the_buckets_show_what_the_queue_says, a_day_begun_before_is_shown_from_the_queue);
