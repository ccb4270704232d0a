//! The calls a board announces: numbers called to anamnesa or in to the doctor. A queue move
//! keeps its call on the poly-day's rollup bucket, in the slots below (`board::state`); the
//! day's board partition `T#<clinic>#BOARD#<yyyy-mm-dd>` keeps the services' last calls
//! (`SERVICE#<id>`, `clinic_flow::services`), the end of the day's `CLOSED` mark, and the
//! polies' items (`<poly id>`) written before the calls moved to the buckets, which
//! [`call_op`] and [`record_call`] still write and the snapshot still reads.
//!
//! A poly's recent calls are kept in slots, written by the same op of the move's one atomic
//! write (the bucket's update; on the older items, beside the item's last call): per stage,
//! one slot per queue number modulo [`SLOTS`] and per call of that number (the first call and
//! each recall apart). On the bucket the latest slot is the poly's last call (the seed
//! payload's `last_call`). A call leaves the list only when a number [`SLOTS`] (2·[`SLOTS`]…) above it
//! is called as often at the same stage: long after a board that was away would still
//! announce it.
use antrean_store::{Condition, Item, Key, Op, Query, SortKey, StoreError, Update};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::clinic_flow::services::ServiceCall;
use crate::clock::stamp;
use crate::error::DomainResult;
use crate::tenant::{id_key, Tenant};
use crate::Deps;

/// The stage a number was called to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// A nurse called the number to anamnesa.
    Anamnesa,
    /// The doctor called the number in.
    WithDoctor,
}

impl Stage {
    /// One letter in slot names and call ids.
    fn letter(self) -> char {
        match self {
            Stage::Anamnesa => 'a',
            Stage::WithDoctor => 'w',
        }
    }

    fn of_letter(c: char) -> Option<Stage> {
        match c {
            'a' => Some(Stage::Anamnesa),
            'w' => Some(Stage::WithDoctor),
            _ => None,
        }
    }
}

/// Where a call sends the number and whether it is a priority patient: the same fields in a
/// poly's last call and in the list of calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CalledTo {
    /// The room called to ("Ruang 2"), absent when the call named none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// That room's id, when the day's queue knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<i64>,
    /// A priority patient (elderly, disability, pregnancy, emergency: as the clinic counts).
    #[serde(default)]
    pub priority: bool,
}

impl CalledTo {
    /// From a stored item or slot whose room and priority go by `room` and `priority`.
    fn read<'a>(get: impl Fn(&str) -> Option<&'a Value>, room: &str, priority: &str) -> CalledTo {
        CalledTo {
            room: get(room).and_then(Value::as_str).map(str::to_string),
            room_id: None,
            priority: get(priority).and_then(Value::as_bool).unwrap_or(false),
        }
    }
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
    #[serde(flatten)]
    pub to: CalledTo,
}

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

/// One call of the day as the snapshot lists it (`calls`, oldest first): a board announces,
/// in this order, those whose `id` it has not announced yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentCall {
    /// The same for the same call in every snapshot, different for every call (a recall too):
    /// `p<poly id>-<a|w><number>-<call>-<ms>`, `s<service id>-<number>-<ms>`.
    pub id: String,
    /// The section of `data` it belongs to (`"umum"`, `"service_farmasi"`).
    pub section: String,
    /// `"poly"` or `"service"`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poly_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<i64>,
    pub queue_number: i64,
    /// A poly's call: `anamnesa` or `with_doctor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    /// A service's call: `called`, or at the pharmacy `ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub number_of_calls: i64,
    /// A second or third call of the same number at the same stage.
    pub recall: bool,
    pub at: String,
    #[serde(flatten)]
    pub to: CalledTo,
    /// Orders the list; not sent (`at` says the same).
    #[serde(skip)]
    pub at_ms: i64,
}

/// The last calls of one clinic day: `T#<clinic>#BOARD#<yyyy-mm-dd>` / `<poly id>`.
pub(crate) fn calls_partition(tenant: &Tenant, date: NaiveDate) -> String {
    tenant.partition(&format!("BOARD#{}", date.format("%Y-%m-%d")))
}

/// Keep the last-call items a while after their day, then let the TTL sweep them.
const CALL_RETENTION_DAYS: i64 = 3;

