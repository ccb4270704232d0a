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
pub use crate::dynamodb_retry::Retries;
use crate::dynamodb_retry::TransactionConflicts;
use crate::port::*;

pub struct DynamoTable {
    client: Client,
    table: String,
    capacity: Arc<CapacityUsed>,
}

/// The capacity units DynamoDB reported as consumed by this table's calls: every GetItem,
/// Query, PutItem / UpdateItem / DeleteItem and TransactWriteItems asks for
/// `ReturnConsumedCapacity::Total`. Kept in thousandths of a unit. A call that fails (a refused
/// condition, a cancelled transaction, throttling) reports no capacity although DynamoDB may
/// charge for it; such calls are counted in `unreported`. Transactions are also counted with
/// their items: DynamoDB charges 2 WCU per item (up to 1 KB) of a transaction, while DynamoDB
/// Local reports a whole transaction as if it wrote one item.
#[derive(Debug, Default)]
pub struct CapacityUsed {
    read_milli: AtomicU64,
    write_milli: AtomicU64,
    calls: AtomicU64,
    unreported: AtomicU64,
    transactions: AtomicU64,
    transaction_items: AtomicU64,
    transaction_write_milli: AtomicU64,
}

/// A snapshot of [`CapacityUsed`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CapacityTotals {
    pub read_units: f64,
    pub write_units: f64,
    /// Calls made (each Query page is one).
    pub calls: u64,
    /// Calls that failed and so reported nothing.
    pub unreported: u64,
    /// Successful TransactWriteItems calls, their items, and the write units reported for them.
    pub transactions: u64,
    pub transaction_items: u64,
    pub transaction_write_units: f64,
}

#[derive(Clone, Copy)]
enum Used {
    Read,
    Write,
    /// A TransactWriteItems of this many items.
    Transaction(usize),
}

impl CapacityUsed {
    pub fn totals(&self) -> CapacityTotals {
        CapacityTotals {
            read_units: self.read_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            write_units: self.write_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            calls: self.calls.load(Ordering::Relaxed),
            unreported: self.unreported.load(Ordering::Relaxed),
            transactions: self.transactions.load(Ordering::Relaxed),
            transaction_items: self.transaction_items.load(Ordering::Relaxed),
            transaction_write_units: self.transaction_write_milli.load(Ordering::Relaxed) as f64 / 1000.0,
        }
    }

    fn failed(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.unreported.fetch_add(1, Ordering::Relaxed);
    }

