//! The live queue: display boards (`/api/boards`) and the dev server's WebSocket
//! (`/ws?token=…`): who may connect, what a board hears, and that a clinic hears only itself.
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{assert_error, Store, TestApp};
use crate::on_both_stores;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A board connected to the dev server.
pub struct Board {
    socket: Socket,
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

pub fn ws_url(app: &TestApp, token: &str) -> String {
    format!("{}/ws?token={}", app.base.replacen("http://", "ws://", 1), encode(token))
}

/// Opens a socket; `Err(status)` when the server refuses the upgrade.
pub async fn connect(url: &str) -> Result<Board, u16> {
    match tokio_tungstenite::connect_async(url).await {
        Ok((socket, _)) => Ok(Board { socket }),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("websocket connect to {url}: {e}"),
    }
}

impl Board {
    /// The next message, if one comes within `within`; `Err` when the server closed.
    pub async fn next(&mut self, within: Duration) -> Result<Option<Value>, String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err("closed".into()),
                Ok(Some(Err(e))) => return Err(e.to_string()),
                Ok(Some(Ok(Message::Text(t)))) => return Ok(Some(serde_json::from_str(&t).expect("a JSON message"))),
                Ok(Some(Ok(Message::Close(frame)))) => return Err(format!("closed: {frame:?}")),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn snapshot(&mut self) -> Value {
        match self.next(Duration::from_secs(5)).await {
            Ok(Some(v)) => v,
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    pub async fn send(&mut self, v: Value) {
        self.socket.send(Message::Text(v.to_string().into())).await.expect("send");
    }
}

pub fn today() -> String {
    chrono::Utc::now().with_timezone(&chrono_tz::Asia::Jakarta).format("%Y-%m-%d").to_string()
}

/// Creates a board and returns the create response's `data`.
pub async fn new_board(app: &TestApp, admin: &str, name: &str) -> Value {
    let r = app.post("/api/boards", admin, json!({"name": name})).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"].clone()
}

async fn boards_are_created_listed_and_revoked(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let r = app.post("/api/boards", &t, json!({"name": "TV Ruang Tunggu"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["status"], "success");
    assert_eq!(r.body["message"], "Board created successfully");
    let board = &r.body["data"];
    assert_eq!(board["name"], "TV Ruang Tunggu");
    let token = board["token"].as_str().unwrap();
    assert!(token.starts_with("default|"), "{board}");
    let host = app.base.trim_start_matches("http://");
    assert_eq!(board["ws_url"], format!("ws://{host}/ws?token={}", encode(token)));
    assert_eq!(board["page_url"], format!("http://{host}/board/?token={}", encode(token)));
    // No body: the default name.
    let other = app.post("/api/boards", &t, json!(null)).await;
    assert_eq!(other.body["data"]["name"], "Display board");
    // An ordinary API key is not a board.
    let key = app.post("/api/auth/permanent-token", &t, json!({"name": "n8n"})).await;
    assert_eq!(key.status, 200, "{key:?}");
    let key_id = key.body["data"]["id"].as_i64().unwrap();

    let list = app.get("/api/boards", &t).await;
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(list.body["message"], "Board list retrieved successfully");
    let names: Vec<_> = list.body["data"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["TV Ruang Tunggu", "Display board"]);
    assert!(list.body["data"][0].get("token").is_none(), "a token is shown once: {list:?}");

    assert_error(&app.delete(&format!("/api/boards/{key_id}"), &t).await, 404, "Board not found");
    assert_eq!(app.get("/api/auth/api-keys", &t).await.body["data"].as_array().unwrap().len(), 3, "the n8n key is still there");
    assert_error(&app.delete("/api/boards/999", &t).await, 404, "Board not found");
    assert_error(&app.delete("/api/boards/abc", &t).await, 404, "Board not found");

    let id = board["id"].as_i64().unwrap();
    let del = app.delete(&format!("/api/boards/{id}"), &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Board revoked successfully"}));
    assert_eq!(app.get("/api/boards", &t).await.body["data"].as_array().unwrap().len(), 1);
    assert_error(&app.delete(&format!("/api/boards/{id}"), &t).await, 404, "Board not found");
    assert_eq!(connect(board["ws_url"].as_str().unwrap()).await.err(), Some(401), "a revoked board cannot connect");
}

async fn managing_boards_needs_the_permission(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    // Kepala Klinik (role 2) sees the queue but does not manage boards.
    let head = crate::users::staff_token(&app, &t, "kepala", json!([2])).await;
    assert_error(&app.post("/api/boards", &head, json!({"name": "x"})).await, 403, "This action is unauthorized.");
    assert_error(&app.get("/api/boards", &head).await, 403, "This action is unauthorized.");
    assert_eq!(app.get("/api/boards", &t).await.body["data"], json!([]), "nothing was created");
    let r = app.post("/api/boards", &t, json!({"name": "x".repeat(101)})).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body["errors"]["name"].is_array(), "{r:?}");
    assert_eq!(app.get("/api/boards", &t).await.body["data"], json!([]), "nothing was created");
    // A board token opens the socket and nothing else.
    let board = new_board(&app, &t, "TV").await;
    let bt = board["token"].as_str().unwrap();
    assert_error(&app.get("/api/poly", bt).await, 403, "This action is unauthorized.");
    assert_error(&app.post("/api/boards", bt, json!({})).await, 403, "This action is unauthorized.");
}

async fn a_board_gets_the_snapshot_at_once_and_on_hello(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    for name in ["Poli Umum", "Poli Gigi", "Kesehatan Ibu & Anak"] {
        assert_eq!(app.post("/api/poly", &t, json!({"name": name})).await.status, 200);
    }
    let trashed = app.post("/api/poly", &t, json!({"name": "Poli Lama"})).await.body["data"]["id"].as_i64().unwrap();
    app.delete(&format!("/api/poly/{trashed}"), &t).await;
    let board = new_board(&app, &t, "TV").await;
    let mut ws = connect(board["ws_url"].as_str().unwrap()).await.expect("a board token connects");
    let s = ws.next(Duration::from_secs(1)).await.unwrap().expect("the snapshot arrives at once");
    assert_eq!(s["event"], "queue.snapshot");
    assert_eq!(s["clinic"], json!({"slug": "default", "name": "Klinik", "timezone": "Asia/Jakarta"}));
    assert_eq!(s["date"], today());
    let keys: Vec<_> = s["data"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["umum", "gigi", "kesehatan_ibu_anak"], "keyed by poly in id order, trashed polies left out: {s}");
    assert_eq!(
        s["data"]["umum"],
        json!({"kind": "poly", "poly_id": 1, "poly_name": "Poli Umum", "queue_number_anamnesa": null, "queue_number_with_doctor": null,
            "queue_number_anamnesa_priority": false, "queue_number_with_doctor_priority": false, "rooms": [], "last_call": null})
    );
    ws.send(json!({"action": "hello"})).await;
    let again = ws.snapshot().await;
    assert_eq!(again["data"], s["data"]);
    assert!(again["at"].as_str().unwrap() >= s["at"].as_str().unwrap());
    ws.send(json!({"action": "ping"})).await;
    assert_eq!(ws.next(Duration::from_millis(300)).await, Ok(None), "a ping is not answered with a snapshot");

    // A staff token that may see the queue is a watcher too.
    let mut staff = connect(&ws_url(&app, &t)).await.expect("a staff token connects");
    assert_eq!(staff.snapshot().await["data"], s["data"]);
}

async fn anything_but_a_board_or_staff_token_is_refused(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let base = app.base.replacen("http://", "ws://", 1);
    assert_eq!(connect(&format!("{base}/ws")).await.err(), Some(401), "no token");
    assert_eq!(connect(&format!("{base}/ws?token=")).await.err(), Some(401), "empty token");
    assert_eq!(connect(&ws_url(&app, "garbage")).await.err(), Some(401), "garbage");
    assert_eq!(connect(&ws_url(&app, "default|1|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).await.err(), Some(401), "a forged key");
    // A valid API key without board.watch or queue.view.
    let key = app.post("/api/auth/permanent-token", &t, json!({"name": "poly", "permissions": ["poly.view"]})).await;
    let key = key.body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(connect(&ws_url(&app, &key)).await.err(), Some(403), "a key that may not watch");
    // A signed-out staff token.
    let other = app.admin_token().await;
    app.call(reqwest::Method::POST, "/api/auth/logout", Some(&other), None).await;
    assert_eq!(connect(&ws_url(&app, &other)).await.err(), Some(401), "a logged-out token");
    // The refusal comes before the upgrade, as the API's own error.
    let plain = app.client.get(format!("{}/ws", app.base)).send().await.unwrap();
    assert_eq!(plain.status(), 401);
    let body: Value = plain.json().await.unwrap();
    assert_eq!(body, json!({"status": "error", "message": "Unauthenticated"}));
}

async fn revoking_a_board_closes_that_clinics_socket_only(store: Store) {
    let app = TestApp::spawn(store).await;
    let a = app.admin_token().await;
    let b = app.new_clinic("klinik-b").await;
    // Board ids are per clinic: both boards are id 1 in their own clinic.
    let board_a = new_board(&app, &a, "A").await;
    let board_b = new_board(&app, &b, "B").await;
    assert_eq!(board_a["id"], board_b["id"]);
    let mut ws_a = connect(board_a["ws_url"].as_str().unwrap()).await.unwrap();
    let mut ws_b = connect(board_b["ws_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(ws_a.snapshot().await["clinic"]["slug"], "default");
    let sb = ws_b.snapshot().await;
    assert_eq!(sb["clinic"], json!({"slug": "klinik-b", "name": "Klinik klinik-b", "timezone": "Asia/Jakarta"}));

    let id = board_a["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("/api/boards/{id}"), &a).await.status, 200);
    match ws_a.next(Duration::from_secs(2)).await {
        Err(closed) => assert!(closed.contains("revoked") || closed == "closed", "{closed}"),
        other => panic!("the revoked board's socket stays open: {other:?}"),
    }
    // Clinic B's board 1 is untouched and still answers.
    assert_eq!(ws_b.next(Duration::from_millis(300)).await, Ok(None));
    ws_b.send(json!({"action": "snapshot"})).await;
    assert_eq!(ws_b.snapshot().await["clinic"]["slug"], "klinik-b");
}

on_both_stores!(
    boards_are_created_listed_and_revoked,
    managing_boards_needs_the_permission,
    a_board_gets_the_snapshot_at_once_and_on_hello,
    anything_but_a_board_or_staff_token_is_refused,
    revoking_a_board_closes_that_clinics_socket_only,
);
