//! FAQ documents: a name and an uploaded file (a PDF or an image, at most 5 MB). The file
//! goes to the blob port under `T#<clinic>/faq/<stored name>`; the record keeps the stored
//! name (`1767944579_6960b183a35f1.pdf`, as the seed shows). The type is judged by the file's
//! first bytes, not by its name or declared type.
//!
//! Order of writes: the blob first, then the record. When the record cannot be written the
//! blob is removed again, so a failed upload leaves nothing behind. A replaced or deleted
//! FAQ's old blob is removed after the record changed (a failure there only leaves an
//! unreachable file, logged).
use std::sync::Mutex;

use antrean_blobs::{BlobKey, BlobStore, DOWNLOAD_TTL};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::Actor;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{self, Record, Stored};
use crate::tenant::Tenant;
use crate::{validate, Deps};

pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
const TYPES_MESSAGE: &str = "The file field must be a file of type: pdf, jpg, jpeg, png, gif, webp (judged by its content, not its name).";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Faq {
    pub name: String,
    /// The stored file name, unique: `<unix seconds>_<13 hex>.<ext>`.
    pub file: String,
}

impl Record for Faq {
    const KIND: &'static str = "FAQ";
    const LABEL: &'static str = "Faq";
}

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl FileKind {
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        if bytes.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(FileKind::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(FileKind::Webp)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpg",
            FileKind::Gif => "gif",
            FileKind::Webp => "webp",
        }
    }

    /// Whether a declared content type names this kind (common aliases included).
    fn declared_as(self, declared: &str) -> bool {
        let d = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        d == self.mime() || (self == FileKind::Jpeg && matches!(d.as_str(), "image/jpg" | "image/pjpeg"))
    }
}

/// The `file` part of a form, as the HTTP layer received it.
#[derive(Debug, Clone, PartialEq)]
pub enum FilePart {
    Missing,
    /// A plain text field named `file`.
    NotAFile,
    Upload {
        declared_type: Option<String>,
        /// At most `MAX_FILE_BYTES + 1` bytes: the reader stops keeping bytes past the limit.
        bytes: Vec<u8>,
        /// The real size, counted to the end.
        size: usize,
    },
}

/// A checked create or update form.
#[derive(Debug, Clone)]
pub struct FaqForm {
    pub name: String,
    kind: FileKind,
    bytes: Vec<u8>,
}

impl FaqForm {
    /// `fields` holds the text fields (`{"name": …}`); every problem is reported at once.
    pub fn parse(fields: &Value, file: FilePart) -> DomainResult<FaqForm> {
        let mut errors = FieldErrors::new();
        let name = validate::required_string(&mut errors, fields, "name", 255);
        let checked = match file {
            FilePart::Missing => {
                errors.add("file", "The file field is required.");
                None
            }
            FilePart::NotAFile => {
                errors.add("file", "The file field must be a file.");
                None
            }
            FilePart::Upload { size: 0, .. } => {
                errors.add("file", "The file field is required.");
                None
            }
            FilePart::Upload { size, .. } if size > MAX_FILE_BYTES => {
                errors.add("file", format!("The file field must not be greater than {} kilobytes.", MAX_FILE_BYTES / 1024));
                None
            }
            FilePart::Upload { declared_type, bytes, .. } => match FileKind::sniff(&bytes) {
                None => {
                    errors.add("file", TYPES_MESSAGE);
                    None
                }
                Some(kind) => match declared_type.as_deref().map(str::trim).filter(|d| !d.is_empty() && *d != "application/octet-stream") {
                    Some(d) if !kind.declared_as(d) => {
                        errors.add("file", format!("The file field was sent as {d} but its content is {}.", kind.mime()));
                        None
                    }
                    _ => Some((kind, bytes)),
                },
            },
        };
        errors.into_result()?;
        let (kind, bytes) = checked.expect("no errors means a checked file");
        Ok(FaqForm { name: name.unwrap_or_default(), kind, bytes })
    }
}

/// Where a FAQ file lives in the blob store.
pub fn blob_key(tenant: &Tenant, file: &str) -> DomainResult<BlobKey> {
    BlobKey::new(format!("T#{}/faq/{file}", tenant.slug())).map_err(|e| DomainError::Internal(e.to_string()))
}

/// Like Laravel's `time().'_'.uniqid()`: seconds, then 13 hex digits (random here).
fn stored_name(deps: &Deps, kind: FileKind) -> String {
    let hex = format!("{:016x}", rand::random::<u64>());
    format!("{}_{}.{}", deps.clock.now().timestamp(), &hex[..13], kind.extension())
}

async fn remove_quietly(blobs: &dyn BlobStore, key: &BlobKey) {
    if let Err(e) = blobs.delete(key).await {
        tracing::warn!(key = %key, error = %e, "could not remove a FAQ file; it is left unreachable");
    }
}

