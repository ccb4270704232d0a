use std::sync::Arc;

use antrean_store::embedded::EmbeddedTable;
use chrono::{DateTime, Utc};

use super::*;
use crate::audit::Actor;
use crate::board::calls::{call_op, record_call, Call, Stage, SLOTS};

struct Fixed;

#[async_trait]
impl QueueNumbers for Fixed {
    async fn day(&self, _: &Deps, _: &Tenant, _: NaiveDate) -> DomainResult<HashMap<i64, DayNumbers>> {
        let called_to = HashMap::from([(15, (7, "Ruang 2".to_string()))]);
        Ok(HashMap::from([(1, DayNumbers { anamnesa: Some(12), with_doctor: Some(15), with_doctor_priority: true, called_to, ..Default::default() })]))
    }
}

struct At(DateTime<Utc>);

impl crate::clock::Clock for At {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-10T02:00:00Z").unwrap().with_timezone(&Utc)
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 10).unwrap()
}

/// A clinic with Poli Umum (1) and Poli Gigi (2), its clock `minutes` after t0.
async fn clinic(dir: &tempfile::TempDir, minutes: i64) -> (Deps, Tenant) {
    let deps = Deps {
        table: Arc::new(EmbeddedTable::open(dir.path()).unwrap()),
        clock: Arc::new(At(t0() + chrono::Duration::minutes(minutes))),
        tokens: Arc::new(crate::auth::token::TokenKeys::new(&[7u8; 32], chrono::Duration::hours(1)).unwrap()),
    };
    let tenant = Tenant::parse("klinik").unwrap();
    let actor = Actor::system("test");
    for name in ["Poli Umum", "Poli Gigi"] {
        record::create(&deps, &tenant, &actor, Poly { name: name.into() }, |_| vec![]).await.unwrap();
    }
    (deps, tenant)
}

fn call(poly_id: i64, n: i64, stage: Stage, calls: i64, secs: i64) -> Call {
    Call {
        poly_id,
        date: day(),
        queue_number: n,
        stage,
        number_of_calls: calls,
        at: t0() + chrono::Duration::seconds(secs),
        room: (stage == Stage::WithDoctor).then(|| "Ruang 2".to_string()),
        priority: false,
    }
}

/// The last call of each poly lands in the snapshot; a late, older call does not replace a
/// newer one; another day and another clinic are apart.
#[tokio::test]
async fn snapshots_carry_the_latest_call_per_poly() {
    let dir = tempfile::tempdir().unwrap();
    let (deps, tenant) = clinic(&dir, 2).await;
    let other = Tenant::parse("lain").unwrap();
    record_call(&deps, &tenant, &call(1, 15, Stage::WithDoctor, 1, 0)).await.unwrap();
    record_call(&deps, &tenant, &call(1, 15, Stage::WithDoctor, 2, 30)).await.unwrap();
    record_call(&deps, &tenant, &call(1, 14, Stage::WithDoctor, 1, 10)).await.unwrap(); // late and older: not the last call
    record_call(&deps, &tenant, &Call { date: day().succ_opt().unwrap(), ..call(1, 1, Stage::Anamnesa, 1, 60) }).await.unwrap();
    record_call(&deps, &other, &call(1, 99, Stage::Anamnesa, 1, 90)).await.unwrap();

    let s = snapshot_with(&Fixed, &deps, &tenant, day()).await.unwrap();
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["event"], "queue.snapshot");
    assert_eq!(v["date"], "2026-01-10");
    assert_eq!(
        v["data"]["umum"],
        serde_json::json!({"kind": "poly", "poly_id": 1, "poly_name": "Poli Umum", "queue_number_anamnesa": 12, "queue_number_with_doctor": 15,
            "queue_number_anamnesa_priority": false, "queue_number_with_doctor_priority": true, "rooms": [],
            "last_call": {"queue_number": 15, "stage": "with_doctor", "number_of_calls": 2, "at": "2026-01-10T02:00:30.000000Z",
                "room": "Ruang 2", "room_id": 7, "priority": false}})
    );
    assert_eq!(v["data"]["gigi"]["last_call"], Value::Null);
    assert_eq!(v["data"]["gigi"]["queue_number_anamnesa"], Value::Null);
    // The late call is not the last one, but it is one of the day's calls, in its place.
    let heard: Vec<(i64, i64)> = s.calls.iter().map(|c| (c.queue_number, c.number_of_calls)).collect();
    assert_eq!(heard, [(15, 1), (14, 1), (15, 2)]);
}

