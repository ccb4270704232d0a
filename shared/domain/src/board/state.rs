//! A poly's day as its boards see it, kept on the poly-day's rollup item
//! (`rollup::key`, `T#<clinic>#ROLLUP#<yyyy>` / `<yyyy-mm-dd>#<poly id>`), which every change
//! of a reservation already writes in its one atomic write: the board costs no item of its own
//! and the snapshot reads a day's polies in one small Query instead of the whole day's queue.
//!
//! Attributes beside the counts:
//! - `q<queue number>`: a number now at anamnesa or with the doctor, `{"s": "a" | "w", "t":
//!   called (ms), "p": true (priority, else left out), "i": room id, "r": room name}`; SET when
//!   the number enters such a stage (or its call, priority or room changes there), REMOVEd when
//!   it leaves. Computed from the reservation before and after ([`stage_ops`]), by every writer.
//! - `recent_<a|w><nn>_<call>`: the recent calls, in the slots `board::calls` keeps (here with
//!   the time in µs, `u`, and the room's id, `i`); the latest is the poly's last call.
//! - [`MARK`]: set by the create that hands out the day's number 1. A bucket without it was
//!   started before the board state was kept here: its `q…` attributes may be missing, and
//!   the snapshot reads that poly's numbers from the day's queue instead.
//!
//! Closing the day ([`clear_day`]) removes the numbers and calls again: a closed day's boards
//! show nothing, and the bucket goes back to its counts, which every dashboard and report over
//! a range reads for years (a read unit per 4 KB read).
use antrean_store::{Item, Op, Query, Update};
use chrono::NaiveDate;
use serde_json::{json, Value};

use super::calls::{slot_name, Call, Heard, LastCall};
use super::snapshot::{DayNumbers, PolyCalls};
use crate::clock::stamp;
use crate::error::DomainResult;
use crate::reservation::{parse_stamp, DayEntry, Reservation, ANAMNESA, WITH_DOCTOR};
use crate::rollup;
use crate::tenant::Tenant;
use crate::Deps;

/// Set on a bucket whose board state is complete (kept since its day's first number).
pub const MARK: &str = "board";
const STAGE_PREFIX: &str = "q";

