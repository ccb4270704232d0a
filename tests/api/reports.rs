//! Seed section "Report (Page & Export)": pages with the seed's rows and `pagination`, and
//! exports read back with a real XLSX reader (calamine) and compared row by row with the page.
use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};

use crate::dashboard::seed;
use crate::helpers::{assert_error, Reply, Store, TestApp};
use crate::on_both_stores;

const JAN: &str = "date_from=2026-01-01&date_to=2026-01-31";

fn page(r: &Reply, message: &str) -> (Vec<Value>, Value) {
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["status"], "success", "{r:?}");
    assert_eq!(r.body["message"], message, "{r:?}");
    (r.body["data"].as_array().unwrap().clone(), r.body["pagination"].clone())
}

/// A downloaded export: its title rows, header and data rows.
pub struct Sheet {
    pub title: String,
    pub subtitle: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Data>>,
    pub bytes: Vec<u8>,
}

/// Asks for an export as a client with `Accept: application/json` does, downloads the file
/// from the link it gets, and reads it.
pub async fn download(app: &TestApp, token: &str, path: &str) -> Sheet {
    let res = app.client.get(format!("{}{}", app.base, path)).bearer_auth(token).header("accept", "application/json").send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "success", "{body}");
    let url = body["url"].as_str().expect("url").to_string();
    // Stored under the clinic's prefix.
    assert!(url.contains("T%23default/exports/"), "{url}");
    // The link is for a browser: no bearer token.
    let file = app.client.get(&url).send().await.unwrap();
    assert_eq!(file.status(), 200, "{url}");
    let bytes = file.bytes().await.unwrap().to_vec();
    read_xlsx(bytes)
}

pub fn read_xlsx(bytes: Vec<u8>) -> Sheet {
    let bytes_copy = bytes.clone();
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("a valid XLSX");
    let range = wb.worksheet_range_at(0).expect("one sheet").expect("readable sheet");
    let cells: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let text = |d: &Data| match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => panic!("expected text, got {other:?}"),
    };
    // Row 0 title, row 1 period and filters, row 3 header (range starts at A1).
    assert_eq!(range.start(), Some((0, 0)));
    Sheet {
        title: text(&cells[0][0]),
        subtitle: text(&cells[1][0]),
        header: cells[3].iter().map(text).filter(|h| !h.is_empty()).collect(),
        rows: cells[4..].to_vec(),
        bytes: bytes_copy,
    }
}

/// The XML parts of an export, to check what a reader of cells cannot see (frozen header,
/// autofilter, bold, column widths, number formats).
fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("an XLSX is a zip");
    let mut f = zip.by_name(name).unwrap_or_else(|_| panic!("{name} in the XLSX"));
    let mut s = String::new();
    std::io::Read::read_to_string(&mut f, &mut s).unwrap();
    s
}

/// A cell as the page writes the same value: dates `yyyy-mm-dd`, times `HH:MM`, numbers as
/// numbers, empty as null. Dates and times must be real date cells, numbers real numbers.
fn as_page_value(cell: &Data, page_value: &Value) -> Value {
    match cell {
        Data::Empty => Value::Null,
        Data::String(s) => Value::String(s.clone()),
        Data::Float(f) => json!(f),
        Data::Int(i) => json!(i),
        Data::DateTime(d) => {
            let serial = d.as_f64();
            let s = page_value.as_str().unwrap_or_else(|| panic!("a date cell where the page has {page_value}"));
            if s.len() == 5 {
                let secs = (serial.fract() * 86400.0).round() as i64;
                Value::String(format!("{:02}:{:02}", secs / 3600, (secs % 3600) / 60))
            } else {
                let date = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap() + Duration::days(serial.floor() as i64);
                Value::String(date.format("%Y-%m-%d").to_string())
            }
        }
        other => panic!("unexpected cell {other:?}"),
    }
}

