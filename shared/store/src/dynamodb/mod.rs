//! The cloud adapter: the table port on DynamoDB (GetItem, Query, PutItem/UpdateItem/DeleteItem
//! for one-operation writes, TransactWriteItems for the rest). No Scan: the port has none.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, Put, ReturnConsumedCapacity, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem, Update as DynUpdate,
};
use aws_sdk_dynamodb::Client;
use serde_json::{Map, Number, Value};

use crate::cursor;
pub use retry::Retries;
use retry::TransactionConflicts;
use crate::port::*;

mod attributes;
mod batch;
mod capacity;
mod expression;
pub(crate) mod retry;
mod setup;
mod writes;

pub use attributes::{from_attribute, to_attribute};
pub use capacity::{CapacityTotals, CapacityUsed};
pub use setup::TableDefinition;
use attributes::*;
use batch::*;
use capacity::*;
use expression::*;

pub struct DynamoTable {
    client: Client,
    table: String,
    capacity: Arc<CapacityUsed>,
}



fn unavailable<E: std::fmt::Debug>(e: E) -> StoreError {
    StoreError::Unavailable(format!("{e:?}"))
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoTable { client, table: table.into(), capacity: Arc::default() }
    }

    /// Builds a client from the environment; with `endpoint` (DynamoDB Local) it fills in a
    /// region and static credentials when the environment has none, since Local accepts any.
    /// Retries and timeouts: [`Retries::from_env`] (the defaults when a variable is unusable).
    pub async fn connect(endpoint: Option<&str>, table: &str) -> Self {
        let retries = Retries::from_env().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "using the default DynamoDB retries");
            Retries::default()
        });
        Self::connect_with(endpoint, table, retries).await
    }

    /// `connect` with the given retry and timeout budget.
    pub async fn connect_with(endpoint: Option<&str>, table: &str, retries: Retries) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
            if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
                loader = loader.region(aws_config::Region::new("us-east-1"));
            }
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    "local", "local", None, None, "dynamodb-local",
                ));
            }
        }
        let shared = loader.load().await;
        let config = aws_sdk_dynamodb::config::Builder::from(&shared)
            .retry_config(retries.retry_config())
            .timeout_config(retries.timeout_config())
            .retry_partition(Retries::partition(table))
            .retry_classifier(TransactionConflicts)
            .build();
        DynamoTable::new(Client::from_conf(config), table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The consumed-capacity counters of this table's calls (shared: they keep counting).
    pub fn capacity(&self) -> Arc<CapacityUsed> {
        self.capacity.clone()
    }
}

/// Error codes (service errors without the `Exception` suffix, and transaction cancellation
/// reasons) of another write holding the item: the domain reads again and retries.
fn conflict_code(code: &str) -> bool {
    code == "TransactionConflict"
}

/// Error codes of DynamoDB refusing work for now. The SDK has already retried them with
/// backoff until its budget ran out; the caller answers "try again later".
fn throttled_code(code: &str) -> bool {
    matches!(code, "Throttling" | "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded" | "TransactionInProgress")
}



