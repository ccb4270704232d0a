//! Where the reports read reservations from: the queue's own records, by clinic day.
//! The one place that knows the reservation's shape, so the reports and the rollup rebuild
//! do not.
use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::error::DomainResult;
use crate::record::Stored;
use crate::reporting::visits::Visit;
use antrean_store::Key;

use crate::reservation::{self, DayEntry, Reservation};
use crate::rollup::{self, ReservationFacts};
use crate::tenant::Tenant;
use crate::{patient, Deps};

/// Every reservation of one clinic day, once each: one Query on the day's queue index, then one
/// batch read of the records. (A patient sent on to another poly has an index entry at every
/// poly of the day, one record.)
async fn day_reservations(deps: &Deps, tenant: &Tenant, date: NaiveDate) -> DomainResult<Vec<Stored<Reservation>>> {
    let ids: std::collections::BTreeSet<i64> = reservation::day_entries(deps, tenant, date, None).await?.into_iter().map(|e| e.id).collect();
    reservation::many(deps, tenant, &ids.into_iter().collect::<Vec<_>>()).await
}

/// Slices of the days' reservations: of each day's queue index (the days read side by side),
/// the entries `keep` keeps, in `order`, rows `skip..skip + take` (`days`: date, skip, take);
/// then the records and patients of every slice in one batch read, in the days' order.
/// `keep` judges on the index (poly, status, insurance); `None` from it means the index cannot
/// tell (an item older than the insurance on the index), and then such a day's records are all
/// read and `keep_visit` decides.
pub async fn visits_slices(
    deps: &Deps,
    tenant: &Tenant,
    tz: Tz,
    days: &[(NaiveDate, usize, usize)],
    keep: impl Fn(&DayEntry) -> Option<bool>,
    keep_visit: impl Fn(&Visit) -> bool,
    order: impl Fn(&DayEntry, &DayEntry) -> std::cmp::Ordering,
) -> DomainResult<Vec<Visit>> {
    let indexes = futures::future::try_join_all(days.iter().map(|(date, _, _)| reservation::day_entries(deps, tenant, *date, None))).await?;
    let mut wanted: Vec<DayEntry> = Vec::new();
    let mut out: Vec<Visit> = Vec::new();
    for (&(_, skip, take), mut entries) in days.iter().zip(indexes) {
        entries.sort_by(&order);
        let judged: Option<Vec<bool>> = entries.iter().map(&keep).collect();
        match judged {
            Some(judged) => wanted.extend(entries.into_iter().zip(judged).filter(|(_, k)| *k).map(|(e, _)| e).skip(skip).take(take)),
            None => {
                // Keep the days' order: what was wanted so far first, then this day in full.
                out.extend(visits(deps, tenant, tz, &std::mem::take(&mut wanted)).await?);
                out.extend(visits(deps, tenant, tz, &entries).await?.into_iter().filter(&keep_visit).skip(skip).take(take));
            }
        }
    }
    out.extend(visits(deps, tenant, tz, &wanted).await?);
    Ok(out)
}

/// The visits of the given index entries, in their order (missing records left out): the
/// records and their patients in one batch read.
async fn visits(deps: &Deps, tenant: &Tenant, tz: Tz, entries: &[DayEntry]) -> DomainResult<Vec<Visit>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let patient_ids: Vec<i64> = entries.iter().map(|e| e.patient_id).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut keys: Vec<Key> = entries.iter().map(|e| reservation::key(tenant, e.id)).collect();
    keys.extend(patient_ids.iter().map(|id| patient::key(tenant, *id)));
    let mut items = deps.table.get_many(&keys, None).await?.into_iter();
    let mut list = Vec::with_capacity(entries.len());
    for (entry, item) in entries.iter().zip(items.by_ref().take(entries.len()).collect::<Vec<_>>()) {
        let Some(item) = item else { continue };
        let r = reservation::decode(item)?.0;
        // An entry of a poly the patient was sent on from is that visit, as it stood there.
        match r.data.poly_history.iter().find(|v| v.poly_id == entry.poly_id && v.queue_number == entry.queue_number) {
            Some(earlier) => list.push(Stored { data: earlier.at_poly(&r.data), ..r }),
            None => list.push(r),
        }
    }
    let mut names = std::collections::HashMap::new();
    for item in items.flatten() {
        let (p, _) = patient::decode(item)?;
        names.insert(p.id, p.data.patient_name);
    }
    // An index item older than its patient id names none: such records' patients are read after.
    let unnamed: Vec<i64> = list.iter().map(|r| r.data.patient_id).filter(|id| !names.contains_key(id)).collect();
    if !unnamed.is_empty() {
        names.extend(patient::many(deps, tenant, unnamed).await?.into_iter().map(|(id, p)| (id, p.data.patient_name)));
    }
    Ok(list.into_iter().map(|r| visit(r.data.visit_date(), r.clone(), names.get(&r.data.patient_id).cloned().unwrap_or_default(), tz)).collect())
}

fn visit(date: NaiveDate, r: Stored<Reservation>, patient_name: String, tz: Tz) -> Visit {
    let stages = r.data.stages();
    Visit {
        date,
        queue_number: r.data.queue_number,
        patient_name,
        poly_id: r.data.poly_id,
        is_bpjs: r.data.bpjs,
        status: r.data.status_code.clone(),
        registered_at: stages.registered_at,
        called_in_at: stages.with_doctor_at,
        wait_secs: rollup::waiting_seconds(date, &stages, tz),
    }
}

/// What the rollups count of each reservation of one clinic day.
pub async fn day_facts(deps: &Deps, tenant: &Tenant, date: NaiveDate, tz: Tz) -> DomainResult<Vec<ReservationFacts>> {
    // A patient sent on to another poly counts at every poly of the day (`all_facts`), as the
    // live rollups did.
    Ok(day_reservations(deps, tenant, date).await?.iter().flat_map(|r| r.data.all_facts(tz)).collect())
}
