//! The table port: the narrow slice of DynamoDB's single-table model the product needs.
//!
//! Items are JSON objects with string keys `pk` and `sk`. Two sparse global secondary
//! indexes read `gsi1pk`/`gsi1sk` and `gsi2pk`/`gsi2sk`. `expires_at` (epoch seconds) is the
//! TTL attribute: like DynamoDB, an adapter may still return an expired item until it is
//! swept, so callers that care check `is_expired`.

use async_trait::async_trait;
use serde_json::{Map, Value};

/// One stored record: a JSON object holding at least `pk` and `sk`.
pub type Item = Map<String, Value>;

/// The most operations one atomic write may hold (DynamoDB's TransactWriteItems limit).
pub const MAX_WRITE_OPS: usize = 100;
/// The TTL attribute name, shared with `template.yaml`.
pub const TTL_ATTRIBUTE: &str = "expires_at";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key { pk: pk.into(), sk: sk.into() }
    }

    /// The key of a stored item, if it has one.
    pub fn of(item: &Item) -> Option<Key> {
        Some(Key::new(item.get("pk")?.as_str()?, item.get("sk")?.as_str()?))
    }
}

/// Which ordered view a query reads: the table itself or one of the sparse GSIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Table,
    Gsi1,
    Gsi2,
}

impl Index {
    /// The attribute names holding this view's partition and sort key.
    pub fn key_attributes(self) -> (&'static str, &'static str) {
        match self {
            Index::Table => ("pk", "sk"),
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
            Index::Gsi2 => ("gsi2pk", "gsi2sk"),
        }
    }

    /// The DynamoDB index name (`None` for the base table).
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Table => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
        }
    }
}

/// A sort-key condition, compared byte-wise as DynamoDB compares strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Any,
    Eq(String),
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
}

