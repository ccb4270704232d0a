//! Security review items (issue 14): sign-in tokens accept only HS256 and need `exp`; API key
//! secrets are stored only as hashes; the webhook URL refuses metadata, link-local and
//! non-HTTP destinations (loopback only on the dev server); every answer carries
//! `X-Content-Type-Options: nosniff` and names no server.
use std::sync::Arc;

use antrean_api::{ApiConfig, AppState, Group};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, Store, TestApp, ADMIN_PASSWORD};
use crate::on_both_stores;
use crate::table_scan::items_containing;

/// The claims of a token the server issued (its payload, unverified).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn tokens_are_hs256_with_an_expiry(store: Store) {
    let app = TestApp::spawn(store).await;
    let token = app.admin_token().await;
    let claims = claims_of(&token);
    let secret = app.config.jwt_secret.clone().unwrap();
    let key = EncodingKey::from_secret(secret.as_bytes());
    let resign = |alg: Algorithm, claims: &Value| encode(&Header::new(alg), claims, &key).unwrap();

    // The same claims signed again the same way work: what follows differs in one thing only.
    let again = resign(Algorithm::HS256, &claims);
    assert_eq!(app.get("/api/poly", &again).await.status, StatusCode::OK);

    for alg in [Algorithm::HS384, Algorithm::HS512] {
        assert_error(
            &app.get("/api/poly", &resign(alg, &claims)).await,
            401,
            "Unauthenticated",
        );
    }
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_error(
        &app.get("/api/poly", &unsigned).await,
        401,
        "Unauthenticated",
    );

    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_error(
        &app.get("/api/poly", &resign(Algorithm::HS256, &no_exp))
            .await,
        401,
        "Unauthenticated",
    );
    let mut expired = claims.clone();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 5);
    assert_error(
        &app.get("/api/poly", &resign(Algorithm::HS256, &expired))
            .await,
        401,
        "Unauthenticated",
    );
}

async fn api_key_secrets_are_stored_only_as_hashes(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/auth/permanent-token",
            &admin,
            json!({"token_name": "n8n"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let token = r.body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/api/poly", &token).await.status,
        StatusCode::OK,
        "the key works"
    );
    // `<clinic>|<id>|<secret>`: the secret part must appear nowhere in the table.
    let secret = token.rsplit('|').next().unwrap();
    assert!(secret.len() >= 32, "{token}");
    let found = items_containing(&app, secret).await;
    assert!(
        found.is_empty(),
        "the API key's secret is stored in clear: {found:?}"
    );
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(secret.as_bytes()));
    assert_eq!(
        items_containing(&app, &digest).await.len(),
        1,
        "its SHA-256 is what is kept"
    );
    // Nor does any answer repeat it.
    let list = app.get("/api/auth/api-keys", &admin).await;
    assert!(!list.body.to_string().contains(secret), "{list:?}");
}

