//! Clinic → BPJS: the events a reservation sends, put in the clinic's outbox in the same
//! atomic write as the change they report, and delivered in order.
//!
//! | our change                            | antreanrs (FKTRL)                      | antreanfktp (FKTP)               |
//! |---------------------------------------|----------------------------------------|----------------------------------|
//! | reservation made (reception / JKN app)| `antrean/add` (seed 000's body)        | `antrean/add` (no booking code)  |
//! | admission's steps, check-in, stages   | `updatewaktu` tasks 1–7 and 99 (`events_of`) | `antrean/panggil` for 4 and 99 |
//! | cancelled                             | `antrean/batal`                        | `antrean/batal`                  |
//!
//! Submodules: `body` (what each event's body is made of), `deliver` (the run over the due
//! events). Events are sent by the outbox worker and, right after the request that put
//! them there, by `super::prompt`.
//! Order: an event is sent only once every earlier event of its reservation was accepted;
//! until then it waits in the outbox (no attempt counted, no time invented). BPJS's "already
//! there" (code 208, "… sudah ada") counts as delivered; refusals that a retry cannot change
//! (`FINAL`) stop the retries, and the events after them are not sent ("blocked"). Every
//! event's state is kept on the reservation's sync item for the sync list.
use antrean_store::{Op, Update};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{quota, sync_key, Visit};
use crate::clock::stamp;
use crate::error::DomainResult;
use crate::record::Stored;
use crate::reservation::{parse_stamp, Reservation, CANCELLED, DONE, NO_SHOW};
use crate::tenant::Tenant;
use crate::webhook::{self, Pending};
use crate::Deps;

mod body;
mod deliver;

pub(crate) use body::{context, jampraktek, quotas, Ctx};
pub(crate) use deliver::deliver;
pub use deliver::{verdict, Verdict};

/// The outbox `kind` of BPJS events.
pub const KIND: &str = "bpjs";
/// BPJS's answers that a retry cannot change (lower-case substrings of `metadata.message`).
pub const FINAL: &[&str] = &[
    "rujukan tidak valid",
    "sudah terdaftar",
    "terdaftar di poli",
    "sudah mendaftar",
    "skrining",
    "screening",
];
/// The places a schedule without a quota reports to BPJS.
pub const UNLIMITED_REPORTED: i64 = 999;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Add,
    Task(i64),
    Batal,
}

impl Event {
    pub fn name(self) -> String {
        match self {
            Event::Add => "add".into(),
            Event::Task(n) => format!("task{n}"),
            Event::Batal => "batal".into(),
        }
    }
    pub fn parse(s: &str) -> Option<Event> {
        match s {
            "add" => Some(Event::Add),
            "batal" => Some(Event::Batal),
            t => t.strip_prefix("task").and_then(|n| n.parse().ok()).map(Event::Task),
        }
    }
    /// Events of a reservation reach BPJS in this order.
    pub fn order(self) -> i64 {
        match self {
            Event::Add => 0,
            Event::Task(n) => n,
            Event::Batal => 100,
        }
    }
}

fn event_id(reservation_id: i64, e: Event) -> String {
    format!("bpjs-{reservation_id}-{}", e.name())
}

fn state(status: &str, order: i64, message: &str, attempts: i64, now: DateTime<Utc>) -> Value {
    json!({"status": status, "order": order, "message": message, "attempts": attempts, "at": stamp(now)})
}

