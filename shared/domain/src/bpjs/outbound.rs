//! Clinic → BPJS: the events a reservation sends, put in the clinic's outbox in the same
//! atomic write as the change they report, and delivered in order.
//!
//! | our change                            | antreanrs (FKTRL)                      | antreanfktp (FKTP)               |
//! |---------------------------------------|----------------------------------------|----------------------------------|
//! | reservation made (reception / JKN app)| `antrean/add` (seed 000's body)        | `antrean/add` (no booking code)  |
//! | registered at reception, or checked in from Mobile JKN | `updatewaktu` task 3 (waiting for the poly: anamnesa) | not sent |
//! | called in to the doctor               | `updatewaktu` task 4                   | `antrean/panggil` status 1       |
//! | done at the doctor                    | `updatewaktu` task 5                   | not sent                         |
//! | no-show                               | `updatewaktu` task 99                  | `antrean/panggil` status 2       |
//! | cancelled                             | `antrean/batal`                        | `antrean/batal`                  |
//!
//! Tasks 1 and 2 (admission) and 6 and 7 (pharmacy) have no stage in this queue and are not sent.
//! Order: an event is sent only once every earlier event of its reservation was accepted;
//! until then it waits in the outbox (no attempt counted, no time invented). BPJS's "already
//! there" (code 208, "… sudah ada") counts as delivered; refusals that a retry cannot change
//! (`FINAL`) stop the retries, and the events after them are not sent ("blocked"). Every
//! event's state is kept on the reservation's sync item for the sync list.
use std::collections::HashMap;

use antrean_store::{Item, Key, Op, Update};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::client::{self, Answer};
use super::config::{self, BpjsConfig, Credentials, Tier};
use super::mapping::{self, Mapping};
use super::{estimate, quota, sync_key, Visit};
use crate::clock::stamp;
use crate::error::DomainResult;
use crate::patient::{self, Patient};
use crate::poly::Poly;
use crate::record::{self, Stored};
use crate::reservation::{parse_stamp, Reservation, CANCELLED, DONE, NO_SHOW};
use crate::schedule::{self, Slot};
use crate::tenant::Tenant;
use crate::user::User;
use crate::webhook::{self, Pending, RetryReport, WebhookSender};
use crate::Deps;

/// The outbox `kind` of BPJS events.
pub const KIND: &str = "bpjs";
/// BPJS's answers that a retry cannot change (lower-case substrings of `metadata.message`).
pub const FINAL: &[&str] = &[
    "rujukan tidak valid",
    "sudah terdaftar",
    "terdaftar di poli",
    "sudah mendaftar",
    "skrining",
    "screening",
];
/// Reservations whose events one run sends side by side.
const PARALLEL: usize = 8;
/// The places a schedule without a quota reports to BPJS.
pub const UNLIMITED_REPORTED: i64 = 999;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Add,
    Task(i64),
    Batal,
}

impl Event {
    pub fn name(self) -> String {
        match self {
            Event::Add => "add".into(),
            Event::Task(n) => format!("task{n}"),
            Event::Batal => "batal".into(),
        }
    }
    pub fn parse(s: &str) -> Option<Event> {
        match s {
            "add" => Some(Event::Add),
            "batal" => Some(Event::Batal),
            t => t.strip_prefix("task").and_then(|n| n.parse().ok()).map(Event::Task),
        }
    }
    /// Events of a reservation reach BPJS in this order.
    pub fn order(self) -> i64 {
        match self {
            Event::Add => 0,
            Event::Task(n) => n,
            Event::Batal => 100,
        }
    }
}

fn event_id(reservation_id: i64, e: Event) -> String {
    format!("bpjs-{reservation_id}-{}", e.name())
}

fn state(status: &str, order: i64, message: &str, attempts: i64, now: DateTime<Utc>) -> Value {
    json!({"status": status, "order": order, "message": message, "attempts": attempts, "at": stamp(now)})
}

