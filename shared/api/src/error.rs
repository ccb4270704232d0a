//! One error type for every route: the domain's errors become the seed's envelope
//! `{"status":"error","message":…,"errors":{…}}` with the right status code. Internal
//! detail goes to the log only; the client gets a plain sentence.
use antrean_domain::DomainError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The seed's error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Always `"error"`.
    pub status: String,
    pub message: String,
    /// Field -> messages, on validation errors only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub errors: Option<Map<String, Value>>,
    /// Facts about the refusal, where the seed shows them (e.g. `{"number_of_calls": 3}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Option<Map<String, Value>>,
    pub retry_after: Option<i64>,
    pub data: Option<Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), errors: None, retry_after: None, data: None }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthenticated")
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(fields) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: fields.first(),
                errors: Some(fields.0),
                retry_after: None,
                data: None,
            },
            DomainError::UnprocessableWith { message, data } => ApiError { data: Some(data), ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, message) },
            DomainError::Unprocessable(m) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            DomainError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            DomainError::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            DomainError::BadRequest(m) => Self::new(StatusCode::BAD_REQUEST, m),
            DomainError::Unauthenticated => Self::unauthenticated(),
            DomainError::InvalidCredentials(m) => Self::new(StatusCode::UNAUTHORIZED, m),
            DomainError::Forbidden => Self::new(StatusCode::FORBIDDEN, "This action is unauthorized."),
            DomainError::Locked { message, retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..Self::new(StatusCode::LOCKED, message)
            },
            DomainError::TooManyRequests { message, retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, message)
            },
            DomainError::Unavailable { message, detail, retry_after_secs } => {
                tracing::warn!(error = %detail, retry_after_secs, "unavailable; the client is told to retry");
                ApiError { retry_after: Some(retry_after_secs), ..Self::new(StatusCode::SERVICE_UNAVAILABLE, message) }
            }
            DomainError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { status: "error".into(), message: self.message, errors: self.errors, data: self.data };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}
