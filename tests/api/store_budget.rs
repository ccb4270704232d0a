//! Store requests per call: each endpoint is held to the request budget the DynamoDB path is
//! designed for, so a change that adds a read to a hot path fails here. Counts are stable (they
//! do not depend on the machine's speed), so they can be asserted; times are for the benchmark.
//!
//! The dev server counts every request its table makes as DynamoDB would see it
//! (`GET /debug/capacity`, served with `BENCH_CAPACITY=1`): a GetItem, a Query, a BatchGetItem
//! per 100 keys, a single-item write or a transaction. Authentication is included: these are
//! the requests one API call costs.
use serde_json::{json, Value};

use crate::helpers::{Store, TestApp};
use crate::on_both_stores;
use crate::reservations::{day, schedule, Desk};

/// What one call cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cost {
    reads: u64,
    writes: u64,
    /// On DynamoDB: the calls the adapter made (it must agree with the count).
    dynamodb_calls: Option<u64>,
}

async fn counters(app: &TestApp) -> Value {
    let r = app.call(reqwest::Method::GET, "/debug/capacity", None, None).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

fn number(v: &Value, path: &[&str]) -> u64 {
    path.iter().fold(v, |v, k| &v[*k]).as_u64().unwrap_or(0)
}

/// The store requests `call` made, and its answer.
pub(crate) async fn cost<F: std::future::Future<Output = crate::helpers::Reply>>(app: &TestApp, call: F) -> (Cost, crate::helpers::Reply) {
    let before = counters(app).await;
    let reply = call.await;
    let after = counters(app).await;
    let d = |path: &[&str]| number(&after, path) - number(&before, path);
    let reads = d(&["requests", "gets"]) + d(&["requests", "batch_gets"]) + d(&["requests", "queries"]);
    let writes = d(&["requests", "single_writes"]) + d(&["requests", "transactions"]);
    let dynamodb_calls = (after["store"] == "dynamodb").then(|| d(&["calls"]));
    (Cost { reads, writes, dynamodb_calls }, reply)
}

#[track_caller]
pub(crate) fn within(what: &str, c: Cost, reads: u64, writes: u64) {
    eprintln!("store requests: {what}: {} reads, {} writes (budget {reads} + {writes})", c.reads, c.writes);
    assert!(c.reads <= reads, "{what}: {} reads, budget {reads} ({c:?})", c.reads);
    assert_eq!(c.writes, writes, "{what}: {c:?}");
    if let Some(calls) = c.dynamodb_calls {
        assert_eq!(calls, c.reads + c.writes, "{what}: DynamoDB saw other calls than were counted ({c:?})");
    }
}

pub(crate) async fn desk(store: Store) -> Desk {
    // Only this test's process serves the counters (nextest runs each test in its own).
    std::env::set_var("BENCH_CAPACITY", "1");
    Desk::open(store, None).await
}

async fn creates_and_moves_stay_within_their_budgets(store: Store) {
    let desk = desk(store).await;
    let (app, t) = (&desk.app, &desk.admin);

    // A new patient, the poly's schedule picked: ≤ 5 reads and the one transaction.
    let (c, r) = cost(app, app.post("/api/reservation", t, desk.body(1))).await;
    assert_eq!(r.status, 200, "{r:?}");
    within("create, new patient", c, 5, 1);
    let first = r.body["data"]["reservation"]["id"].as_i64().unwrap();
    // A known patient on another day, the schedule named.
    let tomorrow = day(1);
    let sched = schedule(app, t, desk.doctor, &tomorrow, "08:00", "12:00", Some(10)).await;
    let mut body = desk.body(1);
    body["date"] = json!(tomorrow);
    body["schedule_id"] = json!(sched);
    let (c, r) = cost(app, app.post("/api/reservation", t, body)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["reservation"]["patient_id"], json!(1), "the same patient: {r:?}");
    within("create, known patient, named schedule", c, 5, 1);

    // Each move: ≤ 3 reads and one write, the board's call and the rollups included.
    for mv in ["anamnesa", "anamnesa", "waitingdoctor", "withdoctor", "done"] {
        let (c, r) = cost(app, app.patch(&format!("/api/queue/{first}/{mv}"), t, json!(null))).await;
        assert_eq!(r.status, 200, "{mv}: {r:?}");
        within(mv, c, 3, 1);
    }
    // Call-next: finishes one and calls the next in one write.
    let mut waiting = Vec::new();
    for n in 2..=3 {
        let id = desk.reserve(n).await;
        for mv in ["anamnesa", "waitingdoctor"] {
            assert_eq!(app.patch(&format!("/api/queue/{id}/{mv}"), t, json!(null)).await.status, 200);
        }
        waiting.push(id);
    }
    let next = json!({"poly_id": desk.poly, "date": desk.today});
    for expected in &waiting {
        let (c, r) = cost(app, app.patch("/api/queue/call-next", t, next.clone())).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body["data"]["current"]["id"], json!(expected), "{r:?}");
        within("call-next", c, 3, 1);
    }
    let (c, r) = cost(app, app.patch(&format!("/api/queue/{}/noshow", waiting[0]), t, json!(null))).await;
    assert_eq!(r.status, 409, "finished already: {r:?}");
    within("a refused move", c, 2, 0);
}

