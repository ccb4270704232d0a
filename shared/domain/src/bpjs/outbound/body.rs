//! What a BPJS event's body is made of: the reservation with its patient, poly, schedule,
//! doctor and quota places (one batch read), and the body of each event per tier.
use serde_json::{json, Value};

use super::super::config::{BpjsConfig, Tier};
use super::super::mapping::Mapping;
use super::super::{estimate, quota};
use super::{Event, UNLIMITED_REPORTED};
use crate::error::DomainResult;
use crate::patient::{self, Patient};
use crate::poly::Poly;
use crate::record::{self, Stored};
use crate::reservation::Reservation;
use crate::schedule::{self, Slot};
use crate::tenant::Tenant;
use crate::user::User;
use crate::Deps;

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

/// The card number for a JKN visit: the one taken at registration, else the patient's now.
fn nomorkartu(r: &Reservation, visit: &super::super::Visit, p: Option<&Stored<Patient>>) -> String {
    if !r.bpjs {
        return String::new();
    }
    Some(visit.nomorkartu.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| p.and_then(|p| p.data.no_bpjs.clone()))
        .unwrap_or_default()
}

/// Why an event is not sent (the sync list shows it), or the call to make.
pub(super) enum Built {
    Call {
        path: String,
        body: Value,
    },
    NotSent(String),
    /// Not part of this tier's protocol: passes in the order as if accepted.
    NotUsed,
}

pub(super) async fn build(deps: &Deps, tenant: &Tenant, config: &BpjsConfig, mapping: &Mapping, ctx: &Ctx, e: Event, waktu: Option<i64>) -> DomainResult<Built> {
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
            let estimasi = estimate::estimasidilayani(deps, tenant, r, slot).await?;
            let namadokter = ctx.doctor.as_ref().map_or_else(|| doc.namadokter.clone(), |d| d.data.name.clone());
            let mut b = json!({
                "kodebooking": visit.kodebooking,
                // The reservation's kind as it is now: `bpjs` may have been changed before the add went.
                "jenispasien": if r.bpjs { super::super::JKN } else { super::super::NON_JKN },
                "nomorkartu": nomorkartu(r, visit, ctx.patient.as_ref()),
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

