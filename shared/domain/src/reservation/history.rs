//! Importing finished history (seeding, migrations from another system).
use std::collections::{BTreeSet, HashMap};

use antrean_store::{Item, Op};

use super::*;
use crate::error::DomainResult;
use crate::patient::{self, Patient};
use crate::record::{self, Record, Stored};
use crate::tenant::Tenant;

// ----- history (seeding and imports)

/// A reservation of the past to import as it is (seeding, migrations from another system).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoricVisit {
    pub patient: Stored<Patient>,
    pub reservation: Stored<Reservation>,
}

/// The items an import of finished history writes, as plain puts in any batching: each
/// reservation, its day-queue entry and patient index; each patient once with its unique
/// numbers and name words; the id and queue-number counters at their highest value; and no
/// rollups (import them with `rollup`'s items or rebuild them afterwards). Only for a clinic
/// without live traffic on those days: nothing here is conditional.
pub fn history_items(tenant: &Tenant, visits: &[HistoricVisit]) -> DomainResult<Vec<Item>> {
    let mut out = Vec::new();
    let mut patients = BTreeSet::new();
    let mut numbers: HashMap<String, i64> = HashMap::new();
    let (mut last_id, mut last_patient) = (0, 0);
    for v in visits {
        let r = &v.reservation;
        if patients.insert(v.patient.id) {
            out.push(patient::item(tenant, &v.patient, 1)?);
            for u in v.patient.data.unique() {
                out.push(patient::guard_item(&patient::guard_key(tenant, &u), v.patient.id));
            }
            for op in patient::word_ops(tenant, v.patient.id, None, &v.patient.data.patient_name) {
                if let Op::Put { item, .. } = op {
                    out.push(item);
                }
            }
        }
        out.push(record::item_of(tenant, r, 1)?);
        out.push(day_item(tenant, r.id, &r.data, r.data.with_doctor_at.as_deref().or(r.data.anamnesa_at.as_deref()).and_then(parse_stamp).map(|t| t.timestamp_millis())));
        out.push(item_with(&patient_index_key(tenant, r.data.patient_id, r.id), serde_json::json!({ "id": r.id, "poly_id": r.data.poly_id, "date": r.data.date })));
        let n = numbers.entry(number_counter(&r.data.date, r.data.poly_id)).or_default();
        *n = (*n).max(r.data.queue_number);
        last_id = last_id.max(r.id);
        last_patient = last_patient.max(v.patient.id);
    }
    numbers.insert(Reservation::KIND.into(), last_id);
    numbers.insert(Patient::KIND.into(), last_patient);
    for (kind, last) in numbers {
        out.push(record::counter_item(tenant, &kind, last));
    }
    Ok(out)
}

