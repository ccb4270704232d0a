//! The waiting-room display board: what it shows (the clinic's snapshot) and who may watch
//! it (board tokens).
//!
//! A snapshot is the seed's "WebScoket (Laravel Reverb)" payload: an object keyed by poly
//! (`"umum"`, `"gigi"`) whose values hold `queue_number_anamnesa` and
//! `queue_number_with_doctor`, plus `poly_id`, `poly_name` and the last call so a board can
//! announce a recall. Only numbers travel: no patient names, no reservation ids.
//!
//! A board token is an API key whose only permission is `board.watch`: it can open the live
//! socket and nothing else.
use std::collections::{BTreeSet, HashMap};

use antrean_store::{Condition, Key, Op, Query, SortKey, StoreError, Update};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::audit::Actor;
use crate::auth::api_key::{self, ApiKey};
use crate::auth::principal::Principal;
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult};
use crate::permission::Permission;
use crate::poly::Poly;
use crate::record::{self, Stored};
use crate::tenant::{id_key, Tenant};
use crate::Deps;

pub mod filter;

use filter::BoardFilter;

/// The event name of a snapshot message.
pub const SNAPSHOT_EVENT: &str = "queue.snapshot";

/// The stage a number was called to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// A nurse called the number to anamnesa.
    Anamnesa,
    /// The doctor called the number in.
    WithDoctor,
}

/// The latest call of a poly on a day: enough for a board to announce it, and to tell a
/// recall (same number and stage, `number_of_calls` up by one) from a new call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastCall {
    pub queue_number: i64,
    pub stage: Stage,
    pub number_of_calls: i64,
    /// When it was called (seed timestamp format).
    pub at: String,
    /// The room called to ("Ruang 2"), absent when the call named none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// A priority patient (elderly, disability, pregnancy, emergency: as the clinic counts).
    #[serde(default)]
    pub priority: bool,
}

/// Who is in one room of a poly now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomBoard {
    pub room_id: i64,
    pub room: String,
    pub queue_number: i64,
    pub priority: bool,
}

/// What the queue says of one poly's day: the numbers at anamnesa and with the doctor (seed
/// `GET /api/queue/current`), whether they are priority, and who is in each room.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayNumbers {
    pub anamnesa: Option<i64>,
    pub with_doctor: Option<i64>,
    pub anamnesa_priority: bool,
    pub with_doctor_priority: bool,
    pub rooms: Vec<RoomBoard>,
}

impl DayNumbers {
    /// From the day's queue as read (any polies).
    pub fn of(entries: &[crate::reservation::DayEntry], poly_id: i64) -> DayNumbers {
        let (anamnesa, with_doctor) = crate::queue::current_of(entries, poly_id);
        let is_priority = |n: Option<i64>| n.is_some_and(|n| entries.iter().any(|e| e.poly_id == poly_id && e.queue_number == n && e.priority));
        let mut rooms: Vec<RoomBoard> = Vec::new();
        let mut in_rooms: Vec<&crate::reservation::DayEntry> =
            entries.iter().filter(|e| e.poly_id == poly_id && e.status_code == crate::reservation::WITH_DOCTOR && e.room_id.is_some()).collect();
        // The one called in last in each room.
        in_rooms.sort_by_key(|e| std::cmp::Reverse((e.called_ms.unwrap_or_default(), e.queue_number)));
        for e in in_rooms {
            let (Some(room_id), Some(room)) = (e.room_id, &e.room) else { continue };
            if !rooms.iter().any(|r| r.room_id == room_id) {
                rooms.push(RoomBoard { room_id, room: room.clone(), queue_number: e.queue_number, priority: e.priority });
            }
        }
        rooms.sort_by(|a, b| a.room.cmp(&b.room).then(a.room_id.cmp(&b.room_id)));
        DayNumbers { anamnesa, with_doctor, anamnesa_priority: is_priority(anamnesa), with_doctor_priority: is_priority(with_doctor), rooms }
    }
}

/// One poly on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolyBoard {
    /// `"poly"` (service sections, pharmacy and the like, say `"service"`).
    #[serde(default = "poly_kind")]
    pub kind: String,
    pub poly_id: i64,
    pub poly_name: String,
    /// The number now at anamnesa (seed: `queue_number_anamnesa`), `null` when none.
    pub queue_number_anamnesa: Option<i64>,
    /// The number now with the doctor (seed: `queue_number_with_doctor`), `null` when none.
    pub queue_number_with_doctor: Option<i64>,
    /// Whether the number at anamnesa / with the doctor is a priority patient.
    #[serde(default)]
    pub queue_number_anamnesa_priority: bool,
    #[serde(default)]
    pub queue_number_with_doctor_priority: bool,
    /// Who is in each room now (polies with rooms), by room name.
    #[serde(default)]
    pub rooms: Vec<RoomBoard>,
    pub last_call: Option<LastCall>,
}