/// What is left of an error after the SDK's retries: a conflict the domain may retry after
/// reading again; a request DynamoDB calls malformed is `Invalid`, as the embedded store calls
/// it; throttling past the retry budget, timeouts and dropped connections are an outage the
/// caller reports as "try again later".
fn sdk_error<E: std::fmt::Debug + aws_sdk_dynamodb::error::ProvideErrorMetadata, R: std::fmt::Debug>(
    err: SdkError<E, R>,
) -> StoreError {
    if let Some(service) = err.as_service_error() {
        let code = service.code().unwrap_or_default();
        let bare = code.trim_end_matches("Exception");
        if conflict_code(bare) {
            return StoreError::Conflict;
        }
        if throttled_code(bare) {
            return StoreError::Unavailable(format!("throttled after retries: {code}"));
        }
        if code == "ValidationException" {
            return StoreError::Invalid(service.message().unwrap_or(code).to_string());
        }
    }
    unavailable(err)
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .inspect_err(|_| self.capacity.failed())
            .map_err(sdk_error)?;
        self.capacity.count(Used::Read, Some(out.consumed_capacity()));
        Ok(out.item().map(to_item))
    }

    async fn query(&self, q: &Query) -> Result<Page, StoreError> {
        if q.limit == Some(0) {
            return Err(StoreError::Invalid("a query limit must be at least 1".into()));
        }
        let (pk_attr, sk_attr) = q.index.key_attributes();
        let mut e = Expr::default();
        let pk_name = e.name(pk_attr);
        let pk_value = e.value(AttributeValue::S(q.pk.clone()));
        let mut expr = format!("{pk_name} = {pk_value}");
        let sk = |op: &str, v: &str, e: &mut Expr| {
            let (n, v) = (e.name(sk_attr), e.value(AttributeValue::S(v.to_string())));
            format!(" AND {n} {op} {v}")
        };
        let Some(sort_key) = answerable(&q.sk) else {
            return Ok(Page::default());
        };
        match &sort_key {
            SortKey::Any => {}
            SortKey::Eq(v) => expr += &sk("=", v, &mut e),
            SortKey::Lt(v) => expr += &sk("<", v, &mut e),
            SortKey::Le(v) => expr += &sk("<=", v, &mut e),
            SortKey::Gt(v) => expr += &sk(">", v, &mut e),
            SortKey::Ge(v) => expr += &sk(">=", v, &mut e),
            SortKey::BeginsWith(p) => {
                let (n, v) = (e.name(sk_attr), e.value(AttributeValue::S(p.clone())));
                expr += &format!(" AND begins_with({n}, {v})");
            }
            SortKey::Between(a, b) => {
                let n = e.name(sk_attr);
                let (a, b) = (e.value(AttributeValue::S(a.clone())), e.value(AttributeValue::S(b.clone())));
                expr += &format!(" AND {n} BETWEEN {a} AND {b}");
            }
        }
        let projection = e.projection(q.only.as_deref());
        let mut start = match &q.cursor {
            Some(c) => Some(
                cursor::decode(c)?
                    .into_iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k, AttributeValue::S(s))),
                        _ => Err(StoreError::Invalid("malformed cursor".into())),
                    })
                    .collect::<Result<HashMap<_, _>, _>>()?,
            ),
            None => None,
        };
        let mut items = Vec::new();
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(q.index.name().map(str::to_string))
                .key_condition_expression(expr.clone())
                .set_projection_expression(projection.clone())
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .scan_index_forward(q.ascending)
                .set_limit(q.limit.map(|l| l.min(i32::MAX as usize) as i32))
                .set_exclusive_start_key(start)
                // The base table reads strongly; a GSI can only read eventually.
                .set_consistent_read((q.index == Index::Table).then_some(true))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .inspect_err(|_| self.capacity.failed())
                .map_err(sdk_error)?;
            self.capacity.count(Used::Read, Some(out.consumed_capacity()));
            items.extend(out.items().iter().map(to_item));
            match out.last_evaluated_key {
                // Without a limit the port reads the whole range: follow DynamoDB's 1 MB pages.
                Some(last) if q.limit.is_none() => start = Some(last),
                last => return Ok(Page { items, cursor: last.map(|k| cursor::encode(&sorted(&k))) }),
            }
        }
    }

    async fn get_many(&self, keys: &[Key], only: Option<&[String]>) -> Result<Vec<Option<Item>>, StoreError> {
        use futures::{StreamExt, TryStreamExt};
        // BatchGetItem refuses a key twice in one call: ask each once, answer each as asked.
        let distinct: Vec<Key> = keys.iter().cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let calls: Vec<_> = distinct.chunks(MAX_BATCH_KEYS).map(|chunk| self.batch_get(chunk, only)).collect();
        let found: Vec<Vec<Item>> = futures::stream::iter(calls)
            .buffer_unordered(BATCHES_IN_FLIGHT)
            .try_collect()
            .await?;
        let mut by_key: HashMap<Key, Item> = HashMap::with_capacity(distinct.len());
        for item in found.into_iter().flatten() {
            if let Some(k) = Key::of(&item) {
                by_key.insert(k, item);
            }
        }
        Ok(keys.iter().map(|k| by_key.get(k).cloned()).collect())
    }

    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        validate_write(&ops)?;
        if ops.len() == 1 && !matches!(ops[0], Op::Check { .. }) {
            return self.write_one(&ops[0]).await;
        }
        let items = ops.iter().map(|op| self.transact_item(op)).collect::<Result<Vec<_>, _>>()?;
        let count = items.len();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.capacity.count(Used::Transaction(count), result.as_ref().ok().map(|out| out.consumed_capacity()));
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) = err.as_service_error() {
                    let reasons = c.cancellation_reasons();
                    if let Some(index) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
                        return Err(StoreError::ConditionFailed { index });
                    }
                    if let Some(r) = reasons.iter().find(|r| r.code() == Some("ValidationError")) {
                        return Err(StoreError::Invalid(r.message().unwrap_or("ValidationError").to_string()));
                    }
                    if reasons.iter().any(|r| r.code().is_some_and(conflict_code)) {
                        return Err(StoreError::Conflict);
                    }
                    if reasons.iter().any(|r| r.code().is_some_and(throttled_code)) {
                        return Err(StoreError::Unavailable("a transaction item was throttled after retries".into()));
                    }
                }
                Err(sdk_error(err))
            }
        }
    }

    fn kind(&self) -> &'static str {
        "dynamodb"
    }
}
