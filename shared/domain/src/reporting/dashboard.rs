//! The dashboard (seed section "Dashboard"): seven charts, every figure read from rollups
//! (one item per poly per day) and counted in the clinic's own calendar.
//!
//! Periods: `year` alone gives a row per month, `year&month` a row per day of the month,
//! `year&month&day` one row for that day; with none of them, this year. `poly_id` narrows to
//! one poly. The summary and the peak hours take `date` (default: today).
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::{DomainResult, FieldErrors};
use crate::reporting::{self, given, minutes, parse_date, parse_poly, Fixed2, Polies};
use crate::rollup::{self, DayPoly};
use crate::tenant::Tenant;
use crate::Deps;

/// The period a chart covers and how it is cut into rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Year(i32),
    Month(i32, u32),
    Day(NaiveDate),
}

fn last_of_month(year: i32, month: u32) -> NaiveDate {
    let first_next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) };
    first_next.and_then(|d| d.pred_opt()).expect("a valid month")
}

impl Period {
    /// `year`, `month`, `day` as sent (`month=01` and `month=1` alike).
    pub fn parse(errors: &mut FieldErrors, year: Option<&str>, month: Option<&str>, day: Option<&str>, today: NaiveDate) -> Option<Period> {
        let int = |errors: &mut FieldErrors, field: &str, raw: Option<&str>, lo: i64, hi: i64| -> Option<i64> {
            let raw = given(raw)?;
            match raw.parse::<i64>() {
                Ok(n) if (lo..=hi).contains(&n) => Some(n),
                Ok(_) => {
                    errors.add(field, format!("The {field} field must be between {lo} and {hi}."));
                    None
                }
                Err(_) => {
                    errors.add(field, format!("The {field} field must be an integer."));
                    None
                }
            }
        };
        let y = int(errors, "year", year, 2000, 2100);
        let m = int(errors, "month", month, 1, 12);
        let d = int(errors, "day", day, 1, 31);
        if !errors.is_empty() {
            return None;
        }
        let y = y.map(|y| y as i32).unwrap_or(today.year());
        match (m, d) {
            (None, None) => Some(Period::Year(y)),
            (Some(m), None) => Some(Period::Month(y, m as u32)),
            (None, Some(_)) => {
                errors.add("month", "The month field is required when day is present.");
                None
            }
            (Some(m), Some(d)) => match NaiveDate::from_ymd_opt(y, m as u32, d as u32) {
                Some(date) => Some(Period::Day(date)),
                None => {
                    errors.add("day", "The day field must be a valid day of the month.");
                    None
                }
            },
        }
    }

    pub fn range(self) -> (NaiveDate, NaiveDate) {
        match self {
            Period::Year(y) => (NaiveDate::from_ymd_opt(y, 1, 1).unwrap(), NaiveDate::from_ymd_opt(y, 12, 31).unwrap()),
            Period::Month(y, m) => (NaiveDate::from_ymd_opt(y, m, 1).unwrap(), last_of_month(y, m)),
            Period::Day(d) => (d, d),
        }
    }

    /// The row labels, in order, each with its first and last day.
    pub fn buckets(self) -> Vec<(String, NaiveDate, NaiveDate)> {
        match self {
            Period::Year(y) => (1..=12)
                .map(|m| (format!("{y:04}-{m:02}"), NaiveDate::from_ymd_opt(y, m, 1).unwrap(), last_of_month(y, m)))
                .collect(),
            Period::Month(..) | Period::Day(_) => {
                let (from, to) = self.range();
                from.iter_days().take_while(|d| *d <= to).map(|d| (d.format("%Y-%m-%d").to_string(), d, d)).collect()
            }
        }
    }
}

/// The query of a period chart, as sent.
#[derive(Debug, Clone, Default)]
pub struct PeriodQuery {
    pub year: Option<String>,
    pub month: Option<String>,
    pub day: Option<String>,
    pub poly_id: Option<String>,
}

/// The query of the summary and the peak hours, as sent.
#[derive(Debug, Clone, Default)]
pub struct DateQuery {
    pub date: Option<String>,
    pub poly_id: Option<String>,
    /// The seed's own example sends the date as `year=2026-01-05`; taken as `date` when
    /// `date` is absent and it looks like one.
    pub year: Option<String>,
}

