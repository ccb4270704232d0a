//! The AWS side of the live queue: the WebSocket API's Lambda handlers (`$connect`,
//! `$default`, `$disconnect`) and the Management API adapter, against a real `moto_server`
//! (`MOTO_ENDPOINT`, else one started from `.tools/venv`) and, for what moto does not model
//! (410 Gone, a connection that hangs), a local stand-in for the Management API.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antrean_domain::{board, Deps, Tenant};
use antrean_live::apigw::{Delivery, ManagementApi};
use antrean_live::{gateway, registry, LivePush};
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use dev_server::StoreChoice;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Store, ADMIN_PASSWORD, PLATFORM_TOKEN};
use crate::on_both_stores;

/// A dev server whose store the test can also reach directly (to read the connection records).
struct World {
    base: String,
    http: reqwest::Client,
    deps: Deps,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start(store: Store) -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut config = dev_server::Config::from_env().expect("config");
        config.store = match store {
            Store::Embedded => StoreChoice::Embedded { data_dir: dir.path().to_path_buf() },
            Store::DynamoDb => StoreChoice::DynamoDb {
                endpoint: Some(antrean_testkit::dynamodb_endpoint().await),
                table: antrean_testkit::unique_name("live"),
            },
        };
        config.jwt_secret = Some("test-secret-that-is-long-enough-0123456789abcdef".into());
        config.platform_token = Some(PLATFORM_TOKEN.into());
        config.bootstrap_admin_password = Some(ADMIN_PASSWORD.into());
        let server = dev_server::build(&config).await.expect("build");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, server.router).await.unwrap() });
        World { base, http: reqwest::Client::new(), deps: server.state.deps.clone(), _dir: dir }
    }

    async fn call(&self, method: Method, path: &str, token: &str, body: Value) -> Value {
        let r = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(token).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn login(&self, clinic: &str, username: &str, password: &str) -> String {
        crate::helpers::login_token(&self.http, &self.base, json!({"username": username, "password": password, "clinic": clinic})).await
    }

    /// Clinic `default` and `klinik-b`, a board in each: `(admin a, board a, board a id, board b)`.
    async fn two_clinics(&self) -> (String, String, i64, String) {
        let a = self.login("default", "superadmin", ADMIN_PASSWORD).await;
        self.call(Method::POST, "/api/platform/clinics", PLATFORM_TOKEN,
            json!({"slug": "klinik-b", "name": "Klinik B",
                "admin": {"name": "Admin", "username": "admin", "email": "admin@b.id", "password": "admin123"}})).await;
        let b = self.login("klinik-b", "admin", "admin123").await;
        self.call(Method::POST, "/api/poly", &a, json!({"name": "Poli Umum"})).await;
        let board_a = self.call(Method::POST, "/api/boards", &a, json!({"name": "TV A"})).await;
        let board_b = self.call(Method::POST, "/api/boards", &b, json!({"name": "TV B"})).await;
        (
            a,
            board_a["data"]["token"].as_str().unwrap().into(),
            board_a["data"]["id"].as_i64().unwrap(),
            board_b["data"]["token"].as_str().unwrap().into(),
        )
    }

    async fn connections(&self, slug: &str) -> Vec<String> {
        let mut ids: Vec<String> =
            registry::list(&self.deps, &Tenant::parse(slug).unwrap()).await.unwrap().into_iter().map(|c| c.id).collect();
        ids.sort();
        ids
    }
}

/// An API Gateway WebSocket event as the Lambda receives it.
fn event(route: &str, connection: &str, token: Option<&str>, body: Option<Value>) -> ApiGatewayWebsocketProxyRequest {
    event_with(route, connection, token.map(|t| json!({"token": t})).unwrap_or(json!({})), body)
}

fn event_with(route: &str, connection: &str, query: Value, body: Option<Value>) -> ApiGatewayWebsocketProxyRequest {
    let event_type = match route {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    };
    serde_json::from_value(json!({
        "requestContext": {
            "routeKey": route, "eventType": event_type, "connectionId": connection,
            "domainName": "abc123.execute-api.ap-southeast-3.amazonaws.com", "stage": "prod", "apiId": "abc123",
            "requestId": "req", "connectedAt": 1767225600000i64, "requestTimeEpoch": 1767225600000i64,
            "messageDirection": "IN"
        },
        "queryStringParameters": query,
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    }))
    .expect("a websocket event")
}

fn management_client(endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
    let config = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(config)
}

