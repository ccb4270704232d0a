//! How the DynamoDB adapter survives DynamoDB's faults: the SDK's own standard retry strategy
//! (exponential backoff with full jitter, a bounded number of attempts, and a per-client retry
//! token bucket that stops retry storms), bounded timeouts per attempt and per operation, and
//! one classifier of our own for what the SDK does not retry by itself: a transaction cancelled
//! for `TransactionConflict` (and the single-item `TransactionConflictException`).
//!
//! Why the SDK's strategy rather than a loop of ours: it already classifies throttling
//! (`ProvisionedThroughputExceededException`, `ThrottlingException`, `RequestLimitExceeded`…),
//! 5xx answers, dropped connections and attempt timeouts; it re-sends the same signed request,
//! so a retried `TransactWriteItems` keeps its `ClientRequestToken` (DynamoDB applies it once
//! even when only the answer was lost); and its token bucket is a budget shared by every call
//! of the client, which a per-call loop cannot be. What is left after it gives up reaches the
//! caller as `StoreError::Unavailable` (503 with `Retry-After`) or, for a conflict,
//! `StoreError::Conflict`, which the domain's own loops retry after reading again.
use std::time::Duration;

use aws_sdk_dynamodb::config::interceptors::InterceptorContext;
use aws_sdk_dynamodb::config::retry::{ClassifyRetry, RetryAction, RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

/// The retry and timeout budget of one DynamoDB client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retries {
    /// Attempts per call, the first included (`DYNAMODB_MAX_ATTEMPTS`).
    pub max_attempts: u32,
    /// The first backoff; it doubles per attempt, each pause a random part of it (full jitter).
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The most one attempt may take before it is abandoned and retried (`DYNAMODB_ATTEMPT_TIMEOUT_MS`).
    pub attempt_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for Retries {
    /// DynamoDB answers in single-digit milliseconds; a 2 s attempt is a lost one. Five
    /// attempts at 50 ms doubling wait at most 0.75 s in all between them (on average half).
    fn default() -> Self {
        Retries {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
        }
    }
}

impl Retries {
    /// The defaults, with `DYNAMODB_MAX_ATTEMPTS` (1–10) and `DYNAMODB_ATTEMPT_TIMEOUT_MS`
    /// (50–10000) when set.
    pub fn from_env() -> Result<Retries, String> {
        let mut r = Retries::default();
        let read = |name: &str, range: std::ops::RangeInclusive<u64>| -> Result<Option<u64>, String> {
            match std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if range.contains(&n) => Ok(Some(n)),
                    _ => Err(format!("{name} '{v}' must be a whole number from {} to {}", range.start(), range.end())),
                },
            }
        };
        if let Some(n) = read("DYNAMODB_MAX_ATTEMPTS", 1..=10)? {
            r.max_attempts = n as u32;
        }
        if let Some(ms) = read("DYNAMODB_ATTEMPT_TIMEOUT_MS", 50..=10_000)? {
            r.attempt_timeout = Duration::from_millis(ms);
        }
        Ok(r)
    }

    /// The most one call may take, retries included: every attempt and the longest pauses
    /// between them, and never more than 25 s (API Gateway gives up on a request at 29 s).
    pub fn operation_timeout(&self) -> Duration {
        let pauses: Duration = (0..self.max_attempts.saturating_sub(1)).map(|i| (self.initial_backoff * (1u32 << i.min(20))).min(self.max_backoff)).sum();
        (self.attempt_timeout * self.max_attempts + pauses).min(Duration::from_secs(25))
    }

    pub(crate) fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }

    pub(crate) fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout())
            .build()
    }

    /// A retry budget of this client's own (the SDK's default bucket is shared by every client
    /// of the process with the same service name).
    pub(crate) fn partition(table: &str) -> RetryPartition {
        RetryPartition::custom(format!("dynamodb-{table}")).token_bucket(TokenBucket::default()).build()
    }
}

/// Retries a transaction that DynamoDB cancelled only because another transaction held one of
/// its items (`TransactionConflict`) or an item's partition was throttled (nothing was written
/// either way): the same request can succeed a moment later. A cancellation with a failed
/// condition or a validation error is an answer, not a fault.
#[derive(Debug, Default)]
pub(crate) struct TransactionConflicts;

/// True when DynamoDB's cancellation reasons are all `None` or passing faults, one at least a fault.
pub(crate) fn only_passing_faults<'a>(codes: impl IntoIterator<Item = Option<&'a str>>) -> bool {
    let mut fault = false;
    for code in codes {
        match code {
            Some("TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded") => fault = true,
            None | Some("None") => {}
            Some(_) => return false,
        }
    }
    fault
}

impl ClassifyRetry for TransactionConflicts {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else { return RetryAction::NoActionIndicated };
        let Some(op) = err.as_operation_error() else { return RetryAction::NoActionIndicated };
        let conflict = if let Some(e) = op.downcast_ref::<TransactWriteItemsError>() {
            match e {
                TransactWriteItemsError::TransactionCanceledException(c) => only_passing_faults(c.cancellation_reasons().iter().map(|r| r.code())),
                _ => false,
            }
        } else if let Some(e) = op.downcast_ref::<PutItemError>() {
            e.is_transaction_conflict_exception()
        } else if let Some(e) = op.downcast_ref::<UpdateItemError>() {
            e.is_transaction_conflict_exception()
        } else if let Some(e) = op.downcast_ref::<DeleteItemError>() {
            e.is_transaction_conflict_exception()
        } else {
            false
        };
        if conflict {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "DynamoDB transaction conflicts"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_cancellation_by_passing_faults_is_retried() {
        assert!(only_passing_faults([Some("None"), Some("TransactionConflict")]));
        assert!(only_passing_faults([Some("TransactionConflict"), None, Some("ThrottlingError")]));
        assert!(!only_passing_faults([Some("None"), Some("None")]));
        assert!(!only_passing_faults([Some("ConditionalCheckFailed"), Some("TransactionConflict")]));
        assert!(!only_passing_faults([Some("TransactionConflict"), Some("ValidationError")]));
    }

    #[test]
    fn the_operation_timeout_leaves_room_for_every_attempt() {
        let r = Retries { attempt_timeout: Duration::from_millis(300), ..Retries::default() };
        assert_eq!(r.operation_timeout(), Duration::from_millis(1500 + 50 + 100 + 200 + 400));
        assert_eq!(Retries::default().operation_timeout(), Duration::from_millis(10_750));
        assert_eq!(Retries { max_attempts: 10, attempt_timeout: Duration::from_secs(10), ..Retries::default() }.operation_timeout(), Duration::from_secs(25));
    }
}
