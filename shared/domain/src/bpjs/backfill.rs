//! Reservations BPJS has not had: made before the clinic switched BPJS on (or while it was
//! off), or whose add was not sent (`skipped`: the poly or doctor had no BPJS code, BPJS was
//! off). When the clinic switches BPJS on (`PUT /api/bpjs/config`), and by hand with
//! `POST /api/bpjs/sync/backfill`, today's and the next `HORIZON_DAYS` days' reservations of
//! that kind (cancelled ones aside) are queued: the add and every task their stamps already
//! mean, each with its own stamp (`outbound::events_of`).
//!
//! Idempotent, never sent twice: a reservation is queued in one write conditioned on its
//! version, which also marks it as syncing; a second run (or two at once) finds it syncing
//! and leaves it. A reservation made before BPJS was on has no way to tell whether the patient
//! was new, so it is reported as a known patient (`pasienbaru` 0).
use antrean_store::{Condition, Key, Op};
use chrono::{Duration, NaiveDate};
use serde::Serialize;
use serde_json::{json, Value};

use super::outbound;
use super::{booking_key, kodebooking, norm, sync_key, Visit, JKN, NON_JKN};
use crate::error::DomainResult;
use crate::patient;
use crate::record::{self, Stored};
use crate::reservation::{self, Reservation, CANCELLED};
use crate::tenant::Tenant;
use crate::Deps;

/// Days after today that are looked at (reservations are rarely made further ahead).
pub const HORIZON_DAYS: i64 = 60;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Backfill {
    /// Reservations whose events were put in the outbox now.
    pub queued: i64,
    /// Already syncing with BPJS: left as they are.
    pub already: i64,
    /// Changed by someone else meanwhile: the next run looks again.
    pub busy: i64,
}

/// The visit a reservation made without BPJS gets, from the reservation and its patient.
fn visit_for(r: &Stored<Reservation>, patient: Option<&Stored<patient::Patient>>) -> Visit {
    let d = &r.data;
    Visit {
        kodebooking: kodebooking(d.visit_date(), d.poly_id, d.queue_number),
        jenispasien: if d.bpjs { JKN } else { NON_JKN }.into(),
        nomorkartu: if d.bpjs { patient.and_then(|p| p.data.no_bpjs.clone()).unwrap_or_default() } else { String::new() },
        norm: norm(d.patient_id),
        source: "reception".into(),
        sync: true,
        ..Visit::default()
    }
}

/// Whether the sync item says the add was never sent (skipped) or was never tried at all.
fn add_not_sent(sync: Option<&antrean_store::Item>) -> bool {
    match sync.and_then(|i| i.get("e_add")).and_then(|e| e.get("status")).and_then(Value::as_str) {
        None => true,
        Some(s) => s == "skipped",
    }
}

/// Queues what BPJS has not had of the clinic's reservations from `from` on (see the module notes).
pub async fn run(deps: &Deps, tenant: &Tenant, from: NaiveDate) -> DomainResult<Backfill> {
    let mut out = Backfill::default();
    for day in 0..=HORIZON_DAYS {
        let date = from + Duration::days(day);
        let ids: Vec<i64> = reservation::day_entries(deps, tenant, date, None)
            .await?
            .into_iter()
            .filter(|e| e.status_code != CANCELLED)
            .map(|e| e.id)
            .collect();
        for chunk in ids.chunks(50) {
            let r = day_chunk(deps, tenant, &date.format("%Y-%m-%d").to_string(), chunk).await?;
            out.queued += r.queued;
            out.already += r.already;
            out.busy += r.busy;
        }
    }
    Ok(out)
}

async fn day_chunk(deps: &Deps, tenant: &Tenant, date: &str, ids: &[i64]) -> DomainResult<Backfill> {
    let mut out = Backfill::default();
    let keys: Vec<Key> = ids
        .iter()
        .flat_map(|id| [record::record_key::<Reservation>(tenant, *id), sync_key(tenant, date, *id)])
        .collect();
    let items = deps.table.get_many(&keys, None).await?;
    let mut todo = Vec::new();
    for pair in items.chunks(2) {
        let (Some(item), sync) = (pair[0].clone(), pair.get(1).cloned().flatten()) else { continue };
        let (r, version) = reservation::decode(item)?;
        match &r.data.bpjs_visit {
            Some(v) if v.sync && !add_not_sent(sync.as_ref()) => out.already += 1,
            _ => todo.push((r, version)),
        }
    }
    let patient_keys: Vec<Key> = todo.iter().map(|(r, _)| patient::key(tenant, r.data.patient_id)).collect();
    let patients = deps.table.get_many(&patient_keys, None).await?;
    let now = deps.clock.now();
    for ((before, version), p) in todo.into_iter().zip(patients) {
        let patient = p.map(patient::decode).transpose()?.map(|(p, _)| p);
        let mut after = before.clone();
        let mut ops = Vec::new();
        let visit = match &before.data.bpjs_visit {
            Some(v) => Visit { sync: true, ..v.clone() },
            None => {
                let v = visit_for(&before, patient.as_ref());
                let index = json!({"pk": booking_key(tenant, &v.kodebooking).pk, "sk": v.kodebooking, "id": before.id, "date": before.data.date});
                ops.push(Op::put_new(index.as_object().cloned().unwrap_or_default()));
                v
            }
        };
        after.data.bpjs_visit = Some(visit);
        // The reservation itself, at its version read: a second run meets a newer version.
        ops.insert(0, Op::put_if(record::item_of(tenant, &after, version + 1)?, Condition::equals(record::VERSION, version)));
        ops.extend(outbound::enqueue_all(tenant, &after, now));
        match deps.table.write(ops).await {
            Ok(()) => out.queued += 1,
            Err(e) if crate::webhook::lost_race(&e) => out.busy += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}
