//! What one board shows: a waiting area's TV limited to chosen polies, rooms and services.
//!
//! The filter is stored with the board's key and applied by the server to every message the
//! board is sent (the first snapshot, each push, the answer to `hello`), so a board never
//! receives another waiting area's sections. It works on the snapshot's JSON, so whatever the
//! queue engine adds to a section travels untouched.
//!
//! A section is kept when
//! - it is a poly section (`kind` absent or `"poly"`) whose `poly_id` is chosen, or one that
//!   names a chosen room (its `rooms`, or its last call's room): then only the chosen rooms'
//!   calls and entries stay in it. Rooms are chosen by id (`room_ids`, exact: names repeat
//!   across polies) or by name (`rooms`, any poly's room of that name, as before ids);
//! - it is a service section (`kind: "service"`, pharmacy, laboratory…) whose key or name is a
//!   chosen service.
//!
//! The snapshot's `calls` keep the calls of the sections kept (of a section kept for its rooms,
//! the calls to those rooms). An empty filter is the whole clinic.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::api_key::ApiKey;
use crate::auth::principal::{Credential, Principal};
use crate::clinic_flow::rooms::Room;
use crate::error::{DomainResult, FieldErrors};
use crate::poly::Poly;
use crate::record::{self, Requirement};
use crate::tenant::Tenant;
use crate::{validate, Deps};

