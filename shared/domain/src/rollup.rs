//! Rollups: per clinic, poly and day, the counts a dashboard or a per-day report needs, kept
//! up to date in the same atomic write as the reservation change they count. A year's
//! dashboard then reads one item per poly per day, however many patients came.
//!
//! Key: `T#<clinic>#ROLLUP#<yyyy>` / `<yyyy-mm-dd>#<poly id, 12 digits>`. A year is one Query,
//! a month or any date range inside a year one Query with a sort-key range, a range across a
//! new year two.
//!
//! Attributes (numbers; a missing one counts as 0):
//! - `b_<status>` / `g_<status>`: reservations of that day and poly now in that status, for
//!   BPJS (`b_`) and general (`g_`) patients, e.g. `b_no_show`;
//! - `h00` … `h23`: reservations registered in that hour of the clinic's day;
//! - `wait_sum` (seconds) and `wait_n`: waiting times of patients called in to the doctor;
//! - `wait_min`, `wait_max` (seconds): the shortest and longest of those waits;
//! - `rev`: bumped by every change, so a rebuild can tell that someone wrote meanwhile.
//!
//! Counts move only by `ADD` (see [`delta_ops`]): two receptionists registering at the same
//! moment both land, in any order, without reading first.
//!
//! `wait_min` / `wait_max` cannot be ADDed. The change that brings a new wait reads the bucket
//! first (in the batch it reads anyway) and [`fold_extremes`] sets the new extreme in its own
//! write, on condition that the extreme is still what it read: a writer who moved it first
//! makes the write fail, and the change reads again. A wait taken back (a reservation moved to
//! another day or poly after it was called in) is only removed from the extremes by
//! [`rebuild_day`]. Sum and count, hence averages, are always exact.
use std::collections::BTreeMap;
use std::future::Future;

use antrean_store::{Condition, Item, Key, Op, Query, SortKey, StoreError, Table, Update};
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::error::{DomainError, DomainResult};
use crate::status::WORKFLOW;
use crate::tenant::{id_key, Tenant};

/// Status slots: the seven workflow codes in order, then one for any other code.
pub const SLOTS: usize = 8;
const OTHER: usize = 7;
const BPJS: usize = 0;
const GENERAL: usize = 1;

pub fn slot_of(code: &str) -> usize {
    WORKFLOW.iter().position(|(c, _, _)| c.eq_ignore_ascii_case(code)).unwrap_or(OTHER)
}

fn slot_code(slot: usize) -> &'static str {
    WORKFLOW.get(slot).map(|(c, _, _)| *c).unwrap_or("OTHER")
}

fn count_attr(bpjs: bool, slot: usize) -> String {
    format!("{}_{}", if bpjs { "b" } else { "g" }, slot_code(slot).to_ascii_lowercase())
}

fn hour_attr(hour: u32) -> String {
    format!("h{hour:02}")
}

pub fn partition(tenant: &Tenant, year: i32) -> String {
    tenant.partition(&format!("ROLLUP#{year:04}"))
}

pub fn key(tenant: &Tenant, date: NaiveDate, poly_id: i64) -> Key {
    Key::new(partition(tenant, date.year()), format!("{}#{}", date.format("%Y-%m-%d"), id_key(poly_id)))
}

/// When a reservation's stages happened (UTC instants, as the queue stores them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageTimes {
    /// The queue number was handed out.
    pub registered_at: Option<DateTime<Utc>>,
    /// A nurse called the patient to anamnesa.
    pub anamnesa_at: Option<DateTime<Utc>>,
    /// Anamnesa done; waiting for the doctor.
    pub waiting_doctor_at: Option<DateTime<Utc>>,
    /// The doctor called the patient in.
    pub with_doctor_at: Option<DateTime<Utc>>,
    /// Done, no-show or cancelled.
    pub finished_at: Option<DateTime<Utc>>,
}

