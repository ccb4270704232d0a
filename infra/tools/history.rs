//! A realistic clinic history for the seeding command, the benchmark and tests: three polies,
//! a year of working days (closed on Sundays), morning-heavy registrations, 60 % BPJS, most
//! patients seen, some no-shows and cancellations, a few bookings made the evening before.
//! Deterministic for a given seed.
#![allow(dead_code)]
use std::collections::{BTreeMap, HashMap, HashSet};

use antrean_domain::clock::stamp;
use antrean_domain::patient::{normalize_whatsapp, Patient};
use antrean_domain::record::{self, Record, Stored};
use antrean_domain::reservation::{self, Reservation};
use antrean_domain::rollup::{self, DayPoly, ReservationFacts, StageTimes};
use antrean_domain::Tenant;
use antrean_store::{Op, StoreError, Table, MAX_WRITE_OPS};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use futures::{StreamExt, TryStreamExt};
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

/// The seeded history as the queue would have stored it: one patient per distinct WhatsApp
/// number (ids from 1, in order of first visit, with a BPJS number if any of their visits was
/// BPJS), one reservation per visit (ids from 1 in date, poly id, queue-number order) with
/// the clinic's status ids, the stage times in the seed format and the clinic-time clock
/// fields.
///
/// `schedule_id` is 0: no report, dashboard or rollup reads it, and every seeded reservation
/// is finished (done, no-show, cancelled), so no later move can give a quota place back to a
/// schedule. Creating ~940 doctor schedules (a doctor per poly, one per poly and day) only to
/// point at them would add users and schedule items no report uses.
pub fn historic_visits(visits: &[Visit], poly_ids: &[i64; 3], status_ids: &HashMap<&'static str, i64>, tz: Tz) -> Result<Vec<reservation::HistoricVisit>, String> {
    let mut order: Vec<&Visit> = visits.iter().collect();
    order.sort_by_key(|v| (v.date, poly_ids[v.poly], v.queue_number));
    // Patients by stored WhatsApp number; BPJS if any of their visits was.
    let mut bpjs_numbers: BTreeMap<String, bool> = BTreeMap::new();
    for v in &order {
        let wa = normalize_whatsapp(&v.whatsapp).ok_or_else(|| format!("generated WhatsApp number {:?} is not valid", v.whatsapp))?;
        *bpjs_numbers.entry(wa).or_default() |= v.bpjs;
    }
    let mut patients: HashMap<String, Stored<Patient>> = HashMap::new();
    let mut out = Vec::with_capacity(order.len());
    for (i, v) in order.into_iter().enumerate() {
        if reservation::is_open(v.status) {
            return Err(format!("a seeded visit must be finished, not {} ({} #{})", v.status, v.date, v.queue_number));
        }
        let ts = |t: Option<DateTime<Utc>>| t.map(stamp);
        let registered = v.stages.registered_at.ok_or("a seeded visit needs its registration time")?;
        let wa = normalize_whatsapp(&v.whatsapp).expect("checked above");
        let next_id = patients.len() as i64 + 1;
        let patient = patients
            .entry(wa.clone())
            .or_insert_with(|| Stored {
                id: next_id,
                data: Patient {
                    patient_name: v.patient_name.clone(),
                    no_bpjs: bpjs_numbers[&wa].then(|| format!("0001{next_id:09}")),
                    whatsapp_number: Some(wa.clone()),
                    email: None,
                    chat_id: None,
                    erased_at: None,
                    birth_date: None,
                },
                created_at: stamp(registered),
                updated_at: stamp(registered),
                deleted_at: None,
            })
            .clone();
        let s = &v.stages;
        let last_change = [s.finished_at, s.with_doctor_at, s.waiting_doctor_at, s.anamnesa_at, s.registered_at].into_iter().flatten().next().unwrap_or(registered);
        let clock = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M:%S").to_string();
        let status_id = *status_ids.get(v.status).ok_or_else(|| format!("the clinic has no {} status", v.status))?;
        out.push(reservation::HistoricVisit {
            reservation: Stored {
                id: i as i64 + 1,
                data: Reservation {
                    patient_id: patient.id,
                    poly_id: poly_ids[v.poly],
                    schedule_id: 0,
                    date: v.date.format("%Y-%m-%d").to_string(),
                    bpjs: v.bpjs,
                    status_id,
                    status_code: v.status.to_string(),
                    queue_number: v.queue_number,
                    re_reservation_time: clock(registered),
                    call_time: s.with_doctor_at.map(clock),
                    // As the live workflow leaves it: the doctor's call counts 1 and `done`
                    // keeps it; no-show and cancel from the waiting list were never called.
                    number_of_calls: if s.with_doctor_at.is_some() { 1 } else { 0 },
                    notification_status: false,
                    ticket_code: None,
                    bpjs_visit: None,
                    queue_updated_at: stamp(last_change),
                    registered_at: ts(s.registered_at),
                    anamnesa_at: ts(s.anamnesa_at),
                    waiting_doctor_at: ts(s.waiting_doctor_at),
                    with_doctor_at: ts(s.with_doctor_at),
                    finished_at: ts(s.finished_at),
                    ..Default::default()
                },
                created_at: stamp(registered),
                updated_at: stamp(last_change),
                deleted_at: None,
            },
            patient,
        });
    }
    Ok(out)
}