impl SortKey {
    pub fn matches(&self, sk: &str) -> bool {
        match self {
            SortKey::Any => true,
            SortKey::Eq(v) => sk == v,
            SortKey::BeginsWith(p) => sk.starts_with(p.as_str()),
            SortKey::Between(a, b) => sk >= a.as_str() && sk <= b.as_str(),
            SortKey::Lt(v) => sk < v.as_str(),
            SortKey::Le(v) => sk <= v.as_str(),
            SortKey::Gt(v) => sk > v.as_str(),
            SortKey::Ge(v) => sk >= v.as_str(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SortKey,
    /// The most items one page holds; `None` reads the whole partition range.
    pub limit: Option<usize>,
    /// The opaque cursor a previous page returned.
    pub cursor: Option<String>,
    /// Newest-last order when true (ascending sort key).
    pub ascending: bool,
    /// Only these attributes (and the key attributes) come back: DynamoDB's projection.
    pub only: Option<Vec<String>>,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Query { index: Index::Table, pk: pk.into(), sk: SortKey::Any, limit: None, cursor: None, ascending: true, only: None }
    }
    pub fn on(mut self, index: Index) -> Self {
        self.index = index;
        self
    }
    pub fn sort(mut self, sk: SortKey) -> Self {
        self.sk = sk;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }
    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }
    pub fn descending(mut self) -> Self {
        self.ascending = false;
        self
    }
    /// Asks for only these attributes (the key attributes always come back).
    pub fn only(mut self, attributes: &[&str]) -> Self {
        self.only = Some(attributes.iter().map(|a| a.to_string()).collect());
        self
    }
}

/// The most keys one DynamoDB BatchGetItem call takes.
pub const MAX_BATCH_KEYS: usize = 100;

/// The attributes every projection keeps: the base key and both indexes' keys, so that a
/// projected item still names itself and a cursor can be built from it.
pub const KEY_ATTRIBUTES: [&str; 6] = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"];

/// The item cut down to `only` (and its key attributes); the whole item when `only` is `None`.
pub fn project(item: Item, only: Option<&[String]>) -> Item {
    match only {
        None => item,
        Some(names) => item.into_iter().filter(|(k, _)| KEY_ATTRIBUTES.contains(&k.as_str()) || names.iter().any(|n| n == k)).collect(),
    }
}

/// How many BatchGetItem calls `keys` cost: distinct keys, 100 a call.
pub fn batch_calls(keys: &[Key]) -> usize {
    let distinct: std::collections::BTreeSet<&Key> = keys.iter().collect();
    distinct.len().div_ceil(MAX_BATCH_KEYS)
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow; pass it back as `Query::cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Ne,
}

/// A condition on the current state of one item, checked atomically with the write.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The item exists.
    Exists,
    /// The item does not exist.
    NotExists,
    AttrExists(String),
    AttrNotExists(String),
    /// The attribute exists and equals the value.
    Equals(String, Value),
    /// The attribute exists, is a number, and compares to the number as asked.
    Compare(String, Cmp, i64),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

impl Condition {
    pub fn equals(attr: &str, value: impl Into<Value>) -> Self {
        Condition::Equals(attr.to_string(), value.into())
    }
    pub fn compare(attr: &str, cmp: Cmp, n: i64) -> Self {
        Condition::Compare(attr.to_string(), cmp, n)
    }
    pub fn attr_not_exists(attr: &str) -> Self {
        Condition::AttrNotExists(attr.to_string())
    }
    pub fn attr_exists(attr: &str) -> Self {
        Condition::AttrExists(attr.to_string())
    }

    /// Evaluates the condition against the item as it is now (`None`: no such item).
    /// The embedded adapter uses this; DynamoDB evaluates the expression it is mapped to.
    pub fn holds(&self, item: Option<&Item>) -> bool {
        match self {
            Condition::Exists => item.is_some(),
            Condition::NotExists => item.is_none(),
            Condition::AttrExists(a) => item.is_some_and(|i| i.contains_key(a)),
            Condition::AttrNotExists(a) => !item.is_some_and(|i| i.contains_key(a)),
            Condition::Equals(a, v) => item.and_then(|i| i.get(a)).is_some_and(|x| values_equal(x, v)),
            Condition::Compare(a, cmp, n) => match item.and_then(|i| i.get(a)).and_then(number_of) {
                Some(x) => {
                    let n = *n as f64;
                    match cmp {
                        Cmp::Lt => x < n,
                        Cmp::Le => x <= n,
                        Cmp::Gt => x > n,
                        Cmp::Ge => x >= n,
                        Cmp::Ne => x != n,
                    }
                }
                None => false,
            },
            Condition::And(cs) => cs.iter().all(|c| c.holds(item)),
            Condition::Or(cs) => cs.iter().any(|c| c.holds(item)),
        }
    }
}

fn number_of(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Numbers compare by value (1 == 1.0), as DynamoDB compares N attributes.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Changes to one item. Like DynamoDB's UpdateItem, it creates the item when missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Vec<(String, Value)>,
    pub remove: Vec<String>,
    /// Numeric `ADD`: a missing attribute counts as 0.
    pub add: Vec<(String, i64)>,
}

impl Update {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(mut self, attr: &str, value: impl Into<Value>) -> Self {
        self.set.push((attr.to_string(), value.into()));
        self
    }
    pub fn remove(mut self, attr: &str) -> Self {
        self.remove.push(attr.to_string());
        self
    }
    pub fn add(mut self, attr: &str, by: i64) -> Self {
        self.add.push((attr.to_string(), by));
        self
    }

    /// Applies the change to a copy of the item (or a new one with `key`).
    pub fn apply(&self, key: &Key, current: Option<&Item>) -> Result<Item, StoreError> {
        let mut item = current.cloned().unwrap_or_else(|| {
            let mut m = Item::new();
            m.insert("pk".into(), Value::String(key.pk.clone()));
            m.insert("sk".into(), Value::String(key.sk.clone()));
            m
        });
        for (a, v) in &self.set {
            if a == "pk" || a == "sk" {
                return Err(StoreError::Invalid("an update cannot change the key".into()));
            }
            item.insert(a.clone(), v.clone());
        }
        for a in &self.remove {
            item.remove(a);
        }
        for (a, by) in &self.add {
            let now = match item.get(a) {
                None => 0,
                Some(v) => v
                    .as_i64()
                    .ok_or_else(|| StoreError::Invalid(format!("ADD on non-integer attribute {a}")))?,
            };
            let sum = now.checked_add(*by).ok_or_else(|| StoreError::Invalid(format!("ADD overflows attribute {a}")))?;
            item.insert(a.clone(), Value::from(sum));
        }
        Ok(item)
    }
}

/// One operation of an atomic write.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Put { item: Item, condition: Option<Condition> },
    Update { key: Key, update: Update, condition: Option<Condition> },
    Delete { key: Key, condition: Option<Condition> },
    Check { key: Key, condition: Condition },
}

impl Op {
    pub fn put(item: Item) -> Self {
        Op::Put { item, condition: None }
    }
    /// A put that fails when the key is taken: the building block of uniqueness.
    pub fn put_new(item: Item) -> Self {
        Op::Put { item, condition: Some(Condition::NotExists) }
    }
    pub fn put_if(item: Item, condition: Condition) -> Self {
        Op::Put { item, condition: Some(condition) }
    }
    pub fn update(key: Key, update: Update) -> Self {
        Op::Update { key, update, condition: None }
    }
    pub fn update_if(key: Key, update: Update, condition: Condition) -> Self {
        Op::Update { key, update, condition: Some(condition) }
    }
    pub fn delete(key: Key) -> Self {
        Op::Delete { key, condition: None }
    }
    pub fn delete_if(key: Key, condition: Condition) -> Self {
        Op::Delete { key, condition: Some(condition) }
    }
    pub fn check(key: Key, condition: Condition) -> Self {
        Op::Check { key, condition }
    }

    pub fn key(&self) -> Result<Key, StoreError> {
        match self {
            Op::Put { item, .. } => Key::of(item).ok_or_else(|| StoreError::Invalid("item without string pk/sk".into())),
            Op::Update { key, .. } | Op::Delete { key, .. } | Op::Check { key, .. } => Ok(key.clone()),
        }
    }

    pub fn condition(&self) -> Option<&Condition> {
        match self {
            Op::Put { condition, .. } | Op::Update { condition, .. } | Op::Delete { condition, .. } => condition.as_ref(),
            Op::Check { condition, .. } => Some(condition),
        }
    }
}

/// Checks what DynamoDB would refuse before it reaches any adapter, so both refuse alike.
pub fn validate_write(ops: &[Op]) -> Result<Vec<Key>, StoreError> {
    if ops.is_empty() {
        return Err(StoreError::Invalid("an atomic write needs at least one operation".into()));
    }
    if ops.len() > MAX_WRITE_OPS {
        return Err(StoreError::Invalid(format!("an atomic write holds at most {MAX_WRITE_OPS} operations, got {}", ops.len())));
    }
    let mut keys = Vec::with_capacity(ops.len());
    for op in ops {
        let key = op.key()?;
        if key.pk.is_empty() || key.sk.is_empty() {
            return Err(StoreError::Invalid("empty pk or sk".into()));
        }
        if keys.contains(&key) {
            return Err(StoreError::Invalid(format!("one atomic write touches {}/{} twice", key.pk, key.sk)));
        }
        keys.push(key);
    }
    Ok(keys)
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum StoreError {
    /// The condition of operation `index` (position in the write) did not hold; nothing was written.
    #[error("condition failed on operation {index}")]
    ConditionFailed { index: usize },
    /// Another write touched the same items at the same moment; nothing was written; try again.
    #[error("conflicting concurrent write")]
    Conflict,
    /// The request itself is malformed (a programming error, not a user error).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// The store could not be reached or failed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Conflict)
    }
}

/// The port. `Send + Sync` so one instance serves every request of a Lambda or the dev server.
#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;
    /// Many items by key in as few calls as the store allows (DynamoDB: BatchGetItem, 100 keys
    /// a call). The answer has one entry per key, in the order asked (a key asked twice is
    /// answered twice); `None` where no item has that key. `only` projects as `Query::only`.
    async fn get_many(&self, keys: &[Key], only: Option<&[String]>) -> Result<Vec<Option<Item>>, StoreError>;
    /// All operations take effect together or none does.
    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError>;
    /// A short name for logs and benchmarks ("embedded", "dynamodb").
    fn kind(&self) -> &'static str;
}

/// True when the item carries a TTL at or before `now` (epoch seconds).
pub fn is_expired(item: &Item, now: i64) -> bool {
    item.get(TTL_ATTRIBUTE).and_then(Value::as_i64).is_some_and(|t| t <= now)
}

/// `get_many` of every attribute: the common case.
pub async fn get_all(table: &dyn Table, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
    table.get_many(keys, None).await
}

/// Reads every page of a query. For partitions known to stay small (master data of one clinic).
pub async fn query_all(table: &dyn Table, query: Query) -> Result<Vec<Item>, StoreError> {
    let mut q = query;
    let mut out = Vec::new();
    loop {
        let page = table.query(&q).await?;
        out.extend(page.items);
        match page.cursor {
            Some(c) => q.cursor = Some(c),
            None => return Ok(out),
        }
    }
}
