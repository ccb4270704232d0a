//! Faults survived: DynamoDB throttling, transaction conflicts, timeouts, dropped connections
//! and lost answers (a fault-injecting proxy in front of DynamoDB Local,
//! `antrean_testkit::faults`), S3 out of reach, and the boards' Management API out of reach.
//!
//! Under a mixed load with 10% of DynamoDB calls faulty, no client sees a 500: the adapter
//! retries with the SDK's jittered backoff; past its budget a client hears 503 with
//! `Retry-After`, and nothing was written. Queue numbers stay 1..n without gaps or doubles,
//! every reservation is whole, and n8n hears of every call exactly once (a real HTTP receiver).
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use antrean_domain::{webhook, Clock, Deps, Tenant};
use antrean_testkit::faults::{Fault, FaultProxy, FaultRates};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::helpers::{Reply, Store, TestApp};
use crate::reservations::{day, doctor, schedule};

/// A server on DynamoDB Local through a fault proxy (no faults yet), with a shorter attempt
/// timeout so that a swallowed request costs 1 s, not 2 s (shorter would make this busy
/// machine's DynamoDB Local itself time out).
async fn app_behind_proxy() -> (TestApp, FaultProxy) {
    let proxy = FaultProxy::start(&antrean_testkit::dynamodb_endpoint().await).await;
    let endpoint = proxy.url.clone();
    let app = TestApp::spawn_with(Store::DynamoDb, |c| {
        c.store = dev_server::StoreChoice::DynamoDb { endpoint: Some(endpoint), table: antrean_testkit::unique_name("faults") };
        c.dynamodb_retries.attempt_timeout = Duration::from_millis(1000);
    })
    .await;
    (app, proxy)
}

/// What n8n received: one entry per POST, with the answer it gave.
#[derive(Clone, Default)]
struct N8n {
    posts: Arc<Mutex<Vec<(String, u16, Value)>>>,
    /// Share of POSTs answered 500 (the delivery then waits in the outbox).
    failing: Arc<Mutex<f64>>,
}

