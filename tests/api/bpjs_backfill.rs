//! Reservations BPJS has not had: made before the clinic switched BPJS on, or not sent while
//! a poly had no BPJS code. Switching BPJS on (and `POST /api/bpjs/sync/backfill`) queues
//! them, each once; a reservation's JKN flag changed before its add went is sent as it is then.
use serde_json::json;

use crate::bpjs::{config_body, pairs, statuses, Bridge};
use crate::fake_bpjs::{FakeBpjs, SECRET};
use crate::helpers::{assert_error, Store};
use crate::on_both_stores;
use crate::reservations::{day, Desk};

async fn reservations_made_before_bpjs_was_switched_on_are_sent_once(store: Store) {
    std::env::set_var("WEBHOOK_RETRY_SECONDS", "0");
    std::env::set_var("BPJS_PROMPT_SECONDS", "0");
    let desk = Desk::open(store, Some(30)).await;
    let (app, t) = (&desk.app, desk.admin.clone());
    let t0 = chrono::Utc::now().timestamp_millis();
    let (a, _) = (desk.reserve(1).await, desk.reserve(2).await);
    let gone = desk.reserve(3).await;
    assert_eq!(app.patch(&format!("/api/queue/{gone}/cancelled"), &t, json!(null)).await.status, 200);
    assert_eq!(app.patch(&format!("/api/queue/{a}/anamnesa"), &t, json!(null)).await.status, 200);
    let t1 = chrono::Utc::now().timestamp_millis();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let before = app.get(&format!("/api/reservation/{a}"), &t).await;
    assert!(before.body["data"]["reservation"]["antrean_bpjs"].is_null(), "no BPJS data yet: {before:?}");

    // Switched on: the two open reservations are queued (not the cancelled one).
    let fake = FakeBpjs::start().await;
    let r = app.put("/api/bpjs/config", &t, config_body(&fake, SECRET)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["backfill"], json!({"queued": 2, "already": 0, "busy": 0}));
    let b = Bridge { desk, fake };
    // Not mapped yet: the worker cannot send them, and says why.
    assert_eq!(b.run().await["expired"], 4);
    let rows = b.sync().await;
    assert_eq!(rows.len(), 2);
    assert_eq!(statuses(&rows[0]), pairs(&[("add", "skipped"), ("task3", "blocked")]));
    assert!(rows[0]["events"][0]["message"].as_str().unwrap().contains("has no BPJS code"), "{rows:?}");
    assert!(b.fake.events().is_empty());

    // Mapped, then the backfill again: the skipped ones go, with their own stamps.
    let m = b
        .map(json!({"polies": [{"poly_id": b.desk.poly, "kodepoli": "ANA"}], "doctors": [{"doctor_id": b.desk.doctor, "kodedokter": 12345}]}))
        .await;
    assert_eq!(m.status, 200, "{m:?}");
    let r = b.app().post("/api/bpjs/sync/backfill", &t, json!({})).await;
    assert_eq!(r.body["data"], json!({"queued": 2, "already": 0, "busy": 0}), "{r:?}");
    assert_eq!(b.run().await, json!({"delivered": 4, "failed": 0, "expired": 0}));
    let ev = b.fake.events();
    let mut adds: Vec<_> = ev.iter().filter(|e| e.path == "antrean/add").collect();
    adds.sort_by_key(|e| e.body["angkaantrean"].as_i64());
    assert_eq!(adds.len(), 2);
    assert_eq!(adds[0].body["pasienbaru"], 0, "made before BPJS: reported as a known patient");
    assert_eq!((adds[1].body["jenispasien"].as_str(), adds[1].body["nomorkartu"].as_str()), (Some("JKN"), Some("0000000000002")));
    for e in ev.iter().filter(|e| e.body["taskid"] == 3) {
        let w = e.body["waktu"].as_i64().unwrap();
        assert!(w >= t0 && w <= t1, "task 3 at the registration's own time, not the backfill's: {w} in {t0}..{t1}");
    }
    for row in b.sync().await {
        assert_eq!(row["status"], "sent", "{row}");
    }

    // Again (and switching on again): nothing is queued twice, nothing sent twice.
    let r = b.app().post("/api/bpjs/sync/backfill", &t, json!(null)).await;
    assert_eq!(r.body["data"], json!({"queued": 0, "already": 2, "busy": 0}), "{r:?}");
    let off = json!({"base_url": b.fake.url, "cons_id": crate::fake_bpjs::CONS_ID, "enabled": false});
    assert_eq!(b.app().put("/api/bpjs/config", &t, off).await.status, 200);
    let mut on = config_body(&b.fake, SECRET);
    on["enabled"] = json!(true);
    assert_eq!(b.app().put("/api/bpjs/config", &t, on).await.body["data"]["backfill"]["queued"], 0);
    assert_eq!(b.run_later().await["delivered"], 0);
    assert_eq!(b.fake.events().len(), 4);

    // Bad input and rights.
    assert_error(&b.app().post("/api/bpjs/sync/backfill", &t, json!({"date": day(-1)})).await, 422, "The date must be today or later.");
    assert_error(&b.app().post("/api/bpjs/sync/backfill", &t, json!({"date": "10-01-2026"})).await, 422, "The date field must match the format Y-m-d.");
    let head = crate::users::staff_token(b.app(), &t, "kepala", json!([2])).await;
    assert_eq!(b.app().post("/api/bpjs/sync/backfill", &head, json!({})).await.status, 403, "bpjs.manage");
}

async fn a_jkn_flag_changed_before_the_add_went_is_sent_as_it_is_then(store: Store) {
    let b = Bridge::open(store, Some(30), true).await;
    let id = b.desk.reserve(1).await;
    let mut body = b.desk.body(1);
    body["bpjs"] = json!(true);
    let r = b.app().put(&format!("/api/reservation/{id}"), &b.desk.admin, body).await;
    assert_eq!(r.status, 200, "{r:?}");
    b.run().await;
    let add = &b.fake.events()[0].body;
    assert_eq!((add["jenispasien"].as_str(), add["nomorkartu"].as_str()), (Some("JKN"), Some("0000000000001")), "{add}");
    assert_eq!(b.fake.events().iter().filter(|e| e.path == "antrean/add").count(), 1);
}

on_both_stores!(
    reservations_made_before_bpjs_was_switched_on_are_sent_once,
    a_jkn_flag_changed_before_the_add_went_is_sent_as_it_is_then,
);
