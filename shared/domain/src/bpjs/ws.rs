//! Mobile JKN → clinic: the WS RS endpoints BPJS calls on the clinic, with BPJS's envelope
//! `{"response": …, "metadata": {"message": "Ok", "code": 200}}` and its codes (201 refused
//! with a message, 202 "new patient: call info pasien baru").
//!
//! BPJS first gets a token (`x-username` / `x-password`: the clinic's `ws_username` and
//! `ws_password`), then sends `x-token` and `x-username` on each call. Tokens live an hour and
//! are kept only as a SHA-256 (`T#<clinic>#BPJS_TOKEN` / `<hex>`, TTL).
//! Ambil antrean makes a real reservation through reception's own atomic create
//! (`reservation::create_from`), so the quota, the numbering and the one-open-reservation
//! rule hold against the desk.
use antrean_store::{Key, Op, TTL_ATTRIBUTE};
use chrono::NaiveDate;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::config::{self, BpjsConfig};
use super::mapping::{self, Mapping};
use super::outbound::{self, Ctx};
use super::{estimate, quota};
use crate::audit::Actor;
use crate::error::DomainError;
use crate::patient::{self, PatientForm};
use crate::queue::{self, Move};
use crate::record;
use crate::reservation::{self, ANAMNESA, WAITING, WAITING_DOCTOR};
use crate::schedule::{self, Slot};
use crate::tenant::Tenant;
use crate::Deps;

/// `Visit::source` of reservations taken through ambil antrean.
pub const SOURCE: &str = "mobile_jkn";
const TOKEN_MINUTES: i64 = 60;

/// A refusal in BPJS's terms: `metadata.code` and `metadata.message`.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub code: i64,
    pub message: String,
}

pub type WsResult<T> = Result<T, Refusal>;

pub(crate) fn refuse(message: impl Into<String>) -> Refusal {
    Refusal {
        code: 201,
        message: message.into(),
    }
}

/// Store or other internal trouble: logged, never shown.
pub(crate) fn internal(e: DomainError) -> Refusal {
    tracing::error!(error = %e, "BPJS WS request failed");
    Refusal {
        code: 201,
        message: "Terjadi kesalahan pada sistem klinik; silakan coba lagi.".into(),
    }
}

fn token_key(tenant: &Tenant, token: &str) -> Key {
    Key::new(tenant.partition("BPJS_TOKEN"), hex::encode(Sha256::digest(token.as_bytes())))
}

async fn switched_on(deps: &Deps, tenant: &Tenant) -> WsResult<BpjsConfig> {
    match config::read(deps, tenant).await.map_err(internal)? {
        Some(c) if c.enabled => Ok(c),
        _ => Err(refuse("Layanan antrean online tidak aktif di faskes ini.")),
    }
}