async fn n8n_post(State(n): State<N8n>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let event = headers.get(webhook::EVENT_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let fail = rand::random::<f64>() < *n.failing.lock().unwrap();
    let status = if fail { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
    n.posts.lock().unwrap().push((event, status.as_u16(), serde_json::from_slice(&body).unwrap_or(Value::Null)));
    status
}

impl N8n {
    async fn start(failing: f64) -> (N8n, String) {
        let n = N8n { failing: Arc::new(Mutex::new(failing)), ..N8n::default() };
        let app = axum::Router::new().route("/webhook/antrean", axum::routing::post(n8n_post)).with_state(n.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhook/antrean", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (n, url)
    }

    /// Bodies n8n accepted (2xx), by event id.
    fn delivered(&self) -> BTreeMap<String, Vec<Value>> {
        let mut by_event: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (event, status, body) in self.posts.lock().unwrap().iter().filter(|p| p.1 < 300) {
            let _ = status;
            by_event.entry(event.clone()).or_default().push(body.clone());
        }
        by_event
    }
}

/// The clinic's clock moved on, for the webhook retry runs (retries wait 30 s and more).
struct Later(chrono::Duration);
impl Clock for Later {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}

/// Every answer of the load, for the checks after it.
#[derive(Default)]
struct Log {
    answers: Mutex<Vec<(&'static str, Reply)>>,
}

impl Log {
    fn keep(&self, what: &'static str, r: Reply) -> Reply {
        let copy = Reply { status: r.status, headers: r.headers.clone(), body: r.body.clone() };
        self.answers.lock().unwrap().push((what, copy));
        r
    }
    fn statuses(&self) -> BTreeMap<(&'static str, u16), usize> {
        let mut m = BTreeMap::new();
        for (what, r) in self.answers.lock().unwrap().iter() {
            *m.entry((*what, r.status.as_u16())).or_default() += 1;
        }
        m
    }
}

/// A 503 as the seed's envelope has it, with `Retry-After`.
fn assert_unavailable(r: &Reply) {
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.body["status"], "error", "{r:?}");
    assert_eq!(r.body["message"], antrean_domain::error::STORE_UNAVAILABLE, "{r:?}");
    let after: i64 = r.headers.get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!(after >= 1, "{r:?}");
}

const PATIENTS: usize = 36;

/// One patient's morning: registered, called to anamnesa (n8n told), sent on to the doctor,
/// called in (n8n told), and every third one finished. Stops at the first refusal.
async fn patient_flow(app: &TestApp, t: &str, log: &Log, poly: i64, today: &str, n: usize) {
    let body = json!({"patient_name": format!("Pasien {n}"), "whatsapp_number": format!("0813{n:08}"), "no_bpjs": format!("{n:013}"),
        "poly_id": poly, "schedule_id": null, "bpjs": n % 2 == 0, "date": today});
    let r = log.keep("create", app.post("/api/reservation", t, body).await);
    if r.status != 200 {
        return;
    }
    let id = r.body["data"]["reservation"]["id"].as_i64().unwrap();
    let mut moves = vec![("anamnesa", "anamnesa"), ("waitingdoctor", "waitingdoctor"), ("withdoctor", "withdoctor")];
    if n % 3 == 0 {
        moves.push(("done", "done"));
    }
    for (what, mv) in moves {
        let r = log.keep(what, app.patch(&format!("/api/queue/{id}/{mv}"), t, json!(null)).await);
        if r.status != 200 {
            return;
        }
    }
}

/// What staff and the head of the clinic read meanwhile.
async fn readers(app: &TestApp, t: &str, log: &Log, polies: &[i64], today: &str, stop: &std::sync::atomic::AtomicBool) {
    let reads = [
        ("list", format!("/api/reservation?date={today}&per_page=50")),
        ("list", format!("/api/queue?date={today}&per_page=50")),
        ("list", format!("/api/queue/current?poly_id={}&date={today}", polies[0])),
        ("report", format!("/api/dashboard/summary?date={today}")),
        ("report", format!("/api/reports/patient-visits?date_from={today}&date_to={today}")),
    ];
    let mut i = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let (what, path) = &reads[i % reads.len()];
        log.keep(what, app.get(path, t).await);
        i += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mixed_day_with_ten_percent_faults_loses_nothing() {
    let (app, proxy) = app_behind_proxy().await;
    let t = app.admin_token().await;
    let today = day(0);
    let mut polies = Vec::new();
    for (name, dr) in [("Poli Umum", "harris"), ("Poli Gigi", "gita")] {
        let r = app.post("/api/poly", &t, json!({"name": name})).await;
        assert_eq!(r.status, 200, "{r:?}");
        let poly = r.body["data"]["id"].as_i64().unwrap();
        let doc = doctor(&app, &t, dr, poly).await;
        schedule(&app, &t, doc, &today, "00:00", "23:59", None).await;
        polies.push(poly);
    }
    // n8n answers 500 to a fifth of the POSTs: those deliveries go through the outbox.
    let (n8n, url) = N8n::start(0.2).await;
    assert_eq!(app.post("/api/configs", &t, json!({"name": "n8n_webhook_url", "value": url})).await.status, 200);

    // 10% of every call; a conflict weighs five times the others, as only writes meet it.
    let each = 0.10 / 10.0;
    proxy.set(FaultRates {
        provisioned_throughput_exceeded: each,
        throttling: each,
        transaction_conflict: 5.0 * each,
        timeout: each,
        drop: each,
        lost_answer: each,
    });
    let started = Instant::now();
    let log = Log::default();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let flows = stream::iter(1..=PATIENTS)
        .map(|n| patient_flow(&app, &t, &log, polies[n % 2], &today, n))
        .buffer_unordered(8)
        .collect::<Vec<()>>();
    let load = async {
        flows.await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    tokio::join!(load, readers(&app, &t, &log, &polies, &today, &stop), readers(&app, &t, &log, &polies, &today, &stop));
    let faults = proxy.counts();
    eprintln!("load: {:?} in {:?}; faults {faults:?}", log.statuses(), started.elapsed());
    assert!(faults.total_injected() >= 60, "the load met too few faults to mean anything: {faults:?}");
    for f in Fault::ALL {
        assert!(faults.of(f) > 0, "no {f:?} was injected: {faults:?}");
    }

    // No 500 at all; a 503 only as the seed's envelope with Retry-After (its budget ran out).
    let answers = std::mem::take(&mut *log.answers.lock().unwrap());
    for (what, r) in &answers {
        assert!(r.status != 500, "{what}: {r:?}");
        if r.status == 503 {
            assert_unavailable(r);
        } else {
            assert_eq!(r.status, 200, "{what}: {r:?}");
        }
    }
    let unavailable = answers.iter().filter(|(_, r)| r.status == 503).count();
    assert!(unavailable * 100 <= answers.len(), "{unavailable} of {} answers were 503: the retries do not hold", answers.len());

    // The webhook retry run (the scheduled Lambda's job) under the same faults, as often as
    // it takes; n8n now takes everything.
    *n8n.failing.lock().unwrap() = 0.0;
    let tenant = Tenant::parse("default").unwrap();
    let mut deps: Deps = app.deps().await;
    for hour in 1..=12 {
        deps.clock = Arc::new(Later(chrono::Duration::hours(hour)));
        let _ = webhook::retry_due(&deps, &antrean_domain::webhook::http::ReqwestSender::development().unwrap()).await;
        if webhook::outbox(&deps, &tenant).await.map(|o| o.is_empty()).unwrap_or(false) {
            break;
        }
    }
    proxy.set(FaultRates::none());
    assert_eq!(webhook::outbox(&deps, &tenant).await.unwrap(), vec![], "every delivery left the outbox");

    // Queue numbers: per poly exactly 1..n, each once, each a whole reservation.
    let created: Vec<&Value> = answers.iter().filter(|(w, r)| *w == "create" && r.status == 200).map(|(_, r)| &r.body["data"]).collect();
    assert!(created.len() >= PATIENTS * 9 / 10, "only {} of {PATIENTS} patients were registered", created.len());
    let mut numbers: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for d in &created {
        numbers.entry(d["queue"]["poly_id"].as_i64().unwrap()).or_default().push(d["queue"]["queue_number"].as_i64().unwrap());
    }
    for (poly, mut got) in numbers.clone() {
        got.sort();
        assert_eq!(got, (1..=got.len() as i64).collect::<Vec<_>>(), "poly {poly}: numbers lost or handed out twice");
    }
    let queue = app.get(&format!("/api/queue?date={today}&per_page=100"), &t).await;
    let listed: BTreeSet<(i64, String)> =
        queue.body["data"]["data"].as_array().unwrap_or_else(|| panic!("{queue:?}")).iter().map(|q| (q["poly_id"].as_i64().unwrap(), q["queue_number"].as_str().unwrap().to_string())).collect();
    let expected: BTreeSet<(i64, String)> = numbers.iter().flat_map(|(p, ns)| ns.iter().map(move |n| (*p, n.to_string()))).collect();
    assert_eq!(listed, expected, "the day's queue is exactly the reservations the clients were told of");
    let patients = app.get("/api/patients?per_page=100", &t).await;
    assert_eq!(patients.body["data"]["total"].as_u64(), Some(created.len() as u64), "one patient per registration, none half-made");

    // Every reservation is whole and in the status its last answered move left it in.
    let mut last_status: BTreeMap<i64, &str> = BTreeMap::new();
    for (what, r) in answers.iter().filter(|(_, r)| r.status == 200) {
        let status = match *what {
            "create" => "WAITING",
            "anamnesa" => "ANAMNESA",
            "waitingdoctor" => "WAITING_DOCTOR",
            "withdoctor" => "WITH_DOCTOR",
            "done" => "DONE",
            _ => continue,
        };
        let id = r.body["data"]["reservation"]["id"].as_i64().unwrap();
        let at = last_status.entry(id).or_insert(status);
        let order = ["WAITING", "ANAMNESA", "WAITING_DOCTOR", "WITH_DOCTOR", "DONE"];
        if order.iter().position(|s| s == at) < order.iter().position(|s| *s == status) {
            *at = status;
        }
    }
    assert_eq!(last_status.len(), created.len());
    for (id, status) in &last_status {
        let r = app.get(&format!("/api/reservation/{id}"), &t).await;
        assert_eq!(r.status, 200, "{r:?}");
        let d = &r.body["data"];
        assert_eq!(d["reservation"]["status"]["status_name"].as_str(), Some(*status), "reservation {id}: {r:?}");
        assert!(d["reservation"]["queue"]["queue_number"].as_i64().is_some() && d["reservation"]["patient"]["id"].as_i64().is_some(), "{r:?}");
    }

    // n8n: every call it was told of in an answer, exactly once.
    let calls: Vec<(i64, &str)> = answers
        .iter()
        .filter(|(w, r)| (*w == "anamnesa" || *w == "withdoctor") && r.status == 200)
        .map(|(w, r)| (r.body["data"]["queue_number"].as_i64().unwrap(), if *w == "anamnesa" { "ANAMNESA" } else { "WITH_DOCTOR" }))
        .collect();
    for (_, r) in answers.iter().filter(|(w, r)| (*w == "anamnesa" || *w == "withdoctor") && r.status == 200) {
        let m = r.body["webhook_message"].as_str().unwrap_or("");
        assert!(!m.contains("not queued") && !m.contains("could not be read"), "a webhook was lost: {r:?}");
    }
    let delivered = n8n.delivered();
    for (event, bodies) in &delivered {
        assert_eq!(bodies.len(), 1, "event {event} was delivered {} times", bodies.len());
    }
    let mut heard: Vec<(i64, String)> =
        delivered.values().map(|b| (b[0]["current_queue"].as_str().unwrap().parse().unwrap(), b[0]["status"].as_str().unwrap().to_string())).collect();
    let mut told: Vec<(i64, String)> = calls.iter().map(|(n, s)| (*n, s.to_string())).collect();
    heard.sort();
    told.sort();
    assert_eq!(heard.len(), calls.len(), "n8n heard {} calls, the clients were told of {}", heard.len(), calls.len());
    assert_eq!(heard, told);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn past_the_retry_budget_a_client_hears_503_with_retry_after_and_nothing_is_written() {
    let (app, proxy) = app_behind_proxy().await;
    let t = app.admin_token().await;
    let today = day(0);
    let r = app.post("/api/poly", &t, json!({"name": "Poli Umum"})).await;
    let poly = r.body["data"]["id"].as_i64().unwrap();
    let doc = doctor(&app, &t, "harris", poly).await;
    schedule(&app, &t, doc, &today, "00:00", "23:59", None).await;
    let body = |n: usize| json!({"patient_name": format!("Pasien {n}"), "whatsapp_number": format!("0813{n:08}"), "poly_id": poly, "schedule_id": null, "date": today});

    // The client's retry token bucket is one budget for all of it: the conflicts, whose
    // retries go on in the domain's loop too, come last so the others still see all five tries.
    for fault in [Fault::ProvisionedThroughputExceeded, Fault::Throttling, Fault::Timeout, Fault::Drop, Fault::TransactionConflict] {
        proxy.set(FaultRates::only(fault, 1.0));
        let before = proxy.counts().of(fault);
        let started = Instant::now();
        let r = app.post("/api/reservation", &t, body(1)).await;
        let took = started.elapsed();
        assert_unavailable(&r);
        let tries = proxy.counts().of(fault) - before;
        // The budget in tries, not in seconds (a loaded machine stretches every second): five
        // attempts of the call that met the fault, then the answer (a background task of the
        // dev server may meet the fault within the same window: five more at most). A
        // conflict is retried by the domain's loop too, each round with the SDK's five tries.
        let most = if fault == Fault::TransactionConflict { 5 * 100 } else { 10 };
        assert!((5..=most).contains(&tries), "{fault:?}: given up after {tries} tries, the budget is 5 to {most}");
        if fault != Fault::TransactionConflict {
            // Reads meet the fault too (a conflict is a write's).
            assert_unavailable(&app.get("/api/poly", &t).await);
        }
        eprintln!("{fault:?}: 503 after {tries} tries in {took:?}");
    }
    proxy.set(FaultRates::none());
    // Nothing was written by the refused creates: no reservation, no patient, no number burned.
    assert_eq!(app.get(&format!("/api/reservation?date={today}"), &t).await.body["data"]["total"], 0);
    assert_eq!(app.get("/api/patients", &t).await.body["data"]["total"], 0);
    let r = app.post("/api/reservation", &t, body(1)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["queue"]["queue_number"], 1);
}

/// A server on `store` whose state `tweak` may change first (file storage, live push): the
/// whole API, as the Lambdas serve it, on a free port. Returns its base URL and state.
async fn serve_with(store: Store, dir: &std::path::Path, tweak: impl FnOnce(&mut antrean_api::AppState)) -> (String, antrean_api::AppState) {
    let mut config = dev_server::Config::from_env().expect("config");
    config.store = match store {
        Store::Embedded => dev_server::StoreChoice::Embedded { data_dir: dir.to_path_buf() },
        Store::DynamoDb => dev_server::StoreChoice::DynamoDb {
            endpoint: Some(antrean_testkit::dynamodb_endpoint().await),
            table: antrean_testkit::unique_name("faults"),
        },
    };
    config.jwt_secret = Some("test-secret-that-is-long-enough-0123456789abcdef".into());
    config.bootstrap_admin_password = Some(crate::helpers::ADMIN_PASSWORD.into());
    config.limits = antrean_api::rate_limit::Limits::off();
    let server = dev_server::build(&config).await.expect("build");
    let mut state = server.state.clone();
    tweak(&mut state);
    let (router, _) = antrean_api::service::routes(antrean_api::Group::ALL).split_for_parts();
    let app = antrean_api::service::finish(router, state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap() });
    (base, state)
}

/// A loopback address where nothing listens: a service that is down.
fn dead_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

struct Http {
    base: String,
    client: reqwest::Client,
    token: String,
}

impl Http {
    async fn sign_in(base: &str) -> Http {
        let client = reqwest::Client::new();
        let token = crate::helpers::login_token(&client, base, json!({"username": "superadmin", "password": crate::helpers::ADMIN_PASSWORD})).await;
        Http { base: base.to_string(), client, token }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.bearer_auth(&self.token).header("accept", "application/json").send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        let text = res.text().await.unwrap();
        Reply { status, headers, body: serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}")) }
    }
    async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(format!("{}{path}", self.base))).await
    }
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Reply {
        self.send(self.client.request(method, format!("{}{path}", self.base)).json(&body)).await
    }
    /// A FAQ upload as a browser form sends it: `name` and a PDF `file`.
    async fn upload_faq(&self, name: &str) -> Reply {
        let boundary = "----antrean-faults-boundary";
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n").into_bytes();
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"alur.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
        body.extend_from_slice(b"%PDF-1.4\nalur pendaftaran pasien\n");
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = self.client.post(format!("{}/api/faq", self.base)).header("content-type", format!("multipart/form-data; boundary={boundary}")).body(body);
        self.send(req).await
    }
}

/// S3 out of reach (the bucket's endpoint refuses connections, as a stopped moto does): an
/// export and a FAQ upload answer a clear 503 and store nothing; everything else answers as usual.
async fn s3_down_only_files_answer_503(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let s3 = antrean_blobs::s3::S3Blobs::connect("antrean-files", Some(&dead_endpoint())).await;
    let (base, _) = serve_with(store, dir.path(), |s| s.blobs = Arc::new(s3)).await;
    let http = Http::sign_in(&base).await;
    let files_down = |r: &Reply| {
        assert_eq!(r.status, 503, "{r:?}");
        assert_eq!(r.body, json!({"status": "error", "message": antrean_domain::error::FILES_UNAVAILABLE}));
        assert_eq!(r.headers["retry-after"], antrean_domain::error::FILES_RETRY_AFTER_SECS.to_string().as_str());
    };
    files_down(&http.upload_faq("Alur pendaftaran").await);
    let today = day(0);
    files_down(&http.get(&format!("/api/reports/patient-visits/export?date_from={today}&date_to={today}")).await);

    // Nothing was stored, and the rest of the product does not notice.
    let faqs = http.get("/api/faq").await;
    assert_eq!(faqs.status, 200, "{faqs:?}");
    assert_eq!(faqs.body["data"]["total"].as_i64().or(faqs.body["data"].as_array().map(|a| a.len() as i64)), Some(0), "{faqs:?}");
    let poly = http.call(reqwest::Method::POST, "/api/poly", json!({"name": "Poli Umum"})).await;
    assert_eq!(poly.status, 200, "{poly:?}");
    let report = http.get(&format!("/api/reports/patient-visits?date_from={today}&date_to={today}")).await;
    assert_eq!(report.status, 200, "{report:?}");
    assert_eq!(http.get(&format!("/api/dashboard/summary?date={today}")).await.status, 200);
}

/// A Management API that is down (every post answers 503) or, later, up again (`gone-*`
/// answer 410): it records every post.
#[derive(Clone, Default)]
struct Gateway {
    up: Arc<std::sync::atomic::AtomicBool>,
    posts: Arc<Mutex<Vec<String>>>,
}

async fn gateway_post(State(g): State<Gateway>, axum::extract::Path(id): axum::extract::Path<String>) -> axum::response::Response {
    use axum::response::IntoResponse;
    g.posts.lock().unwrap().push(id.clone());
    if !g.up.load(std::sync::atomic::Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    if id.starts_with("gone") {
        return (StatusCode::GONE, [("x-amzn-errortype", "GoneException"), ("content-type", "application/json")], r#"{"message":"Gone"}"#).into_response();
    }
    StatusCode::OK.into_response()
}

/// The boards' Management API down: queue moves answer as usual (the push pauses instead of
/// costing every move its budget), and once it is back the stale connection is dropped.
async fn boards_api_down_the_queue_answers_as_usual(store: Store) {
    let gateway = Gateway::default();
    let router = axum::Router::new().route("/@connections/{id}", axum::routing::post(gateway_post)).with_state(gateway.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = aws_sdk_apigatewaymanagement::Client::from_conf(
        aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(aws_sdk_apigatewaymanagement::config::BehaviorVersion::latest())
            .region(aws_sdk_apigatewaymanagement::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_apigatewaymanagement::config::Credentials::new("test", "test", None, None, "tests"))
            .endpoint_url(&endpoint)
            .build(),
    );
    let dir = tempfile::tempdir().unwrap();
    let (base, state) = serve_with(store, dir.path(), |s| {
        let mut api = antrean_live::apigw::ManagementApi::with_client(client, s.deps.clone());
        // Wide enough that the second move lands inside the pause on a loaded machine.
        api.pause_when_down = Duration::from_secs(4);
        api.post_timeout = Duration::from_millis(300);
        // As on Lambda: the push runs inside the request, within the live budget (long here:
        // on a busy machine building the snapshot alone can take the default 1.5 s).
        s.live = antrean_live::Live::new(Arc::new(api), false);
        s.live.budget = Duration::from_secs(10);
    })
    .await;
    let http = Http::sign_in(&base).await;
    let poly = http.call(reqwest::Method::POST, "/api/poly", json!({"name": "Poli Umum"})).await.body["data"]["id"].as_i64().unwrap();
    let today = day(0);
    let dr = http
        .call(reqwest::Method::POST, "/api/users", json!({"name": "dr. Harris", "username": "harris", "email": "harris@mail.com", "password": "dokter123",
            "password_confirmation": "dokter123", "roles": [3], "poly_id": poly}))
        .await;
    let dr = dr.body["data"]["id"].as_i64().unwrap();
    let s = http.call(reqwest::Method::POST, "/api/schedule", json!({"doctor_id": dr, "date": today, "start_time": "00:00", "end_time": "23:59"})).await;
    assert_eq!(s.status, 200, "{s:?}");
    let board = http.call(reqwest::Method::POST, "/api/boards", json!({"name": "TV ruang tunggu"})).await;
    let board_token = board.body["data"]["token"].as_str().expect("a board token").to_string();
    let connect = |id: &str| {
        serde_json::from_value::<aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest>(json!({
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": id, "domainName": "abc.execute-api.ap-southeast-3.amazonaws.com",
                "stage": "live", "apiId": "abc", "requestId": "r", "connectedAt": 1767225600000i64, "requestTimeEpoch": 1767225600000i64, "messageDirection": "IN"},
            "queryStringParameters": {"token": board_token}, "isBase64Encoded": false
        }))
        .unwrap()
    };
    for id in ["board-1", "gone-1"] {
        assert_eq!(antrean_live::gateway::on_connect(&state.deps, &connect(id)).await.status_code, 200);
    }
    let tenant = Tenant::parse("default").unwrap();
    let connections = || async { antrean_live::registry::list(&state.deps, &tenant).await.unwrap().into_iter().map(|c| c.id).collect::<BTreeSet<_>>() };

    // Down: every move answers 200 with its usual body; one push finds the API down, the
    // following ones pause instead of posting again; no connection is dropped for it.
    let r = http
        .call(reqwest::Method::POST, "/api/reservation", json!({"patient_name": "Pasien 1", "whatsapp_number": "081300000001", "poly_id": poly, "schedule_id": null, "date": today}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let id = r.body["data"]["reservation"]["id"].as_i64().unwrap();
    let mut posted = Vec::new();
    for mv in ["anamnesa", "waitingdoctor"] {
        let r = http.call(reqwest::Method::PATCH, &format!("/api/queue/{id}/{mv}"), Value::Null).await;
        assert_eq!(r.status, 200, "{mv}: {r:?}");
        assert_eq!(r.body["status"], "success");
        posted.push(gateway.posts.lock().unwrap().len());
    }
    let tried: BTreeSet<String> = gateway.posts.lock().unwrap().iter().cloned().collect();
    assert_eq!(tried, BTreeSet::from(["board-1".to_string(), "gone-1".to_string()]), "the first push tried both connections");
    assert_eq!(posted[1], posted[0], "the second move's push paused instead of posting again");
    assert_eq!(connections().await, BTreeSet::from(["board-1".to_string(), "gone-1".to_string()]));

    // Up again, after the pause: the next move's push reaches the board and drops the stale one.
    gateway.up.store(true, std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(4200)).await;
    let r = http.call(reqwest::Method::PATCH, &format!("/api/queue/{id}/withdoctor"), Value::Null).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(connections().await, BTreeSet::from(["board-1".to_string()]), "the 410 connection is forgotten");
    assert!(gateway.posts.lock().unwrap().len() > posted[1], "the board was posted to again");
}

crate::on_both_stores!(s3_down_only_files_answer_503, boards_api_down_the_queue_answers_as_usual);