/// The outbox items and the one sync-item update for `events` (event, its `waktu` in ms).
fn enqueue(tenant: &Tenant, id: i64, r: &Reservation, visit: &Visit, events: &[(Event, Option<i64>)], now: DateTime<Utc>) -> Vec<Op> {
    if events.is_empty() {
        return vec![];
    }
    let mut sync = Update::new()
        .set("reservation_id", id)
        .set("date", r.date.clone())
        .set("kodebooking", visit.kodebooking.clone());
    let mut ops = Vec::new();
    for (e, waktu) in events {
        let p = Pending {
            event_id: event_id(id, *e),
            attempts: 0,
            due_at: now,
            created_at: now,
            last_error: None,
            // Built at the first attempt, from the reservation as it then is; kept for every retry.
            body: String::new(),
            kind: Some(KIND.into()),
            meta: Some(json!({"reservation_id": id, "date": r.date, "event": e.name(), "waktu": waktu})),
        };
        ops.push(Op::put(p.to_item(&webhook::outbox_key(tenant, now.timestamp_millis(), &p.event_id))));
        sync = sync.set(&format!("e_{}", e.name()), state("pending", e.order(), "Waiting to be sent", 0, now));
    }
    ops.push(Op::update(sync_key(tenant, &r.date, id), sync));
    ops
}

fn ms(s: &Option<String>) -> Option<i64> {
    s.as_deref().and_then(parse_stamp).map(|t| t.timestamp_millis())
}

/// What a new reservation adds to its write: its booking code's index and, when the clinic
/// has BPJS on, `antrean/add` (and task 3 for a patient registered at the desk).
pub(crate) fn on_create(tenant: &Tenant, r: &Stored<Reservation>, now: DateTime<Utc>) -> Vec<Op> {
    let Some(visit) = &r.data.bpjs_visit else {
        return vec![];
    };
    let index = json!({"pk": super::booking_key(tenant, &visit.kodebooking).pk, "sk": visit.kodebooking, "id": r.id, "date": r.data.date});
    let mut ops = vec![Op::put_new(index.as_object().cloned().unwrap_or_default())];
    if visit.sync {
        let mut events = vec![(Event::Add, None)];
        if visit.source != super::ws::SOURCE {
            events.push((Event::Task(3), ms(&r.data.registered_at)));
        }
        ops.extend(enqueue(tenant, r.id, &r.data, visit, &events, now));
    }
    ops
}

/// What a change adds to its write: the events its new stage timestamps mean, and the JKN /
/// non-JKN place back on a cancel.
pub(crate) fn on_change(tenant: &Tenant, before: &Stored<Reservation>, after: &Stored<Reservation>, now: DateTime<Utc>) -> Vec<Op> {
    let (b, a) = (&before.data, &after.data);
    let Some(visit) = &a.bpjs_visit else {
        return vec![];
    };
    let mut ops = Vec::new();
    if b.status_code != CANCELLED && a.status_code == CANCELLED {
        if let Some(kind) = &visit.quota {
            ops.push(quota::release_op(tenant, a.schedule_id, kind));
        }
    }
    if !visit.sync {
        return ops;
    }
    let mut events = Vec::new();
    let checked_in = b.bpjs_visit.as_ref().and_then(|v| v.checkin_ms);
    if visit.source == super::ws::SOURCE && checked_in.is_none() && visit.checkin_ms.is_some() {
        events.push((Event::Task(3), visit.checkin_ms));
    }
    if b.with_doctor_at.is_none() && a.with_doctor_at.is_some() {
        events.push((Event::Task(4), ms(&a.with_doctor_at)));
    }
    if b.finished_at.is_none() && a.finished_at.is_some() {
        match a.status_code.as_str() {
            DONE => events.push((Event::Task(5), ms(&a.finished_at))),
            NO_SHOW => events.push((Event::Task(99), ms(&a.finished_at))),
            CANCELLED => events.push((Event::Batal, ms(&a.finished_at))),
            _ => {}
        }
    }
    ops.extend(enqueue(tenant, after.id, a, visit, &events, now));
    ops
}

// ---------------------------------------------------------------------------------------
// Delivery

