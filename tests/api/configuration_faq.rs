//! Seed section "Faq": multipart uploads to the dev server's local folder, download links,
//! replacement, delete, and uploads that must store nothing.
use std::path::PathBuf;

use dev_server::StoreChoice;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Reply, Store, TestApp};
use crate::on_both_stores;

const MAX: usize = 5 * 1024 * 1024;

fn pdf(len: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n".to_vec();
    b.extend((0..len.saturating_sub(b.len())).map(|i| (i % 251) as u8));
    b
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&[7u8; 300]);
    b
}

/// One form part: name, optional (file name, content type), bytes.
type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, Vec<u8>);

async fn send_form(app: &TestApp, method: Method, path: &str, token: &str, parts: Vec<Part<'_>>) -> Reply {
    let boundary = "----antrean-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some((file_name, content_type)) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(&bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let res = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .expect("request sent");
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text:?}"));
    Reply { status, headers, body }
}

/// Where this app keeps files (the dev server's rule: beside the store, per table on DynamoDB).
fn files_dir(app: &TestApp) -> PathBuf {
    match &app.config.store {
        StoreChoice::Embedded { data_dir } => data_dir.join("files"),
        StoreChoice::DynamoDb { table, .. } => PathBuf::from(std::env::var("DATA_DIR").unwrap_or_else(|_| "./.data".into())).join("files").join(table),
    }
}

fn stored_files(app: &TestApp) -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&files_dir(app), &mut out);
    out
}

