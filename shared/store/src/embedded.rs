//! The embedded adapter: the table port on SQLite.
//!
//! Why SQLite: a single file, crash-safe with WAL and `synchronous=FULL`, ACID transactions
//! that make the port's atomic write literal, and a B-tree on (pk, sk) whose BINARY
//! collation orders strings byte-wise exactly as DynamoDB orders sort keys. It is bundled, so
//! a newcomer needs nothing installed.
//!
//! One writer connection (SQLite serialises writers anyway, and `BEGIN IMMEDIATE` makes each
//! write's condition checks and changes one step) and a few reader connections that WAL
//! lets run beside it.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params_from_iter, Connection, OptionalExtension, TransactionBehavior};
use serde_json::{Map, Value};

use crate::cursor;
use crate::port::*;

const READERS: usize = 4;

pub struct EmbeddedTable {
    writer: Arc<Mutex<Connection>>,
    readers: Vec<Arc<Mutex<Connection>>>,
    next_reader: AtomicUsize,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(unavailable)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(unavailable)?;
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;").map_err(unavailable)?;
    Ok(conn)
}

impl EmbeddedTable {
    /// Opens (or creates) the store in `dir/antrean.sqlite3`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(unavailable)?;
        let path = dir.join("antrean.sqlite3");
        let writer = open_connection(&path)?;
        writer
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS items (
                    pk TEXT NOT NULL, sk TEXT NOT NULL, body TEXT NOT NULL,
                    gsi1pk TEXT, gsi1sk TEXT, gsi2pk TEXT, gsi2sk TEXT, expires_at INTEGER,
                    PRIMARY KEY (pk, sk)) WITHOUT ROWID;
                 CREATE INDEX IF NOT EXISTS gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
                 CREATE INDEX IF NOT EXISTS gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
                 CREATE INDEX IF NOT EXISTS ttl ON items (expires_at) WHERE expires_at IS NOT NULL;",
            )
            .map_err(unavailable)?;
        let readers = (0..READERS)
            .map(|_| open_connection(&path).map(|c| Arc::new(Mutex::new(c))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EmbeddedTable { writer: Arc::new(Mutex::new(writer)), readers, next_reader: AtomicUsize::new(0) })
    }

    fn reader(&self) -> Arc<Mutex<Connection>> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        self.readers[i].clone()
    }

    /// Deletes items whose TTL has passed, as DynamoDB's TTL sweeper does. Returns how many.
    pub async fn sweep_expired(&self, now: i64) -> Result<usize, StoreError> {
        let writer = self.writer.clone();
        blocking(move || {
            let conn = writer.lock().map_err(unavailable)?;
            conn.execute("DELETE FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1", [now])
                .map_err(unavailable)
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f).await.map_err(unavailable)?
}

fn load(conn: &Connection, key: &Key) -> Result<Option<Item>, StoreError> {
    let body: Option<String> = conn
        .query_row("SELECT body FROM items WHERE pk = ?1 AND sk = ?2", [&key.pk, &key.sk], |r| r.get(0))
        .optional()
        .map_err(unavailable)?;
    body.map(|b| parse_body(&b)).transpose()
}

fn parse_body(body: &str) -> Result<Item, StoreError> {
    serde_json::from_str(body).map_err(unavailable)
}

fn string_attr(item: &Item, attr: &str) -> Option<String> {
    item.get(attr).and_then(Value::as_str).map(str::to_string)
}

/// DynamoDB keeps numbers as decimals and hands `1.0` back as `1`; store them the same way.
fn normalise_numbers(v: &mut Value) {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64() {
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    *v = Value::from(f as i64);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(normalise_numbers),
        Value::Object(m) => m.values_mut().for_each(normalise_numbers),
        _ => {}
    }
}

fn store(conn: &Connection, item: &Item) -> Result<(), StoreError> {
    let key = Key::of(item).ok_or_else(|| StoreError::Invalid("item without string pk/sk".into()))?;
    // DynamoDB refuses an index key attribute that is not a non-empty string (template.yaml
    // declares them S); refuse it here too rather than silently leave the item unindexed.
    for attr in ["gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"] {
        if item.get(attr).is_some_and(|v| v.as_str().is_none_or(str::is_empty)) {
            return Err(StoreError::Invalid(format!("{attr} must be a non-empty string")));
        }
    }
    let mut normalised = Value::Object(item.clone());
    normalise_numbers(&mut normalised);
    let body = serde_json::to_string(&normalised).map_err(unavailable)?;
    conn.execute(
        "INSERT OR REPLACE INTO items (pk, sk, body, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![
            key.pk,
            key.sk,
            body,
            string_attr(item, "gsi1pk"),
            string_attr(item, "gsi1sk"),
            string_attr(item, "gsi2pk"),
            string_attr(item, "gsi2sk"),
            item.get(TTL_ATTRIBUTE).and_then(Value::as_i64),
        ],
    )
    .map_err(unavailable)?;
    Ok(())
}

