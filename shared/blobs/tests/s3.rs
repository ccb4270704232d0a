//! The S3 adapter against a real S3 API (moto). `S3_ENDPOINT` names a running one; otherwise
//! the test starts `moto_server` from `.tools/venv/bin` (`antrean_testkit::moto`). Nothing here
//! skips: without an S3 endpoint the test fails and says why.
#![cfg(feature = "s3")]
use std::time::Duration;

use antrean_blobs::s3::S3Blobs;
use antrean_blobs::{BlobKey, BlobStore};
use antrean_testkit::moto::moto;

#[tokio::test]
async fn put_presigned_download_and_delete_round_trip() {
    let moto = moto("S3_ENDPOINT");
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
