//! Reports (seed section "Report (Page & Export)"): seven reports, each a page of rows with
//! the seed's `pagination` block and an XLSX export of the very same rows.
//!
//! Every report is a list of rows of typed cells ([`Cell`]): the page shows them as JSON, the
//! export writes them as real dates, times and numbers, so the two cannot disagree. The
//! per-day-per-poly reports read rollups (one item per poly per day); patient visits read the
//! reservations of the days a page needs ([`crate::report_visits`]); user activity reads the
//! audit entries of the days asked ([`crate::report_activity`]).
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::paging::Paging;
use crate::poly::Poly;
use crate::record;
use crate::rollup::{self, DayPoly, Insurance};
use crate::status::WORKFLOW;
use crate::tenant::Tenant;
use crate::Deps;

/// The longest period a report covers.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A number rounded to two decimals, written without a fraction when it is whole
/// (`70`, `33.33`), as the seed shows percentages and minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fixed2(pub f64);

impl Fixed2 {
    pub fn of(x: f64) -> Fixed2 {
        Fixed2((x * 100.0).round() / 100.0)
    }
    /// `part / whole × 100`, 0 when there is no whole.
    pub fn percent(part: i64, whole: i64) -> Fixed2 {
        if whole == 0 {
            Fixed2(0.0)
        } else {
            Fixed2::of(part as f64 * 100.0 / whole as f64)
        }
    }
    pub fn to_json(self) -> Value {
        if self.0.fract() == 0.0 && self.0.abs() < 1e15 {
            Value::from(self.0 as i64)
        } else {
            serde_json::Number::from_f64(self.0).map(Value::Number).unwrap_or(Value::Null)
        }
    }
}

impl Serialize for Fixed2 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// Seconds of waiting as minutes with two decimals.
pub fn minutes(secs: f64) -> Fixed2 {
    Fixed2::of(secs / 60.0)
}

/// The clinic's time zone (its `clinic_timezone` config): every figure is counted in the
/// clinic's own calendar and clock.
pub async fn clinic_zone(deps: &Deps, tenant: &Tenant) -> DomainResult<Tz> {
    crate::configuration::config::clinic_timezone(deps, tenant).await
}

/// Today in the clinic's calendar.
pub fn today(deps: &Deps, tz: Tz) -> NaiveDate {
    deps.clock.now().with_timezone(&tz).date_naive()
}

/// Every poly the clinic has ever had, live or trashed, by id (a trashed poly's history
/// still counts, under its name).
#[derive(Debug, Clone, Default)]
pub struct Polies {
    pub by_id: BTreeMap<i64, (String, bool)>,
}

impl Polies {
    pub async fn load(deps: &Deps, tenant: &Tenant) -> DomainResult<Polies> {
        // Only id, name and whether it is trashed.
        let q = antrean_store::Query::partition(tenant.partition(<Poly as record::Record>::KIND)).only(&["id", "name", "deleted_at"]);
        let items = antrean_store::query_all(deps.table.as_ref(), q).await?;
        let by_id = items
            .iter()
            .filter_map(|i| {
                let id = i.get("id")?.as_i64()?;
                let name = i.get("name")?.as_str()?.to_string();
                Some((id, (name, i.get("deleted_at").is_none_or(serde_json::Value::is_null))))
            })
            .collect();
        Ok(Polies { by_id })
    }
    pub fn name(&self, id: i64) -> String {
        self.by_id.get(&id).map(|(n, _)| n.clone()).unwrap_or_else(|| format!("Poly {id}"))
    }
    pub fn exists(&self, id: i64) -> bool {
        self.by_id.contains_key(&id)
    }
    /// The polies a chart shows: the one asked for, else every live poly plus any trashed
    /// one that has figures in the period; by id.
    pub fn shown(&self, poly_id: Option<i64>, rollups: &[DayPoly]) -> Vec<(i64, String)> {
        self.by_id
            .iter()
            .filter(|(id, (_, live))| match poly_id {
                Some(p) => **id == p,
                None => *live || rollups.iter().any(|r| r.poly_id == **id),
            })
            .map(|(id, (name, _))| (*id, name.clone()))
            .collect()
    }
}

