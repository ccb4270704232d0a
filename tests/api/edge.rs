//! The edge a browser frontend and n8n meet: CORS, the clinic from the host name, rate limits
//! counted in the store, body limits, and JSON for every error (issue 7). The browser's side of
//! CORS is proven in headless Chromium by tests/browser/cors.test.js.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, Reply, Store, TestApp, PLATFORM_TOKEN};
use crate::on_both_stores;

const BASE: &str = "antrean.test";

/// A request with any headers, answered with JSON (the test fails if the body is not JSON).
async fn send(app: &TestApp, method: Method, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Reply {
    let mut req = app.client.request(method, format!("{}{}", app.base, path)).header("accept", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request sent");
    reply(res).await
}

async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status();
    let headers = res.headers().clone();
    let is_json = headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("application/json"));
    let text = res.text().await.unwrap_or_default();
    assert!(is_json || status.is_success(), "{status}: error without a JSON content type: {headers:?} {text:?}");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: response is not JSON: {text:?}"));
    Reply { status, headers, body }
}

/// A POST with `Transfer-Encoding: chunked` (no Content-Length), over a bare socket: the status
/// and the body of the answer.
async fn raw_chunked_post(app: &TestApp, path: &str, token: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // The server may answer and close before it has read everything: stop writing then.
    for chunk in body.chunks(64 * 1024) {
        if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.is_err()
            || s.write_all(chunk).await.is_err()
            || s.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no status line: {text:?}"));
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // The answer itself may be chunked.
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut b = String::new();
        let mut r = rest;
        while let Some((size, after)) = r.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            b.push_str(&after[..n]);
            r = after[n..].trim_start_matches("\r\n");
        }
        b
    } else {
        rest.to_string()
    };
    (status, body)
}

/// A clinic with an admin `admin` / `admin123` and one poly named after it.
async fn clinic_with_poly(app: &TestApp, slug: &str) -> String {
    let token = app.new_clinic(slug).await;
    let r = app.post("/api/poly", &token, json!({"name": format!("Poli {slug}")})).await;
    assert_eq!(r.status, 200, "{r:?}");
    token
}

/// The names of the polies a token sees: which clinic it belongs to.
async fn poly_names(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get("/api/poly", token).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

async fn login_with(app: &TestApp, body: Value, headers: &[(&str, &str)]) -> Reply {
    send(app, Method::POST, "/api/auth/login", headers, Some(body)).await
}

/// Counters run in fixed one-minute windows: a test that counts waits, when the minute is
/// nearly over, for the next one, so that no window ends in the middle of it.
pub async fn fresh_window() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let into = now.as_secs_f64() % 60.0;
    if into > 45.0 {
        tokio::time::sleep(std::time::Duration::from_secs_f64(60.0 - into + 0.05)).await;
    }
}

fn retry_after(r: &Reply) -> i64 {
    r.headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no Retry-After: {r:?}"))
}

fn assert_too_many(r: &Reply) {
    assert_error(r, 429, "Too Many Attempts.");
    let secs = retry_after(r);
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
}

// ---------------------------------------------------------------- clinic from the host name

async fn login_reads_the_clinic_from_the_host_name(store: Store) {
    let app = TestApp::spawn_with(store, |c| c.base_domain = Some(BASE.into())).await;
    clinic_with_poly(&app, "sehat").await;
    clinic_with_poly(&app, "prima").await;
    let creds = json!({"username": "admin", "password": "admin123"});
    let clinic_of = |r: Reply| {
        assert_eq!(r.status, 200, "{r:?}");
        r.body["token"].as_str().unwrap().to_string()
    };

    // The host alone names the clinic.
    let t = clinic_of(login_with(&app, creds.clone(), &[("host", "sehat.antrean.test")]).await);
    assert_eq!(poly_names(&app, &t).await, ["Poli sehat"]);
    let t = clinic_of(login_with(&app, creds.clone(), &[("host", "Prima.Antrean.Test:443")]).await);
    assert_eq!(poly_names(&app, &t).await, ["Poli prima"]);
    // The header beats the host; the body beats both.
    let t = clinic_of(login_with(&app, creds.clone(), &[("host", "sehat.antrean.test"), ("x-clinic", "prima")]).await);
    assert_eq!(poly_names(&app, &t).await, ["Poli prima"]);
    let body = json!({"username": "admin", "password": "admin123", "clinic": "sehat"});
    let t = clinic_of(login_with(&app, body, &[("host", "prima.antrean.test"), ("x-clinic", "prima")]).await);
    assert_eq!(poly_names(&app, &t).await, ["Poli sehat"]);

    // Hosts that name no clinic leave `default`, where there is no user `admin`.
    for host in ["antrean.test", "www.antrean.test", "a.sehat.antrean.test", "sehat.other.test", "127.0.0.1"] {
        assert_error(&login_with(&app, creds.clone(), &[("host", host)]).await, 401, "Incorrect username or password");
    }
    // A host naming a clinic that does not exist answers like a wrong password.
    assert_error(&login_with(&app, creds.clone(), &[("host", "nowhere.antrean.test")]).await, 401, "Incorrect username or password");
}