/// Runs `ops` as one atomic write, trying again a few times when the store is busy.
async fn write_batch(table: &dyn Table, ops: Vec<Op>) -> Result<(), String> {
    let mut attempt = 0;
    loop {
        match table.write(ops.clone()).await {
            Ok(()) => return Ok(()),
            Err(e @ (StoreError::Conflict | StoreError::Unavailable(_))) if attempt < 8 => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "retrying a history batch");
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt.min(6))).await;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// What [`write_reservations`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub reservations: usize,
    pub patients: usize,
    /// Items of the reservations and patients (indexes, guards, name words, counters included).
    pub items: usize,
    /// Rollup items (one per poly per day).
    pub rollups: usize,
    /// Atomic writes (of up to [`MAX_WRITE_OPS`] puts).
    pub batches: usize,
}

/// How many batches are in flight at once: DynamoDB answers each in tens of milliseconds, so
/// a few at a time keep it busy; the embedded store takes them one after another anyway.
const IN_FLIGHT: usize = 8;

/// Writes the history: the reservations as the queue stores them (`reservation::history_items`:
/// reservation, day-queue entry, patient index, patients with their unique numbers and name
/// words, id and queue-number counters) and the rollups they add up to, as plain puts in
/// atomic writes of up to [`MAX_WRITE_OPS`]. For a clinic without reservations or patients yet
/// (the ids start at 1). Returns what was written.
pub async fn write_reservations(deps: &antrean_domain::Deps, tenant: &Tenant, visits: &[Visit], poly_ids: &[i64; 3], tz: Tz) -> Result<Written, String> {
    let table = deps.table.as_ref();
    let (reservations, patients) = futures::future::try_join(record::last_id(deps, tenant, Reservation::KIND), record::last_id(deps, tenant, Patient::KIND))
        .await
        .map_err(|e| e.to_string())?;
    if reservations > 0 || patients > 0 {
        return Err(format!(
            "clinic {} already has {reservations} reservation(s) and {patients} patient(s); seed history into a clinic (or store) without any",
            tenant.slug()
        ));
    }
    let statuses = reservation::statuses(deps, tenant).await.map_err(|e| e.to_string())?;
    let mut status_ids = HashMap::new();
    for code in [reservation::WAITING, reservation::ANAMNESA, reservation::WAITING_DOCTOR, reservation::WITH_DOCTOR, reservation::DONE, reservation::NO_SHOW, reservation::CANCELLED] {
        status_ids.insert(code, reservation::status_by_code(&statuses, code).map_err(|e| e.to_string())?.id);
    }
    let historic = historic_visits(visits, poly_ids, &status_ids, tz)?;
    let items = reservation::history_items(tenant, &historic).map_err(|e| e.to_string())?;
    let mut written = Written {
        reservations: historic.len(),
        patients: historic.iter().map(|v| v.patient.id).max().unwrap_or(0) as usize,
        items: items.len(),
        rollups: 0,
        batches: 0,
    };
    drop(historic);
    // Plain puts: an item written twice would silently lose one version (and DynamoDB refuses
    // two operations on one item in a write), so every key must occur once in the whole import.
    let mut keys: HashSet<(&str, &str)> = HashSet::with_capacity(items.len());
    for item in &items {
        let key = |a: &str| item.get(a).and_then(serde_json::Value::as_str);
        let (Some(pk), Some(sk)) = (key("pk"), key("sk")) else { return Err("a history item without pk/sk".into()) };
        if !keys.insert((pk, sk)) {
            return Err(format!("the history names {pk}/{sk} twice"));
        }
    }
    drop(keys);
    let mut batches: Vec<Vec<Op>> = Vec::with_capacity(items.len().div_ceil(MAX_WRITE_OPS));
    let mut rest = items.into_iter().peekable();
    while rest.peek().is_some() {
        batches.push(rest.by_ref().take(MAX_WRITE_OPS).map(Op::put).collect());
    }
    written.batches += batches.len();
    futures::stream::iter(batches.into_iter().map(|ops| write_batch(table, ops)))
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    // The rollups last: a dashboard never counts a reservation that is not there yet.
    let days: Vec<DayPoly> = rollups(visits, poly_ids, tz);
    let batches: Vec<Vec<Op>> = days.chunks(MAX_WRITE_OPS).map(|c| c.iter().map(|d| Op::put(d.to_item(tenant, 1))).collect()).collect();
    written.rollups = days.len();
    written.batches += batches.len();
    futures::stream::iter(batches.into_iter().map(|ops| write_batch(table, ops)))
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(written)
}