/// An optional query value: absent and empty are the same (Laravel turns `?x=` into null).
pub fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// `poly_id`: a positive integer naming a poly the clinic has (or had).
pub fn parse_poly(errors: &mut FieldErrors, raw: Option<&str>, polies: &Polies) -> Option<i64> {
    let raw = given(raw)?;
    match raw.parse::<i64>() {
        Ok(id) if polies.exists(id) => Some(id),
        Ok(_) => {
            errors.add("poly_id", "The selected poly id is invalid.");
            None
        }
        Err(_) => {
            errors.add("poly_id", "The poly id field must be an integer.");
            None
        }
    }
}

/// A `yyyy-mm-dd` date.
pub fn parse_date(errors: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<NaiveDate> {
    let raw = given(raw)?;
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(d) if (2000..=2100).contains(&d.year()) => Some(d),
        _ => {
            errors.add(field, format!("The {} field must be a valid date in the format Y-m-d.", crate::validate::human(field)));
            None
        }
    }
}

/// One cell of a report row: the page writes it as JSON, the export as a typed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Date(NaiveDate),
    /// A clock time of the clinic (`"09:15"`).
    Time(NaiveTime),
    /// A moment in the clinic's zone.
    DateTime(NaiveDateTime),
    Int(i64),
    Num(Fixed2),
    Text(String),
    Empty,
}

impl Cell {
    pub fn opt_num(x: Option<Fixed2>) -> Cell {
        x.map(Cell::Num).unwrap_or(Cell::Empty)
    }
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Date(d) => d.format("%Y-%m-%d").to_string().into(),
            Cell::Time(t) => t.format("%H:%M").to_string().into(),
            Cell::DateTime(t) => t.format("%Y-%m-%d %H:%M:%S").to_string().into(),
            Cell::Int(n) => (*n).into(),
            Cell::Num(x) => x.to_json(),
            Cell::Text(s) => s.clone().into(),
            Cell::Empty => Value::Null,
        }
    }
}

/// How a column is shown in the export.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The JSON field of the page row.
    pub field: String,
    /// The header in the export.
    pub header: String,
    /// Width in characters.
    pub width: f64,
}

impl Column {
    pub fn new(field: &str, header: &str, width: f64) -> Column {
        Column { field: field.into(), header: header.into(), width }
    }
}

/// A report's rows (all, or one page) with its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Rows {
    pub fn to_json(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|r| {
                let mut m = Map::new();
                for (c, cell) in self.columns.iter().zip(r) {
                    m.insert(c.field.clone(), cell.to_json());
                }
                Value::Object(m)
            })
            .collect()
    }
}

/// The seed's `pagination` block, in the seed's order.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Pagination {
    pub current_page: usize,
    pub per_page: usize,
    pub total: usize,
    pub last_page: usize,
}

impl Pagination {
    pub fn of(paging: Paging, total: usize) -> Pagination {
        Pagination { current_page: paging.page, per_page: paging.per_page, total, last_page: total.div_ceil(paging.per_page).max(1) }
    }
}

/// The seven reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PatientVisits,
    NoShowCancelled,
    BpjsVsGeneral,
    PolyPerformance,
    WaitingTime,
    BusyHour,
    UserActivity,
}

impl Kind {
    pub const ALL: [Kind; 7] =
        [Kind::PatientVisits, Kind::NoShowCancelled, Kind::BpjsVsGeneral, Kind::PolyPerformance, Kind::WaitingTime, Kind::BusyHour, Kind::UserActivity];

