//! What one board shows: a waiting area's TV limited to chosen polies, rooms and services.
//!
//! The filter is stored with the board's key and applied by the server to every message the
//! board is sent (the first snapshot, each push, the answer to `hello`), so a board never
//! receives another waiting area's sections. It works on the snapshot's JSON, so whatever the
//! queue engine adds to a section travels untouched.
//!
//! A section is kept when
//! - it is a poly section (`kind` absent or `"poly"`) whose `poly_id` is chosen, or one that
//!   names a chosen room (its `rooms`, or its last call's `room`): then only the chosen rooms'
//!   calls and entries stay in it;
//! - it is a service section (`kind: "service"`, pharmacy, laboratory…) whose key or name is a
//!   chosen service.
//!
//! An empty filter is the whole clinic.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::api_key::ApiKey;
use crate::auth::principal::{Credential, Principal};
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The room a value names: `"Ruang 2"` or `{"name": "Ruang 2", …}` / `{"room": "Ruang 2", …}`.
fn room_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v.get("name").and_then(Value::as_str)).or_else(|| v.get("room").and_then(Value::as_str))
}

impl BoardFilter {
    /// The whole clinic.
    pub fn is_everything(&self) -> bool {
        self.poly_ids.is_empty() && self.rooms.is_empty() && self.services.is_empty()
    }

    fn room_chosen(&self, name: &str) -> bool {
        self.rooms.iter().any(|r| same_name(r, name))
    }

    /// Keeps only the sections of `snapshot["data"]` this board shows.
    pub fn apply(&self, snapshot: &mut Value) {
        if self.is_everything() {
            return;
        }
        let Some(data) = snapshot.get_mut("data").and_then(Value::as_object_mut) else {
            return;
        };
        data.retain(|key, section| self.keep(key, section));
    }

    fn keep(&self, key: &str, section: &mut Value) -> bool {
        match section.get("kind").and_then(Value::as_str).unwrap_or("poly") {
            "service" => {
                let name = ["service_name", "name"].iter().find_map(|f| section.get(*f).and_then(Value::as_str)).unwrap_or("");
                self.services.iter().any(|s| same_name(s, key) || (!name.is_empty() && same_name(s, name)))
            }
            _ => {
                let poly = section.get("poly_id").and_then(Value::as_i64);
                if poly.is_some_and(|p| self.poly_ids.contains(&p)) {
                    return true;
                }
                self.narrow_to_rooms(section)
            }
        }
    }

    /// A poly section kept for one of its rooms: other rooms' entries and calls go. False when
    /// it names none of the chosen rooms.
    fn narrow_to_rooms(&self, section: &mut Value) -> bool {
        if self.rooms.is_empty() {
            return false;
        }
        let mut named = false;
        if let Some(rooms) = section.get_mut("rooms").and_then(Value::as_array_mut) {
            rooms.retain(|r| room_of(r).is_some_and(|n| self.room_chosen(n)));
            named = !rooms.is_empty();
        }
        if let Some(call) = section.get_mut("last_call") {
            match call.get("room").and_then(Value::as_str) {
                Some(room) if self.room_chosen(room) => named = true,
                // A call to another room is not this waiting area's to announce.
                _ => *call = Value::Null,
            }
        }
        named
    }

    /// Reads `poly_ids`, `rooms` and `services` from a create or update body; a field left out
    /// keeps `current`'s value.
    pub fn parse(errors: &mut FieldErrors, body: &Value, current: &BoardFilter) -> BoardFilter {
        let mut filter = current.clone();
        if let Some(list) = list(errors, body, "poly_ids") {
            let mut ids = Vec::new();
            for (i, v) in list.iter().enumerate() {
                match validate::as_id(v) {
                    Some(id) if id > 0 => {
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                    _ => errors.add(&format!("poly_ids.{i}"), format!("The selected poly_ids.{i} is invalid.")),
                }
            }
            filter.poly_ids = ids;
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

    /// Every chosen poly must be live when the board is saved: checked in the board's write.
    pub fn requirements(&self, tenant: &Tenant) -> Vec<Requirement> {
        self.poly_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let field = format!("poly_ids.{i}");
                record::must_be_live::<Poly>(tenant, *id, FieldErrors::single(&field, format!("The selected {field} is invalid.")))
            })
            .collect()
    }
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

    #[test]
    fn bodies_are_checked_and_a_missing_field_keeps_its_value() {
        let tenant = Tenant::parse("klinik").unwrap();
        let current = BoardFilter { rooms: vec!["Ruang 1".into()], ..Default::default() };
        let mut errors = FieldErrors::new();
        let f = BoardFilter::parse(&mut errors, &json!({"poly_ids": ["2", 1, 2], "services": [" Farmasi ", "farmasi"]}), &current);
        assert!(errors.is_empty());
        assert_eq!(f, BoardFilter { poly_ids: vec![2, 1], rooms: vec!["Ruang 1".into()], services: vec!["Farmasi".into()] });
        assert_eq!(f.requirements(&tenant).len(), 2, "each poly must be live");
        let f = BoardFilter::parse(&mut errors, &json!({"rooms": null}), &current);
        assert!(f.is_everything());
        let mut errors = FieldErrors::new();
        BoardFilter::parse(&mut errors, &json!({"poly_ids": [0, "x"], "rooms": "Ruang 1", "services": [""]}), &current);
        for field in ["poly_ids.0", "poly_ids.1", "rooms", "services.0"] {
            assert!(errors.has(field), "{field}: {:?}", errors.0);
        }
    }
}