/// A reservation with what its BPJS bodies are made of (one batch read).
pub(crate) struct Ctx {
    pub reservation: Stored<Reservation>,
    pub patient: Option<Stored<Patient>>,
    pub poly: Option<Stored<Poly>>,
    pub slot: Option<Slot>,
    pub doctor: Option<Stored<User>>,
    /// Places taken of the JKN and non-JKN quotas.
    pub taken: (i64, i64),
}

pub(crate) async fn context(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Option<Ctx>> {
    let Some(item) = deps.table.get(&record::record_key::<Reservation>(tenant, id)).await? else {
        return Ok(None);
    };
    let reservation: Stored<Reservation> = record::decode(item)?;
    let r = &reservation.data;
    let mut keys = vec![
        patient::key(tenant, r.patient_id),
        record::record_key::<Poly>(tenant, r.poly_id),
        quota::booked_key(tenant, r.schedule_id),
    ];
    keys.extend(schedule::slot_keys(tenant, r.schedule_id));
    let mut items = deps.table.get_many(&keys, None).await?.into_iter();
    let patient = items.next().flatten().map(patient::decode).transpose()?.map(|(p, _)| p);
    let poly = items.next().flatten().map(record::decode).transpose()?;
    let taken = quota::taken(items.next().flatten().as_ref());
    let slot = schedule::slot_from(items.next().flatten(), items.next().flatten())?;
    let doctor = match &slot {
        Some(s) => record::get::<User>(deps, tenant, s.schedule.data.doctor_id).await?,
        None => None,
    };
    Ok(Some(Ctx {
        reservation,
        patient,
        poly,
        slot,
        doctor,
        taken,
    }))
}

/// `kuotajkn`, `sisakuotajkn`, `kuotanonjkn`, `sisakuotanonjkn` of a schedule.
pub(crate) fn quotas(slot: &Slot, taken: (i64, i64)) -> [i64; 4] {
    let total = slot.schedule.data.quota;
    let one = |bpjs: bool, taken: i64| match quota::quota_of(&slot.schedule.data, bpjs) {
        Some(q) => (q, (q - taken).max(0)),
        None => match total {
            Some(q) => (q, (q - slot.booked).max(0)),
            None => (UNLIMITED_REPORTED, UNLIMITED_REPORTED),
        },
    };
    let (kj, sj) = one(true, taken.0);
    let (kn, sn) = one(false, taken.1);
    [kj, sj, kn, sn]
}

/// `08:00-16:00`.
pub(crate) fn jampraktek(slot: &Slot) -> String {
    let s = &slot.schedule.data;
    format!("{}-{}", s.start_time.get(..5).unwrap_or_default(), s.end_time.get(..5).unwrap_or_default())
}

/// `0812…` from `62812…` (BPJS wants the national form).
pub(crate) fn nohp(p: Option<&Stored<Patient>>) -> String {
    let n = p.and_then(|p| p.data.whatsapp_number.clone()).unwrap_or_default();
    match n.strip_prefix("62") {
        Some(rest) => format!("0{rest}"),
        None => n,
    }
}

/// Why an event is not sent (the sync list shows it), or the call to make.
enum Built {
    Call {
        path: String,
        body: Value,
    },
    NotSent(String),
    /// Not part of this tier's protocol: passes in the order as if accepted.
    NotUsed,
}

async fn build(deps: &Deps, tenant: &Tenant, config: &BpjsConfig, mapping: &Mapping, ctx: &Ctx, e: Event, waktu: Option<i64>) -> DomainResult<Built> {
    let r = &ctx.reservation.data;
    let Some(visit) = &r.bpjs_visit else {
        return Ok(Built::NotSent("The reservation has no BPJS data.".into()));
    };
    let Some(code) = mapping.polies.get(&r.poly_id) else {
        let name = ctx.poly.as_ref().map_or_else(|| r.poly_id.to_string(), |p| p.data.name.clone());
        return Ok(Built::NotSent(format!(
            "Not sent: the poly {name} has no BPJS code (kodepoli); map it in PUT /api/bpjs/mapping."
        )));
    };
    let doctor_id = ctx.slot.as_ref().map(|s| s.schedule.data.doctor_id).unwrap_or_default();
    let fktp = config.tier == Tier::Fktp;
    let body = match e {
        Event::Add => {
            let Some(slot) = &ctx.slot else {
                return Ok(Built::NotSent("Not sent: the reservation's schedule is gone.".into()));
            };
            let Some(doc) = mapping.doctors.get(&doctor_id) else {
                let name = ctx.doctor.as_ref().map_or_else(|| doctor_id.to_string(), |d| d.data.name.clone());
                return Ok(Built::NotSent(format!(
                    "Not sent: the doctor {name} has no BPJS code (kodedokter); map it in PUT /api/bpjs/mapping."
                )));
            };
            let [kj, sj, kn, sn] = quotas(slot, ctx.taken);
            let minutes = estimate::service_minutes(deps, tenant, r.poly_id, config.service_minutes).await?;
            let zone = crate::configuration::settings::settings(deps, tenant).await?.zone;
            let estimasi = estimate::estimated_ms(slot, r.queue_number, minutes, zone);
            let namadokter = ctx.doctor.as_ref().map_or_else(|| doc.namadokter.clone(), |d| d.data.name.clone());
            let mut b = json!({
                "kodebooking": visit.kodebooking,
                "jenispasien": visit.jenispasien,
                "nomorkartu": visit.nomorkartu,
                "nik": visit.nik,
                "nohp": nohp(ctx.patient.as_ref()),
                "kodepoli": code.kodepoli,
                "namapoli": ctx.poly.as_ref().map_or_else(|| code.namapoli.clone(), |p| p.data.name.clone()),
                "pasienbaru": visit.pasienbaru,
                "norm": visit.norm,
                "tanggalperiksa": r.date,
                "kodedokter": doc.kodedokter,
                "namadokter": namadokter,
                "jampraktek": jampraktek(slot),
                "jeniskunjungan": visit.jeniskunjungan.unwrap_or(1),
                "nomorreferensi": visit.nomorreferensi,
                "nomorantrean": mapping.nomorantrean(r.poly_id, r.queue_number),
                "angkaantrean": r.queue_number,
                "estimasidilayani": estimasi,
                "sisakuotajkn": sj,
                "kuotajkn": kj,
                "sisakuotanonjkn": sn,
                "kuotanonjkn": kn,
                "keterangan": config.keterangan,
            });
            if fktp {
                // FKTP's add has no booking code, referral, visit kind or quotas.
                let o = b.as_object_mut().expect("an object");
                for k in [
                    "kodebooking",
                    "jenispasien",
                    "pasienbaru",
                    "jeniskunjungan",
                    "nomorreferensi",
                    "estimasidilayani",
                    "sisakuotajkn",
                    "kuotajkn",
                    "sisakuotanonjkn",
                    "kuotanonjkn",
                ] {
                    o.remove(k);
                }
            }
            b
        }
        Event::Task(n) if fktp => match n {
            4 | 99 => {
                json!({"tanggalperiksa": r.date, "kodepoli": code.kodepoli, "nomorkartu": visit.nomorkartu, "status": if n == 4 { 1 } else { 2 }, "waktu": waktu})
            }
            _ => return Ok(Built::NotUsed),
        },
        Event::Task(n) => json!({"kodebooking": visit.kodebooking, "taskid": n, "waktu": waktu}),
        Event::Batal if fktp => {
            json!({"tanggalperiksa": r.date, "kodepoli": code.kodepoli, "nomorkartu": visit.nomorkartu, "alasan": "Dibatalkan oleh klinik"})
        }
        Event::Batal => {
            json!({"kodebooking": visit.kodebooking, "keterangan": "Dibatalkan oleh klinik"})
        }
    };
    let path = match e {
        Event::Add => "antrean/add",
        Event::Task(_) if fktp => "antrean/panggil",
        Event::Task(_) => "antrean/updatewaktu",
        Event::Batal => "antrean/batal",
    };
    Ok(Built::Call { path: path.into(), body })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Refused,
    Retry,
}

/// What BPJS's answer means for the event.
pub fn verdict(a: &Answer) -> Verdict {
    if a.ok() {
        return Verdict::Delivered;
    }
    let m = a.message.to_lowercase();
    if a.code == 208 || m.contains("sudah ada") || m.contains("duplikasi") || m.contains("sudah dibatalkan") {
        return Verdict::Delivered;
    }
    if (200..300).contains(&a.http) && FINAL.iter().any(|f| m.contains(f)) {
        return Verdict::Refused;
    }
    Verdict::Retry
}

struct Due {
    key: Key,
    pending: Pending,
    reservation_id: i64,
    date: String,
    event: Event,
    waktu: Option<i64>,
}

fn due_of(item: &Item) -> Option<Due> {
    let (key, pending) = Pending::from_item(item)?;
    let meta = pending.meta.clone()?;
    Some(Due {
        key,
        reservation_id: meta.get("reservation_id")?.as_i64()?,
        date: meta.get("date")?.as_str()?.to_string(),
        event: Event::parse(meta.get("event")?.as_str()?)?,
        waktu: meta.get("waktu").and_then(Value::as_i64),
        pending,
    })
}

/// The sync item's state of each event: name → (status, order).
fn states(item: Option<&Item>) -> HashMap<String, (String, i64)> {
    let mut out = HashMap::new();
    for (k, v) in item.into_iter().flatten() {
        if let Some(name) = k.strip_prefix("e_") {
            let status = v.get("status").and_then(Value::as_str).unwrap_or_default().to_string();
            out.insert(name.to_string(), (status, v.get("order").and_then(Value::as_i64).unwrap_or_default()));
        }
    }
    out
}

/// Statuses that let the next event go.
fn passes(status: &str) -> bool {
    matches!(status, "sent" | "not_used")
}

/// One run over a clinic's due BPJS events (called by `webhook::retry_clinic`).
pub(crate) async fn deliver(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, now: DateTime<Utc>, items: Vec<Item>) -> RetryReport {
    match deliver_all(deps, sender, tenant, now, items).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(clinic = tenant.slug(), error = %e, "BPJS deliveries failed; the next run tries again");
            RetryReport::default()
        }
    }
}

