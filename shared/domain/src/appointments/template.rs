//! Weekly templates (seed 004 "Jadwal Praktek Dokter"): a doctor's regular hours on one
//! weekday, with the quota and slot length every generated schedule gets. Generating a date
//! range turns the active templates into dated doctor schedules (`crate::schedule`), skipping
//! the clinic's holidays and the days where that doctor already works those hours.
//!
//! A template is a `record` (`T#<clinic>#SCHEDULE_TEMPLATE` / `<id>`): ids, versions, audit
//! and soft delete come from there. The hours, quota and slots follow the schedule's own rules
//! (the same form judges them), so a template can never generate a schedule that is refused
//! for its shape. Generating is idempotent: every schedule is its own atomic create guarded by
//! the doctor-day revision, so a second run (or two at once) finds the first one's schedules.
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{date_string, holiday};
use crate::audit::Actor;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{self, Record, Stored};
use crate::schedule::{self, ListFilter, Period, ScheduleForm};
use crate::tenant::Tenant;
use crate::user::User;
use crate::{validate, Deps};

/// The longest range one generate call covers.
pub const MAX_GENERATE_DAYS: i64 = 92;
pub const DAY_NAMES: [&str; 7] = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Template {
    pub doctor_id: i64,
    pub poly_id: i64,
    /// 1 = Monday (Senin) … 7 = Sunday (Minggu).
    pub weekday: u32,
    /// `HH:MM:SS`
    pub start_time: String,
    /// `HH:MM:SS`
    pub end_time: String,
    pub quota: Option<i64>,
    pub slot_minutes: Option<i64>,
    pub slot_capacity: Option<i64>,
    pub active: bool,
}

impl Record for Template {
    const KIND: &'static str = "SCHEDULE_TEMPLATE";
    const LABEL: &'static str = "Schedule template";
}

impl Template {
    pub fn day_name(&self) -> &'static str {
        DAY_NAMES[(self.weekday.clamp(1, 7) - 1) as usize]
    }
}

/// `1`–`7` (Monday first) or a day's name in Indonesian or English, any case.
fn parse_weekday(errors: &mut FieldErrors, body: &Value) -> Option<u32> {
    const ENGLISH: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let n = match body.get("weekday") {
        None | Some(Value::Null) => {
            errors.add("weekday", "The weekday field is required.");
            return None;
        }
        Some(Value::Number(n)) => n.as_u64().map(|n| n as u32),
        Some(Value::String(s)) => {
            let s = s.trim().to_lowercase();
            s.parse::<u32>().ok().or_else(|| {
                let by_name = |names: &[&str]| names.iter().position(|d| d.to_lowercase() == s).map(|i| i as u32 + 1);
                by_name(&DAY_NAMES).or_else(|| by_name(&ENGLISH))
            })
        }
        Some(_) => None,
    };
    match n {
        Some(n) if (1..=7).contains(&n) => Some(n),
        _ => {
            errors.add("weekday", "The weekday field must be 1 (Monday) to 7 (Sunday) or a day's name.");
            None
        }
    }
}

fn parse_active(errors: &mut FieldErrors, body: &Value) -> Option<bool> {
    match body.get("active") {
        None | Some(Value::Null) => Some(true),
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Number(n)) if matches!(n.as_i64(), Some(0 | 1)) => Some(n.as_i64() == Some(1)),
        _ => {
            errors.add("active", "The active field must be true or false.");
            None
        }
    }
}

/// The body judged in full, the doctor too: every problem at once.
async fn judge(deps: &Deps, tenant: &Tenant, body: &Value) -> DomainResult<Template> {
    let mut errors = FieldErrors::new();
    let weekday = parse_weekday(&mut errors, body);
    let active = parse_active(&mut errors, body);
    // The schedule's own form judges hours, quota and slots; any real date stands in.
    let mut as_schedule = body.clone();
    if let Value::Object(m) = &mut as_schedule {
        m.insert("date".into(), json!("2000-01-03"));
    }
    let form = ScheduleForm::parse(&mut errors, &as_schedule);
    let mut poly_id = None;
    if let Some(id) = body.get("doctor_id").and_then(validate::as_id).filter(|_| !errors.has("doctor_id")) {
        poly_id = schedule::doctor_poly(deps, tenant, &mut errors, id).await?;
    }
    if let (Some(asked), Some(p)) = (body.get("poly_id").and_then(validate::as_id), poly_id) {
        if asked != p {
            errors.add("poly_id", "The selected doctor does not work in this poly.");
        }
    }
    errors.into_result()?;
    match (form, poly_id, weekday, active) {
        (Some(f), Some(poly_id), Some(weekday), Some(active)) => Ok(Template {
            doctor_id: f.doctor_id,
            poly_id,
            weekday,
            start_time: f.start_time,
            end_time: f.end_time,
            quota: f.quota,
            slot_minutes: f.slot_minutes,
            slot_capacity: f.slot_capacity,
            active,
        }),
        _ => Err(DomainError::Internal("a template form passed without a field".into())),
    }
}

fn doctor_live(tenant: &Tenant, doctor_id: i64) -> record::Requirement {
    record::must_be_live::<User>(tenant, doctor_id, FieldErrors::single("doctor_id", "The selected doctor id is invalid."))
}

