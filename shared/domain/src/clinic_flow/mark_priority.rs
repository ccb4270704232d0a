//! Marking a reservation priority after registration (or taking the mark off): reception
//! learns of a pregnancy or a disability only at the desk, or the patient's birth date was
//! missing. `PATCH /api/queue/{id}/priority {"priority_reasons", "birth_date"}` replaces the
//! reasons and, when a birth date is given, keeps it on the patient too. Only while the
//! patient still waits (for anamnesa or for the doctor): once called in, priority no longer
//! changes anything. One atomic write conditioned on the reservation's (and the patient's)
//! version: the reservation, its day-queue index item (what call-next reads, so the very next
//! call follows the change), the patient's birth date and the audit entry.
use antrean_store::{Condition, Op, StoreError, Update};
use chrono::NaiveDate;
use serde_json::Value;

use super::priority::{self, PriorityForm};
use super::settings as flow_settings;
use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::patient;
use crate::record::{self, Record, Stored};
use crate::reservation::{self, Reservation, ANAMNESA, WAITING, WAITING_DOCTOR};
use crate::tenant::Tenant;
use crate::Deps;

const ATTEMPTS: u32 = 20;

/// Sets the reservation's priority reasons (and birth date) as `body` says.
pub async fn mark(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Stored<Reservation>> {
    if !body.is_object() || body.get("priority_reasons").is_none() && body.get("birth_date").is_none() {
        return Err(FieldErrors::single("priority_reasons", "Send priority_reasons (an array, [] to take the mark off) or birth_date."));
    }
    for attempt in 0..ATTEMPTS {
        let keys = [reservation::key(tenant, id), flow_settings::key(tenant)];
        let mut items = deps.table.get_many(&keys, None).await?.into_iter();
        let (before, version) = match items.next().flatten() {
            Some(item) => reservation::decode(item)?,
            None => return Err(reservation::not_found()),
        };
        let settings = flow_settings::from_item(items.next().flatten().as_ref());
        let visit = before.data.visit_date();
        let mut errors = FieldErrors::new();
        let form = PriorityForm::parse(&mut errors, body, Some(visit));
        errors.into_result()?;
        if !matches!(before.data.status_code.as_str(), WAITING | ANAMNESA | WAITING_DOCTOR) {
            return Err(DomainError::Conflict(format!("The reservation is {}; priority only changes while the patient waits.", before.data.status_code)));
        }
        let (current, patient_version) = match patient::read(deps, tenant, before.data.patient_id).await? {
            Some(p) => p,
            None => return Err(DomainError::NotFound("Patient not found".into())),
        };
        // Left out: the reasons stay; the birth date is the one given, else the one on file.
        let given_birth = form.birth_date.map(|d| d.format("%Y-%m-%d").to_string());
        let birth = given_birth.clone().or_else(|| before.data.birth_date.clone()).or_else(|| current.data.birth_date.clone());
        let reasons_given = body.get("priority_reasons").is_some_and(|v| !v.is_null());
        let stated = if reasons_given { form.reasons.clone() } else { before.data.priority_reasons.iter().copied().filter(|c| *c != priority::Criterion::Elderly).collect() };
        let full = PriorityForm { reasons: stated, birth_date: birth.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) };
        let reasons = full.reasons_on(visit);
        let now = deps.clock.now();
        let mut after = before.clone();
        after.updated_at = stamp(now);
        after.data.priority = priority::is_priority(&reasons, &settings);
        after.data.priority_reasons = reasons;
        after.data.birth_date = birth;
        let mut ops = vec![
            Op::put_if(record::item_of(tenant, &after, version + 1)?, Condition::equals(record::VERSION, version)),
            // Only if the number is still waiting as read (call-next moves the index item too).
            Op::update_if(
                reservation::day_key(tenant, &after.data),
                Update::new().set("priority", after.data.priority),
                Condition::equals("status_code", before.data.status_code.clone()),
            ),
            audit::entry(tenant, actor, Action::Update, Reservation::KIND, id, now),
        ];
        // A number at anamnesa shows its priority on the boards: kept on its bucket.
        ops.extend(crate::board::state::stage_ops(tenant, Some(&before.data), &after.data));
        if let Some(b) = given_birth.filter(|b| current.data.birth_date.as_ref() != Some(b)) {
            let mut p = current.clone();
            p.data.birth_date = Some(b);
            p.updated_at = stamp(now);
            ops.push(Op::put_if(patient::item(tenant, &p, patient_version + 1)?, Condition::equals(record::VERSION, patient_version)));
            ops.push(audit::entry(tenant, actor, Action::Update, patient::Patient::KIND, p.id, now));
        }
        match deps.table.write(ops).await {
            Ok(()) => return Ok(after),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => record::backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict("The reservation is being changed by someone else; try again".into()))
}