async fn deliver_all(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, now: DateTime<Utc>, items: Vec<Item>) -> DomainResult<RetryReport> {
    let mut groups: HashMap<i64, Vec<Due>> = HashMap::new();
    for item in &items {
        match due_of(item) {
            Some(d) => groups.entry(d.reservation_id).or_default().push(d),
            None => {
                tracing::error!(clinic = tenant.slug(), "unreadable BPJS outbox item; dropped");
                if let Some(k) = Key::of(item) {
                    let _ = deps.table.write(vec![Op::delete(k)]).await;
                }
            }
        }
    }
    let config = config::read(deps, tenant).await?;
    let mapping = mapping::read(deps, tenant).await?;
    let creds = match &config {
        Some(c) if c.enabled => Some(c.credentials(deps)),
        _ => None,
    };
    let results: Vec<RetryReport> = stream::iter(groups.into_values())
        .map(|mut list| {
            list.sort_by_key(|d| d.event.order());
            let (config, mapping, creds) = (config.as_ref(), &mapping, creds.as_ref());
            async move {
                match deliver_reservation(deps, sender, tenant, now, config, mapping, creds, list).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(clinic = tenant.slug(), error = %e, "a reservation's BPJS events failed; the next run tries again");
                        RetryReport::default()
                    }
                }
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut report = RetryReport::default();
    results.into_iter().for_each(|r| report.add(r));
    Ok(report)
}

/// Ends an event: its outbox item goes and its state is set, in one write; the run's view
/// of the reservation's states follows.
#[allow(clippy::too_many_arguments)]
async fn settle(
    deps: &Deps,
    tenant: &Tenant,
    states: &mut HashMap<String, (String, i64)>,
    d: &Due,
    key: Key,
    attempts: i64,
    status: &str,
    message: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let sync = Update::new().set(&format!("e_{}", d.event.name()), state(status, d.event.order(), message, attempts, now));
    deps.table
        .write(vec![Op::delete(key), Op::update(sync_key(tenant, &d.date, d.reservation_id), sync)])
        .await?;
    states.insert(d.event.name(), (status.to_string(), d.event.order()));
    Ok(())
}

const BLOCKED: &str = "Not sent: an earlier event of this reservation was not accepted by BPJS.";
const EXPIRED: &str = "Not sent within 24 hours; given up.";
const SWITCHED_OFF: &str = "Not sent: BPJS is switched off for this clinic.";

#[allow(clippy::too_many_arguments)]
async fn deliver_reservation(
    deps: &Deps,
    sender: &dyn WebhookSender,
    tenant: &Tenant,
    now: DateTime<Utc>,
    config: Option<&BpjsConfig>,
    mapping: &Mapping,
    creds: Option<&DomainResult<Credentials>>,
    list: Vec<Due>,
) -> DomainResult<RetryReport> {
    let mut report = RetryReport::default();
    let Some(first) = list.first() else { return Ok(report) };
    let sync = deps.table.get(&sync_key(tenant, &first.date, first.reservation_id)).await?;
    let mut states = states(sync.as_ref());
    let mut ctx: Option<Option<Ctx>> = None;
    for d in list {
        let name = d.event.name();
        // Every earlier event of this reservation must have been accepted first.
        let earlier: Vec<String> = states
            .iter()
            .filter(|(n, (_, o))| **n != name && *o < d.event.order())
            .map(|(_, (s, _))| s.clone())
            .collect();
        if earlier.iter().any(|s| s == "pending") {
            break;
        }
        // Ends here without a call?
        let early = if earlier.iter().any(|s| !passes(s)) {
            Some(("blocked", BLOCKED.to_string()))
        } else if d.pending.expired(now) {
            Some(("expired", EXPIRED.to_string()))
        } else if config.is_none() || creds.is_none() {
            Some(("skipped", SWITCHED_OFF.to_string()))
        } else {
            None
        };
        if let Some((status, why)) = early {
            settle(deps, tenant, &mut states, &d, d.key.clone(), d.pending.attempts, status, &why, now).await?;
            report.expired += 1;
            continue;
        }
        let (Some(config), Some(creds)) = (config, creds) else { break };
        let creds = match creds {
            Ok(c) => c,
            Err(e) => {
                // Left due: the clinic can enter its credentials again within the day.
                note(deps, tenant, &d, &d.key, d.pending.attempts, &e.to_string(), now).await;
                break;
            }
        };
        // The body: built at the first attempt, the same bytes on every retry.
        let built = if d.pending.body.is_empty() {
            if ctx.is_none() {
                ctx = Some(context(deps, tenant, d.reservation_id).await?);
            }
            match &ctx {
                Some(Some(c)) => build(deps, tenant, config, mapping, c, d.event, d.waktu).await?,
                _ => Built::NotSent("Not sent: the reservation is gone.".into()),
            }
        } else {
            let stored: Value = serde_json::from_str(&d.pending.body).unwrap_or(Value::Null);
            Built::Call {
                path: stored["path"].as_str().unwrap_or_default().to_string(),
                body: stored["body"].clone(),
            }
        };
        let (path, body) = match built {
            Built::Call { path, body } => (path, body),
            Built::NotUsed => {
                settle(
                    deps,
                    tenant,
                    &mut states,
                    &d,
                    d.key.clone(),
                    d.pending.attempts,
                    "not_used",
                    "Not part of the FKTP protocol; nothing to send.",
                    now,
                )
                .await?;
                continue;
            }
            Built::NotSent(why) => {
                settle(deps, tenant, &mut states, &d, d.key.clone(), d.pending.attempts, "skipped", &why, now).await?;
                report.expired += 1;
                continue;
            }
        };
        let stored = json!({"path": path, "body": body}).to_string();
        let Some((key, next)) = webhook::claim(deps, tenant, d.key.clone(), &d.pending, now, Some(stored)).await else {
            break;
        };
        let answer = client::call(sender, config, creds, "POST", &path, Some(&body), now).await;
        let (verdict, message) = match &answer {
            Ok(a) => (verdict(a), format!("{} {}", a.code, a.message)),
            Err(reason) => (Verdict::Retry, reason.clone()),
        };
        tracing::info!(clinic = tenant.slug(), reservation = d.reservation_id, event = %name, attempt = next.attempts, verdict = ?verdict, "BPJS event");
        match verdict {
            Verdict::Delivered => {
                settle(deps, tenant, &mut states, &d, key, next.attempts, "sent", &message, now).await?;
                report.delivered += 1;
            }
            Verdict::Refused => {
                settle(deps, tenant, &mut states, &d, key, next.attempts, "refused", &message, now).await?;
                report.expired += 1;
            }
            Verdict::Retry => {
                note(deps, tenant, &d, &key, next.attempts, &message, now).await;
                report.failed += 1;
                // The later events wait for this one.
                break;
            }
        }
    }
    Ok(report)
}

/// A failed attempt: the outbox item and the sync list say why; it is due again at its backoff.
async fn note(deps: &Deps, tenant: &Tenant, d: &Due, key: &Key, attempts: i64, message: &str, now: DateTime<Utc>) {
    let sync = Update::new().set(&format!("e_{}", d.event.name()), state("pending", d.event.order(), message, attempts, now));
    let item = Update::new().set("last_error", message.to_string());
    let ops = vec![
        Op::update_if(key.clone(), item, antrean_store::Condition::equals("attempts", attempts)),
        Op::update(sync_key(tenant, &d.date, d.reservation_id), sync),
    ];
    if let Err(e) = deps.table.write(ops).await {
        tracing::warn!(clinic = tenant.slug(), error = %e, "could not note a failed BPJS attempt");
    }
}

/// The reservation a booking code names.
pub(crate) async fn by_booking(deps: &Deps, tenant: &Tenant, kodebooking: &str) -> DomainResult<Option<i64>> {
    Ok(deps
        .table
        .get(&super::booking_key(tenant, kodebooking))
        .await?
        .and_then(|i| i.get("id").and_then(Value::as_i64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(http: u16, code: i64, message: &str) -> Answer {
        Answer {
            http,
            code,
            message: message.into(),
            response: None,
        }
    }

    #[test]
    fn answers_that_mean_already_there_count_as_delivered() {
        assert_eq!(verdict(&answer(200, 200, "Ok")), Verdict::Delivered);
        assert_eq!(verdict(&answer(200, 208, "Terdapat duplikasi Kode Booking")), Verdict::Delivered);
        assert_eq!(verdict(&answer(200, 201, "TaskId=3 sudah ada")), Verdict::Delivered);
        assert_eq!(verdict(&answer(200, 201, "Rujukan tidak valid")), Verdict::Refused);
        assert_eq!(
            verdict(&answer(200, 201, "Pasien sudah terdaftar di poli tersebut pada hari yang sama")),
            Verdict::Refused
        );
        assert_eq!(verdict(&answer(200, 201, "Peserta belum melakukan skrining kesehatan")), Verdict::Refused);
        assert_eq!(verdict(&answer(503, 503, "HTTP 503")), Verdict::Retry);
        assert_eq!(verdict(&answer(200, 201, "TaskId=4 tidak boleh kurang dari TaskId=3")), Verdict::Retry);
    }

    #[test]
    fn events_have_an_order() {
        for e in [Event::Add, Event::Task(3), Event::Task(99), Event::Batal] {
            assert_eq!(Event::parse(&e.name()), Some(e));
        }
        assert!(Event::Add.order() < Event::Task(3).order() && Event::Task(5).order() < Event::Task(99).order());
        assert!(Event::Task(99).order() < Event::Batal.order());
    }
}