/// How long the patient waited, in seconds, as the clinic means it: from taking the queue
/// number until the doctor called them in. For a booking made on an earlier day than the
/// visit, the wait starts when a nurse first called them to anamnesa, the first moment the
/// clinic knows they were there. `None` while (or if never) called in.
pub fn waiting_seconds(visit_date: NaiveDate, stages: &StageTimes, tz: Tz) -> Option<i64> {
    let end = stages.with_doctor_at?;
    let registered_same_day = stages.registered_at.filter(|r| r.with_timezone(&tz).date_naive() == visit_date);
    let start = registered_same_day.or(stages.anamnesa_at)?;
    Some((end - start).num_seconds().max(0))
}

/// What a rollup counts of one reservation. Built from the reservation by the queue code
/// (see [`ReservationFacts::new`]) before and after each change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationFacts {
    pub poly_id: i64,
    /// The visit date in the clinic's calendar.
    pub date: NaiveDate,
    /// The status code (`WAITING` … `CANCELLED`).
    pub status: String,
    pub is_bpjs: bool,
    /// The hour (0–23, clinic time) the queue number was handed out.
    pub registered_hour: u32,
    /// See [`waiting_seconds`].
    pub wait_secs: Option<i64>,
}

impl ReservationFacts {
    /// `date` is the visit date, `status` the status code, `tz` the clinic's zone. A
    /// reservation without a registration time counts in the hour of its stage times' first
    /// entry, else 00.
    pub fn new(poly_id: i64, date: NaiveDate, status: &str, is_bpjs: bool, stages: &StageTimes, tz: Tz) -> Self {
        let registered = stages.registered_at.or(stages.anamnesa_at).or(stages.with_doctor_at);
        ReservationFacts {
            poly_id,
            date,
            status: status.to_ascii_uppercase(),
            is_bpjs,
            registered_hour: registered.map(|r| r.with_timezone(&tz).hour()).unwrap_or(0),
            wait_secs: waiting_seconds(date, stages, tz),
        }
    }

    fn same_bucket(&self, other: &ReservationFacts) -> bool {
        self.poly_id == other.poly_id && self.date == other.date
    }

    /// The attribute increments this reservation contributes to its bucket.
    fn contribution(&self) -> Vec<(String, i64)> {
        let mut out = vec![(count_attr(self.is_bpjs, slot_of(&self.status)), 1), (hour_attr(self.registered_hour), 1)];
        if let Some(w) = self.wait_secs {
            out.push(("wait_sum".into(), w));
            out.push(("wait_n".into(), 1));
        }
        out
    }
}

fn bucket_update(tenant: &Tenant, facts: &ReservationFacts, adds: &BTreeMap<String, i64>) -> Op {
    let mut u = Update::new().set("date", facts.date.format("%Y-%m-%d").to_string()).set("poly_id", facts.poly_id);
    for (a, by) in adds {
        if *by != 0 {
            u = u.add(a, *by);
        }
    }
    Op::update(key(tenant, facts.date, facts.poly_id), u.add("rev", 1))
}

/// The rollup changes that one reservation change makes: `before` is the reservation as it
/// was (`None` when it is being created), `after` as it will be. Put these ops into the same
/// atomic write as the reservation itself. Pure; only `ADD` (and idempotent `SET`s of the
/// bucket's own date and poly), so concurrent writers compose. Empty when nothing counted
/// changed.
pub fn delta_ops(tenant: &Tenant, before: Option<&ReservationFacts>, after: &ReservationFacts) -> Vec<Op> {
    let mut ops = Vec::new();
    match before {
        Some(b) if b.same_bucket(after) => {
            let mut adds: BTreeMap<String, i64> = BTreeMap::new();
            for (a, n) in b.contribution() {
                *adds.entry(a).or_default() -= n;
            }
            for (a, n) in after.contribution() {
                *adds.entry(a).or_default() += n;
            }
            if adds.values().any(|n| *n != 0) {
                ops.push(bucket_update(tenant, after, &adds));
            }
        }
        Some(b) => {
            ops.extend(removal_ops(tenant, b));
            ops.push(bucket_update(tenant, after, &after.contribution().into_iter().collect()));
        }
        None => ops.push(bucket_update(tenant, after, &after.contribution().into_iter().collect())),
    }
    ops
}

/// The rollup change for a reservation that stops existing (a hard delete).
pub fn removal_ops(tenant: &Tenant, before: &ReservationFacts) -> Vec<Op> {
    let adds: BTreeMap<String, i64> = before.contribution().into_iter().map(|(a, n)| (a, -n)).collect();
    vec![bucket_update(tenant, before, &adds)]
}

