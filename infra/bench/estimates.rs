//! Estimates benchmark: how far the ticket's "expected in at" is from the actual call-in time,
//! with the estimate learned from the clinic's own consultations (`antrean_domain::estimates`)
//! next to a fixed 10 minutes per patient.
//!
//!   cargo run --release --bin antrean-bench-estimates -- [--days 60] [--seed 16]
//!
//! The history is seeded (deterministic for a seed): three polies with their own pace. Poli
//! Umum has two rooms and quick consultations that slow down after lunch; Poli Gigi one
//! dentist who takes long; Poli Anak one doctor in between. Consultation lengths vary around
//! each poly's pace (log-normal, σ 0.35); patients register through the morning and after
//! lunch and are called in first come, first served by whichever room is free.
//!
//! For every patient, at the moment they register, both estimates are computed by the same
//! code the ticket page uses (`ticket::position::PolyDay::position`): who is ahead, who is with
//! the doctor, how many rooms are serving; only the time per patient differs: the learned
//! median of the recent consultations finished before that moment, or 10 minutes. The first
//! five working days are warm-up (the history starts empty) and are not counted. It prints the
//! mean absolute error in minutes per poly and overall; it asserts nothing.
use std::collections::BTreeMap;

use antrean_domain::estimates::{Sample, ServiceTimes};
use antrean_domain::reservation::{DayEntry, Reservation, DONE, WAITING, WITH_DOCTOR};
use antrean_domain::schedule::Schedule;
use antrean_domain::ticket::position::PolyDay;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Poly {
    name: &'static str,
    rooms: usize,
    /// Median consultation in the morning, minutes.
    morning_minutes: f64,
    /// How much longer after 12:00.
    afternoon_factor: f64,
    per_day: usize,
}

