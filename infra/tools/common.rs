//! What the report tools share: the store from the dev server's environment (`STORE`,
//! `DATA_DIR`, `TABLE_NAME`, `DYNAMODB_ENDPOINT`), `--name value` arguments, and a table
//! wrapper that counts what is read.
#![allow(dead_code)]
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use antrean_domain::auth::token::TokenKeys;
use antrean_domain::{Deps, SystemClock, Tenant};
use antrean_store::{Item, Key, Op, Page, Query, StoreError, Table};
use async_trait::async_trait;
use chrono::NaiveDate;

/// `--name value` pairs and bare `--flag`s.
pub struct Args(HashMap<String, String>);

impl Args {
    pub fn parse(usage: &str) -> Args {
        let mut map = HashMap::new();
        let mut it = std::env::args().skip(1).peekable();
        while let Some(a) = it.next() {
            if a == "--help" || a == "-h" {
                println!("{usage}");
                std::process::exit(0);
            }
            let Some(name) = a.strip_prefix("--") else { fail(&format!("unexpected argument {a:?}\n\n{usage}")) };
            let value = match it.peek() {
                Some(v) if !v.starts_with("--") => it.next().unwrap(),
                _ => "true".to_string(),
            };
            map.insert(name.to_string(), value);
        }
        Args(map)
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
    pub fn date(&self, name: &str) -> Option<NaiveDate> {
        self.get(name).map(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap_or_else(|_| fail(&format!("--{name} must be yyyy-mm-dd"))))
    }
    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.get(name) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| fail(&format!("--{name} must be a number"))),
        }
    }
    pub fn tenant(&self) -> Tenant {
        Tenant::parse(self.get("clinic").unwrap_or("default")).unwrap_or_else(|_| fail("--clinic must be a clinic slug"))
    }
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

pub fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

/// The store the dev server would use with this environment.
pub async fn open_table() -> (Arc<dyn Table>, dev_server::Config) {
    let config = dev_server::Config::from_env().unwrap_or_else(|e| fail(&e));
    let table = dev_server::open_store(&config.store).await.unwrap_or_else(|e| fail(&e));
    (table, config)
}

pub fn deps(table: Arc<dyn Table>) -> Deps {
    let tokens = TokenKeys::new(&[7u8; 32], chrono::Duration::minutes(60)).expect("a 32-byte key");
    Deps { table, clock: Arc::new(SystemClock), tokens: Arc::new(tokens) }
}

/// A table that counts what passes through it: items read (gets that found one, and every
/// item a query page returned), requests, and items written.
pub struct CountingTable {
    inner: Arc<dyn Table>,
    pub items_read: AtomicU64,
    pub requests: AtomicU64,
    pub ops_written: AtomicU64,
}

impl CountingTable {
    pub fn new(inner: Arc<dyn Table>) -> CountingTable {
        CountingTable { inner, items_read: AtomicU64::new(0), requests: AtomicU64::new(0), ops_written: AtomicU64::new(0) }
    }
    /// (items read, read requests) since the last call.
    pub fn take(&self) -> (u64, u64) {
        (self.items_read.swap(0, Ordering::Relaxed), self.requests.swap(0, Ordering::Relaxed))
    }
}

#[async_trait]
impl Table for CountingTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let r = self.inner.get(key).await?;
        if r.is_some() {
            self.items_read.fetch_add(1, Ordering::Relaxed);
        }
        Ok(r)
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let page = self.inner.query(query).await?;
        self.items_read.fetch_add(page.items.len() as u64, Ordering::Relaxed);
        Ok(page)
    }
    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        self.ops_written.fetch_add(ops.len() as u64, Ordering::Relaxed);
        self.inner.write(ops).await
    }
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
}