async fn without_a_base_domain_the_host_is_ignored(store: Store) {
    let app = TestApp::spawn(store).await;
    clinic_with_poly(&app, "sehat").await;
    let r = login_with(&app, json!({"username": "admin", "password": "admin123"}), &[("host", "sehat.antrean.test")]).await;
    assert_error(&r, 401, "Incorrect username or password");
}

async fn a_token_beats_every_clinic_hint(store: Store) {
    let app = TestApp::spawn_with(store, |c| c.base_domain = Some(BASE.into())).await;
    let sehat = clinic_with_poly(&app, "sehat").await;
    let prima = clinic_with_poly(&app, "prima").await;
    let hints: [&[(&str, &str)]; 3] =
        [&[("host", "prima.antrean.test")], &[("x-clinic", "prima")], &[("host", "prima.antrean.test"), ("x-clinic", "prima")]];
    for (i, h) in hints.iter().enumerate() {
        let auth = format!("Bearer {sehat}");
        let mut headers = h.to_vec();
        headers.push(("authorization", &auth));
        // Reads see sehat only.
        let r = send(&app, Method::GET, "/api/poly", &headers, None).await;
        assert_eq!(r.status, 200, "{r:?}");
        let names: Vec<_> = r.body["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
        assert!(names.contains(&"Poli sehat".to_string()) && !names.contains(&"Poli prima".to_string()), "{names:?}");
        // Writes land in sehat.
        let r = send(&app, Method::POST, "/api/poly", &headers, Some(json!({"name": format!("Baru {i}")}))).await;
        assert_eq!(r.status, 200, "{r:?}");
    }
    let mut names = poly_names(&app, &sehat).await;
    names.sort();
    assert_eq!(names, ["Baru 0", "Baru 1", "Baru 2", "Poli sehat"]);
    assert_eq!(poly_names(&app, &prima).await, ["Poli prima"], "nothing reached prima");
}

// ---------------------------------------------------------------- rate limits

async fn login_is_limited_per_address(store: Store) {
    let app = TestApp::spawn_with(store, |c| c.limits.login_per_minute = 3).await;
    fresh_window().await;
    // Wrong passwords count like right ones; a bogus Authorization header does not dodge it.
    for _ in 0..2 {
        assert_error(&app.login("superadmin", "wrong-password").await, 401, "Incorrect username or password");
    }
    let token = app.admin_token().await;
    let r = login_with(&app, json!({"username": "superadmin", "password": crate::helpers::ADMIN_PASSWORD}), &[("authorization", "Bearer junk")]).await;
    assert_too_many(&r);
    assert!(r.body.get("token").is_none());
    // Signed-in staff are not held back by the login limit.
    for _ in 0..5 {
        assert_eq!(app.get("/api/poly", &token).await.status, 200);
    }
    // Preflights are never counted.
    let pre = app
        .client
        .request(Method::OPTIONS, format!("{}/api/auth/login", app.base))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 200);
}

async fn concurrent_logins_never_pass_the_limit(store: Store) {
    let app = TestApp::spawn_with(store, |c| c.limits.login_per_minute = 4).await;
    fresh_window().await;
    let attempts = (0..16).map(|_| app.login("superadmin", crate::helpers::ADMIN_PASSWORD));
    let replies = futures::future::join_all(attempts).await;
    let ok = replies.iter().filter(|r| r.status == StatusCode::OK).count();
    let limited: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!(ok, 4, "exactly the limit gets through: {replies:?}");
    assert_eq!(limited.len(), 12, "{replies:?}");
    limited.iter().for_each(|r| assert_too_many(r));
}

async fn requests_without_credentials_are_limited_per_address(store: Store) {
    let app = TestApp::spawn_with(store, |c| c.limits.public_per_minute = 3).await;
    fresh_window().await;
    let token = app.admin_token().await;
    for _ in 0..3 {
        assert_error(&send(&app, Method::GET, "/api/poly", &[], None).await, 401, "Unauthenticated");
    }
    assert_too_many(&send(&app, Method::GET, "/api/poly", &[], None).await);
    assert_too_many(&send(&app, Method::GET, "/api/no-such-route", &[], None).await);
    // Health checks and calls with a token are not counted.
    for _ in 0..5 {
        assert_eq!(send(&app, Method::GET, "/health", &[], None).await.status, 200);
        assert_eq!(app.get("/api/poly", &token).await.status, 200);
    }
}

