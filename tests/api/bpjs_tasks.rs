//! BPJS task ids 1–7 from the clinic's own stamps (admission, stages, pharmacy), and prompt
//! sends: an event reaches BPJS right after the request that made it, without the worker,
//! and a slow or failing BPJS never fails that request.
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::bpjs::{pairs, statuses, Bridge};
use crate::fake_bpjs::Answer;
use crate::helpers::{assert_error, Store};
use crate::on_both_stores;
use crate::users::staff_token;

fn tasks(b: &Bridge) -> Vec<i64> {
    b.fake.events().iter().filter_map(|c| c.body["taskid"].as_i64()).collect()
}

fn waktu(b: &Bridge, task: i64) -> Option<i64> {
    b.fake.events().iter().find(|c| c.body["taskid"] == task).and_then(|c| c.body["waktu"].as_i64())
}

/// A time `minutes` ago, whole seconds, as the desk sends it and in ms.
fn ago(minutes: i64) -> (String, i64) {
    let t = Utc::now() - chrono::Duration::minutes(minutes);
    let s = t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let ms = chrono::DateTime::parse_from_rfc3339(&s).unwrap().timestamp_millis();
    (s, ms)
}

async fn pharmacy(b: &Bridge) -> i64 {
    let r = b.app().post("/api/queue/services", &b.desk.admin, json!({"name": "Apotek", "kind": "pharmacy"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["id"].as_i64().unwrap()
}

async fn new_patient_at_the_desk_reaches_bpjs_as_tasks_1_to_7(store: Store) {
    let b = Bridge::open(store, Some(30), true).await;
    let apotek = pharmacy(&b).await;
    let ((checkin, checkin_ms), (admission, admission_ms)) = (ago(12), ago(5));
    let mut body = b.desk.body(2);
    body["checkin_at"] = json!(checkin);
    body["admission_at"] = json!(admission);
    let r = b.app().post("/api/reservation", &b.desk.admin, body).await;
    assert_eq!(r.status, 200, "{r:?}");
    let id = r.body["data"]["reservation"]["id"].as_i64().unwrap();
    b.moves(id, &["anamnesa", "waitingdoctor", "withdoctor", "done"]).await;
    let t = &b.desk.admin;
    assert_eq!(b.app().patch(&format!("/api/queue/{id}/transfer"), t, json!({"service_id": apotek})).await.status, 200);
    let mut last = Value::Null;
    for step in ["preparing", "ready", "ready", "collected"] {
        let r = b.app().patch(&format!("/api/queue/{id}/service/{step}"), t, json!(null)).await;
        assert_eq!(r.status, 200, "{step}: {r:?}");
        last = r.body;
    }
    assert_eq!(b.run().await, json!({"delivered": 8, "failed": 0, "expired": 0}));
    assert_eq!(b.fake.events()[0].body["pasienbaru"], 1);
    assert_eq!(tasks(&b), [1, 2, 3, 4, 5, 6, 7], "a new patient with medicine: every task, once, in order");
    assert_eq!((waktu(&b, 1), waktu(&b, 2)), (Some(checkin_ms), Some(admission_ms)), "the desk's own times");
    let times: Vec<i64> = (1..=7).filter_map(|n| waktu(&b, n)).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "task times increase: {times:?}");
    // The pharmacy's steps are its stamps: preparing is task 6, the first "ready" task 7 (a recall is not).
    let history = last["data"]["service"]["history"].clone();
    let at = |n: i64| {
        let step = history.as_array().unwrap().iter().find(|h| h["bpjs_task"] == n).unwrap();
        chrono::DateTime::parse_from_rfc3339(step["at"].as_str().unwrap()).unwrap().timestamp_millis()
    };
    assert_eq!((waktu(&b, 6), waktu(&b, 7)), (Some(at(6)), Some(at(7))), "{history}");
    let rows = b.sync().await;
    assert_eq!(
        statuses(&rows[0]),
        pairs(&[("add", "sent"), ("task1", "sent"), ("task2", "sent"), ("task3", "sent"), ("task4", "sent"), ("task5", "sent"), ("task6", "sent"), ("task7", "sent")])
    );
    assert_eq!(b.run_later().await["delivered"], 0, "nothing twice");
}

async fn a_known_patient_starts_at_task_3_and_admission_steps_are_checked(store: Store) {
    let b = Bridge::open(store, Some(30), true).await;
    let t = b.desk.admin.clone();
    // Patient 2 was seen before (a cancelled number today): now a known patient.
    let first = b.desk.reserve(2).await;
    b.moves(first, &["cancelled"]).await;
    let mut body = b.desk.body(2);
    body["checkin_at"] = json!(ago(10).0);
    let r = b.app().post("/api/reservation", &t, body).await;
    assert_eq!(r.status, 200, "{r:?}");
    let id = r.body["data"]["reservation"]["id"].as_i64().unwrap();
    b.run().await;
    let second: Vec<Value> = b.fake.events().into_iter().filter(|c| c.body["kodebooking"].as_str().is_some_and(|k| k.ends_with("0002"))).map(|c| c.body).collect();
    assert_eq!(second.iter().filter_map(|c| c["taskid"].as_i64()).collect::<Vec<_>>(), [3], "no admission tasks for a known patient: {second:?}");
    assert_eq!(second[0]["pasienbaru"], 0);
    // Admission steps are for a new patient booked from Mobile JKN.
    let step = |id: i64, s: &'static str, token: String| {
        let app = b.app();
        async move { app.patch(&format!("/api/bpjs/visits/{id}/{s}"), &token, json!(null)).await }
    };
    assert_error(&step(id, "admission", t.clone()).await, 422, "Only a new patient's admission is reported to BPJS (tasks 1 and 2).");
    let fresh = b.desk.reserve(4).await;
    assert_error(
        &step(fresh, "admitted", t.clone()).await,
        422,
        "The patient was registered at the desk: the admission times come with the registration (checkin_at, admission_at).",
    );
    assert_eq!(step(id, "lunch", t.clone()).await.status, 404);
    assert_eq!(step(999, "checkin", t.clone()).await.status, 404);
    assert_error(&step(first, "checkin", t.clone()).await, 409, "The reservation is no longer open.");
    let doctor = staff_token(b.app(), &t, "dokter2", json!([3])).await;
    assert_eq!(step(id, "checkin", doctor).await.status, 403, "reservations.update");
    // A desk check-in of a reservation registered at the desk changes nothing BPJS hears.
    b.run().await;
    let before = b.fake.events().len();
    let r = step(id, "checkin", t.clone()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["reservation_id"], id);
    b.run().await;
    assert_eq!(b.fake.events().len(), before);

    // Bad times: refused, nothing made.
    let mut bad = b.desk.body(6);
    bad["checkin_at"] = json!("yesterday");
    let r = b.app().post("/api/reservation", &t, bad.clone()).await;
    assert_error(&r, 422, "The checkin at field must be a date and time (RFC 3339, e.g. 2026-01-10T01:05:00Z).");
    bad["checkin_at"] = json!(ago(1).0);
    bad["admission_at"] = json!(ago(5).0);
    assert_error(&b.app().post("/api/reservation", &t, bad).await, 422, "The admission at field must not be before checkin at.");
}

async fn an_event_reaches_bpjs_right_after_the_request_without_the_worker(store: Store) {
    std::env::set_var("BPJS_PROMPT_SECONDS", "1");
    let b = Bridge::open(store, Some(30), true).await;
    let id = b.desk.reserve(2).await;
    let paths: Vec<String> = b.fake.events().into_iter().map(|c| c.path).collect();
    assert_eq!(paths, ["antrean/add", "antrean/updatewaktu"], "sent within reception's request, the worker is off");
    assert_eq!(b.sync().await[0]["status"], "sent");
    b.moves(id, &["anamnesa", "waitingdoctor", "withdoctor"]).await;
    assert_eq!(tasks(&b), [3, 4]);

    // BPJS down: the desk's request still succeeds; the event waits in the outbox for the worker.
    b.fake.script("antrean/add", vec![Answer::Http(503), Answer::Ok]);
    let r = b.desk.register(4).await;
    assert_eq!(r.status, 200, "{r:?}");
    let rows = b.sync().await;
    let row = rows.iter().find(|r| r["kodebooking"].as_str().is_some_and(|k| k.ends_with("0002"))).unwrap();
    assert_eq!(statuses(row), pairs(&[("add", "pending"), ("task3", "pending")]));
    assert!(row["events"][0]["message"].as_str().unwrap().contains("503"), "{row}");

    // BPJS slow (answers after 4 s, the prompt send gives up after 1 s): the request answers anyway.
    b.fake.script("antrean/add", vec![Answer::Slow(4000), Answer::Ok]);
    let r = b.desk.register(6).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(b.run_later().await["failed"], 0);
    assert_eq!(b.sync().await.iter().filter(|r| r["status"] == "sent").count(), 3, "the worker sent the rest");
}

/// The Lambdas run each group's router with `lambda_http::run` (`antrean_lambda_host::run`):
/// the queue function's own router, built as the Lambda builds it, sends promptly too.
async fn the_queue_lambda_s_router_sends_promptly_too(store: Store) {
    use tower::ServiceExt;
    std::env::set_var("BPJS_PROMPT_SECONDS", "1");
    let b = Bridge::open(store, Some(30), true).await;
    let state = antrean_api::AppState {
        deps: b.app().deps().await,
        config: std::sync::Arc::new(antrean_api::ApiConfig::from_env().unwrap()),
        live: antrean_live::Live::none(),
        blobs: antrean_blobs::Blobs::none().store,
        // The dev sender: the fake BPJS listens on loopback, which the Lambda's own refuses.
        webhooks: std::sync::Arc::new(antrean_domain::webhook::http::ReqwestSender::development().unwrap()),
    };
    let router = antrean_api::service::group_service(antrean_api::Group::Queue, state);
    let req = axum::http::Request::post("/api/reservation")
        .header("authorization", format!("Bearer {}", b.desk.admin))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(b.desk.body(2).to_string()))
        .unwrap();
    let res = router.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let paths: Vec<String> = b.fake.events().into_iter().map(|c| c.path).collect();
    assert_eq!(paths, ["antrean/add", "antrean/updatewaktu"], "sent within the Lambda's request");
}

on_both_stores!(
    the_queue_lambda_s_router_sends_promptly_too,
    new_patient_at_the_desk_reaches_bpjs_as_tasks_1_to_7,
    a_known_patient_starts_at_task_3_and_admission_steps_are_checked,
    an_event_reaches_bpjs_right_after_the_request_without_the_worker,
);