/// Writes the form's file under a new name; returns the name and key.
async fn put_file(deps: &Deps, blobs: &dyn BlobStore, tenant: &Tenant, form: &FaqForm) -> DomainResult<(String, BlobKey)> {
    let file = stored_name(deps, form.kind);
    let key = blob_key(tenant, &file)?;
    blobs.put(&key, form.bytes.clone(), form.kind.mime()).await.map_err(DomainError::from)?;
    Ok((file, key))
}

pub async fn create(deps: &Deps, blobs: &dyn BlobStore, tenant: &Tenant, actor: &Actor, form: FaqForm) -> DomainResult<Stored<Faq>> {
    let (file, key) = put_file(deps, blobs, tenant, &form).await?;
    match record::create(deps, tenant, actor, Faq { name: form.name, file }, |_| vec![]).await {
        Ok(s) => Ok(s),
        Err(e) => {
            remove_quietly(blobs, &key).await;
            Err(e)
        }
    }
}

pub async fn update(deps: &Deps, blobs: &dyn BlobStore, tenant: &Tenant, actor: &Actor, id: i64, form: FaqForm) -> DomainResult<Stored<Faq>> {
    let (file, key) = put_file(deps, blobs, tenant, &form).await?;
    // The file the record held when the winning write read it: that one is replaced.
    let replaced: Mutex<Option<String>> = Mutex::new(None);
    let result = record::update::<Faq>(deps, tenant, actor, id, |current| {
        *replaced.lock().unwrap_or_else(|e| e.into_inner()) = Some(current.data.file.clone());
        Ok((Faq { name: form.name.clone(), file: file.clone() }, vec![]))
    })
    .await;
    match result {
        Ok(s) => {
            if let Some(old) = replaced.into_inner().unwrap_or_else(|e| e.into_inner()).filter(|old| *old != file) {
                remove_quietly(blobs, &blob_key(tenant, &old)?).await;
            }
            Ok(s)
        }
        Err(e) => {
            remove_quietly(blobs, &key).await;
            Err(e)
        }
    }
}

/// Hard delete: the record, then its file.
pub async fn delete(deps: &Deps, blobs: &dyn BlobStore, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    let current = record::find::<Faq>(deps, tenant, id).await?;
    record::delete::<Faq>(deps, tenant, actor, id).await?;
    remove_quietly(blobs, &blob_key(tenant, &current.data.file)?).await;
    Ok(())
}

/// A short-lived link that downloads the FAQ's file (`base_url`: where the request came in).
pub async fn download_url(blobs: &dyn BlobStore, tenant: &Tenant, faq: &Faq, base_url: &str) -> DomainResult<String> {
    blobs.download_url(&blob_key(tenant, &faq.file)?, base_url, DOWNLOAD_TTL).await.map_err(DomainError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn upload(bytes: &[u8], declared: Option<&str>) -> FilePart {
        FilePart::Upload { declared_type: declared.map(str::to_string), bytes: bytes.to_vec(), size: bytes.len() }
    }

    fn file_error(part: FilePart) -> String {
        match FaqForm::parse(&json!({"name": "x"}), part) {
            Err(DomainError::Validation(e)) => e.0["file"][0].as_str().unwrap().to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn content_decides_the_type() {
        assert!(FaqForm::parse(&json!({"name": "faq"}), upload(b"%PDF-1.7 ...", Some("application/pdf"))).is_ok());
        assert!(FaqForm::parse(&json!({"name": "faq"}), upload(b"\xFF\xD8\xFF\xE0....", Some("image/jpg"))).is_ok());
        assert!(FaqForm::parse(&json!({"name": "faq"}), upload(b"RIFF\0\0\0\0WEBPVP8 ", None)).is_ok());
        assert!(file_error(upload(b"MZ\x90\0 an exe", Some("application/pdf"))).starts_with("The file field must be a file of type: pdf"));
        assert!(file_error(upload(b"<svg onload=alert(1)>", Some("image/svg+xml"))).starts_with("The file field must be a file of type"));
        assert_eq!(file_error(upload(b"%PDF-1.4", Some("image/png"))), "The file field was sent as image/png but its content is application/pdf.");
        let big = FilePart::Upload { declared_type: None, bytes: b"%PDF-".to_vec(), size: MAX_FILE_BYTES + 1 };
        assert_eq!(file_error(big), "The file field must not be greater than 5120 kilobytes.");
        assert_eq!(file_error(FilePart::Missing), "The file field is required.");
        assert_eq!(file_error(FilePart::NotAFile), "The file field must be a file.");
        assert_eq!(file_error(upload(b"", None)), "The file field is required.");
    }
}