const POLIES: [Poly; 3] = [
    Poly { name: "Poli Umum", rooms: 2, morning_minutes: 6.0, afternoon_factor: 1.4, per_day: 50 },
    Poly { name: "Poli Gigi", rooms: 1, morning_minutes: 22.0, afternoon_factor: 1.0, per_day: 14 },
    Poly { name: "Poli Anak", rooms: 1, morning_minutes: 11.0, afternoon_factor: 1.3, per_day: 22 },
];
const WARM_UP_DAYS: usize = 5;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn local(tz: Tz, date: NaiveDate, minute: i64) -> DateTime<Utc> {
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().with_timezone(&Utc) + Duration::minutes(minute)
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// One patient of a simulated day.
struct Patient {
    registered: DateTime<Utc>,
    called: DateTime<Utc>,
    finished: DateTime<Utc>,
    room: usize,
}

/// A poly's day: registrations, then first come first served by the first free room.
fn simulate_day(p: &Poly, date: NaiveDate, tz: Tz, rng: &mut StdRng) -> Vec<Patient> {
    let n = (p.per_day as f64 * rng.random_range(0.8..1.2)).round() as usize;
    let mut regs: Vec<i64> =
        (0..n).map(|_| if rng.random_bool(0.7) { rng.random_range(7 * 60..11 * 60) } else { rng.random_range(13 * 60..15 * 60) }).collect();
    regs.sort_unstable();
    let mut free = vec![local(tz, date, 8 * 60); p.rooms];
    let mut out = Vec::with_capacity(n);
    for minute in regs {
        let registered = local(tz, date, minute);
        let room = (0..p.rooms).min_by_key(|r| free[*r]).unwrap_or(0);
        let called = registered.max(free[room]);
        let afternoon = called.with_timezone(&tz).hour() >= 12;
        let median = p.morning_minutes * if afternoon { p.afternoon_factor } else { 1.0 };
        let seconds = (median * 60.0 * (0.35 * normal(rng)).exp()).round().max(60.0) as i64;
        let finished = called + Duration::seconds(seconds);
        free[room] = finished;
        out.push(Patient { registered, called, finished, room });
    }
    out
}

fn schedule(date: NaiveDate) -> Schedule {
    let date = date.format("%Y-%m-%d").to_string();
    Schedule {
        doctor_id: 1,
        poly_id: 1,
        date,
        start_time: "08:00:00".into(),
        end_time: "16:00:00".into(),
        quota: None,
        slot_minutes: None,
        slot_capacity: None,
        bpjs_quota: None,
    }
}

/// The poly's day as the queue index shows it at `at`, with patient `me` just registered.
fn entries_at(day: &[Patient], me: usize, at: DateTime<Utc>, rooms: usize) -> Vec<DayEntry> {
    day.iter()
        .enumerate()
        .take(me + 1)
        .map(|(j, q)| {
            let code = if j == me || q.called > at {
                WAITING
            } else if q.finished > at {
                WITH_DOCTOR
            } else {
                DONE
            };
            let called_ms = (code != WAITING).then(|| q.called.timestamp_millis());
            DayEntry {
                id: j as i64 + 1,
                poly_id: 1,
                queue_number: j as i64 + 1,
                status_code: code.into(),
                called_ms,
                doctor_ms: called_ms,
                room_id: (rooms > 1 && code != WAITING).then_some(q.room as i64 + 1),
                ..Default::default()
            }
        })
        .collect()
}

fn main() {
    let days = arg("--days", 60) as usize;
    let seed = arg("--seed", 16);
    let tz: Tz = chrono_tz::Asia::Jakarta;
    let mut rng = StdRng::seed_from_u64(seed);
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let working: Vec<NaiveDate> = start.iter_days().filter(|d| d.weekday() != Weekday::Sun).take(days).collect();
    // (poly, learned error sum, fixed error sum, count)
    let mut totals: BTreeMap<&str, (f64, f64, usize)> = BTreeMap::new();
    for p in &POLIES {
        // Every finished consultation so far, in the order they finished.
        let mut history: Vec<(DateTime<Utc>, Sample)> = Vec::new();
        for (index, date) in working.iter().enumerate() {
            let day = simulate_day(p, *date, tz, &mut rng);
            if index >= WARM_UP_DAYS {
                for (i, me) in day.iter().enumerate() {
                    let at = me.registered;
                    let done = history.iter().filter(|(end, _)| *end <= at).count();
                    let samples = ServiceTimes::kept(&history[..done].iter().map(|(_, s)| *s).collect::<Vec<Sample>>());
                    let entries = entries_at(&day, i, at, p.rooms);
                    let r = Reservation { poly_id: 1, queue_number: i as i64 + 1, status_code: WAITING.into(), ..Default::default() };
                    let sched = schedule(*date);
                    let learned = PolyDay { entries: entries.clone(), configured_minutes: None, tz, learned: ServiceTimes { samples, rev: Some(1) } };
                    let fixed = PolyDay { entries, configured_minutes: Some(10), tz, learned: ServiceTimes::default() };
                    let err = |d: &PolyDay| {
                        let est = d.position(&r, Some(&sched), at).estimated_at.expect("a waiting number has an estimate");
                        (est - me.called).num_seconds().abs() as f64 / 60.0
                    };
                    let t = totals.entry(p.name).or_default();
                    t.0 += err(&learned);
                    t.1 += err(&fixed);
                    t.2 += 1;
                }
            }
            // The day's consultations join the history as they finish (the ring is per poly).
            let mut finished: Vec<(DateTime<Utc>, Sample)> = day
                .iter()
                .map(|q| (q.finished, Sample { seconds: (q.finished - q.called).num_seconds(), hour: q.called.with_timezone(&tz).hour(), doctor_id: None }))
                .collect();
            finished.sort_by_key(|(end, _)| *end);
            history.extend(finished);
        }
    }
    println!("Estimated call-in time vs actual, mean absolute error in minutes (seed {seed}, {days} working days, first {WARM_UP_DAYS} warm-up)");
    println!("{:<12} {:>9} {:>14} {:>16}", "poly", "patients", "learned (min)", "fixed 10 (min)");
    let (mut l, mut f, mut n) = (0.0, 0.0, 0usize);
    for p in &POLIES {
        let (le, fe, c) = totals[p.name];
        println!("{:<12} {:>9} {:>14.1} {:>16.1}", p.name, c, le / c as f64, fe / c as f64);
        (l, f, n) = (l + le, f + fe, n + c);
    }
    println!("{:<12} {:>9} {:>14.1} {:>16.1}", "all", n, l / n as f64, f / n as f64);
    println!("learned / fixed: {:.2}", (l / n as f64) / (f / n as f64));
}