    /// One call's answer: `None` when the call failed. The read / write split is DynamoDB's when
    /// it gives one, else the call's total goes to the kind of call it was.
    fn count<'a>(&self, used: Used, reported: Option<impl IntoIterator<Item = &'a aws_sdk_dynamodb::types::ConsumedCapacity>>) {
        let Some(reported) = reported else {
            return self.failed();
        };
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Used::Transaction(items) = used {
            self.transactions.fetch_add(1, Ordering::Relaxed);
            self.transaction_items.fetch_add(items as u64, Ordering::Relaxed);
        }
        let milli = |units: f64| (units * 1000.0).round().max(0.0) as u64;
        for c in reported {
            let (read, write) = match (c.read_capacity_units(), c.write_capacity_units()) {
                (None, None) => match used {
                    Used::Read => (c.capacity_units().unwrap_or(0.0), 0.0),
                    Used::Write | Used::Transaction(_) => (0.0, c.capacity_units().unwrap_or(0.0)),
                },
                (r, w) => (r.unwrap_or(0.0), w.unwrap_or(0.0)),
            };
            self.read_milli.fetch_add(milli(read), Ordering::Relaxed);
            self.write_milli.fetch_add(milli(write), Ordering::Relaxed);
            if matches!(used, Used::Transaction(_)) {
                self.transaction_write_milli.fetch_add(milli(write), Ordering::Relaxed);
            }
        }
    }
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

    /// Creates the table when it is missing, from the `AWS::DynamoDB::Table` resource of the
    /// SAM template, so local runs use the very definition that is deployed. Returns true
    /// when it created the table.
    pub async fn create_table_if_missing(&self, template_yaml: &str) -> Result<bool, StoreError> {
        match self.client.describe_table().table_name(&self.table).send().await {
            Ok(_) => return Ok(false),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(unavailable(e)),
        }
        let def = TableDefinition::from_template(template_yaml)?;
        let mut create = self.client.create_table().table_name(&self.table).billing_mode(BillingMode::PayPerRequest);
        for (name, ty) in &def.attributes {
            create = create.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::from(ty.as_str()))
                    .build()
                    .map_err(unavailable)?,
            );
        }
        for el in key_schema(&def.key)? {
            create = create.key_schema(el);
        }
        for (index, key) in &def.indexes {
            let mut gsi = GlobalSecondaryIndex::builder()
                .index_name(index)
                .projection(Projection::builder().projection_type(ProjectionType::All).build());
            for el in key_schema(key)? {
                gsi = gsi.key_schema(el);
            }
            create = create.global_secondary_indexes(gsi.build().map_err(unavailable)?);
        }
        match create.send().await {
            Ok(_) => {}
            // Another process created it between our describe and create: that is fine.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(false),
            Err(e) => return Err(unavailable(e)),
        }
        // DynamoDB creates tables asynchronously and refuses a TTL change until it is ACTIVE.
        self.wait_until_active().await?;
        if let Some(ttl) = &def.ttl_attribute {
            self.client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder().attribute_name(ttl).enabled(true).build().map_err(unavailable)?,
                )
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(true)
    }

    async fn wait_until_active(&self) -> Result<(), StoreError> {
        for _ in 0..600 {
            let out = self.client.describe_table().table_name(&self.table).send().await.map_err(unavailable)?;
            if out.table().and_then(|t| t.table_status()) == Some(&aws_sdk_dynamodb::types::TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        Err(StoreError::Unavailable(format!("table {} did not become ACTIVE within 2 minutes", self.table)))
    }

    pub async fn delete_table(&self) -> Result<(), StoreError> {
        self.client.delete_table().table_name(&self.table).send().await.map_err(unavailable)?;
        Ok(())
    }
}

fn key_schema(key: &(String, String)) -> Result<Vec<KeySchemaElement>, StoreError> {
    Ok(vec![
        KeySchemaElement::builder().attribute_name(&key.0).key_type(KeyType::Hash).build().map_err(unavailable)?,
        KeySchemaElement::builder().attribute_name(&key.1).key_type(KeyType::Range).build().map_err(unavailable)?,
    ])
}

/// The parts of the template's table resource that creating a table needs.
#[derive(Debug, PartialEq)]
pub struct TableDefinition {
    pub attributes: Vec<(String, String)>,
    pub key: (String, String),
    pub indexes: Vec<(String, (String, String))>,
    pub ttl_attribute: Option<String>,
}

impl TableDefinition {
    pub fn from_template(template_yaml: &str) -> Result<Self, StoreError> {
        let bad = |what: &str| StoreError::Invalid(format!("template.yaml: {what}"));
        let doc: serde_yaml::Value = serde_yaml::from_str(template_yaml).map_err(|e| bad(&e.to_string()))?;
        let resources = doc.get("Resources").and_then(|r| r.as_mapping()).ok_or_else(|| bad("no Resources"))?;
        let props = resources
            .values()
            .find(|r| r.get("Type").and_then(|t| t.as_str()) == Some("AWS::DynamoDB::Table"))
            .and_then(|r| r.get("Properties"))
            .ok_or_else(|| bad("no AWS::DynamoDB::Table resource"))?;
        let s = |v: &serde_yaml::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let schema = |v: Option<&serde_yaml::Value>| -> Result<(String, String), StoreError> {
            let els = v.and_then(|x| x.as_sequence()).ok_or_else(|| bad("KeySchema"))?;
            let find = |kind: &str| {
                els.iter().find(|e| s(e, "KeyType").as_deref() == Some(kind)).and_then(|e| s(e, "AttributeName"))
            };
            Ok((find("HASH").ok_or_else(|| bad("HASH key"))?, find("RANGE").ok_or_else(|| bad("RANGE key"))?))
        };
        let attributes = props
            .get("AttributeDefinitions")
            .and_then(|a| a.as_sequence())
            .ok_or_else(|| bad("AttributeDefinitions"))?
            .iter()
            .map(|a| Ok((s(a, "AttributeName").ok_or_else(|| bad("AttributeName"))?, s(a, "AttributeType").ok_or_else(|| bad("AttributeType"))?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let indexes = props
            .get("GlobalSecondaryIndexes")
            .and_then(|g| g.as_sequence())
            .map(|gs| {
                gs.iter()
                    .map(|g| Ok((s(g, "IndexName").ok_or_else(|| bad("IndexName"))?, schema(g.get("KeySchema"))?)))
                    .collect::<Result<Vec<_>, StoreError>>()
            })
            .transpose()?
            .unwrap_or_default();
        let ttl_attribute = props.get("TimeToLiveSpecification").and_then(|t| s(t, "AttributeName"));
        Ok(TableDefinition { attributes, key: schema(props.get("KeySchema"))?, indexes, ttl_attribute })
    }
}

pub fn to_attribute(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(to_attribute).collect()),
        Value::Object(m) => AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect()),
    }
}

fn number(n: &str) -> Value {
    n.parse::<i64>()
        .map(Value::from)
        .ok()
        .or_else(|| n.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number))
        .unwrap_or(Value::Null)
}

