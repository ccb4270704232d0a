//! BPJS codes of the clinic's polies (`kodepoli`, the number prefix) and doctors
//! (`kodedokter`), given on the poly and user bodies themselves (`POST|PUT /api/poly`,
//! `POST|PUT /api/users`) and shown on them, or all at once with `PUT /api/bpjs/mapping`.
//!
//! Each code is its own item beside its record, `T#<clinic>#BPJS_CODE` / `POLY#<id>` or
//! `DOCTOR#<id>`, written in the record's own atomic write, so the bridge reads the whole
//! mapping with one query (`read`) and a poly's or user's body stays the seed's plus one
//! optional field. When the clinic has BPJS configured a code must be in BPJS's reference
//! list (`ref/poli`, `ref/dokter`, fetched with the signed client); before that any
//! well-formed code is kept and checked when the mapping is saved again.
//!
//! The single mapping item of earlier versions (`T#<clinic>#BPJS` / `MAPPING`) is still read
//! under these items, and `PUT /api/bpjs/mapping` moves its entries here and removes it.
use antrean_store::{Item, Key, Op, Query};
use serde_json::{json, Value};

use super::mapping::{self, DoctorCode, Mapping, PolyCode, Reference};
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::Requirement;
use crate::tenant::{id_key, Tenant};
use crate::webhook::WebhookSender;
use crate::Deps;

fn partition(tenant: &Tenant) -> String {
    tenant.partition("BPJS_CODE")
}

pub fn poly_key(tenant: &Tenant, poly_id: i64) -> Key {
    Key::new(partition(tenant), format!("POLY#{}", id_key(poly_id)))
}

pub fn doctor_key(tenant: &Tenant, doctor_id: i64) -> Key {
    Key::new(partition(tenant), format!("DOCTOR#{}", id_key(doctor_id)))
}

/// What a body says of a code: nothing (keep it), `null` (remove it) or a new one.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T> {
    Keep,
    Remove,
    Set(T),
}

/// A poly body's `kodepoli` and `prefix`.
#[derive(Debug, Clone, PartialEq)]
pub struct PolyForm {
    pub kodepoli: Change<String>,
    pub prefix: Option<String>,
}

pub(crate) fn prefix_of(errors: &mut FieldErrors, body: &Value, field: &str) -> Option<String> {
    let p = body.get("prefix").and_then(Value::as_str).map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty());
    if p.as_ref().is_some_and(|s| s.len() > 3 || !s.bytes().all(|b| b.is_ascii_alphabetic())) {
        errors.add(field, "The prefix must be 1 to 3 letters.");
        return None;
    }
    p
}

impl PolyForm {
    pub fn parse(body: &Value) -> DomainResult<PolyForm> {
        let mut e = FieldErrors::new();
        let kodepoli = match body.get("kodepoli") {
            None => Change::Keep,
            Some(Value::Null) => Change::Remove,
            Some(Value::String(s)) if is_code(s.trim()) => Change::Set(s.trim().to_ascii_uppercase()),
            Some(_) => {
                e.add("kodepoli", "The kodepoli field must be BPJS's poli code (1 to 10 letters or digits).");
                Change::Keep
            }
        };
        let prefix = prefix_of(&mut e, body, "prefix");
        e.into_result()?;
        Ok(PolyForm { kodepoli, prefix })
    }
}

