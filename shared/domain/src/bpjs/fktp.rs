//! Mobile JKN → clinic on the FKTP tier (klinik pratama, BPJS's "Antrean FKTP"): `auth`,
//! `antrean/status/{kodepoli}/{tanggal}`, `antrean/sisapeserta/{nokartu}/{kodepoli}/{tanggal}`,
//! `POST antrean`, `POST peserta`, `PUT antrean/batal`. The same rules and writes as the RS
//! tier (`ws`): a number is a real reservation made through reception's atomic create.
use chrono::NaiveDate;
use serde_json::{json, Value};

use super::config::BpjsConfig;
use super::mapping::{self, Mapping};
use super::ws::{self, called, day_counts, internal, names, refuse, text, WsResult};
use crate::audit::Actor;
use crate::error::DomainError;
use crate::patient;
use crate::queue::{self, Move};
use crate::reservation::{self, ANAMNESA, WAITING, WAITING_DOCTOR};
use crate::schedule;
use crate::tenant::{id_key, Tenant};
use crate::Deps;

fn date_of(s: &str) -> WsResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| refuse("Format Tanggal Tidak Sesuai, format yang benar adalah yyyy-mm-dd"))
}

fn poly_of(mapping: &Mapping, kodepoli: &str) -> WsResult<i64> {
    mapping.poly_by_code(kodepoli).map(|(id, _)| id).ok_or_else(|| refuse("Poli Tidak Ditemukan"))
}

/// Status antrean: one row per doctor's schedule of the poly that day.
pub async fn status(deps: &Deps, tenant: &Tenant, config: &BpjsConfig, kodepoli: &str, tanggal: &str) -> WsResult<Value> {
    let date = date_of(tanggal)?;
    let mapping = mapping::read(deps, tenant).await.map_err(internal)?;
    let poly_id = poly_of(&mapping, kodepoli)?;
    let slots = schedule::on_day(deps, tenant, poly_id, date).await.map_err(internal)?;
    if slots.is_empty() {
        return Err(refuse("Jadwal Dokter Tidak Tersedia"));
    }
    let (total, waiting, with_doctor) = day_counts(deps, tenant, poly_id, date, None).await?;
    let mut rows = Vec::new();
    for slot in &slots {
        let doctor_id = slot.schedule.data.doctor_id;
        let (namapoli, namadokter) = names(deps, tenant, &mapping, poly_id, doctor_id).await?;
        rows.push(json!({
            "namapoli": namapoli, "totalantrean": total, "sisaantrean": waiting, "antreanpanggil": called(&mapping, poly_id, with_doctor),
            "keterangan": config.keterangan, "kodedokter": mapping.doctors.get(&doctor_id).map(|d| d.kodedokter), "namadokter": namadokter,
            "jampraktek": super::outbound::jampraktek(slot),
        }));
    }
    Ok(Value::Array(rows))
}

/// The open reservation of a card number at a poly on a day (the one-open-reservation guard).
async fn open_reservation(deps: &Deps, tenant: &Tenant, nomorkartu: &str, poly_id: i64, date: NaiveDate) -> WsResult<i64> {
    let patient_id = patient::id_by(deps, tenant, "no_bpjs", nomorkartu.trim())
        .await
        .map_err(internal)?
        .ok_or_else(|| refuse("Peserta Tidak Ditemukan"))?;
    let key = antrean_store::Key::new(
        tenant.partition(&format!("ACTIVE#{}", date.format("%Y-%m-%d"))),
        format!("{}#{}", id_key(poly_id), id_key(patient_id)),
    );
    let item = deps.table.get(&key).await.map_err(|e| internal(e.into()))?;
    item.and_then(|i| i.get("id").and_then(Value::as_i64))
        .ok_or_else(|| refuse("Antrean Tidak Ditemukan"))
}

/// Sisa peserta: the patient's number and how many are ahead.
pub async fn sisa_peserta(deps: &Deps, tenant: &Tenant, nomorkartu: &str, kodepoli: &str, tanggal: &str) -> WsResult<Value> {
    let date = date_of(tanggal)?;
    let mapping = mapping::read(deps, tenant).await.map_err(internal)?;
    let poly_id = poly_of(&mapping, kodepoli)?;
    let id = open_reservation(deps, tenant, nomorkartu, poly_id, date).await?;
    let (r, _) = reservation::read(deps, tenant, id).await.map_err(internal)?;
    let (_, ahead, with_doctor) = day_counts(deps, tenant, poly_id, date, Some(r.data.queue_number)).await?;
    let (namapoli, _) = names(deps, tenant, &mapping, poly_id, 0).await?;
    Ok(json!({
        "nomorantrean": mapping.nomorantrean(poly_id, r.data.queue_number), "namapoli": namapoli, "sisaantrean": ahead,
        "antreanpanggil": called(&mapping, poly_id, with_doctor), "keterangan": "",
    }))
}

/// `POST antrean`: `{nomorkartu, nik, kodepoli, tanggalperiksa, keluhan, kodedokter, jampraktek, norm, nohp}`.
pub async fn ambil(deps: &Deps, tenant: &Tenant, config: &BpjsConfig, body: &Value) -> WsResult<(i64, Value)> {
    let (code, answer) = ws::ambil(deps, tenant, config, body).await?;
    if code != 200 {
        return Ok((code, answer));
    }
    let mapping = mapping::read(deps, tenant).await.map_err(internal)?;
    let poly_id = poly_of(&mapping, &text(body, "kodepoli"))?;
    let date = date_of(&text(body, "tanggalperiksa"))?;
    let n = answer["angkaantrean"].as_i64().unwrap_or_default();
    let (_, ahead, with_doctor) = day_counts(deps, tenant, poly_id, date, Some(n)).await?;
    Ok((
        200,
        json!({
            "nomorantrean": answer["nomorantrean"], "angkaantrean": n, "namapoli": answer["namapoli"], "sisaantrean": ahead,
            "antreanpanggil": called(&mapping, poly_id, with_doctor), "keterangan": config.keterangan,
        }),
    ))
}

/// `PUT antrean/batal`: `{tanggalperiksa, kodepoli, nomorkartu, alasan}`.
pub async fn batal(deps: &Deps, tenant: &Tenant, body: &Value) -> WsResult<()> {
    let date = date_of(&text(body, "tanggalperiksa"))?;
    let mapping = mapping::read(deps, tenant).await.map_err(internal)?;
    let poly_id = poly_of(&mapping, &text(body, "kodepoli"))?;
    let id = open_reservation(deps, tenant, &text(body, "nomorkartu"), poly_id, date).await?;
    let (r, _) = reservation::read(deps, tenant, id).await.map_err(internal)?;
    if !matches!(r.data.status_code.as_str(), WAITING | ANAMNESA | WAITING_DOCTOR) {
        return Err(refuse("Pasien Sudah Dilayani, Antrean Tidak Dapat Dibatalkan"));
    }
    match queue::transition(deps, tenant, &Actor::system("Mobile JKN"), id, Move::Cancelled).await {
        Ok(_) => Ok(()),
        Err(DomainError::Conflict(m)) => Err(refuse(m)),
        Err(e) => Err(internal(e)),
    }
}