fn same_number(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

/// The export's rows equal the page's rows (all of them on one page), field by field.
pub async fn assert_export_matches_page(app: &TestApp, token: &str, slug: &str, query: &str) -> Sheet {
    let r = app.get(&format!("/api/reports/{slug}?{query}&per_page=100"), token).await;
    assert_eq!(r.status, 200, "{r:?}");
    let rows = r.body["data"].as_array().unwrap().clone();
    assert!(r.body["pagination"]["total"].as_u64().unwrap() <= 100);
    let sheet = download(app, token, &format!("/api/reports/{slug}/export?{query}")).await;
    assert_eq!(sheet.rows.len(), rows.len(), "{slug}: export rows vs page rows");
    for (i, (cells, row)) in sheet.rows.iter().zip(&rows).enumerate() {
        let fields = row.as_object().unwrap();
        assert_eq!(fields.len(), sheet.header.len(), "{slug} row {i}");
        for (j, (field, value)) in fields.iter().enumerate() {
            let cell = cells.get(j).cloned().unwrap_or(Data::Empty);
            if !value.is_null() && value.is_string() && value.as_str().unwrap().len() == 10 && field.contains("date") {
                assert!(matches!(cell, Data::DateTime(_)), "{slug} row {i} {field}: a date cell, got {cell:?}");
            }
            if value.is_number() {
                assert!(matches!(cell, Data::Float(_) | Data::Int(_)), "{slug} row {i} {field}: a number cell, got {cell:?}");
            }
            let got = as_page_value(&cell, value);
            assert!(same_number(&got, value), "{slug} row {i} {field}: export {got} vs page {value}");
        }
    }
    sheet
}

async fn rollup_reports_show_the_hand_counted_rows(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    seed(&app, &t).await;

    let (rows, pagination) = page(&app.get(&format!("/api/reports/no-show-cancelled?{JAN}"), &t).await, "No-show and cancelled report retrieved successfully");
    assert_eq!(
        rows,
        [
            json!({"date": "2026-01-11", "poly": "Poli Gigi", "total_reservations": 2, "no_show": 0, "cancelled": 0, "ratio_percent": 0}),
            json!({"date": "2026-01-11", "poly": "Poli Umum", "total_reservations": 5, "no_show": 1, "cancelled": 1, "ratio_percent": 40}),
        ]
    );
    assert_eq!(pagination, json!({"current_page": 1, "per_page": 10, "total": 2, "last_page": 1}));
    let (bpjs_only, _) =
        page(&app.get(&format!("/api/reports/no-show-cancelled?{JAN}&insurance_type=bpjs&poly_id=1"), &t).await, "No-show and cancelled report retrieved successfully");
    assert_eq!(
        bpjs_only,
        [json!({"date": "2026-01-11", "poly": "Poli Umum", "total_reservations": 3, "no_show": 1, "cancelled": 0, "ratio_percent": 33.33})]
    );

    let (rows, _) = page(&app.get(&format!("/api/reports/bpjs-vs-general?{JAN}"), &t).await, "BPJS vs General report retrieved successfully");
    assert_eq!(
        rows,
        [
            json!({"date": "2026-01-11", "poly": "Poli Gigi", "total_bpjs": 1, "total_general": 1, "bpjs_percentage": 50, "general_percentage": 50}),
            json!({"date": "2026-01-11", "poly": "Poli Umum", "total_bpjs": 3, "total_general": 2, "bpjs_percentage": 60, "general_percentage": 40}),
        ]
    );

    let (rows, _) = page(&app.get("/api/reports/poly-performance?date_from=2026-01-01&date_to=2026-02-28", &t).await, "Poly performance report retrieved successfully");
    assert_eq!(
        rows,
        [
            json!({"date": "2026-01-11", "poly": "Poli Gigi", "total_patients": 2, "average_waiting_time_minutes": 20, "no_show_rate_percent": 0, "peak_hour": "10:00"}),
            json!({"date": "2026-01-11", "poly": "Poli Umum", "total_patients": 4, "average_waiting_time_minutes": 57.5, "no_show_rate_percent": 20, "peak_hour": "08:00"}),
            json!({"date": "2026-02-03", "poly": "Poli Gigi", "total_patients": 1, "average_waiting_time_minutes": 30, "no_show_rate_percent": 0, "peak_hour": "11:00"}),
        ]
    );

    let (rows, _) = page(&app.get(&format!("/api/reports/waiting-time?{JAN}"), &t).await, "Waiting time report retrieved successfully");
    assert_eq!(
        rows,
        [
            json!({"date": "2026-01-11", "poly": "Poli Gigi", "average_waiting_time_minutes": 20, "longest_waiting_time_minutes": 20, "fastest_waiting_time_minutes": 20}),
            json!({"date": "2026-01-11", "poly": "Poli Umum", "average_waiting_time_minutes": 57.5, "longest_waiting_time_minutes": 70, "fastest_waiting_time_minutes": 45}),
        ]
    );

    let (rows, _) = page(&app.get(&format!("/api/reports/busy-hour?{JAN}&poly_id=1"), &t).await, "Busy hour report retrieved successfully");
    assert_eq!(rows.len(), 1);
    let umum = rows[0].as_object().unwrap();
    assert_eq!(umum["date"], "2026-01-11");
    assert_eq!(umum["poly"], "Poli Umum");
    for h in 0..24 {
        let want = match h {
            8 | 9 => 2,
            14 => 1,
            _ => 0,
        };
        assert_eq!(umum[&format!("{h:02}:00")], want, "hour {h}");
    }
    assert_eq!(umum["total_reservations"], 5);
    assert_eq!(umum.keys().next_back().unwrap(), "total_reservations");

    // Pages: 3 rows of poly performance, 2 per page.
    let (second, p) = page(
        &app.get("/api/reports/poly-performance?date_from=2026-01-01&date_to=2026-02-28&page=2&per_page=2", &t).await,
        "Poly performance report retrieved successfully",
    );
    assert_eq!(second.len(), 1);
    assert_eq!(second[0]["date"], "2026-02-03");
    assert_eq!(p, json!({"current_page": 2, "per_page": 2, "total": 3, "last_page": 2}));
}

async fn user_activity_lists_who_did_what(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    seed(&app, &t).await; // two polies created by Super Admin, today
    app.delete("/api/poly/2", &t).await;
    let (rows, p) = page(&app.get("/api/reports/user-activity", &t).await, "User activity report retrieved successfully");
    assert_eq!(p["total"], 3, "{rows:?}");
    assert_eq!(rows[0]["activity"], "Poly deleted");
    assert_eq!(rows[2]["activity"], "Poly created");
    assert_eq!(rows[0]["user"], "Super Admin");
    assert_eq!(rows[0]["role"], "Super Admin");
    assert!(rows[0]["reservation_id"].is_null());
    assert_eq!(rows[0].as_object().unwrap().keys().collect::<Vec<_>>(), ["user", "role", "activity", "date", "time", "reservation_id"]);
    let (none, _) = page(&app.get("/api/reports/user-activity?date_from=2020-01-01&date_to=2020-01-31", &t).await, "User activity report retrieved successfully");
    assert!(none.is_empty());
    let (mine, _) = page(&app.get("/api/reports/user-activity?user_id=1", &t).await, "User activity report retrieved successfully");
    assert_eq!(mine.len(), 3);
    assert_error(&app.get("/api/reports/user-activity?user_id=99", &t).await, 422, "The selected user id is invalid.");
    let sheet = assert_export_matches_page(&app, &t, "user-activity", "user_id=1").await;
    assert!(sheet.subtitle.contains("User: Super Admin"), "{}", sheet.subtitle);
}

async fn exports_equal_their_pages(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    seed(&app, &t).await;
    for slug in ["no-show-cancelled", "bpjs-vs-general", "poly-performance", "waiting-time", "busy-hour"] {
        let sheet = assert_export_matches_page(&app, &t, slug, "date_from=2026-01-01&date_to=2026-02-28").await;
        assert!(sheet.title.starts_with("Klinik — "), "{slug}: {}", sheet.title);
        assert!(sheet.subtitle.starts_with("Period 2026-01-01 to 2026-02-28"), "{slug}: {}", sheet.subtitle);
        assert!(!sheet.rows.is_empty(), "{slug}");
    }
    let sheet = assert_export_matches_page(&app, &t, "no-show-cancelled", &format!("{JAN}&poly_id=1&insurance_type=BPJS")).await;
    assert_eq!(sheet.rows.len(), 1);
    assert!(sheet.subtitle.contains("Poly: Poli Umum") && sheet.subtitle.contains("Insurance: BPJS"), "{}", sheet.subtitle);
    assert_eq!(sheet.header, ["Date", "Poly", "Total Reservations", "No-Show", "Cancelled", "No-Show + Cancelled (%)"]);

    // The header row (row 4) is frozen and carries the autofilter over the data; columns have
    // widths; the header is bold; dates have a date format and percentages two decimals.
    let xml = part(&sheet.bytes, "xl/worksheets/sheet1.xml");
    assert!(xml.contains(r#"ySplit="4""#) && xml.contains(r#"state="frozen""#), "{xml}");
    assert!(xml.contains(r#"<autoFilter ref="A4:F5"/>"#), "{xml}");
    assert!(xml.contains("<col ") && xml.contains("customWidth=\"1\""), "{xml}");
    let styles = part(&sheet.bytes, "xl/styles.xml");
    assert!(styles.contains("<b/>"), "{styles}");
    assert!(styles.contains(r#"formatCode="yyyy\-mm\-dd""#) || styles.contains(r#"formatCode="yyyy-mm-dd""#), "{styles}");
    assert!(styles.contains(r#"formatCode="0.00""#), "{styles}");
}

async fn a_browser_link_redirects_to_the_file(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    seed(&app, &t).await;
    let path = format!("/api/reports/waiting-time/export?{JAN}");
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = plain.get(format!("{}{path}", app.base)).bearer_auth(&t).send().await.unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("/exports/") && location.ends_with(".xlsx") || location.contains(".xlsx?"), "{location}");
    // Followed as a browser does (the default client follows redirects), the file arrives.
    let file = app.client.get(format!("{}{path}", app.base)).bearer_auth(&t).send().await.unwrap();
    assert_eq!(file.status(), 200);
    let sheet = read_xlsx(file.bytes().await.unwrap().to_vec());
    assert_eq!(sheet.rows.len(), 2);
    assert_eq!(sheet.header, ["Date", "Poly", "Average Wait (min)", "Longest Wait (min)", "Shortest Wait (min)"]);
    // The link alone works without the bearer token, and not when tampered with.
    let tampered = location.replace("signature=", "signature=00");
    assert_eq!(plain.get(&tampered).send().await.unwrap().status(), 403);
}

async fn bad_filters_get_422_that_says_why(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    seed(&app, &t).await;
    for (query, field, message) in [
        ("date_from=2026-02-01&date_to=2026-01-01", "date_to", "The date to field must be a date after or equal to date from."),
        ("date_from=2025-01-01&date_to=2026-01-02", "date_to", "The period from date from to date to must not be longer than 366 days."),
        ("date_from=2026-13-01&date_to=2026-01-02", "date_from", "The date from field must be a valid date in the format Y-m-d."),
        ("date_from=2026-01-01&date_to=2026-01-31&poly_id=7", "poly_id", "The selected poly id is invalid."),
        ("date_from=2026-01-01&date_to=2026-01-31&insurance_type=ASKES", "insurance_type", "The selected insurance type is invalid. Use BPJS or GENERAL."),
        ("date_from=2026-01-01&date_to=2026-01-31&status[]=42", "status", "The selected status '42' is invalid."),
        ("date_from=2026-01-01&date_to=2026-01-31&per_page=500", "per_page", "The per page field must not be greater than 100."),
    ] {
        let r = app.get(&format!("/api/reports/patient-visits?{query}"), &t).await;
        assert_error(&r, 422, message);
        assert_eq!(r.body["errors"][field][0], message, "{query}");
        if field != "per_page" {
            let e = app.get(&format!("/api/reports/patient-visits/export?{query}"), &t).await;
            assert_error(&e, 422, message);
        }
    }
    // 366 days exactly is fine (2024 is a leap year).
    let ok = app.get("/api/reports/busy-hour?date_from=2024-01-01&date_to=2024-12-31", &t).await;
    assert_eq!(ok.status, 200, "{ok:?}");
}

async fn reports_need_their_permissions(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let r = app
        .post(
            "/api/users",
            &t,
            json!({"name": "Nandar Sudjono", "username": "nandar", "email": "nandar@mail.com",
                   "password": "admin123", "password_confirmation": "admin123", "roles": [6]}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    // Administrasi (6) has neither reports.view nor reports.export nor audit.view.
    let admin_staff = app.token("nandar", "admin123").await;
    for slug in ["patient-visits", "no-show-cancelled", "bpjs-vs-general", "poly-performance", "waiting-time", "busy-hour", "user-activity"] {
        assert_error(&app.get(&format!("/api/reports/{slug}"), &admin_staff).await, 403, "This action is unauthorized.");
        assert_error(&app.get(&format!("/api/reports/{slug}/export"), &admin_staff).await, 403, "This action is unauthorized.");
    }
}

on_both_stores!(
    rollup_reports_show_the_hand_counted_rows,
    user_activity_lists_who_did_what,
    exports_equal_their_pages,
    a_browser_link_redirects_to_the_file,
    bad_filters_get_422_that_says_why,
    reports_need_their_permissions,
);

/// The S3 path, as the report Lambda runs it: the report group's routes with S3 as the blob
/// store (moto), an export written to the bucket under the clinic's prefix and fetched from
/// the presigned link it answers with.
mod s3 {
    use std::sync::Arc;

    use antrean_api::{ApiConfig, AppState, Group};
    use antrean_blobs::s3::S3Blobs;
    use antrean_domain::auth::token::TokenKeys;
    use antrean_domain::{Deps, SystemClock};
    use serde_json::Value;

    use super::{read_xlsx, JAN};
    use crate::helpers::ADMIN_PASSWORD;

    /// `moto_server` as the blob tests start it: `S3_ENDPOINT` if set, else `.tools/venv/bin/moto_server`.
    fn moto() -> antrean_testkit::moto::Moto {
        antrean_testkit::moto::moto("S3_ENDPOINT")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn exports_go_to_s3_behind_a_presigned_link() {
        let moto = moto();
        let bucket = format!("reports-{}", std::process::id());
        let blobs = S3Blobs::connect(&bucket, Some(&moto.endpoint)).await;
        blobs.client().create_bucket().bucket(&bucket).send().await.expect("create the bucket in moto");
        let client = blobs.client().clone();

        let dir = tempfile::tempdir().unwrap();
        let table = dev_server::open_store(&dev_server::StoreChoice::Embedded { data_dir: dir.path().to_path_buf() }).await.unwrap();
        let tokens = TokenKeys::new(&[9u8; 40], chrono::Duration::minutes(30)).unwrap();
        let deps = Deps { table, clock: Arc::new(SystemClock), tokens: Arc::new(tokens) };
        dev_server::bootstrap(&deps, Some(ADMIN_PASSWORD)).await.unwrap();
        let state = AppState { deps, config: Arc::new(ApiConfig::default()), live: antrean_live::Live::none(), blobs: Arc::new(blobs), webhooks: Arc::new(antrean_domain::webhook::http::ReqwestSender::standard().unwrap()) };
        let (router, _) = antrean_api::service::routes(&[Group::Auth, Group::MasterData, Group::Report]).split_for_parts();
        let app = antrean_api::service::finish(router, state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let http = reqwest::Client::new();
        let token = crate::helpers::login_token(&http, &base, serde_json::json!({"username": "superadmin", "password": ADMIN_PASSWORD})).await;
        for name in ["Poli Umum", "Poli Gigi"] {
            let r = http.post(format!("{base}/api/poly")).bearer_auth(&token).json(&serde_json::json!({"name": name})).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
        crate::dashboard::write_fixture(&dev_server::StoreChoice::Embedded { data_dir: dir.path().to_path_buf() }).await;

        let page: Value = http.get(format!("{base}/api/reports/busy-hour?{JAN}")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(page["data"].as_array().unwrap().len(), 2, "{page}");
        let res = http.get(format!("{base}/api/reports/busy-hour/export?{JAN}")).bearer_auth(&token).header("accept", "application/json").send().await.unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        let url = body["url"].as_str().expect("url").to_string();
        assert!(url.starts_with(&moto.endpoint) && url.contains("X-Amz-Signature="), "a presigned S3 link: {url}");

        // In the bucket, under the clinic's prefix, as an XLSX.
        let listed = client.list_objects_v2().bucket(&bucket).prefix("T#default/exports/").send().await.unwrap();
        let keys: Vec<String> = listed.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect();
        assert_eq!(keys.len(), 1, "{keys:?}");
        assert!(keys[0].ends_with("/busy-hour_2026-01-01_2026-01-31.xlsx"), "{keys:?}");
        let head = client.head_object().bucket(&bucket).key(&keys[0]).send().await.unwrap();
        assert_eq!(head.content_type(), Some(antrean_api::groups::report::XLSX));

        // The link downloads the file without any other credential; its rows are the page's.
        let file = http.get(&url).send().await.unwrap();
        assert_eq!(file.status(), 200);
        let sheet = read_xlsx(file.bytes().await.unwrap().to_vec());
        assert_eq!(sheet.rows.len(), 2);
        assert_eq!(sheet.rows[1][1], calamine::Data::String("Poli Umum".into()));
        assert_eq!(sheet.rows[1][10], calamine::Data::Float(2.0)); // 08:00
        assert_eq!(sheet.rows[1][26], calamine::Data::Float(page["data"][1]["total_reservations"].as_f64().unwrap()));

        // Without Accept: application/json, a redirect to the same kind of link.
        let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = no_follow.get(format!("{base}/api/reports/busy-hour/export?{JAN}")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 302);
        assert!(r.headers()["location"].to_str().unwrap().starts_with(&moto.endpoint));
        server.abort();
    }
}