async fn create_key(app: &TestApp, admin: &str, name: &str) -> String {
    let r = app.post("/api/auth/permanent-token", admin, json!({"name": name, "permissions": ["poly.view"]})).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["token"].as_str().unwrap().to_string()
}

async fn api_keys_are_limited_per_key(store: Store) {
    let app = TestApp::spawn_with(store, |c| c.limits.api_key_per_minute = 4).await;
    fresh_window().await;
    let admin = app.admin_token().await;
    let a = create_key(&app, &admin, "n8n-a").await;
    let b = create_key(&app, &admin, "n8n-b").await;
    // Made-up secrets for b's id are refused and spend none of b's calls.
    let (prefix, _) = b.rsplit_once('|').unwrap();
    let forged = format!("{prefix}|{}", "x".repeat(48));
    for _ in 0..3 {
        assert_error(&app.get("/api/poly", &forged).await, 401, "Unauthenticated");
    }
    for _ in 0..4 {
        assert_eq!(app.get("/api/poly", &a).await.status, 200);
    }
    assert_too_many(&app.get("/api/poly", &a).await);
    // Other keys and signed-in staff are untouched.
    for _ in 0..4 {
        assert_eq!(app.get("/api/poly", &b).await.status, 200);
    }
    assert_too_many(&app.get("/api/poly", &b).await);
    for _ in 0..6 {
        assert_eq!(app.get("/api/poly", &admin).await.status, 200);
    }
}

// ---------------------------------------------------------------- request limits and JSON errors

async fn bodies_over_one_mebibyte_get_413(store: Store) {
    let app = TestApp::spawn_with(store, |c| c.limits.login_per_minute = 50).await;
    let token = app.admin_token().await;
    let limit = 1024 * 1024;
    // `{"name":"…"}` is 11 bytes around the name.
    let over = json!({"name": "x".repeat(limit - 10)});
    assert_error(&app.post("/api/poly", &token, over.clone()).await, 413, "The request body is too large.");
    // Without Content-Length (chunked), the same.
    let bytes = serde_json::to_vec(&over).unwrap();
    let (status, text) = raw_chunked_post(&app, "/api/poly", &token, &bytes).await;
    assert_eq!(status, 413, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    assert_eq!(body, json!({"status": "error", "message": "The request body is too large."}));
    // Login reads its body before counting: the same rule.
    assert_error(&login_with(&app, json!({"username": "x".repeat(limit), "password": "p"}), &[]).await, 413, "The request body is too large.");
    // Just under the limit the route reads it (and says what is wrong with it).
    let under = json!({"name": "x".repeat(limit - 11)});
    assert_eq!(app.post("/api/poly", &token, under).await.status, 422);
    assert_eq!(app.get("/api/poly", &token).await.body["data"], json!([]), "nothing was created");
}

async fn faq_uploads_keep_their_own_limit(store: Store) {
    let app = TestApp::spawn(store).await;
    let token = app.admin_token().await;
    // A 2 MiB PDF: over the JSON limit, within the FAQ's 5 MB.
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.resize(2 * 1024 * 1024, b'x');
    let boundary = "----antrean-edge-boundary-1f2e3d";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nPanduan\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"panduan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").into_bytes();
    body.extend_from_slice(&pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let res = app
        .client
        .post(format!("{}/api/faq", app.base))
        .bearer_auth(&token)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let r = reply(res).await;
    assert_eq!(r.status, 200, "{r:?}");
}

async fn unknown_routes_and_wrong_methods_answer_json(store: Store) {
    let app = TestApp::spawn(store).await;
    let token = app.admin_token().await;
    assert_error(&app.get("/api/no-such-thing", &token).await, 404, "The requested route does not exist.");
    assert_error(&send(&app, Method::GET, "/nothing/here.html", &[("accept", "text/html")], None).await, 404, "The requested route does not exist.");
    let r = app.call(Method::PATCH, "/api/poly", Some(&token), Some(json!({}))).await;
    assert_error(&r, 405, "The method is not allowed for this route.");
    assert!(r.headers.get("allow").is_some(), "405 says what is allowed: {:?}", r.headers);
    assert_error(&send(&app, Method::GET, "/api/auth/login", &[], None).await, 405, "The method is not allowed for this route.");
}

async fn axum_rejections_answer_in_the_envelope(store: Store) {
    let app = TestApp::spawn(store).await;
    let token = app.admin_token().await;
    let auth = format!("Bearer {token}");
    // A path that is not UTF-8.
    let r = send(&app, Method::GET, "/api/poly/%FF", &[("authorization", &auth)], None).await;
    assert_eq!(r.body["status"], "error", "{r:?}");
    assert!(r.status == 400 || r.status == 404, "{r:?}");
    // A query string the route's parameters cannot hold (a repeated field).
    let r = send(&app, Method::GET, "/api/poly?search=a&search=b", &[("authorization", &auth)], None).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["status"], "error", "{r:?}");
    // Bodies that are not a JSON object.
    let res = app.client.post(format!("{}/api/poly", app.base)).bearer_auth(&token).header("content-type", "application/json").body("{nope").send().await.unwrap();
    assert_error(&reply(res).await, 400, "The request body is not valid JSON.");
    assert_error(&app.post("/api/poly", &token, json!([1, 2])).await, 400, "The request body must be a JSON object.");
    assert_eq!(app.get("/api/poly", &token).await.body["data"], json!([]), "nothing was created");
}

