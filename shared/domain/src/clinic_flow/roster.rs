//! The day's room roster: which doctor sits in which room on a date. A room's own `doctor_id`
//! is its default; a roster entry for a date overrides it for that day (`doctor_id: null`: no
//! doctor in it that day). One small item per room and day,
//! `T#<clinic>#ROOM_ROSTER#<yyyy-mm-dd>` / `<room id, 12>`, so call-next takes its room's entry
//! along in the batch read it makes anyway, at no extra cost.
//!
//! The rule call-next follows with a room (`queue::call_next`): the room first calls the
//! patients booked on its doctor's schedule that day (under the clinic's priority policy);
//! when none of them waits, it calls the next of the poly's whole line, so no room sits idle
//! while patients wait.
use std::collections::{BTreeMap, HashMap};

use antrean_store::{Item, Key, Op, Query, SortKey};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{json, Value};

use super::rooms::{self, Room};
use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{self, Stored};
use crate::reservation::item_with;
use crate::tenant::{id_key, Tenant};
use crate::user::User;
use crate::{validate, Deps};

/// Audit entity of a roster change (its id: the date as `yyyymmdd`).
pub const ENTITY: &str = "ROOM_ROSTER";
/// The most rooms one roster change names (one atomic write).
pub const MAX_ROOMS: usize = 50;

fn partition(tenant: &Tenant, date: &str) -> String {
    tenant.partition(&format!("ROOM_ROSTER#{date}"))
}

pub fn key(tenant: &Tenant, date: NaiveDate, room_id: i64) -> Key {
    Key::new(partition(tenant, &date.format("%Y-%m-%d").to_string()), id_key(room_id))
}

/// The doctor in `room` on the day, from its roster entry as read (`None`: no entry, the
/// room's default doctor).
pub fn doctor_of(room: &Stored<Room>, entry: Option<&Item>) -> Option<i64> {
    match entry {
        Some(e) => e.get("doctor_id").and_then(Value::as_i64),
        None => room.data.doctor_id,
    }
}

/// One room on one day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RosterRoom {
    pub room_id: i64,
    pub poly_id: i64,
    pub room: String,
    pub doctor_id: Option<i64>,
    /// `roster` (set for this day) or `default` (the room's own doctor).
    pub source: String,
}

/// The day's roster of the clinic's live rooms (one poly's when asked), by poly then name.
pub async fn day(deps: &Deps, tenant: &Tenant, date: NaiveDate, poly_id: Option<i64>) -> DomainResult<Vec<RosterRoom>> {
    let day = date.format("%Y-%m-%d").to_string();
    let (rooms, entries) = futures::try_join!(rooms::list(deps, tenant, poly_id), async {
        Ok(antrean_store::query_all(deps.table.as_ref(), Query::partition(partition(tenant, &day)).sort(SortKey::Any)).await?)
    })?;
    let by_room: HashMap<i64, &Item> = entries.iter().filter_map(|e| Some((e.get("room_id")?.as_i64()?, e))).collect();
    Ok(rooms
        .iter()
        .map(|r| {
            let entry = by_room.get(&r.id).copied();
            RosterRoom {
                room_id: r.id,
                poly_id: r.data.poly_id,
                room: r.data.name.clone(),
                doctor_id: doctor_of(r, entry),
                source: if entry.is_some() { "roster" } else { "default" }.into(),
            }
        })
        .collect())
}

/// Sets the doctors of some rooms for a day: `{"date", "rooms": [{"room_id", "doctor_id"}]}`,
/// `doctor_id` null for nobody. Rooms left out keep what they had. A doctor sits in one room
/// a day. One atomic write with the audit entry.
pub async fn set(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value, today: NaiveDate) -> DomainResult<Vec<RosterRoom>> {
    let mut errors = FieldErrors::new();
    let date = validate::required_date(&mut errors, body, "date");
    if date.is_some_and(|d| d < today) {
        errors.add("date", "The date field must be a date after or equal to today.");
    }
    let mut wanted: BTreeMap<i64, Option<i64>> = BTreeMap::new();
    match body.get("rooms") {
        Some(Value::Array(list)) if !list.is_empty() && list.len() <= MAX_ROOMS => {
            for (i, entry) in list.iter().enumerate() {
                let field = format!("rooms.{i}.room_id");
                let room = validate::required_id(&mut errors, entry, "room_id").map(Some).unwrap_or(None);
                let doctor = validate::optional_id(&mut errors, entry, "doctor_id");
                match (room, doctor) {
                    (Some(r), Some(d)) if wanted.insert(r, d).is_some() => errors.add(&field, "A room is named twice."),
                    _ => {}
                }
            }
        }
        Some(Value::Array(list)) if !list.is_empty() => errors.add("rooms", format!("At most {MAX_ROOMS} rooms at a time.")),
        _ => errors.add("rooms", "The rooms field must be a non-empty array of {room_id, doctor_id}."),
    }
    errors.into_result()?;
    let date = date.ok_or_else(|| DomainError::Internal("a checked roster lacks its date".into()))?;
    let current = day(deps, tenant, date, None).await?;
    let doctors: Vec<i64> = wanted.values().flatten().copied().collect();
    let users = record::get_many::<User>(deps, tenant, doctors.iter().copied()).await?;
    let mut errors = FieldErrors::new();
    for (room, doctor) in &wanted {
        if !current.iter().any(|r| r.room_id == *room) {
            errors.add("rooms", format!("Room {room} is not a room of this clinic."));
        }
        if let Some(d) = doctor {
            if users.get(d).is_none_or(|u| u.is_trashed()) {
                errors.add("rooms", format!("The selected doctor id {d} is invalid."));
            }
        }
    }
    // The day as it will be: a doctor in two rooms is refused.
    let mut seats: BTreeMap<i64, Vec<&RosterRoom>> = BTreeMap::new();
    for r in &current {
        if let Some(d) = wanted.get(&r.room_id).copied().unwrap_or(r.doctor_id) {
            seats.entry(d).or_default().push(r);
        }
    }
    for (doctor, rooms) in seats.iter().filter(|(_, rooms)| rooms.len() > 1 && rooms.iter().any(|r| wanted.contains_key(&r.room_id))) {
        let names: Vec<&str> = rooms.iter().map(|r| r.room.as_str()).collect();
        errors.add("rooms", format!("Doctor {doctor} would sit in {} on the same day.", names.join(" and ")));
    }
    errors.into_result()?;
    let now = deps.clock.now();
    let mut ops: Vec<Op> = wanted
        .iter()
        .map(|(room, doctor)| {
            let poly = current.iter().find(|r| r.room_id == *room).map(|r| r.poly_id);
            Op::put(item_with(&key(tenant, date, *room), json!({ "room_id": room, "poly_id": poly, "doctor_id": doctor, "set_at": stamp(now) })))
        })
        .collect();
    let day_id = date.format("%Y%m%d").to_string().parse::<i64>().unwrap_or_default();
    ops.push(audit::entry(tenant, actor, Action::Update, ENTITY, day_id, now));
    deps.table.write(ops).await?;
    day(deps, tenant, date, None).await
}
