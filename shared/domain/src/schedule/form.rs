//! The schedule body, its checks and the doctor it names.
use super::*;


// ---------------------------------------------------------------------------------------
// The form

pub(super) fn date_string(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// `Y-m-d`, and a real day of the calendar.
pub(super) fn parse_date(errors: &mut FieldErrors, field: &str, s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        errors.add(field, format!("The {} field must match the format Y-m-d.", validate::human(field)));
        return None;
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.add(field, format!("The {} field must be a valid date.", validate::human(field)));
            None
        }
    }
}

/// `HH:MM` or `HH:MM:SS` (24-hour, two digits each) as `HH:MM:SS`.
pub fn parse_time(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(99)).collect();
    let (h, m, sec) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    (h < 24 && m < 60 && sec < 60).then(|| format!("{h:02}:{m:02}:{sec:02}"))
}

/// Minutes from one `HH:MM:SS` to a later one.
pub fn minutes_between(from: &str, to: &str) -> i64 {
    let m = |t: &str| {
        let n: Vec<i64> = t.split(':').map(|p| p.parse().unwrap_or(0)).collect();
        n.first().copied().unwrap_or(0) * 60 + n.get(1).copied().unwrap_or(0)
    };
    m(to) - m(from)
}

/// Two schedules' hours overlap (same doctor and date are the caller's business).
pub fn overlaps(a: &Schedule, b: &Schedule) -> bool {
    a.start_time < b.end_time && b.start_time < a.end_time
}

/// The fields of a create/update body, valid apart from what only the store can tell
/// (is the doctor a doctor). Every problem at once, in the seed's field order.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleForm {
    pub doctor_id: i64,
    pub date: NaiveDate,
    pub start_time: String,
    pub end_time: String,
    pub quota: Option<i64>,
    pub slot_minutes: Option<i64>,
    pub slot_capacity: Option<i64>,
    pub bpjs_quota: Option<crate::bpjs::quota::Quotas>,
}