/// Folds the waiting-time extremes into the reservation's own atomic write, given the bucket
/// as this attempt read it: a new `wait_min` / `wait_max` is set on the bucket's update, on
/// condition that the extremes are still as read (if another writer moved one first, the
/// write fails and the caller reads again). Nothing is added when the extremes already hold.
pub fn fold_extremes(ops: &mut Vec<Op>, tenant: &Tenant, bucket: Option<&Item>, before: Option<&ReservationFacts>, after: &ReservationFacts) {
    let Some(w) = after.wait_secs else { return };
    if before.is_some_and(|b| b.same_bucket(after) && b.wait_secs == Some(w)) {
        return;
    }
    let read = |attr: &str| bucket.and_then(|b| b.get(attr)).and_then(serde_json::Value::as_i64);
    let as_read = |attr: &str| match read(attr) {
        Some(v) => Condition::equals(attr, v),
        None => Condition::attr_not_exists(attr),
    };
    let mut sets = Vec::new();
    let mut conditions = Vec::new();
    if read("wait_min").is_none_or(|m| w < m) {
        sets.push(("wait_min", w));
        conditions.push(as_read("wait_min"));
    }
    if read("wait_max").is_none_or(|m| w > m) {
        sets.push(("wait_max", w));
        conditions.push(as_read("wait_max"));
    }
    if sets.is_empty() {
        return;
    }
    let k = key(tenant, after.date, after.poly_id);
    let condition = Condition::And(conditions);
    let at = ops.iter().position(|op| matches!(op, Op::Update { key, condition: None, .. } if *key == k));
    let mut update = match at {
        Some(i) => match ops.remove(i) {
            Op::Update { update, .. } => update,
            _ => unreachable!("found as an update"),
        },
        None => Update::new().set("date", after.date.format("%Y-%m-%d").to_string()).set("poly_id", after.poly_id),
    };
    for (attr, v) in sets {
        update = update.set(attr, v);
    }
    ops.push(Op::update_if(k, update, condition));
}

/// One poly's day, as read from (or computed for) its rollup item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPoly {
    pub date: NaiveDate,
    pub poly_id: i64,
    /// `[BPJS, general][status slot]`
    pub counts: [[i64; SLOTS]; 2],
    pub hours: [i64; 24],
    pub wait_sum: i64,
    pub wait_n: i64,
    pub wait_min: Option<i64>,
    pub wait_max: Option<i64>,
}

/// Which insurance a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insurance {
    Bpjs,
    General,
}

impl Insurance {
    pub fn parse(s: &str) -> Option<Insurance> {
        match s.trim().to_ascii_uppercase().as_str() {
            "BPJS" => Some(Insurance::Bpjs),
            "GENERAL" | "UMUM" => Some(Insurance::General),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Insurance::Bpjs => "BPJS",
            Insurance::General => "GENERAL",
        }
    }
    pub fn of(is_bpjs: bool) -> Insurance {
        if is_bpjs {
            Insurance::Bpjs
        } else {
            Insurance::General
        }
    }
    fn index(self) -> usize {
        match self {
            Insurance::Bpjs => BPJS,
            Insurance::General => GENERAL,
        }
    }
}

impl DayPoly {
    pub fn empty(date: NaiveDate, poly_id: i64) -> DayPoly {
        DayPoly { date, poly_id, counts: [[0; SLOTS]; 2], hours: [0; 24], wait_sum: 0, wait_n: 0, wait_min: None, wait_max: None }
    }

    /// Adds one reservation, as a rebuild does.
    pub fn count(&mut self, f: &ReservationFacts) {
        self.counts[if f.is_bpjs { BPJS } else { GENERAL }][slot_of(&f.status)] += 1;
        self.hours[f.registered_hour.min(23) as usize] += 1;
        if let Some(w) = f.wait_secs {
            self.wait_sum += w;
            self.wait_n += 1;
            self.wait_min = Some(self.wait_min.map_or(w, |m| m.min(w)));
            self.wait_max = Some(self.wait_max.map_or(w, |m| m.max(w)));
        }
    }

