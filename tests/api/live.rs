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

/// The sections a snapshot carries, in order.
fn sections(s: &Value) -> Vec<String> {
    s["data"].as_object().expect("a snapshot's data").keys().cloned().collect()
}

/// A board limited to chosen polies is sent those sections only: the first snapshot, every
/// push and the answer to hello. A change of its sections reconnects it with the new ones.
async fn a_board_limited_to_polies_receives_only_them(store: Store) {
    let desk = crate::reservations::Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    for name in ["Poli Gigi", "Poli Mata"] {
        assert_eq!(app.post("/api/poly", t, json!({"name": name})).await.status, 200);
    }
    // Bad sections: 422, nothing created.
    for (body, field) in [
        (json!({"poly_ids": [99]}), "poly_ids.0"),
        (json!({"poly_ids": [1, "abc"]}), "poly_ids.1"),
        (json!({"poly_ids": 1}), "poly_ids"),
        (json!({"rooms": [""]}), "rooms.0"),
        (json!({"services": ["x".repeat(101)]}), "services.0"),
    ] {
        let r = app.post("/api/boards", t, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {r:?}");
        assert!(r.body["errors"][field].is_array(), "{body}: {r:?}");
    }
    assert_eq!(app.get("/api/boards", t).await.body["data"], json!([]), "nothing was created");

    let r = app.post("/api/boards", t, json!({"name": "TV Umum & Mata", "poly_ids": ["3", 1, 3]})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let (umum_mata, id) = (r.body["data"].clone(), r.body["data"]["id"].as_i64().unwrap());
    assert_eq!((&umum_mata["poly_ids"], &umum_mata["rooms"], &umum_mata["services"]), (&json!([3, 1]), &json!([]), &json!([])));
    let gigi = app.post("/api/boards", t, json!({"name": "TV Gigi", "poly_ids": [2]})).await.body["data"].clone();
    let all = new_board(app, t, "TV Lobi").await;
    let list = app.get("/api/boards", t).await;
    assert_eq!(list.body["data"][0]["poly_ids"], json!([3, 1]), "{list:?}");
    assert_eq!(list.body["data"][2]["poly_ids"], json!([]), "{list:?}");

    let mut ws_um = connect(umum_mata["ws_url"].as_str().unwrap()).await.unwrap();
    let mut ws_gigi = connect(gigi["ws_url"].as_str().unwrap()).await.unwrap();
    let mut ws_all = connect(all["ws_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(sections(&ws_um.snapshot().await), ["umum", "mata"], "in the clinic's order");
    assert_eq!(sections(&ws_gigi.snapshot().await), ["gigi"]);
    assert_eq!(sections(&ws_all.snapshot().await), ["umum", "gigi", "mata"]);

    // A call at Poli Umum: pushed to every board, each with its own sections.
    let r1 = desk.reserve(1).await;
    assert_eq!(app.patch(&format!("/api/queue/{r1}/anamnesa"), t, json!(null)).await.status, 200);
    let pushed = ws_um.snapshot().await;
    assert_eq!(sections(&pushed), ["umum", "mata"]);
    assert_eq!(pushed["data"]["umum"]["last_call"]["queue_number"], 1);
    let to_gigi = ws_gigi.snapshot().await;
    assert_eq!(sections(&to_gigi), ["gigi"], "Poli Umum's call never reaches the Gigi board: {to_gigi}");
    assert!(!to_gigi.to_string().contains("Poli Umum"));
    assert_eq!(sections(&ws_all.snapshot().await), ["umum", "gigi", "mata"]);
    ws_gigi.send(json!({"action": "hello"})).await;
    assert_eq!(sections(&ws_gigi.snapshot().await), ["gigi"], "hello is answered with the board's sections too");

    // A staff token watching sees the whole clinic.
    let mut staff = connect(&ws_url(app, t)).await.unwrap();
    assert_eq!(sections(&staff.snapshot().await), ["umum", "gigi", "mata"]);

    // Changing the sections: bad bodies change nothing; a good one closes the open socket.
    let bad = app.patch(&format!("/api/boards/{id}"), t, json!({"poly_ids": [42]})).await;
    assert_eq!(bad.status, 422, "{bad:?}");
    assert!(bad.body["errors"]["poly_ids.0"].is_array(), "{bad:?}");
    assert_eq!(app.get("/api/boards", t).await.body["data"][0]["poly_ids"], json!([3, 1]), "unchanged");
    let head = crate::users::staff_token(app, t, "kepala", json!([2])).await;
    assert_error(&app.patch(&format!("/api/boards/{id}"), &head, json!({"poly_ids": [2]})).await, 403, "This action is unauthorized.");
    let key = app.post("/api/auth/permanent-token", t, json!({"name": "n8n"})).await.body["data"]["id"].as_i64().unwrap();
    assert_error(&app.patch(&format!("/api/boards/{key}"), t, json!({"poly_ids": [2]})).await, 404, "Board not found");
    assert_error(&app.patch("/api/boards/999", t, json!({"name": "x"})).await, 404, "Board not found");

    let changed = app.patch(&format!("/api/boards/{id}"), t, json!({"poly_ids": [2], "rooms": ["Ruang 2"]})).await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.body["message"], "Board updated successfully");
    assert_eq!((&changed.body["data"]["name"], &changed.body["data"]["poly_ids"]), (&json!("TV Umum & Mata"), &json!([2])));
    assert_eq!(changed.body["data"]["rooms"], json!(["Ruang 2"]));
    match ws_um.next(Duration::from_secs(2)).await {
        Err(_) => {}
        other => panic!("the changed board's socket stays open with its old sections: {other:?}"),
    }
    let mut again = connect(umum_mata["ws_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(sections(&again.snapshot().await), ["gigi"], "the same token, the new sections");
    // A field left out stays; null lifts the limit.
    let renamed = app.patch(&format!("/api/boards/{id}"), t, json!({"name": "TV Gigi 2"})).await;
    assert_eq!((&renamed.body["data"]["name"], &renamed.body["data"]["poly_ids"]), (&json!("TV Gigi 2"), &json!([2])));
    let whole = app.patch(&format!("/api/boards/{id}"), t, json!({"poly_ids": null, "rooms": []})).await;
    assert_eq!((&whole.body["data"]["poly_ids"], &whole.body["data"]["rooms"]), (&json!([]), &json!([])));
    let mut whole_ws = connect(umum_mata["ws_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(sections(&whole_ws.snapshot().await), ["umum", "gigi", "mata"]);
    // Each change is in the activity trail; the refused ones left nothing.
    let trail = app.get("/api/reports/user-activity?per_page=100", t).await;
    let changes = trail.body["data"].as_array().unwrap().iter().filter(|r| r["activity"] == "Apikey updated").count();
    assert_eq!(changes, 3, "three board changes: {trail:?}");
    // A poly deleted after the board chose it: the board shows what is left.
    assert_eq!(app.delete("/api/poly/2", t).await.status, 200);
    let mut left = connect(gigi["ws_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(sections(&left.snapshot().await), Vec::<String>::new());
}

on_both_stores!(
    a_board_limited_to_polies_receives_only_them,
    boards_are_created_listed_and_revoked,
    managing_boards_needs_the_permission,
    a_board_gets_the_snapshot_at_once_and_on_hello,
    anything_but_a_board_or_staff_token_is_refused,
    revoking_a_board_closes_that_clinics_socket_only,
);
