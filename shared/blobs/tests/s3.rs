//! The S3 adapter against a real S3 API (moto). `S3_ENDPOINT` names a running one; otherwise
//! the test starts `moto_server` from `.tools/venv/bin` (install: `python3 -m venv .tools/venv
//! && .tools/venv/bin/pip install 'moto[server]'`) on a free port. Nothing here skips: without
//! an S3 endpoint the test fails and says why.
#![cfg(feature = "s3")]
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use antrean_blobs::s3::S3Blobs;
use antrean_blobs::{BlobKey, BlobStore};

struct Moto {
    endpoint: String,
    child: Option<Child>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn moto() -> Moto {
    if let Some(e) = std::env::var("S3_ENDPOINT").ok().filter(|e| !e.trim().is_empty()) {
        return Moto { endpoint: e, child: None };
    }
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/moto_server");
    assert!(
        bin.is_file(),
        "no S3 endpoint: set S3_ENDPOINT, or install moto with `python3 -m venv .tools/venv && .tools/venv/bin/pip install 'moto[server]'` ({} is missing)",
        bin.display()
    );
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let moto = Moto { endpoint: format!("http://127.0.0.1:{port}"), child: Some(child) };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(60), "moto_server did not answer on port {port} within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

#[tokio::test]
async fn put_presigned_download_and_delete_round_trip() {
    let moto = moto();
    let bucket = format!("files-{:x}", rand_suffix());
    let store = S3Blobs::connect(&bucket, Some(&moto.endpoint)).await;
    store.client().create_bucket().bucket(&bucket).send().await.expect("create the bucket in moto");

    let key = BlobKey::new("T#default/faq/1767944579_6960b183a35f1.pdf").unwrap();
    let bytes: Vec<u8> = b"%PDF-1.4\n".iter().copied().chain((0..200_000u32).map(|i| (i % 251) as u8)).collect();
    store.put(&key, bytes.clone(), "application/pdf").await.expect("put");

    let url = store.download_url(&key, "http://ignored", Duration::from_secs(300)).await.expect("presign");
    assert!(url.starts_with(&moto.endpoint) && url.contains("X-Amz-Signature="), "{url}");
    let client = reqwest::Client::new();
    let res = client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes, "the download is the upload");

    store.delete(&key).await.expect("delete");
    assert_eq!(client.get(&url).send().await.unwrap().status(), 404, "gone after delete");
    store.delete(&key).await.expect("deleting a missing blob is not an error");
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 ^ u64::from(std::process::id())
}
