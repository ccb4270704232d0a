use super::*;
use antrean_store::{Query, StoreError, Table};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
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
