//! Everything the product keeps about one patient, read through the keys that name them.
use std::collections::BTreeSet;

use antrean_store::{Query, SortKey};
use serde::Serialize;
use serde_json::Value;

use crate::appointments::appointment::Appointment;
use crate::audit::Actor;
use crate::checkup_schedule::{self, CheckupSchedule};
use crate::error::{DomainError, DomainResult};
use crate::patient::{self, Patient};
use crate::record::{self, Record, Stored};
use crate::reservation::Reservation;
use crate::tenant::{id_key, Tenant};
use crate::Deps;

pub const NOT_FOUND: &str = "Patient not found";

/// A patient and what hangs off them; versions are kept for the erasure's conditional writes.
#[derive(Debug, Clone)]
pub struct Footprint {
    pub patient: Stored<Patient>,
    pub version: i64,
    pub reservations: Vec<Stored<Reservation>>,
    pub checkups: Vec<(Stored<CheckupSchedule>, i64)>,
    pub appointments: Vec<(Stored<Appointment>, i64)>,
}

/// The JSON a clinic hands a patient who asks what it holds (UU PDP art. 7).
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub patient: Stored<Patient>,
    pub reservations: Vec<Stored<Reservation>>,
    pub checkup_schedules: Vec<Stored<CheckupSchedule>>,
    pub appointments: Vec<Stored<Appointment>>,
    pub access_log: Vec<super::access::AccessEntry>,
}

/// Reads the footprint: the patient (404 when there is none), its reservations (index, then
/// one batch), its check-up schedules, and the clinic's appointments booked under its WhatsApp
/// or BPJS number or checked in as one of its reservations (one Query of the appointments:
/// bookings carry the visitor's details, not a patient id, until check-in).
pub async fn gather(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Footprint> {
    let (patient, version) = patient::read(deps, tenant, id).await?.ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))?;
    let own = Query::partition(tenant.partition(&format!("PATIENT_RESERVATION#{}", id_key(id)))).sort(SortKey::Any).only(&["id"]);
    let reservation_ids: Vec<i64> = ids(antrean_store::query_all(deps.table.as_ref(), own).await?);
    let found = record::get_many::<Reservation>(deps, tenant, reservation_ids.iter().copied()).await?;
    let mut reservations: Vec<Stored<Reservation>> = found.into_values().collect();
    reservations.sort_by_key(|r| r.id);

    let by_patient = Query::partition(checkup_schedule::by_patient(tenant, id)).sort(SortKey::Any).only(&["id"]);
    let mut checkups = Vec::new();
    for cid in ids(antrean_store::query_all(deps.table.as_ref(), by_patient).await?).into_iter().collect::<BTreeSet<_>>() {
        if let Some(found) = checkup_schedule::read(deps, tenant, cid).await? {
            checkups.push(found);
        }
    }

    let theirs: BTreeSet<i64> = reservations.iter().map(|r| r.id).collect();
    let identities = identities(&patient.data);
    let mut appointments = Vec::new();
    for item in antrean_store::query_all(deps.table.as_ref(), Query::partition(tenant.partition(Appointment::KIND))).await? {
        let version = item.get(record::VERSION).and_then(Value::as_i64).unwrap_or(0);
        let a: Stored<Appointment> = record::decode(item)?;
        let checked_in_as_theirs = a.data.reservation_id.is_some_and(|r| theirs.contains(&r));
        if checked_in_as_theirs || identities.contains(&a.data.visitor.identity()) {
            appointments.push((a, version));
        }
    }
    Ok(Footprint { patient, version, reservations, checkups, appointments })
}

/// The identities a booking names this patient by (`Visitor::identity`).
fn identities(p: &Patient) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(w) = &p.whatsapp_number {
        out.insert(format!("wa:{w}"));
    }
    if let Some(b) = &p.no_bpjs {
        out.insert(format!("bpjs:{b}"));
    }
    out
}

fn ids(items: Vec<antrean_store::Item>) -> Vec<i64> {
    items.iter().filter_map(|i| i.get("id").and_then(Value::as_i64)).collect()
}

/// The export of a patient's footprint with its access log; the export itself is logged first,
/// so the log it carries names it.
pub async fn export(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<Export> {
    let f = gather(deps, tenant, id).await?;
    super::access::record(deps, tenant, actor, id, super::access::Access::Export).await?;
    Ok(Export {
        patient: f.patient,
        reservations: f.reservations,
        checkup_schedules: f.checkups.into_iter().map(|(c, _)| c).collect(),
        appointments: f.appointments.into_iter().map(|(a, _)| a).collect(),
        access_log: super::access::list(deps, tenant, id).await?,
    })
}
