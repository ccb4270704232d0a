//! What a board shows: the clinic's snapshot of one day.
//!
//! A snapshot is the seed's "WebScoket (Laravel Reverb)" payload: `data`, an object keyed by
//! poly (`"umum"`, `"gigi"`) whose values hold `queue_number_anamnesa` and
//! `queue_number_with_doctor`, plus `poly_id`, `poly_name` and the last call so a board can
//! announce a recall; then the service sections. Beside `data`, `calls` lists the day's recent
//! calls, oldest first, each with its own id, so a board that was away announces every call it
//! missed, in order, once. Only numbers travel: no patient names, no reservation ids.
use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::calls::{self, CalledTo, Heard, LastCall, RecentCall};
use super::keys::poly_keys;
use crate::clock::stamp;
use crate::error::DomainResult;
use crate::poly::Poly;
use crate::record;
use crate::tenant::Tenant;
use crate::Deps;

pub use crate::clinic_flow::services::{ServiceBoard, ServiceCall};

/// The event name of a snapshot message.
pub const SNAPSHOT_EVENT: &str = "queue.snapshot";

/// A section lists at most this many recent calls…
pub const RECENT_PER_SECTION: usize = 10;
/// …made at most this long before the snapshot (a board announces those younger than two
/// minutes; the rest of the list fills its calls panel).
pub const RECENT_MINUTES: i64 = 15;

/// Who is in one room of a poly now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomBoard {
    pub room_id: i64,
    pub room: String,
    pub queue_number: i64,
    pub priority: bool,
}

/// What the queue says of one poly's day: the numbers at anamnesa and with the doctor (seed
/// `GET /api/queue/current`), whether they are priority, who is in each room, and the room
/// each number was called in to (so calls carry the room's id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayNumbers {
    pub anamnesa: Option<i64>,
    pub with_doctor: Option<i64>,
    pub anamnesa_priority: bool,
    pub with_doctor_priority: bool,
    pub rooms: Vec<RoomBoard>,
    /// Queue number → (room id, room name) of the numbers called in to a room.
    pub called_to: HashMap<i64, (i64, String)>,
    /// The poly's calls, when they are kept with the numbers (`board::state`); else the day's
    /// board partition has them.
    pub calls: Option<PolyCalls>,
}

/// A poly's last call (with its time in ms) and recent calls, as its rollup bucket keeps them.
#[derive(Debug, Clone, PartialEq)]
pub struct PolyCalls {
    pub last: LastCall,
    pub last_ms: i64,
    pub heard: Vec<Heard>,
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
        let called_to = entries
            .iter()
            .filter(|e| e.poly_id == poly_id)
            .filter_map(|e| Some((e.queue_number, (e.room_id?, e.room.clone()?))))
            .collect();
        DayNumbers {
            anamnesa,
            with_doctor,
            anamnesa_priority: is_priority(anamnesa),
            with_doctor_priority: is_priority(with_doctor),
            rooms,
            called_to,
            calls: None,
        }
    }

    /// The id of the room `room` a call of `queue_number` named: from the number's own entry,
    /// else from the rooms now occupied (room names are unique within a poly).
    fn room_id(&self, queue_number: i64, room: Option<&str>) -> Option<i64> {
        let room = room?;
        match self.called_to.get(&queue_number) {
            Some((id, name)) if name == room => Some(*id),
            _ => self.rooms.iter().find(|r| r.room == room).map(|r| r.room_id),
        }
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

pub(crate) fn poly_kind() -> String {
    "poly".into()
}

/// One section of the board: a poly (the seed's) or a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Section {
    Poly(PolyBoard),
    Service(ServiceBoard),
}

/// The seed's payload: polies keyed by [`super::poly_key`], in poly id order, then the
/// services (`service_<key>`), in id order.
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
/// "date":"2026-01-10","at":"…","data":{"umum":{…},"gigi":{…}},"calls":[…]}`. `data` is the
/// seed's payload; `at` orders snapshots (a board ignores one older than what it shows);
/// `calls` are the recent calls of every section, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub event: String,
    pub clinic: ClinicView,
    pub date: String,
    pub at: String,
    pub data: Polies,
    #[serde(default)]
    pub calls: Vec<RecentCall>,
}