/// Upper bound of every string that starts with `prefix` (all our keys are well below U+10FFFF).
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

fn run_query(conn: &Connection, q: &Query) -> Result<Page, StoreError> {
    let (pk_col, sk_col) = q.index.key_attributes();
    if q.limit == Some(0) {
        return Err(StoreError::Invalid("a query limit must be at least 1".into()));
    }
    let mut sql = format!("SELECT body, pk, sk, {sk_col} FROM items WHERE {pk_col} = ?");
    if q.index != Index::Table {
        // A GSI holds only items that have both of its key attributes (sparse, as in DynamoDB).
        sql.push_str(&format!(" AND {sk_col} IS NOT NULL"));
    }
    let mut args: Vec<String> = vec![q.pk.clone()];
    let mut bound = |op: &str, v: &str, sql: &mut String| {
        sql.push_str(&format!(" AND {sk_col} {op} ?"));
        args.push(v.to_string());
    };
    match &q.sk {
        SortKey::Any => {}
        SortKey::Eq(v) => bound("=", v, &mut sql),
        SortKey::BeginsWith(p) => {
            bound(">=", p, &mut sql);
            bound("<", &prefix_end(p), &mut sql);
        }
        SortKey::Between(a, b) => {
            bound(">=", a, &mut sql);
            bound("<=", b, &mut sql);
        }
        SortKey::Lt(v) => bound("<", v, &mut sql),
        SortKey::Le(v) => bound("<=", v, &mut sql),
        SortKey::Gt(v) => bound(">", v, &mut sql),
        SortKey::Ge(v) => bound(">=", v, &mut sql),
    }
    let dir = if q.ascending { "ASC" } else { "DESC" };
    let after = if q.ascending { ">" } else { "<" };
    if let Some(c) = &q.cursor {
        let last = cursor::decode(c)?;
        if q.index == Index::Table {
            sql.push_str(&format!(" AND sk {after} ?"));
            args.push(cursor::string_at(&last, "sk")?);
        } else {
            // GSI sort keys need not be unique: the base key breaks ties, as in the ORDER BY.
            sql.push_str(&format!(" AND ({sk_col}, pk, sk) {after} (?, ?, ?)"));
            args.push(cursor::string_at(&last, sk_col)?);
            args.push(cursor::string_at(&last, "pk")?);
            args.push(cursor::string_at(&last, "sk")?);
        }
    }
    if q.index == Index::Table {
        sql.push_str(&format!(" ORDER BY sk {dir}"));
    } else {
        sql.push_str(&format!(" ORDER BY {sk_col} {dir}, pk {dir}, sk {dir}"));
    }
    // One row more than the page tells whether another page follows.
    if let Some(limit) = q.limit {
        sql.push_str(&format!(" LIMIT {}", limit + 1));
    }
    let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
    let mut rows = stmt.query(params_from_iter(args.iter())).map_err(unavailable)?;
    let mut items = Vec::new();
    let mut last_key: Option<Map<String, Value>> = None;
    let mut more = false;
    while let Some(row) = rows.next().map_err(unavailable)? {
        if q.limit.is_some_and(|l| items.len() >= l) {
            more = true;
            break;
        }
        let body: String = row.get(0).map_err(unavailable)?;
        let mut key = Map::new();
        key.insert("pk".into(), Value::String(row.get(1).map_err(unavailable)?));
        key.insert("sk".into(), Value::String(row.get(2).map_err(unavailable)?));
        if q.index != Index::Table {
            key.insert(sk_col.into(), Value::String(row.get(3).map_err(unavailable)?));
        }
        items.push(project(parse_body(&body)?, q.only.as_deref()));
        last_key = Some(key);
    }
    let cursor = if more { last_key.as_ref().map(cursor::encode) } else { None };
    Ok(Page { items, cursor })
}