    /// The path segment: `/api/reports/<slug>`.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::PatientVisits => "patient-visits",
            Kind::NoShowCancelled => "no-show-cancelled",
            Kind::BpjsVsGeneral => "bpjs-vs-general",
            Kind::PolyPerformance => "poly-performance",
            Kind::WaitingTime => "waiting-time",
            Kind::BusyHour => "busy-hour",
            Kind::UserActivity => "user-activity",
        }
    }

    pub fn parse(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The report's name on the export's title row.
    pub fn title(self) -> &'static str {
        match self {
            Kind::PatientVisits => "Patient Visits (Laporan Kunjungan Pasien)",
            Kind::NoShowCancelled => "No-Show & Cancelled (Laporan No Show & Cancelled)",
            Kind::BpjsVsGeneral => "BPJS vs General (Laporan BPJS vs Umum)",
            Kind::PolyPerformance => "Poly Performance (Laporan Kinerja Poli)",
            Kind::WaitingTime => "Waiting Time (Laporan Waktu Tunggu)",
            Kind::BusyHour => "Busy Hours (Laporan Jam Sibuk)",
            Kind::UserActivity => "User Activity (Laporan Aktivitas User)",
        }
    }

    /// The page's success message, as the seed words it.
    pub fn message(self) -> &'static str {
        match self {
            Kind::PatientVisits => "Patient visit report retrieved successfully",
            Kind::NoShowCancelled => "No-show and cancelled report retrieved successfully",
            Kind::BpjsVsGeneral => "BPJS vs General report retrieved successfully",
            Kind::PolyPerformance => "Poly performance report retrieved successfully",
            Kind::WaitingTime => "Waiting time report retrieved successfully",
            Kind::BusyHour => "Busy hour report retrieved successfully",
            Kind::UserActivity => "User activity report retrieved successfully",
        }
    }

    fn takes_poly(self) -> bool {
        self != Kind::UserActivity
    }
    fn takes_insurance(self) -> bool {
        matches!(self, Kind::PatientVisits | Kind::NoShowCancelled)
    }
    fn takes_status(self) -> bool {
        self == Kind::PatientVisits
    }
    fn takes_user(self) -> bool {
        self == Kind::UserActivity
    }
}

/// The query of a report page or export, as sent.
#[derive(Debug, Clone, Default)]
pub struct RawFilters {
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    pub poly_id: Option<String>,
    pub insurance_type: Option<String>,
    /// `status[]=5&status[]=DONE`: status ids or codes.
    pub status: Vec<String>,
    pub user_id: Option<String>,
}

/// A report's valid filters.
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub poly_id: Option<i64>,
    pub insurance: Option<Insurance>,
    /// Status codes; `None` means every status.
    pub statuses: Option<Vec<String>>,
    pub user_id: Option<i64>,
}

impl Filters {
    /// Checks the filters a report takes (ignoring the ones it does not). Without dates the
    /// period is this month up to today; `date_from` alone runs to today; `date_to` alone
    /// starts on the first of its month.
    pub async fn parse(deps: &Deps, tenant: &Tenant, kind: Kind, raw: &RawFilters, polies: &Polies, tz: Tz) -> DomainResult<Filters> {
        let mut errors = FieldErrors::new();
        let from = parse_date(&mut errors, "date_from", raw.date_from.as_deref());
        let to = parse_date(&mut errors, "date_to", raw.date_to.as_deref());
        let bad_from = errors.has("date_from");
        let bad_to = errors.has("date_to");
        let today = today(deps, tz);
        let to = to.unwrap_or(today);
        let from = from.unwrap_or_else(|| if given(raw.date_to.as_deref()).is_some() { to.with_day(1).unwrap_or(to) } else { today.with_day(1).unwrap_or(today) });
        if !bad_from && !bad_to {
            if from > to {
                errors.add("date_to", "The date to field must be a date after or equal to date from.");
            } else if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
                errors.add("date_to", format!("The period from date from to date to must not be longer than {MAX_RANGE_DAYS} days."));
            }
        }
        let poly_id = if kind.takes_poly() { parse_poly(&mut errors, raw.poly_id.as_deref(), polies) } else { None };
        let insurance = match given(raw.insurance_type.as_deref()).filter(|_| kind.takes_insurance()) {
            None => None,
            Some(s) => match Insurance::parse(s) {
                Some(i) => Some(i),
                None => {
                    errors.add("insurance_type", "The selected insurance type is invalid. Use BPJS or GENERAL.");
                    None
                }
            },
        };
        let statuses = if kind.takes_status() { parse_statuses(deps, tenant, &mut errors, &raw.status).await? } else { None };
        let user_id = match given(raw.user_id.as_deref()).filter(|_| kind.takes_user()) {
            None => None,
            Some(s) => match s.parse::<i64>() {
                Ok(id) if id > 0 && crate::record::get::<crate::user::User>(deps, tenant, id).await?.is_some() => Some(id),
                Ok(_) => {
                    errors.add("user_id", "The selected user id is invalid.");
                    None
                }
                Err(_) => {
                    errors.add("user_id", "The user id field must be an integer.");
                    None
                }
            },
        };
        errors.into_result()?;
        Ok(Filters { from, to, poly_id, insurance, statuses, user_id })
    }

    /// The filters in words, for the export's title row.
    pub fn describe(&self, polies: &Polies, users: &BTreeMap<i64, String>) -> String {
        let mut parts = vec![format!("Period {} to {}", self.from.format("%Y-%m-%d"), self.to.format("%Y-%m-%d"))];
        if let Some(p) = self.poly_id {
            parts.push(format!("Poly: {}", polies.name(p)));
        }
        if let Some(i) = self.insurance {
            parts.push(format!("Insurance: {}", i.as_str()));
        }
        if let Some(s) = &self.statuses {
            parts.push(format!("Status: {}", s.join(", ")));
        }
        if let Some(u) = self.user_id {
            parts.push(format!("User: {}", users.get(&u).cloned().unwrap_or_else(|| format!("#{u}"))));
        }
        parts.join(" · ")
    }
}