/// What the board reads from the queue: the numbers now at anamnesa and with the doctor for
/// one poly and day (the seed's `GET /api/queue/current`).
#[async_trait]
pub trait QueueNumbers: Send + Sync {
    /// Every poly's numbers of one day, by poly id (a poly nobody is at may be missing).
    async fn day(&self, deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<HashMap<i64, DayNumbers>>;
}

/// The queue engine's own numbers: one Query on the whole day's queue for every poly (and the
/// calls from the day's board partition).
pub struct FromQueue;

#[async_trait]
impl QueueNumbers for FromQueue {
    async fn day(&self, deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<HashMap<i64, DayNumbers>> {
        let entries = crate::reservation::day_entries(deps, tenant, date, None).await?;
        let polies: BTreeSet<i64> = entries.iter().map(|e| e.poly_id).collect();
        Ok(polies.into_iter().map(|p| (p, DayNumbers::of(&entries, p))).collect())
    }
}

/// The numbers and calls the day's rollup buckets keep (`board::state`): one small Query. A
/// poly whose bucket predates the board state there (a day begun before) has its numbers read
/// from the day's queue, as [`FromQueue`] does.
pub struct FromRollups;

#[async_trait]
impl QueueNumbers for FromRollups {
    async fn day(&self, deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<HashMap<i64, DayNumbers>> {
        let (kept, older) = super::state::day(deps, tenant, date).await?;
        let mut out: HashMap<i64, DayNumbers> = kept.into_iter().collect();
        if older.is_empty() {
            return Ok(out);
        }
        for (poly, numbers) in FromQueue.day(deps, tenant, date).await? {
            if out.contains_key(&poly) && !older.contains(&poly) {
                continue;
            }
            let calls = out.remove(&poly).and_then(|n| n.calls);
            out.insert(poly, DayNumbers { calls, ..numbers });
        }
        Ok(out)
    }
}

/// The snapshot of one clinic day from what the rollup buckets keep of the queue.
pub async fn snapshot(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<Snapshot> {
    snapshot_with(&FromRollups, deps, tenant, date).await
}

/// A poly's last call and recent calls: those on its bucket and those on its item in the day's
/// board partition (written before the calls moved to the bucket), the later last call winning.
fn poly_calls(board: Option<&(i64, LastCall, Vec<Heard>)>, bucket: Option<&PolyCalls>) -> Option<(LastCall, Vec<Heard>)> {
    match (board, bucket) {
        (None, None) => None,
        (Some((_, last, heard)), None) => Some((last.clone(), heard.clone())),
        (None, Some(b)) => Some((b.last.clone(), b.heard.clone())),
        (Some((_, last, heard)), Some(b)) => {
            let board_ms = crate::reservation::parse_stamp(&last.at).map(|t| t.timestamp_millis()).unwrap_or_default();
            let last = if b.last_ms >= board_ms { b.last.clone() } else { last.clone() };
            let mut heard: Vec<Heard> = heard.iter().chain(&b.heard).cloned().collect();
            heard.sort_by_key(|h| (h.at_ms, h.queue_number, h.number_of_calls));
            Some((last, heard))
        }
    }
}

/// The snapshot of one clinic day: every live poly (numbers `null` when nobody is there).
pub async fn snapshot_with(source: &dyn QueueNumbers, deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<Snapshot> {
    // Taken before reading, so a snapshot never claims to be newer than what it read.
    let now = deps.clock.now();
    let at = stamp(now);
    let since_ms = now.timestamp_millis() - RECENT_MINUTES * 60_000;
    // The clinic's name and zone (the board's clock) with the polies, their numbers and
    // calls, the services and their day: read side by side.
    let (settings, mut polies, numbers, day, services, service_day) = futures::try_join!(
        crate::configuration::settings::settings(deps, tenant),
        record::list::<Poly>(deps, tenant, false),
        source.day(deps, tenant, date),
        calls::day_calls(deps, tenant, date),
        record::list::<crate::clinic_flow::services::Service>(deps, tenant, false),
        crate::clinic_flow::services::day(deps, tenant, date)
    )?;
    let closed = day.closed;
    let name = settings.name.unwrap_or_else(|| tenant.slug().to_string());
    let timezone = settings.zone.name().to_string();
    polies.sort_by_key(|p| p.id);
    let keys = poly_keys(&polies.iter().map(|p| (p.id, p.data.name.clone())).collect::<Vec<_>>());
    let mut data = Vec::with_capacity(polies.len());
    let mut recent: Vec<RecentCall> = Vec::new();
    for (poly, key) in polies.into_iter().zip(keys) {
        // A closed day's boards are cleared: whoever staff still finish is not called any more.
        let n = if closed { DayNumbers::default() } else { numbers.get(&poly.id).cloned().unwrap_or_default() };
        let calls = if closed { None } else { poly_calls(day.poly(poly.id), n.calls.as_ref()) };
        // A call kept on the bucket knows its room's id; an older one is matched by the room's name.
        let room_id = |number: i64, to: &CalledTo| to.room_id.or_else(|| n.room_id(number, to.room.as_deref()));
        let last_call = calls.as_ref().map(|(c, _)| LastCall { to: CalledTo { room_id: room_id(c.queue_number, &c.to), ..c.to.clone() }, ..c.clone() });
        if let Some((_, heard)) = &calls {
            let fresh: Vec<_> = heard.iter().filter(|h| h.at_ms >= since_ms).collect();
            let from = fresh.len().saturating_sub(RECENT_PER_SECTION);
            recent.extend(fresh[from..].iter().map(|h| h.entry(&key, poly.id, room_id(h.queue_number, &h.to))));
        }
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
        let key = format!("service_{key}");
        let (called, waiting) = if closed { (vec![], 0) } else { crate::clinic_flow::services::numbers_of(&service_day, service.id) };
        let last = if closed { None } else { day.services.iter().find(|(id, _, _)| *id == service.id) };
        if !closed {
            let mut heard = service_calls(&service_day, service.id, last.map(|(_, c, ms)| (c, *ms)), since_ms);
            heard.sort_by_key(|(_, ms)| *ms);
            let from = heard.len().saturating_sub(RECENT_PER_SECTION);
            recent.extend(heard[from..].iter().map(|(call, ms)| calls::service_entry(&key, service.id, call, *ms)));
        }
        data.push((
            key,
            Section::Service(ServiceBoard {
                kind: "service".into(),
                service_id: service.id,
                service_name: service.data.name,
                service_kind: service.data.kind,
                called,
                waiting,
                last_call: last.map(|(_, c, _)| c.clone()),
            }),
        ));
    }
    recent.sort_by(|a, b| (a.at_ms, &a.section, a.queue_number).cmp(&(b.at_ms, &b.section, b.queue_number)));
    Ok(Snapshot {
        event: SNAPSHOT_EVENT.into(),
        clinic: ClinicView { slug: tenant.slug().into(), name, timezone },
        date: date.format("%Y-%m-%d").to_string(),
        at,
        data: Polies(data),
        calls: recent,
    })
}

/// A service's calls since `since_ms`: each number's latest call there, from the services' day
/// queue the snapshot reads anyway (`called_ms`; `clinic_flow::services` keeps one last-call
/// item per service, not slots). The service's last call gives its own count; the index does
/// not keep one, so an earlier number's call says 1.
fn service_calls(items: &[antrean_store::Item], service_id: i64, last: Option<(&ServiceCall, i64)>, since_ms: i64) -> Vec<(ServiceCall, i64)> {
    let mut out = Vec::new();
    for i in items.iter().filter(|i| i.get("service_id").and_then(Value::as_i64) == Some(service_id)) {
        let n = |k: &str| i.get(k).and_then(Value::as_i64);
        let (Some(queue_number), Some(at_ms)) = (n("queue_number"), n("called_ms")) else { continue };
        if at_ms < since_ms {
            continue;
        }
        match last {
            Some((call, ms)) if ms == at_ms && call.queue_number == queue_number => out.push((call.clone(), ms)),
            _ => {
                // The stage it was called to: finished since, it was at `ready` (pharmacy) or `called`.
                let status = match i.get("status").and_then(Value::as_str).unwrap_or_default() {
                    "collected" => "ready",
                    "done" | "" => "called",
                    other => other,
                };
                let at = stamp(chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default());
                let priority = i.get("priority").and_then(Value::as_bool).unwrap_or(false);
                let call = ServiceCall { queue_number, poly_id: n("poly_id").unwrap_or_default(), status: status.into(), number_of_calls: 1, priority, at };
                out.push((call, at_ms));
            }
        }
    }
    // The last call, should the index not show it yet (it is written in the same transaction).
    if let Some((call, ms)) = last.filter(|(_, ms)| *ms >= since_ms) {
        if !out.iter().any(|(_, at)| *at == ms) {
            out.push((call.clone(), ms));
        }
    }
    out
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