pub fn from_attribute(av: &AttributeValue) -> Value {
    match av {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attribute).collect()),
        AttributeValue::M(m) => Value::Object(sorted(m)),
        AttributeValue::Ss(ss) => Value::Array(ss.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(ns) => Value::Array(ns.iter().map(|n| number(n)).collect()),
        _ => Value::Null,
    }
}

/// DynamoDB hands attributes back in no particular order; sort them so items read the same twice.
fn sorted(m: &HashMap<String, AttributeValue>) -> Map<String, Value> {
    let mut keys: Vec<_> = m.keys().collect();
    keys.sort();
    keys.into_iter().map(|k| (k.clone(), from_attribute(&m[k]))).collect()
}

fn to_item(m: &HashMap<String, AttributeValue>) -> Item {
    sorted(m)
}

fn key_map(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), AttributeValue::S(key.pk.clone())), ("sk".to_string(), AttributeValue::S(key.sk.clone()))])
}

/// Placeholders for one request's expressions: every name and value goes through them, so no
/// attribute name can collide with a reserved word and no value is spliced into text.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    fn name(&mut self, attr: &str) -> String {
        if let Some((p, _)) = self.names.iter().find(|(_, a)| a.as_str() == attr) {
            return p.clone();
        }
        let p = format!("#n{}", self.names.len());
        self.names.insert(p.clone(), attr.to_string());
        p
    }

    fn value(&mut self, v: AttributeValue) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), v);
        p
    }

    fn condition(&mut self, c: &Condition) -> String {
        match c {
            Condition::Exists => format!("attribute_exists({})", self.name("pk")),
            Condition::NotExists => format!("attribute_not_exists({})", self.name("pk")),
            Condition::AttrExists(a) => format!("attribute_exists({})", self.name(a)),
            Condition::AttrNotExists(a) => format!("attribute_not_exists({})", self.name(a)),
            Condition::Equals(a, v) => {
                let (n, v) = (self.name(a), self.value(to_attribute(v)));
                format!("{n} = {v}")
            }
            Condition::Compare(a, cmp, x) => {
                let (n, v) = (self.name(a), self.value(AttributeValue::N(x.to_string())));
                let op = match cmp {
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                    Cmp::Ne => "<>",
                };
                // Only a number attribute can satisfy it: a missing one or a string never does
                // (without the type test, `<>` would hold for a string against a number).
                let number = self.value(AttributeValue::S("N".into()));
                format!("(attribute_type({n}, {number}) AND {n} {op} {v})")
            }
            Condition::And(cs) | Condition::Or(cs) if cs.is_empty() => {
                let always = matches!(c, Condition::And(_));
                let pk = self.name("pk");
                if always {
                    format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
                } else {
                    format!("(attribute_exists({pk}) AND attribute_not_exists({pk}))")
                }
            }
            // One part needs no group of its own: DynamoDB refuses "redundant parentheses".
            Condition::And(cs) | Condition::Or(cs) if cs.len() == 1 => self.condition(&cs[0]),
            Condition::And(cs) => {
                let parts: Vec<_> = cs.iter().map(|c| self.condition(c)).collect();
                format!("({})", parts.join(" AND "))
            }
            Condition::Or(cs) => {
                let parts: Vec<_> = cs.iter().map(|c| self.condition(c)).collect();
                format!("({})", parts.join(" OR "))
            }
        }
    }

    fn update(&mut self, u: &Update) -> String {
        let mut clauses = Vec::new();
        if !u.set.is_empty() {
            let parts: Vec<_> = u
                .set
                .iter()
                .map(|(a, v)| {
                    let (n, v) = (self.name(a), self.value(to_attribute(v)));
                    format!("{n} = {v}")
                })
                .collect();
            clauses.push(format!("SET {}", parts.join(", ")));
        }
        if !u.remove.is_empty() {
            let parts: Vec<_> = u.remove.iter().map(|a| self.name(a)).collect();
            clauses.push(format!("REMOVE {}", parts.join(", ")));
        }
        if !u.add.is_empty() {
            let parts: Vec<_> = u
                .add
                .iter()
                .map(|(a, by)| {
                    let (n, v) = (self.name(a), self.value(AttributeValue::N(by.to_string())));
                    format!("{n} {v}")
                })
                .collect();
            clauses.push(format!("ADD {}", parts.join(", ")));
        }
        if clauses.is_empty() {
            // UpdateItem needs an expression, and a key attribute cannot be in one: removing
            // an attribute no item has creates a missing item and leaves an existing one as is.
            return format!("REMOVE {}", self.name(NO_SUCH_ATTRIBUTE));
        }
        clauses.join(" ")
    }

    /// A ProjectionExpression for `only` plus the key attributes (so cursors still work).
    fn projection(&mut self, only: Option<&[String]>) -> Option<String> {
        let only = only?;
        let mut names: Vec<&str> = KEY_ATTRIBUTES.to_vec();
        names.extend(only.iter().map(String::as_str).filter(|n| !KEY_ATTRIBUTES.contains(n)));
        Some(names.into_iter().map(|n| self.name(n)).collect::<Vec<_>>().join(", "))
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// DynamoDB refuses an empty string in a key condition and a BETWEEN whose bounds are the
/// wrong way round. No stored key is empty, so such a condition is rewritten to what it means;
/// `None` when it matches nothing.
fn answerable(sk: &SortKey) -> Option<SortKey> {
    match sk {
        SortKey::Eq(v) | SortKey::Lt(v) | SortKey::Le(v) if v.is_empty() => None,
        SortKey::Gt(v) | SortKey::Ge(v) | SortKey::BeginsWith(v) if v.is_empty() => Some(SortKey::Any),
        SortKey::Between(a, b) if b.is_empty() || a > b => None,
        SortKey::Between(a, b) if a.is_empty() => Some(SortKey::Le(b.clone())),
        other => Some(other.clone()),
    }
}

/// What an empty `Update` removes to make a valid update expression.
const NO_SUCH_ATTRIBUTE: &str = "__antrean_no_such_attribute__";

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

impl DynamoTable {
    fn transact_item(&self, op: &Op) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::default();
        let item = match op {
            Op::Put { item, condition } => {
                let cond = condition.as_ref().map(|c| e.condition(c));
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect()))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(unavailable)?;
                TransactWriteItem::builder().put(put).build()
            }
            Op::Update { key, update, condition } => {
                let expr = e.update(update);
                let cond = condition.as_ref().map(|c| e.condition(c));
                let upd = DynUpdate::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .update_expression(expr)
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(unavailable)?;
                TransactWriteItem::builder().update(upd).build()
            }
            Op::Delete { key, condition } => {
                let cond = condition.as_ref().map(|c| e.condition(c));
                let del = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(unavailable)?;
                TransactWriteItem::builder().delete(del).build()
            }
            Op::Check { key, condition } => {
                let cond = e.condition(condition);
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(unavailable)?;
                TransactWriteItem::builder().condition_check(check).build()
            }
        };
        Ok(item)
    }

    /// One operation: the plain single-item call, half the capacity of a transaction.
    async fn write_one(&self, op: &Op) -> Result<(), StoreError> {
        let mut e = Expr::default();
        let failed = StoreError::ConditionFailed { index: 0 };
        let result = match op {
            Op::Put { item, condition } => {
                let cond = condition.as_ref().map(|c| e.condition(c));
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect()))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map(|out| self.capacity.count(Used::Write, Some(out.consumed_capacity())))
                    .inspect_err(|_| self.capacity.failed())
                    .map_err(|err| match err.as_service_error() {
                        Some(s) if s.is_conditional_check_failed_exception() => failed.clone(),
                        Some(s) if s.is_transaction_conflict_exception() => StoreError::Conflict,
                        _ => sdk_error(err),
                    })
            }
            Op::Update { key, update, condition } => {
                let expr = e.update(update);
                let cond = condition.as_ref().map(|c| e.condition(c));
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .update_expression(expr)
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map(|out| self.capacity.count(Used::Write, Some(out.consumed_capacity())))
                    .inspect_err(|_| self.capacity.failed())
                    .map_err(|err| match err.as_service_error() {
                        Some(s) if s.is_conditional_check_failed_exception() => failed.clone(),
                        Some(s) if s.is_transaction_conflict_exception() => StoreError::Conflict,
                        _ => sdk_error(err),
                    })
            }
            Op::Delete { key, condition } => {
                let cond = condition.as_ref().map(|c| e.condition(c));
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map(|out| self.capacity.count(Used::Write, Some(out.consumed_capacity())))
                    .inspect_err(|_| self.capacity.failed())
                    .map_err(|err| match err.as_service_error() {
                        Some(s) if s.is_conditional_check_failed_exception() => failed.clone(),
                        Some(s) if s.is_transaction_conflict_exception() => StoreError::Conflict,
                        _ => sdk_error(err),
                    })
            }
            Op::Check { .. } => unreachable!("a lone condition check goes through a transaction"),
        };
        result
    }
}

