//! Booking rules per poly, as the clinic sets them (seed 003's refusals):
//! - `age_categories`: who may book (CHILD 0–14, TEEN 15–17, ADULT 18+, by the patient's
//!   birth date on the appointment's day); an adult at a children-only poly is refused with
//!   4005, anyone else outside the list with 4029. `null`: everyone, no birth date needed.
//! - `one_active_per_poly` (default true): one booked appointment per patient (WhatsApp
//!   number, else BPJS number) and poly (4008, naming the existing booking's date and time).
//!   A guard item `T#<clinic>#APPOINTMENT_ACTIVE#<poly id>` / `<identity>` is put with "not
//!   exists" in the booking's write and removed when the booking ends (arrival, cancel, no-show).
//! - `days_ahead`: how many days ahead booking opens (`null`: no limit).
//! - `closes_minutes_before`: the latest time before a slot starts that it can be booked.
//! - `max_reschedules` (default 2): how often one appointment may be moved.
//!
//! Stored as `T#<clinic>#BOOKING_RULES` / `<poly id>`; a poly without an item has the defaults.
use antrean_store::{Condition, Key, Op};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::appointment::{Appointment, Booked};
use super::slot::{self, Places};
use super::visitor::Visitor;
use super::{decode, item_with};
use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::poly::Poly;
use crate::record;
use crate::tenant::{id_key, Tenant};
use crate::Deps;

pub const CATEGORIES: [&str; 3] = ["CHILD", "TEEN", "ADULT"];
pub const CHILDREN_ONLY: &str = "This poly is for children: patients aged 18 and older cannot book it.";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rules {
    pub poly_id: i64,
    #[serde(default)]
    pub age_categories: Option<Vec<String>>,
    #[serde(default = "yes")]
    pub one_active_per_poly: bool,
    #[serde(default)]
    pub days_ahead: Option<i64>,
    #[serde(default)]
    pub closes_minutes_before: Option<i64>,
    #[serde(default = "two")]
    pub max_reschedules: i64,
    #[serde(default)]
    pub updated_at: Option<String>,
}

fn yes() -> bool {
    true
}
fn two() -> i64 {
    2
}

impl Rules {
    pub fn defaults(poly_id: i64) -> Rules {
        Rules { poly_id, age_categories: None, one_active_per_poly: true, days_ahead: None, closes_minutes_before: None, max_reschedules: 2, updated_at: None }
    }
}

fn key(tenant: &Tenant, poly_id: i64) -> Key {
    Key::new(tenant.partition("BOOKING_RULES"), id_key(poly_id))
}

pub(crate) fn guard_key(tenant: &Tenant, poly_id: i64, identity: &str) -> Key {
    Key::new(tenant.partition(&format!("APPOINTMENT_ACTIVE#{}", id_key(poly_id))), identity)
}

pub async fn of_poly(deps: &Deps, tenant: &Tenant, poly_id: i64) -> DomainResult<Rules> {
    match deps.table.get(&key(tenant, poly_id)).await? {
        Some(item) => decode(item, "booking rules"),
        None => Ok(Rules::defaults(poly_id)),
    }
}

/// The age category on `on` of someone born on `birth`.
pub fn category(birth: NaiveDate, on: NaiveDate) -> &'static str {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    match age {
        ..=14 => "CHILD",
        15..=17 => "TEEN",
        _ => "ADULT",
    }
}

fn refusal(code: i64, message: String) -> DomainError {
    DomainError::UnprocessableWith { message, data: json!({"code": code}) }
}

