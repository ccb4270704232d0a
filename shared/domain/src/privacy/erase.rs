//! Erasing a patient (UU PDP art. 8 and 43): the patient's name, numbers, e-mail and chat id
//! are removed from the patient record, its unique guards and name words are deleted (their
//! keys hold the numbers and the name), the check-up schedules lose their free text, the
//! appointments booked under the patient's numbers lose the visitor's details, and the ticket
//! codes of its visits stop working. The records themselves stay, anonymised, so every visit
//! is still counted where reports count it; the patient is shown as [`ERASED_NAME`].
//!
//! Refused (409) while the patient is in the queue or has a booked appointment: staff finish
//! or cancel those first, so erasure never pulls a record from under a queue move. Refused too
//! while BPJS antrean events of the patient's visits wait in the outbox: their bodies carry the
//! card number and NIK, and the clinic owes them to BPJS.
//!
//! One atomic write when it fits DynamoDB's 100 items (every patient but those with very long
//! histories); otherwise the anonymisation of schedules, appointments and tickets goes first in
//! writes of up to 100, and the patient's own write comes last: until it lands the patient is
//! untouched and the request can simply be sent again (every write is idempotent).
use antrean_store::{Condition, Op};

use super::access::{self, Access};
use super::footprint::{self, Footprint};
use super::ERASED_NAME;
use crate::appointments::appointment::{self, BOOKED};
use crate::appointments::rules;
use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult};
use crate::patient::{self, Patient};
use crate::record::{self, Record, Stored};
use crate::tenant::Tenant;
use crate::ticket::TicketCode;
use crate::Deps;

/// DynamoDB's limit of items in one transaction.
const MAX_WRITE: usize = 100;

const IN_QUEUE: &str = "The patient has a reservation that is not finished; finish or cancel it before erasing the patient's data.";
const BOOKED_AHEAD: &str = "The patient has a booked appointment; cancel it before erasing the patient's data.";
const BPJS_WAITING: &str = "BPJS antrean events of the patient's visits are still waiting to be sent; erase the patient's data once the BPJS sync list shows them delivered.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased {
    Now,
    /// An earlier request erased it: nothing was written.
    Already,
}

/// A reservation still moving through the queue.
fn in_queue(status_code: &str) -> bool {
    matches!(status_code, "WAITING" | "ANAMNESA" | "WAITING_DOCTOR" | "WITH_DOCTOR")
}

pub async fn erase(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<Erased> {
    let f = footprint::gather(deps, tenant, id).await?;
    if f.patient.data.erased_at.is_some() {
        return Ok(Erased::Already);
    }
    if f.reservations.iter().any(|r| in_queue(&r.data.status_code)) {
        return Err(DomainError::Conflict(IN_QUEUE.into()));
    }
    if f.appointments.iter().any(|(a, _)| a.data.status == BOOKED) {
        return Err(DomainError::Conflict(BOOKED_AHEAD.into()));
    }
    // What BPJS must receive is not ours to drop, and its bodies name the patient: wait for it.
    let waiting = crate::webhook::bpjs_waiting_for(deps, tenant).await?;
    if f.reservations.iter().any(|r| waiting.contains(&r.id)) {
        return Err(DomainError::Conflict(BPJS_WAITING.into()));
    }
    let now = deps.clock.now();
    let at = stamp(now);
    let mut around = satellite_ops(tenant, &f, &at)?;
    let mut own = patient_ops(tenant, &f, &at)?;
    own.push(audit::entry(tenant, actor, Action::Erase, Patient::KIND, id, now));
    own.push(access::entry_op(tenant, actor, id, Access::Erase, now));
    if around.len() + own.len() <= MAX_WRITE {
        around.extend(own);
        write(deps, around).await?;
    } else {
        while !around.is_empty() {
            let rest = around.split_off(around.len().min(MAX_WRITE));
            write(deps, std::mem::replace(&mut around, rest)).await?;
        }
        write(deps, own).await?;
    }
    Ok(Erased::Now)
}

async fn write(deps: &Deps, ops: Vec<Op>) -> DomainResult<()> {
    match deps.table.write(ops).await {
        Ok(()) => Ok(()),
        // A record changed between the read and the write: nothing of this write landed.
        Err(antrean_store::StoreError::ConditionFailed { .. }) | Err(antrean_store::StoreError::Conflict) => {
            Err(DomainError::Conflict("The patient's records changed while they were being erased; try again.".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The patient record anonymised (and put in the trash: it is no longer anyone), its guards
/// and name words deleted.
fn patient_ops(tenant: &Tenant, f: &Footprint, at: &str) -> DomainResult<Vec<Op>> {
    let p = &f.patient;
    let erased = Stored {
        data: Patient { patient_name: ERASED_NAME.into(), no_bpjs: None, whatsapp_number: None, email: None, chat_id: None, erased_at: Some(at.to_string()), birth_date: None },
        updated_at: at.to_string(),
        deleted_at: Some(at.to_string()),
        ..p.clone()
    };
    let mut ops = vec![Op::put_if(patient::item(tenant, &erased, f.version + 1)?, Condition::equals(record::VERSION, f.version))];
    ops.extend(p.data.unique().iter().map(|u| Op::delete(patient::guard_key(tenant, u))));
    ops.extend(patient::word_ops(tenant, p.id, Some(&p.data.patient_name), ""));
    Ok(ops)
}

/// Check-up schedules without their text, appointments without the visitor, tickets gone.
fn satellite_ops(tenant: &Tenant, f: &Footprint, at: &str) -> DomainResult<Vec<Op>> {
    let mut ops = Vec::new();
    for (c, version) in &f.checkups {
        ops.extend(crate::checkup_schedule::erase_ops(tenant, c, *version, at)?);
    }
    for (a, version) in &f.appointments {
        let mut erased = a.clone();
        erased.data.visitor = crate::appointments::visitor::Visitor {
            patient_name: ERASED_NAME.into(),
            whatsapp_number: None,
            no_bpjs: None,
            email: None,
            birth_date: None,
            bpjs: a.data.visitor.bpjs,
        };
        erased.data.cancel_reason = None;
        erased.updated_at = at.to_string();
        ops.push(Op::put_if(record::item_of(tenant, &erased, version + 1)?, Condition::equals(record::VERSION, *version)));
        ops.push(Op::put(appointment::day_item(tenant, &erased)?));
        // The one-active-booking guard is keyed by the number it protects.
        ops.push(Op::delete(rules::guard_key(tenant, a.data.poly_id, &a.data.visitor.identity())));
    }
    for r in &f.reservations {
        if let Some(code) = r.data.ticket_code.as_deref().and_then(TicketCode::parse) {
            ops.push(code.delete_op());
        }
        // BPJS antrean's copy of the card number, NIK and referral (finished visits only, so
        // nothing moves it meanwhile); the booking code and the BPJS answers stay.
        ops.extend(crate::bpjs::erase_op(tenant, r));
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finished_visits_let_a_patient_go() {
        for code in ["WAITING", "ANAMNESA", "WAITING_DOCTOR", "WITH_DOCTOR"] {
            assert!(in_queue(code), "{code}");
        }
        for code in ["DONE", "NO_SHOW", "CANCELLED"] {
            assert!(!in_queue(code), "{code}");
        }
    }
}
