//! One poly's day as its rollup item holds it, and reading a range of days.
use antrean_store::{Item, Query, SortKey, Table};
use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::facts::ReservationFacts;
use super::{count_attr, hour_attr, key, partition, slot_of, BPJS, GENERAL, SLOTS};
use crate::error::{DomainError, DomainResult};
use crate::tenant::Tenant;

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
    /// Patients sent here from another poly / sent on from here to another poly.
    pub moved_in: i64,
    pub moved_out: i64,
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
    pub(crate) fn index(self) -> usize {
        match self {
            Insurance::Bpjs => BPJS,
            Insurance::General => GENERAL,
        }
    }
}

impl DayPoly {
    pub fn empty(date: NaiveDate, poly_id: i64) -> DayPoly {
        DayPoly { date, poly_id, counts: [[0; SLOTS]; 2], hours: [0; 24], wait_sum: 0, wait_n: 0, wait_min: None, wait_max: None, moved_in: 0, moved_out: 0 }
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
        self.moved_in += f.transferred_in as i64;
        self.moved_out += f.transferred_out as i64;
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
        d.moved_in = num("moved_in").unwrap_or(0);
        d.moved_out = num("moved_out").unwrap_or(0);
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
        for (attr, n) in [("moved_in", self.moved_in), ("moved_out", self.moved_out)] {
            if n != 0 {
                item.insert(attr.into(), n.into());
            }
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
    Ok(read_items(table, tenant, from, to).await?.into_iter().map(|(d, rev, _)| (d, rev)).collect())
}

/// [`read_with_rev`], each with its stored item (the board state beside the counts too).
pub(crate) async fn read_items(table: &dyn Table, tenant: &Tenant, from: NaiveDate, to: NaiveDate) -> DomainResult<Vec<(DayPoly, i64, Item)>> {
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
                Some(d) => out.push((d, rev, item)),
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
