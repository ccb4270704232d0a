//! Every item of a test server's table, read past the product: a DynamoDB Scan, or the
//! embedded store's rows straight from its SQLite file. What someone with the raw table (or a
//! backup of it) would see, for tests that prove something is *not* stored.
use antrean_store::dynamodb::{from_attribute, DynamoTable};
use dev_server::StoreChoice;
use serde_json::Value;

use crate::helpers::TestApp;

/// All items, each as its JSON text (keys and index attributes included).
pub async fn all_items(app: &TestApp) -> Vec<String> {
    match &app.config.store {
        StoreChoice::DynamoDb { endpoint, table } => {
            let client = DynamoTable::connect(endpoint.as_deref(), table)
                .await
                .client()
                .clone();
            let mut items = Vec::new();
            let mut start = None;
            loop {
                let page = client
                    .scan()
                    .table_name(table)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .expect("scan the table");
                for item in page.items() {
                    let map: serde_json::Map<String, Value> = item
                        .iter()
                        .map(|(k, v)| (k.clone(), from_attribute(v)))
                        .collect();
                    items.push(Value::Object(map).to_string());
                }
                start = page.last_evaluated_key().cloned();
                if start.is_none() {
                    return items;
                }
            }
        }
        StoreChoice::Embedded { data_dir } => {
            let conn = rusqlite::Connection::open(data_dir.join("antrean.sqlite3"))
                .expect("open the embedded store's file");
            let mut rows = conn
                .prepare("SELECT pk, sk, body, gsi1pk, gsi1sk, gsi2pk, gsi2sk FROM items")
                .unwrap();
            let items = rows
                .query_map([], |r| {
                    let cols: Vec<Option<String>> =
                        (0..7).map(|i| r.get(i)).collect::<Result<_, _>>()?;
                    Ok(cols.into_iter().flatten().collect::<Vec<_>>().join(" "))
                })
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            items
        }
    }
}

/// The items whose text contains `needle` (case-insensitive), for a failure message that shows them.
pub async fn items_containing(app: &TestApp, needle: &str) -> Vec<String> {
    let needle = needle.to_lowercase();
    all_items(app)
        .await
        .into_iter()
        .filter(|i| i.to_lowercase().contains(&needle))
        .collect()
}
