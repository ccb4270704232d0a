//! What the report tools share: the store from the dev server's environment (`STORE`,
//! `DATA_DIR`, `TABLE_NAME`, `DYNAMODB_ENDPOINT`), `--name value` arguments, and a table
//! wrapper that counts what is read.
#![allow(dead_code)]
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antrean_domain::auth::token::TokenKeys;
use antrean_domain::{Deps, SystemClock, Tenant};
use antrean_store::counted::{CountedTable, StoreCounters, StoreCounts};
use antrean_store::Table;
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

/// The store requests a tool's calls made: a [`CountedTable`] and the counts last taken.
pub struct Meter {
    counters: Arc<StoreCounters>,
    last: Mutex<StoreCounts>,
}

impl Meter {
    /// Wraps `inner` so that its requests are counted (and each waits `latency`).
    pub fn wrap(inner: Arc<dyn Table>, latency: Duration) -> (Arc<dyn Table>, Meter) {
        let counted = CountedTable::new(inner, latency);
        let meter = Meter { counters: counted.counters(), last: Mutex::default() };
        (Arc::new(counted), meter)
    }

    /// What was counted since the last call.
    pub fn take(&self) -> StoreCounts {
        let now = self.counters.snapshot();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let since = now.since(&last);
        *last = now;
        since
    }
}
