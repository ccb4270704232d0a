//! The S3 adapter: one bucket (`FILES_BUCKET`), keys as the domain chose them, downloads by
//! presigned GET URLs. `S3_ENDPOINT` points it at moto (or any S3-compatible server); then
//! path-style addressing is used and, without AWS credentials in the environment, dummy ones.
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use crate::{BlobError, BlobKey, BlobStore};

pub struct S3Blobs {
    client: Client,
    bucket: String,
}

fn unavailable(e: impl std::fmt::Display) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

/// The whole error chain: the SDK's Display alone often says just "service error".
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Blobs { client, bucket: bucket.into() }
    }

    pub async fn connect(bucket: &str, endpoint: Option<&str>) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
            if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
                loader = loader.region(aws_config::Region::new("us-east-1"));
            }
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new("local", "local", None, None, "s3-local"));
            }
        }
        let shared = loader.load().await;
        // S3 out of reach must not hold a request until API Gateway's 29 s: connecting gets 2 s,
        // a whole call (the SDK's standard 3 attempts included) 20 s, enough for a 16 MB upload.
        let timeouts = aws_sdk_s3::config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(2))
            .operation_timeout(Duration::from_secs(20))
            .build();
        let config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(endpoint.is_some()).timeout_config(timeouts).build();
        S3Blobs::new(Client::from_conf(config), bucket)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(describe(&e)))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        // S3 answers success for a missing key, as the port asks.
        self.client.delete_object().bucket(&self.bucket).key(key.as_str()).send().await.map(|_| ()).map_err(|e| unavailable(describe(&e)))
    }

    async fn download_url(&self, key: &BlobKey, _base_url: &str, ttl: Duration) -> Result<String, BlobError> {
        let presigning = PresigningConfig::expires_in(ttl).map_err(unavailable)?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(presigning)
            .await
            .map_err(|e| unavailable(describe(&e)))?;
        Ok(req.uri().to_string())
    }

    fn kind(&self) -> &'static str {
        "s3"
    }
}