/// What a chart reads: the rollups of its period, its polies.
pub struct Figures {
    pub period: Period,
    pub poly_id: Option<i64>,
    pub polies: Polies,
    pub rollups: Vec<DayPoly>,
}

impl Figures {
    fn shown(&self) -> Vec<(i64, String)> {
        self.polies.shown(self.poly_id, &self.rollups)
    }
    fn in_range(&self, from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = &DayPoly> {
        self.rollups.iter().filter(move |r| r.date >= from && r.date <= to)
    }
    fn of_poly(&self, poly: i64) -> impl Iterator<Item = &DayPoly> {
        self.rollups.iter().filter(move |r| r.poly_id == poly)
    }
}

async fn read_figures(deps: &Deps, tenant: &Tenant, period: Period, poly_id: Option<i64>, polies: Polies) -> DomainResult<Figures> {
    let (from, to) = period.range();
    let rollups = rollup::read(deps.table.as_ref(), tenant, from, to).await?.into_iter().filter(|r| poly_id.is_none_or(|p| r.poly_id == p)).collect();
    Ok(Figures { period, poly_id, polies, rollups })
}

/// Validates a period chart's query and reads its rollups.
pub async fn period_figures(deps: &Deps, tenant: &Tenant, q: &PeriodQuery) -> DomainResult<Figures> {
    let tz = reporting::clinic_zone(deps, tenant).await?;
    let polies = Polies::load(deps, tenant).await?;
    let mut errors = FieldErrors::new();
    let period = Period::parse(&mut errors, q.year.as_deref(), q.month.as_deref(), q.day.as_deref(), reporting::today(deps, tz));
    let poly_id = parse_poly(&mut errors, q.poly_id.as_deref(), &polies);
    errors.into_result()?;
    read_figures(deps, tenant, period.expect("valid when no errors"), poly_id, polies).await
}

/// Validates a one-day chart's query and reads that day's rollups.
pub async fn day_figures(deps: &Deps, tenant: &Tenant, q: &DateQuery) -> DomainResult<Figures> {
    let tz = reporting::clinic_zone(deps, tenant).await?;
    let polies = Polies::load(deps, tenant).await?;
    let mut errors = FieldErrors::new();
    let raw = given(q.date.as_deref()).or_else(|| given(q.year.as_deref()).filter(|y| y.len() == 10));
    let date = parse_date(&mut errors, "date", raw).unwrap_or_else(|| reporting::today(deps, tz));
    let poly_id = parse_poly(&mut errors, q.poly_id.as_deref(), &polies);
    errors.into_result()?;
    read_figures(deps, tenant, Period::Day(date), poly_id, polies).await
}

/// `{"name": …, "value": …}`
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct NameValue {
    pub name: String,
    pub value: i64,
}

/// Summary: the day's queue numbers, patients, finished patients and no-shows.
pub fn summary(f: &Figures) -> Vec<NameValue> {
    let sum = |g: fn(&DayPoly) -> i64| f.rollups.iter().map(g).sum::<i64>();
    vec![
        NameValue { name: "Total Queue Today".into(), value: sum(DayPoly::total) },
        NameValue { name: "Total Patients Today".into(), value: sum(DayPoly::patients) },
        NameValue { name: "Patients Completed Today".into(), value: sum(DayPoly::done) },
        NameValue { name: "No Show Patients Today".into(), value: sum(DayPoly::no_show) },
    ]
}

/// Reservation trend: a row per month / day, one key per poly name.
pub fn reservation_trend(f: &Figures) -> Vec<Value> {
    let shown = f.shown();
    f.period
        .buckets()
        .into_iter()
        .map(|(label, from, to)| {
            let mut row = Map::new();
            row.insert("label".into(), label.into());
            for (id, name) in &shown {
                let n: i64 = f.in_range(from, to).filter(|r| r.poly_id == *id).map(DayPoly::total).sum();
                row.insert(name.clone(), n.into());
            }
            Value::Object(row)
        })
        .collect()
}

/// Reservations by poly over the whole period.
pub fn reservations_by_poly(f: &Figures) -> Vec<NameValue> {
    f.shown().into_iter().map(|(id, name)| NameValue { name, value: f.of_poly(id).map(DayPoly::total).sum() }).collect()
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct AttendanceSummary {
    pub attended: i64,
    pub not_attended: i64,
    pub total: i64,
    #[schema(value_type = f64)]
    pub attendance_rate: Fixed2,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Attendance {
    pub summary: AttendanceSummary,
    pub chart: Vec<NameValue>,
}

/// Attendance: patients who came against patients who did not come when called.
pub fn attendance(f: &Figures) -> Attendance {
    let attended: i64 = f.rollups.iter().map(DayPoly::attended).sum();
    let not_attended: i64 = f.rollups.iter().map(DayPoly::no_show).sum();
    let total = attended + not_attended;
    Attendance {
        summary: AttendanceSummary { attended, not_attended, total, attendance_rate: Fixed2::percent(attended, total) },
        chart: vec![NameValue { name: "Attended".into(), value: attended }, NameValue { name: "Not Attended".into(), value: not_attended }],
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct AverageWait {
    pub name: String,
    /// Minutes with two decimals, as a string (`"67.94"`); `"0.00"` when nobody was called in.
    pub avg_waiting_time: String,
}

/// Average waiting time per poly, in minutes.
pub fn average_waiting_time(f: &Figures) -> Vec<AverageWait> {
    f.shown()
        .into_iter()
        .map(|(id, name)| {
            let (sum, n) = f.of_poly(id).fold((0i64, 0i64), |(s, n), r| (s + r.wait_sum, n + r.wait_n));
            let avg = if n == 0 { 0.0 } else { minutes(sum as f64 / n as f64).0 };
            AverageWait { name, avg_waiting_time: format!("{avg:.2}") }
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct HourValue {
    /// `"00"` … `"23"`, clinic time.
    pub hour: String,
    pub value: i64,
}

/// Registrations per hour of the day, 24 rows.
pub fn peak_hours(f: &Figures) -> Vec<HourValue> {
    (0..24).map(|h| HourValue { hour: format!("{h:02}"), value: f.rollups.iter().map(|r| r.hours[h]).sum() }).collect()
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct BpjsGeneral {
    pub label: String,
    pub bpjs: i64,
    pub general: i64,
}

/// BPJS against general patients, a row per month / day.
pub fn bpjs_vs_general(f: &Figures) -> Vec<BpjsGeneral> {
    f.period
        .buckets()
        .into_iter()
        .map(|(label, from, to)| BpjsGeneral {
            label,
            bpjs: f.in_range(from, to).map(DayPoly::bpjs).sum(),
            general: f.in_range(from, to).map(DayPoly::general).sum(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 10).unwrap()
    }

    #[test]
    fn periods_cut_into_the_seeds_rows() {
        let mut e = FieldErrors::new();
        let y = Period::parse(&mut e, Some("2026"), None, None, today()).unwrap();
        let b = y.buckets();
        assert_eq!(b.len(), 12);
        assert_eq!(b[1].0, "2026-02");
        assert_eq!(b[1].2, NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        let m = Period::parse(&mut e, Some("2024"), Some("02"), None, today()).unwrap();
        assert_eq!(m.buckets().len(), 29);
        assert_eq!(m.buckets()[0].0, "2024-02-01");
        let d = Period::parse(&mut e, Some("2026"), Some("1"), Some("06"), today()).unwrap();
        assert_eq!(d.buckets().into_iter().map(|b| b.0).collect::<Vec<_>>(), ["2026-01-06"]);
        assert_eq!(Period::parse(&mut e, None, None, None, today()), Some(Period::Year(2026)));
        assert!(e.is_empty());
    }

    #[test]
    fn bad_periods_say_why() {
        for (y, m, d, field, msg) in [
            (Some("20x6"), None, None, "year", "The year field must be an integer."),
            (Some("2026"), Some("13"), None, "month", "The month field must be between 1 and 12."),
            (Some("2026"), None, Some("5"), "month", "The month field is required when day is present."),
            (Some("2026"), Some("2"), Some("30"), "day", "The day field must be a valid day of the month."),
        ] {
            let mut e = FieldErrors::new();
            assert_eq!(Period::parse(&mut e, y, m, d, today()), None);
            assert_eq!(e.0[field][0], msg);
        }
    }
}
