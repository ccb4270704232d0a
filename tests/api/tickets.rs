//! The patient's ticket: `GET /api/tickets/{code}` (public) and its live socket
//! (`/ws?ticket=<code>`): that ticket only, a wrong code is a plain 404, look-ups are limited.
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp};
use crate::live::connect;
use crate::on_both_stores;
use crate::reservations::Desk;

/// Registers patient `n`; returns (reservation id, ticket code, ticket page URL).
async fn ticket_of(desk: &Desk, n: usize) -> (i64, String, String) {
    let r = desk.register(n).await;
    assert_eq!(r.status, 200, "{r:?}");
    let d = &r.body["data"];
    let code = d["ticket"]["code"].as_str().unwrap_or_else(|| panic!("a ticket code: {d}")).to_string();
    (d["reservation"]["id"].as_i64().unwrap(), code, d["ticket"]["url"].as_str().unwrap().to_string())
}

async fn public(app: &TestApp, code: &str) -> crate::helpers::Reply {
    app.call(Method::GET, &format!("/api/tickets/{code}"), None, None).await
}

fn ticket_ws(app: &TestApp, code: &str) -> String {
    format!("{}/ws?ticket={code}", app.base.replacen("http://", "ws://", 1))
}

async fn a_ticket_shows_its_own_place_and_nothing_else(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let (first, _, _) = ticket_of(&desk, 1).await;
    let (second, _, _) = ticket_of(&desk, 2).await;
    let (third, code, url) = ticket_of(&desk, 3).await;
    assert!(code.starts_with("default.") && code.len() == "default.".len() + 20, "{code}");
    assert!(url.ends_with(&format!("/board/ticket.html?code={code}")), "{url}");
    // Staff see the code on the queue entry too (to print it again).
    let detail = app.get(&format!("/api/reservation/{second}"), t).await;
    assert!(detail.body["data"]["reservation"]["queue"]["ticket_code"].as_str().is_some_and(|c| c != code), "{detail:?}");

    let r = public(app, &code).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "Ticket retrieved successfully");
    assert_eq!(r.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    let v = &r.body["data"];
    assert_eq!((v["queue_number"].as_i64(), v["poly_name"].as_str(), v["date"].as_str()), (Some(3), Some("Poli Umum"), Some(desk.today.as_str())));
    assert_eq!((v["status"].as_str(), v["status_label"].as_str()), (Some("WAITING"), Some("Menunggu")));
    assert_eq!((v["ahead"].as_i64(), v["now_serving"].clone()), (Some(2), Value::Null));
    assert!(v["estimated_time"].as_str().is_some_and(|e| e.len() == 5), "{v}");
    let text = r.body.to_string();
    for other in ["Pasien", "0812", "pasien", "no_bpjs", "whatsapp", "patient"] {
        assert!(!text.contains(other), "the ticket must not show {other}: {text}");
    }

    // The queue moves: the first patient goes in to the doctor, the second is called to anamnesa.
    for (id, mv) in [(first, "anamnesa"), (first, "waitingdoctor"), (first, "withdoctor"), (second, "anamnesa")] {
        assert_eq!(app.patch(&format!("/api/queue/{id}/{mv}"), t, json!(null)).await.status, 200);
    }
    let v = public(app, &code).await.body["data"].clone();
    assert_eq!((v["now_serving"].as_i64(), v["now_anamnesa"].as_i64(), v["ahead"].as_i64()), (Some(1), Some(2), Some(1)), "{v}");
    // Its own turn, then done: nothing ahead, no estimate, the clinic's label.
    for mv in ["anamnesa", "waitingdoctor", "withdoctor", "done"] {
        assert_eq!(app.patch(&format!("/api/queue/{third}/{mv}"), t, json!(null)).await.status, 200);
    }
    let v = public(app, &code).await.body["data"].clone();
    assert_eq!((v["status"].as_str(), v["ahead"].clone(), v["estimated_time"].clone()), (Some("DONE"), Value::Null, Value::Null), "{v}");
}

async fn a_wrong_code_is_a_plain_404(store: Store) {
    let desk = Desk::open(store, None).await;
    let app = &desk.app;
    let (_, code, _) = ticket_of(&desk, 1).await;
    let (prefix, secret) = code.split_once('.').unwrap();
    // Another clinic with the same secret, a changed secret, garbage: all the same answer.
    app.new_clinic("sehat").await;
    let flipped = format!("{prefix}.{}{}", &secret[..19], if secret.ends_with('A') { 'B' } else { 'A' });
    for bad in [format!("sehat.{secret}"), flipped, "nonsense".into(), format!("{prefix}.{}", &secret[..10]), format!("{prefix}.{secret}x")] {
        let r = public(app, &bad).await;
        assert_error(&r, 404, "Ticket not found");
        assert!(r.body.get("errors").is_none(), "{r:?}");
        assert_eq!(connect(&ticket_ws(app, &bad)).await.err(), Some(404), "{bad}");
    }
    // Codes are read whatever their case.
    assert_eq!(public(app, &code.to_lowercase()).await.status, 200);
}

async fn the_ticket_socket_hears_its_ticket_only(store: Store) {
    let desk = Desk::open(store, None).await;
    let (app, t) = (&desk.app, &desk.admin);
    let (first, _, _) = ticket_of(&desk, 1).await;
    let (_, code, _) = ticket_of(&desk, 2).await;
    let mut ws = connect(&ticket_ws(app, &code)).await.expect("a ticket code opens the socket");
    let hello = ws.snapshot().await;
    assert_eq!(hello["event"], "ticket.status");
    assert_eq!((hello["data"]["queue_number"].as_i64(), hello["data"]["ahead"].as_i64()), (Some(2), Some(1)));

    // The first patient is called: the second's ticket hears that it is next.
    assert_eq!(app.patch(&format!("/api/queue/{first}/anamnesa"), t, json!(null)).await.status, 200);
    let mut heard = Vec::new();
    while let Ok(Some(m)) = ws.next(Duration::from_secs(3)).await {
        let done = m["data"]["now_anamnesa"] == 1;
        heard.push(m);
        if done {
            break;
        }
    }
    let last = heard.last().unwrap_or_else(|| panic!("no update within 3 s"));
    assert_eq!(last["event"], "ticket.status");
    assert_eq!(last["data"]["queue_number"], 2);
    assert_eq!(last["data"]["now_anamnesa"], 1);
    // Never a board snapshot (that names every poly's numbers and calls).
    assert!(heard.iter().all(|m| m["event"] == "ticket.status"), "{heard:?}");
    ws.send(json!({"action": "hello", "ticket": code})).await;
    assert_eq!(ws.snapshot().await["data"]["queue_number"], 2);
}

async fn ticket_look_ups_are_rate_limited(store: Store) {
    let app = TestApp::spawn_with(store, |c| c.limits.ticket_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(public(&app, "default.AAAAAAAAAAAAAAAAAAAA").await.status, 404);
    }
    let r = public(&app, "default.AAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(r.status, 429, "{r:?}");
    assert!(r.headers.get("retry-after").is_some());
}

on_both_stores!(
    a_ticket_shows_its_own_place_and_nothing_else,
    a_wrong_code_is_a_plain_404,
    the_ticket_socket_hears_its_ticket_only,
    ticket_look_ups_are_rate_limited,
);
