//! What clients draw: the bookable slots of a range, a doctor's or poly's availability for
//! the next days, and a timeline of bookings in the event shape FullCalendar reads.
//! Read-only; every read is a Query on a day or year index or a GetItem by key.
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::appointment::{self, Booked};
use super::slot::{self, Places};
use super::{date_string, holiday};
use crate::error::{DomainResult, FieldErrors};
use crate::record::Stored;
use crate::schedule::{self, ListFilter, Period, Schedule};
use crate::tenant::Tenant;
use crate::Deps;

/// The longest range one slots or timeline request covers.
pub const MAX_DAYS: i64 = 31;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SlotView {
    pub start: String,
    pub end: String,
    pub capacity: i64,
    /// Bookings and live holds.
    pub taken: i64,
    /// Places left (within the schedule's quota).
    pub free: i64,
    /// Bookable now: not started yet, not on a holiday.
    pub open: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScheduleSlots {
    pub schedule_id: i64,
    pub doctor_id: i64,
    pub poly_id: i64,
    pub date: String,
    pub start_time: String,
    pub end_time: String,
    pub quota: Option<i64>,
    /// Places taken in the schedule (bookings, live holds and walk-in reservations).
    pub booked: i64,
    /// Places left in the schedule (`null`: no quota).
    pub free: Option<i64>,
    /// The holiday's name when the clinic is closed that day.
    pub closed: Option<String>,
    /// Empty for a schedule booked as a whole (no slot length).
    pub slots: Vec<SlotView>,
}

/// Which schedules: a poly, a doctor, or both, over `from`..=`to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub poly_id: Option<i64>,
    pub doctor_id: Option<i64>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    /// `from` defaults to today, `to` to `from`; at most [`MAX_DAYS`] days.
    pub fn parse(poly_id: Option<i64>, doctor_id: Option<i64>, from: Option<NaiveDate>, to: Option<NaiveDate>, today: NaiveDate) -> DomainResult<Range> {
        let from = from.unwrap_or(today);
        let to = to.unwrap_or(from);
        let mut errors = FieldErrors::new();
        if poly_id.is_none() && doctor_id.is_none() {
            errors.add("poly_id", "The poly id field is required when doctor id is not present.");
        }
        if to < from {
            errors.add("to", "The to field must be a date after or equal to from.");
        } else if (to - from).num_days() >= MAX_DAYS {
            errors.add("to", format!("The range may cover at most {MAX_DAYS} days."));
        }
        errors.into_result()?;
        Ok(Range { poly_id, doctor_id, from, to })
    }
}

/// The live schedules of a range: one Query of the day index per year it touches.
async fn schedules(deps: &Deps, tenant: &Tenant, r: &Range) -> DomainResult<Vec<Stored<Schedule>>> {
    let (from, to) = (date_string(r.from), date_string(r.to));
    let mut out = Vec::new();
    for year in r.from.year()..=r.to.year() {
        let f = ListFilter { doctor_id: r.doctor_id, period: Period::Year(year) };
        out.extend(
            schedule::list(deps, tenant, &f)
                .await?
                .into_iter()
                .filter(|s| s.data.date >= from && s.data.date <= to && r.poly_id.is_none_or(|p| s.data.poly_id == p)),
        );
    }
    Ok(out)
}

fn view(p: &Places, closed: Option<String>, tz: Tz, now: DateTime<Utc>) -> ScheduleSlots {
    let s = &p.data().data;
    let open_at = |t: &str| closed.is_none() && slot::instant(tz, &s.date, t).is_some_and(|t| t > now);
    let slots = slot::cut(s)
        .into_iter()
        .map(|t| SlotView {
            capacity: slot::capacity(s),
            taken: p.slot_taken(&t.start),
            free: p.slot_free(&t.start),
            open: open_at(&t.start),
            start: t.start,
            end: t.end,
        })
        .collect();
    let expired = p.expired.len() as i64;
    ScheduleSlots {
        schedule_id: p.data().id,
        doctor_id: s.doctor_id,
        poly_id: s.poly_id,
        date: s.date.clone(),
        start_time: s.start_time.clone(),
        end_time: s.end_time.clone(),
        quota: s.quota,
        booked: (p.schedule.booked - expired).max(0),
        free: p.schedule_free(),
        closed,
        slots,
    }
}

