//! Estimates that learn: how long a consultation takes, from the clinic's own recent history
//! instead of a constant. Every finished consultation (called in to the doctor → done) leaves
//! a sample in its poly's ring, `T#<clinic>#SERVICE_TIMES` / `<poly id>`, written in the same
//! atomic write as the move that finished it (conditioned on the ring's revision, so two
//! rooms finishing at once never lose a sample). The estimate is the median of the last
//! [`WINDOW`] consultations of that doctor (else of the poly), of the same part of the day
//! where at least [`MIN_SAMPLES`] are known, else of any time of day.
//!
//! The ring is one short string (`ring`: `seconds.hour.doctor` per sample, oldest first,
//! comma separated) kept under [`RING_BYTES`]: it is rewritten by every finished consultation,
//! inside a transaction, and DynamoDB bills that write two units per started KB of the item.
//! (A ring of 120 samples as a list of maps was about 4 KB: 8 write units a consultation.)
//! An older ring (`samples`, that list) is read all the same and rewritten in the short form.
use antrean_store::{Condition, Item, Key, Op};
use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::reservation::{item_with, parse_stamp, Reservation};
use crate::tenant::{id_key, Tenant};

/// Consultations the median looks at.
pub const WINDOW: usize = 30;
/// Fewer than this: the history does not allow a learned estimate (the old rule applies).
pub const MIN_SAMPLES: usize = 5;
/// The ring's string is kept under this many bytes, so the ring item stays under 1 KB with
/// its key and revision: about 90 consultations, three windows.
pub const RING_BYTES: usize = 800;
/// A consultation longer than this is a forgotten "done", not a consultation.
const LONGEST_SECONDS: i64 = 3 * 3600;

/// One finished consultation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// How long the doctor took, in seconds.
    pub seconds: i64,
    /// Clinic hour (0–23) it started.
    pub hour: u32,
    #[serde(default)]
    pub doctor_id: Option<i64>,
}

impl Sample {
    /// `seconds.hour.doctor` (no doctor: `seconds.hour.`).
    fn short(&self) -> String {
        format!("{}.{}.{}", self.seconds, self.hour, self.doctor_id.map(|d| d.to_string()).unwrap_or_default())
    }

    fn parse(s: &str) -> Option<Sample> {
        let mut parts = s.split('.');
        let seconds = parts.next()?.parse().ok()?;
        let hour = parts.next()?.parse().ok()?;
        let doctor_id = match parts.next()? {
            "" => None,
            d => Some(d.parse().ok()?),
        };
        Some(Sample { seconds, hour, doctor_id })
    }
}

/// The part of the day a clinic hour falls in: mornings and afternoons run at different paces.
pub fn part_of_day(hour: u32) -> u8 {
    match hour {
        0..=10 => 0,
        11..=13 => 1,
        _ => 2,
    }
}

/// A poly's recent consultations, oldest first, with the ring's revision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceTimes {
    pub samples: Vec<Sample>,
    pub rev: Option<i64>,
}

pub fn key(tenant: &Tenant, poly_id: i64) -> Key {
    Key::new(tenant.partition("SERVICE_TIMES"), id_key(poly_id))
}

impl ServiceTimes {
    pub fn from_item(item: Option<&Item>) -> ServiceTimes {
        let Some(item) = item else {
            return ServiceTimes::default();
        };
        let samples = match item.get("ring").and_then(Value::as_str) {
            Some(ring) => ring.split(',').filter_map(Sample::parse).collect(),
            None => item.get("samples").cloned().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default(),
        };
        ServiceTimes { samples, rev: item.get("rev").and_then(Value::as_i64) }
    }

    /// The samples a ring keeps of `samples` (oldest first): the newest that fit.
    pub fn kept(samples: &[Sample]) -> Vec<Sample> {
        ServiceTimes::ring(samples).split(',').filter_map(Sample::parse).collect()
    }

    /// The newest samples, oldest first, as the ring's string: as many as fit in [`RING_BYTES`].
    fn ring(samples: &[Sample]) -> String {
        let mut kept: Vec<String> = Vec::new();
        let mut bytes = 0;
        for s in samples.iter().rev() {
            let one = s.short();
            if bytes + one.len() + 1 > RING_BYTES {
                break;
            }
            bytes += one.len() + 1;
            kept.push(one);
        }
        kept.reverse();
        kept.join(",")
    }

    /// The median consultation in seconds for a number called in at `hour`, by `doctor` when
    /// known; `None` when the history does not allow it.
    pub fn median_seconds(&self, hour: u32, doctor: Option<i64>) -> Option<i64> {
        let of_doctor: Vec<&Sample> = self.samples.iter().filter(|s| doctor.is_some() && s.doctor_id == doctor).collect();
        let pool: Vec<&Sample> = if of_doctor.len() >= MIN_SAMPLES { of_doctor } else { self.samples.iter().collect() };
        let same_part: Vec<&Sample> = pool.iter().copied().filter(|s| part_of_day(s.hour) == part_of_day(hour)).collect();
        let chosen = if same_part.len() >= MIN_SAMPLES { same_part } else { pool };
        if chosen.len() < MIN_SAMPLES {
            return None;
        }
        let mut last: Vec<i64> = chosen.iter().rev().take(WINDOW).map(|s| s.seconds).collect();
        last.sort_unstable();
        let n = last.len();
        Some(if n % 2 == 1 { last[n / 2] } else { (last[n / 2 - 1] + last[n / 2]) / 2 })
    }