/// The outbox items and the one sync-item update for `events` (event, its `waktu` in ms).
fn enqueue(tenant: &Tenant, id: i64, r: &Reservation, visit: &Visit, events: &[(Event, Option<i64>)], now: DateTime<Utc>) -> Vec<Op> {
    if events.is_empty() {
        return vec![];
    }
    let mut sync = Update::new()
        .set("reservation_id", id)
        .set("date", r.date.clone())
        .set("kodebooking", visit.kodebooking.clone());
    super::prompt::mark(tenant);
    let mut ops = Vec::new();
    for (e, waktu) in events {
        let p = Pending {
            event_id: event_id(id, *e),
            attempts: 0,
            due_at: now,
            created_at: now,
            last_error: None,
            // Built at the first attempt, from the reservation as it then is; kept for every retry.
            body: String::new(),
            kind: Some(KIND.into()),
            meta: Some(json!({"reservation_id": id, "date": r.date, "event": e.name(), "waktu": waktu})),
        };
        ops.push(Op::put(p.to_item(&webhook::outbox_key(tenant, now.timestamp_millis(), &p.event_id))));
        sync = sync.set(&format!("e_{}", e.name()), state("pending", e.order(), "Waiting to be sent", 0, now));
    }
    ops.push(Op::update(sync_key(tenant, &r.date, id), sync));
    ops
}

fn ms(s: &Option<String>) -> Option<i64> {
    s.as_deref().and_then(parse_stamp).map(|t| t.timestamp_millis())
}

/// What a new reservation adds to its write: its booking code's index and, when the clinic
/// has BPJS on, `antrean/add` and the tasks its stamps already mean (`events_of`).
pub(crate) fn on_create(tenant: &Tenant, r: &Stored<Reservation>, now: DateTime<Utc>) -> Vec<Op> {
    let Some(visit) = &r.data.bpjs_visit else {
        return vec![];
    };
    let index = json!({"pk": super::booking_key(tenant, &visit.kodebooking).pk, "sk": visit.kodebooking, "id": r.id, "date": r.data.date});
    let mut ops = vec![Op::put_new(index.as_object().cloned().unwrap_or_default())];
    if visit.sync {
        ops.extend(enqueue(tenant, r.id, &r.data, visit, &events_of(None, &r.data), now));
    }
    ops
}

/// Every event a reservation's stamps mean so far, for one that starts syncing (a backfill).
pub(crate) fn enqueue_all(tenant: &Tenant, r: &Stored<Reservation>, now: DateTime<Utc>) -> Vec<Op> {
    match &r.data.bpjs_visit {
        Some(visit) => enqueue(tenant, r.id, &r.data, visit, &events_of(None, &r.data), now),
        None => vec![],
    }
}

/// Within this many ms before the registration, the desk's `checkin_at` / `admission_at` are
/// taken as the same visit's (older ones are not sent: they cannot be this visit's admission).
const ADMISSION_WINDOW_MS: i64 = 12 * 3_600_000;

/// The first time a pharmacy step of the visit carries BPJS task `n` (6 preparing, 7 ready).
fn pharmacy_task(r: &Reservation, n: u8) -> Option<i64> {
    r.services
        .iter()
        .flat_map(|s| s.history.iter())
        .find(|h| h.bpjs_task == Some(n))
        .and_then(|h| parse_stamp(&h.at))
        .map(|t| t.timestamp_millis())
}

