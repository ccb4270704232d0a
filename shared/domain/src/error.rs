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
    /// A passing fault of what the product stands on (the table throttled or timed out past
    /// its retry budget, file storage unreachable): nothing was changed, and the same request
    /// can succeed later. A 503 with `Retry-After`; `detail` goes to the log only.
    #[error("{message}")]
    Unavailable { message: String, detail: String, retry_after_secs: i64 },
}

/// What a client hears when the table stays busy or out of reach past the retry budget.
pub const STORE_UNAVAILABLE: &str = "The service is busy right now and nothing was changed; please try again in a moment.";
/// Seconds a client should wait before trying again after [`STORE_UNAVAILABLE`].
pub const STORE_RETRY_AFTER_SECS: i64 = 2;
/// What a client hears when file storage (S3) cannot be reached.
pub const FILES_UNAVAILABLE: &str = "File storage is unavailable right now and nothing was changed; please try again in a few minutes.";
pub const FILES_RETRY_AFTER_SECS: i64 = 60;

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            // A conflict here is one no loop of the domain retried: still a passing fault.
            StoreError::Unavailable(_) | StoreError::Conflict => DomainError::Unavailable {
                message: STORE_UNAVAILABLE.into(),
                detail: e.to_string(),
                retry_after_secs: STORE_RETRY_AFTER_SECS,
            },
            StoreError::ConditionFailed { .. } | StoreError::Invalid(_) => DomainError::Internal(e.to_string()),
        }
    }
}

/// Store cancellations in a row after which a read-and-retry loop that has also run for
/// [`REFUSALS_AFTER`] gives up: each one already outlasted the adapter's own retries (DynamoDB:
/// five attempts with jittered backoff, while its retry budget lasts).
const REFUSALS_IN_A_ROW: u32 = 3;
const REFUSALS_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// What a read-and-retry loop keeps of its failed writes. A failed condition is a race the loop
/// wins by reading again; a write the store itself cancelled (`StoreError::Conflict`: other
/// transactions held its items) is contention or a passing fault. Many writers on one item
/// (a counter) meet it often and get through by retrying, so the loop goes on; only once it
/// has run for 10 s with the last three writes cancelled does it stop, and the client hears 503
/// with `Retry-After` rather than waiting out every attempt.
#[derive(Debug)]
pub struct Refusals {
    in_a_row: u32,
    started: std::time::Instant,
}

impl Refusals {
    pub fn new() -> Refusals {
        Refusals { in_a_row: 0, started: std::time::Instant::now() }
    }

    /// Notes a failed write; false when the loop should stop trying.
    pub fn keep_trying(&mut self, e: &StoreError) -> bool {
        if matches!(e, StoreError::Conflict) {
            self.in_a_row += 1;
        } else {
            self.in_a_row = 0;
        }
        self.in_a_row < REFUSALS_IN_A_ROW || self.started.elapsed() < REFUSALS_AFTER
    }

    /// What the loop answers when it stops: 503 when the store kept refusing, else `lost_race`
    /// (the loop's 409 in the clinic's words).
    pub fn ran_out(&self, lost_race: DomainError) -> DomainError {
        if self.in_a_row > 0 {
            DomainError::from(StoreError::Conflict)
        } else {
            lost_race
        }
    }
}

impl Default for Refusals {
    fn default() -> Self {
        Refusals::new()
    }
}

impl From<antrean_blobs::BlobError> for DomainError {
    fn from(e: antrean_blobs::BlobError) -> Self {
        match e {
            antrean_blobs::BlobError::Unavailable(_) => DomainError::Unavailable {
                message: FILES_UNAVAILABLE.into(),
                detail: e.to_string(),
                retry_after_secs: FILES_RETRY_AFTER_SECS,
            },
            antrean_blobs::BlobError::InvalidKey(_) | antrean_blobs::BlobError::NotConfigured => DomainError::Internal(e.to_string()),
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
