//! FAQ (seed "Faq"): select, detail, create, update, delete (hard). Create and update take
//! `multipart/form-data` with `name` and `file` (a PDF or an image, at most 5 MB, judged by
//! its content). `directory` is a short-lived download link (S3 presigned, or the dev
//! server's signed `/files/...`).
//!
//! Because PHP cannot read multipart bodies on PUT, Laravel clients send
//! `POST /api/faq/{id}` with `_method=PUT`; that is accepted as the update too.
use antrean_domain::configuration::faq::{self, Faq, FaqForm, FilePart, MAX_FILE_BYTES};
use antrean_domain::permission::Permission;
use antrean_domain::record::{self, Stored};
use antrean_domain::Tenant;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::or_not_found;
use super::paginate::RequestUrl;
use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

const NOT_FOUND: &str = "Faq not found";
/// Bodies up to this size are read to the end so an oversized file gets the 422 that says
/// why; beyond it the request is cut off with a 413.
const BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Text fields keep at most this much (a longer `name` fails its own rule anyway).
const TEXT_LIMIT: usize = 64 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(select, create))
        .routes(routes!(detail, update, delete, update_laravel_style))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// A FAQ as the seed shows it in select and detail.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqView {
    pub id: i64,
    pub name: String,
    /// The stored file name.
    pub file: String,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
    /// A link that downloads the file for 15 minutes.
    pub directory: String,
}

/// The create response, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqCreated {
    pub name: String,
    pub file: String,
    pub updated_at: String,
    pub created_at: String,
    pub id: i64,
}

/// The update response, as the seed shows it (no `directory`).
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqUpdated {
    pub id: i64,
    pub name: String,
    pub file: String,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

impl From<Stored<Faq>> for FaqUpdated {
    fn from(s: Stored<Faq>) -> Self {
        FaqUpdated { id: s.id, name: s.data.name, file: s.data.file, created_at: s.created_at, updated_at: s.updated_at, deleted_at: s.deleted_at }
    }
}

/// The multipart form.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct FaqUpload {
    /// At most 255 characters.
    pub name: String,
    /// PDF, JPEG, PNG, GIF or WebP (by content), at most 5 MB.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

async fn view(s: &AppState, tenant: &Tenant, url: &RequestUrl, f: Stored<Faq>) -> ApiResult<FaqView> {
    let directory = faq::download_url(s.blobs.as_ref(), tenant, &f.data, &url.base).await?;
    Ok(FaqView { id: f.id, name: f.data.name, file: f.data.file, created_at: f.created_at, updated_at: f.updated_at, deleted_at: f.deleted_at, directory })
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.")
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "The request body is not valid multipart/form-data.")
    }
}

/// The text fields and the file part of a multipart body. A JSON body (the seed's header
/// also names JSON) is read for its text fields; it cannot carry a file.
async fn read_form(req: Request) -> ApiResult<(Value, FilePart)> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if !content_type.starts_with("multipart/form-data") {
        if !content_type.is_empty() && !content_type.starts_with("application/json") {
            return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "The request body must be multipart/form-data."));
        }
        let JsonBody(body) = JsonBody::from_request(req, &()).await?;
        let file = if body.get("file").is_some_and(|f| !f.is_null()) { FilePart::NotAFile } else { FilePart::Missing };
        return Ok((body, file));
    }
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "The request body is not valid multipart/form-data."))?;
    let mut fields = Map::new();
    let mut file = FilePart::Missing;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_string();
        let is_upload = field.file_name().is_some();
        if name == "file" && is_upload {
            let declared_type = field.content_type().map(str::to_string);
            let (mut bytes, mut size) = (Vec::new(), 0usize);
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                size += chunk.len();
                // Keep one byte past the limit at most: enough to know it is too big.
                let room = (MAX_FILE_BYTES + 1).saturating_sub(bytes.len());
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            file = FilePart::Upload { declared_type, bytes, size };
            continue;
        }
        let mut text = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            let room = TEXT_LIMIT.saturating_sub(text.len());
            text.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        if name == "file" {
            // A text field named `file`: empty counts as absent, as Laravel sees it.
            file = if text.is_empty() { FilePart::Missing } else { FilePart::NotAFile };
        } else if name == "name" || name == "_method" {
            fields.insert(name, Value::String(text));
        }
    }
    Ok((Value::Object(fields), file))
}

