//! The blob port: uploaded files (FAQ documents) live outside the table. Two adapters:
//! S3 (`s3` feature: presigned GET URLs) and a local folder (`local` feature) that the dev
//! server serves under `/files/...` with signed, expiring URLs, so both hand clients the
//! same kind of short-lived link.
//!
//! Keys are chosen by the domain and always start with the clinic (`T#<clinic>/faq/...`);
//! `BlobKey` only checks that a key is a safe relative path.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "s3")]
pub mod s3;

/// How long a download link works.
pub const DOWNLOAD_TTL: Duration = Duration::from_secs(15 * 60);

/// A blob's key: `/`-separated segments of `A-Z a-z 0-9 . _ - #`, none empty, `.` or `..`,
/// so it can never leave its folder or bucket prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    pub fn new(key: impl Into<String>) -> Result<BlobKey, BlobError> {
        let key = key.into();
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '#');
        let ok = !key.is_empty()
            && key.len() <= 1024
            && key.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != ".." && seg.chars().all(ok_char));
        if ok {
            Ok(BlobKey(key))
        } else {
            Err(BlobError::InvalidKey(key))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key with each segment percent-encoded for a URL path (`#` becomes `%23`).
    pub fn url_path(&self) -> String {
        self.0.split('/').map(encode_segment).collect::<Vec<_>>().join("/")
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn encode_segment(seg: &str) -> String {
    let mut out = String::with_capacity(seg.len());
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum BlobError {
    #[error("invalid blob key {0:?}")]
    InvalidKey(String),
    /// The store could not be reached or failed; the detail is for the log.
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
    /// This host has no file storage (a Lambda without `FILES_BUCKET`): a deployment mistake,
    /// not a passing fault.
    #[error("no file storage configured (set FILES_BUCKET)")]
    NotConfigured,
}

/// The port. `Send + Sync`: one instance serves every request.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores (or replaces) the blob.
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    /// Removes the blob; a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;
    /// A URL that downloads the blob without other credentials for `ttl`. `base_url`
    /// (`http://host:port`) is where the request came in; the local adapter links there,
    /// S3 ignores it.
    async fn download_url(&self, key: &BlobKey, base_url: &str, ttl: Duration) -> Result<String, BlobError>;
    /// A short name for logs ("s3", "local", "none").
    fn kind(&self) -> &'static str;
}

/// For hosts without file storage (a Lambda without `FILES_BUCKET`): every call fails, so an
/// upload answers 500 and stores nothing.
pub struct NoBlobs;

#[async_trait]
impl BlobStore for NoBlobs {
    async fn put(&self, _: &BlobKey, _: Vec<u8>, _: &str) -> Result<(), BlobError> {
        Err(BlobError::NotConfigured)
    }
    async fn delete(&self, _: &BlobKey) -> Result<(), BlobError> {
        Err(BlobError::NotConfigured)
    }
    async fn download_url(&self, _: &BlobKey, _: &str, _: Duration) -> Result<String, BlobError> {
        Err(BlobError::NotConfigured)
    }
    fn kind(&self) -> &'static str {
        "none"
    }
}

/// Where files go, from the environment: S3 when `FILES_BUCKET` is set (endpoint override
/// `S3_ENDPOINT`, e.g. moto), else the given local folder.
#[derive(Debug, Clone, PartialEq)]
pub enum BlobChoice {
    S3 { bucket: String, endpoint: Option<String> },
    Local { dir: PathBuf },
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl BlobChoice {
    pub fn from_env(local_dir: PathBuf) -> BlobChoice {
        match env("FILES_BUCKET") {
            Some(bucket) => BlobChoice::S3 { bucket, endpoint: env("S3_ENDPOINT") },
            None => BlobChoice::Local { dir: local_dir },
        }
    }
}

/// An opened blob store and, for the local folder, the routes that serve it.
#[derive(Clone)]
pub struct Blobs {
    pub store: Arc<dyn BlobStore>,
    #[cfg(feature = "local")]
    local: Option<Arc<local::LocalBlobs>>,
}

impl Blobs {
    pub fn none() -> Blobs {
        Blobs {
            store: Arc::new(NoBlobs),
            #[cfg(feature = "local")]
            local: None,
        }
    }

    /// Opens the chosen adapter. A choice whose adapter is not compiled in is an error.
    pub async fn open(choice: &BlobChoice) -> Result<Blobs, String> {
        match choice {
            #[cfg(feature = "s3")]
            BlobChoice::S3 { bucket, endpoint } => {
                let s3 = s3::S3Blobs::connect(bucket, endpoint.as_deref()).await;
                Ok(Blobs {
                    store: Arc::new(s3),
                    #[cfg(feature = "local")]
                    local: None,
                })
            }
            #[cfg(feature = "local")]
            BlobChoice::Local { dir } => {
                let local = Arc::new(local::LocalBlobs::open(dir).map_err(|e| format!("cannot use {} for files: {e}", dir.display()))?);
                Ok(Blobs { store: local.clone(), local: Some(local) })
            }
            #[allow(unreachable_patterns)]
            other => Err(format!("this build cannot store files as {other:?}")),
        }
    }

    /// The `/files/...` download route when files are in a local folder; no routes otherwise.
    #[cfg(feature = "local")]
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        match &self.local {
            Some(l) => local::routes(l.clone()),
            None => axum::Router::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape() {
        assert!(BlobKey::new("T#default/faq/1767944579_6960b183a35f1.pdf").is_ok());
        for bad in ["", "/abs", "a//b", "a/../b", "..", "./a", "a/.", "a\\b", "a/b c", "a/\u{0}", "é"] {
            assert!(BlobKey::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(BlobKey::new("T#x/faq/a.pdf").unwrap().url_path(), "T%23x/faq/a.pdf");
    }
}
