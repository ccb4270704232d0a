//! The life of a clinic's master record (poly, role, status, …): sequential ids per clinic,
//! names unique per clinic, soft delete and restore, an audit entry with every change.
//!
//! Everything is a conditional write, never read-then-write:
//! - the id comes from a counter item bumped with `ADD` under "still the value I read";
//! - a unique value is a guard item `T#<clinic>#UNIQUE#<KIND>#<field>` / `<value>` put only
//!   if absent, in the same write as the record;
//! - an update is conditioned on the version it read, so two editors cannot leave a stale
//!   guard behind.
//!
//! A lost race on the counter or a transaction conflict retries; a taken name is a 422.

use std::time::Duration;

use antrean_store::{Condition, Item, Key, Op, Query, StoreError, Update};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::tenant::{id_key, Tenant};
use crate::validate::human;
use crate::Deps;

const MAX_ATTEMPTS: u32 = 60;
pub(crate) const VERSION: &str = "_v";

/// A value that must be unique within a clinic, e.g. a poly's name.
#[derive(Debug, Clone, PartialEq)]
pub struct Unique {
    /// The field the error names (`errors.<field>`).
    pub field: &'static str,
    /// The normalised value (case and surrounding space do not make a name new).
    pub value: String,
}

impl Unique {
    pub fn new(field: &'static str, value: &str) -> Unique {
        Unique { field, value: value.trim().to_lowercase() }
    }
}

pub trait Record: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Key segment, counter name and audit entity: `POLY`.
    const KIND: &'static str;
    /// How messages name it: `Poly` -> "Poly not found".
    const LABEL: &'static str;
    fn unique(&self) -> Vec<Unique> {
        vec![]
    }
    /// Extra attributes stored beside the record (GSI keys), never shown to clients.
    fn index_attributes(&self, _tenant: &Tenant, _id: i64) -> Vec<(&'static str, Value)> {
        vec![]
    }
}

/// A stored record as clients see it: `id`, its own fields, then the three timestamps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stored<T> {
    pub id: i64,
    #[serde(flatten)]
    pub data: T,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub deleted_at: Option<String>,
}

