//! HTTP API events for each group, answered by the functions the template routes them to,
//! compared with the dev server's answers to the same requests.
use serde_json::{json, Value};

use crate::events::Request;
use crate::helpers::{ADMIN_PASSWORD, PLATFORM_TOKEN};
use crate::hosts::{assert_same, Auth, World};

fn today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

fn get(uri: &str) -> Request {
    Request::new("GET", uri)
}

fn send(method: &str, uri: &str, body: Value) -> Request {
    Request::new(method, uri).json(&body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the Lambda bootstraps: bash infra/scripts/lambda-events.sh (CI runs it after the build)"]
async fn every_group_answers_api_gateway_events_as_the_dev_server_does() {
    let w = World::start().await;
    let anon = Auth::none();

    // Auth: login (the seed's body), then the same login with a base64-encoded body.
    let login = json!({"username": "superadmin", "password": ADMIN_PASSWORD});
    let (d, l) = w
        .same(
            "login",
            send("POST", "/api/auth/login", login.clone()),
            &anon,
        )
        .await;
    let mut auth = anon.bearer(
        d.json()["token"].as_str().unwrap(),
        l.json()["token"].as_str().unwrap(),
    );
    let (d64, l64) = w
        .same(
            "login, base64 body",
            send("POST", "/api/auth/login", login.clone()).base64(),
            &anon,
        )
        .await;
    assert_eq!(l64.status, 200, "{l64:?}");
    assert!(d64.json()["token"].is_string() && l64.json()["token"].is_string());
    w.same(
        "wrong password",
        send(
            "POST",
            "/api/auth/login",
            json!({"username": "superadmin", "password": "salah"}),
        ),
        &anon,
    )
    .await;
    // Cookies arrive in the event's `cookies`; the API reads none, and answers alike.
    w.same(
        "login with a cookie",
        send("POST", "/api/auth/login", login.clone()).header("cookie", "theme=dark; lang=id"),
        &anon,
    )
    .await;

    // CORS: preflights of a group route (its ANY route) and of an auth route (OPTIONS /{proxy+}),
    // an allowed origin's call, a refused origin's.
    for path in ["/api/poly", "/api/auth/login", "/api/reports/waiting-time"] {
        let pre = Request::new("OPTIONS", path)
            .header("origin", crate::CORS_ORIGIN)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            );
        let (_, l) = w.same(&format!("preflight {path}"), pre, &anon).await;
        assert_eq!(
            l.header("access-control-allow-origin"),
            Some(crate::CORS_ORIGIN),
            "{l:?}"
        );
    }
    let (_, l) = w
        .same(
            "allowed origin",
            get("/api/poly").header("origin", crate::CORS_ORIGIN),
            &auth,
        )
        .await;
    assert_eq!(
        l.header("access-control-allow-origin"),
        Some(crate::CORS_ORIGIN)
    );
    let (_, l) = w
        .same(
            "refused origin",
            get("/api/poly").header("origin", "https://evil.example"),
            &auth,
        )
        .await;
    assert_eq!(l.header("access-control-allow-origin"), None);

    // Master data: a CRUD (poly), its errors, and the edge: unknown route, wrong method,
    // a body over the 1 MiB limit, a body that is not JSON, no token.
    let (_, l) = w
        .same(
            "create poly",
            send("POST", "/api/poly", json!({"name": "Poli Umum"})),
            &auth,
        )
        .await;
    let poly = l.json()["data"]["id"].as_i64().expect("poly id");
    w.same(
        "duplicate poly",
        send("POST", "/api/poly", json!({"name": "poli umum"})),
        &auth,
    )
    .await;
    w.same("list polies", get("/api/poly"), &auth).await;
    w.same(
        "list polies, query",
        get("/api/poly?page=1&per_page=5&search=umum"),
        &auth,
    )
    .await;
    w.same("poly detail", get(&format!("/api/poly/{poly}")), &auth)
        .await;
    w.same(
        "update poly",
        send(
            "PUT",
            &format!("/api/poly/{poly}"),
            json!({"name": "Poli Umum Pagi"}),
        ),
        &auth,
    )
    .await;
    w.same("poly not found", get("/api/poly/999"), &auth).await;
    w.same(
        "unknown route",
        get(&format!("/api/poly/{poly}/nothing")),
        &auth,
    )
    .await;
    w.same("wrong method", Request::new("DELETE", "/api/poly"), &auth)
        .await;
    let big = json!({"name": "x".repeat(1024 * 1024 + 10)});
    let (_, l) = w
        .same("oversized body", send("POST", "/api/poly", big), &auth)
        .await;
    assert_eq!(l.status, 413, "{l:?}");
    w.same(
        "not JSON",
        Request::new("POST", "/api/poly").raw("application/json", b"{\"name\":".to_vec()),
        &auth,
    )
    .await;
    w.same("no token", get("/api/poly"), &auth.anonymous())
        .await;
    w.same(
        "bad token",
        get("/api/poly"),
        &auth.bearer("garbage", "garbage"),
    )
    .await;

    // Users and schedules: a doctor on the poly, today's schedule.
    let doctor = json!({"name": "dr. Harris", "username": "harris", "email": "harris@mail.com", "password": "dokter123",
        "password_confirmation": "dokter123", "roles": [3], "poly_id": poly});
    let (_, l) = w
        .same("create doctor", send("POST", "/api/users", doctor), &auth)
        .await;
    let doctor = l.json()["data"]["id"].as_i64().expect("user id");
    let date = today();
    let schedule = json!({"doctor_id": doctor.to_string(), "date": date, "start_time": "08:00", "end_time": "16:00", "quota": 20});
    let (_, l) = w
        .same(
            "create schedule",
            send("POST", "/api/schedule", schedule),
            &auth,
        )
        .await;
    let schedule = l.json()["data"]["id"].as_i64().expect("schedule id");
    w.same(
        "schedule detail",
        get(&format!("/api/schedule/{schedule}")),
        &auth,
    )
    .await;
    w.same(
        "schedules of today",
        get(&format!("/api/schedule?date={date}")),
        &auth,
    )
    .await;

    // Reservation and queue: register (the ticket's code and link are each host's own), a
    // queue move, the queue, the current numbers, the public ticket.
    let patient = json!({"patient_name": "Ahmad Fauzi", "no_bpjs": "0001234567890", "whatsapp_number": "081234567890",
        "email": "ahmad.fauzi@gmail.com", "poly_id": poly, "schedule_id": null, "bpjs": true, "date": date});
    let (d, l) = w
        .both(send("POST", "/api/reservation", patient), &auth)
        .await;
    let (dj, lj) = (d.json(), l.json());
    let (dcode, lcode) = (
        dj["data"]["ticket"]["code"].as_str().unwrap().to_string(),
        lj["data"]["ticket"]["code"].as_str().unwrap().to_string(),
    );
    auth.learn(&dcode, &lcode);
    let ticket_url = lj["data"]["ticket"]["url"].as_str().unwrap().to_string();
    assert_eq!(
        ticket_url,
        format!(
            "https://{}/board/ticket.html?code={lcode}&ws={}",
            crate::events::DOMAIN,
            antrean_live::encode_query(crate::BOARD_WS_URL)
        ),
        "on AWS the ticket link is this API's own page, told the WebSocket API's URL"
    );
    assert_same(
        "create reservation",
        &without_urls(&d),
        &without_urls(&l),
        &auth.secrets,
    );
    let reservation = lj["data"]["reservation"]["id"]
        .as_i64()
        .expect("reservation id");
    w.same(
        "call to anamnesa",
        send(
            "PATCH",
            &format!("/api/queue/{reservation}/anamnesa"),
            json!({}),
        ),
        &auth,
    )
    .await;
    w.same(
        "call again (wrong move)",
        send(
            "PATCH",
            &format!("/api/queue/{reservation}/withdoctor"),
            json!({}),
        ),
        &auth,
    )
    .await;
    w.same("queue of today", get("/api/queue"), &auth).await;
    w.same("queue, seed's trailing slash", get("/api/queue/"), &auth)
        .await;
    w.same(
        "current numbers",
        get(&format!("/api/queue/current?poly_id={poly}&date={date}")),
        &auth,
    )
    .await;
    w.same(
        "reservation list",
        get(&format!("/api/reservation?date={date}")),
        &auth,
    )
    .await;
    // The Lambda side looks up its own code (the secrets map one to the other).
    let (_, l) = w
        .both(get(&format!("/api/tickets/{dcode}")), &auth.anonymous())
        .await;
    assert_eq!(
        l.status, 404,
        "the dev server's code is not the Lambdas' ticket: {l:?}"
    );
    let lt = w.lambda(&get(&format!("/api/tickets/{lcode}"))).await;
    let dt = w.dev(&get(&format!("/api/tickets/{dcode}"))).await;
    assert_same("ticket by each host's code", &dt, &lt, &auth.secrets);
    assert_eq!(lt.header("cache-control"), Some("no-store"));

    // Display boards: the page link the stack hands out is its own page, and it loads.
    let (d, l) = w
        .both(
            send("POST", "/api/boards", json!({"name": "Ruang tunggu"})),
            &auth,
        )
        .await;
    let (dj, lj) = (d.json(), l.json());
    auth.learn(
        dj["data"]["token"].as_str().unwrap(),
        lj["data"]["token"].as_str().unwrap(),
    );
    let board_token = lj["data"]["token"].as_str().unwrap();
    let t = antrean_live::encode_query(board_token);
    assert_eq!(
        lj["data"]["ws_url"],
        format!("{}?token={t}", crate::BOARD_WS_URL)
    );
    let page_url = lj["data"]["page_url"].as_str().unwrap();
    assert_eq!(
        page_url,
        format!(
            "https://{}/board/index.html?token={t}&ws={}",
            crate::events::DOMAIN,
            antrean_live::encode_query(crate::BOARD_WS_URL)
        )
    );
    assert_same(
        "create board",
        &without_urls(&d),
        &without_urls(&l),
        &auth.secrets,
    );
    w.same("list boards", get("/api/boards"), &auth).await;
    for link in [page_url.to_string(), ticket_url.clone()] {
        let uri = link
            .strip_prefix(&format!("https://{}", crate::events::DOMAIN))
            .unwrap();
        let page = w.lambda(&get(uri)).await;
        assert_eq!(page.status, 200, "{link}: {page:?}");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{link}"
        );
        assert!(page.text().contains("<script src="), "{link}: {page:?}");
    }

    // Configuration and reports.
    w.same("configs", get("/api/configs"), &auth).await;
    w.same(
        "create message template",
        send(
            "POST",
            "/api/message-templates",
            json!({"name": "Pengingat", "content": "Halo {{patient_name}}", "type": "REMINDER"}),
        ),
        &auth,
    )
    .await;
    w.same("message templates", get("/api/message-templates"), &auth)
        .await;
    w.same(
        "dashboard summary",
        get(&format!("/api/dashboard/summary?date={date}")),
        &auth,
    )
    .await;
    w.same(
        "reservation trend",
        get(&format!(
            "/api/dashboard/reservation-trend?year={}",
            &date[..4]
        )),
        &auth,
    )
    .await;
    w.same(
        "waiting-time report",
        get(&format!(
            "/api/reports/waiting-time?date_from={date}&date_to={date}"
        )),
        &auth,
    )
    .await;
    w.same(
        "report, bad dates",
        get("/api/reports/waiting-time?date_from=kemarin"),
        &auth,
    )
    .await;

    // An XLSX export: the report function writes it to its bucket (moto) and redirects to a
    // presigned link; the dev server to its own file route. The link is each host's own.
    let export = get(&format!(
        "/api/reports/waiting-time/export?date_from={date}&date_to={date}"
    ));
    let (d, l) = w.both(export, &auth).await;
    assert_eq!(
        (d.status, l.status),
        (302, 302),
        "dev: {d:?}\nlambda: {l:?}"
    );
    assert_eq!(d.header("cache-control"), l.header("cache-control"));
    let link = l.header("location").expect("a link to the export");
    assert!(
        link.starts_with(&format!("{}/{}/", w.moto.endpoint, w.reports_bucket)),
        "{link}"
    );
    let file = reqwest::get(link).await.unwrap();
    assert_eq!(file.status(), 200, "{link}");
    assert!(
        file.bytes().await.unwrap().starts_with(b"PK"),
        "an XLSX (zip) file"
    );

    // A FAQ upload: multipart/form-data, which API Gateway hands over base64-encoded; the
    // configuration function stores the file in its bucket (moto).
    let boundary = "----antrean-lambda-boundary-7MA4YWxk";
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[7u8; 300]);
    let mut form = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nDenah klinik\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"denah.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
    form.extend_from_slice(&png);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let upload = Request::new("POST", "/api/faq")
        .raw(&format!("multipart/form-data; boundary={boundary}"), form)
        .base64();
    let (d, l) = w.both(upload, &auth).await;
    assert_eq!(
        (d.status, l.status),
        (200, 200),
        "dev: {d:?}\nlambda: {l:?}"
    );
    let (dj, lj) = (d.json(), l.json());
    assert_eq!(
        (&dj["message"], &dj["data"]["name"], &dj["data"]["id"]),
        (&lj["message"], &lj["data"]["name"], &lj["data"]["id"])
    );
    let listing = reqwest::get(format!(
        "{}/{}?list-type=2",
        w.moto.endpoint, w.files_bucket
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        listing.contains("/faq/"),
        "the file is in the files bucket: {listing}"
    );
    let (d, l) = w.both(get("/api/faq"), &auth).await;
    assert_eq!(
        (d.status, l.status),
        (200, 200),
        "FAQ list\ndev: {d:?}\nlambda: {l:?}"
    );
    let (dj, lj) = (d.json(), l.json());
    assert_eq!(dj["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(lj["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(dj["data"][0]["name"], lj["data"][0]["name"]);
    // Its download link (presigned, on moto) gives the very bytes uploaded.
    let link = lj["data"][0]["directory"]
        .as_str()
        .expect("a download link");
    let bytes = reqwest::get(link).await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), png.as_slice(), "{link}");

    // Platform (its own token), with and without it.
    w.same(
        "platform clinics",
        get("/api/platform/clinics"),
        &auth.bearer(PLATFORM_TOKEN, PLATFORM_TOKEN),
    )
    .await;
    w.same("platform, staff token", get("/api/platform/clinics"), &auth)
        .await;

    // Site: health (the store answers), the OpenAPI document (identical), the pages.
    let (_, l) = w.same("health", get("/health"), &anon).await;
    assert_eq!(l.json(), json!({"status": "success", "message": "OK"}));
    let (d, l) = w
        .same("openapi.json", get("/api/openapi.json"), &anon)
        .await;
    assert_eq!(d.body, l.body, "the same document byte for byte");
    for path in [
        "/board/index.html",
        "/board/board.js",
        "/board/board-words.js",
        "/board/board-layout.js",
        "/board/board-render.js",
        "/board/board-voice.js",
        "/board/board-socket.js",
        "/board/board.css",
        "/board/ticket.html",
        "/board/ticket.js",
        "/board/nothing.txt",
    ] {
        w.same(path, get(path), &anon).await;
    }
    let (d, l) = w
        .same("/board redirect", get(&format!("/board?token={t}")), &anon)
        .await;
    assert_eq!(l.status, 308, "{l:?}");
    assert_eq!(
        d.header("location"),
        Some(format!("/board/index.html?token={t}").as_str())
    );

    // Logout ends the session on each host.
    w.same("logout", Request::new("POST", "/api/auth/logout"), &auth)
        .await;
    w.same("after logout", get("/api/poly"), &auth).await;

    // What only API Gateway answers: a path no route of the template matches.
    let l = w.lambda(&get("/api/nothing")).await;
    assert_eq!((l.status, l.json()), (404, json!({"message": "Not Found"})));
}