/// `status[]`: each a status id (`5`) or code (`DONE`) of the clinic's statuses.
async fn parse_statuses(deps: &Deps, tenant: &Tenant, errors: &mut FieldErrors, raw: &[String]) -> DomainResult<Option<Vec<String>>> {
    let wanted: Vec<&str> = raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let statuses = record::list::<crate::status::Status>(deps, tenant, false).await?;
    let mut codes = Vec::new();
    for w in wanted {
        let found = match w.parse::<i64>() {
            Ok(id) => statuses.iter().find(|s| s.id == id).map(|s| s.data.status_name.clone()),
            Err(_) => statuses.iter().find(|s| s.data.status_name.eq_ignore_ascii_case(w)).map(|s| s.data.status_name.clone()),
        };
        match found {
            Some(code) if !codes.contains(&code) => codes.push(code),
            Some(_) => {}
            None => {
                errors.add("status", format!("The selected status '{w}' is invalid."));
            }
        }
    }
    Ok(Some(codes))
}

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

/// Every row of a report for the filters (what the export writes).
pub async fn all_rows(deps: &Deps, tenant: &Tenant, kind: Kind, f: &Filters, polies: &Polies, tz: Tz) -> DomainResult<Rows> {
    match kind {
        Kind::PatientVisits => crate::report_visits::all_rows(deps, tenant, f, polies, tz).await,
        Kind::UserActivity => crate::report_activity::rows(deps, tenant, f, tz).await,
        _ => rollup_rows(deps, tenant, kind, f, polies).await,
    }
}

/// One page of a report and its `pagination` block.
pub async fn page(deps: &Deps, tenant: &Tenant, kind: Kind, f: &Filters, polies: &Polies, tz: Tz, paging: Paging) -> DomainResult<(Rows, Pagination)> {
    if kind == Kind::PatientVisits {
        return crate::report_visits::page(deps, tenant, f, polies, tz, paging).await;
    }
    let all = all_rows(deps, tenant, kind, f, polies, tz).await?;
    let total = all.rows.len();
    let rows = all.rows.into_iter().skip((paging.page - 1).saturating_mul(paging.per_page)).take(paging.per_page).collect();
    Ok((Rows { columns: all.columns, rows }, Pagination::of(paging, total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_the_seed_shows_them() {
        assert_eq!(serde_json::to_string(&Fixed2::percent(7, 10)).unwrap(), "70");
        assert_eq!(serde_json::to_string(&Fixed2::percent(1, 3)).unwrap(), "33.33");
        assert_eq!(serde_json::to_string(&Fixed2::percent(2, 3)).unwrap(), "66.67");
        assert_eq!(serde_json::to_string(&Fixed2::percent(0, 0)).unwrap(), "0");
        assert_eq!(serde_json::to_string(&minutes(4076.4)).unwrap(), "67.94");
    }

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