impl<T> Stored<T> {
    pub fn is_trashed(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// An extra condition checked in the same write, with the error to answer when it fails
/// (e.g. "the poly this user belongs to still exists").
pub struct Requirement {
    pub op: Op,
    pub error: DomainError,
}

pub fn record_key<T: Record>(tenant: &Tenant, id: i64) -> Key {
    Key::new(tenant.partition(T::KIND), id_key(id))
}

pub(crate) fn counter_key(tenant: &Tenant, kind: &str) -> Key {
    Key::new(tenant.partition("COUNTER"), kind)
}

fn guard_key<T: Record>(tenant: &Tenant, u: &Unique) -> Key {
    Key::new(tenant.partition(&format!("UNIQUE#{}#{}", T::KIND, u.field)), u.value.clone())
}

fn not_found<T: Record>() -> DomainError {
    DomainError::NotFound(format!("{} not found", T::LABEL))
}

pub(crate) fn decode<T: DeserializeOwned>(item: Item) -> DomainResult<T> {
    serde_json::from_value(Value::Object(item)).map_err(|e| DomainError::Internal(format!("corrupt record: {e}")))
}

pub(crate) fn item_of<T: Record>(tenant: &Tenant, stored: &Stored<T>, version: i64) -> DomainResult<Item> {
    let key = record_key::<T>(tenant, stored.id);
    let Value::Object(fields) = serde_json::to_value(stored).map_err(|e| DomainError::Internal(e.to_string()))? else {
        return Err(DomainError::Internal("a record must serialise to an object".into()));
    };
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    for (k, v) in fields {
        // Absent, not null: "not trashed" is then a plain attribute_not_exists condition.
        if !(k == "deleted_at" && v.is_null()) {
            item.insert(k, v);
        }
    }
    for (k, v) in stored.data.index_attributes(tenant, stored.id) {
        item.insert(k.into(), v);
    }
    item.insert(VERSION.into(), version.into());
    Ok(item)
}

fn guard_item(key: &Key, id: i64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.clone().into());
    item.insert("sk".into(), key.sk.clone().into());
    item.insert("id".into(), id.into());
    item
}

fn taken(field: &str) -> DomainError {
    FieldErrors::single(field, format!("The {} has already been taken.", human(field)))
}

pub(crate) async fn backoff(attempt: u32) {
    let jitter = rand::random::<u64>() % (2 + u64::from(attempt.min(20)) * 3);
    tokio::time::sleep(Duration::from_millis(1 + jitter)).await;
}

/// Reads the last id handed out for `kind` (0 when none yet).
pub async fn last_id(deps: &Deps, tenant: &Tenant, kind: &str) -> DomainResult<i64> {
    let item = deps.table.get(&counter_key(tenant, kind)).await?;
    Ok(item.and_then(|i| i.get("last").and_then(Value::as_i64)).unwrap_or(0))
}

/// The op that moves the counter from `last` to `last + by`, failing if anyone moved it first.
pub fn bump_counter(tenant: &Tenant, kind: &str, last: i64, by: i64) -> Op {
    let cond = if last == 0 { Condition::attr_not_exists("last") } else { Condition::equals("last", last) };
    Op::update_if(counter_key(tenant, kind), Update::new().add("last", by), cond)
}

/// A counter item standing at `last` (imports; live code bumps with [`bump_counter`]).
pub fn counter_item(tenant: &Tenant, kind: &str, last: i64) -> Item {
    let key = counter_key(tenant, kind);
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    item.insert("last".into(), last.into());
    item
}

/// Record, guards and counter for seeding a new clinic with fixed ids (1..n).
pub fn seed_ops<T: Record>(tenant: &Tenant, records: Vec<T>, ts: &str) -> DomainResult<Vec<Op>> {
    let n = records.len() as i64;
    let mut ops = Vec::new();
    for (i, data) in records.into_iter().enumerate() {
        let stored = Stored { id: i as i64 + 1, data, created_at: ts.into(), updated_at: ts.into(), deleted_at: None };
        for u in stored.data.unique() {
            ops.push(Op::put_new(guard_item(&guard_key::<T>(tenant, &u), stored.id)));
        }
        ops.push(Op::put_new(item_of(tenant, &stored, 1)?));
    }
    ops.push(Op::put_new({
        let key = counter_key(tenant, T::KIND);
        let mut item = guard_item(&key, 0);
        item.remove("id");
        item.insert("last".into(), n.into());
        item
    }));
    Ok(ops)
}

/// Reads a record with its version, trashed or not.
pub(crate) async fn read<T: Record>(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Option<(Stored<T>, i64)>> {
    let Some(item) = deps.table.get(&record_key::<T>(tenant, id)).await? else { return Ok(None) };
    let version = item.get(VERSION).and_then(Value::as_i64).unwrap_or(0);
    Ok(Some((decode(item)?, version)))
}

/// Several records by id, trashed or not, in one batch read; missing ones left out.
pub async fn get_many<T: Record>(deps: &Deps, tenant: &Tenant, ids: impl IntoIterator<Item = i64>) -> DomainResult<std::collections::HashMap<i64, Stored<T>>> {
    let keys: Vec<Key> = ids.into_iter().collect::<std::collections::BTreeSet<_>>().into_iter().map(|id| record_key::<T>(tenant, id)).collect();
    let mut out = std::collections::HashMap::with_capacity(keys.len());
    for item in deps.table.get_many(&keys, None).await?.into_iter().flatten() {
        let s: Stored<T> = decode(item)?;
        out.insert(s.id, s);
    }
    Ok(out)
}

pub async fn get<T: Record>(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Option<Stored<T>>> {
    Ok(read::<T>(deps, tenant, id).await?.map(|(s, _)| s))
}

/// A record that exists and is not trashed, else "<Label> not found".
pub async fn find<T: Record>(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Stored<T>> {
    match get::<T>(deps, tenant, id).await? {
        Some(s) if !s.is_trashed() => Ok(s),
        _ => Err(not_found::<T>()),
    }
}

/// Every record of the kind (one partition: master data stays small), live or trashed.
pub async fn list<T: Record>(deps: &Deps, tenant: &Tenant, trashed: bool) -> DomainResult<Vec<Stored<T>>> {
    Ok(list_all::<T>(deps, tenant).await?.into_iter().filter(|s| s.is_trashed() == trashed).collect())
}

/// Every record of the kind, live and trashed: one Query on its partition.
pub async fn list_all<T: Record>(deps: &Deps, tenant: &Tenant) -> DomainResult<Vec<Stored<T>>> {
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(tenant.partition(T::KIND))).await?;
    items.into_iter().map(decode).collect()
}

/// Maps a failed write back to what the clinic should hear.
fn explain<T: Record>(index: usize, guards: &[Unique], guard_start: usize, reqs: &[Requirement], req_start: usize) -> Option<DomainError> {
    if index >= guard_start && index < guard_start + guards.len() {
        return Some(taken(guards[index - guard_start].field));
    }
    if index >= req_start && index < req_start + reqs.len() {
        let e = &reqs[index - req_start].error;
        return Some(clone_error(e));
    }
    None
}

fn clone_error(e: &DomainError) -> DomainError {
    match e {
        DomainError::Validation(f) => DomainError::Validation(f.clone()),
        DomainError::Unprocessable(m) => DomainError::Unprocessable(m.clone()),
        DomainError::NotFound(m) => DomainError::NotFound(m.clone()),
        DomainError::Conflict(m) => DomainError::Conflict(m.clone()),
        DomainError::Unavailable { message, detail, retry_after_secs } => {
            DomainError::Unavailable { message: message.clone(), detail: detail.clone(), retry_after_secs: *retry_after_secs }
        }
        other => DomainError::Internal(other.to_string()),
    }
}

/// Creates a record with the next id. `requirements` are checked in the same write.
pub async fn create<T: Record>(
    deps: &Deps,
    tenant: &Tenant,
    actor: &Actor,
    data: T,
    requirements: impl Fn(i64) -> Vec<Requirement>,
) -> DomainResult<Stored<T>> {
    let guards = data.unique();
    let mut refusals = crate::error::Refusals::default();
    for attempt in 0..MAX_ATTEMPTS {
        let last = last_id(deps, tenant, T::KIND).await?;
        let now = deps.clock.now();
        let ts = stamp(now);
        let stored = Stored { id: last + 1, data: data.clone(), created_at: ts.clone(), updated_at: ts, deleted_at: None };
        let mut ops = vec![bump_counter(tenant, T::KIND, last, 1), Op::put_new(item_of(tenant, &stored, 1)?)];
        let guard_start = ops.len();
        ops.extend(guards.iter().map(|u| Op::put_new(guard_item(&guard_key::<T>(tenant, u), stored.id))));
        let requirements = requirements(stored.id);
        let req_start = ops.len();
        ops.extend(requirements.iter().map(|r| r.op.clone()));
        ops.push(audit::entry(tenant, actor, Action::Create, T::KIND, stored.id, now));
        match deps.table.write(ops).await {
            Ok(()) => return Ok(stored),
            Err(StoreError::ConditionFailed { index }) => {
                if let Some(e) = explain::<T>(index, &guards, guard_start, &requirements, req_start) {
                    return Err(e);
                }
                // The counter moved (or the id was somehow taken): someone else won; again.
                refusals.keep_trying(&StoreError::ConditionFailed { index });
                backoff(attempt).await;
            }
            Err(StoreError::Conflict) => {
                if !refusals.keep_trying(&StoreError::Conflict) {
                    break;
                }
                backoff(attempt).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(refusals.ran_out(DomainError::Internal(format!("gave up allocating a {} id after {MAX_ATTEMPTS} attempts", T::KIND))))
}

/// Replaces a live record's fields with `data` (built from the current record by `change`).
pub async fn update<T: Record>(
    deps: &Deps,
    tenant: &Tenant,
    actor: &Actor,
    id: i64,
    change: impl Fn(&Stored<T>) -> DomainResult<(T, Vec<Requirement>)>,
) -> DomainResult<Stored<T>> {
    update_with(deps, tenant, actor, id, change, |_| Ok(vec![])).await
}

/// [`update`], with `also`'s ops for the record as it will be stored in the same atomic write
/// (a copy of it kept elsewhere, say).
pub async fn update_with<T: Record>(
    deps: &Deps,
    tenant: &Tenant,
    actor: &Actor,
    id: i64,
    change: impl Fn(&Stored<T>) -> DomainResult<(T, Vec<Requirement>)>,
    also: impl Fn(&Stored<T>) -> DomainResult<Vec<Op>>,
) -> DomainResult<Stored<T>> {
    let mut refusals = crate::error::Refusals::default();
    for attempt in 0..MAX_ATTEMPTS {
        let Some((current, version)) = read::<T>(deps, tenant, id).await? else { return Err(not_found::<T>()) };
        if current.is_trashed() {
            return Err(not_found::<T>());
        }
        let (data, requirements) = change(&current)?;
        let now = deps.clock.now();
        let stored = Stored { id, data, created_at: current.created_at.clone(), updated_at: stamp(now), deleted_at: None };
        let old_guards = current.data.unique();
        let new_guards = stored.data.unique();
        let mut ops = vec![Op::put_if(
            item_of(tenant, &stored, version + 1)?,
            Condition::And(vec![Condition::equals(VERSION, version), Condition::attr_not_exists("deleted_at")]),
        )];
        // Only guards whose value changed move: same name, same guard.
        let added: Vec<Unique> = new_guards.iter().filter(|u| !old_guards.contains(u)).cloned().collect();
        let guard_start = ops.len();
        ops.extend(added.iter().map(|u| Op::put_new(guard_item(&guard_key::<T>(tenant, u), id))));
        for u in old_guards.iter().filter(|u| !new_guards.contains(u)) {
            ops.push(Op::delete_if(guard_key::<T>(tenant, u), Condition::equals("id", id)));
        }
        let req_start = ops.len();
        ops.extend(requirements.iter().map(|r| r.op.clone()));
        ops.extend(also(&stored)?);
        ops.push(audit::entry(tenant, actor, Action::Update, T::KIND, id, now));
        match deps.table.write(ops).await {
            Ok(()) => return Ok(stored),
            Err(StoreError::ConditionFailed { index }) => {
                if let Some(e) = explain::<T>(index, &added, guard_start, &requirements, req_start) {
                    return Err(e);
                }
                // Someone changed it since we read: read again and re-apply the change.
                refusals.keep_trying(&StoreError::ConditionFailed { index });
                backoff(attempt).await;
            }
            Err(StoreError::Conflict) => {
                if !refusals.keep_trying(&StoreError::Conflict) {
                    break;
                }
                backoff(attempt).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(refusals.ran_out(DomainError::Conflict(format!("{} is being changed by someone else; try again", T::LABEL))))
}

/// Soft delete: the record moves to the trash; its unique values stay reserved so a restore
/// can never collide.
pub async fn trash<T: Record>(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, requirements: Vec<Requirement>) -> DomainResult<()> {
    let now = deps.clock.now();
    let mut ops = vec![Op::update_if(
        record_key::<T>(tenant, id),
        Update::new().set("deleted_at", stamp(now)).set("updated_at", stamp(now)).add(VERSION, 1),
        Condition::And(vec![Condition::Exists, Condition::attr_not_exists("deleted_at")]),
    )];
    ops.extend(requirements.iter().map(|r| r.op.clone()));
    ops.push(audit::entry(tenant, actor, Action::Delete, T::KIND, id, now));
    match deps.table.write(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { index: 0 }) => Err(not_found::<T>()),
        Err(StoreError::ConditionFailed { index }) => {
            Err(explain::<T>(index, &[], 0, &requirements, 1).unwrap_or_else(|| DomainError::Internal("unexpected condition".into())))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn restore<T: Record>(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<Stored<T>> {
    let now = deps.clock.now();
    let ops = vec![
        Op::update_if(
            record_key::<T>(tenant, id),
            Update::new().remove("deleted_at").set("updated_at", stamp(now)).add(VERSION, 1),
            Condition::attr_exists("deleted_at"),
        ),
        audit::entry(tenant, actor, Action::Restore, T::KIND, id, now),
    ];
    match deps.table.write(ops).await {
        Ok(()) => find::<T>(deps, tenant, id).await,
        Err(StoreError::ConditionFailed { .. }) => Err(DomainError::NotFound(format!("{} not found or not deleted", T::LABEL))),
        Err(e) => Err(e.into()),
    }
}

/// Hard delete (modules without a trash): the record and its guards go together.
pub async fn delete<T: Record>(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    delete_with::<T>(deps, tenant, actor, id, |_| vec![]).await
}

/// [`delete`], with `extra` ops (never failing ones) built from the record being deleted.
pub async fn delete_with<T: Record>(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, extra: impl Fn(&Stored<T>) -> Vec<Op>) -> DomainResult<()> {
    let mut refusals = crate::error::Refusals::default();
    for attempt in 0..MAX_ATTEMPTS {
        let Some((current, version)) = read::<T>(deps, tenant, id).await? else { return Err(not_found::<T>()) };
        let now = deps.clock.now();
        let mut ops = vec![Op::delete_if(record_key::<T>(tenant, id), Condition::equals(VERSION, version))];
        ops.extend(extra(&current));
        for u in current.data.unique() {
            ops.push(Op::delete_if(guard_key::<T>(tenant, &u), Condition::equals("id", id)));
        }
        ops.push(audit::entry(tenant, actor, Action::Delete, T::KIND, id, now));
        match deps.table.write(ops).await {
            Ok(()) => return Ok(()),
            Err(e @ (StoreError::ConditionFailed { .. } | StoreError::Conflict)) => {
                if !refusals.keep_trying(&e) {
                    break;
                }
                backoff(attempt).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(refusals.ran_out(DomainError::Conflict(format!("{} is being changed by someone else; try again", T::LABEL))))
}

/// The id a unique value belongs to, if any (e.g. login by username).
pub async fn find_by_unique<T: Record>(deps: &Deps, tenant: &Tenant, field: &'static str, value: &str) -> DomainResult<Option<i64>> {
    let item = deps.table.get(&guard_key::<T>(tenant, &Unique::new(field, value))).await?;
    Ok(item.and_then(|i| i.get("id").and_then(Value::as_i64)))
}

/// A requirement that another record exists and is live, e.g. the poly a user belongs to.
pub fn must_be_live<T: Record>(tenant: &Tenant, id: i64, error: DomainError) -> Requirement {
    Requirement {
        op: Op::check(record_key::<T>(tenant, id), Condition::And(vec![Condition::Exists, Condition::attr_not_exists("deleted_at")])),
        error,
    }
}
