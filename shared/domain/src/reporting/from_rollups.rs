//! The reports read from rollups (one item per poly per day): no-show & cancelled, BPJS vs
//! general, poly performance, waiting time and busy hours.
use chrono::NaiveTime;

use super::{minutes, Cell, Column, Filters, Fixed2, Kind, Polies, Rows};
use crate::error::{DomainError, DomainResult};
use crate::rollup::{self, DayPoly};
use crate::status::WORKFLOW;
use crate::tenant::Tenant;
use crate::Deps;

/// Rollups of the filter's period and poly, in date then poly-name order.
async fn day_polies(deps: &Deps, tenant: &Tenant, f: &Filters, polies: &Polies) -> DomainResult<Vec<DayPoly>> {
    let mut rows: Vec<DayPoly> =
        rollup::read(deps.table.as_ref(), tenant, f.from, f.to).await?.into_iter().filter(|d| f.poly_id.is_none_or(|p| d.poly_id == p)).collect();
    rows.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| polies.name(a.poly_id).cmp(&polies.name(b.poly_id))).then(a.poly_id.cmp(&b.poly_id)));
    Ok(rows)
}

fn dp_head(d: &DayPoly, polies: &Polies) -> Vec<Cell> {
    vec![Cell::Date(d.date), Cell::Text(polies.name(d.poly_id))]
}

/// The peak hour of a day: the hour with the most registrations, the earliest on a tie.
pub fn peak_hour(hours: &[i64; 24]) -> Option<usize> {
    let max = *hours.iter().max()?;
    (max > 0).then(|| hours.iter().position(|h| *h == max)).flatten()
}

/// Rows of the reports read from rollups (every report but patient visits and user activity).
pub async fn rollup_rows(deps: &Deps, tenant: &Tenant, kind: Kind, f: &Filters, polies: &Polies) -> DomainResult<Rows> {
    let days = day_polies(deps, tenant, f, polies).await?;
    let head = || vec![Column::new("date", "Date", 12.0), Column::new("poly", "Poly", 22.0)];
    let (mut columns, rows): (Vec<Column>, Vec<Vec<Cell>>) = match kind {
        Kind::NoShowCancelled => {
            let ins = f.insurance;
            let rows = days
                .iter()
                .filter(|d| d.total_of(ins) > 0)
                .map(|d| {
                    let total = d.total_of(ins);
                    let no_show = d.status("NO_SHOW", ins);
                    let cancelled = d.status("CANCELLED", ins);
                    let mut r = dp_head(d, polies);
                    r.extend([Cell::Int(total), Cell::Int(no_show), Cell::Int(cancelled), Cell::Num(Fixed2::percent(no_show + cancelled, total))]);
                    r
                })
                .collect();
            let mut c = head();
            c.extend([
                Column::new("total_reservations", "Total Reservations", 19.0),
                Column::new("no_show", "No-Show", 10.0),
                Column::new("cancelled", "Cancelled", 11.0),
                Column::new("ratio_percent", "No-Show + Cancelled (%)", 24.0),
            ]);
            (c, rows)
        }
        Kind::BpjsVsGeneral => {
            let rows = days
                .iter()
                .filter(|d| d.total() > 0)
                .map(|d| {
                    let mut r = dp_head(d, polies);
                    r.extend([
                        Cell::Int(d.bpjs()),
                        Cell::Int(d.general()),
                        Cell::Num(Fixed2::percent(d.bpjs(), d.total())),
                        Cell::Num(Fixed2::percent(d.general(), d.total())),
                    ]);
                    r
                })
                .collect();
            let mut c = head();
            c.extend([
                Column::new("total_bpjs", "BPJS", 8.0),
                Column::new("total_general", "General", 9.0),
                Column::new("bpjs_percentage", "BPJS (%)", 10.0),
                Column::new("general_percentage", "General (%)", 12.0),
            ]);
            (c, rows)
        }
        Kind::PolyPerformance => {
            let rows = days
                .iter()
                .filter(|d| d.total() > 0)
                .map(|d| {
                    let mut r = dp_head(d, polies);
                    r.extend([
                        Cell::Int(d.patients()),
                        Cell::opt_num((d.wait_n > 0).then(|| minutes(d.wait_sum as f64 / d.wait_n as f64))),
                        Cell::Num(Fixed2::percent(d.no_show(), d.total())),
                        peak_hour(&d.hours).map(|h| Cell::Time(NaiveTime::from_hms_opt(h as u32, 0, 0).unwrap())).unwrap_or(Cell::Empty),
                    ]);
                    r
                })
                .collect();
            let mut c = head();
            c.extend([
                Column::new("total_patients", "Total Patients", 15.0),
                Column::new("average_waiting_time_minutes", "Average Wait (min)", 19.0),
                Column::new("no_show_rate_percent", "No-Show Rate (%)", 17.0),
                Column::new("peak_hour", "Peak Hour", 11.0),
            ]);
            (c, rows)
        }
        Kind::WaitingTime => {
            let rows = days
                .iter()
                .filter(|d| d.total() > 0)
                .map(|d| {
                    let waited = d.wait_n > 0;
                    let mut r = dp_head(d, polies);
                    r.extend([
                        Cell::opt_num(waited.then(|| minutes(d.wait_sum as f64 / d.wait_n as f64))),
                        Cell::opt_num(d.wait_max.filter(|_| waited).map(|s| minutes(s as f64))),
                        Cell::opt_num(d.wait_min.filter(|_| waited).map(|s| minutes(s as f64))),
                    ]);
                    r
                })
                .collect();
            let mut c = head();
            c.extend([
                Column::new("average_waiting_time_minutes", "Average Wait (min)", 19.0),
                Column::new("longest_waiting_time_minutes", "Longest Wait (min)", 19.0),
                Column::new("fastest_waiting_time_minutes", "Shortest Wait (min)", 19.0),
            ]);
            (c, rows)
        }
        Kind::BusyHour => {
            let rows = days
                .iter()
                .filter(|d| d.total() > 0)
                .map(|d| {
                    let mut r = dp_head(d, polies);
                    r.extend(d.hours.iter().map(|h| Cell::Int(*h)));
                    r.push(Cell::Int(d.total()));
                    r
                })
                .collect();
            let mut c = head();
            c.extend((0..24).map(|h| Column::new(&format!("{h:02}:00"), &format!("{h:02}:00"), 7.0)));
            c.push(Column::new("total_reservations", "Total Reservations", 19.0));
            (c, rows)
        }
        Kind::PatientVisits | Kind::UserActivity => {
            return Err(DomainError::Internal(format!("{} is not a rollup report", kind.slug())));
        }
    };
    columns.shrink_to_fit();
    Ok(Rows { columns, rows })
}

/// Workflow codes in order, for documentation and validation messages.
pub fn workflow_codes() -> Vec<&'static str> {
    WORKFLOW.iter().map(|(c, _, _)| *c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_hour_is_the_earliest_busiest() {
        let mut h = [0; 24];
        assert_eq!(peak_hour(&h), None);
        h[14] = 2;
        h[9] = 2;
        h[10] = 1;
        assert_eq!(peak_hour(&h), Some(9));
    }
}