/// How often a batch read asks again for the keys DynamoDB left unprocessed (it does so under
/// throttling or past 16 MB an answer), with a doubling, jittered pause between.
const UNPROCESSED_ATTEMPTS: u32 = 10;
/// How many BatchGetItem calls of one `get_many` are in flight at once.
const BATCHES_IN_FLIGHT: usize = 4;

impl DynamoTable {
    /// One BatchGetItem of at most 100 distinct keys, asking again for unprocessed keys.
    async fn batch_get(&self, keys: &[Key], only: Option<&[String]>) -> Result<Vec<Item>, StoreError> {
        let mut e = Expr::default();
        let projection = e.projection(only);
        let mut pending: Vec<HashMap<String, AttributeValue>> = keys.iter().map(key_map).collect();
        let mut found = Vec::with_capacity(keys.len());
        for attempt in 0..UNPROCESSED_ATTEMPTS {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .set_projection_expression(projection.clone())
                .set_expression_attribute_names(e.names())
                .build()
                .map_err(unavailable)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .inspect_err(|_| self.capacity.failed())
                .map_err(sdk_error)?;
            self.capacity.count(Used::Read, Some(out.consumed_capacity()));
            if let Some(items) = out.responses().and_then(|r| r.get(&self.table)) {
                found.extend(items.iter().map(to_item));
            }
            match out.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                Some(left) if !left.keys().is_empty() => pending = left.keys().to_vec(),
                _ => return Ok(found),
            }
            let pause = 20u64 << attempt.min(6);
            tokio::time::sleep(std::time::Duration::from_millis(pause + rand::random::<u64>() % pause)).await;
        }
        Err(StoreError::Unavailable(format!("DynamoDB left {} keys unprocessed after {UNPROCESSED_ATTEMPTS} tries", pending.len())))
    }
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