/// Slots per stage in a poly's item (queue number modulo this).
pub const SLOTS: i64 = 8;
pub(crate) const SLOT_PREFIX: &str = "recent_";

/// `recent_w04_2`: the doctor's stage, numbers 4, 12, 20…, their second call.
pub(crate) fn slot_name(stage: Stage, queue_number: i64, number_of_calls: i64) -> String {
    format!("{SLOT_PREFIX}{}{:02}_{}", stage.letter(), queue_number.rem_euclid(SLOTS), number_of_calls.clamp(1, 9))
}

/// A slot's value, short: every byte is paid for on each move's write.
fn slot_value(call: &Call) -> Value {
    let mut v = json!({"n": call.queue_number, "c": call.number_of_calls, "t": call.at.timestamp_millis(), "p": call.priority});
    if let Some(room) = &call.room {
        v["r"] = room.clone().into();
    }
    v
}

/// Remembers a call so boards can announce it. Written after the call itself; an older call
/// arriving late never overwrites a newer last call, but still joins the recent calls.
pub async fn record_call(deps: &Deps, tenant: &Tenant, call: &Call) -> DomainResult<()> {
    let at_ms = call.at.timestamp_millis();
    let Op::Update { key, update, .. } = call_op(tenant, call) else { unreachable!("call_op is an update") };
    let newer = Condition::Or(vec![Condition::attr_not_exists("at_ms"), Condition::compare("at_ms", antrean_store::Cmp::Le, at_ms)]);
    let slot_only = Update::new().set(&slot_name(call.stage, call.queue_number, call.number_of_calls), slot_value(call));
    let mut op = Op::update_if(key.clone(), update, newer);
    for _ in 0..5 {
        match deps.table.write(vec![op.clone()]).await {
            Ok(()) => return Ok(()),
            // A newer call is already there: only the recent calls learn of this one.
            Err(StoreError::ConditionFailed { .. }) => op = Op::update(key.clone(), slot_only.clone()),
            Err(e) if e.is_retryable() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

/// The call as one unconditional op, for the queue move's own atomic write: the move that
/// commits last is the call the board shows; every call keeps its own slot.
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
        .set(&slot_name(stage, queue_number, number_of_calls), slot_value(call))
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

/// One poly call as read back from its item, before the snapshot names its section.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    pub queue_number: i64,
    pub stage: Stage,
    pub number_of_calls: i64,
    pub at_ms: i64,
    pub to: CalledTo,
}

impl Heard {
    /// The list entry, in section `key` of poly `poly_id`.
    pub fn entry(&self, key: &str, poly_id: i64, room_id: Option<i64>) -> RecentCall {
        RecentCall {
            id: format!("p{poly_id}-{}{}-{}-{}", self.stage.letter(), self.queue_number, self.number_of_calls, self.at_ms),
            section: key.to_string(),
            kind: "poly".into(),
            poly_id: Some(poly_id),
            service_id: None,
            queue_number: self.queue_number,
            stage: Some(self.stage),
            status: None,
            number_of_calls: self.number_of_calls,
            recall: self.number_of_calls > 1,
            at: stamp(DateTime::from_timestamp_millis(self.at_ms).unwrap_or_default()),
            to: CalledTo { room_id: room_id.filter(|_| self.to.room.is_some()), ..self.to.clone() },
            at_ms: self.at_ms,
        }
    }
}

/// What the day's board partition holds: per poly its last call and recent calls, per service
/// its last call (with its time in ms), and whether the day is closed.
#[derive(Debug, Default)]
pub struct DayCalls {
    pub polies: Vec<(i64, LastCall, Vec<Heard>)>,
    pub services: Vec<(i64, ServiceCall, i64)>,
    pub closed: bool,
}

impl DayCalls {
    pub fn poly(&self, id: i64) -> Option<&(i64, LastCall, Vec<Heard>)> {
        self.polies.iter().find(|(p, _, _)| *p == id)
    }
}

/// The day's calls: one Query of the partition.
pub async fn day_calls(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<DayCalls> {
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(calls_partition(tenant, date)).sort(SortKey::Any)).await?;
    let mut day = DayCalls::default();
    for item in &items {
        let sk = item.get("sk").and_then(Value::as_str).unwrap_or_default();
        let n = |k: &str| item.get(k).and_then(Value::as_i64).unwrap_or_default();
        if sk == CLOSED {
            day.closed = true;
        } else if let Some(id) = sk.strip_prefix(crate::clinic_flow::services::CALL_PREFIX).and_then(|s| s.parse::<i64>().ok()) {
            let call = ServiceCall {
                queue_number: n("queue_number"),
                poly_id: n("poly_id"),
                status: item.get("status").and_then(Value::as_str).unwrap_or_default().to_string(),
                number_of_calls: n("number_of_calls"),
                priority: item.get("priority").and_then(Value::as_bool).unwrap_or(false),
                at: item.get("at").and_then(Value::as_str).unwrap_or_default().to_string(),
            };
            day.services.push((id, call, n("at_ms")));
        } else if let Ok(id) = sk.parse::<i64>() {
            let last = LastCall {
                queue_number: n("queue_number"),
                stage: item.get("stage").cloned().and_then(|v| serde_json::from_value(v).ok()).unwrap_or(Stage::Anamnesa),
                number_of_calls: item.get("number_of_calls").and_then(Value::as_i64).unwrap_or(1),
                at: item.get("at").and_then(Value::as_str).unwrap_or_default().to_string(),
                to: CalledTo::read(|k| item.get(k), "room", "priority"),
            };
            let mut heard = slots(item);
            // An item written before the slots existed has its last call only.
            let at_ms = n("at_ms");
            let same = |h: &Heard| (h.at_ms, h.queue_number, h.stage, h.number_of_calls) == (at_ms, last.queue_number, last.stage, last.number_of_calls);
            if at_ms > 0 && !heard.iter().any(same) {
                let LastCall { queue_number, stage, number_of_calls, to, .. } = last.clone();
                heard.push(Heard { queue_number, stage, number_of_calls, at_ms, to });
            }
            heard.sort_by_key(|h| (h.at_ms, h.queue_number, h.number_of_calls));
            day.polies.push((id, last, heard));
        }
    }
    Ok(day)
}

/// A poly item's recent calls, as its slots keep them (a rollup bucket's slots say the time in
/// µs, `u`, and the room's id, `i`: `board::state`).
pub(crate) fn slots(item: &Item) -> Vec<Heard> {
    let mut out: Vec<Heard> = Vec::new();
    for (name, v) in item {
        let Some(stage) = name.strip_prefix(SLOT_PREFIX).and_then(|s| s.chars().next()).and_then(Stage::of_letter) else { continue };
        let n = |k: &str| v.get(k).and_then(Value::as_i64);
        let (Some(queue_number), Some(at_ms)) = (n("n"), n("t").or(n("u").map(|u| u.div_euclid(1000)))) else { continue };
        out.push(Heard {
            queue_number,
            stage,
            number_of_calls: n("c").unwrap_or(1),
            at_ms,
            to: CalledTo { room_id: n("i"), ..CalledTo::read(|k| v.get(k), "r", "p") },
        });
    }
    out
}

/// A service's last call as a list entry, in section `key`.
pub fn service_entry(key: &str, service_id: i64, call: &ServiceCall, at_ms: i64) -> RecentCall {
    RecentCall {
        // Not the count: an earlier call's is not kept (`snapshot::service_calls`), the time is.
        id: format!("s{service_id}-{}-{at_ms}", call.queue_number),
        section: key.to_string(),
        kind: "service".into(),
        poly_id: None,
        service_id: Some(service_id),
        queue_number: call.queue_number,
        stage: None,
        status: Some(call.status.clone()),
        number_of_calls: call.number_of_calls,
        recall: call.number_of_calls > 1,
        at: call.at.clone(),
        to: CalledTo { priority: call.priority, ..Default::default() },
        at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_of_a_number_has_its_own_slot() {
        assert_eq!(slot_name(Stage::WithDoctor, 12, 2), "recent_w04_2");
        assert_eq!(slot_name(Stage::Anamnesa, 3, 1), "recent_a03_1");
        assert_ne!(slot_name(Stage::Anamnesa, 3, 1), slot_name(Stage::Anamnesa, 3, 2), "a recall keeps the first call");
        assert_ne!(slot_name(Stage::Anamnesa, 3, 1), slot_name(Stage::WithDoctor, 3, 1));
        assert_eq!(slot_name(Stage::Anamnesa, 3, 1), slot_name(Stage::Anamnesa, 3 + SLOTS, 1), "8 numbers on, a slot is reused");
    }
}