/// A moto_server for this test (stopped when dropped), or `MOTO_ENDPOINT`.
async fn moto() -> antrean_testkit::moto::Moto {
    tokio::task::spawn_blocking(|| antrean_testkit::moto::moto("MOTO_ENDPOINT")).await.unwrap()
}

async fn connect_admits_board_and_staff_tokens_under_their_clinic_only(store: Store) {
    let w = World::start(store).await;
    let (admin_a, board_a, board_a_id, board_b) = w.two_clinics().await;
    let ok = gateway::on_connect(&w.deps, &event("$connect", "conn-a1", Some(&board_a), None)).await;
    assert_eq!(ok.status_code, 200);
    assert_eq!(gateway::on_connect(&w.deps, &event("$connect", "conn-a2", Some(&admin_a), None)).await.status_code, 200);
    assert_eq!(gateway::on_connect(&w.deps, &event("$connect", "conn-b1", Some(&board_b), None)).await.status_code, 200);
    let key = w.call(Method::POST, "/api/auth/permanent-token", &admin_a, json!({"permissions": ["poly.view"]})).await;
    let refused = [
        None,
        Some(""),
        Some("garbage"),
        Some("default|1|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some(key["data"]["token"].as_str().unwrap()),
    ];
    for (i, token) in refused.iter().enumerate() {
        let r = gateway::on_connect(&w.deps, &event("$connect", &format!("bad-{i}"), *token, None)).await;
        assert_eq!(r.status_code, 401, "{token:?}");
    }
    assert_eq!(w.connections("default").await, ["conn-a1", "conn-a2"]);
    assert_eq!(w.connections("klinik-b").await, ["conn-b1"]);
    let a1 = registry::get(&w.deps, &Tenant::parse("default").unwrap(), "conn-a1").await.unwrap().unwrap();
    assert_eq!(a1.board_id, Some(board_a_id));
    assert_eq!(gateway::on_disconnect(&event("$disconnect", "conn-a1", None, None)).await.status_code, 200);
}

async fn pushes_and_hello_go_through_the_management_api_on_moto(store: Store) {
    let moto = moto().await;
    let w = World::start(store).await;
    let (admin_a, board_a, board_a_id, board_b) = w.two_clinics().await;
    for (id, token) in [("conn-a1", &board_a), ("conn-a2", &board_a), ("conn-a3", &admin_a), ("conn-b1", &board_b)] {
        assert_eq!(gateway::on_connect(&w.deps, &event("$connect", id, Some(token), None)).await.status_code, 200);
    }
    let mut api = ManagementApi::with_client(management_client(&moto.endpoint), w.deps.clone());
    // This test is about who is posted what, not about speed: moto on a loaded machine can take
    // longer than the production post timeout (1 s), which would report `TimedOut`.
    api.post_timeout = Duration::from_secs(20);
    let a = Tenant::parse("default").unwrap();
    let snapshot = board::snapshot(&w.deps, &a, board::today(&w.deps, &a).await.unwrap()).await.unwrap();
    let mut outcomes = api.broadcast(&a, serde_json::to_string(&snapshot).unwrap().into()).await;
    outcomes.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        outcomes,
        [("conn-a1".to_string(), Delivery::Sent), ("conn-a2".to_string(), Delivery::Sent), ("conn-a3".to_string(), Delivery::Sent)],
        "every connection of clinic default, and none of klinik-b"
    );

    // `$default`: a hello is answered through the Management API.
    let hello = |conn: &str, token: &str| event("$default", conn, None, Some(json!({"action": "hello", "token": token})));
    assert_eq!(gateway::on_default(&w.deps, &api, &hello("conn-a1", &board_a)).await.status_code, 200);
    assert_eq!(gateway::on_default(&w.deps, &api, &hello("conn-x9", &board_a)).await.status_code, 403, "a connection $connect never admitted");
    assert_eq!(gateway::on_default(&w.deps, &api, &hello("conn-a1", &board_b)).await.status_code, 403, "another clinic's token");
    assert_eq!(gateway::on_default(&w.deps, &api, &hello("conn-a1", "garbage")).await.status_code, 401);
    let ping = event("$default", "conn-a1", None, Some(json!({"action": "ping"})));
    assert_eq!(gateway::on_default(&w.deps, &api, &ping).await.status_code, 200);
    let odd = event("$default", "conn-a1", None, Some(json!({"action": "subscribe"})));
    assert_eq!(gateway::on_default(&w.deps, &api, &odd).await.status_code, 400);

    // Revoking board A closes its two connections (DeleteConnection) and forgets them.
    api.close_board(&a, board_a_id).await;
    assert_eq!(w.connections("default").await, ["conn-a3"]);
    assert_eq!(w.connections("klinik-b").await, ["conn-b1"]);
}

