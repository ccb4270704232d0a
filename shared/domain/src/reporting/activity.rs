//! The user activity report: who did what, from the audit entries written with every change.
//!
//! Audit entries are kept per UTC month (`T#<clinic>#AUDIT#<yyyy-mm>`, sorted by time), so the
//! report reads the UTC months that overlap the clinic's dates asked (one Query each, on the
//! sort-key range of the period) and keeps the entries whose clinic-time date falls in the
//! period. Newest first. A clinic created before the monthly partitions also has its older
//! entries in day partitions (`…#AUDIT#<yyyy-mm-dd>`), read for it as before.
use std::collections::BTreeMap;

use antrean_store::{Query, SortKey};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::audit;
use crate::error::{DomainError, DomainResult};
use crate::reporting::{Cell, Column, Filters, Rows};
use crate::tenant::Tenant;
use crate::Deps;

/// How many partitions are read at once.
const PARALLEL_PARTITIONS: usize = 8;

/// One audit entry as the report needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub user: String,
    pub roles: Vec<String>,
    pub action: String,
    pub entity: String,
    pub record_id: Option<i64>,
}

impl Activity {
    fn from_item(item: &antrean_store::Item) -> Option<Activity> {
        let at = DateTime::parse_from_rfc3339(item.get("at")?.as_str()?).ok()?.with_timezone(&Utc);
        Some(Activity {
            at,
            user_id: item.get("user_id").and_then(Value::as_i64),
            user: item.get("user_name").and_then(Value::as_str).unwrap_or("").to_string(),
            roles: item
                .get("roles")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            action: item.get("action").and_then(Value::as_str).unwrap_or("").to_string(),
            entity: item.get("entity").and_then(Value::as_str).unwrap_or("").to_string(),
            record_id: item.get("record_id").and_then(Value::as_i64),
        })
    }

    /// What happened, in words: `Reservation created`, `Poly deleted`, `Reservation: ANAMNESA`.
    pub fn describe(&self) -> String {
        let mut thing = self.entity.replace('_', " ").to_lowercase();
        if let Some(first) = thing.get(0..1) {
            thing = first.to_uppercase() + &thing[1..];
        }
        let done = match self.action.as_str() {
            "create" => "created".to_string(),
            "update" => "updated".to_string(),
            "delete" => "deleted".to_string(),
            "restore" => "restored".to_string(),
            "lock" => "locked".to_string(),
            "unblock" => "unblocked".to_string(),
            "password_reset" => "password reset by code".to_string(),
            other => return format!("{thing}: {other}"),
        };
        format!("{thing} {done}")
    }

    /// The reservation it concerns, if it concerns one.
    pub fn reservation_id(&self) -> Option<i64> {
        matches!(self.entity.as_str(), "RESERVATION" | "QUEUE").then_some(self.record_id).flatten()
    }
}

/// Every audit entry of the clinic's dates `from..=to`, newest first.
pub async fn read(deps: &Deps, tenant: &Tenant, from: NaiveDate, to: NaiveDate, tz: Tz) -> DomainResult<Vec<Activity>> {
    // A clinic day lies within its own UTC date and the ones either side of it.
    let (first, last) = (from - Duration::days(1), to + Duration::days(1));
    let mut partitions: Vec<(String, SortKey)> = Vec::new();
    let mut month = first.with_day(1).unwrap_or(first);
    let range = SortKey::Between(first.format("%Y-%m-%d").to_string(), format!("{}~", last.format("%Y-%m-%d")));
    while month <= last {
        let at = month.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        partitions.push((audit::partition_of(tenant, at), range.clone()));
        month = month.checked_add_months(Months::new(1)).unwrap_or(NaiveDate::MAX);
    }
    if !crate::configuration::settings::settings(deps, tenant).await?.audit_monthly {
        // Entries from before the monthly partitions: one partition per UTC day.
        partitions.extend(first.iter_days().take_while(|d| *d <= last).map(|day| (tenant.partition(&format!("AUDIT#{}", day.format("%Y-%m-%d"))), SortKey::Any)));
    }
    let mut out = Vec::new();
    for chunk in partitions.chunks(PARALLEL_PARTITIONS) {
        let mut set = tokio::task::JoinSet::new();
        for (pk, sk) in chunk {
            let table = deps.table.clone();
            let q = Query::partition(pk.clone()).sort(sk.clone());
            set.spawn(async move { antrean_store::query_all(table.as_ref(), q).await });
        }
        while let Some(res) = set.join_next().await {
            let items = res.map_err(|e| DomainError::Internal(format!("audit read task failed: {e}")))??;
            for item in &items {
                if let Some(a) = Activity::from_item(item) {
                    let local = a.at.with_timezone(&tz).date_naive();
                    if local >= from && local <= to {
                        out.push(a);
                    }
                }
            }
        }
    }
    out.sort_by_key(|a| std::cmp::Reverse(a.at));
    Ok(out)
}

/// The report's rows: user, role, activity, date (and time, clinic time), reservation id.
pub async fn rows(deps: &Deps, tenant: &Tenant, f: &Filters, tz: Tz) -> DomainResult<Rows> {
    let list = read(deps, tenant, f.from, f.to, tz).await?;
    let rows = list
        .into_iter()
        .filter(|a| f.user_id.is_none_or(|u| a.user_id == Some(u)))
        .map(|a| {
            let local = a.at.with_timezone(&tz).naive_local();
            vec![
                Cell::Text(a.user.clone()),
                Cell::Text(a.roles.join(", ")),
                Cell::Text(a.describe()),
                Cell::Date(local.date()),
                Cell::clock(local.time()),
                a.reservation_id().map(Cell::Int).unwrap_or(Cell::Empty),
            ]
        })
        .collect();
    Ok(Rows {
        columns: vec![
            Column::new("user", "User", 24.0),
            Column::new("role", "Role", 20.0),
            Column::new("activity", "Activity", 30.0),
            Column::new("date", "Date", 12.0),
            Column::new("time", "Time", 8.0),
            Column::new("reservation_id", "Reservation ID", 15.0),
        ],
        rows,
    })
}

/// The names of the clinic's users by id, for the export's title row.
pub async fn user_names(deps: &Deps, tenant: &Tenant) -> DomainResult<BTreeMap<i64, String>> {
    // Only id and name of each user, trashed or not.
    let q = antrean_store::Query::partition(tenant.partition(<crate::user::User as crate::record::Record>::KIND)).only(&["id", "name"]);
    let items = antrean_store::query_all(deps.table.as_ref(), q).await?;
    Ok(items.iter().filter_map(|i| Some((i.get("id")?.as_i64()?, i.get("name")?.as_str()?.to_string()))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activities_read_as_words() {
        let a = |entity: &str, action: &str| Activity {
            at: Utc::now(),
            user_id: Some(1),
            user: "Super Admin".into(),
            roles: vec![],
            action: action.into(),
            entity: entity.into(),
            record_id: Some(9),
        };
        assert_eq!(a("RESERVATION", "create").describe(), "Reservation created");
        assert_eq!(a("POLY", "delete").describe(), "Poly deleted");
        assert_eq!(a("RESERVATION", "anamnesa").describe(), "Reservation: anamnesa");
        assert_eq!(a("RESERVATION", "create").reservation_id(), Some(9));
        assert_eq!(a("POLY", "create").reservation_id(), None);
    }
}