async fn webhook_urls_refuse_metadata_link_local_and_other_schemes(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    for url in [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://169.254.170.2/v2/credentials",
        "http://[fd00:ec2::254]/latest/api/token",
        "http://[fe80::1]/hook",
        "http://2852039166/latest/meta-data/",
        "ftp://n8n.example.com/webhook",
        "file:///etc/passwd",
    ] {
        let r = app
            .post(
                "/api/configs",
                &admin,
                json!({"name": "n8n_webhook_url", "value": url}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 422, "{url}: {r:?}");
        assert_eq!(r.body["status"], "error", "{r:?}");
        assert!(
            r.body["errors"]["value"][0]
                .as_str()
                .is_some_and(|m| m.contains("n8n_webhook_url")),
            "{url}: {r:?}"
        );
    }
    let list = app.get("/api/configs", &admin).await;
    assert_eq!(list.body["data"], json!([]), "nothing was saved: {list:?}");

    // An allowed one, then an update to a refused one leaves the allowed one in place.
    let r = app
        .post(
            "/api/configs",
            &admin,
            json!({"name": "n8n_webhook_url", "value": "http://127.0.0.1:5678/webhook/antrean"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "loopback is allowed on the dev server: {r:?}"
    );
    let id = r.body["data"]["id"].as_i64().unwrap();
    let r = app
        .put(
            &format!("/api/configs/{id}"),
            &admin,
            json!({"name": "n8n_webhook_url", "value": "http://169.254.169.254/"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{r:?}");
    let kept = app.get(&format!("/api/configs/{id}"), &admin).await;
    assert_eq!(
        kept.body["data"]["value"], "http://127.0.0.1:5678/webhook/antrean",
        "{kept:?}"
    );
}

/// The configuration function as its Lambda runs it (the host's `ReqwestSender::standard()`):
/// loopback is refused there, where it would reach the Lambda runtime's own endpoints.
async fn deployed_hosts_refuse_loopback_webhooks(store: Store) {
    let app = TestApp::spawn(store).await;
    let state = AppState {
        deps: app.deps().await,
        config: Arc::new(ApiConfig::default()),
        live: antrean_live::Live::none(),
        blobs: antrean_blobs::Blobs::none().store,
        webhooks: Arc::new(antrean_domain::webhook::http::ReqwestSender::standard().unwrap()),
    };
    let router = antrean_api::service::group_service(Group::Configuration, state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let admin = app.admin_token().await;
    let http = reqwest::Client::new();
    for url in [
        "http://127.0.0.1:5678/webhook",
        "http://localhost:5678/webhook",
        "http://[::1]:5678/webhook",
    ] {
        let r = http
            .post(format!("{base}/api/configs"))
            .bearer_auth(&admin)
            .json(&json!({"name": "n8n_webhook_url", "value": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422, "{url}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["errors"]["value"][0]
                .as_str()
                .unwrap()
                .contains("loopback"),
            "{body}"
        );
    }
    let ok = http
        .post(format!("{base}/api/configs"))
        .bearer_auth(&admin)
        .json(
            &json!({"name": "n8n_webhook_url", "value": "https://n8n.example.com/webhook/antrean"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    server.abort();
}

async fn every_answer_says_nosniff_and_names_no_server(store: Store) {
    let app = TestApp::spawn(store).await;
    let admin = app.admin_token().await;
    let origin = "http://localhost:3000";
    let requests: Vec<(Method, &str, Option<&str>, Option<Value>)> = vec![
        (Method::GET, "/health", None, None),
        (Method::GET, "/api/openapi.json", None, None),
        (Method::GET, "/board/", None, None),
        (Method::GET, "/board/board.js", None, None),
        (
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "superadmin", "password": ADMIN_PASSWORD})),
        ),
        (
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "superadmin", "password": "wrong"})),
        ),
        (Method::GET, "/api/poly", Some(&admin), None),
        (Method::GET, "/api/poly", None, None),
        (Method::POST, "/api/poly", Some(&admin), Some(json!({}))),
        (Method::GET, "/api/no-such-route", None, None),
        (Method::DELETE, "/api/auth/login", None, None),
    ];
    for (method, path, token, body) in requests {
        let mut req = app
            .client
            .request(method.clone(), format!("{}{path}", app.base))
            .header("origin", origin);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{method} {path}: {:?}",
            r.headers()
        );
        assert!(
            r.headers().get("server").is_none() && r.headers().get("x-powered-by").is_none(),
            "{method} {path}: {:?}",
            r.headers()
        );
    }
    // A CORS preflight, answered before any route.
    let r = app
        .client
        .request(Method::OPTIONS, format!("{}/api/poly", app.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        r.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert!(r.headers().get("server").is_none());
}

on_both_stores!(
    tokens_are_hs256_with_an_expiry,
    api_key_secrets_are_stored_only_as_hashes,
    webhook_urls_refuse_metadata_link_local_and_other_schemes,
    deployed_hosts_refuse_loopback_webhooks,
    every_answer_says_nosniff_and_names_no_server,
);