async fn pages_cost_the_same_whatever_their_size(store: Store) {
    let desk = desk(store).await;
    let (app, t) = (&desk.app, &desk.admin);
    for n in 1..=30 {
        let r = desk.register(n).await;
        assert_eq!(r.status, 200, "{r:?}");
    }
    let today = &desk.today;
    for (what, path, budget) in [
        ("queue list", format!("/api/queue?date={today}"), 4),
        ("queue list, the seed's path", format!("/api/queue/?date={today}&poly_id={}", desk.poly), 4),
        ("queue list of today", "/api/queue".to_string(), 4),
        ("reservation list", "/api/reservation".to_string(), 4),
        ("reservation list of a day", format!("/api/reservation?date={today}"), 4),
    ] {
        let (small, r) = cost(app, app.get(&format!("{path}{}per_page=5", if path.contains('?') { "&" } else { "?" }), t)).await;
        assert_eq!(r.status, 200, "{what}: {r:?}");
        assert_eq!(r.body["data"]["data"].as_array().map(Vec::len), Some(5), "{what}: {r:?}");
        let (large, r) = cost(app, app.get(&format!("{path}{}per_page=100", if path.contains('?') { "&" } else { "?" }), t)).await;
        assert_eq!(r.body["data"]["data"].as_array().map(Vec::len), Some(30), "{what}: {r:?}");
        within(what, small, budget, 0);
        within(what, large, budget, 0);
        assert_eq!(small.reads, large.reads, "{what}: a page of 30 costs what a page of 5 does");
    }
    for (what, path, budget) in [
        ("patient-visits report page", format!("/api/reports/patient-visits?date_from={today}&date_to={today}"), 6),
        ("patient-visits report page 2, BPJS only", format!("/api/reports/patient-visits?date_from={today}&date_to={today}&insurance_type=BPJS&page=2&per_page=5"), 6),
        ("waiting-time report", format!("/api/reports/waiting-time?date_from={today}&date_to={today}"), 6),
        ("user-activity report, a month", format!("/api/reports/user-activity?date_from={}&date_to={today}", day(-30)), 6),
        ("dashboard summary", format!("/api/dashboard/summary?date={today}"), 3),
        ("dashboard trend", "/api/dashboard/reservation-trend".to_string(), 3),
        ("dashboard peak hours", format!("/api/dashboard/clinic-peak-hours?date={today}"), 3),
    ] {
        let (c, r) = cost(app, app.get(&path, t)).await;
        assert_eq!(r.status, 200, "{what}: {r:?}");
        within(what, c, budget, 0);
    }
    let visits = app.get(&format!("/api/reports/patient-visits?date_from={today}&date_to={today}&insurance_type=BPJS&per_page=100"), t).await;
    assert_eq!(visits.body["data"].as_array().map(Vec::len), Some(15), "every second patient is BPJS: {visits:?}");
}

/// The status items `call` read (the dev server counts items by kind).
async fn statuses_read<F: std::future::Future<Output = crate::helpers::Reply>>(app: &TestApp, call: F) -> (u64, crate::helpers::Reply) {
    let before = counters(app).await;
    let reply = call.await;
    let after = counters(app).await;
    let read = |v: &Value| number(v, &["by_kind", "STATUS", "items_read"]);
    (read(&after) - read(&before), reply)
}

/// A move or a list nests the reservation's status without reading a status item: the clinic's
/// profile, read with the session, carries a copy of the workflow statuses (seven read units a
/// call otherwise). A label the clinic edits shows at once, exactly as the status itself says.
async fn statuses_come_with_the_session(store: Store) {
    let desk = desk(store).await;
    let (app, t) = (&desk.app, &desk.admin);
    let (read, r) = statuses_read(app, app.post("/api/reservation", t, desk.body(1))).await;
    assert_eq!((r.status.as_u16(), read), (200, 0), "a create reads no status item: {r:?}");
    let id = r.body["data"]["reservation"]["id"].as_i64().unwrap();
    let edited = app.put("/api/status/2", t, json!({"status_name": "ANAMNESA", "label": "Dipanggil Perawat", "information": "Di meja perawat"})).await;
    assert_eq!(edited.status, 200, "{edited:?}");
    let (read, r) = statuses_read(app, app.patch(&format!("/api/queue/{id}/anamnesa"), t, json!(null))).await;
    assert_eq!((r.status.as_u16(), read), (200, 0), "a move reads no status item: {r:?}");
    let status = app.get("/api/status/2", t).await.body["data"].clone();
    assert_eq!(status["label"], "Dipanggil Perawat", "{status}");
    let (read, list) = statuses_read(app, app.get(&format!("/api/queue?date={}", desk.today), t)).await;
    assert_eq!((list.status.as_u16(), read), (200, 0), "a list reads no status item: {list:?}");
    let nested = &list.body["data"]["data"][0]["reservation"]["status"];
    for field in ["id", "status_name", "label", "information", "created_at", "updated_at"] {
        assert_eq!(nested[field], status[field], "{field}: the list nests the status as it is: {nested} vs {status}");
    }
    assert_eq!(r.body["data"]["reservation"]["status"]["label"], "Dipanggil Perawat", "the move's answer too: {r:?}");
}

on_both_stores!(creates_and_moves_stay_within_their_budgets, pages_cost_the_same_whatever_their_size, statuses_come_with_the_session);