/// Whether a bucket's attribute is board state (a rebuild of the counts keeps these).
pub fn is_board_attr(name: &str) -> bool {
    name == MARK || name.starts_with(super::calls::SLOT_PREFIX) || name.strip_prefix(STAGE_PREFIX).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn stage_attr(queue_number: i64) -> String {
    format!("{STAGE_PREFIX}{queue_number}")
}

/// What the board knows of a number at a called stage (`None` anywhere else). The call's time
/// is the queue's `called_ms`: a call (enter or recall) is the last move that set
/// `queue_updated_at`.
fn at_stage(r: &Reservation) -> Option<Value> {
    let stage = match r.status_code.as_str() {
        ANAMNESA => "a",
        WITH_DOCTOR => "w",
        _ => return None,
    };
    let mut v = json!({"s": stage, "t": parse_stamp(&r.queue_updated_at).map(|t| t.timestamp_millis()).unwrap_or_default()});
    if r.priority {
        v["p"] = true.into();
    }
    // The queue keeps the room of a call in to the doctor.
    if let (WITH_DOCTOR, Some(id), Some(room)) = (r.status_code.as_str(), r.room_id, &r.room) {
        v["i"] = id.into();
        v["r"] = room.clone().into();
    }
    Some(v)
}

/// An update of the poly-day's bucket that a rebuild notices (`rev`) and that leaves a valid
/// rollup item should it be the first write there.
fn bucket_op(tenant: &Tenant, date: NaiveDate, poly_id: i64, update: Update) -> Op {
    let u = update.set("date", date.format("%Y-%m-%d").to_string()).set("poly_id", poly_id).add("rev", 1);
    Op::update(rollup::key(tenant, date, poly_id), u)
}

/// The board-state changes that a reservation change makes (`before` `None`: a new one). Pure;
/// one unconditional update per bucket touched, for `reservation::merge_updates` to fold into
/// the counts' update of the same bucket.
pub fn stage_ops(tenant: &Tenant, before: Option<&Reservation>, after: &Reservation) -> Vec<Op> {
    let was = before.and_then(at_stage);
    let now = at_stage(after);
    let same_number = before.is_some_and(|b| (b.poly_id, &b.date, b.queue_number) == (after.poly_id, &after.date, after.queue_number));
    let mut ops = Vec::new();
    if let (Some(b), Some(_)) = (before, &was) {
        if !same_number || now.is_none() {
            ops.push(bucket_op(tenant, b.visit_date(), b.poly_id, Update::new().remove(&stage_attr(b.queue_number))));
        }
    }
    if let Some(v) = now {
        if !same_number || was.as_ref() != Some(&v) {
            ops.push(bucket_op(tenant, after.visit_date(), after.poly_id, Update::new().set(&stage_attr(after.queue_number), v)));
        }
    }
    ops
}

/// A call's slot on the bucket: short, every byte is paid for on each write of the bucket.
fn slot_value(call: &Call, room_id: Option<i64>) -> Value {
    let mut v = json!({"n": call.queue_number, "c": call.number_of_calls, "u": call.at.timestamp_micros()});
    if call.priority {
        v["p"] = true.into();
    }
    if let Some(room) = &call.room {
        v["r"] = room.clone().into();
        if let Some(id) = room_id {
            v["i"] = id.into();
        }
    }
    v
}

/// Puts a call (and the id of the room it names) into the move's own atomic write, on the
/// bucket's update already there (conditional or not: a write names an item once), else as
/// its own update of the bucket. The slots of calls older than a snapshot lists
/// ([`super::snapshot::RECENT_MINUTES`]) go in the same update, as this attempt read the
/// bucket (`bucket`): the new call is then the latest (the poly's last call), and the bucket,
/// which every move of the day rewrites, stays small however many recalls the day has (a
/// write unit per started KB, two in a transaction).
pub fn fold_call(ops: &mut Vec<Op>, tenant: &Tenant, call: &Call, room_id: Option<i64>, bucket: Option<&Item>) {
    let name = slot_name(call.stage, call.queue_number, call.number_of_calls);
    let mut slot = Update::new().set(&name, slot_value(call, room_id));
    let since_ms = call.at.timestamp_millis() - super::snapshot::RECENT_MINUTES * 60_000;
    for (stale, v) in bucket.into_iter().flatten().filter(|(a, _)| a.starts_with(super::calls::SLOT_PREFIX) && **a != name) {
        let at_ms = v.get("u").and_then(Value::as_i64).map(|u| u.div_euclid(1000)).or_else(|| v.get("t").and_then(Value::as_i64));
        if at_ms.is_some_and(|t| t < since_ms) {
            slot = slot.remove(stale);
        }
    }
    let k = rollup::key(tenant, call.date, call.poly_id);
    match ops.iter_mut().find_map(|op| match op {
        Op::Update { key, update, .. } if *key == k => Some(update),
        _ => None,
    }) {
        Some(u) => crate::reservation::fold_into(u, &slot),
        None => ops.push(bucket_op(tenant, call.date, call.poly_id, slot)),
    }
}

/// Marks the bucket of a poly's day as keeping the board's state from its start: the write
/// that hands out the day's number 1 (it creates the bucket) carries [`MARK`].
pub fn mark_first(ops: &mut Vec<Op>, tenant: &Tenant, r: &Reservation) {
    if r.queue_number != 1 {
        return;
    }
    let mark = Update::new().set(MARK, 1);
    let k = rollup::key(tenant, r.visit_date(), r.poly_id);
    match ops.iter_mut().find_map(|op| match op {
        Op::Update { key, update, condition: None } if *key == k => Some(update),
        _ => None,
    }) {
        Some(u) => crate::reservation::fold_into(u, &mark),
        None => ops.push(bucket_op(tenant, r.visit_date(), r.poly_id, mark)),
    }
}

/// One poly's day as its bucket keeps it: the numbers at a called stage and the recent calls.
fn of_bucket(item: &Item, poly_id: i64) -> DayNumbers {
    let mut entries = Vec::new();
    for (name, v) in item {
        let Some(queue_number) = name.strip_prefix(STAGE_PREFIX).and_then(|n| n.parse::<i64>().ok()) else { continue };
        let status_code = match v.get("s").and_then(Value::as_str) {
            Some("a") => ANAMNESA,
            Some("w") => WITH_DOCTOR,
            _ => continue,
        };
        entries.push(DayEntry {
            poly_id,
            queue_number,
            status_code: status_code.into(),
            called_ms: v.get("t").and_then(Value::as_i64),
            priority: v.get("p").and_then(Value::as_bool).unwrap_or(false),
            room_id: v.get("i").and_then(Value::as_i64),
            room: v.get("r").and_then(Value::as_str).map(str::to_string),
            ..Default::default()
        });
    }
    let mut n = DayNumbers::of(&entries, poly_id);
    let mut heard = super::calls::slots(item);
    heard.sort_by_key(|h| (h.at_ms, h.queue_number, h.number_of_calls));
    n.calls = last_of(item, &heard).map(|(last, last_ms)| PolyCalls { last, last_ms, heard });
    n
}

/// The latest call in the slots, by its exact time.
fn last_of(item: &Item, heard: &[Heard]) -> Option<(LastCall, i64)> {
    let micros = |h: &Heard| {
        let slot = item.get(&slot_name(h.stage, h.queue_number, h.number_of_calls));
        slot.and_then(|v| v.get("u")).and_then(Value::as_i64).unwrap_or(h.at_ms * 1000)
    };
    let h = heard.iter().max_by_key(|h| (micros(h), h.queue_number))?;
    let at = stamp(chrono::DateTime::from_timestamp_micros(micros(h)).unwrap_or_default());
    Some((LastCall { queue_number: h.queue_number, stage: h.stage, number_of_calls: h.number_of_calls, at, to: h.to.clone() }, h.at_ms))
}

/// The rollup buckets of one day, every poly's: one Query of the year's partition.
async fn day_buckets(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<Vec<Item>> {
    use chrono::Datelike;
    let query = Query::partition(rollup::partition(tenant, date.year())).sort(rollup::sort_key_range(date, date));
    Ok(antrean_store::query_all(deps.table.as_ref(), query).await?)
}

/// The day's polies as their buckets keep them (one Query of the rollup partition), and the
/// polies whose bucket is older than the board state ([`MARK`]).
pub async fn day(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<(Vec<(i64, DayNumbers)>, Vec<i64>)> {
    let items = day_buckets(deps, tenant, date).await?;
    let (mut kept, mut older) = (Vec::new(), Vec::new());
    for item in &items {
        let Some(poly_id) = item.get("poly_id").and_then(Value::as_i64) else { continue };
        if item.contains_key(MARK) {
            kept.push((poly_id, of_bucket(item, poly_id)));
        } else {
            older.push(poly_id);
            // Calls made since the board state moved here are on the bucket all the same.
            kept.push((poly_id, DayNumbers { calls: of_bucket(item, poly_id).calls, ..Default::default() }));
        }
    }
    Ok((kept, older))
}

/// Removes a closed day's board state from its buckets (the counts and [`MARK`] stay), one
/// small update per poly that has any. Idempotent; a number staff still call after the close
/// puts its own attribute back, which the closed day's boards do not show.
pub async fn clear_day(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<()> {
    for item in day_buckets(deps, tenant, date).await? {
        let (Some(pk), Some(sk)) = (item.get("pk").and_then(Value::as_str), item.get("sk").and_then(Value::as_str)) else { continue };
        let board: Vec<&String> = item.keys().filter(|a| is_board_attr(a) && a.as_str() != MARK).collect();
        if board.is_empty() {
            continue;
        }
        let mut update = Update::new();
        for a in board {
            update = update.remove(a);
        }
        deps.table.write(vec![Op::update(antrean_store::Key::new(pk, sk), update)]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Stage;

    fn call(n: i64, calls: i64, at: chrono::DateTime<chrono::Utc>) -> Call {
        Call { poly_id: 1, date: at.date_naive(), queue_number: n, stage: Stage::Anamnesa, number_of_calls: calls, at, room: None, priority: false }
    }

    #[test]
    fn a_call_drops_the_slots_a_snapshot_no_longer_lists() {
        let tenant = Tenant::parse("klinik").unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-02T03:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let mut bucket = Item::new();
        for (n, c, minutes_ago) in [(1, 1, 40), (1, 2, 16), (2, 1, 14), (3, 1, 1)] {
            let old = call(n, c, now - chrono::Duration::minutes(minutes_ago));
            bucket.insert(slot_name(Stage::Anamnesa, n, c), slot_value(&old, None));
        }
        let mut ops = Vec::new();
        fold_call(&mut ops, &tenant, &call(12, 1, now), None, Some(&bucket));
        let [Op::Update { update, .. }] = ops.as_slice() else { panic!("{ops:?}") };
        let mut removed = update.remove.clone();
        removed.sort();
        assert_eq!(removed, vec![slot_name(Stage::Anamnesa, 1, 1), slot_name(Stage::Anamnesa, 1, 2)], "older than 15 minutes");
        assert!(update.set.iter().any(|(a, _)| *a == slot_name(Stage::Anamnesa, 12, 1)));
        // Number 9 and number 1 share a slot (modulo 8): the new call's slot is set, not removed.
        let mut ops = Vec::new();
        fold_call(&mut ops, &tenant, &call(9, 1, now), None, Some(&bucket));
        let [Op::Update { update, .. }] = ops.as_slice() else { panic!("{ops:?}") };
        assert!(!update.remove.contains(&slot_name(Stage::Anamnesa, 9, 1)), "{update:?}");
        assert!(update.set.iter().any(|(a, _)| *a == slot_name(Stage::Anamnesa, 9, 1)));
        assert_eq!(update.remove, vec![slot_name(Stage::Anamnesa, 1, 2)]);
    }
}
