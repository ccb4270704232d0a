//! Rooms (or counters) of a poly, each with the doctor working in it. Call-next names a room:
//! it finishes the patient in that room and calls the next one in to it, so two doctors of one
//! poly each take the next patient and never the same one (the move is conditioned on the
//! reservation's version: of two rooms pressing at once, one wins and the other takes the next).
//! The board and the voice call name the room: "Nomor antrean A 12, silakan menuju Ruang 2".
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::poly::Poly;
use crate::record::{self, Record, Stored, Unique};
use crate::tenant::Tenant;
use crate::user::User;
use crate::{validate, Deps};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Room {
    pub poly_id: i64,
    /// As the waiting room hears it: "Ruang 2", "Loket 1".
    pub name: String,
    /// The doctor working in it (a staff user), if the clinic says.
    #[serde(default)]
    pub doctor_id: Option<i64>,
}

impl Record for Room {
    const KIND: &'static str = "ROOM";
    const LABEL: &'static str = "Room";
    /// One name per poly.
    fn unique(&self) -> Vec<Unique> {
        vec![Unique::new("name", &format!("{}#{}", self.poly_id, self.name))]
    }
}

pub const NOT_FOUND: &str = "Room not found";

impl Room {
    /// `{"poly_id", "name", "doctor_id"}`; the poly must be live and the doctor a live user.
    pub async fn parse(deps: &Deps, tenant: &Tenant, body: &Value) -> DomainResult<Room> {
        let mut errors = FieldErrors::new();
        let poly_id = validate::required_id(&mut errors, body, "poly_id");
        let name = validate::required_string(&mut errors, body, "name", 100);
        let doctor_id = validate::optional_id(&mut errors, body, "doctor_id");
        errors.into_result()?;
        let (Some(poly_id), Some(name), Some(doctor_id)) = (poly_id, name, doctor_id) else {
            return Err(DomainError::Internal("a room form without errors lacks a field".into()));
        };
        let (poly, doctor) = futures::try_join!(record::get::<Poly>(deps, tenant, poly_id), async {
            match doctor_id {
                Some(id) => record::get::<User>(deps, tenant, id).await,
                None => Ok(None),
            }
        })?;
        let mut errors = FieldErrors::new();
        if poly.is_none_or(|p| p.is_trashed()) {
            errors.add("poly_id", "The selected poly id is invalid.");
        }
        if doctor_id.is_some() && doctor.is_none_or(|d| d.is_trashed()) {
            errors.add("doctor_id", "The selected doctor id is invalid.");
        }
        errors.into_result()?;
        Ok(Room { poly_id, name, doctor_id })
    }
}

/// The room a call-next names, from the item its batch read brought: live and of this poly.
pub fn checked(item: Option<antrean_store::Item>, poly_id: i64) -> DomainResult<Stored<Room>> {
    let room: Option<Stored<Room>> = item.map(record::decode).transpose()?;
    match room {
        Some(r) if !r.is_trashed() && r.data.poly_id == poly_id => Ok(r),
        Some(r) if !r.is_trashed() => Err(FieldErrors::single("room_id", "The selected room is not a room of this poly.")),
        _ => Err(FieldErrors::single("room_id", "The selected room id is invalid.")),
    }
}

/// The clinic's live rooms, of one poly when asked, by poly then name.
pub async fn list(deps: &Deps, tenant: &Tenant, poly_id: Option<i64>) -> DomainResult<Vec<Stored<Room>>> {
    let mut rooms: Vec<Stored<Room>> =
        record::list::<Room>(deps, tenant, false).await?.into_iter().filter(|r| poly_id.is_none_or(|p| r.data.poly_id == p)).collect();
    rooms.sort_by(|a, b| a.data.poly_id.cmp(&b.data.poly_id).then(a.data.name.to_lowercase().cmp(&b.data.name.to_lowercase())).then(a.id.cmp(&b.id)));
    Ok(rooms)
}
