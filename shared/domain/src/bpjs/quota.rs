//! A schedule's JKN and non-JKN quotas (BPJS reports both): optional `quota_jkn` and
//! `quota_non_jkn` on the schedule body. A reservation takes its place of the kind's quota in
//! its own atomic write (`take_op`, on `T#<clinic>#BPJS_BOOKED` / `<schedule id>`), beside the
//! schedule's overall quota; a cancel gives it back (`release_op`). Without them, both kinds
//! share the schedule's quota.
use antrean_store::{Cmp, Condition, Item, Key, Op, Update};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldErrors;
use crate::schedule::{Schedule, Slot};
use crate::tenant::{id_key, Tenant};
use crate::validate;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Quotas {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkn: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_jkn: Option<i64>,
}

fn optional_count(errors: &mut FieldErrors, body: &Value, field: &str, max: i64) -> Option<i64> {
    match body.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => match validate::as_id(v).filter(|n| *n <= max) {
            Some(n) => Some(n),
            None => {
                errors.add(field, format!("The {} field must be an integer between 1 and {max}.", validate::human(field)));
                None
            }
        },
    }
}

impl Quotas {
    /// `quota_jkn` and `quota_non_jkn` of a schedule body; `None` when neither is given.
    pub fn parse(errors: &mut FieldErrors, body: &Value, max: i64) -> Option<Quotas> {
        let q = Quotas {
            jkn: optional_count(errors, body, "quota_jkn", max),
            non_jkn: optional_count(errors, body, "quota_non_jkn", max),
        };
        (q != Quotas::default()).then_some(q)
    }
}

pub const JKN_KIND: &str = "jkn";
pub const NON_JKN_KIND: &str = "nonjkn";

pub fn kind(bpjs: bool) -> &'static str {
    if bpjs {
        JKN_KIND
    } else {
        NON_JKN_KIND
    }
}

pub fn booked_key(tenant: &Tenant, schedule_id: i64) -> Key {
    Key::new(tenant.partition("BPJS_BOOKED"), id_key(schedule_id))
}

/// The kind's quota of a schedule, if it has one.
pub fn quota_of(s: &Schedule, bpjs: bool) -> Option<i64> {
    let q = s.bpjs_quota?;
    if bpjs {
        q.jkn
    } else {
        q.non_jkn
    }
}

/// The op taking one place of the kind's quota, when the schedule has one (it fails when full).
pub fn take_op(tenant: &Tenant, slot: &Slot, bpjs: bool) -> Option<Op> {
    let q = quota_of(&slot.schedule.data, bpjs)?;
    let k = kind(bpjs);
    Some(Op::update_if(
        booked_key(tenant, slot.schedule.id),
        Update::new().add(k, 1),
        Condition::Or(vec![Condition::attr_not_exists(k), Condition::compare(k, Cmp::Lt, q)]),
    ))
}

/// Gives a place of `kind` back (a cancelled reservation that took one).
pub fn release_op(tenant: &Tenant, schedule_id: i64, kind: &str) -> Op {
    Op::update(booked_key(tenant, schedule_id), Update::new().add(kind, -1))
}

/// Places taken of each kind, from the counter item (`None`: none yet).
pub fn taken(item: Option<&Item>) -> (i64, i64) {
    let n = |k: &str| item.and_then(|i| i.get(k)).and_then(Value::as_i64).unwrap_or(0);
    (n(JKN_KIND), n(NON_JKN_KIND))
}
