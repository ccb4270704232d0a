//! Reservations and queue entries as the seed shows them, field for field and in its order.
use antrean_domain::record::Stored;
use antrean_domain::reservation::{Full, Reservation};
use serde_json::{json, Map, Value};

use crate::groups::master_data::patients::PatientView;
use crate::groups::master_data::poly::PolyView;
use crate::groups::master_data::status::StatusView;

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The reservation's own fields.
pub fn reservation(r: &Stored<Reservation>) -> Map<String, Value> {
    let mut m = object(json!({
        "id": r.id,
        "patient_id": r.data.patient_id,
        "poly_id": r.data.poly_id,
        "schedule_id": r.data.schedule_id,
        "date": r.data.date,
        "bpjs": r.data.bpjs,
        "status_id": r.data.status_id,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "deleted_at": r.deleted_at,
    }));
    // BPJS antrean's fields, only on reservations that have them (the seed's shape otherwise).
    if let Some(v) = &r.data.bpjs_visit {
        m.insert("antrean_bpjs".into(), antrean_domain::bpjs::visit_view(v));
    }
    // The polies seen before this one on the same ticket (a transfer), only when there are any.
    if !r.data.poly_history.is_empty() {
        m.insert("poly_history".into(), serde_json::to_value(&r.data.poly_history).unwrap_or(Value::Null));
    }
    m
}

/// Its queue entry (`queue_number` as the seed's queue list shows it is a string there only).
pub fn queue(r: &Stored<Reservation>) -> Map<String, Value> {
    object(json!({
        "id": r.id,
        "reservation_id": r.id,
        "poly_id": r.data.poly_id,
        "queue_number": r.data.queue_number,
        "date": r.data.date,
        "re_reservation_time": r.data.re_reservation_time,
        "call_time": r.data.call_time,
        "created_at": r.created_at,
        "updated_at": r.data.queue_updated_at,
        "deleted_at": null,
        "number_of_calls": r.data.number_of_calls,
        "notification_status": r.data.notification_status,
        "ticket_code": r.data.ticket_code,
        // Issue 16: priority (and why), the room called in to.
        "priority": r.data.priority,
        "priority_reasons": r.data.priority_reasons,
        "birth_date": r.data.birth_date,
        "room_id": r.data.room_id,
        "room": r.data.room,
    }))
}

/// What to nest into a reservation.
#[derive(Debug, Clone, Copy)]
pub struct Nest {
    pub queue: bool,
    pub patient: bool,
    pub status: bool,
    pub poly: bool,
}

impl Nest {
    pub const ALL: Nest = Nest { queue: true, patient: true, status: true, poly: true };
    pub const NO_POLY: Nest = Nest { poly: false, ..Nest::ALL };
}

fn or_null<T: serde::Serialize>(v: Option<T>) -> Value {
    v.map(|v| serde_json::to_value(v).unwrap_or(Value::Null)).unwrap_or(Value::Null)
}

/// A reservation with the nested objects asked for, in the seed's order.
pub fn full(f: &Full, nest: Nest) -> Value {
    let mut m = reservation(&f.reservation);
    if nest.patient {
        m.insert("patient".into(), or_null(f.patient.clone().map(PatientView::from)));
    }
    if nest.queue {
        m.insert("queue".into(), Value::Object(queue(&f.reservation)));
    }
    if nest.status {
        m.insert("status".into(), or_null(f.status.clone().map(StatusView::from)));
    }
    if nest.poly {
        m.insert("poly".into(), or_null(f.poly.clone().map(PolyView::from)));
    }
    Value::Object(m)
}

/// A queue-list row: the queue entry with its reservation (patient, status, poly) inside.
pub fn queue_row(f: &Full) -> Value {
    let mut m = queue(&f.reservation);
    // The seed's queue list shows the number as a string.
    m.insert("queue_number".into(), Value::String(f.reservation.data.queue_number.to_string()));
    m.insert("reservation".into(), full(f, Nest { queue: false, ..Nest::ALL }));
    Value::Object(m)
}