/// Removes this test's files; on DynamoDB also the shared `./.data/files` (and `./.data`)
/// when nothing else is left in them.
fn clean_up(app: &TestApp) {
    let dir = files_dir(app);
    let _ = std::fs::remove_dir_all(&dir);
    if matches!(app.config.store, StoreChoice::DynamoDb { .. }) {
        for parent in dir.ancestors().skip(1).take(2) {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

async fn download(app: &TestApp, url: &str) -> (u16, String, Vec<u8>) {
    let res = app.client.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, ct, res.bytes().await.unwrap().to_vec())
}

fn is_stored_name(v: &Value, ext: &str) -> bool {
    // 1767944579_6960b183a35f1.pdf
    let s = v.as_str().unwrap_or("");
    let Some((stem, e)) = s.rsplit_once('.') else { return false };
    let Some((secs, hex)) = stem.split_once('_') else { return false };
    e == ext && secs.len() >= 10 && secs.chars().all(|c| c.is_ascii_digit()) && hex.len() == 13 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

async fn faq_upload_download_replace_and_delete(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    let original = pdf(300_000);
    let r = send_form(&app, Method::POST, "/api/faq", &t, vec![("name", None, b"faq ke 1".to_vec()), ("file", Some(("panduan.pdf", "application/pdf")), original.clone())]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "FAQ created successfully");
    let data = &r.body["data"];
    assert_eq!(data.as_object().unwrap().keys().collect::<Vec<_>>(), ["name", "file", "updated_at", "created_at", "id"]);
    assert_eq!((data["name"].as_str(), data["id"].as_i64()), (Some("faq ke 1"), Some(1)));
    assert!(is_stored_name(&data["file"], "pdf"), "{data}");
    let first_file = data["file"].as_str().unwrap().to_string();

    let list = app.get("/api/faq", &t).await;
    assert_eq!(list.body["message"], "FAQ list retrieved successfully");
    assert_eq!(
        list.body["data"][0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["id", "name", "file", "created_at", "updated_at", "deleted_at", "directory"]
    );
    let detail = app.get("/api/faq/1", &t).await;
    assert_eq!(detail.body["message"], "FAQ detail retrieved successfully");
    let link = detail.body["data"]["directory"].as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{}/files/", app.base)), "{link}");
    // The link downloads the very bytes, with no token.
    assert_eq!(download(&app, &link).await, (200, "application/pdf".into(), original.clone()));
    // A tampered link opens nothing; neither does a path that climbs out of the folder.
    let tampered = link.replace("signature=", "signature=00");
    assert_eq!(download(&app, &tampered).await.0, 403);
    let (_, query) = link.split_once('?').unwrap();
    assert_ne!(download(&app, &format!("{}/files/..%2F..%2Fjwt-secret?{query}", app.base)).await.0, 200);
    assert_ne!(download(&app, &format!("{}/files/%2E%2E/%2E%2E/etc/passwd?{query}", app.base)).await.0, 200);
    assert_eq!(stored_files(&app).len(), 1);

    // Update with a new file (as Laravel clients send it: POST with _method=PUT).
    let r = send_form(&app, Method::POST, "/api/faq/1", &t, vec![("_method", None, b"PUT".to_vec()), ("name", None, b"faq ke 1 (updated)".to_vec()), ("file", Some(("peta.png", "image/png")), png())]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["message"], "FAQ updated successfully");
    assert_eq!(r.body["data"]["name"], "faq ke 1 (updated)");
    assert!(is_stored_name(&r.body["data"]["file"], "png"));
    assert_eq!(download(&app, &link).await.0, 404, "the replaced file is gone");
    let link = app.get("/api/faq/1", &t).await.body["data"]["directory"].as_str().unwrap().to_string();
    assert_eq!(download(&app, &link).await, (200, "image/png".into(), png()));
    assert_eq!(stored_files(&app).len(), 1);
    assert!(!stored_files(&app)[0].ends_with(&first_file));
    // And with PUT itself.
    let r = send_form(&app, Method::PUT, "/api/faq/1", &t, vec![("name", None, b"faq final".to_vec()), ("file", Some(("a.pdf", "application/pdf")), pdf(1000))]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_error(&send_form(&app, Method::PUT, "/api/faq/9", &t, vec![("name", None, b"x".to_vec()), ("file", Some(("a.pdf", "application/pdf")), pdf(100))]).await, 404, "Faq not found");

    let del = app.delete("/api/faq/1", &t).await;
    assert_eq!(del.body, json!({"status": "success", "message": "Faq deleted successfully"}));
    assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));
    assert_error(&app.get("/api/faq/1", &t).await, 404, "Faq not found");
    assert_error(&app.delete("/api/faq/1", &t).await, 404, "Faq not found");
    clean_up(&app);
}

async fn bad_uploads_get_422_and_store_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let t = app.admin_token().await;
    // No file.
    let r = send_form(&app, Method::POST, "/api/faq", &t, vec![("name", None, b"faq".to_vec())]).await;
    assert_error(&r, 422, "The file field is required.");
    assert_eq!(r.body["errors"], json!({"file": ["The file field is required."]}));
    let r = app.post("/api/faq", &t, json!({"name": "faq"})).await;
    assert_error(&r, 422, "The file field is required.");
    // A program named .pdf and declared as a PDF: judged by its bytes.
    let exe = [b"MZ\x90\x00".to_vec(), vec![0u8; 2000]].concat();
    let r = send_form(&app, Method::POST, "/api/faq", &t, vec![("name", None, b"faq".to_vec()), ("file", Some(("panduan.pdf", "application/pdf")), exe)]).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body["errors"]["file"][0].as_str().unwrap().starts_with("The file field must be a file of type: pdf"), "{r:?}");
    // A PDF that claims to be a PNG.
    let r = send_form(&app, Method::POST, "/api/faq", &t, vec![("name", None, b"faq".to_vec()), ("file", Some(("x.png", "image/png")), pdf(100))]).await;
    assert_error(&r, 422, "The file field was sent as image/png but its content is application/pdf.");
    // One byte over 5 MB.
    let r = send_form(&app, Method::POST, "/api/faq", &t, vec![("name", None, b"faq".to_vec()), ("file", Some(("big.pdf", "application/pdf")), pdf(MAX + 1))]).await;
    assert_error(&r, 422, "The file field must not be greater than 5120 kilobytes.");
    // Exactly 5 MB is fine; then a bad update leaves it as it was.
    let r = send_form(&app, Method::POST, "/api/faq", &t, vec![("name", None, b"besar".to_vec()), ("file", Some(("big.pdf", "application/pdf")), pdf(MAX))]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let file = r.body["data"]["file"].clone();
    assert_eq!(stored_files(&app).len(), 1);
    let r = send_form(&app, Method::PUT, "/api/faq/1", &t, vec![("name", None, b"ganti".to_vec()), ("file", Some(("x.txt", "text/plain")), b"hello".to_vec())]).await;
    assert_eq!(r.status, 422);
    let r = send_form(&app, Method::PUT, "/api/faq/1", &t, vec![("name", None, b"ganti".to_vec())]).await;
    assert_error(&r, 422, "The file field is required.");
    let detail = app.get("/api/faq/1", &t).await;
    assert_eq!((detail.body["data"]["name"].as_str(), &detail.body["data"]["file"]), (Some("besar"), &file));
    assert_eq!(stored_files(&app).len(), 1, "no blob from the failed attempts");
    assert_eq!(app.get("/api/faq", &t).await.body["data"].as_array().unwrap().len(), 1);
    // The failed creates burned no id.
    let r = send_form(&app, Method::POST, "/api/faq", &t, vec![("name", None, b"kecil".to_vec()), ("file", Some(("k.png", "image/png")), png())]).await;
    assert_eq!(r.body["data"]["id"], 2);
    clean_up(&app);
}

on_both_stores!(faq_upload_download_replace_and_delete, bad_uploads_get_422_and_store_nothing);