    /// The sample a consultation leaves, if it was one (called in, finished, sensible length).
    pub fn sample_of(r: &Reservation, tz: Tz) -> Option<Sample> {
        let start: DateTime<Utc> = parse_stamp(r.with_doctor_at.as_deref()?)?;
        let end = parse_stamp(r.finished_at.as_deref()?)?;
        let seconds = (end - start).num_seconds();
        (0..=LONGEST_SECONDS).contains(&seconds).then(|| Sample { seconds, hour: start.with_timezone(&tz).hour(), doctor_id: r.doctor_id })
    }

    /// The op adding `new` to the ring read as `self`, for the finishing move's own write.
    pub fn add_op(&self, tenant: &Tenant, poly_id: i64, new: &[Sample]) -> Op {
        let mut samples = self.samples.clone();
        samples.extend_from_slice(new);
        let rev = self.rev.unwrap_or(0);
        let item = item_with(&key(tenant, poly_id), serde_json::json!({ "ring": ServiceTimes::ring(&samples), "rev": rev + 1 }));
        let condition = match self.rev {
            Some(r) => Condition::equals("rev", r),
            None => Condition::NotExists,
        };
        Op::put_if(item, condition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(seconds: i64, hour: u32, doctor: Option<i64>) -> Sample {
        Sample { seconds, hour, doctor_id: doctor }
    }

    #[test]
    fn the_median_of_the_same_doctor_and_part_of_day_where_history_allows() {
        let mut t = ServiceTimes::default();
        assert_eq!(t.median_seconds(9, None), None, "no history: no learned estimate");
        // Mornings 5 minutes, afternoons 12; doctor 7 takes 20 in the afternoon.
        for _ in 0..6 {
            t.samples.push(s(300, 9, Some(1)));
            t.samples.push(s(720, 15, Some(1)));
            t.samples.push(s(1200, 15, Some(7)));
        }
        assert_eq!(t.median_seconds(8, None), Some(300));
        assert_eq!(t.median_seconds(16, Some(1)), Some(720));
        assert_eq!(t.median_seconds(16, Some(7)), Some(1200));
        // Doctor 7 has no mornings yet: their own history, whatever the time of day.
        assert_eq!(t.median_seconds(8, Some(7)), Some(1200), "doctor 7's own history first");
        // Only the last 30 count.
        let mut u = ServiceTimes { samples: vec![s(60, 9, None); 40], rev: Some(1) };
        u.samples.extend(vec![s(600, 9, None); 30]);
        assert_eq!(u.median_seconds(9, None), Some(600));
    }

    #[test]
    fn the_ring_keeps_the_newest_and_names_its_revision() {
        // Long consultations, a doctor with a long id, a clinic with a long name: still one KB.
        let t = ServiceTimes { samples: vec![s(10_800, 23, Some(123_456)); 200], rev: Some(4) };
        let tenant = Tenant::parse("klinik-pratama-sehat-sentosa-bersama").unwrap();
        let Op::Put { item, condition } = t.add_op(&tenant, 3, &[s(2, 9, None)]) else { panic!() };
        assert!(antrean_store::counted::item_size(&item) <= 1024, "{} bytes", antrean_store::counted::item_size(&item));
        let back = ServiceTimes::from_item(Some(&item));
        assert_eq!((back.samples.last().copied(), back.rev), (Some(s(2, 9, None)), Some(5)));
        assert!(back.samples.len() >= WINDOW && back.samples[..back.samples.len() - 1].iter().all(|x| *x == s(10_800, 23, Some(123_456))), "{}", back.samples.len());
        assert_eq!(condition, Some(Condition::equals("rev", 4)));
        // Typical ones: about 90 kept.
        let typical = ServiceTimes { samples: vec![s(720, 9, Some(12)); 200], rev: None };
        let Op::Put { item, .. } = typical.add_op(&tenant, 3, &[]) else { panic!() };
        assert!(ServiceTimes::from_item(Some(&item)).samples.len() >= 80);
        // An older ring, a list of maps, is read as it was.
        let mut old = item.clone();
        old.remove("ring");
        old.insert("samples".into(), serde_json::json!([{"seconds": 300, "hour": 9, "doctor_id": 4}, {"seconds": 60, "hour": 15}]));
        assert_eq!(ServiceTimes::from_item(Some(&old)).samples, vec![s(300, 9, Some(4)), s(60, 15, None)]);
    }
}