/// The events `a`'s stamps mean that `b`'s did not (`b` = `None`: everything so far, for a
/// new reservation or one that starts syncing later), each with its own stamp as `waktu`.
///
/// | BPJS task | our stamp |
/// |---|---|
/// | 1 waiting for admission | the check-in (new patients only) |
/// | 2 admission serving | `admission_at` / `…/admission` (new patients only) |
/// | 3 waiting for the poly | the desk's registration; a Mobile JKN booking's check-in (known patient) or `…/admitted` (new) |
/// | 4 / 5 | called in to the doctor / done |
/// | 6 / 7 | the pharmacy starts preparing / the medicine is ready |
/// | 99 | no-show |
pub(crate) fn events_of(b: Option<&Reservation>, a: &Reservation) -> Vec<(Event, Option<i64>)> {
    let Some(visit) = &a.bpjs_visit else { return vec![] };
    let old = b.and_then(|b| b.bpjs_visit.as_ref());
    let newly = |now: Option<i64>, then: Option<i64>| now.filter(|_| then.is_none() || b.is_none());
    let new_patient = visit.pasienbaru == 1;
    let from_app = visit.source == super::ws::SOURCE;
    let mut events = Vec::new();
    if b.is_none() {
        events.push((Event::Add, None));
    }
    let checkin = newly(visit.checkin_ms, old.and_then(|v| v.checkin_ms));
    let admission = newly(visit.admission_ms, old.and_then(|v| v.admission_ms));
    let registered = ms(&a.registered_at);
    if from_app {
        if let Some(t) = checkin {
            events.push((Event::Task(if new_patient { 1 } else { 3 }), Some(t)));
        }
        if new_patient {
            if let Some(t) = admission {
                events.push((Event::Task(2), Some(t)));
            }
            if let Some(t) = newly(visit.admitted_ms, old.and_then(|v| v.admitted_ms)) {
                events.push((Event::Task(3), Some(t)));
            }
        }
    } else if b.is_none() {
        // At the desk: the registration is admission done (task 3); a new patient's arrival
        // and the start of their admission come with it when the desk recorded them.
        let before_registration = |t: Option<i64>| t.filter(|t| registered.is_some_and(|r| *t <= r && r - *t <= ADMISSION_WINDOW_MS));
        if new_patient {
            if let Some(t) = before_registration(visit.checkin_ms) {
                events.push((Event::Task(1), Some(t)));
            }
            if let Some(t) = before_registration(visit.admission_ms) {
                events.push((Event::Task(2), Some(t)));
            }
        }
        if registered.is_some() {
            events.push((Event::Task(3), registered));
        }
    }
    let stamp_new = |f: fn(&Reservation) -> &Option<String>| match b {
        Some(b) if f(b).is_some() => None,
        _ => ms(f(a)),
    };
    if let Some(t) = stamp_new(|r| &r.with_doctor_at) {
        events.push((Event::Task(4), Some(t)));
    }
    if let Some(t) = stamp_new(|r| &r.finished_at) {
        match a.status_code.as_str() {
            DONE => events.push((Event::Task(5), Some(t))),
            NO_SHOW => events.push((Event::Task(99), Some(t))),
            CANCELLED => events.push((Event::Batal, Some(t))),
            _ => {}
        }
    }
    for n in [6u8, 7] {
        if let Some(t) = pharmacy_task(a, n).filter(|_| b.is_none_or(|b| pharmacy_task(b, n).is_none())) {
            events.push((Event::Task(i64::from(n)), Some(t)));
        }
    }
    events
}

/// What a change adds to its write: the events its new stamps mean, every event so far when
/// the reservation starts syncing (a backfill), and the JKN / non-JKN place back on a cancel.
pub(crate) fn on_change(tenant: &Tenant, before: &Stored<Reservation>, after: &Stored<Reservation>, now: DateTime<Utc>) -> Vec<Op> {
    let (b, a) = (&before.data, &after.data);
    let Some(visit) = &a.bpjs_visit else {
        return vec![];
    };
    let mut ops = Vec::new();
    if b.status_code != CANCELLED && a.status_code == CANCELLED {
        if let Some(kind) = &visit.quota {
            ops.push(quota::release_op(tenant, a.schedule_id, kind));
        }
    }
    if !visit.sync {
        return ops;
    }
    let started = !b.bpjs_visit.as_ref().is_some_and(|v| v.sync);
    let events = events_of(if started { None } else { Some(b) }, a);
    ops.extend(enqueue(tenant, after.id, a, visit, &events, now));
    ops
}

/// The reservation a booking code names.
pub(crate) async fn by_booking(deps: &Deps, tenant: &Tenant, kodebooking: &str) -> DomainResult<Option<i64>> {
    Ok(deps
        .table
        .get(&super::booking_key(tenant, kodebooking))
        .await?
        .and_then(|i| i.get("id").and_then(Value::as_i64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_an_order() {
        for e in [Event::Add, Event::Task(3), Event::Task(99), Event::Batal] {
            assert_eq!(Event::parse(&e.name()), Some(e));
        }
        assert!(Event::Add.order() < Event::Task(3).order() && Event::Task(5).order() < Event::Task(99).order());
        assert!(Event::Task(99).order() < Event::Batal.order());
    }
}
