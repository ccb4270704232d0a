//! The connections of API Gateway's WebSocket API, recorded under their clinic:
//! `T#<clinic>#WSCONN` / `<connection id>`, with a TTL. A push reads them with one Query.
use antrean_domain::auth::principal::{Credential, Principal};
use antrean_domain::board::filter::{self, BoardFilter};
use antrean_domain::{Deps, DomainError, Tenant};
use antrean_store::{is_expired, Item, Key, Op, Query, SortKey};
use serde_json::Value;

/// API Gateway closes a connection after two hours at most; the record outlives it a little
/// and is then swept by the TTL (or removed at the first push that meets a 410 Gone).
pub const TTL_SECONDS: i64 = 2 * 3600 + 15 * 60;

const KIND: &str = "WSCONN";

#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub id: String,
    /// The board token it opened with, if it was a board.
    pub board_id: Option<i64>,
    pub user_id: Option<i64>,
    /// The ticket code it opened with, if it is a patient's ticket page.
    pub ticket: Option<String>,
    /// The sections a board shows, as stored with its key when it connected.
    pub filter: BoardFilter,
}

fn key(tenant: &Tenant, connection_id: &str) -> Key {
    Key::new(tenant.partition(KIND), connection_id)
}

fn decode(item: &Item) -> Option<Connection> {
    Some(Connection {
        id: item.get("sk")?.as_str()?.to_string(),
        board_id: item.get("board_id").and_then(Value::as_i64),
        user_id: item.get("user_id").and_then(Value::as_i64),
        ticket: item.get("ticket").and_then(Value::as_str).map(str::to_string),
        filter: item.get("filter").cloned().and_then(|f| serde_json::from_value(f).ok()).unwrap_or_default(),
    })
}

/// A watcher's connection, with the sections it shows (a board's filter, read once here so
/// that a push reads no board records).
pub async fn record(deps: &Deps, principal: &Principal, connection_id: &str) -> Result<(), DomainError> {
    let (attr, id) = match principal.credential {
        Credential::ApiKey { id } => ("board_id", Value::from(id)),
        Credential::Session { user_id, .. } => ("user_id", Value::from(user_id)),
    };
    let filter = filter::filter_of(deps, principal).await?;
    let mut attrs = vec![(attr, id)];
    if !filter.is_everything() {
        attrs.push(("filter", serde_json::to_value(&filter).unwrap_or(Value::Null)));
    }
    put(deps, &principal.tenant, connection_id, attrs).await
}

/// A ticket page's connection: it hears its own ticket only.
pub async fn record_ticket(deps: &Deps, tenant: &Tenant, code: &str, connection_id: &str) -> Result<(), DomainError> {
    put(deps, tenant, connection_id, vec![("ticket", code.into())]).await
}

async fn put(deps: &Deps, tenant: &Tenant, connection_id: &str, attrs: Vec<(&str, Value)>) -> Result<(), DomainError> {
    let now = deps.clock.now();
    let k = key(tenant, connection_id);
    let mut item = Item::new();
    item.insert("pk".into(), k.pk.into());
    item.insert("sk".into(), k.sk.into());
    for (attr, value) in attrs {
        item.insert(attr.into(), value);
    }
    item.insert("connected_at".into(), antrean_domain::clock::stamp(now).into());
    item.insert(antrean_store::TTL_ATTRIBUTE.into(), (now.timestamp() + TTL_SECONDS).into());
    deps.table.write(vec![Op::put(item)]).await?;
    Ok(())
}

pub async fn get(deps: &Deps, tenant: &Tenant, connection_id: &str) -> Result<Option<Connection>, DomainError> {
    let now = deps.clock.now().timestamp();
    Ok(deps.table.get(&key(tenant, connection_id)).await?.filter(|i| !is_expired(i, now)).as_ref().and_then(decode))
}

/// The clinic's live connections.
pub async fn list(deps: &Deps, tenant: &Tenant) -> Result<Vec<Connection>, DomainError> {
    let now = deps.clock.now().timestamp();
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(tenant.partition(KIND)).sort(SortKey::Any)).await?;
    Ok(items.iter().filter(|i| !is_expired(i, now)).filter_map(decode).collect())
}

pub async fn forget(deps: &Deps, tenant: &Tenant, connection_id: &str) -> Result<(), DomainError> {
    deps.table.write(vec![Op::delete(key(tenant, connection_id))]).await?;
    Ok(())
}