/// Judges a booking or hold against its poly's rules (the one-per-poly rule is the guard's).
pub(crate) async fn judge(deps: &Deps, tenant: &Tenant, places: &Places, visitor: &Visitor, start: &str, tz: Tz, now: DateTime<Utc>) -> DomainResult<()> {
    let s = &places.data().data;
    let rules = of_poly(deps, tenant, s.poly_id).await?;
    let date = places.date();
    if let Some(allowed) = &rules.age_categories {
        let Some(birth) = visitor.birth_date.as_deref().and_then(|b| NaiveDate::parse_from_str(b, "%Y-%m-%d").ok()) else {
            return Err(FieldErrors::single("birth_date", "The birth date field is required for this poly."));
        };
        let cat = category(birth, date);
        if !allowed.iter().any(|a| a == cat) {
            if cat == "ADULT" && !allowed.iter().any(|a| a == "ADULT") && allowed.iter().any(|a| a == "CHILD") {
                return Err(refusal(4005, CHILDREN_ONLY.into()));
            }
            return Err(refusal(4029, format!("Booking is not available for this age group: the clinic allows {} at this poly.", allowed.join(", "))));
        }
    }
    let today = now.with_timezone(&tz).date_naive();
    if let Some(n) = rules.days_ahead {
        if (date - today).num_days() > n {
            let opens = date - chrono::Duration::days(n);
            return Err(DomainError::Unprocessable(format!("Booking opens {n} days ahead: {date} can be booked from {opens}.")));
        }
    }
    if let Some(m) = rules.closes_minutes_before {
        if slot::instant(tz, &s.date, start).is_none_or(|t| t - chrono::Duration::minutes(m) <= now) {
            return Err(DomainError::Unprocessable(format!("Booking for this time closed {m} minutes before it starts.")));
        }
    }
    Ok(())
}

/// The guard a booking puts (with "not exists") when its poly allows one active booking.
pub(crate) async fn guard_ops(deps: &Deps, tenant: &Tenant, a: &Booked) -> DomainResult<Vec<Op>> {
    if !of_poly(deps, tenant, a.data.poly_id).await?.one_active_per_poly {
        return Ok(vec![]);
    }
    let g = guard_key(tenant, a.data.poly_id, &a.data.visitor.identity());
    Ok(vec![Op::put_new(item_with(&g, json!({"id": a.id, "date": a.data.date, "start_time": a.data.start_time})))])
}

/// Removes the guard of an appointment that ends (only its own).
pub(crate) fn guard_release(tenant: &Tenant, a: &Booked) -> Op {
    Op::delete_if(guard_key(tenant, a.data.poly_id, &a.data.visitor.identity()), Condition::Or(vec![Condition::NotExists, Condition::equals("id", a.id)]))
}

/// A hold checks the guard is free (the booking it becomes puts it).
pub(crate) async fn hold_checks(deps: &Deps, tenant: &Tenant, poly_id: i64, visitor: &Visitor) -> DomainResult<Vec<Op>> {
    if !of_poly(deps, tenant, poly_id).await?.one_active_per_poly {
        return Ok(vec![]);
    }
    Ok(vec![Op::check(guard_key(tenant, poly_id, &visitor.identity()), Condition::NotExists)])
}

/// 4008, naming the booking the patient already has.
pub(crate) async fn refused_for(deps: &Deps, tenant: &Tenant, poly_id: i64, visitor: &Visitor) -> DomainError {
    let held = deps.table.get(&guard_key(tenant, poly_id, &visitor.identity())).await.ok().flatten();
    let field = |k: &str| held.as_ref().and_then(|i| i.get(k)).and_then(Value::as_str).unwrap_or("?").to_string();
    let time = field("start_time");
    let id = held.as_ref().and_then(|i| i.get("id")).cloned().unwrap_or(Value::Null);
    DomainError::UnprocessableWith {
        message: format!(
            "{} is already booked on {} at {}. Only one active booking per poly is allowed.",
            visitor.patient_name,
            field("date"),
            time.get(..5).unwrap_or(&time)
        ),
        data: json!({"code": 4008, "appointment_id": id}),
    }
}

/// The refusal for the `i`-th guard op of a booking (there is one: the active guard).
pub(crate) async fn refused(deps: &Deps, tenant: &Tenant, a: &Appointment, _i: usize) -> DomainError {
    refused_for(deps, tenant, a.poly_id, &a.visitor).await
}