/// A stand-in for the Management API: records posts; `gone-*` answers 410, `slow-*` hangs
/// (and says when it would have answered).
#[derive(Clone, Default)]
struct FakeGateway {
    posts: Arc<Mutex<Vec<(String, String)>>>,
    slow_answered: Arc<std::sync::atomic::AtomicBool>,
}

impl FakeGateway {
    /// Serves it on a free port; returns it and the adapter pointed at it.
    async fn start(w: &World) -> (FakeGateway, ManagementApi) {
        let fake = FakeGateway::default();
        let router = axum::Router::new().route("/@connections/{id}", post(fake_post)).with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (fake, ManagementApi::with_client(management_client(&endpoint), w.deps.clone()))
    }
}

async fn fake_post(State(f): State<FakeGateway>, Path(id): Path<String>, body: String) -> axum::response::Response {
    f.posts.lock().unwrap().push((id.clone(), body));
    if id.starts_with("gone") {
        return (StatusCode::GONE, [("x-amzn-errortype", "GoneException"), ("content-type", "application/json")], r#"{"message":"Gone"}"#)
            .into_response();
    }
    if id.starts_with("slow") {
        tokio::time::sleep(Duration::from_secs(120)).await;
        f.slow_answered.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    StatusCode::OK.into_response()
}

async fn gone_connections_are_removed_and_a_hung_one_does_not_hold_the_push(store: Store) {
    let w = World::start(store).await;
    let (_, board_a, _, board_b) = w.two_clinics().await;
    for (id, token) in [("live-1", &board_a), ("gone-1", &board_a), ("slow-1", &board_a), ("live-b", &board_b)] {
        assert_eq!(gateway::on_connect(&w.deps, &event("$connect", id, Some(token), None)).await.status_code, 200);
    }
    let (fake, api) = FakeGateway::start(&w).await;

    let a = Tenant::parse("default").unwrap();
    let snapshot = board::snapshot(&w.deps, &a, board::today(&w.deps, &a).await.unwrap()).await.unwrap();
    api.push(&a, &snapshot).await;
    // The push is back while the hung post still hangs (it would answer after 120 s): the post
    // timeout let go of it. No clock is read, so a slow machine cannot fail this.
    assert!(!fake.slow_answered.load(std::sync::atomic::Ordering::SeqCst), "the push waited for the hung connection");

    let posts = fake.posts.lock().unwrap().clone();
    let mut ids: Vec<_> = posts.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, ["gone-1", "live-1", "slow-1"], "clinic default's connections only");
    let delivered: Value = serde_json::from_str(&posts.iter().find(|(id, _)| id == "live-1").unwrap().1).unwrap();
    assert_eq!(delivered, serde_json::to_value(&snapshot).unwrap(), "the snapshot, as sent");
    assert_eq!(delivered["data"]["umum"]["poly_name"], "Poli Umum");
    assert_eq!(w.connections("default").await, ["live-1", "slow-1"], "the 410 connection is forgotten, the slow one kept");
    assert_eq!(w.connections("klinik-b").await, ["live-b"]);
}

async fn a_ticket_connection_hears_its_own_ticket_only(store: Store) {
    let w = World::start(store).await;
    let (admin, board_a, _, _) = w.two_clinics().await;
    let doctor = w.call(Method::POST, "/api/users", &admin, json!({"name": "dr. Sari", "username": "sari", "email": "sari@mail.com",
        "password": "dokter123", "password_confirmation": "dokter123", "roles": [3], "poly_id": 1})).await;
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Jakarta).format("%Y-%m-%d").to_string();
    w.call(Method::POST, "/api/schedule", &admin, json!({"doctor_id": doctor["data"]["id"], "date": today, "start_time": "00:00", "end_time": "23:59"})).await;
    let mut codes = Vec::new();
    for n in 1..=2 {
        let r = w.call(Method::POST, "/api/reservation", &admin, json!({"patient_name": format!("Pasien {n}"), "whatsapp_number": format!("08120000000{n}"),
            "poly_id": 1, "schedule_id": null, "date": today})).await;
        codes.push(r["data"]["ticket"]["code"].as_str().unwrap().to_string());
    }
    let ticket = |conn: &str, code: &str| event_with("$connect", conn, json!({"ticket": code}), None);
    assert_eq!(gateway::on_connect(&w.deps, &ticket("tick-2", &codes[1])).await.status_code, 200);
    assert_eq!(gateway::on_connect(&w.deps, &ticket("tick-x", "default.AAAAAAAAAAAAAAAAAAAA")).await.status_code, 404);
    assert_eq!(gateway::on_connect(&w.deps, &event("$connect", "board-1", Some(&board_a), None)).await.status_code, 200);
    let (fake, api) = FakeGateway::start(&w).await;

    // A push: the board gets the snapshot, the ticket page its own view and nothing else.
    let a = Tenant::parse("default").unwrap();
    let snapshot = board::snapshot(&w.deps, &a, board::today(&w.deps, &a).await.unwrap()).await.unwrap();
    api.push(&a, &snapshot).await;
    let posts = fake.posts.lock().unwrap().clone();
    let to = |id: &str| -> Value { serde_json::from_str(&posts.iter().find(|(c, _)| c == id).unwrap_or_else(|| panic!("nothing to {id}")).1).unwrap() };
    assert_eq!(to("board-1")["event"], "queue.snapshot");
    let mine = to("tick-2");
    assert_eq!((mine["event"].as_str(), mine["data"]["queue_number"].as_i64(), mine["data"]["ahead"].as_i64()), (Some("ticket.status"), Some(2), Some(1)));
    assert!(!posts.iter().find(|(c, _)| c == "tick-2").unwrap().1.contains("Pasien"), "no patient's name");
    // `hello` with the code: answered for the connection admitted with it, refused otherwise.
    let hello = |conn: &str, code: &str| event("$default", conn, None, Some(json!({"action": "hello", "ticket": code})));
    assert_eq!(gateway::on_default(&w.deps, &api, &hello("tick-2", &codes[1])).await.status_code, 200);
    assert_eq!(gateway::on_default(&w.deps, &api, &hello("tick-2", &codes[0])).await.status_code, 403, "another ticket's code");
    assert_eq!(gateway::on_default(&w.deps, &api, &hello("board-1", &codes[1])).await.status_code, 403, "a board's connection");
}

