//! The WebSocket API's events (`$connect`, `$default`, `$disconnect`) sent to the functions the
//! template integrates, the Management API on moto; and the scheduled workers' EventBridge events.
use serde_json::{json, Value};

use crate::events::{self, Request};
use crate::helpers::ADMIN_PASSWORD;
use crate::hosts::World;

async fn admin_and_board(w: &World) -> (String, String, i64) {
    let login = w
        .lambda(
            &Request::new("POST", "/api/auth/login")
                .json(&json!({"username": "superadmin", "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(login.status, 200, "{login:?}");
    let admin = login.json()["token"].as_str().unwrap().to_string();
    let board = w
        .lambda(
            &Request::new("POST", "/api/boards")
                .bearer(Some(&admin))
                .json(&json!({"name": "Ruang tunggu"})),
        )
        .await;
    assert_eq!(board.status, 200, "{board:?}");
    let b = board.json();
    (
        admin,
        b["data"]["token"].as_str().unwrap().to_string(),
        b["data"]["id"].as_i64().unwrap(),
    )
}

fn status(answer: &Value) -> i64 {
    answer["statusCode"]
        .as_i64()
        .unwrap_or_else(|| panic!("no statusCode: {answer}"))
}

/// Sends a WebSocket event to the function the template integrates for its route; the status.
async fn ws(
    w: &World,
    route_key: &str,
    connection: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) -> u16 {
    let answer = w
        .lambda
        .invoke(
            &w.template.websocket[route_key],
            &events::websocket(route_key, connection, query, body.as_ref()),
        )
        .await;
    status(&answer) as u16
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the Lambda bootstraps: bash infra/scripts/lambda-events.sh (CI runs it after the build)"]
async fn websocket_events_connect_say_hello_and_disconnect() {
    let w = World::start_with(Some(&[
        "auth",
        "queue",
        "ws-connect",
        "ws-default",
        "ws-disconnect",
    ]))
    .await;
    let (admin, board, board_id) = admin_and_board(&w).await;

    // $connect: a board token and a staff token are admitted; no token or a bad one is not,
    // as the dev server's /ws refuses them (401).
    assert_eq!(
        ws(&w, "$connect", "conn-board=", &[("token", &board)], None).await,
        200
    );
    assert_eq!(
        ws(&w, "$connect", "conn-staff=", &[("token", &admin)], None).await,
        200
    );
    let dev_refusal = w
        .dev(&Request::new("GET", "/ws?token=garbage"))
        .await
        .status;
    assert_eq!(dev_refusal, 401);
    assert_eq!(
        ws(&w, "$connect", "conn-bad=", &[], None).await,
        dev_refusal,
        "no token"
    );
    assert_eq!(
        ws(&w, "$connect", "conn-bad=", &[("token", "garbage")], None).await,
        dev_refusal,
        "a bad token"
    );
    let tenant = antrean_domain::Tenant::parse("default").unwrap();
    let connection = |id: &'static str| antrean_live::registry::get(&w.deps, &tenant, id);
    assert!(
        connection("conn-board=")
            .await
            .unwrap()
            .is_some_and(|c| c.board_id == Some(board_id)),
        "recorded under its clinic"
    );
    assert!(connection("conn-bad=").await.unwrap().is_none());

    // $default: hello is answered with the snapshot through the Management API (moto): 200
    // only when the post went through. A connection never admitted, a ping, an odd action.
    let hello = json!({"action": "hello", "token": board});
    assert_eq!(
        ws(&w, "$default", "conn-board=", &[], Some(hello.clone())).await,
        200
    );
    assert_eq!(
        ws(&w, "$default", "conn-never=", &[], Some(hello)).await,
        403
    );
    assert_eq!(
        ws(
            &w,
            "$default",
            "conn-board=",
            &[],
            Some(json!({"action": "ping"}))
        )
        .await,
        200
    );
    assert_eq!(
        ws(
            &w,
            "$default",
            "conn-board=",
            &[],
            Some(json!({"action": "subscribe"}))
        )
        .await,
        400
    );

    // Revoking the board on the queue function closes its sockets through the Management API
    // (moto) and forgets them; the HTTP answer is the usual one.
    let revoked = w
        .lambda(&Request::new("DELETE", &format!("/api/boards/{board_id}")).bearer(Some(&admin)))
        .await;
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert!(
        connection("conn-board=").await.unwrap().is_none(),
        "the revoked board's connection is dropped"
    );
    assert!(
        connection("conn-staff=").await.unwrap().is_some(),
        "the staff connection stays"
    );

    // $disconnect answers 200.
    assert_eq!(ws(&w, "$disconnect", "conn-staff=", &[], None).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the Lambda bootstraps: bash infra/scripts/lambda-events.sh (CI runs it after the build)"]
async fn scheduled_workers_run_on_their_eventbridge_events() {
    let w = World::start_with(Some(&["webhook-retry", "no-show"])).await;
    let retry = w
        .lambda
        .invoke(
            "webhook-retry",
            &events::scheduled("antrean-WebhookRetryFunctionEveryMinute"),
        )
        .await;
    assert_eq!(
        retry,
        json!({"delivered": 0, "failed": 0, "expired": 0}),
        "nothing due in a new clinic"
    );
    let sweep = w
        .lambda
        .invoke(
            "no-show",
            &events::scheduled("antrean-NoShowFunctionEvery15Minutes"),
        )
        .await;
    assert_eq!(sweep, json!({"marked": 0}));
}