/// Every call of the day in the list, in call order, each with its own id: two at one poly
/// (a recall among them) and one at another all stay, though the polies' items keep one last
/// call each.
#[tokio::test]
async fn the_snapshot_lists_every_recent_call_in_order_with_its_own_id() {
    let dir = tempfile::tempdir().unwrap();
    let (deps, tenant) = clinic(&dir, 5).await;
    let write = |c: Call| {
        let op = call_op(&tenant, &c);
        let table = deps.table.clone();
        async move { table.write(vec![op]).await.unwrap() }
    };
    write(call(1, 1, Stage::Anamnesa, 1, 0)).await;
    write(call(2, 1, Stage::Anamnesa, 1, 5)).await;
    write(call(1, 2, Stage::Anamnesa, 1, 10)).await;
    write(call(1, 2, Stage::Anamnesa, 2, 20)).await; // a recall
    write(call(1, 1, Stage::WithDoctor, 1, 30)).await;
    let s = snapshot_with(&FromQueue, &deps, &tenant, day()).await.unwrap();
    let said: Vec<(String, i64, Option<Stage>, bool)> = s.calls.iter().map(|c| (c.section.clone(), c.queue_number, c.stage, c.recall)).collect();
    assert_eq!(
        said,
        [
            ("umum".into(), 1, Some(Stage::Anamnesa), false),
            ("gigi".into(), 1, Some(Stage::Anamnesa), false),
            ("umum".into(), 2, Some(Stage::Anamnesa), false),
            ("umum".into(), 2, Some(Stage::Anamnesa), true),
            ("umum".into(), 1, Some(Stage::WithDoctor), false),
        ]
    );
    let ids: BTreeSet<&str> = s.calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), 5, "an id per call: {ids:?}");
    assert_eq!(s.calls[4].to.room.as_deref(), Some("Ruang 2"));
    assert_eq!(s.calls[3].at, "2026-01-10T02:00:20.000000Z");
    // The same calls, the same ids, in the next snapshot.
    let again = snapshot_with(&FromQueue, &deps, &tenant, day()).await.unwrap();
    assert_eq!(again.calls, s.calls);
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["calls"][0]["kind"], "poly");
    assert_eq!(v["calls"][0]["poly_id"], 1);
    assert!(v["calls"][0].get("at_ms").is_none(), "the list says `at`, not the ms");
}

/// A section lists its last [`RECENT_PER_SECTION`] calls of the last [`RECENT_MINUTES`]; a
/// number [`SLOTS`] above another takes its slot at the same stage.
#[tokio::test]
async fn the_list_is_short_and_recent() {
    let dir = tempfile::tempdir().unwrap();
    let (deps, tenant) = clinic(&dir, 30).await;
    // Long ago (20 minutes before the clock): not listed.
    deps.table.write(vec![call_op(&tenant, &call(2, 1, Stage::Anamnesa, 1, 600))]).await.unwrap();
    for n in 1..=12 {
        deps.table.write(vec![call_op(&tenant, &call(1, n, Stage::Anamnesa, 1, 1200 + n))]).await.unwrap();
    }
    let s = snapshot_with(&FromQueue, &deps, &tenant, day()).await.unwrap();
    let numbers: Vec<i64> = s.calls.iter().map(|c| c.queue_number).collect();
    assert_eq!(SLOTS, 8);
    assert_eq!(numbers, (5..=12).collect::<Vec<_>>(), "9 to 12 took the slots of 1 to 4; Gigi's call is too old");
    for n in 1..=4 {
        deps.table.write(vec![call_op(&tenant, &call(1, n, Stage::WithDoctor, 1, 1300 + n))]).await.unwrap();
    }
    let s = snapshot_with(&FromQueue, &deps, &tenant, day()).await.unwrap();
    let heard: Vec<(i64, Option<Stage>)> = s.calls.iter().map(|c| (c.queue_number, c.stage)).collect();
    let mut want: Vec<(i64, Option<Stage>)> = (7..=12).map(|n| (n, Some(Stage::Anamnesa))).collect();
    want.extend((1..=4).map(|n| (n, Some(Stage::WithDoctor))));
    assert_eq!(heard, want, "the last {RECENT_PER_SECTION} of the section");
}

/// A closed day lists no calls.
#[tokio::test]
async fn a_closed_day_lists_no_calls() {
    let dir = tempfile::tempdir().unwrap();
    let (deps, tenant) = clinic(&dir, 1).await;
    deps.table.write(vec![call_op(&tenant, &call(1, 1, Stage::Anamnesa, 1, 0))]).await.unwrap();
    assert_eq!(snapshot(&deps, &tenant, day()).await.unwrap().calls.len(), 1);
    deps.table.write(vec![crate::board::closed_op(&tenant, day(), t0(), serde_json::json!({}))]).await.unwrap();
    let s = snapshot(&deps, &tenant, day()).await.unwrap();
    assert!(s.calls.is_empty());
    assert!(s.data.get("umum").unwrap().last_call.is_none());
}

#[test]
fn the_payload_is_keyed_by_poly_in_order() {
    let pb = |id, name: &str| PolyBoard {
        kind: poly_kind(),
        queue_number_anamnesa_priority: false,
        queue_number_with_doctor_priority: false,
        rooms: vec![],
        poly_id: id,
        poly_name: name.into(),
        queue_number_anamnesa: Some(12),
        queue_number_with_doctor: Some(15),
        last_call: None,
    };
    let polies = Polies(vec![("umum".into(), Section::Poly(pb(1, "Poli Umum"))), ("gigi".into(), Section::Poly(pb(2, "Poli Gigi")))]);
    let v = serde_json::to_value(&polies).unwrap();
    assert_eq!(v["umum"]["queue_number_anamnesa"], 12);
    assert_eq!(v["gigi"]["queue_number_with_doctor"], 15);
    let text = serde_json::to_string(&polies).unwrap();
    assert!(text.find("umum").unwrap() < text.find("gigi").unwrap());
    let back: Polies = serde_json::from_str(&text).unwrap();
    assert_eq!(back, polies);
}
