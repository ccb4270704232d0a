//! The local-folder adapter: blobs are files under one folder (`DATA_DIR/files`), served by
//! the dev server at `GET /files/<key>?expires=<unix>&signature=<hmac>`. Like an S3
//! presigned URL the link works only until it expires and only for the key it was made for;
//! the signing secret is new each start, so a restart ends every outstanding link.
//!
//! A key is a checked relative path (`BlobKey`): no `..`, no empty or absolute segments, so a
//! URL can never reach outside the folder; the resolved file is checked once more against
//! the folder after symlinks are followed.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::extract::{Path as UrlPath, Query};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{BlobError, BlobKey, BlobStore};

/// Where the dev server serves the folder.
pub const ROUTE_PREFIX: &str = "/files";

pub struct LocalBlobs {
    dir: PathBuf,
    secret: [u8; 32],
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn unavailable(e: impl std::fmt::Display) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

impl LocalBlobs {
    /// Uses `dir`, created with the first file (so a server that stores none leaves no folder).
    pub fn open(dir: &Path) -> std::io::Result<LocalBlobs> {
        Ok(LocalBlobs { dir: std::path::absolute(dir)?, secret: rand::random() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a key names (inside the folder by construction of `BlobKey`).
    pub fn path_of(&self, key: &BlobKey) -> PathBuf {
        key.as_str().split('/').fold(self.dir.clone(), |p, seg| p.join(seg))
    }

    fn signature(&self, key: &str, expires: u64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn signature_holds(&self, key: &str, expires: u64, given: &str) -> bool {
        let Ok(given) = hex::decode(given) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac.verify_slice(&given).is_ok()
    }

    /// The signed path and query for a key, valid for `ttl`.
    pub fn signed_path(&self, key: &BlobKey, ttl: Duration) -> String {
        let expires = unix_now() + ttl.as_secs().max(1);
        format!("{ROUTE_PREFIX}/{}?expires={expires}&signature={}", key.url_path(), self.signature(key.as_str(), expires))
    }

    /// Reads a blob for a download request, after checking the link.
    async fn open_for_download(&self, raw_key: &str, expires: Option<&str>, signature: Option<&str>) -> Result<(Vec<u8>, &'static str), Refusal> {
        let key = BlobKey::new(raw_key).map_err(|_| Refusal::NotFound)?;
        let expires: u64 = expires.and_then(|e| e.parse().ok()).ok_or(Refusal::BadLink)?;
        if !self.signature_holds(key.as_str(), expires, signature.unwrap_or("")) || expires < unix_now() {
            return Err(Refusal::BadLink);
        }
        let path = self.path_of(&key);
        // Defence in depth: after symlinks, the file must still be inside the folder.
        let root = tokio::fs::canonicalize(&self.dir).await.map_err(|_| Refusal::NotFound)?;
        let real = tokio::fs::canonicalize(&path).await.map_err(|_| Refusal::NotFound)?;
        if !real.starts_with(&root) || !real.is_file() {
            return Err(Refusal::NotFound);
        }
        let bytes = tokio::fs::read(&real).await.map_err(|_| Refusal::NotFound)?;
        Ok((bytes, content_type_of(key.as_str())))
    }
}

/// The type served for a stored name. Only types the product accepts are named; anything
/// else is served as opaque bytes.
fn content_type_of(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        let path = self.path_of(key);
        let parent = path.parent().ok_or_else(|| unavailable("a key needs a parent folder"))?;
        tokio::fs::create_dir_all(parent).await.map_err(unavailable)?;
        // Write beside, then rename: a reader never sees half a file.
        let tmp = parent.join(format!(".upload-{:016x}", rand::random::<u64>()));
        tokio::fs::write(&tmp, &bytes).await.map_err(unavailable)?;
        if let Err(e) = tokio::fs::rename(&tmp, &path).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(unavailable(e));
        }
        Ok(())
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path_of(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn download_url(&self, key: &BlobKey, base_url: &str, ttl: Duration) -> Result<String, BlobError> {
        Ok(format!("{}{}", base_url.trim_end_matches('/'), self.signed_path(key, ttl)))
    }

    fn kind(&self) -> &'static str {
        "local"
    }
}

enum Refusal {
    NotFound,
    BadLink,
}

fn json_error(status: StatusCode, message: &str) -> Response {
    // The seed's envelope; the messages are fixed strings with nothing to escape.
    let body = format!("{{\"status\":\"error\",\"message\":\"{message}\"}}");
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /files/{*key}`: the download route for links made by `download_url`.
pub fn routes<S: Clone + Send + Sync + 'static>(store: Arc<LocalBlobs>) -> Router<S> {
    Router::new().route(
        &format!("{ROUTE_PREFIX}/{{*key}}"),
        get(move |UrlPath(key): UrlPath<String>, Query(q): Query<std::collections::HashMap<String, String>>| {
            let store = store.clone();
            async move {
                match store.open_for_download(&key, q.get("expires").map(String::as_str), q.get("signature").map(String::as_str)).await {
                    Ok((bytes, content_type)) => {
                        let mut res = (StatusCode::OK, bytes).into_response();
                        let h = res.headers_mut();
                        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
                        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
                        h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
                        res
                    }
                    Err(Refusal::NotFound) => json_error(StatusCode::NOT_FOUND, "File not found"),
                    Err(Refusal::BadLink) => json_error(StatusCode::FORBIDDEN, "The download link is invalid or has expired."),
                }
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn signed_links_open_only_their_key_until_they_expire() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobs::open(dir.path()).unwrap();
        let key = BlobKey::new("T#a/faq/x.pdf").unwrap();
        store.put(&key, b"%PDF-1.4 hello".to_vec(), "application/pdf").await.unwrap();
        let path = store.signed_path(&key, Duration::from_secs(60));
        let (_, query) = path.split_once('?').unwrap();
        let params: std::collections::HashMap<_, _> = query.split('&').filter_map(|p| p.split_once('=')).collect();
        let (e, s) = (params.get("expires").copied(), params.get("signature").copied());
        let (bytes, ct) = store.open_for_download("T#a/faq/x.pdf", e, s).await.ok().unwrap();
        assert_eq!((bytes.as_slice(), ct), (&b"%PDF-1.4 hello"[..], "application/pdf"));
        // Another key with the same signature, a changed expiry, a traversal: refused.
        assert!(matches!(store.open_for_download("T#b/faq/x.pdf", e, s).await, Err(Refusal::BadLink)));
        assert!(matches!(store.open_for_download("T#a/faq/x.pdf", Some("99999999999"), s).await, Err(Refusal::BadLink)));
        assert!(matches!(store.open_for_download("T#a/../../etc/passwd", e, s).await, Err(Refusal::NotFound)));
        // An expired link, even correctly signed.
        let past = unix_now() - 1;
        let sig = store.signature("T#a/faq/x.pdf", past);
        assert!(matches!(store.open_for_download("T#a/faq/x.pdf", Some(&past.to_string()), Some(&sig)).await, Err(Refusal::BadLink)));
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert!(!store.path_of(&key).exists());
    }
}