    /// Every reservation of the day and poly, whatever its status: the queue numbers handed out.
    pub fn total(&self) -> i64 {
        self.counts.iter().flatten().sum()
    }
    pub fn total_of(&self, insurance: Option<Insurance>) -> i64 {
        match insurance {
            None => self.total(),
            Some(i) => self.counts[i.index()].iter().sum(),
        }
    }
    /// Reservations now in `code`, optionally of one insurance.
    pub fn status(&self, code: &str, insurance: Option<Insurance>) -> i64 {
        let s = slot_of(code);
        match insurance {
            None => self.counts[BPJS][s] + self.counts[GENERAL][s],
            Some(i) => self.counts[i.index()][s],
        }
    }
    /// Reservations in the given status slots, optionally of one insurance.
    pub fn in_slots(&self, slots: &[usize], insurance: Option<Insurance>) -> i64 {
        slots
            .iter()
            .map(|s| match insurance {
                None => self.counts[BPJS][*s] + self.counts[GENERAL][*s],
                Some(i) => self.counts[i.index()][*s],
            })
            .sum()
    }
    pub fn bpjs(&self) -> i64 {
        self.total_of(Some(Insurance::Bpjs))
    }
    pub fn general(&self) -> i64 {
        self.total_of(Some(Insurance::General))
    }
    pub fn no_show(&self) -> i64 {
        self.status("NO_SHOW", None)
    }
    pub fn cancelled(&self) -> i64 {
        self.status("CANCELLED", None)
    }
    pub fn done(&self) -> i64 {
        self.status("DONE", None)
    }
    /// Patients who came: called to anamnesa or any later stage short of no-show / cancelled.
    pub fn attended(&self) -> i64 {
        ["ANAMNESA", "WAITING_DOCTOR", "WITH_DOCTOR", "DONE"].iter().map(|c| self.status(c, None)).sum()
    }
    /// The patients the clinic expected: every reservation not cancelled.
    pub fn patients(&self) -> i64 {
        self.total() - self.cancelled()
    }
    pub fn is_empty(&self) -> bool {
        self.total() == 0 && self.hours.iter().all(|h| *h == 0) && self.wait_n == 0 && self.wait_sum == 0
    }

    /// Reads a stored rollup item (`None` if it is not one).
    pub fn from_item(item: &Item) -> Option<DayPoly> {
        let num = |a: &str| item.get(a).and_then(Value::as_i64);
        let date = NaiveDate::parse_from_str(item.get("date")?.as_str()?, "%Y-%m-%d").ok()?;
        let mut d = DayPoly::empty(date, num("poly_id")?);
        for ins in [true, false] {
            for s in 0..SLOTS {
                d.counts[if ins { BPJS } else { GENERAL }][s] = num(&count_attr(ins, s)).unwrap_or(0);
            }
        }
        for h in 0..24 {
            d.hours[h] = num(&hour_attr(h as u32)).unwrap_or(0);
        }
        d.wait_sum = num("wait_sum").unwrap_or(0);
        d.wait_n = num("wait_n").unwrap_or(0);
        d.wait_min = num("wait_min");
        d.wait_max = num("wait_max");
        Some(d)
    }

    /// The stored item (zero counts left out: a missing attribute counts as 0).
    pub fn to_item(&self, tenant: &Tenant, rev: i64) -> Item {
        let k = key(tenant, self.date, self.poly_id);
        let mut item = Item::new();
        item.insert("pk".into(), k.pk.into());
        item.insert("sk".into(), k.sk.into());
        item.insert("date".into(), self.date.format("%Y-%m-%d").to_string().into());
        item.insert("poly_id".into(), self.poly_id.into());
        for ins in [true, false] {
            for s in 0..SLOTS {
                let n = self.counts[if ins { BPJS } else { GENERAL }][s];
                if n != 0 {
                    item.insert(count_attr(ins, s), n.into());
                }
            }
        }
        for (h, n) in self.hours.iter().enumerate() {
            if *n != 0 {
                item.insert(hour_attr(h as u32), (*n).into());
            }
        }
        if self.wait_n != 0 || self.wait_sum != 0 {
            item.insert("wait_sum".into(), self.wait_sum.into());
            item.insert("wait_n".into(), self.wait_n.into());
        }
        if let Some(m) = self.wait_min {
            item.insert("wait_min".into(), m.into());
        }
        if let Some(m) = self.wait_max {
            item.insert("wait_max".into(), m.into());
        }
        item.insert("rev".into(), rev.into());
        item
    }