/// Sets a poly's rules (`PUT /api/appointments/rules/{poly_id}`); absent fields get defaults.
pub async fn set(deps: &Deps, tenant: &Tenant, actor: &Actor, poly_id: i64, body: &Value) -> DomainResult<Rules> {
    if record::get::<Poly>(deps, tenant, poly_id).await?.is_none_or(|p| p.is_trashed()) {
        return Err(DomainError::NotFound("Poly not found".into()));
    }
    let mut errors = FieldErrors::new();
    let ages = match body.get("age_categories") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            let mut out = Vec::new();
            for v in list {
                match v.as_str().map(|s| s.trim().to_uppercase()) {
                    Some(c) if CATEGORIES.contains(&c.as_str()) => {
                        if !out.contains(&c) {
                            out.push(c)
                        }
                    }
                    _ => errors.add("age_categories", "The age categories field may hold only CHILD, TEEN and ADULT."),
                }
            }
            if out.is_empty() && !errors.has("age_categories") {
                errors.add("age_categories", "The age categories field must name at least one category, or be null.");
            }
            Some(out)
        }
        Some(_) => {
            errors.add("age_categories", "The age categories field must be an array.");
            None
        }
    };
    let one = match body.get("one_active_per_poly") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.add("one_active_per_poly", "The one active per poly field must be true or false.");
            true
        }
    };
    let mut number = |field: &str, range: std::ops::RangeInclusive<i64>| match body.get(field) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64().filter(|n| range.contains(n)) {
            Some(n) => Some(n),
            None => {
                errors.add(field, format!("The {} field must be an integer between {} and {}.", field.replace('_', " "), range.start(), range.end()));
                None
            }
        },
    };
    let days_ahead = number("days_ahead", 0..=365);
    let closes = number("closes_minutes_before", 0..=1440);
    let max_reschedules = number("max_reschedules", 0..=10).unwrap_or(2);
    errors.into_result()?;
    let now = deps.clock.now();
    let rules = Rules { poly_id, age_categories: ages, one_active_per_poly: one, days_ahead, closes_minutes_before: closes, max_reschedules, updated_at: Some(stamp(now)) };
    let item = item_with(&key(tenant, poly_id), serde_json::to_value(&rules).map_err(|e| DomainError::Internal(e.to_string()))?);
    deps.table.write(vec![Op::put(item), audit::entry(tenant, actor, Action::Update, "BOOKING_RULES", poly_id, now)]).await?;
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::appointment;
    use crate::appointments::testing::{clinic, visitor, with};

    #[test]
    fn ages_count_whole_years_on_the_day() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(category(d("2016-01-10"), d("2030-01-10")), "CHILD");
        assert_eq!(category(d("2015-01-10"), d("2030-01-10")), "TEEN", "15 on the day");
        assert_eq!(category(d("2012-01-11"), d("2030-01-10")), "TEEN", "17 until tomorrow");
        assert_eq!(category(d("2012-01-10"), d("2030-01-10")), "ADULT");
    }

    #[tokio::test]
    async fn booking_closes_the_set_time_before_the_slot() {
        let (_dir, deps, clock, t, actor) = clinic().await;
        set(&deps, &t, &actor, 1, &json!({"closes_minutes_before": 60})).await.unwrap();
        let body = json!({"doctor_id": 1, "date": "2030-01-10", "start_time": "08:00", "end_time": "10:00", "slot_minutes": 30});
        let s = crate::schedule::create(&deps, &t, &actor, &body).await.unwrap();
        // 2030-01-10 07:15 in Jakarta: 08:00 closed at 07:00, 08:30 is open until 07:30.
        clock.pass(24 * 60 - 45);
        let at = |n, slot: &str| with(visitor(n), json!({"schedule_id": s.id, "slot": slot}));
        match appointment::book(&deps, &t, &actor, &at(1, "08:00")).await {
            Err(DomainError::Unprocessable(m)) => assert_eq!(m, "Booking for this time closed 60 minutes before it starts."),
            other => panic!("{other:?}"),
        }
        appointment::book(&deps, &t, &actor, &at(1, "08:30")).await.unwrap();
    }
}
