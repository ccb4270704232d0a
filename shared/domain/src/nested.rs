//! What the seed nests in a reservation (its patient, poly and status), read in one batch
//! together with the reservations themselves when their ids are known from an index (the
//! day's queue names reservation, patient and poly), and with the clinic's statuses when this
//! request has not read them yet, and its settings likewise. A page of a list is then one BatchGetItem (two or three at
//! 100 reservations a page), whatever its length.
use std::collections::{BTreeSet, HashMap};

use antrean_store::{Item, Key};

use crate::configuration::settings;
use crate::error::DomainResult;
use crate::patient::{self, Patient};
use crate::poly::Poly;
use crate::record::{self, Stored};
use crate::reservation::{self, Full, Reservation};
use crate::status::{self, Status};
use crate::tenant::Tenant;
use crate::Deps;

#[derive(Debug, Default)]
pub struct Nested {
    /// Each with its version.
    reservations: HashMap<i64, (Stored<Reservation>, i64)>,
    patients: HashMap<i64, Stored<Patient>>,
    polies: HashMap<i64, Stored<Poly>>,
    statuses: HashMap<i64, Stored<Status>>,
}

impl Nested {
    /// The reservation with what it nests.
    pub fn full(&self, r: Stored<Reservation>) -> Full {
        Full {
            patient: self.patients.get(&r.data.patient_id).cloned(),
            status: self.statuses.get(&r.data.status_id).cloned(),
            poly: self.polies.get(&r.data.poly_id).cloned(),
            reservation: r,
        }
    }

    /// The reservations read, in the order of `ids` (missing ones left out), each with what it nests.
    pub fn fulls(&mut self, ids: &[i64]) -> Vec<Full> {
        self.take_versioned(ids).into_iter().map(|(r, _)| self.full(r)).collect()
    }

    /// The reservations read, in the order of `ids` (missing ones left out), with their versions.
    pub fn take_versioned(&mut self, ids: &[i64]) -> Vec<(Stored<Reservation>, i64)> {
        ids.iter().filter_map(|id| self.reservations.remove(id)).collect()
    }

    /// Whether the poly was read and is live.
    pub fn has_poly(&self, id: i64) -> bool {
        self.polies.get(&id).is_some_and(|p| !p.is_trashed())
    }
}

/// One batch read: the reservations `ids`, the patients and polies of `refs`
/// (`(patient id, poly id)`), and the workflow statuses unless this request knows them.
pub async fn read(deps: &Deps, tenant: &Tenant, ids: &[i64], refs: &[(i64, i64)]) -> DomainResult<Nested> {
    Ok(read_with(deps, tenant, ids, refs, &[]).await?.0)
}

/// [`read`], with the clinic's settings unless this request knows them, and `extra` keys
/// whose items come back as they are, in order.
pub async fn read_with(deps: &Deps, tenant: &Tenant, ids: &[i64], refs: &[(i64, i64)], extra: &[Key]) -> DomainResult<(Nested, Vec<Option<Item>>)> {
    let patient_ids: BTreeSet<i64> = refs.iter().map(|(p, _)| *p).collect();
    let poly_ids: BTreeSet<i64> = refs.iter().map(|(_, p)| *p).collect();
    let mut keys: Vec<Key> = ids.iter().map(|id| reservation::key(tenant, *id)).collect();
    keys.extend(patient_ids.iter().map(|id| patient::key(tenant, *id)));
    keys.extend(poly_ids.iter().map(|id| record::record_key::<Poly>(tenant, *id)));
    keys.extend(extra.iter().cloned());
    let context = Context::ask(tenant, &mut keys);
    let mut items = deps.table.get_many(&keys, None).await?.into_iter();
    let mut out = Nested::default();
    for item in items.by_ref().take(ids.len()).flatten() {
        let (r, v) = reservation::decode(item)?;
        out.reservations.insert(r.id, (r, v));
    }
    for item in items.by_ref().take(patient_ids.len()).flatten() {
        let (p, _) = patient::decode(item)?;
        out.patients.insert(p.id, p);
    }
    for item in items.by_ref().take(poly_ids.len()).flatten() {
        let p: Stored<Poly> = record::decode(item)?;
        out.polies.insert(p.id, p);
    }
    let extra: Vec<Option<Item>> = items.by_ref().take(extra.len()).collect();
    context.take(tenant, items)?;
    out.statuses = status::workflow(deps, tenant).await?;
    Ok((out, extra))
}

/// The clinic's settings and workflow statuses, taken along by a batch read unless this
/// request already has them: [`Context::ask`] adds their keys last, [`Context::take`] keeps
/// what came back for the rest of the request.
pub struct Context {
    settings: bool,
    statuses: bool,
}

impl Context {
    pub fn ask(tenant: &Tenant, keys: &mut Vec<Key>) -> Context {
        let context = Context { settings: !settings::known(tenant), statuses: !status::known(tenant) };
        if context.settings {
            keys.push(settings::key(tenant));
        }
        if context.statuses {
            keys.extend(status::workflow_keys(tenant));
        }
        context
    }

    /// `rest`: the batch's answers from the first key `ask` added on.
    pub fn take(self, tenant: &Tenant, mut rest: impl Iterator<Item = Option<Item>>) -> DomainResult<()> {
        if self.settings {
            settings::take_from_batch(tenant, rest.next().flatten().as_ref());
        }
        if self.statuses {
            status::take_from_batch(tenant, rest.collect())?;
        }
        Ok(())
    }
}