fn poly_kind() -> String {
    "poly".into()
}

pub use crate::clinic_flow::services::{ServiceBoard, ServiceCall};

/// One section of the board: a poly (the seed's) or a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Section {
    Poly(PolyBoard),
    Service(ServiceBoard),
}

/// The seed's payload: polies keyed by [`poly_key`], in poly id order, then the services
/// (`service_<key>`), in id order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Polies(pub Vec<(String, Section)>);

impl Serialize for Polies {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Polies {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, Value>::deserialize(d)?;
        let mut out = Vec::with_capacity(map.len());
        for (k, v) in map {
            out.push((k, serde_json::from_value(v).map_err(serde::de::Error::custom)?));
        }
        Ok(Polies(out))
    }
}

impl Polies {
    pub fn get(&self, key: &str) -> Option<&PolyBoard> {
        self.0.iter().find(|(k, _)| k == key).and_then(|(_, v)| match v {
            Section::Poly(p) => Some(p),
            Section::Service(_) => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClinicView {
    pub slug: String,
    pub name: String,
    /// The clinic's time zone (IANA), for the board's clock.
    pub timezone: String,
}

/// One message to every board of a clinic: `{"event":"queue.snapshot","clinic":{…},
/// "date":"2026-01-10","at":"…","data":{"umum":{…},"gigi":{…}}}`. `data` is the seed's
/// payload; `at` orders snapshots (a board ignores one older than what it shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub event: String,
    pub clinic: ClinicView,
    pub date: String,
    pub at: String,
    pub data: Polies,
}

/// The key a poly goes by on the board, as in the seed's `"umum"` / `"gigi"`: the name in
/// lower case without a leading "poli", runs of anything but letters and digits as one `_`.
/// "Poli Umum" → `umum`, "Poli Kesehatan Ibu & Anak" → `kesehatan_ibu_anak`, "Gigi" → `gigi`.
/// A name that leaves nothing is `poly_<id>`.
pub fn poly_key(name: &str, id: i64) -> String {
    let lower = name.trim().to_lowercase();
    let rest = match lower.strip_prefix("poli") {
        // Only the word "poli", not the start of "poliklinik".
        Some(r) if r.is_empty() || r.starts_with(|c: char| !c.is_alphanumeric()) => r,
        _ => lower.as_str(),
    };
    let mut key = String::new();
    let mut gap = false;
    for c in rest.chars() {
        if c.is_alphanumeric() {
            if gap && !key.is_empty() {
                key.push('_');
            }
            gap = false;
            key.push(c);
        } else {
            gap = true;
        }
    }
    if key.is_empty() {
        format!("poly_{id}")
    } else {
        key
    }
}

/// Keys for the polies of a clinic, in order; a key taken by an earlier poly gets `_<id>`.
pub fn poly_keys(polies: &[(i64, String)]) -> Vec<String> {
    let mut taken = BTreeSet::new();
    polies
        .iter()
        .map(|(id, name)| {
            let mut k = poly_key(name, *id);
            if !taken.insert(k.clone()) {
                k = format!("{k}_{id}");
                taken.insert(k.clone());
            }
            k
        })
        .collect()
}

/// What the board reads from the queue: the numbers now at anamnesa and with the doctor for
/// one poly and day (the seed's `GET /api/queue/current`).
#[async_trait]
pub trait QueueNumbers: Send + Sync {
    /// Every poly's numbers of one day, by poly id (a poly nobody is at may be missing).
    async fn day(&self, deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<HashMap<i64, DayNumbers>>;
}

/// The queue engine's own numbers: one Query on the day's queue for every poly.
pub struct FromQueue;

#[async_trait]
impl QueueNumbers for FromQueue {
    async fn day(&self, deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<HashMap<i64, DayNumbers>> {
        let entries = crate::reservation::day_entries(deps, tenant, date, None).await?;
        let polies: BTreeSet<i64> = entries.iter().map(|e| e.poly_id).collect();
        Ok(polies.into_iter().map(|p| (p, DayNumbers::of(&entries, p))).collect())
    }
}

/// The last calls of one clinic day: `T#<clinic>#BOARD#<yyyy-mm-dd>` / `<poly id>`.
pub(crate) fn calls_partition(tenant: &Tenant, date: NaiveDate) -> String {
    tenant.partition(&format!("BOARD#{}", date.format("%Y-%m-%d")))
}

/// Keep the last-call items a while after their day, then let the TTL sweep them.
const CALL_RETENTION_DAYS: i64 = 3;

/// A number called to anamnesa or in to the doctor (the queue's call event).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub poly_id: i64,
    pub date: NaiveDate,
    pub queue_number: i64,
    pub stage: Stage,
    pub number_of_calls: i64,
    pub at: DateTime<Utc>,
    /// The room called to, by name.
    pub room: Option<String>,
    pub priority: bool,
}

/// Remembers a call so boards can announce it. Written after the call itself; an older call
/// arriving late never overwrites a newer one.
pub async fn record_call(deps: &Deps, tenant: &Tenant, call: &Call) -> DomainResult<()> {
    let at_ms = call.at.timestamp_millis();
    let Op::Update { key, update, .. } = call_op(tenant, call) else { unreachable!("call_op is an update") };
    let newer = Condition::Or(vec![Condition::attr_not_exists("at_ms"), Condition::compare("at_ms", antrean_store::Cmp::Le, at_ms)]);
    for _ in 0..5 {
        match deps.table.write(vec![Op::update_if(key.clone(), update.clone(), newer.clone())]).await {
            Ok(()) => return Ok(()),
            // A newer call is already there: nothing to do.
            Err(StoreError::ConditionFailed { .. }) => return Ok(()),
            Err(e) if e.is_retryable() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

/// The call as one unconditional op, for the queue move's own atomic write: the move that
/// commits last is the call the board shows.
pub fn call_op(tenant: &Tenant, call: &Call) -> Op {
    let Call { poly_id, date, queue_number, stage, number_of_calls, at, .. } = *call;
    let at_ms = at.timestamp_millis();
    let room = match &call.room {
        Some(r) => Update::new().set("room", r.clone()),
        None => Update::new().remove("room"),
    };
    let update = room
        .set("queue_number", queue_number)
        .set("stage", serde_json::to_value(stage).unwrap_or(Value::Null))
        .set("number_of_calls", number_of_calls)
        .set("at", stamp(at))
        .set("at_ms", at_ms)
        .set("priority", call.priority)
        .set(antrean_store::TTL_ATTRIBUTE, at.timestamp() + CALL_RETENTION_DAYS * 86_400);
    Op::update(Key::new(calls_partition(tenant, date), id_key(poly_id)), update)
}

/// The mark the end of the day leaves beside the day's last calls: a closed day's boards are
/// empty (`clinic_flow::end_of_day`). Put once; a second close finds it there.
pub fn closed_op(tenant: &Tenant, date: NaiveDate, at: DateTime<Utc>, facts: Value) -> Op {
    let mut item = crate::reservation::item_with(&Key::new(calls_partition(tenant, date), CLOSED), facts);
    item.insert("closed_at".into(), stamp(at).into());
    item.insert(antrean_store::TTL_ATTRIBUTE.into(), (at.timestamp() + CALL_RETENTION_DAYS * 86_400).into());
    Op::put_new(item)
}

/// The sort key of a day's closed mark (the polies' are 12-digit ids).
const CLOSED: &str = "CLOSED";

/// Whether the day is closed, and the mark's facts.
pub async fn closed(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<Option<antrean_store::Item>> {
    Ok(deps.table.get(&Key::new(calls_partition(tenant, date), CLOSED)).await?)
}

/// The day's last calls by poly and by service, and whether the day is closed (its mark is in
/// the same partition).
async fn last_calls(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<(Vec<(i64, LastCall)>, Vec<(i64, ServiceCall)>, bool)> {
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(calls_partition(tenant, date)).sort(SortKey::Any)).await?;
    let closed = items.iter().any(|i| i.get("sk").and_then(Value::as_str) == Some(CLOSED));
    let mut services = Vec::new();
    for item in &items {
        let Some(id) = item.get("sk").and_then(Value::as_str).and_then(|s| s.strip_prefix(crate::clinic_flow::services::CALL_PREFIX)).and_then(|s| s.parse::<i64>().ok())
        else {
            continue;
        };
        let n = |k: &str| item.get(k).and_then(Value::as_i64).unwrap_or_default();
        services.push((
            id,
            ServiceCall {
                queue_number: n("queue_number"),
                poly_id: n("poly_id"),
                status: item.get("status").and_then(Value::as_str).unwrap_or_default().to_string(),
                number_of_calls: n("number_of_calls"),
                priority: item.get("priority").and_then(Value::as_bool).unwrap_or(false),
                at: item.get("at").and_then(Value::as_str).unwrap_or_default().to_string(),
            },
        ));
    }
    let mut out = Vec::new();
    for item in items {
        let Some(id) = item.get("sk").and_then(Value::as_str).and_then(|s| s.parse::<i64>().ok()) else { continue };
        let call = LastCall {
            queue_number: item.get("queue_number").and_then(Value::as_i64).unwrap_or_default(),
            stage: item.get("stage").cloned().and_then(|v| serde_json::from_value(v).ok()).unwrap_or(Stage::Anamnesa),
            number_of_calls: item.get("number_of_calls").and_then(Value::as_i64).unwrap_or(1),
            at: item.get("at").and_then(Value::as_str).unwrap_or_default().to_string(),
            room: item.get("room").and_then(Value::as_str).map(str::to_string),
            priority: item.get("priority").and_then(Value::as_bool).unwrap_or(false),
        };
        out.push((id, call));
    }
    Ok((out, services, closed))
}

/// The clinic's day as its boards see it: today in the clinic's time zone (its
/// `clinic_timezone` config, as for the queue and the reports).
pub async fn today(deps: &Deps, tenant: &Tenant) -> DomainResult<NaiveDate> {
    let tz = crate::configuration::config::clinic_timezone(deps, tenant).await?;
    Ok(deps.clock.now().with_timezone(&tz).date_naive())
}

/// The snapshot of one clinic day from the queue engine's numbers.
pub async fn snapshot(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<Snapshot> {
    snapshot_with(&FromQueue, deps, tenant, date).await
}

/// The snapshot of one clinic day: every live poly (numbers `null` when nobody is there).
pub async fn snapshot_with(source: &dyn QueueNumbers, deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<Snapshot> {
    // Taken before reading, so a snapshot never claims to be newer than what it read.
    let at = stamp(deps.clock.now());
    // The clinic's name and zone (the board's clock) with the polies, their numbers and last
    // calls: four reads at most, side by side.
    let (settings, mut polies, numbers, (calls, service_calls, closed), services, service_day) = futures::try_join!(
        crate::configuration::settings::settings(deps, tenant),
        record::list::<Poly>(deps, tenant, false),
        source.day(deps, tenant, date),
        last_calls(deps, tenant, date),
        record::list::<crate::clinic_flow::services::Service>(deps, tenant, false),
        crate::clinic_flow::services::day(deps, tenant, date)
    )?;
    let name = settings.name.unwrap_or_else(|| tenant.slug().to_string());
    let timezone = settings.zone.name().to_string();
    polies.sort_by_key(|p| p.id);
    let keys = poly_keys(&polies.iter().map(|p| (p.id, p.data.name.clone())).collect::<Vec<_>>());
    let mut data = Vec::with_capacity(polies.len());
    for (poly, key) in polies.into_iter().zip(keys) {
        // A closed day's boards are cleared: whoever staff still finish is not called any more.
        let n = if closed { DayNumbers::default() } else { numbers.get(&poly.id).cloned().unwrap_or_default() };
        let last_call = if closed { None } else { calls.iter().find(|(id, _)| *id == poly.id).map(|(_, c)| c.clone()) };
        data.push((
            key,
            Section::Poly(PolyBoard {
                kind: poly_kind(),
                poly_id: poly.id,
                poly_name: poly.data.name,
                queue_number_anamnesa: n.anamnesa,
                queue_number_with_doctor: n.with_doctor,
                queue_number_anamnesa_priority: n.anamnesa_priority,
                queue_number_with_doctor_priority: n.with_doctor_priority,
                rooms: n.rooms,
                last_call,
            }),
        ));
    }
    let mut services = services;
    services.sort_by_key(|s| s.id);
    let keys = poly_keys(&services.iter().map(|s| (s.id, s.data.name.clone())).collect::<Vec<_>>());
    for (service, key) in services.into_iter().zip(keys) {
        let (called, waiting) = if closed { (vec![], 0) } else { crate::clinic_flow::services::numbers_of(&service_day, service.id) };
        let last_call = if closed { None } else { service_calls.iter().find(|(id, _)| *id == service.id).map(|(_, c)| c.clone()) };
        data.push((
            format!("service_{key}"),
            Section::Service(ServiceBoard {
                kind: "service".into(),
                service_id: service.id,
                service_name: service.data.name,
                service_kind: service.data.kind,
                called,
                waiting,
                last_call,
            }),
        ));
    }
    Ok(Snapshot {
        event: SNAPSHOT_EVENT.into(),
        clinic: ClinicView { slug: tenant.slug().into(), name, timezone },
        date: date.format("%Y-%m-%d").to_string(),
        at,
        data: Polies(data),
    })
}

/// May this caller watch the board? A board token, or any staff token that may see the queue.
pub fn may_watch(p: &Principal) -> bool {
    p.can(Permission::BoardWatch) || p.can(Permission::QueueView)
}

/// A board is an API key that grants `board.watch` and nothing else.
pub fn is_board(key: &ApiKey) -> bool {
    key.permissions == [Permission::BoardWatch]
}

pub const DEFAULT_NAME: &str = "Display board";
const NOT_FOUND: &str = "Board not found";

/// Creates a board showing `filter`'s sections; returns it and its token (shown once).
/// Managing boards is the permission that matters: the creator need not hold `board.watch`
/// themselves.
pub async fn create(deps: &Deps, creator: &Principal, name: Option<String>, filter: BoardFilter) -> DomainResult<(Stored<ApiKey>, String)> {
    creator.require(Permission::BoardsManage)?;
    let mut minting = creator.clone();
    minting.permissions.insert(Permission::BoardWatch);
    let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).unwrap_or_else(|| DEFAULT_NAME.into());
    let requirements = || filter.requirements(&creator.tenant);
    api_key::create_with(deps, &minting, Some(name), Some(vec![Permission::BoardWatch]), filter.clone(), requirements).await
}

/// Renames a board and / or changes what it shows (`poly_ids`, `rooms`, `services` of `body`;
/// a field left out stays). Its open sockets keep the old filter until they reconnect.
pub async fn update(
    deps: &Deps,
    tenant: &Tenant,
    actor: &Actor,
    id: i64,
    name: Option<String>,
    body: &Value,
) -> DomainResult<Stored<ApiKey>> {
    let changed = record::update::<ApiKey>(deps, tenant, actor, id, |current| {
        if !is_board(&current.data) {
            return Err(DomainError::NotFound(NOT_FOUND.into()));
        }
        let mut errors = crate::error::FieldErrors::new();
        let filter = BoardFilter::parse(&mut errors, body, &current.data.board_filter);
        errors.into_result()?;
        let requirements = filter.requirements(tenant);
        let mut data = current.data.clone();
        if let Some(name) = &name {
            data.token_name = name.clone();
        }
        data.board_filter = filter;
        Ok((data, requirements))
    })
    .await;
    match changed {
        Err(DomainError::NotFound(_)) => Err(DomainError::NotFound(NOT_FOUND.into())),
        other => other,
    }
}

/// The clinic's live boards, oldest first.
pub async fn list(deps: &Deps, tenant: &Tenant) -> DomainResult<Vec<Stored<ApiKey>>> {
    let mut boards: Vec<_> = api_key::list(deps, tenant).await?.into_iter().filter(|k| is_board(&k.data)).collect();
    boards.sort_by_key(|b| b.id);
    Ok(boards)
}

/// Revokes a board: its token stops working at once. Another kind of API key is not a board.
pub async fn revoke(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    match record::get::<ApiKey>(deps, tenant, id).await? {
        Some(k) if !k.is_trashed() && is_board(&k.data) => api_key::revoke(deps, tenant, actor, id).await,
        _ => Err(DomainError::NotFound(NOT_FOUND.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poly_keys_follow_the_seed() {
        assert_eq!(poly_key("Poli Umum", 1), "umum");
        assert_eq!(poly_key("poli gigi", 2), "gigi");
        assert_eq!(poly_key("Gigi", 2), "gigi");
        assert_eq!(poly_key("  POLI  Kesehatan Ibu & Anak ", 3), "kesehatan_ibu_anak");
        assert_eq!(poly_key("Poliklinik Mata", 4), "poliklinik_mata");
        assert_eq!(poly_key("Poli", 5), "poly_5");
        assert_eq!(poly_key("Poli-Anak", 6), "anak");
        assert_eq!(poly_key("Poli Gigi 2", 7), "gigi_2");
    }

    struct Fixed;

    #[async_trait]
    impl QueueNumbers for Fixed {
        async fn day(&self, _: &Deps, _: &Tenant, _: NaiveDate) -> DomainResult<HashMap<i64, DayNumbers>> {
            Ok(HashMap::from([(1, DayNumbers { anamnesa: Some(12), with_doctor: Some(15), with_doctor_priority: true, ..Default::default() })]))
        }
    }

    /// The last call of each poly lands in the snapshot; a late, older call does not replace a
    /// newer one; another day and another clinic are apart.
    #[tokio::test]
    async fn snapshots_carry_the_latest_call_per_poly() {
        use std::sync::Arc;

        use antrean_store::embedded::EmbeddedTable;

        let dir = tempfile::tempdir().unwrap();
        let deps = Deps {
            table: Arc::new(EmbeddedTable::open(dir.path()).unwrap()),
            clock: Arc::new(crate::SystemClock),
            tokens: Arc::new(crate::auth::token::TokenKeys::new(&[7u8; 32], chrono::Duration::hours(1)).unwrap()),
        };
        let tenant = Tenant::parse("klinik").unwrap();
        let other = Tenant::parse("lain").unwrap();
        let actor = Actor::system("test");
        for name in ["Poli Umum", "Poli Gigi"] {
            record::create(&deps, &tenant, &actor, Poly { name: name.into() }, |_| vec![]).await.unwrap();
        }
        let day = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        let t0 = DateTime::parse_from_rfc3339("2026-01-10T02:00:00Z").unwrap().with_timezone(&Utc);
        let call = |n: i64, calls: i64, secs: i64| Call {
            poly_id: 1,
            date: day,
            queue_number: n,
            stage: Stage::WithDoctor,
            number_of_calls: calls,
            at: t0 + chrono::Duration::seconds(secs),
            room: Some("Ruang 2".into()),
            priority: false,
        };
        record_call(&deps, &tenant, &call(15, 1, 0)).await.unwrap();
        record_call(&deps, &tenant, &call(15, 2, 30)).await.unwrap();
        record_call(&deps, &tenant, &call(14, 1, 10)).await.unwrap(); // late and older: ignored
        record_call(&deps, &tenant, &Call { date: day.succ_opt().unwrap(), ..call(1, 1, 60) }).await.unwrap();
        record_call(&deps, &other, &call(99, 1, 90)).await.unwrap();

        let s = snapshot_with(&Fixed, &deps, &tenant, day).await.unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["event"], "queue.snapshot");
        assert_eq!(v["date"], "2026-01-10");
        assert_eq!(
            v["data"]["umum"],
            serde_json::json!({"kind": "poly", "poly_id": 1, "poly_name": "Poli Umum", "queue_number_anamnesa": 12, "queue_number_with_doctor": 15,
                "queue_number_anamnesa_priority": false, "queue_number_with_doctor_priority": true, "rooms": [],
                "last_call": {"queue_number": 15, "stage": "with_doctor", "number_of_calls": 2, "at": "2026-01-10T02:00:30.000000Z",
                    "room": "Ruang 2", "priority": false}})
        );
        assert_eq!(v["data"]["gigi"]["last_call"], Value::Null);
        assert_eq!(v["data"]["gigi"]["queue_number_anamnesa"], Value::Null);
    }

    #[test]
    fn clashing_keys_take_the_id() {
        let keys = poly_keys(&[(1, "Poli Umum".into()), (2, "Umum".into()), (3, "Poli Gigi".into())]);
        assert_eq!(keys, vec!["umum", "umum_2", "gigi"]);
    }

    #[test]
    fn the_payload_is_keyed_by_poly_in_order() {
        let pb = |id, name: &str| PolyBoard {
            kind: poly_kind(),
            queue_number_anamnesa_priority: false,
            queue_number_with_doctor_priority: false,
            rooms: vec![],
            poly_id: id,
            poly_name: name.into(),
            queue_number_anamnesa: Some(12),
            queue_number_with_doctor: Some(15),
            last_call: None,
        };
        let polies = Polies(vec![("umum".into(), Section::Poly(pb(1, "Poli Umum"))), ("gigi".into(), Section::Poly(pb(2, "Poli Gigi")))]);
        let v = serde_json::to_value(&polies).unwrap();
        assert_eq!(v["umum"]["queue_number_anamnesa"], 12);
        assert_eq!(v["gigi"]["queue_number_with_doctor"], 15);
        let text = serde_json::to_string(&polies).unwrap();
        assert!(text.find("umum").unwrap() < text.find("gigi").unwrap());
        let back: Polies = serde_json::from_str(&text).unwrap();
        assert_eq!(back, polies);
    }
}