/// `GET token` with `x-username` / `x-password`.
pub async fn token(deps: &Deps, tenant: &Tenant, username: &str, password: &str) -> WsResult<String> {
    let config = switched_on(deps, tenant).await?;
    if !config.ws_user_ok(username, password) {
        return Err(refuse("Username atau Password Tidak Sesuai"));
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    let now = deps.clock.now();
    let expires = now + chrono::Duration::minutes(TOKEN_MINUTES);
    let k = token_key(tenant, &token);
    let item = json!({"pk": k.pk, "sk": k.sk, "username": username, "expires_ms": expires.timestamp_millis(), TTL_ATTRIBUTE: expires.timestamp()});
    deps.table
        .write(vec![Op::put(item.as_object().cloned().unwrap_or_default())])
        .await
        .map_err(|e| internal(e.into()))?;
    Ok(token)
}

/// Every call after the token: `x-token` and `x-username`.
pub async fn authenticate(deps: &Deps, tenant: &Tenant, username: &str, token: &str) -> WsResult<BpjsConfig> {
    let config = switched_on(deps, tenant).await?;
    let item = deps.table.get(&token_key(tenant, token)).await.map_err(|e| internal(e.into()))?;
    let now = deps.clock.now().timestamp_millis();
    match item {
        Some(i) if i.get("username").and_then(Value::as_str) == Some(username) && i.get("expires_ms").and_then(Value::as_i64).is_some_and(|e| e > now) => {
            Ok(config)
        }
        _ => Err(refuse("Token Expired")),
    }
}

pub(crate) fn text(body: &Value, field: &str) -> String {
    match body.get(field) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The poly, doctor and schedule a request names (`kodepoli`, `kodedokter`, `tanggalperiksa`, `jampraktek`).
struct Named {
    poly_id: i64,
    date: NaiveDate,
    slot: Slot,
}

async fn named(deps: &Deps, tenant: &Tenant, mapping: &Mapping, body: &Value) -> WsResult<Named> {
    let Ok(date) = NaiveDate::parse_from_str(&text(body, "tanggalperiksa"), "%Y-%m-%d") else {
        return Err(refuse("Format Tanggal Tidak Sesuai, format yang benar adalah yyyy-mm-dd"));
    };
    let (today, _) = reservation::clinic_today(deps, tenant).await.map_err(internal)?;
    if date < today {
        return Err(refuse("Tanggal Periksa Tidak Berlaku"));
    }
    let Some((poly_id, _)) = mapping.poly_by_code(&text(body, "kodepoli")) else {
        return Err(refuse("Poli Tidak Ditemukan"));
    };
    let Some(doctor_id) = text(body, "kodedokter").parse::<i64>().ok().and_then(|k| mapping.doctor_by_code(k)) else {
        return Err(refuse("Dokter Tidak Ditemukan"));
    };
    let jam = text(body, "jampraktek");
    let slots = schedule::on_day(deps, tenant, poly_id, date).await.map_err(internal)?;
    let slot = slots
        .into_iter()
        .filter(|s| s.schedule.data.doctor_id == doctor_id)
        .find(|s| jam.is_empty() || outbound::jampraktek(s) == jam)
        .ok_or_else(|| refuse("Jadwal Dokter Tidak Tersedia"))?;
    Ok(Named { poly_id, date, slot })
}

/// The poly's day: (total, still waiting, the number with the doctor now).
pub(crate) async fn day_counts(deps: &Deps, tenant: &Tenant, poly_id: i64, date: NaiveDate, before: Option<i64>) -> WsResult<(i64, i64, Option<i64>)> {
    let entries = reservation::day_entries(deps, tenant, date, Some(poly_id)).await.map_err(internal)?;
    let waiting = entries
        .iter()
        .filter(|e| matches!(e.status_code.as_str(), WAITING | ANAMNESA | WAITING_DOCTOR))
        .filter(|e| before.is_none_or(|n| e.queue_number < n))
        .count() as i64;
    let (_, with_doctor) = queue::current_of(&entries, poly_id);
    let total = entries.iter().filter(|e| e.status_code != reservation::CANCELLED).count() as i64;
    Ok((total, waiting, with_doctor))
}

pub(crate) fn called(mapping: &Mapping, poly_id: i64, n: Option<i64>) -> String {
    n.map_or_else(|| "-".into(), |n| mapping.nomorantrean(poly_id, n))
}

pub(crate) async fn taken(deps: &Deps, tenant: &Tenant, schedule_id: i64) -> WsResult<(i64, i64)> {
    let item = deps.table.get(&quota::booked_key(tenant, schedule_id)).await.map_err(|e| internal(e.into()))?;
    Ok(quota::taken(item.as_ref()))
}

/// Status antrean: `{kodepoli, kodedokter, tanggalperiksa, jampraktek}`.
pub async fn status(deps: &Deps, tenant: &Tenant, config: &BpjsConfig, body: &Value) -> WsResult<Value> {
    let mapping = mapping::read(deps, tenant).await.map_err(internal)?;
    let n = named(deps, tenant, &mapping, body).await?;
    let (total, waiting, with_doctor) = day_counts(deps, tenant, n.poly_id, n.date, None).await?;
    let [kj, sj, kn, sn] = outbound::quotas(&n.slot, taken(deps, tenant, n.slot.schedule.id).await?);
    let names = names(deps, tenant, &mapping, n.poly_id, n.slot.schedule.data.doctor_id).await?;
    Ok(json!({
        "namapoli": names.0, "namadokter": names.1, "totalantrean": total, "sisaantrean": waiting,
        "antreanpanggil": called(&mapping, n.poly_id, with_doctor),
        "sisakuotajkn": sj, "kuotajkn": kj, "sisakuotanonjkn": sn, "kuotanonjkn": kn, "keterangan": config.keterangan,
    }))
}

pub(crate) async fn names(deps: &Deps, tenant: &Tenant, mapping: &Mapping, poly_id: i64, doctor_id: i64) -> WsResult<(String, String)> {
    let poly = record::get::<crate::poly::Poly>(deps, tenant, poly_id)
        .await
        .map_err(internal)?
        .map(|p| p.data.name);
    let doctor = record::get::<crate::user::User>(deps, tenant, doctor_id)
        .await
        .map_err(internal)?
        .map(|d| d.data.name);
    Ok((
        poly.or_else(|| mapping.polies.get(&poly_id).map(|p| p.namapoli.clone())).unwrap_or_default(),
        doctor
            .or_else(|| mapping.doctors.get(&doctor_id).map(|d| d.namadokter.clone()))
            .unwrap_or_default(),
    ))
}

/// No reservation of the patient yet (one query of their index, one item at most).
async fn first_visit(deps: &Deps, tenant: &Tenant, patient_id: i64) -> crate::error::DomainResult<bool> {
    let pk = reservation::patient_index_key(tenant, patient_id, 0).pk;
    Ok(deps.table.query(&antrean_store::Query::partition(pk).limit(1)).await?.items.is_empty())
}

pub const NEW_PATIENT: &str = "Data pasien ini tidak ditemukan, silahkan Melakukan Registrasi Pasien Baru";

/// Ambil antrean. `Ok((202, …))` for a patient the clinic does not know yet.
pub async fn ambil(deps: &Deps, tenant: &Tenant, config: &BpjsConfig, body: &Value) -> WsResult<(i64, Value)> {
    let mapping = mapping::read(deps, tenant).await.map_err(internal)?;
    let n = named(deps, tenant, &mapping, body).await?;
    let nomorkartu = text(body, "nomorkartu");
    let Some(patient_id) = patient::id_by(deps, tenant, "no_bpjs", &nomorkartu).await.map_err(internal)? else {
        return Ok((202, json!(NEW_PATIENT)));
    };
    let Some((p, _)) = patient::read(deps, tenant, patient_id).await.map_err(internal)? else {
        return Ok((202, json!(NEW_PATIENT)));
    };
    let mut form = json!({
        "patient_name": p.data.patient_name, "no_bpjs": nomorkartu, "poly_id": n.poly_id, "schedule_id": n.slot.schedule.id,
        "bpjs": true, "date": n.date.format("%Y-%m-%d").to_string(),
        "nik": Some(text(body, "nik")).filter(|s| !s.is_empty()),
        "nomorreferensi": Some(text(body, "nomorreferensi")).filter(|s| !s.is_empty()),
        "jeniskunjungan": body.get("jeniskunjungan").cloned().unwrap_or(Value::Null),
        // On file (e.g. through info pasien baru) but never seen: new to the clinic for BPJS.
        "pasienbaru": first_visit(deps, tenant, patient_id).await.map_err(internal)?,
    });
    if let Some(wa) = &p.data.whatsapp_number {
        form["whatsapp_number"] = json!(wa);
    }
    let created = match reservation::create_from(deps, tenant, &Actor::system("Mobile JKN"), &form, SOURCE).await {
        Ok(c) => c,
        Err(DomainError::Unprocessable(m)) if m == reservation::QUOTA_FULL => return Err(refuse("Kuota Penuh")),
        Err(DomainError::Unprocessable(m)) if m == reservation::ALREADY_BOOKED => {
            return Err(refuse("Nomor Antrean Hanya Dapat Diambil 1 Kali Pada Tanggal Yang Sama"))
        }
        Err(DomainError::Validation(e)) => return Err(refuse(format!("Data tidak valid: {}", e.0.keys().cloned().collect::<Vec<_>>().join(", ")))),
        Err(DomainError::Unprocessable(m)) | Err(DomainError::Conflict(m)) => return Err(refuse(m)),
        Err(e) => return Err(internal(e)),
    };
    let r = &created.reservation;
    let ctx = outbound::context(deps, tenant, r.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| internal(DomainError::Internal("a new reservation is gone".into())))?;
    let answer = visit_answer(deps, tenant, config, &mapping, &ctx).await?;
    Ok((200, answer))
}

async fn visit_answer(deps: &Deps, tenant: &Tenant, config: &BpjsConfig, mapping: &Mapping, ctx: &Ctx) -> WsResult<Value> {
    let r = &ctx.reservation.data;
    let visit = r.bpjs_visit.clone().unwrap_or_default();
    let slot = ctx.slot.as_ref().ok_or_else(|| refuse("Jadwal Dokter Tidak Tersedia"))?;
    let [kj, sj, kn, sn] = outbound::quotas(slot, ctx.taken);
    let estimasi = estimate::estimasidilayani(deps, tenant, r, slot).await.map_err(internal)?;
    let names = names(deps, tenant, mapping, r.poly_id, slot.schedule.data.doctor_id).await?;
    Ok(json!({
        "nomorantrean": mapping.nomorantrean(r.poly_id, r.queue_number), "angkaantrean": r.queue_number,
        "kodebooking": visit.kodebooking, "norm": visit.norm, "namapoli": names.0, "namadokter": names.1,
        "estimasidilayani": estimasi,
        "sisakuotajkn": sj, "kuotajkn": kj, "sisakuotanonjkn": sn, "kuotanonjkn": kn, "keterangan": config.keterangan,
    }))
}

async fn booked(deps: &Deps, tenant: &Tenant, body: &Value) -> WsResult<Ctx> {
    let code = text(body, "kodebooking");
    let id = outbound::by_booking(deps, tenant, &code)
        .await
        .map_err(internal)?
        .ok_or_else(|| refuse("Antrean Tidak Ditemukan"))?;
    outbound::context(deps, tenant, id)
        .await
        .map_err(internal)?
        .ok_or_else(|| refuse("Antrean Tidak Ditemukan"))
}

/// Sisa antrean: `{kodebooking}`.
pub async fn sisa(deps: &Deps, tenant: &Tenant, body: &Value) -> WsResult<Value> {
    let ctx = booked(deps, tenant, body).await?;
    let r = &ctx.reservation.data;
    if !reservation::is_open(&r.status_code) {
        return Err(refuse("Antrean Tidak Aktif"));
    }
    let mapping = mapping::read(deps, tenant).await.map_err(internal)?;
    let (_, ahead, with_doctor) = day_counts(deps, tenant, r.poly_id, r.visit_date(), Some(r.queue_number)).await?;
    let waktutunggu = estimate::waktutunggu(deps, tenant, r, ctx.slot.as_ref()).await.map_err(internal)?;
    let doctor_id = ctx.slot.as_ref().map(|s| s.schedule.data.doctor_id).unwrap_or_default();
    let names = names(deps, tenant, &mapping, r.poly_id, doctor_id).await?;
    Ok(json!({
        "nomorantrean": mapping.nomorantrean(r.poly_id, r.queue_number), "namapoli": names.0, "namadokter": names.1,
        "sisaantrean": ahead, "antreanpanggil": called(&mapping, r.poly_id, with_doctor),
        // Seconds, as BPJS's example (9000 for a long wait).
        "waktutunggu": waktutunggu, "keterangan": "",
    }))
}

/// Batal antrean: `{kodebooking, keterangan}`: the queue's own cancel.
pub async fn batal(deps: &Deps, tenant: &Tenant, body: &Value) -> WsResult<()> {
    let ctx = booked(deps, tenant, body).await?;
    let r = &ctx.reservation.data;
    if r.status_code == reservation::CANCELLED {
        return Err(refuse("Antrean Tidak Ditemukan atau Sudah Dibatalkan"));
    }
    if !matches!(r.status_code.as_str(), WAITING | ANAMNESA | WAITING_DOCTOR) {
        return Err(refuse("Pasien Sudah Dilayani, Antrean Tidak Dapat Dibatalkan"));
    }
    match queue::transition(deps, tenant, &Actor::system("Mobile JKN"), ctx.reservation.id, Move::Cancelled).await {
        Ok(_) => Ok(()),
        Err(DomainError::Conflict(m)) => Err(refuse(m)),
        Err(e) => Err(internal(e)),
    }
}

/// Check in: `{kodebooking, waktu}` (ms): task 3 for a known patient's Mobile JKN booking, task
/// 1 for a new patient (`visits`), in the same write.
pub async fn checkin(deps: &Deps, tenant: &Tenant, body: &Value) -> WsResult<()> {
    let waktu = body.get("waktu").and_then(Value::as_i64).ok_or_else(|| refuse("Waktu Tidak Valid"))?;
    let ctx = booked(deps, tenant, body).await?;
    match super::visits::stamp(deps, tenant, &Actor::system("Mobile JKN"), ctx.reservation.id, super::visits::Step::Checkin, Some(waktu)).await {
        Ok(_) => Ok(()),
        Err(DomainError::Conflict(m)) if m == super::visits::NOT_OPEN => Err(refuse("Antrean Tidak Aktif")),
        Err(DomainError::Unprocessable(_)) => Err(refuse("Antrean Tidak Ditemukan")),
        Err(DomainError::Conflict(_)) => Err(refuse("Antrean sedang diubah; silakan coba lagi.")),
        Err(e) => Err(internal(e)),
    }
}

/// Info pasien baru: registers the patient Mobile JKN sends (`nomorkartu`, `nama`, `nohp`, …)
/// and answers their `norm`.
pub async fn pasien_baru(deps: &Deps, tenant: &Tenant, body: &Value) -> WsResult<Value> {
    let nomorkartu = text(body, "nomorkartu");
    if let Some(id) = patient::id_by(deps, tenant, "no_bpjs", &nomorkartu).await.map_err(internal)? {
        return Err(refuse(format!("Data Peserta Sudah Pernah Dientrikan (norm {})", super::norm(id))));
    }
    let mut e = crate::error::FieldErrors::new();
    let form = PatientForm::parse(
        &mut e,
        &json!({"patient_name": text(body, "nama"), "no_bpjs": nomorkartu, "whatsapp_number": Some(text(body, "nohp")).filter(|s| !s.is_empty())}),
    );
    let Some(form) = form.filter(|_| e.is_empty()) else {
        let fields: Vec<String> =
            e.0.keys()
                .map(|k| {
                    if k == "patient_name" {
                        "nama".into()
                    } else if k == "no_bpjs" {
                        "nomorkartu".into()
                    } else {
                        "nohp".into()
                    }
                })
                .collect();
        return Err(refuse(format!("Data tidak valid: {}", fields.join(", "))));
    };
    match patient::register(deps, tenant, &Actor::system("Mobile JKN"), &form).await {
        Ok(p) => Ok(json!({"norm": super::norm(p.id)})),
        Err(DomainError::Validation(_)) | Err(DomainError::Unprocessable(_)) => Err(refuse("Nomor HP atau Nomor Kartu sudah terdaftar pada pasien lain")),
        Err(e) => Err(internal(e)),
    }
}
