//! Reminders for n8n to send by WhatsApp, from the clinic's reminder configs:
//! - `QUEUE`: a patient not yet called (`WAITING`) with at most `reminder_patient_count`
//!   patients ahead;
//! - `TIME` (also the older `SCHEDULE`): a patient not yet called, `reminder_offset` minutes or
//!   less before the estimated time (`ticket::position`, the same estimate the ticket page shows);
//! - `CHECKUP`: the day before a check-up schedule (H-1), all that day.
//!
//! n8n polls `due`, claims each reminder (`claim`: one run wins, for ten minutes), sends it and
//! marks it sent (`mark_sent`: idempotent). A sent reminder is never due again; a claimed one
//! is not due while its claim lasts, so two runs at once never send one reminder twice, and a
//! run that died after claiming leaves it due again ten minutes later.
//!
//! Keys: one marker per reminder and clinic day, `T#<clinic>#REMINDER#<yyyy-mm-dd>` /
//! `<reminder id>` with `claimed_until_ms` and `sent_at`, swept by TTL after a week. Marking
//! a queue reminder sent also sets the reservation's `notification_status` in the same write.
pub mod due;
pub mod outbox;

use antrean_store::{Condition, Cmp, Key, Op, StoreError, Update};
use chrono::{Duration, NaiveDate};

use crate::checkup_schedule::CheckupSchedule;
use crate::clock::stamp;
use crate::configuration::reminder_config::ReminderConfig;
use crate::error::{DomainError, DomainResult};
use crate::record::{record_key, VERSION};
use crate::reservation::Reservation;
use crate::tenant::Tenant;
use crate::Deps;

pub const NOT_FOUND: &str = "Reminder not found";
const CLAIM_MINUTES: i64 = 10;
const KEEP_DAYS: i64 = 7;

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Reservation(i64),
    Checkup(i64),
}

/// `<TYPE>-<config id>-<reservation or check-up id>`, e.g. `QUEUE-1-42`: one reminder of one
/// config for one reservation (or check-up), stable across polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderId {
    pub kind: String,
    pub config_id: i64,
    pub subject: Subject,
}

impl ReminderId {
    pub fn parse(raw: &str) -> Option<ReminderId> {
        let mut parts = raw.split('-');
        let (kind, config, subject) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let (config_id, id) = (config.parse::<i64>().ok().filter(|n| *n > 0)?, subject.parse::<i64>().ok().filter(|n| *n > 0)?);
        let subject = match kind {
            "QUEUE" | "TIME" | "SCHEDULE" => Subject::Reservation(id),
            "CHECKUP" => Subject::Checkup(id),
            _ => return None,
        };
        Some(ReminderId { kind: kind.to_string(), config_id, subject })
    }

    pub fn as_string(&self) -> String {
        let id = match self.subject {
            Subject::Reservation(id) | Subject::Checkup(id) => id,
        };
        format!("{}-{}-{}", self.kind, self.config_id, id)
    }
}

fn marker_key(tenant: &Tenant, day: NaiveDate, id: &ReminderId) -> Key {
    Key::new(tenant.partition(&format!("REMINDER#{}", day.format("%Y-%m-%d"))), id.as_string())
}

/// The config and what the reminder is about still exist (checked in the write itself).
fn exists_checks(tenant: &Tenant, id: &ReminderId) -> Vec<Op> {
    let subject = match id.subject {
        Subject::Reservation(r) => record_key::<Reservation>(tenant, r),
        Subject::Checkup(c) => record_key::<CheckupSchedule>(tenant, c),
    };
    vec![Op::check(record_key::<ReminderConfig>(tenant, id.config_id), Condition::Exists), Op::check(subject, Condition::Exists)]
}

fn not_found_or(e: StoreError, other: DomainError) -> DomainError {
    match e {
        // ops 0 and 1 are the existence checks.
        StoreError::ConditionFailed { index } if index < 2 => DomainError::NotFound(NOT_FOUND.into()),
        StoreError::ConditionFailed { .. } => other,
        e => e.into(),
    }
}

/// Claims a reminder for sending; `Conflict` when it is sent or another run holds it.
pub async fn claim(deps: &Deps, tenant: &Tenant, day: NaiveDate, raw: &str) -> DomainResult<()> {
    let now = deps.clock.now();
    let until = (now + Duration::minutes(CLAIM_MINUTES)).timestamp_millis();
    if outbox::is_outbox_id(raw) {
        return outbox::claim(deps, tenant, raw, until).await;
    }
    let id = ReminderId::parse(raw).ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))?;
    let update = Update::new()
        .set("claimed_until_ms", until)
        .set(antrean_store::TTL_ATTRIBUTE, (now + Duration::days(KEEP_DAYS)).timestamp());
    let free = Condition::And(vec![
        Condition::attr_not_exists("sent_at"),
        Condition::Or(vec![Condition::attr_not_exists("claimed_until_ms"), Condition::compare("claimed_until_ms", Cmp::Lt, now.timestamp_millis())]),
    ]);
    let mut ops = exists_checks(tenant, &id);
    ops.push(Op::update_if(marker_key(tenant, day, &id), update, free));
    deps.table
        .write(ops)
        .await
        .map_err(|e| not_found_or(e, DomainError::Conflict("The reminder is already sent or being sent by another run.".into())))
}

/// Marks a reminder sent. `Ok(true)`: marked now; `Ok(false)`: it already was (nothing changes).
pub async fn mark_sent(deps: &Deps, tenant: &Tenant, day: NaiveDate, raw: &str) -> DomainResult<bool> {
    if outbox::is_outbox_id(raw) {
        return outbox::mark_sent(deps, tenant, raw).await;
    }
    let id = ReminderId::parse(raw).ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))?;
    let now = deps.clock.now();
    let update = Update::new()
        .set("sent_at", stamp(now))
        .remove("claimed_until_ms")
        .set(antrean_store::TTL_ATTRIBUTE, (now + Duration::days(KEEP_DAYS)).timestamp());
    let mut ops = exists_checks(tenant, &id);
    if let Subject::Reservation(r) = id.subject {
        // The queue entry shows it (a write names an item once: this replaces the check); the
        // version moves so a concurrent change re-reads it.
        let shown = Update::new().set("notification_status", true).add(VERSION, 1);
        ops[1] = Op::update_if(record_key::<Reservation>(tenant, r), shown, Condition::Exists);
    }
    ops.push(Op::update_if(marker_key(tenant, day, &id), update, Condition::attr_not_exists("sent_at")));
    match deps.table.write(ops).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { index: 2 }) => Ok(false),
        Err(e) => Err(not_found_or(e, DomainError::Conflict("The reminder changed meanwhile; try again.".into()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminder_ids_read_back() {
        for raw in ["QUEUE-1-42", "TIME-2-7", "CHECKUP-3-9", "SCHEDULE-4-1"] {
            assert_eq!(ReminderId::parse(raw).map(|r| r.as_string()).as_deref(), Some(raw));
        }
        assert_eq!(ReminderId::parse("CHECKUP-3-9").unwrap().subject, Subject::Checkup(9));
        for bad in ["", "QUEUE", "QUEUE-1", "QUEUE-0-1", "QUEUE-1-x", "OTHER-1-1", "QUEUE-1-1-1", "queue-1-1"] {
            assert_eq!(ReminderId::parse(bad), None, "{bad}");
        }
    }
}
