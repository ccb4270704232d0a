//! The board page's files are not counted against the public rate limit: a TV that reloads
//! again and again is never locked out, while its socket and every other request without
//! credentials still count.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Store, TestApp};
use crate::live::{connect, new_board};
use crate::on_both_stores;

/// The files a load of the board page fetches: the page and what it links to.
async fn load_board_page(app: &TestApp, page_url: &str) -> Vec<(String, StatusCode)> {
    let page = app.client.get(page_url).send().await.unwrap();
    let mut fetched = vec![(page_url.to_string(), page.status())];
    let html = page.text().await.unwrap();
    for part in html.split(['"', '\'']).filter(|p| p.ends_with(".js") || p.ends_with(".css")) {
        let r = app.client.get(format!("{}/board/{part}", app.base)).send().await.unwrap();
        fetched.push((part.to_string(), r.status()));
    }
    fetched
}

async fn a_tv_reloading_its_page_is_never_limited(store: Store) {
    let app = TestApp::spawn_with(store, |c| c.limits.public_per_minute = 3).await;
    crate::edge::fresh_window().await;
    let admin = app.admin_token().await;
    let board = new_board(&app, &admin, "TV").await;
    let page_url = board["page_url"].as_str().unwrap();
    for _ in 0..6 {
        let fetched = load_board_page(&app, page_url).await;
        assert_eq!(fetched.len(), 8, "the page, its style sheet and six scripts: {fetched:?}");
        assert!(fetched.iter().all(|(_, s)| *s == StatusCode::OK), "{fetched:?}");
    }
    // 48 files later the minute's 3 public requests are all still there: the socket takes one…
    let mut socket = connect(board["ws_url"].as_str().unwrap()).await.expect("the board connects after its reloads");
    assert_eq!(socket.snapshot().await["event"], "queue.snapshot");
    // …two more requests without credentials, then the limit.
    for _ in 0..2 {
        assert_eq!(app.client.get(format!("{}/api/poly", app.base)).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let limited = app.client.get(format!("{}/api/poly", app.base)).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(body["status"], json!("error"), "{body}");
    assert_eq!(connect(board["ws_url"].as_str().unwrap()).await.err(), Some(429), "the socket counts");
    // The page itself still loads: a TV that reloads now shows its page and retries the socket.
    assert!(load_board_page(&app, page_url).await.iter().all(|(_, s)| *s == StatusCode::OK));
}

on_both_stores!(a_tv_reloading_its_page_is_never_limited);