/// A board limited to one poly: `$connect` records its sections with the connection, each
/// push and the answer to hello post it those sections only; the whole-clinic board gets all.
async fn a_limited_board_is_posted_its_own_sections_only(store: Store) {
    let w = World::start(store).await;
    let (admin, board_all, _, _) = w.two_clinics().await;
    for name in ["Poli Gigi", "Poli Mata"] {
        w.call(Method::POST, "/api/poly", &admin, json!({"name": name})).await;
    }
    let limited = w.call(Method::POST, "/api/boards", &admin, json!({"name": "TV Mata", "poly_ids": [3]})).await;
    let limited = limited["data"]["token"].as_str().unwrap().to_string();
    for (id, token) in [("lim-1", &limited), ("all-1", &board_all)] {
        assert_eq!(gateway::on_connect(&w.deps, &event("$connect", id, Some(token), None)).await.status_code, 200);
    }
    let (fake, api) = FakeGateway::start(&w).await;

    let a = Tenant::parse("default").unwrap();
    let snapshot = board::snapshot(&w.deps, &a, board::today(&w.deps, &a).await.unwrap()).await.unwrap();
    api.push(&a, &snapshot).await;
    let hello = event("$default", "lim-1", None, Some(json!({"action": "hello", "token": limited})));
    assert_eq!(gateway::on_default(&w.deps, &api, &hello).await.status_code, 200);
    let posts = fake.posts.lock().unwrap().clone();
    let keys = |id: &str| -> Vec<Vec<String>> {
        posts
            .iter()
            .filter(|(c, _)| c == id)
            .map(|(_, body)| serde_json::from_str::<Value>(body).unwrap()["data"].as_object().unwrap().keys().cloned().collect())
            .collect()
    };
    assert_eq!(keys("lim-1"), [["mata"], ["mata"]], "the push, then the hello");
    assert_eq!(keys("all-1"), [["umum", "gigi", "mata"]]);
}

on_both_stores!(
    a_limited_board_is_posted_its_own_sections_only,
    a_ticket_connection_hears_its_own_ticket_only,
    connect_admits_board_and_staff_tokens_under_their_clinic_only,
    pushes_and_hello_go_through_the_management_api_on_moto,
    gone_connections_are_removed_and_a_hung_one_does_not_hold_the_push,
);