    /// The figures alone, for comparing a live rollup with a rebuilt one: extremes only count
    /// while some wait does.
    pub fn figures(&self) -> DayPoly {
        let mut d = self.clone();
        if d.wait_n == 0 {
            d.wait_min = None;
            d.wait_max = None;
        }
        d
    }
}

/// The sort-key range of the days `from..=to` within one year's partition.
pub fn sort_key_range(from: NaiveDate, to: NaiveDate) -> SortKey {
    SortKey::Between(from.format("%Y-%m-%d").to_string(), format!("{}#~", to.format("%Y-%m-%d")))
}

/// The rollups of every poly for the days `from..=to` (clinic dates), in date then poly
/// order, with their `rev`. One Query per calendar year the range touches.
pub async fn read_with_rev(table: &dyn Table, tenant: &Tenant, from: NaiveDate, to: NaiveDate) -> DomainResult<Vec<(DayPoly, i64)>> {
    let mut out = Vec::new();
    if from > to {
        return Ok(out);
    }
    for year in from.year()..=to.year() {
        let lo = from.max(NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January exists"));
        let hi = to.min(NaiveDate::from_ymd_opt(year, 12, 31).expect("31 December exists"));
        let items = antrean_store::query_all(table, Query::partition(partition(tenant, year)).sort(sort_key_range(lo, hi))).await?;
        for item in items {
            let rev = item.get("rev").and_then(Value::as_i64).unwrap_or(0);
            match DayPoly::from_item(&item) {
                Some(d) => out.push((d, rev)),
                None => return Err(DomainError::Internal(format!("corrupt rollup item {:?}", item.get("sk")))),
            }
        }
    }
    Ok(out)
}

/// The rollups of every poly for the days `from..=to`, leaving out buckets that count nothing.
pub async fn read(table: &dyn Table, tenant: &Tenant, from: NaiveDate, to: NaiveDate) -> DomainResult<Vec<DayPoly>> {
    Ok(read_with_rev(table, tenant, from, to).await?.into_iter().map(|(d, _)| d).filter(|d| !d.is_empty()).collect())
}

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
/// difference in one atomic write. Safe beside live traffic: it reads the rollups' `rev`
/// before the reservations and writes only if no rollup of the day moved meanwhile (else it
/// starts the day again). On DynamoDB a reservation written in the very last instant may not
/// yet show in the index `load` reads; rebuild days that are over for exact results.
pub async fn rebuild_day<F, Fut>(table: &dyn Table, tenant: &Tenant, date: NaiveDate, load: F) -> DomainResult<RebuildOutcome>
where
    F: Fn(NaiveDate) -> Fut,
    Fut: Future<Output = DomainResult<Vec<ReservationFacts>>>,
{
    for _attempt in 0..20 {
        let current = read_with_rev(table, tenant, date, date).await?;
        let facts = load(date).await?;
        let wanted = compute(date, &facts);
        let mut ops = Vec::new();
        let mut unchanged = 0;
        for w in &wanted {
            match current.iter().find(|(c, _)| c.poly_id == w.poly_id) {
                Some((c, _)) if c.figures() == w.figures() => unchanged += 1,
                Some((_, rev)) => ops.push(Op::put_if(w.to_item(tenant, rev + 1), Condition::equals("rev", *rev))),
                None => ops.push(Op::put_new(w.to_item(tenant, 1))),
            }
        }
        for (c, rev) in &current {
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

#[cfg(test)]
mod tests {
    use super::*;
    use antrean_store::embedded::EmbeddedTable;
    use chrono::TimeZone;
    use std::sync::Arc;

    const TZ: Tz = chrono_tz::Asia::Jakarta;

    fn at(d: &str, hm: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(&format!("{d} {hm}"), "%Y-%m-%d %H:%M").unwrap();
        TZ.from_local_datetime(&naive).unwrap().with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts(poly: i64, d: &str, status: &str, bpjs: bool, reg: &str, called: Option<&str>) -> ReservationFacts {
        let stages = StageTimes { registered_at: Some(at(d, reg)), with_doctor_at: called.map(|c| at(d, c)), ..Default::default() };
        ReservationFacts::new(poly, day(d), status, bpjs, &stages, TZ)
    }

    #[test]
    fn waiting_time_in_the_clinics_words() {
        // A walk-in: from the queue number to the doctor's call.
        let f = facts(1, "2026-01-11", "WITH_DOCTOR", true, "09:15", Some("10:20"));
        assert_eq!(f.wait_secs, Some(65 * 60));
        assert_eq!(f.registered_hour, 9);
        // Booked the day before: the wait starts at the call to anamnesa.
        let stages = StageTimes {
            registered_at: Some(at("2026-01-10", "20:00")),
            anamnesa_at: Some(at("2026-01-11", "08:00")),
            with_doctor_at: Some(at("2026-01-11", "08:30")),
            ..Default::default()
        };
        assert_eq!(waiting_seconds(day("2026-01-11"), &stages, TZ), Some(30 * 60));
        // Not yet called in: no wait.
        assert_eq!(facts(1, "2026-01-11", "WAITING", false, "09:00", None).wait_secs, None);
        // Hours are the clinic's: 23:30 in Jakarta is 16:30 UTC.
        assert_eq!(facts(1, "2026-01-11", "WAITING", false, "23:30", None).registered_hour, 23);
    }

    #[test]
    fn a_transition_moves_one_count() {
        let t = Tenant::parse("klinik").unwrap();
        let before = facts(1, "2026-01-11", "WAITING", true, "09:15", None);
        let after = facts(1, "2026-01-11", "WITH_DOCTOR", true, "09:15", Some("09:45"));
        let ops = delta_ops(&t, Some(&before), &after);
        assert_eq!(ops.len(), 1);
        let Op::Update { key: k, update, condition } = &ops[0] else { panic!("{ops:?}") };
        assert_eq!(k, &key(&t, day("2026-01-11"), 1));
        assert_eq!(k.pk, "T#klinik#ROLLUP#2026");
        assert_eq!(k.sk, "2026-01-11#000000000001");
        assert!(condition.is_none());
        let adds: BTreeMap<_, _> = update.add.iter().cloned().collect();
        assert_eq!(
            adds,
            BTreeMap::from([
                ("b_waiting".to_string(), -1),
                ("b_with_doctor".to_string(), 1),
                ("wait_sum".to_string(), 1800),
                ("wait_n".to_string(), 1),
                ("rev".to_string(), 1),
            ])
        );
        // Nothing counted changed: no op at all.
        assert!(delta_ops(&t, Some(&after), &after).is_empty());
        // Moved to another poly: out of one bucket, into the other.
        let moved = ReservationFacts { poly_id: 2, ..before.clone() };
        let ops = delta_ops(&t, Some(&before), &moved);
        assert_eq!(ops.len(), 2);
    }

    /// One change as the queue writes it: counts and (read first, conditioned) extremes in one
    /// write, read again when another writer moved an extreme meanwhile.
    async fn write_change(table: &dyn Table, t: &Tenant, before: Option<&ReservationFacts>, after: &ReservationFacts) {
        loop {
            let bucket = table.get(&key(t, after.date, after.poly_id)).await.unwrap();
            let mut ops = delta_ops(t, before, after);
            fold_extremes(&mut ops, t, bucket.as_ref(), before, after);
            if ops.is_empty() {
                return;
            }
            match table.write(ops).await {
                Ok(()) => return,
                Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
                Err(e) => panic!("{e}"),
            }
        }
    }

    async fn apply_all(table: &dyn Table, t: &Tenant, history: &[(Option<ReservationFacts>, ReservationFacts)]) {
        for (b, a) in history {
            write_change(table, t, b.as_ref(), a).await;
        }
    }

    #[tokio::test]
    async fn live_rollups_equal_a_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let table = EmbeddedTable::open(dir.path()).unwrap();
        let t = Tenant::parse("klinik").unwrap();
        let d = "2026-01-11";
        let r1 = facts(1, d, "WAITING", true, "08:05", None);
        let r1b = facts(1, d, "ANAMNESA", true, "08:05", None);
        let r1c = facts(1, d, "WITH_DOCTOR", true, "08:05", Some("09:00"));
        let r1d = facts(1, d, "DONE", true, "08:05", Some("09:00"));
        let r2 = facts(1, d, "WAITING", false, "08:40", None);
        let r2b = facts(1, d, "NO_SHOW", false, "08:40", None);
        let r3 = facts(2, d, "WAITING", false, "10:10", None);
        let r3b = facts(2, d, "WITH_DOCTOR", false, "10:10", Some("10:30"));
        let r4 = facts(2, d, "WAITING", true, "10:15", None);
        let r4b = facts(1, d, "WAITING", true, "10:15", None); // moved to poly 1
        let r4c = facts(1, d, "CANCELLED", true, "10:15", None);
        let history = vec![
            (None, r1.clone()),
            (Some(r1.clone()), r1b.clone()),
            (None, r2.clone()),
            (Some(r1b), r1c.clone()),
            (None, r3.clone()),
            (Some(r2), r2b.clone()),
            (Some(r1c), r1d.clone()),
            (None, r4.clone()),
            (Some(r3), r3b.clone()),
            (Some(r4), r4b.clone()),
            (Some(r4b), r4c.clone()),
        ];
        apply_all(&table, &t, &history).await;
        let live = read(&table, &t, day(d), day(d)).await.unwrap();
        assert_eq!(live.len(), 2);
        let p1 = &live[0];
        assert_eq!((p1.poly_id, p1.total(), p1.done(), p1.no_show(), p1.cancelled()), (1, 3, 1, 1, 1));
        assert_eq!((p1.bpjs(), p1.general()), (2, 1));
        assert_eq!((p1.hours[8], p1.hours[10]), (2, 1));
        assert_eq!((p1.wait_sum, p1.wait_n, p1.wait_min, p1.wait_max), (55 * 60, 1, Some(55 * 60), Some(55 * 60)));
        let p2 = &live[1];
        assert_eq!((p2.poly_id, p2.total(), p2.wait_sum, p2.hours[10]), (2, 1, 20 * 60, 1));

        // A rebuild from the final reservations finds nothing to repair.
        let finals = vec![r1d, r2b, r3b, r4c];
        let load = |_d: NaiveDate| {
            let f = finals.clone();
            async move { Ok(f) }
        };
        let outcome = rebuild_day(&table, &t, day(d), load).await.unwrap();
        assert_eq!(outcome, RebuildOutcome { repaired: 0, unchanged: 2 });
        let expected = compute(day(d), &finals);
        assert_eq!(live.iter().map(DayPoly::figures).collect::<Vec<_>>(), expected.iter().map(DayPoly::figures).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_rebuild_repairs_a_damaged_day() {
        let dir = tempfile::tempdir().unwrap();
        let table = EmbeddedTable::open(dir.path()).unwrap();
        let t = Tenant::parse("klinik").unwrap();
        let d = "2026-02-01";
        let a = facts(1, d, "DONE", true, "09:00", Some("09:40"));
        let b = facts(1, d, "WITH_DOCTOR", false, "09:10", Some("09:20"));
        apply_all(&table, &t, &[(None, a.clone()), (None, b.clone())]).await;
        // Damage: a stray count, and a bucket for a poly with no reservations.
        table.write(vec![Op::update(key(&t, day(d), 1), Update::new().add("g_done", 5).add("rev", 1))]).await.unwrap();
        table.write(vec![Op::update(key(&t, day(d), 3), Update::new().set("date", d).set("poly_id", 3).add("b_waiting", 1).add("rev", 1))]).await.unwrap();
        let finals = vec![a, b];
        let load = |_d: NaiveDate| {
            let f = finals.clone();
            async move { Ok(f) }
        };
        let outcome = rebuild_day(&table, &t, day(d), load).await.unwrap();
        assert_eq!(outcome, RebuildOutcome { repaired: 2, unchanged: 0 });
        let live = read(&table, &t, day(d), day(d)).await.unwrap();
        assert_eq!(live, compute(day(d), &finals));
        assert_eq!((live[0].wait_min, live[0].wait_max), (Some(600), Some(2400)));
    }

    #[tokio::test]
    async fn concurrent_registrations_all_count() {
        let dir = tempfile::tempdir().unwrap();
        let table: Arc<dyn Table> = Arc::new(EmbeddedTable::open(dir.path()).unwrap());
        let t = Tenant::parse("klinik").unwrap();
        let mut tasks = Vec::new();
        for i in 0..40 {
            let table = table.clone();
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                let called = format!("09:{:02}", 10 + i);
                let f = facts(1, "2026-03-03", "WITH_DOCTOR", i % 2 == 0, "09:00", Some(&called));
                write_change(table.as_ref(), &t, None, &f).await;
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let live = read(table.as_ref(), &t, day("2026-03-03"), day("2026-03-03")).await.unwrap();
        assert_eq!(live[0].total(), 40);
        assert_eq!((live[0].bpjs(), live[0].general()), (20, 20));
        assert_eq!(live[0].wait_n, 40);
        assert_eq!((live[0].wait_min, live[0].wait_max), (Some(600), Some(49 * 60)));
    }

    #[tokio::test]
    async fn a_range_across_new_year_reads_both_years() {
        let dir = tempfile::tempdir().unwrap();
        let table = EmbeddedTable::open(dir.path()).unwrap();
        let t = Tenant::parse("klinik").unwrap();
        for d in ["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02", "2026-01-03"] {
            table.write(delta_ops(&t, None, &facts(1, d, "WAITING", true, "09:00", None))).await.unwrap();
        }
        let got = read(&table, &t, day("2025-12-31"), day("2026-01-02")).await.unwrap();
        assert_eq!(got.iter().map(|d| d.date.to_string()).collect::<Vec<_>>(), ["2025-12-31", "2026-01-01", "2026-01-02"]);
    }

    /// Counts what a read costs.
    struct Counting {
        inner: EmbeddedTable,
        items: std::sync::atomic::AtomicUsize,
        queries: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl Table for Counting {
        async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
            self.inner.get(key).await
        }
        async fn query(&self, q: &Query) -> Result<antrean_store::Page, StoreError> {
            let page = self.inner.query(q).await?;
            self.queries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.items.fetch_add(page.items.len(), std::sync::atomic::Ordering::Relaxed);
            Ok(page)
        }
        async fn get_many(&self, keys: &[Key], only: Option<&[String]>) -> Result<Vec<Option<Item>>, StoreError> {
            self.inner.get_many(keys, only).await
        }
        async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
            self.inner.write(ops).await
        }
        fn kind(&self) -> &'static str {
            "counting"
        }
    }

    #[tokio::test]
    async fn reads_grow_with_days_not_with_patients() {
        let dir = tempfile::tempdir().unwrap();
        let table = Counting { inner: EmbeddedTable::open(dir.path()).unwrap(), items: Default::default(), queries: Default::default() };
        let t = Tenant::parse("klinik").unwrap();
        // 10 days x 2 polies x 30 patients, each registered and then seen.
        for d in 1..=10 {
            let date = format!("2026-04-{d:02}");
            for poly in 1..=2 {
                for i in 0..30 {
                    let reg = format!("{:02}:{:02}", 8 + i / 10, i % 60);
                    let waiting = facts(poly, &date, "WAITING", i % 3 == 0, &reg, None);
                    let done = facts(poly, &date, "DONE", i % 3 == 0, &reg, Some("12:00"));
                    table.write(delta_ops(&t, None, &waiting)).await.unwrap();
                    table.write(delta_ops(&t, Some(&waiting), &done)).await.unwrap();
                }
            }
        }
        let month = read(&table, &t, day("2026-04-01"), day("2026-04-30")).await.unwrap();
        assert_eq!(month.iter().map(DayPoly::total).sum::<i64>(), 600);
        assert_eq!(month.iter().map(DayPoly::done).sum::<i64>(), 600);
        // One query, one item per poly per day: 20 items for 600 patients.
        assert_eq!(table.queries.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(table.items.load(std::sync::atomic::Ordering::Relaxed), 20);
    }
}