/// The slots of every schedule in the range, by date, start, id.
pub async fn slots(deps: &Deps, tenant: &Tenant, r: &Range, tz: Tz) -> DomainResult<Vec<ScheduleSlots>> {
    let now = deps.clock.now();
    let list = schedules(deps, tenant, r).await?;
    let ids: Vec<i64> = list.iter().map(|s| s.id).collect();
    let (places, holidays) = futures::future::try_join(slot::many_places(deps, tenant, &ids, now), holiday::between(deps, tenant, r.from, r.to)).await?;
    Ok(places
        .iter()
        .map(|p| {
            let closed = holidays.iter().find(|h| h.date == p.data().data.date).map(|h| h.name.clone());
            view(p, closed, tz, now)
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FirstFree {
    pub schedule_id: i64,
    pub doctor_id: i64,
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayAvailability {
    pub date: String,
    /// Places left that can still be booked (`null`: a schedule without quota or slots).
    pub free: Option<i64>,
    /// The earliest open place: a slot, or the schedule's hours when it has no slots.
    pub first_free: Option<FirstFree>,
}

/// The dates of the next `days` days (from today) with a free, open place, and each one's
/// first free slot.
pub async fn availability(deps: &Deps, tenant: &Tenant, poly_id: Option<i64>, doctor_id: Option<i64>, days: i64, tz: Tz) -> DomainResult<Vec<DayAvailability>> {
    let now = deps.clock.now();
    let today = now.with_timezone(&tz).date_naive();
    let r = Range::parse(poly_id, doctor_id, Some(today), Some(today + chrono::Duration::days(days.clamp(1, MAX_DAYS) - 1)), today)?;
    let mut out: Vec<DayAvailability> = Vec::new();
    let mut list = slots(deps, tenant, &r, tz).await?;
    list.sort_by(|a, b| (&a.date, &a.start_time, a.schedule_id).cmp(&(&b.date, &b.start_time, b.schedule_id)));
    for s in list.iter().filter(|s| s.closed.is_none()) {
        // (free places, first) of this schedule, counting only what can still be booked.
        let (free, first) = if s.slots.is_empty() {
            let open = slot::instant(tz, &s.date, &s.end_time).is_some_and(|t| t > now);
            let free = if open { s.free } else { Some(0) };
            let first = (open && free.is_none_or(|f| f > 0)).then(|| FirstFree { schedule_id: s.schedule_id, doctor_id: s.doctor_id, start: s.start_time.clone(), end: s.end_time.clone() });
            (free, first)
        } else {
            let open: Vec<&SlotView> = s.slots.iter().filter(|v| v.open && v.free > 0).collect();
            let free = s.slots.iter().filter(|v| v.open).map(|v| v.free).sum::<i64>();
            let free = s.free.map_or(free, |f| free.min(f));
            (Some(free), open.first().map(|v| FirstFree { schedule_id: s.schedule_id, doctor_id: s.doctor_id, start: v.start.clone(), end: v.end.clone() }))
        };
        if first.is_none() {
            continue;
        }
        match out.iter_mut().find(|d| d.date == s.date) {
            Some(d) => {
                d.free = match (d.free, free) {
                    (Some(a), Some(b)) => Some(a + b),
                    _ => None,
                };
                // Schedules come in start order: the first one found stays first.
            }
            None => out.push(DayAvailability { date: s.date.clone(), free, first_free: first }),
        }
    }
    Ok(out)
}

/// One booking as FullCalendar reads an event; `resourceId` is the doctor (resource timeline views).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub id: String,
    pub title: String,
    /// `YYYY-MM-DDTHH:MM:SS`, clinic time.
    pub start: String,
    pub end: String,
    #[serde(rename = "resourceId")]
    pub resource_id: String,
    pub status: String,
    #[serde(rename = "extendedProps")]
    pub extended_props: serde_json::Value,
}

fn event(a: &Booked) -> Event {
    let d = &a.data;
    Event {
        id: a.id.to_string(),
        title: d.visitor.patient_name.clone(),
        start: format!("{}T{}", d.date, d.start_time),
        end: format!("{}T{}", d.date, d.end_time),
        resource_id: d.doctor_id.to_string(),
        status: d.status.clone(),
        extended_props: serde_json::json!({"poly_id": d.poly_id, "schedule_id": d.schedule_id, "queue_number": d.queue_number,
            "reschedule_count": d.reschedule_count, "source": d.source}),
    }
}

/// The bookings of a day (`days` = 1) or week (7) from `from`, of a doctor or a poly: one Query per day.
pub async fn timeline(deps: &Deps, tenant: &Tenant, poly_id: Option<i64>, doctor_id: Option<i64>, from: NaiveDate, days: i64) -> DomainResult<Vec<Event>> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(FieldErrors::single("days", format!("The days field must be between 1 and {MAX_DAYS}.")));
    }
    let dates: Vec<NaiveDate> = from.iter_days().take(days as usize).collect();
    let reads = futures::future::try_join_all(dates.iter().map(|d| appointment::on_day(deps, tenant, *d, poly_id))).await?;
    let mut out: Vec<Event> = reads.into_iter().flatten().filter(|a| doctor_id.is_none_or(|d| a.data.doctor_id == d)).map(|a| event(&a)).collect();
    out.sort_by(|a, b| (&a.start, &a.id).cmp(&(&b.start, &b.id)));
    Ok(out)
}