/// Keys per statement of a batch read: two bound values each, well inside SQLite's limit.
const KEYS_PER_STATEMENT: usize = 400;

/// Many items by key: one statement per 400 distinct keys, answered in the order asked.
fn run_get_many(conn: &Connection, keys: &[Key], only: Option<&[String]>) -> Result<Vec<Option<Item>>, StoreError> {
    let distinct: Vec<&Key> = keys.iter().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut found: std::collections::HashMap<(String, String), Item> = std::collections::HashMap::with_capacity(distinct.len());
    for chunk in distinct.chunks(KEYS_PER_STATEMENT) {
        let rows = vec!["(?, ?)"; chunk.len()].join(", ");
        let sql = format!("SELECT pk, sk, body FROM items WHERE (pk, sk) IN (VALUES {rows})");
        let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
        let args = chunk.iter().flat_map(|k| [k.pk.as_str(), k.sk.as_str()]);
        let mut rows = stmt.query(params_from_iter(args)).map_err(unavailable)?;
        while let Some(row) = rows.next().map_err(unavailable)? {
            let (pk, sk, body): (String, String, String) =
                (row.get(0).map_err(unavailable)?, row.get(1).map_err(unavailable)?, row.get(2).map_err(unavailable)?);
            found.insert((pk, sk), project(parse_body(&body)?, only));
        }
    }
    Ok(keys.iter().map(|k| found.get(&(k.pk.clone(), k.sk.clone())).cloned()).collect())
}

fn run_write(conn: &mut Connection, ops: &[Op], keys: &[Key]) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(unavailable)?;
    let mut changes: Vec<(Key, Option<Item>)> = Vec::with_capacity(ops.len());
    for (index, (op, key)) in ops.iter().zip(keys).enumerate() {
        let current = load(&tx, key)?;
        if let Some(c) = op.condition() {
            if !c.holds(current.as_ref()) {
                // Dropping the transaction rolls back: nothing of this write was applied.
                return Err(StoreError::ConditionFailed { index });
            }
        }
        match op {
            Op::Put { item, .. } => changes.push((key.clone(), Some(item.clone()))),
            Op::Update { update, .. } => changes.push((key.clone(), Some(update.apply(key, current.as_ref())?))),
            Op::Delete { .. } => changes.push((key.clone(), None)),
            Op::Check { .. } => {}
        }
    }
    for (key, item) in &changes {
        match item {
            Some(item) => store(&tx, item)?,
            None => {
                tx.execute("DELETE FROM items WHERE pk = ?1 AND sk = ?2", [&key.pk, &key.sk]).map_err(unavailable)?;
            }
        }
    }
    tx.commit().map_err(unavailable)
}

#[async_trait]
impl Table for EmbeddedTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let reader = self.reader();
        let key = key.clone();
        blocking(move || load(&*reader.lock().map_err(unavailable)?, &key)).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let reader = self.reader();
        let query = query.clone();
        blocking(move || run_query(&*reader.lock().map_err(unavailable)?, &query)).await
    }

    async fn get_many(&self, keys: &[Key], only: Option<&[String]>) -> Result<Vec<Option<Item>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let reader = self.reader();
        let (keys, only) = (keys.to_vec(), only.map(<[String]>::to_vec));
        blocking(move || run_get_many(&*reader.lock().map_err(unavailable)?, &keys, only.as_deref())).await
    }

    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        let keys = validate_write(&ops)?;
        let writer = self.writer.clone();
        blocking(move || run_write(&mut *writer.lock().map_err(unavailable)?, &ops, &keys)).await
    }

    fn kind(&self) -> &'static str {
        "embedded"
    }
}
