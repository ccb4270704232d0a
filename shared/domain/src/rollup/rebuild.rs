//! Recomputing a day's rollups from its reservations (repairs, imports).
use std::collections::BTreeMap;
use std::future::Future;

use antrean_store::{Condition, Op, StoreError, Table};
use chrono::NaiveDate;

use super::day::{read_items, DayPoly};
use super::facts::ReservationFacts;
use super::key;
use crate::error::{DomainError, DomainResult};
use crate::tenant::Tenant;

/// What one day's rollups are computed from.
pub fn compute(date: NaiveDate, facts: &[ReservationFacts]) -> Vec<DayPoly> {
    let mut by_poly: BTreeMap<i64, DayPoly> = BTreeMap::new();
    for f in facts.iter().filter(|f| f.date == date) {
        by_poly.entry(f.poly_id).or_insert_with(|| DayPoly::empty(date, f.poly_id)).count(f);
    }
    by_poly.into_values().collect()
}

/// What a day's rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildOutcome {
    /// Rollup items written or deleted because they differed from the reservations.
    pub repaired: usize,
    /// Rollup items that already matched.
    pub unchanged: usize,
}

/// Recomputes one day's rollups from its reservations (`load` reads them) and writes the
/// difference in one atomic write, keeping the board state beside the counts (`board::state`). Safe beside live traffic: it reads the rollups' `rev`
/// before the reservations and writes only if no rollup of the day moved meanwhile (else it
/// starts the day again). On DynamoDB a reservation written in the very last instant may not
/// yet show in the index `load` reads; rebuild days that are over for exact results.
pub async fn rebuild_day<F, Fut>(table: &dyn Table, tenant: &Tenant, date: NaiveDate, load: F) -> DomainResult<RebuildOutcome>
where
    F: Fn(NaiveDate) -> Fut,
    Fut: Future<Output = DomainResult<Vec<ReservationFacts>>>,
{
    for _attempt in 0..20 {
        let current = read_items(table, tenant, date, date).await?;
        let facts = load(date).await?;
        let wanted = compute(date, &facts);
        let mut ops = Vec::new();
        let mut unchanged = 0;
        for w in &wanted {
            match current.iter().find(|(c, _, _)| c.poly_id == w.poly_id) {
                Some((c, _, _)) if c.figures() == w.figures() => unchanged += 1,
                Some((_, rev, item)) => {
                    // The counts are recomputed; what the boards show is kept as it is.
                    let mut put = w.to_item(tenant, rev + 1);
                    put.extend(item.iter().filter(|(a, _)| crate::board::state::is_board_attr(a)).map(|(a, v)| (a.clone(), v.clone())));
                    ops.push(Op::put_if(put, Condition::equals("rev", *rev)));
                }
                None => ops.push(Op::put_new(w.to_item(tenant, 1))),
            }
        }
        for (c, rev, _) in &current {
            if !wanted.iter().any(|w| w.poly_id == c.poly_id) {
                ops.push(Op::delete_if(key(tenant, c.date, c.poly_id), Condition::equals("rev", *rev)));
            }
        }
        if ops.is_empty() {
            return Ok(RebuildOutcome { repaired: 0, unchanged });
        }
        let repaired = ops.len();
        // A clinic has far fewer than 100 polies; a day is one atomic write.
        match table.write(ops).await {
            Ok(()) => return Ok(RebuildOutcome { repaired, unchanged }),
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict(format!("the rollups of {date} kept changing during the rebuild; try again")))
}