pub async fn create(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Stored<Template>> {
    let t = judge(deps, tenant, body).await?;
    let doctor = t.doctor_id;
    record::create(deps, tenant, actor, t, |_| vec![doctor_live(tenant, doctor)]).await
}

/// Replaces the template (an absent `active` keeps it as it is).
pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Stored<Template>> {
    record::find::<Template>(deps, tenant, id).await?;
    let t = judge(deps, tenant, body).await?;
    let keep_active = body.get("active").is_none_or(Value::is_null);
    record::update::<Template>(deps, tenant, actor, id, |current| {
        let active = if keep_active { current.data.active } else { t.active };
        Ok((Template { active, ..t.clone() }, vec![doctor_live(tenant, t.doctor_id)]))
    })
    .await
}

/// Activates (`true`) or deactivates a template: only active ones generate schedules.
pub async fn set_active(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, active: bool) -> DomainResult<Stored<Template>> {
    record::update::<Template>(deps, tenant, actor, id, |current| Ok((Template { active, ..current.data.clone() }, vec![]))).await
}

pub async fn delete(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    record::trash::<Template>(deps, tenant, actor, id, vec![]).await
}

/// The live templates, by doctor, weekday and start.
pub async fn list(deps: &Deps, tenant: &Tenant, doctor_id: Option<i64>) -> DomainResult<Vec<Stored<Template>>> {
    let mut rows: Vec<Stored<Template>> =
        record::list::<Template>(deps, tenant, false).await?.into_iter().filter(|t| doctor_id.is_none_or(|d| t.data.doctor_id == d)).collect();
    rows.sort_by(|a, b| {
        (a.data.doctor_id, a.data.weekday, &a.data.start_time, a.id).cmp(&(b.data.doctor_id, b.data.weekday, &b.data.start_time, b.id))
    });
    Ok(rows)
}

// ---------------------------------------------------------------------------------------
// Generating

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Generated {
    pub schedule_id: i64,
    pub template_id: i64,
    pub doctor_id: i64,
    pub date: String,
    pub start_time: String,
    pub end_time: String,
}

/// Why a template made nothing on a date: `holiday`, `exists` (that doctor already works
/// those hours that day) or `refused` (the schedule rules said no, e.g. the doctor left).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Skipped {
    pub template_id: i64,
    pub doctor_id: i64,
    pub date: String,
    pub reason: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Generation {
    pub created: Vec<Generated>,
    pub skipped: Vec<Skipped>,
}

/// `from`, `to` (`Y-m-d`, from today, at most [`MAX_GENERATE_DAYS`] days) and an optional `doctor_id`.
pub fn parse_range(body: &Value, today: NaiveDate) -> DomainResult<(NaiveDate, NaiveDate, Option<i64>)> {
    let mut errors = FieldErrors::new();
    let from = validate::required_date(&mut errors, body, "from");
    let to = validate::required_date(&mut errors, body, "to");
    let doctor = validate::optional_id(&mut errors, body, "doctor_id");
    if let Some(f) = from {
        if f < today {
            errors.add("from", "The from field must be a date after or equal to today.");
        }
    }
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            errors.add("to", "The to field must be a date after or equal to from.");
        } else if (t - f).num_days() >= MAX_GENERATE_DAYS {
            errors.add("to", format!("The range may cover at most {MAX_GENERATE_DAYS} days."));
        }
    }
    errors.into_result()?;
    match (from, to, doctor) {
        (Some(f), Some(t), Some(d)) => Ok((f, t, d)),
        _ => Err(DomainError::Internal("a range form passed without a field".into())),
    }
}

pub async fn generate(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Generation> {
    let (today, _) = crate::reservation::clinic_today(deps, tenant).await?;
    let (from, to, doctor) = parse_range(body, today)?;
    let templates: Vec<_> = list(deps, tenant, doctor).await?.into_iter().filter(|t| t.data.active).collect();
    let holidays = holiday::between(deps, tenant, from, to).await?;
    // The schedules already there: one Query per year the range touches.
    let mut existing = Vec::new();
    for year in from.year()..=to.year() {
        let f = ListFilter { doctor_id: doctor, period: Period::Year(year) };
        existing.extend(schedule::list(deps, tenant, &f).await?);
    }
    let mut out = Generation::default();
    for day in from.iter_days().take_while(|d| *d <= to) {
        let date = date_string(day);
        for t in templates.iter().filter(|t| t.data.weekday == day.weekday().number_from_monday()) {
            let tp = &t.data;
            let skip = |reason, detail: String| Skipped { template_id: t.id, doctor_id: tp.doctor_id, date: date.clone(), reason, detail };
            if let Some(h) = holidays.iter().find(|h| h.date == date) {
                out.skipped.push(skip("holiday", h.name.clone()));
                continue;
            }
            let clash = existing.iter().find(|s| {
                s.data.doctor_id == tp.doctor_id && s.data.date == date && s.data.start_time < tp.end_time && tp.start_time < s.data.end_time
            });
            if let Some(s) = clash {
                out.skipped.push(skip("exists", format!("schedule {} ({}–{})", s.id, s.data.start_time, s.data.end_time)));
                continue;
            }
            let body = json!({"doctor_id": tp.doctor_id, "date": date, "start_time": tp.start_time, "end_time": tp.end_time,
                "quota": tp.quota, "slot_minutes": tp.slot_minutes, "slot_capacity": tp.slot_capacity});
            match schedule::create(deps, tenant, actor, &body).await {
                Ok(s) => {
                    out.created.push(Generated {
                        schedule_id: s.id,
                        template_id: t.id,
                        doctor_id: tp.doctor_id,
                        date: date.clone(),
                        start_time: s.data.start_time.clone(),
                        end_time: s.data.end_time.clone(),
                    });
                    existing.push(s);
                }
                // Someone generated or created it meanwhile: it exists now.
                Err(DomainError::Unprocessable(m)) if m == schedule::CONFLICT => out.skipped.push(skip("exists", m)),
                Err(DomainError::Validation(e)) => out.skipped.push(skip("refused", e.first())),
                Err(e) => return Err(e),
            }
        }
    }
    Ok(out)
}