fn is_code(s: &str) -> bool {
    (1..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A user body's `kodedokter`.
pub fn parse_kodedokter(body: &Value) -> DomainResult<Change<i64>> {
    match body.get("kodedokter") {
        None => Ok(Change::Keep),
        Some(Value::Null) => Ok(Change::Remove),
        Some(v) => match crate::validate::as_id(v) {
            Some(k) => Ok(Change::Set(k)),
            None => Err(FieldErrors::single("kodedokter", "The kodedokter field must be BPJS's doctor code (a number).")),
        },
    }
}

/// BPJS's reference list when the clinic configured BPJS; `None` before that.
async fn reference_if_configured(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, which: Reference) -> DomainResult<Option<Vec<Value>>> {
    if super::config::read(deps, tenant).await?.is_none() {
        return Ok(None);
    }
    mapping::reference(deps, sender, tenant, which).await.map(Some)
}

/// Checks a new `kodepoli` against `ref/poli` (when BPJS is configured).
pub async fn check_poly(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, form: &PolyForm, field: &str) -> DomainResult<()> {
    let Change::Set(code) = &form.kodepoli else { return Ok(()) };
    match reference_if_configured(deps, sender, tenant, Reference::Poli).await? {
        Some(list) if !list.iter().any(|r| r["kode"].as_str().is_some_and(|k| k.eq_ignore_ascii_case(code))) => {
            Err(FieldErrors::single(field, format!("BPJS has no poli with the code {code}.")))
        }
        _ => Ok(()),
    }
}

/// Checks a new `kodedokter` against `ref/dokter` (when BPJS is configured).
pub async fn check_doctor(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, change: &Change<i64>, field: &str) -> DomainResult<()> {
    let Change::Set(code) = change else { return Ok(()) };
    match reference_if_configured(deps, sender, tenant, Reference::Dokter).await? {
        Some(list) if !list.iter().any(|r| r["kode"].as_i64() == Some(*code)) => {
            Err(FieldErrors::single(field, format!("BPJS has no doctor with the code {code}.")))
        }
        _ => Ok(()),
    }
}

/// An op that cannot fail, carried in the record's own write.
fn riding(op: Op) -> Requirement {
    Requirement { op, error: DomainError::Internal("an unconditional operation failed".into()) }
}

fn put(key: Key, fields: Value) -> Op {
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    if let Value::Object(m) = fields {
        item.extend(m);
    }
    Op::put(item)
}

/// The op a poly's write carries for its code (`current`: the code it has now), if any.
pub fn poly_op(tenant: &Tenant, poly_id: i64, name: &str, form: &PolyForm, current: Option<&PolyCode>) -> Option<Op> {
    let key = poly_key(tenant, poly_id);
    let code = match (&form.kodepoli, current) {
        (Change::Remove, _) => return Some(Op::delete(key)),
        (Change::Set(k), _) => k.clone(),
        (Change::Keep, Some(c)) if form.prefix.is_some() || c.namapoli != name => c.kodepoli.clone(),
        (Change::Keep, _) => return None,
    };
    let prefix = form.prefix.clone().or_else(|| current.map(|c| c.prefix.clone())).unwrap_or_else(|| mapping::default_prefix(poly_id));
    Some(put(key, json!({"poly_id": poly_id, "kodepoli": code, "namapoli": name, "prefix": prefix})))
}

pub fn poly_requirement(tenant: &Tenant, poly_id: i64, name: &str, form: &PolyForm, current: Option<&PolyCode>) -> Vec<Requirement> {
    poly_op(tenant, poly_id, name, form, current).map(riding).into_iter().collect()
}

/// The op a doctor's write carries for their code, if any.
pub fn doctor_op(tenant: &Tenant, doctor_id: i64, name: &str, change: &Change<i64>, current: Option<&DoctorCode>) -> Option<Op> {
    let key = doctor_key(tenant, doctor_id);
    let code = match (change, current) {
        (Change::Remove, _) => return Some(Op::delete(key)),
        (Change::Set(k), _) => *k,
        (Change::Keep, Some(c)) if c.namadokter != name => c.kodedokter,
        (Change::Keep, _) => return None,
    };
    Some(put(key, json!({"doctor_id": doctor_id, "kodedokter": code, "namadokter": name})))
}

pub fn doctor_requirement(tenant: &Tenant, doctor_id: i64, name: &str, change: &Change<i64>, current: Option<&DoctorCode>) -> Vec<Requirement> {
    doctor_op(tenant, doctor_id, name, change, current).map(riding).into_iter().collect()
}

/// The clinic's mapping: the earlier single item, then every code item over it (one get, one query).
pub async fn read(deps: &Deps, tenant: &Tenant) -> DomainResult<Mapping> {
    let legacy = deps.table.get(&mapping::key(tenant)).await?;
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(partition(tenant))).await?;
    Ok(merge(mapping::from_item(legacy), &items))
}

fn merge(mut m: Mapping, items: &[Item]) -> Mapping {
    for i in items {
        let text = |f: &str| i.get(f).and_then(Value::as_str).unwrap_or_default().to_string();
        if let (Some(id), Some(k)) = (i.get("poly_id").and_then(Value::as_i64), i.get("kodepoli").and_then(Value::as_str)) {
            m.polies.insert(id, PolyCode { kodepoli: k.into(), namapoli: text("namapoli"), prefix: text("prefix") });
        } else if let (Some(id), Some(k)) = (i.get("doctor_id").and_then(Value::as_i64), i.get("kodedokter").and_then(Value::as_i64)) {
            m.doctors.insert(id, DoctorCode { kodedokter: k, namadokter: text("namadokter") });
        }
    }
    m
}

/// The ops that write `m` as code items (replacing `before`) and remove the earlier single item.
pub(crate) fn replace_ops(tenant: &Tenant, before: &Mapping, m: &Mapping) -> Vec<Op> {
    let mut ops = vec![Op::delete(mapping::key(tenant))];
    // Every entry, also those only in the earlier item, which goes in this same write.
    for (id, p) in &m.polies {
        ops.push(put(poly_key(tenant, *id), json!({"poly_id": id, "kodepoli": p.kodepoli, "namapoli": p.namapoli, "prefix": p.prefix})));
    }
    for (id, d) in &m.doctors {
        ops.push(put(doctor_key(tenant, *id), json!({"doctor_id": id, "kodedokter": d.kodedokter, "namadokter": d.namadokter})));
    }
    ops.extend(before.polies.keys().filter(|id| !m.polies.contains_key(id)).map(|id| Op::delete(poly_key(tenant, *id))));
    ops.extend(before.doctors.keys().filter(|id| !m.doctors.contains_key(id)).map(|id| Op::delete(doctor_key(tenant, *id))));
    ops
}
