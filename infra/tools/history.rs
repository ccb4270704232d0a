//! A realistic clinic history for the seeding command, the benchmark and tests: three polies,
//! a year of working days (closed on Sundays), morning-heavy registrations, 60 % BPJS, most
//! patients seen, some no-shows and cancellations, a few bookings made the evening before.
//! Deterministic for a given seed.
#![allow(dead_code)]
use std::collections::BTreeMap;

use antrean_domain::rollup::{self, DayPoly, ReservationFacts, StageTimes};
use antrean_domain::Tenant;
use antrean_store::{Op, Table, MAX_WRITE_OPS};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const POLIES: [&str; 3] = ["Poli Umum", "Poli Gigi", "Poli Anak"];
/// Share of the day's patients per poly.
const POLY_WEIGHTS: [f64; 3] = [0.5, 0.3, 0.2];

const FIRST: &[&str] = &[
    "Ahmad", "Siti", "Budi", "Dewi", "Rahma", "Anwar", "Citra", "Dadang", "Eka", "Fajar", "Gita", "Hendra", "Indah", "Joko", "Kartika", "Lukman",
    "Maya", "Nanda", "Oki", "Putri", "Rizky", "Sari", "Taufik", "Umi", "Wahyu", "Yanti", "Zainal", "Agus", "Bayu", "Dina",
];
const LAST: &[&str] = &[
    "Fauzi", "Aisyah", "Santoso", "Anggraini", "Putri", "Rama", "Lestari", "Conelo", "Pratama", "Nugroho", "Maharani", "Setiawan", "Kurniawan",
    "Wijaya", "Saputra", "Hidayat", "Halim", "Susanto", "Rahayu", "Gunawan",
];

/// One reservation of the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    /// Poly index 0..3 (poly id = index + 1 in a fresh clinic).
    pub poly: usize,
    pub date: NaiveDate,
    /// Per poly per day, from 1.
    pub queue_number: i64,
    pub patient_name: String,
    pub whatsapp: String,
    pub bpjs: bool,
    pub status: &'static str,
    pub stages: StageTimes,
}

impl Visit {
    pub fn facts(&self, poly_id: i64, tz: Tz) -> ReservationFacts {
        ReservationFacts::new(poly_id, self.date, self.status, self.bpjs, &self.stages, tz)
    }
}

fn local(tz: Tz, date: NaiveDate, minutes: i64) -> DateTime<Utc> {
    let midnight = tz.from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap();
    (midnight + Duration::minutes(minutes)).with_timezone(&Utc)
}

/// A registration minute of the clinic day: most between 07:00 and 11:00, a second smaller
/// wave after lunch, a few in the evening.
fn registration_minute(rng: &mut StdRng) -> i64 {
    let r: f64 = rng.random();
    let (from, to) = if r < 0.62 {
        (7 * 60, 11 * 60)
    } else if r < 0.9 {
        (13 * 60, 16 * 60)
    } else if r < 0.97 {
        (16 * 60, 19 * 60)
    } else {
        (6 * 60, 7 * 60)
    };
    rng.random_range(from..to)
}

/// About `per_day` reservations on every day but Sunday from `from` for `days` days.
pub fn generate(from: NaiveDate, days: i64, per_day: usize, tz: Tz, seed: u64) -> Vec<Visit> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for date in from.iter_days().take(days as usize) {
        if date.weekday() == Weekday::Sun {
            continue;
        }
        // ±20 % from day to day.
        let n = (per_day as f64 * rng.random_range(0.8..1.2)).round() as usize;
        let mut regs: Vec<(usize, i64, bool)> = (0..n)
            .map(|_| {
                let r: f64 = rng.random();
                let poly = if r < POLY_WEIGHTS[0] { 0 } else if r < POLY_WEIGHTS[0] + POLY_WEIGHTS[1] { 1 } else { 2 };
                // 5 % booked the evening before.
                let booked = rng.random_bool(0.05);
                (poly, if booked { -(rng.random_range(60..240)) } else { registration_minute(&mut rng) }, booked)
            })
            .collect();
        regs.sort_by_key(|(p, m, _)| (*p, *m));
        let mut numbers = [0i64; 3];
        for (poly, minute, booked) in regs {
            numbers[poly] += 1;
            let registered_at = local(tz, date, minute);
            let bpjs = rng.random_bool(0.6);
            let outcome: f64 = rng.random();
            let status = if outcome < 0.05 {
                "CANCELLED"
            } else if outcome < 0.12 {
                "NO_SHOW"
            } else {
                "DONE"
            };
            let mut stages = StageTimes { registered_at: Some(registered_at), ..Default::default() };
            match status {
                "DONE" => {
                    let start = if booked { local(tz, date, rng.random_range(8 * 60..11 * 60)) } else { registered_at };
                    let anamnesa = start + Duration::minutes(rng.random_range(5..45));
                    let waiting_doctor = anamnesa + Duration::minutes(rng.random_range(5..15));
                    let with_doctor = waiting_doctor + Duration::minutes(rng.random_range(5..60));
                    stages.anamnesa_at = Some(anamnesa);
                    stages.waiting_doctor_at = Some(waiting_doctor);
                    stages.with_doctor_at = Some(with_doctor);
                    stages.finished_at = Some(with_doctor + Duration::minutes(rng.random_range(5..20)));
                }
                "NO_SHOW" => stages.finished_at = Some(registered_at.max(local(tz, date, 8 * 60)) + Duration::minutes(rng.random_range(30..120))),
                _ => stages.finished_at = Some(registered_at + Duration::minutes(rng.random_range(1..90))),
            }
            let first = FIRST[rng.random_range(0..FIRST.len())];
            let last = LAST[rng.random_range(0..LAST.len())];
            out.push(Visit {
                poly,
                date,
                queue_number: numbers[poly],
                patient_name: format!("{first} {last}"),
                whatsapp: format!("08{:010}", rng.random_range(0..10_000_000_000u64)),
                bpjs,
                status,
                stages,
            });
        }
    }
    out
}

/// The rollup items of a history, per day and poly, as the live writes would leave them.
pub fn rollups(visits: &[Visit], poly_ids: &[i64; 3], tz: Tz) -> Vec<DayPoly> {
    let mut by_day: BTreeMap<NaiveDate, Vec<ReservationFacts>> = BTreeMap::new();
    for v in visits {
        by_day.entry(v.date).or_default().push(v.facts(poly_ids[v.poly], tz));
    }
    by_day.into_iter().flat_map(|(d, facts)| rollup::compute(d, &facts)).collect()
}

/// Writes rollup items in batches of up to 100 puts.
pub async fn write_rollups(table: &dyn Table, tenant: &Tenant, items: &[DayPoly]) -> Result<(), String> {
    for chunk in items.chunks(MAX_WRITE_OPS) {
        let ops: Vec<Op> = chunk.iter().map(|d| Op::put(d.to_item(tenant, 1))).collect();
        table.write(ops).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Writes the history: the reservations as the queue stores them and the rollups they add
/// up to. Returns how many reservations were written.
pub async fn write_reservations(deps: &antrean_domain::Deps, tenant: &Tenant, visits: &[Visit], poly_ids: &[i64; 3], tz: Tz) -> Result<usize, String> {
    let _ = deps;
    write_rollups(deps.table.as_ref(), tenant, &rollups(visits, poly_ids, tz)).await?;
    Err("reservations are not stored yet (the queue module has not landed)".into())
}
