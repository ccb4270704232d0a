//! Listing schedules: by date, month or year of the day index, filtered as the seed asks.
use super::*;


/// The live schedules on one date (every doctor and poly), from the day index.
pub(super) async fn on_date(deps: &Deps, tenant: &Tenant, date: &str) -> DomainResult<Vec<Stored<Schedule>>> {
    let year: i32 = date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    let q = Query::partition(year_partition(tenant, year)).sort(SortKey::BeginsWith(format!("{date}#")));
    index_rows(deps, q).await
}

pub(super) async fn index_rows(deps: &Deps, q: Query) -> DomainResult<Vec<Stored<Schedule>>> {
    antrean_store::query_all(deps.table.as_ref(), q).await?.into_iter().map(decode).collect()
}

/// Which days a listing covers, after the seed's priority: exact date, month + year, month
/// only (of this year), year only; none of them means this year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day(NaiveDate),
    Month { year: i32, month: u32 },
    Year(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    pub doctor_id: Option<i64>,
    pub period: Period,
}

/// The raw query parameters of `GET /api/schedule`; blank ones count as absent.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub doctor_id: Option<String>,
    pub date: Option<String>,
    pub month: Option<String>,
    pub year: Option<String>,
}

impl ListFilter {
    /// Judges every given parameter (422 naming each bad one), then applies the priority.
    pub fn parse(p: &ListParams, this_year: i32) -> DomainResult<ListFilter> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut errors = FieldErrors::new();
        let doctor_id = given(&p.doctor_id).and_then(|s| match s.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                errors.add("doctor_id", "The doctor id field must be an integer.");
                None
            }
        });
        let date = given(&p.date).and_then(|s| parse_date(&mut errors, "date", &s));
        let month = given(&p.month).and_then(|s| match s.parse::<u32>() {
            Ok(m) if (1..=12).contains(&m) && s.len() <= 2 => Some(m),
            _ => {
                errors.add("month", "The month field must be between 1 and 12.");
                None
            }
        });
        let year = given(&p.year).and_then(|s| match s.parse::<i32>() {
            Ok(y) if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) => Some(y),
            _ => {
                errors.add("year", "The year field must be 4 digits.");
                None
            }
        });
        errors.into_result()?;
        let period = match (date, month, year) {
            (Some(d), _, _) => Period::Day(d),
            (None, Some(month), Some(year)) => Period::Month { year, month },
            (None, Some(month), None) => Period::Month { year: this_year, month },
            (None, None, Some(year)) => Period::Year(year),
            (None, None, None) => Period::Year(this_year),
        };
        Ok(ListFilter { doctor_id, period })
    }
}

/// The live schedules a filter asks for: one Query on the day index; by date, start, id.
pub async fn list(deps: &Deps, tenant: &Tenant, filter: &ListFilter) -> DomainResult<Vec<Stored<Schedule>>> {
    let (year, sk) = match filter.period {
        Period::Day(d) => (d.year(), SortKey::BeginsWith(format!("{}#", date_string(d)))),
        Period::Month { year, month } => (year, SortKey::BeginsWith(format!("{year:04}-{month:02}-"))),
        Period::Year(year) => (year, SortKey::Any),
    };
    let mut rows: Vec<Stored<Schedule>> = index_rows(deps, Query::partition(year_partition(tenant, year)).sort(sk))
        .await?
        .into_iter()
        .filter(|s| filter.doctor_id.is_none_or(|d| s.data.doctor_id == d))
        .collect();
    rows.sort_by(|a, b| {
        a.data
            .date
            .cmp(&b.data.date)
            .then(a.data.start_time.cmp(&b.data.start_time))
            .then(a.id.cmp(&b.id))
    });
    Ok(rows)
}

/// The doctors (users, trashed or not) of some schedules, by id: one batch read.
pub async fn doctors_of(deps: &Deps, tenant: &Tenant, schedules: &[Stored<Schedule>]) -> DomainResult<HashMap<i64, Stored<User>>> {
    record::get_many::<User>(deps, tenant, schedules.iter().map(|s| s.data.doctor_id)).await
}
