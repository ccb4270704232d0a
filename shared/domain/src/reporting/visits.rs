//! The patient visits report: one row per reservation, filtered by poly, insurance and status.
//!
//! A page does not read the whole period: the rollups (one item per poly per day) say how
//! many matching reservations each day holds, so the page's total comes from them and only
//! the days the page actually shows are read, each with one Query on the clinic-day index.
//! The export reads every day of the period.
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::error::DomainResult;
use crate::reservation::DayEntry;
use crate::paging::Paging;
use crate::reporting::{minutes, Cell, Column, Filters, Pagination, Polies, Rows};
use crate::rollup::{self, slot_of, DayPoly, Insurance, SLOTS};
use crate::tenant::Tenant;
use crate::Deps;

/// One reservation as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub date: NaiveDate,
    pub queue_number: i64,
    pub patient_name: String,
    pub poly_id: i64,
    pub is_bpjs: bool,
    pub status: String,
    pub registered_at: Option<DateTime<Utc>>,
    /// Called in to the doctor.
    pub called_in_at: Option<DateTime<Utc>>,
    /// See [`rollup::waiting_seconds`].
    pub wait_secs: Option<i64>,
}

fn matches(v: &Visit, f: &Filters) -> bool {
    f.poly_id.is_none_or(|p| v.poly_id == p)
        && f.insurance.is_none_or(|i| Insurance::of(v.is_bpjs) == i)
        && f.statuses.as_ref().is_none_or(|s| s.iter().any(|c| c.eq_ignore_ascii_case(&v.status)))
}

/// How many reservations of a rollup the filters keep.
fn matching(d: &DayPoly, f: &Filters) -> i64 {
    if f.poly_id.is_some_and(|p| p != d.poly_id) {
        return 0;
    }
    let slots: Vec<usize> = match &f.statuses {
        None => (0..SLOTS).collect(),
        Some(codes) => {
            let mut s: Vec<usize> = codes.iter().map(|c| slot_of(c)).collect();
            s.sort_unstable();
            s.dedup();
            s
        }
    };
    d.in_slots(&slots, f.insurance)
}

fn columns() -> Vec<Column> {
    vec![
        Column::new("date", "Date", 12.0),
        Column::new("reservation_number", "Queue No.", 10.0),
        Column::new("patient_name", "Patient Name", 28.0),
        Column::new("poly", "Poly", 22.0),
        Column::new("insurance_type", "Insurance", 11.0),
        Column::new("status", "Status", 16.0),
        Column::new("registration_time", "Registered", 11.0),
        Column::new("call_time", "Called In", 10.0),
        Column::new("waiting_time_minutes", "Waiting (min)", 14.0),
    ]
}

fn row(v: &Visit, polies: &Polies, tz: Tz) -> Vec<Cell> {
    let time = |t: Option<DateTime<Utc>>| t.map(|t| Cell::clock(t.with_timezone(&tz).time())).unwrap_or(Cell::Empty);
    vec![
        Cell::Date(v.date),
        Cell::Int(v.queue_number),
        Cell::Text(v.patient_name.clone()),
        Cell::Text(polies.name(v.poly_id)),
        Cell::Text(Insurance::of(v.is_bpjs).as_str().into()),
        Cell::Text(v.status.clone()),
        time(v.registered_at),
        time(v.called_in_at),
        Cell::opt_num(v.wait_secs.map(|s| minutes(s as f64))),
    ]
}

/// The report rows of the given reservations, in the order given.
pub fn rows_of(visits: &[Visit], polies: &Polies, tz: Tz) -> Rows {
    Rows { columns: columns(), rows: visits.iter().map(|v| row(v, polies, tz)).collect() }
}

/// Whether the filters keep a reservation, judged on the day's queue index; `None` when the
/// index item cannot tell (it predates the insurance on the index).
fn keeps(e: &DayEntry, f: &Filters) -> Option<bool> {
    let insurance = match f.insurance {
        None => true,
        Some(i) => Insurance::of(e.bpjs?) == i,
    };
    Some(insurance && f.poly_id.is_none_or(|p| e.poly_id == p) && f.statuses.as_ref().is_none_or(|s| s.iter().any(|c| c.eq_ignore_ascii_case(&e.status_code))))
}