/// An optional whole number within `range`; `Some(None)` when absent, `None` when wrong.
pub(super) fn optional_int(errors: &mut FieldErrors, body: &Value, field: &str, range: std::ops::RangeInclusive<i64>) -> Option<Option<i64>> {
    let n = match body.get(field) {
        None | Some(Value::Null) => return Some(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Some(None),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match n {
        None => errors.add(field, format!("The {} field must be an integer.", validate::human(field))),
        Some(n) if !range.contains(&n) => {
            errors.add(field, format!("The {} field must be between {} and {}.", validate::human(field), range.start(), range.end()))
        }
        Some(n) => return Some(Some(n)),
    }
    None
}

impl ScheduleForm {
    /// Adds what is wrong to `errors`; `Some` only when nothing was.
    pub fn parse(errors: &mut FieldErrors, body: &Value) -> Option<ScheduleForm> {
        let doctor_id = match body.get("doctor_id") {
            None | Some(Value::Null) => {
                errors.add("doctor_id", "The doctor id field is required.");
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                errors.add("doctor_id", "The doctor id field is required.");
                None
            }
            Some(v) => validate::as_id(v).or_else(|| {
                errors.add("doctor_id", "The doctor id field must be an integer.");
                None
            }),
        };
        let date = validate::required_string(errors, body, "date", 10).and_then(|s| parse_date(errors, "date", &s));
        let time = |errors: &mut FieldErrors, field: &str| {
            validate::required_string(errors, body, field, 8).and_then(|s| {
                parse_time(&s).or_else(|| {
                    errors.add(field, format!("The {} field must match the format H:i or H:i:s.", validate::human(field)));
                    None
                })
            })
        };
        let start_time = time(errors, "start_time");
        let end_time = time(errors, "end_time");
        if let (Some(s), Some(e)) = (&start_time, &end_time) {
            if e <= s {
                errors.add("end_time", "The end time field must be a time after start time.");
            }
        }
        let quota = match body.get("quota") {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) if s.trim().is_empty() => Some(None),
            Some(v) => {
                let n = match v {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                };
                match n {
                    None => {
                        errors.add("quota", "The quota field must be an integer.");
                        None
                    }
                    Some(n) if n < 1 => {
                        errors.add("quota", "The quota field must be at least 1.");
                        None
                    }
                    Some(n) if n > MAX_QUOTA => {
                        errors.add("quota", format!("The quota field must not be greater than {MAX_QUOTA}."));
                        None
                    }
                    Some(n) => Some(Some(n)),
                }
            }
        };
        let slot_minutes = optional_int(errors, body, "slot_minutes", SLOT_MINUTES);
        let slot_capacity = optional_int(errors, body, "slot_capacity", 1..=MAX_SLOT_CAPACITY);
        let bpjs_quota = crate::bpjs::quota::Quotas::parse(errors, body, MAX_QUOTA);
        if let (Some(Some(len)), Some(s), Some(e)) = (slot_minutes, &start_time, &end_time) {
            if e > s && minutes_between(s, e) < len {
                errors.add("slot_minutes", "The slot minutes field must not be longer than the schedule.");
            }
        }
        if !errors.is_empty() {
            return None;
        }
        Some(ScheduleForm {
            doctor_id: doctor_id?,
            date: date?,
            start_time: start_time?,
            end_time: end_time?,
            quota: quota?,
            slot_minutes: slot_minutes?,
            slot_capacity: slot_capacity?.filter(|_| slot_minutes.flatten().is_some()),
            bpjs_quota,
        })
    }

    /// The schedule this form describes, in the doctor's poly.
    pub(super) fn into_schedule(self, doc: &Doctor) -> Schedule {
        Schedule {
            doctor_id: self.doctor_id,
            poly_id: doc.poly_id,
            date: date_string(self.date),
            start_time: self.start_time,
            end_time: self.end_time,
            quota: self.quota,
            slot_minutes: self.slot_minutes,
            slot_capacity: self.slot_capacity,
            bpjs_quota: self.bpjs_quota,
        }
    }
}

/// A doctor as a write relies on it: the user at the version read, the role and the poly.
pub(super) struct Doctor {
    pub(super) user_id: i64,
    pub(super) version: i64,
    pub(super) role_id: i64,
    pub(super) poly_id: i64,
}

impl Doctor {
    /// The write lands only if the doctor, the role and the poly are as we judged them.
    pub(super) fn checks(&self, tenant: &Tenant) -> Vec<Op> {
        let live = || Condition::And(vec![Condition::Exists, Condition::attr_not_exists("deleted_at")]);
        vec![
            Op::check(
                record::record_key::<User>(tenant, self.user_id),
                Condition::And(vec![Condition::equals(VERSION, self.version), Condition::attr_not_exists("deleted_at")]),
            ),
            Op::check(record::record_key::<Role>(tenant, self.role_id), live()),
            Op::check(record::record_key::<Poly>(tenant, self.poly_id), live()),
        ]
    }
}

/// Is `id` a live user with the doctor role and a live poly? Adds the reason to `errors` if not.
pub(super) async fn doctor(deps: &Deps, tenant: &Tenant, errors: &mut FieldErrors, id: i64) -> DomainResult<Option<Doctor>> {
    let invalid = |errors: &mut FieldErrors, m: &str| {
        errors.add("doctor_id", m);
        Ok(None)
    };
    let Some(item) = deps.table.get(&record::record_key::<User>(tenant, id)).await? else {
        return invalid(errors, "The selected doctor id is invalid.");
    };
    let version = item.get(VERSION).and_then(Value::as_i64).unwrap_or(0);
    let user: Stored<User> = decode(item)?;
    if user.is_trashed() {
        return invalid(errors, "The selected doctor id is invalid.");
    }
    let role_id = match record::find_by_unique::<Role>(deps, tenant, "name", role::DOCTOR).await? {
        Some(r) if user.data.roles.contains(&r) && record::get::<Role>(deps, tenant, r).await?.is_some_and(|r| !r.is_trashed()) => r,
        _ => return invalid(errors, "The selected doctor id is not a doctor."),
    };
    let Some(poly_id) = user.data.poly_id else {
        return invalid(errors, "The selected doctor has no poly.");
    };
    if record::get::<Poly>(deps, tenant, poly_id).await?.is_none_or(|p| p.is_trashed()) {
        return invalid(errors, "The selected doctor's poly has been deleted.");
    }
    Ok(Some(Doctor {
        user_id: id,
        version,
        role_id,
        poly_id,
    }))
}

/// The poly of a live doctor (as schedules require one), or the reason in `errors` under `doctor_id`.
pub(crate) async fn doctor_poly(deps: &Deps, tenant: &Tenant, errors: &mut FieldErrors, id: i64) -> DomainResult<Option<i64>> {
    Ok(doctor(deps, tenant, errors, id).await?.map(|d| d.poly_id))
}

/// The body judged in full: the form and its doctor, or every problem at once.
pub(super) async fn judge(deps: &Deps, tenant: &Tenant, body: &Value) -> DomainResult<(ScheduleForm, Doctor)> {
    let mut errors = FieldErrors::new();
    let mut form = ScheduleForm::parse(&mut errors, body);
    // The doctor is judged even when other fields are wrong, so one answer names everything.
    let doctor_id = form
        .as_ref()
        .map(|f| f.doctor_id)
        .or_else(|| body.get("doctor_id").and_then(validate::as_id));
    let mut doc = None;
    if let Some(id) = doctor_id.filter(|_| !errors.has("doctor_id")) {
        doc = doctor(deps, tenant, &mut errors, id).await?;
    }
    if !errors.is_empty() {
        // Re-order into the seed's field order: doctor_id first.
        let mut ordered = FieldErrors::new();
        for field in ["doctor_id", "date", "start_time", "end_time", "quota", "quota_jkn", "quota_non_jkn", "slot_minutes", "slot_capacity"] {
            if let Some(Value::Array(msgs)) = errors.0.get(field) {
                for m in msgs {
                    ordered.add(field, m.as_str().unwrap_or_default());
                }
            }
        }
        form = None;
        ordered.into_result()?;
    }
    match (form, doc) {
        (Some(f), Some(d)) => Ok((f, d)),
        _ => Err(DomainError::Internal("a schedule form passed without its doctor".into())),
    }
}