/// The answer without the links that differ by host on purpose (the board's socket and page,
/// the ticket page): the tests check those on their own.
fn without_urls(a: &crate::hosts::Answer) -> crate::hosts::Answer {
    let mut v = a.json();
    for key in ["ws_url", "page_url"] {
        if let Some(d) = v["data"].as_object_mut() {
            d.remove(key);
        }
    }
    if let Some(t) = v["data"]["ticket"].as_object_mut() {
        t.remove("url");
    }
    crate::hosts::Answer {
        body: serde_json::to_vec(&v).unwrap(),
        ..a.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the Lambda bootstraps: bash infra/scripts/lambda-events.sh (CI runs it after the build)"]
async fn health_answers_503_when_the_store_cannot_be_reached() {
    use crate::{emulator, template};
    let template = template::Template::load();
    // A port nothing listens on: the function starts (clients are lazy), its reads fail.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stand_ins = emulator::stand_ins(
        "antrean",
        "files",
        "reports",
        "http://127.0.0.1:9",
        crate::hosts::JWT_SECRET,
    );
    let lambda = emulator::Emulator::start(&template, &["site"], |binary| {
        let mut env = template.environment(binary, &stand_ins, &Default::default());
        env.push((
            "DYNAMODB_ENDPOINT".into(),
            format!("http://127.0.0.1:{dead}"),
        ));
        env
    })
    .await;
    let routes = template.routes();
    let req = get("/health");
    let (route, params) = template::select(&routes, "GET", "/health").expect("a /health route");
    assert_eq!(route.binary, "site");
    let answer = crate::hosts::answer_of(
        "site",
        &lambda
            .invoke("site", &crate::events::http(&req, route, &params))
            .await,
    );
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"status": "error", "message": "The store cannot be reached."})
    );
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}
