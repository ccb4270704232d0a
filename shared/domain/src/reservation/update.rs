//! Changing a reservation's patient details and BPJS flag (seed "Reservation Update").
use antrean_store::{Condition, Op, StoreError};
use chrono::NaiveDate;
use serde_json::Value;

use super::*;
use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::patient::{self, Patient};
use crate::record::{self, Record, Stored};
use crate::tenant::Tenant;
use crate::{validate, Deps};

/// What an update made.
#[derive(Debug, Clone)]
pub struct Updated {
    pub patient: Stored<Patient>,
    pub full: Full,
}

pub const MOVE_REFUSED: &str =
    "The poly and date of a reservation cannot be changed, as its queue number belongs to them. Cancel this reservation and create a new one instead.";

/// Changes a reservation's patient details and BPJS flag (seed "Reservation Update"), never
/// its queue number, in one atomic write with the patient.
pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Updated> {
    let (_, tz) = clinic_today(deps, tenant).await?;
    let (current, _) = read(deps, tenant, id).await?;
    // A date in the past is fine here: it is the reservation's own date.
    let form = ReservationForm::parse(body, NaiveDate::MIN, false)?;
    if form.poly_id != current.data.poly_id || form.date != current.data.visit_date() {
        return Err(DomainError::Unprocessable(MOVE_REFUSED.into()));
    }
    for attempt in 0..MAX_ATTEMPTS {
        let (before, version) = read(deps, tenant, id).await?;
        let Some((p, pv)) = patient::read(deps, tenant, before.data.patient_id).await? else {
            return Err(DomainError::Internal(format!("reservation {id} names a missing patient")));
        };
        let now = deps.clock.now();
        let ts = stamp(now);
        let new_patient = Stored { data: form.patient.apply(Some(&p.data)), updated_at: ts.clone(), ..p.clone() };
        let after = Stored { data: Reservation { bpjs: form.bpjs, ..before.data.clone() }, updated_at: ts.clone(), ..before.clone() };
        let mut ops = change_ops(tenant, tz, &before, version, &after, false)?;
        ops.push(Op::put_if(patient::item(tenant, &new_patient, pv + 1)?, Condition::equals(patient::VERSION, pv)));
        let (added, removed) = patient::guard_changes(Some(&p.data), &new_patient.data);
        let guard_start = ops.len();
        for u in &added {
            ops.push(Op::put_new(patient::guard_item(&patient::guard_key(tenant, u), p.id)));
        }
        for u in &removed {
            ops.push(Op::delete_if(patient::guard_key(tenant, u), Condition::equals("id", p.id)));
        }
        ops.extend(patient::word_ops(tenant, p.id, Some(&p.data.patient_name), &new_patient.data.patient_name));
        ops.push(audit::entry(tenant, actor, Action::Update, Reservation::KIND, id, now));
        ops.push(audit::entry(tenant, actor, Action::Update, Patient::KIND, p.id, now));
        match deps.table.write(ops).await {
            Ok(()) => {
                let full = with_relations(deps, tenant, vec![after]).await?.remove(0);
                return Ok(Updated { patient: new_patient, full });
            }
            Err(StoreError::ConditionFailed { index }) if index >= guard_start && index < guard_start + added.len() => {
                let field = added[index - guard_start].field;
                return Err(FieldErrors::single(field, format!("The {} has already been taken.", validate::human(field))));
            }
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => record::backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict("Reservation is being changed by someone else; try again".into()))
}

