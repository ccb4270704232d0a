//! Domain errors. The HTTP layer turns each into the seed's envelope and status code.
use antrean_store::StoreError;
use serde_json::{Map, Value};

/// Field -> messages, in the order they were found (the seed's `errors` map).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldErrors(pub Map<String, Value>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let entry = self.0.entry(field.to_string()).or_insert_with(|| Value::Array(vec![]));
        if let Value::Array(list) = entry {
            list.push(Value::String(message.into()));
        }
    }
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The first message: the envelope's `message`, as Laravel reports it.
    pub fn first(&self) -> String {
        self.0
            .values()
            .next()
            .and_then(|v| v.as_array()?.first()?.as_str().map(str::to_string))
            .unwrap_or_else(|| "The given data was invalid.".into())
    }
    /// `Ok(())` when nothing was found, else the validation error.
    pub fn into_result(self) -> Result<(), DomainError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self))
        }
    }
    pub fn single(field: &str, message: impl Into<String>) -> DomainError {
        let mut e = FieldErrors::new();
        e.add(field, message);
        DomainError::Validation(e)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("validation failed")]
    Validation(FieldErrors),
    /// A 422 with a message and no field map (e.g. "Quota is full").
    #[error("{0}")]
    Unprocessable(String),
    /// A 422 that also carries a `data` object (the seed's "Maximum number of calls reached").
    #[error("{message}")]
    UnprocessableWith { message: String, data: Value },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("Unauthenticated")]
    Unauthenticated,
    #[error("{0}")]
    InvalidCredentials(String),
    #[error("This action is unauthorized.")]
    Forbidden,
    #[error("{message}")]
    Locked { message: String, retry_after_secs: i64 },
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_secs: i64 },
    /// Anything the caller cannot fix. Its detail goes to the log, never to the client.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        DomainError::Internal(e.to_string())
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