// ---------------------------------------------------------------- CORS over plain HTTP

async fn preflight(app: &TestApp, origin: &str, method: &str, headers: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, format!("{}/api/poly", app.base))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn cors_answers_preflights_without_authentication(store: Store) {
    let app = TestApp::spawn_with(store, |c| {
        c.cors_origins = antrean_api::cors::AllowedOrigins::parse("https://app.klinik.test,https://*.antrean.test").unwrap()
    })
    .await;
    for origin in ["https://app.klinik.test", "https://sehat.antrean.test"] {
        let res = preflight(&app, origin, "POST", "authorization,content-type,x-clinic").await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "access-control-allow-origin"), Some(origin));
        let methods = header(&res, "access-control-allow-methods").unwrap().to_ascii_uppercase();
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            assert!(methods.contains(m), "{methods}");
        }
        let allowed = header(&res, "access-control-allow-headers").unwrap().to_ascii_lowercase();
        for h in ["authorization", "content-type", "x-clinic", "accept", "x-requested-with"] {
            assert!(allowed.contains(h), "{allowed}");
        }
    }
    // Another origin gets no permission (the browser then refuses).
    for origin in ["https://evil.test", "http://sehat.antrean.test", "https://antrean.test", "http://localhost:5173"] {
        let res = preflight(&app, origin, "POST", "authorization").await;
        assert_eq!(header(&res, "access-control-allow-origin"), None, "{origin}");
    }
    // Real answers, errors included, carry the origin and expose Retry-After and X-Request-Id.
    let token = app.admin_token().await;
    for (path, auth) in [("/api/poly", Some(token.as_str())), ("/api/poly", None)] {
        let mut req = app.client.get(format!("{}{}", app.base, path)).header("origin", "https://sehat.antrean.test");
        if let Some(t) = auth {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(header(&res, "access-control-allow-origin"), Some("https://sehat.antrean.test"));
        let exposed = header(&res, "access-control-expose-headers").unwrap().to_ascii_lowercase();
        assert!(exposed.contains("retry-after") && exposed.contains("x-request-id"), "{exposed}");
        assert!(header(&res, "x-request-id").is_some());
    }
}

async fn cors_allows_localhost_by_default(store: Store) {
    let app = TestApp::spawn(store).await;
    for origin in ["http://localhost:5173", "http://127.0.0.1:3000"] {
        assert_eq!(header(&preflight(&app, origin, "GET", "authorization").await, "access-control-allow-origin"), Some(origin));
    }
    assert_eq!(header(&preflight(&app, "https://klinik.example.id", "GET", "authorization").await, "access-control-allow-origin"), None);
}

async fn platform_routes_work_with_the_edge(store: Store) {
    // The platform token rides in Authorization: not counted per address.
    let app = TestApp::spawn_with(store, |c| c.limits.public_per_minute = 1).await;
    fresh_window().await;
    for _ in 0..3 {
        let r = app.call(Method::GET, "/api/platform/clinics", Some(PLATFORM_TOKEN), None).await;
        assert_eq!(r.status, 200, "{r:?}");
    }
}

on_both_stores!(
    login_reads_the_clinic_from_the_host_name,
    without_a_base_domain_the_host_is_ignored,
    a_token_beats_every_clinic_hint,
    login_is_limited_per_address,
    concurrent_logins_never_pass_the_limit,
    requests_without_credentials_are_limited_per_address,
    api_keys_are_limited_per_key,
    bodies_over_one_mebibyte_get_413,
    faq_uploads_keep_their_own_limit,
    unknown_routes_and_wrong_methods_answer_json,
    axum_rejections_answer_in_the_envelope,
    cors_answers_preflights_without_authentication,
    cors_allows_localhost_by_default,
    platform_routes_work_with_the_edge,
);