/// At most this many entries in each list.
pub const MAX_ENTRIES: usize = 100;
/// A room or service name, at most this long.
const MAX_NAME: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardFilter {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poly_ids: Vec<i64>,
    /// Rooms by id (`clinic_flow::rooms`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub room_ids: Vec<i64>,
    /// Rooms by name, any poly's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The room a value names: `"Ruang 2"` or `{"name": "Ruang 2", …}` / `{"room": "Ruang 2", …}`,
/// and its `room_id` when it carries one.
fn room_of(v: &Value) -> (Option<&str>, Option<i64>) {
    let name = v.as_str().or_else(|| v.get("name").and_then(Value::as_str)).or_else(|| v.get("room").and_then(Value::as_str));
    (name, v.get("room_id").and_then(Value::as_i64))
}

impl BoardFilter {
    /// The whole clinic.
    pub fn is_everything(&self) -> bool {
        self.poly_ids.is_empty() && self.room_ids.is_empty() && self.rooms.is_empty() && self.services.is_empty()
    }

    fn chooses_rooms(&self) -> bool {
        !self.room_ids.is_empty() || !self.rooms.is_empty()
    }

    /// A room named by `v` (a room entry, a call) is chosen: by its id, or by its name.
    fn room_chosen(&self, v: &Value) -> bool {
        match room_of(v) {
            (_, Some(id)) if self.room_ids.contains(&id) => true,
            (Some(name), _) => self.rooms.iter().any(|r| same_name(r, name)),
            _ => false,
        }
    }

    /// Keeps only the sections of `snapshot["data"]` this board shows.
    pub fn apply(&self, snapshot: &mut Value) {
        if self.is_everything() {
            return;
        }
        let Some(data) = snapshot.get_mut("data").and_then(Value::as_object_mut) else {
            return;
        };
        // Section key → whether it is kept whole (false: for its rooms only).
        let mut kept = std::collections::HashMap::new();
        data.retain(|key, section| match self.keep(key, section) {
            Some(whole) => {
                kept.insert(key.clone(), whole);
                true
            }
            None => false,
        });
        if let Some(calls) = snapshot.get_mut("calls").and_then(Value::as_array_mut) {
            calls.retain(|c| match c.get("section").and_then(Value::as_str).and_then(|k| kept.get(k)) {
                Some(true) => true,
                Some(false) => self.room_chosen(c),
                None => false,
            });
        }
    }

    /// `Some(true)`: kept whole; `Some(false)`: kept for its chosen rooms; `None`: not shown.
    fn keep(&self, key: &str, section: &mut Value) -> Option<bool> {
        match section.get("kind").and_then(Value::as_str).unwrap_or("poly") {
            "service" => {
                let name = ["service_name", "name"].iter().find_map(|f| section.get(*f).and_then(Value::as_str)).unwrap_or("");
                self.services.iter().any(|s| same_name(s, key) || (!name.is_empty() && same_name(s, name))).then_some(true)
            }
            _ => {
                let poly = section.get("poly_id").and_then(Value::as_i64);
                if poly.is_some_and(|p| self.poly_ids.contains(&p)) {
                    return Some(true);
                }
                self.narrow_to_rooms(section).then_some(false)
            }
        }
    }

    /// A poly section kept for one of its rooms: other rooms' entries and calls go. False when
    /// it names none of the chosen rooms.
    fn narrow_to_rooms(&self, section: &mut Value) -> bool {
        if !self.chooses_rooms() {
            return false;
        }
        let mut named = false;
        if let Some(rooms) = section.get_mut("rooms").and_then(Value::as_array_mut) {
            rooms.retain(|r| self.room_chosen(r));
            named = !rooms.is_empty();
        }
        if let Some(call) = section.get_mut("last_call") {
            if self.room_chosen(call) {
                named = true;
            } else {
                // A call to another room is not this waiting area's to announce.
                *call = Value::Null;
            }
        }
        named
    }

    /// Reads `poly_ids`, `room_ids`, `rooms` and `services` from a create or update body; a
    /// field left out keeps `current`'s value.
    pub fn parse(errors: &mut FieldErrors, body: &Value, current: &BoardFilter) -> BoardFilter {
        let mut filter = current.clone();
        if let Some(ids) = ids(errors, body, "poly_ids") {
            filter.poly_ids = ids;
        }
        if let Some(ids) = ids(errors, body, "room_ids") {
            filter.room_ids = ids;
        }
        for field in ["rooms", "services"] {
            let Some(list) = list(errors, body, field) else {
                continue;
            };
            let mut names: Vec<String> = Vec::new();
            for (i, v) in list.iter().enumerate() {
                let entry = format!("{field}.{i}");
                match v.as_str().map(str::trim) {
                    Some(s) if !s.is_empty() && s.chars().count() <= MAX_NAME => {
                        if !names.iter().any(|n| same_name(n, s)) {
                            names.push(s.to_string());
                        }
                    }
                    Some(s) if !s.is_empty() => {
                        errors.add(&entry, format!("The {entry} field must not be greater than {MAX_NAME} characters."))
                    }
                    _ => errors.add(&entry, format!("The {entry} field must be a non-empty string.")),
                }
            }
            if field == "rooms" {
                filter.rooms = names;
            } else {
                filter.services = names;
            }
        }
        filter
    }

    /// Every chosen poly and room must be live when the board is saved: checked in the board's
    /// write.
    pub fn requirements(&self, tenant: &Tenant) -> Vec<Requirement> {
        let invalid = |field: String| FieldErrors::single(&field, format!("The selected {field} is invalid."));
        let polies = self.poly_ids.iter().enumerate().map(|(i, id)| record::must_be_live::<Poly>(tenant, *id, invalid(format!("poly_ids.{i}"))));
        let rooms = self.room_ids.iter().enumerate().map(|(i, id)| record::must_be_live::<Room>(tenant, *id, invalid(format!("room_ids.{i}"))));
        polies.chain(rooms).collect()
    }
}

/// A list of ids (`poly_ids`, `room_ids`): positive, each once.
fn ids(errors: &mut FieldErrors, body: &Value, field: &str) -> Option<Vec<i64>> {
    let list = list(errors, body, field)?;
    let mut ids = Vec::new();
    for (i, v) in list.iter().enumerate() {
        match validate::as_id(v) {
            Some(id) if id > 0 => {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            _ => errors.add(&format!("{field}.{i}"), format!("The selected {field}.{i} is invalid.")),
        }
    }
    Some(ids)
}

/// What a watcher is limited to: a board's stored filter; staff see the whole clinic. Read
/// once when the socket opens.
pub async fn filter_of(deps: &Deps, p: &Principal) -> DomainResult<BoardFilter> {
    match p.credential {
        Credential::ApiKey { id } => Ok(record::get::<ApiKey>(deps, &p.tenant, id).await?.map(|k| k.data.board_filter).unwrap_or_default()),
        Credential::Session { .. } => Ok(BoardFilter::default()),
    }
}

/// The snapshot as one watcher receives it: only the sections its filter shows.
pub fn message_for(snapshot: &super::Snapshot, filter: &BoardFilter) -> String {
    if filter.is_everything() {
        return serde_json::to_string(snapshot).unwrap_or_default();
    }
    let mut v = serde_json::to_value(snapshot).unwrap_or(Value::Null);
    filter.apply(&mut v);
    v.to_string()
}

/// [`message_for`] from the text already serialised for the whole clinic; `None` for text
/// that is not a snapshot (never sent to a limited board).
pub fn text_for(text: &str, filter: &BoardFilter) -> Option<String> {
    if filter.is_everything() {
        return Some(text.to_string());
    }
    let mut v = serde_json::from_str::<Value>(text).ok()?;
    filter.apply(&mut v);
    Some(v.to_string())
}

/// A list field: absent gives `None`; null or `[]` an empty list (the limit is lifted).
fn list<'a>(errors: &mut FieldErrors, body: &'a Value, field: &str) -> Option<&'a [Value]> {
    match body.get(field) {
        None => None,
        Some(Value::Null) => Some(&[]),
        Some(Value::Array(a)) if a.len() > MAX_ENTRIES => {
            errors.add(field, format!("The {field} field must not have more than {MAX_ENTRIES} items."));
            None
        }
        Some(Value::Array(a)) => Some(a),
        Some(_) => {
            errors.add(field, format!("The {field} field must be an array."));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot() -> Value {
        json!({"event": "queue.snapshot", "data": {
            "umum": {"poly_id": 1, "poly_name": "Poli Umum", "rooms": [{"name": "Ruang 1"}, {"name": "Ruang 2"}],
                     "last_call": {"queue_number": 12, "room": "Ruang 2"}},
            "gigi": {"poly_id": 2, "poly_name": "Poli Gigi", "last_call": {"queue_number": 3, "room": "Ruang 5"}},
            "mata": {"poly_id": 3, "poly_name": "Poli Mata", "last_call": null},
            "farmasi": {"kind": "service", "name": "Farmasi", "last_call": null},
            "kasir": {"kind": "service", "name": "Kasir"}
        }})
    }

    fn keys(v: &Value) -> Vec<String> {
        v["data"].as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn an_empty_filter_is_the_whole_clinic() {
        let mut s = snapshot();
        BoardFilter::default().apply(&mut s);
        assert_eq!(s, snapshot());
    }

    #[test]
    fn polies_and_services_are_chosen_by_id_and_by_key_or_name() {
        let mut s = snapshot();
        BoardFilter { poly_ids: vec![2], services: vec!["FARMASI".into()], ..Default::default() }.apply(&mut s);
        assert_eq!(keys(&s), ["gigi", "farmasi"]);
        assert_eq!(s["data"]["gigi"], snapshot()["data"]["gigi"], "a chosen poly is whole");
        let mut s = snapshot();
        BoardFilter { services: vec!["kasir".into()], ..Default::default() }.apply(&mut s);
        assert_eq!(keys(&s), ["kasir"]);
    }

    #[test]
    fn a_room_keeps_its_poly_with_that_rooms_calls_only() {
        let mut s = snapshot();
        BoardFilter { rooms: vec!["ruang 1".into()], ..Default::default() }.apply(&mut s);
        assert_eq!(keys(&s), ["umum"]);
        assert_eq!(s["data"]["umum"]["rooms"], json!([{"name": "Ruang 1"}]));
        assert_eq!(s["data"]["umum"]["last_call"], Value::Null, "the call to Ruang 2 is not this board's");
        let mut s = snapshot();
        BoardFilter { rooms: vec!["Ruang 5".into()], ..Default::default() }.apply(&mut s);
        assert_eq!(keys(&s), ["gigi"], "named by its last call");
        assert_eq!(s["data"]["gigi"]["last_call"]["queue_number"], 3);
    }

    /// Two polies each with a "Ruang 1": a board for room id 11 shows Umum's only.
    fn with_rooms() -> Value {
        json!({"event": "queue.snapshot", "data": {
            "umum": {"poly_id": 1, "rooms": [{"room_id": 11, "room": "Ruang 1", "queue_number": 4}, {"room_id": 12, "room": "Ruang 2", "queue_number": 5}],
                     "last_call": {"queue_number": 5, "room": "Ruang 2", "room_id": 12}},
            "gigi": {"poly_id": 2, "rooms": [{"room_id": 21, "room": "Ruang 1", "queue_number": 9}], "last_call": {"queue_number": 9, "room": "Ruang 1", "room_id": 21}},
            "farmasi": {"kind": "service", "name": "Farmasi"}
        }, "calls": [
            {"id": "a", "section": "umum", "queue_number": 3, "stage": "anamnesa"},
            {"id": "b", "section": "umum", "queue_number": 4, "room": "Ruang 1", "room_id": 11},
            {"id": "c", "section": "gigi", "queue_number": 9, "room": "Ruang 1", "room_id": 21},
            {"id": "d", "section": "umum", "queue_number": 5, "room": "Ruang 2", "room_id": 12},
            {"id": "e", "section": "farmasi", "queue_number": 2}
        ]})
    }

    fn call_ids(v: &Value) -> Vec<&str> {
        v["calls"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect()
    }

    #[test]
    fn rooms_are_chosen_by_id_exactly_and_by_name_in_any_poly() {
        let mut s = with_rooms();
        BoardFilter { room_ids: vec![11], ..Default::default() }.apply(&mut s);
        assert_eq!(keys(&s), ["umum"], "Gigi's Ruang 1 is another room");
        assert_eq!(s["data"]["umum"]["rooms"], json!([{"room_id": 11, "room": "Ruang 1", "queue_number": 4}]));
        assert_eq!(s["data"]["umum"]["last_call"], Value::Null, "the call to Ruang 2 is not this board's");
        assert_eq!(call_ids(&s), ["b"], "only the calls to room 11");
        let mut s = with_rooms();
        BoardFilter { rooms: vec!["ruang 1".into()], ..Default::default() }.apply(&mut s);
        assert_eq!(keys(&s), ["umum", "gigi"], "a name is any poly's room of that name");
        assert_eq!(call_ids(&s), ["b", "c"]);
        let mut s = with_rooms();
        BoardFilter { room_ids: vec![12], rooms: vec!["Ruang 1".into()], ..Default::default() }.apply(&mut s);
        assert_eq!(call_ids(&s), ["b", "c", "d"], "ids and names together");
    }

    #[test]
    fn the_calls_list_keeps_the_sections_shown() {
        let mut s = with_rooms();
        BoardFilter { poly_ids: vec![1], services: vec!["farmasi".into()], ..Default::default() }.apply(&mut s);
        assert_eq!(call_ids(&s), ["a", "b", "d", "e"], "a whole poly keeps all its calls, anamnesa too");
        let mut s = with_rooms();
        BoardFilter::default().apply(&mut s);
        assert_eq!(call_ids(&s), ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn bodies_are_checked_and_a_missing_field_keeps_its_value() {
        let tenant = Tenant::parse("klinik").unwrap();
        let current = BoardFilter { rooms: vec!["Ruang 1".into()], ..Default::default() };
        let mut errors = FieldErrors::new();
        let f = BoardFilter::parse(&mut errors, &json!({"poly_ids": ["2", 1, 2], "services": [" Farmasi ", "farmasi"]}), &current);
        assert!(errors.is_empty());
        assert_eq!(f, BoardFilter { poly_ids: vec![2, 1], rooms: vec!["Ruang 1".into()], services: vec!["Farmasi".into()], ..Default::default() });
        assert_eq!(f.requirements(&tenant).len(), 2, "each poly must be live");
        let f = BoardFilter::parse(&mut errors, &json!({"rooms": null}), &current);
        assert!(f.is_everything());
        let f = BoardFilter::parse(&mut errors, &json!({"room_ids": [4, "4", 7]}), &current);
        assert!(errors.is_empty());
        assert_eq!((f.room_ids.clone(), f.rooms.clone()), (vec![4, 7], vec!["Ruang 1".to_string()]));
        assert_eq!(f.requirements(&tenant).len(), 2, "each room must be live");
        let mut errors = FieldErrors::new();
        BoardFilter::parse(&mut errors, &json!({"poly_ids": [0, "x"], "room_ids": [-1], "rooms": "Ruang 1", "services": [""]}), &current);
        for field in ["poly_ids.0", "poly_ids.1", "room_ids.0", "rooms", "services.0"] {
            assert!(errors.has(field), "{field}: {:?}", errors.0);
        }
    }
}
