//! A report's filters (`date_from`, `date_to`, `poly_id`, `insurance_type`, `status[]`,
//! `user_id`) checked into [`Filters`], and the clinic's polies and calendar they are read in.
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;

use super::Kind;
use crate::error::{DomainResult, FieldErrors};
use crate::poly::Poly;
use crate::record;
use crate::rollup::{DayPoly, Insurance};
use crate::tenant::Tenant;
use crate::Deps;

/// The longest period a report covers.
pub const MAX_RANGE_DAYS: i64 = 366;

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