#[utoipa::path(get, path = "/api/faq", tag = "Faq", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<FaqView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn select(State(s): State<AppState>, caller: Caller, url: RequestUrl) -> ApiResult<Json<MessageData<Vec<FaqView>>>> {
    caller.require(Permission::ConfigView)?;
    let list = record::list::<Faq>(&s.deps, &caller.tenant, false).await?;
    let mut out = Vec::with_capacity(list.len());
    for f in list {
        out.push(view(&s, &caller.tenant, &url, f).await?);
    }
    Ok(Json(envelope::message_data("FAQ list retrieved successfully", out)))
}

#[utoipa::path(post, path = "/api/faq", tag = "Faq", request_body(content = FaqUpload, content_type = "multipart/form-data"), security(("bearer" = [])),
    responses((status = 200, body = MessageData<FaqCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, req: Request) -> ApiResult<Json<MessageData<FaqCreated>>> {
    caller.require(Permission::ConfigManage)?;
    let (fields, file) = read_form(req).await?;
    let form = FaqForm::parse(&fields, file)?;
    let stored = faq::create(&s.deps, s.blobs.as_ref(), &caller.tenant, &caller.actor, form).await?;
    Ok(Json(envelope::message_data(
        "FAQ created successfully",
        FaqCreated { name: stored.data.name, file: stored.data.file, updated_at: stored.updated_at, created_at: stored.created_at, id: stored.id },
    )))
}

#[utoipa::path(get, path = "/api/faq/{id}", tag = "Faq", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MessageData<FaqView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn detail(State(s): State<AppState>, caller: Caller, url: RequestUrl, Path(id): Path<String>) -> ApiResult<Json<MessageData<FaqView>>> {
    caller.require(Permission::ConfigView)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let f = or_not_found(record::find::<Faq>(&s.deps, &caller.tenant, id).await, NOT_FOUND)?;
    Ok(Json(envelope::message_data("FAQ detail retrieved successfully", view(&s, &caller.tenant, &url, f).await?)))
}

async fn apply_update(s: &AppState, caller: &Caller, id: i64, fields: Value, file: FilePart) -> ApiResult<Json<MessageData<FaqUpdated>>> {
    let form = FaqForm::parse(&fields, file)?;
    let stored = or_not_found(faq::update(&s.deps, s.blobs.as_ref(), &caller.tenant, &caller.actor, id, form).await, NOT_FOUND)?;
    Ok(Json(envelope::message_data("FAQ updated successfully", stored.into())))
}

#[utoipa::path(put, path = "/api/faq/{id}", tag = "Faq", params(("id" = String, Path)), request_body(content = FaqUpload, content_type = "multipart/form-data"), security(("bearer" = [])),
    responses((status = 200, body = MessageData<FaqUpdated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, req: Request) -> ApiResult<Json<MessageData<FaqUpdated>>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    // An unknown id is a 404 before the body is judged.
    or_not_found(record::find::<Faq>(&s.deps, &caller.tenant, id).await, NOT_FOUND)?;
    let (fields, file) = read_form(req).await?;
    apply_update(&s, &caller, id, fields, file).await
}

/// Laravel's method spoofing: `POST /api/faq/{id}` with `_method=PUT` (or `PATCH`) is the update.
#[utoipa::path(post, path = "/api/faq/{id}", tag = "Faq", params(("id" = String, Path)), request_body(content = FaqUpload, content_type = "multipart/form-data",
        description = "The update, sent as Laravel clients do: the form also holds `_method=PUT`"), security(("bearer" = [])),
    responses((status = 200, body = MessageData<FaqUpdated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 405, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_laravel_style(State(s): State<AppState>, caller: Caller, Path(id): Path<String>, req: Request) -> ApiResult<Json<MessageData<FaqUpdated>>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    or_not_found(record::find::<Faq>(&s.deps, &caller.tenant, id).await, NOT_FOUND)?;
    let (fields, file) = read_form(req).await?;
    let spoofed = fields.get("_method").and_then(Value::as_str).map(|m| m.trim().to_ascii_uppercase());
    if !matches!(spoofed.as_deref(), Some("PUT" | "PATCH")) {
        return Err(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "The method is not allowed for this route."));
    }
    apply_update(&s, &caller, id, fields, file).await
}

#[utoipa::path(delete, path = "/api/faq/{id}", tag = "Faq", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::ConfigManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    or_not_found(faq::delete(&s.deps, s.blobs.as_ref(), &caller.tenant, &caller.actor, id).await, NOT_FOUND)?;
    Ok(Json(envelope::message("Faq deleted successfully")))
}