/// The matching reservations of the given days in report order (poly name, then queue
/// number), rows `skip..skip + take` of each day (`days`: date, skip, take): only those are
/// read in full, in one batch read.
async fn rows_of_days(deps: &Deps, tenant: &Tenant, days: &[(NaiveDate, usize, usize)], f: &Filters, polies: &Polies, tz: Tz) -> DomainResult<Vec<Visit>> {
    let order = |a: &DayEntry, b: &DayEntry| {
        polies.name(a.poly_id).cmp(&polies.name(b.poly_id)).then(a.poly_id.cmp(&b.poly_id)).then(a.queue_number.cmp(&b.queue_number))
    };
    crate::reporting::source::visits_slices(deps, tenant, tz, days, |e| keeps(e, f), |v| matches(v, f), order).await
}

/// How many days an export reads at once (each a Query and a batch read).
const DAYS_IN_FLIGHT: usize = 4;

/// Every matching reservation of the period (what the export writes), a few days at once.
pub async fn all_rows(deps: &Deps, tenant: &Tenant, f: &Filters, polies: &Polies, tz: Tz) -> DomainResult<Rows> {
    use futures::{StreamExt, TryStreamExt};
    let counts = rollup::read(deps.table.as_ref(), tenant, f.from, f.to).await?;
    // A day whose rollups hold no matching reservation has none to read.
    let days: Vec<NaiveDate> = f
        .from
        .iter_days()
        .take_while(|d| *d <= f.to)
        .filter(|date| counts.iter().filter(|d| d.date == *date).map(|d| matching(d, f)).sum::<i64>() > 0)
        .collect();
    let plans: Vec<[(NaiveDate, usize, usize); 1]> = days.iter().map(|date| [(*date, 0, usize::MAX)]).collect();
    let reads: Vec<_> = plans.iter().map(|plan| rows_of_days(deps, tenant, plan, f, polies, tz)).collect();
    let per_day: Vec<Vec<Visit>> = futures::stream::iter(reads).buffered(DAYS_IN_FLIGHT).try_collect().await?;
    Ok(Rows { columns: columns(), rows: per_day.iter().flatten().map(|v| row(v, polies, tz)).collect() })
}

/// One page: totals from the rollups, rows from the days the page covers.
pub async fn page(deps: &Deps, tenant: &Tenant, f: &Filters, polies: &Polies, tz: Tz, paging: Paging) -> DomainResult<(Rows, Pagination)> {
    let counts = rollup::read(deps.table.as_ref(), tenant, f.from, f.to).await?;
    let mut per_day: Vec<(NaiveDate, usize)> = Vec::new();
    for d in &counts {
        let n = matching(d, f).max(0) as usize;
        match per_day.last_mut() {
            Some((date, total)) if *date == d.date => *total += n,
            _ => per_day.push((d.date, n)),
        }
    }
    let total: usize = per_day.iter().map(|(_, n)| n).sum();
    // Which days the page's rows fall on, and which rows of each (from the rollups' counts).
    let mut skip = (paging.page - 1).saturating_mul(paging.per_page);
    let mut left = paging.per_page;
    let mut plan = Vec::new();
    for (date, n) in per_day {
        if left == 0 {
            break;
        }
        if n == 0 {
            continue;
        }
        if skip >= n {
            skip -= n;
            continue;
        }
        let take = left.min(n - skip);
        plan.push((date, skip, take));
        left -= take;
        skip = 0;
    }
    let visits = rows_of_days(deps, tenant, &plan, f, polies, tz).await?;
    let rows = visits.iter().take(paging.per_page).map(|v| row(v, polies, tz)).collect();
    Ok((Rows { columns: columns(), rows }, Pagination::of(paging, total)))
}
