//! The admission desk's steps on a BPJS visit, each a real stamp on the reservation that
//! `outbound::events_of` turns into a BPJS task in the same write:
//!
//! - `checkin`: the patient is at the clinic (Mobile JKN's `checkin`, or the desk's
//!   `PATCH /api/bpjs/visits/{id}/checkin`): task 1 for a new patient, task 3 for a known
//!   patient's Mobile JKN booking (at the desk a known patient's registration is task 3 already).
//! - `admission`: the desk starts serving a new patient booked from Mobile JKN (task 2).
//! - `admitted`: the desk is done with that patient's record (task 3: waiting for the poly).
//!
//! A new patient registered at the desk brings the first two with the registration
//! (`checkin_at`, `admission_at`), its registration being task 3. Each stamp is set once; a
//! repeat answers the visit as it is and sends nothing.
use serde_json::Value;

use crate::audit::{self, Action, Actor};
use crate::error::{DomainError, DomainResult, Refusals};
use crate::record::{Record, Stored};
use crate::reservation::{self, Reservation};
use crate::tenant::Tenant;
use crate::Deps;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Checkin,
    Admission,
    Admitted,
}

impl Step {
    pub fn parse(s: &str) -> Option<Step> {
        match s {
            "checkin" => Some(Step::Checkin),
            "admission" => Some(Step::Admission),
            "admitted" => Some(Step::Admitted),
            _ => None,
        }
    }
}

pub const NO_VISIT: &str = "The reservation has no BPJS data.";
pub const NOT_OPEN: &str = "The reservation is no longer open.";
pub const ONLY_NEW: &str = "Only a new patient's admission is reported to BPJS (tasks 1 and 2).";
pub const AT_THE_DESK: &str =
    "The patient was registered at the desk: the admission times come with the registration (checkin_at, admission_at).";

/// Sets `step`'s stamp (`at` ms, default now) on reservation `id`, in one write with its events.
pub async fn stamp(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, step: Step, at: Option<i64>) -> DomainResult<Stored<Reservation>> {
    let mut refusals = Refusals::new();
    loop {
        let (before, version) = reservation::read(deps, tenant, id).await?;
        let Some(visit) = &before.data.bpjs_visit else {
            return Err(DomainError::Unprocessable(NO_VISIT.into()));
        };
        if !reservation::is_open(&before.data.status_code) {
            return Err(DomainError::Conflict(NOT_OPEN.into()));
        }
        if step != Step::Checkin {
            if visit.pasienbaru != 1 {
                return Err(DomainError::Unprocessable(ONLY_NEW.into()));
            }
            if visit.source != super::ws::SOURCE {
                return Err(DomainError::Unprocessable(AT_THE_DESK.into()));
            }
        }
        let now = deps.clock.now();
        let at = at.unwrap_or_else(|| now.timestamp_millis());
        let mut after = before.clone();
        let Some(v) = after.data.bpjs_visit.as_mut() else { unreachable!("checked above") };
        let slot = match step {
            Step::Checkin => &mut v.checkin_ms,
            Step::Admission => &mut v.admission_ms,
            Step::Admitted => &mut v.admitted_ms,
        };
        if slot.is_some() {
            return Ok(before);
        }
        *slot = Some(at);
        after.updated_at = crate::clock::stamp(now);
        let (_, tz) = reservation::clinic_today(deps, tenant).await?;
        let mut ops = reservation::change_ops(tenant, tz, &before, version, &after, false)?;
        ops.push(audit::entry(tenant, actor, Action::Update, Reservation::KIND, id, now));
        match deps.table.write(reservation::merge_updates(ops)).await {
            Ok(()) => return Ok(after),
            Err(e) if crate::webhook::lost_race(&e) && refusals.keep_trying(&e) => continue,
            Err(e) if crate::webhook::lost_race(&e) => {
                return Err(refusals.ran_out(DomainError::Conflict("Someone else has just changed this reservation; retry.".into())))
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// What the route answers: the reservation's BPJS data.
pub fn view(r: &Stored<Reservation>) -> Value {
    let mut v = r.data.bpjs_visit.as_ref().map(super::visit_view).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("reservation_id".into(), r.id.into());
    }
    v
}
