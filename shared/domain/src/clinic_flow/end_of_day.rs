//! Closing the day. At the time the clinic sets (`day_close_time`; default the end of the
//! day's last schedule) the day is closed: numbers still waiting (never called) become
//! no-shows, each through the queue's own move (one atomic write each, with its rollup counts
//! and audit entry); patients in progress (at anamnesa, waiting for or with the doctor) are
//! left for staff to finish; the day's boards are cleared (a mark beside the day's last calls,
//! [`crate::board::closed_op`], and the numbers and calls kept on the day's rollup buckets
//! removed, [`crate::board::state::clear_day`]). Running it twice changes nothing the second time.
//!
//! A closed day takes no new numbers: the first thing closing writes is the day's closed mark
//! ([`closed_key`]), and every create (reception, an appointment's check-in, Mobile JKN's
//! ambil antrean) and every transfer to another poly checks in its own atomic write that the
//! mark is not there ([`open_check`]), so no number slips in between the close and the sweep.
//!
//! It runs on the dev server's clock (a task every minute) and as the scheduled `end-of-day`
//! Lambda on AWS, both through [`sweep`]; staff can also close a day by hand.
use antrean_store::{Condition, Key, Op};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::settings::{self, parse_close_time};
use crate::audit::Actor;
use crate::error::{DomainError, DomainResult};
use crate::queue::{self, Move};
use crate::reservation::{self, is_open, WAITING};
use crate::schedule::{self, ListFilter, Period};
use crate::tenant::Tenant;
use crate::Deps;

/// What closing a day did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DayClosed {
    pub date: String,
    /// Numbers never called, now no-shows.
    pub no_shows: Vec<i64>,
    /// Numbers still in progress, left for staff to finish.
    pub left_in_progress: Vec<i64>,
    /// The day had been closed before (this run only caught up with stragglers, if any).
    pub already_closed: bool,
}

/// The refusal of a new number on a closed day.
pub const DAY_CLOSED: &str = "The queue for this day has been closed; no new numbers are handed out for it.";

/// The day's closed mark: `T#<clinic>#DAY_CLOSED` / `<yyyy-mm-dd>`.
pub fn closed_key(tenant: &Tenant, date: &str) -> Key {
    Key::new(tenant.partition("DAY_CLOSED"), date.to_string())
}

/// For a write that hands out a number on `date`: fails when the day has been closed.
pub fn open_check(tenant: &Tenant, date: &str) -> Op {
    Op::check(closed_key(tenant, date), Condition::NotExists)
}

/// When `date` closes, in UTC: the clinic's `day_close_time`, else the end of the day's last
/// schedule, else the end of the day.
pub async fn close_at(deps: &Deps, tenant: &Tenant, date: NaiveDate, tz: Tz) -> DomainResult<DateTime<Utc>> {
    let configured = settings::read(deps, tenant).await?.day_close_time.as_deref().and_then(parse_close_time);
    let time = match configured {
        Some(t) => t,
        None => {
            let schedules = schedule::list(deps, tenant, &ListFilter { doctor_id: None, period: Period::Day(date) }).await?;
            schedules.iter().filter_map(|s| parse_close_time(&s.data.end_time)).max().unwrap_or(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default())
        }
    };
    date.and_time(time)
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| DomainError::Internal(format!("{date} {time} does not exist in {tz}")))
}

/// Closes one day of one clinic (see the module notes). Idempotent.
pub async fn close_day(deps: &Deps, tenant: &Tenant, actor: &Actor, date: NaiveDate) -> DomainResult<DayClosed> {
    let already_closed = crate::board::closed(deps, tenant, date).await?.is_some();
    // First the mark: from now on no create or transfer hands out a number on this day.
    let day = date.format("%Y-%m-%d").to_string();
    let mark = crate::reservation::item_with(&closed_key(tenant, &day), json!({ "closed_at": crate::clock::stamp(deps.clock.now()), "closed_by": actor.name }));
    match deps.table.write(vec![Op::put_new(mark)]).await {
        Ok(()) | Err(antrean_store::StoreError::ConditionFailed { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let entries = reservation::day_entries(deps, tenant, date, None).await?;
    let mut no_shows = Vec::new();
    for e in entries.iter().filter(|e| e.status_code == WAITING) {
        match queue::transition(deps, tenant, actor, e.id, Move::NoShow).await {
            Ok(_) => no_shows.push(e.id),
            // Called or cancelled meanwhile: then it is not ours to close.
            Err(DomainError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    // What is still open now: in progress (or a number someone called while we closed).
    let left: Vec<i64> = reservation::day_entries(deps, tenant, date, None)
        .await?
        .into_iter()
        .filter(|e| is_open(&e.status_code) && !no_shows.contains(&e.id))
        .map(|e| e.id)
        .collect();
    if !already_closed {
        let facts = json!({ "no_shows": no_shows.len(), "left_in_progress": left.len(), "closed_by": actor.name });
        let ops = vec![crate::board::closed_op(tenant, date, deps.clock.now(), facts)];
        match deps.table.write(ops).await {
            // Two closers at once: the other one's mark stands.
            Ok(()) | Err(antrean_store::StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // The buckets go back to their counts (a second close finds nothing to clear). The day is
    // closed whether or not this lands: a failure is only logged (the buckets then stay a little
    // bigger, until someone closes the day again by hand).
    if let Err(e) = crate::board::state::clear_day(deps, tenant, date).await {
        tracing::warn!(clinic = tenant.slug(), %date, error = %e, "the closed day's board state stays on its buckets for now");
    }
    Ok(DayClosed { date: date.format("%Y-%m-%d").to_string(), no_shows, left_in_progress: left, already_closed })
}

/// Closes what is due in every clinic: yesterday if it was missed, today once its close time
/// has passed. Returns the days closed now. One clinic's trouble does not hold up the others.
pub async fn sweep(deps: &Deps) -> DomainResult<Vec<(String, DayClosed)>> {
    let actor = Actor::system("end of day");
    let now = deps.clock.now();
    let mut closed = Vec::new();
    for c in crate::clinic::list(deps).await? {
        let Ok(tenant) = Tenant::parse(&c.slug) else {
            continue;
        };
        match sweep_clinic(deps, &tenant, &actor, now).await {
            Ok(days) => closed.extend(days.into_iter().map(|d| (tenant.slug().to_string(), d))),
            Err(e) => {
                tracing::warn!(clinic = tenant.slug(), error = %e, "end of day skipped a clinic; the next run tries again")
            }
        }
    }
    Ok(closed)
}

async fn sweep_clinic(deps: &Deps, tenant: &Tenant, actor: &Actor, now: DateTime<Utc>) -> DomainResult<Vec<DayClosed>> {
    let (today, tz) = reservation::clinic_today(deps, tenant).await?;
    let mut out = Vec::new();
    for day in [today - chrono::Duration::days(1), today] {
        if crate::board::closed(deps, tenant, day).await?.is_some() || close_at(deps, tenant, day, tz).await? > now {
            continue;
        }
        out.push(close_day(deps, tenant, actor, day).await?);
    }
    Ok(out)
}
