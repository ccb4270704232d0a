//! The clinic's polies and doctors in BPJS's codes (`kodepoli`: the BPJS subspecialty code,
//! `kodedokter`), checked against BPJS's own reference lists (`ref/poli`, `ref/dokter`,
//! fetched with the signed client), and each poly's number prefix ("A" → "A-12").
//! Kept as one item per poly or doctor beside its record (`codes`), which the poly and user
//! bodies also set: a reservation for a poly that has none is not sent, and the sync list says why.
use std::collections::BTreeMap;

use antrean_store::Key;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::client;
use super::config::{self, Tier};
use crate::audit::{self, Action, Actor};
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::poly::Poly;
use crate::record;
use crate::tenant::Tenant;
use crate::user::User;
use crate::webhook::WebhookSender;
use crate::Deps;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PolyCode {
    pub kodepoli: String,
    pub namapoli: String,
    /// The letter(s) before the number in `nomorantrean`.
    pub prefix: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DoctorCode {
    pub kodedokter: i64,
    pub namadokter: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Mapping {
    /// By the clinic's poly id.
    #[serde(default)]
    pub polies: BTreeMap<i64, PolyCode>,
    /// By the clinic's doctor (user) id.
    #[serde(default)]
    pub doctors: BTreeMap<i64, DoctorCode>,
}

impl Mapping {
    pub fn poly_by_code(&self, kodepoli: &str) -> Option<(i64, &PolyCode)> {
        self.polies
            .iter()
            .find(|(_, p)| p.kodepoli.eq_ignore_ascii_case(kodepoli.trim()))
            .map(|(id, p)| (*id, p))
    }
    pub fn doctor_by_code(&self, kodedokter: i64) -> Option<i64> {
        self.doctors.iter().find(|(_, d)| d.kodedokter == kodedokter).map(|(id, _)| *id)
    }
    /// The poly's prefix: configured, else a letter by poly id (A, B, …).
    pub fn prefix(&self, poly_id: i64) -> String {
        self.polies.get(&poly_id).map(|p| p.prefix.clone()).unwrap_or_else(|| default_prefix(poly_id))
    }
    /// `A-12`.
    pub fn nomorantrean(&self, poly_id: i64, number: i64) -> String {
        format!("{}-{number}", self.prefix(poly_id))
    }
}

pub fn default_prefix(poly_id: i64) -> String {
    ((b'A' + ((poly_id.max(1) - 1) % 26) as u8) as char).to_string()
}

pub fn key(tenant: &Tenant) -> Key {
    Key::new(tenant.partition("BPJS"), "MAPPING")
}

pub fn from_item(item: Option<antrean_store::Item>) -> Mapping {
    item.and_then(|i| i.get("mapping").cloned())
        .and_then(|m| serde_json::from_value(m).ok())
        .unwrap_or_default()
}

/// The clinic's mapping, from the codes kept beside its polies and doctors (`codes`).
pub async fn read(deps: &Deps, tenant: &Tenant) -> DomainResult<Mapping> {
    super::codes::read(deps, tenant).await
}

/// Which reference list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    Poli,
    Dokter,
}

fn list_of(response: Option<Value>) -> Vec<Value> {
    match response {
        Some(Value::Array(a)) => a,
        Some(Value::Object(o)) => o.get("list").and_then(Value::as_array).cloned().unwrap_or_default(),
        _ => vec![],
    }
}

fn text(v: &Value, fields: &[&str]) -> Option<String> {
    fields
        .iter()
        .find_map(|f| v.get(*f))
        .and_then(|x| x.as_str().map(str::to_string).or_else(|| x.as_i64().map(|n| n.to_string())))
}

/// BPJS's list, normalised to `{kode, nama}` (poli: the subspecialty code BPJS wants in `kodepoli`).
pub async fn reference(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, which: Reference) -> DomainResult<Vec<Value>> {
    let config = config::required(deps, tenant).await?;
    let creds = config.credentials(deps)?;
    let today = crate::reservation::clinic_today(deps, tenant).await?.0.format("%Y-%m-%d").to_string();
    let path = match (config.tier, which) {
        (Tier::Rs, Reference::Poli) => "ref/poli".to_string(),
        (Tier::Rs, Reference::Dokter) => "ref/dokter".to_string(),
        (Tier::Fktp, Reference::Poli) => format!("ref/poli/tanggal/{today}"),
        (Tier::Fktp, Reference::Dokter) => format!("ref/dokter/tanggal/{today}"),
    };
    let answer = client::call(sender, &config, &creds, "GET", &path, None, deps.clock.now())
        .await
        .map_err(|reason| DomainError::Unprocessable(format!("BPJS could not be reached ({reason}).")))?;
    if !answer.ok() {
        return Err(DomainError::Unprocessable(format!("BPJS answered {}: {}", answer.code, answer.message)));
    }
    Ok(list_of(answer.response)
        .iter()
        .filter_map(|v| match which {
            Reference::Poli => Some(json!({
                "kode": text(v, &["kdsubspesialis", "kodesubspesialis", "kdpoli", "kodepoli"])?,
                "nama": text(v, &["nmsubspesialis", "nmpoli", "namapoli"]).unwrap_or_default(),
            })),
            Reference::Dokter => Some(json!({
                "kode": text(v, &["kodedokter", "kddokter"])?.parse::<i64>().ok()?,
                "nama": text(v, &["namadokter", "nmdokter"]).unwrap_or_default(),
            })),
        })
        .collect())
}

/// Maps polies and doctors (`PUT /api/bpjs/mapping`):
/// `{"polies":[{"poly_id":1,"kodepoli":"ANA","prefix":"A"}],"doctors":[{"doctor_id":2,"kodedokter":12345}]}`.
/// Each code must be in BPJS's reference list; entries not named stay as they were, and
/// `"kodepoli": null` (or `"kodedokter": null`) removes one.
pub async fn save(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Mapping> {
    let before = read(deps, tenant).await?;
    let mut mapping = before.clone();
    let polies = body.get("polies").and_then(Value::as_array).cloned().unwrap_or_default();
    let doctors = body.get("doctors").and_then(Value::as_array).cloned().unwrap_or_default();
    if polies.is_empty() && doctors.is_empty() {
        return Err(FieldErrors::single("polies", "Name at least one poly or doctor to map."));
    }
    let mut e = FieldErrors::new();
    let id_of = |v: &Value, f: &str| v.get(f).and_then(crate::validate::as_id);
    let poly_ids: Vec<i64> = polies.iter().filter_map(|p| id_of(p, "poly_id")).collect();
    let doctor_ids: Vec<i64> = doctors.iter().filter_map(|d| id_of(d, "doctor_id")).collect();
    let live_polies = record::get_many::<Poly>(deps, tenant, poly_ids).await?;
    let live_doctors = record::get_many::<User>(deps, tenant, doctor_ids).await?;
    let ref_poli = if polies.iter().any(|p| p.get("kodepoli").is_some_and(|k| !k.is_null())) {
        reference(deps, sender, tenant, Reference::Poli).await?
    } else {
        vec![]
    };
    let ref_dokter = if doctors.iter().any(|d| d.get("kodedokter").is_some_and(|k| !k.is_null())) {
        reference(deps, sender, tenant, Reference::Dokter).await?
    } else {
        vec![]
    };
    for (i, p) in polies.iter().enumerate() {
        let field = format!("polies.{i}");
        let Some(id) = id_of(p, "poly_id").filter(|id| live_polies.get(id).is_some_and(|s| !s.is_trashed())) else {
            e.add(&format!("{field}.poly_id"), "The selected poly id is invalid.");
            continue;
        };
        match p.get("kodepoli") {
            Some(Value::Null) => {
                mapping.polies.remove(&id);
            }
            Some(Value::String(code)) => match ref_poli
                .iter()
                .find(|r| r["kode"].as_str().is_some_and(|k| k.eq_ignore_ascii_case(code.trim())))
            {
                Some(r) => {
                    let prefix = super::codes::prefix_of(&mut e, p, &format!("{field}.prefix"));
                    let prefix = prefix
                        .or_else(|| mapping.polies.get(&id).map(|x| x.prefix.clone()))
                        .unwrap_or_else(|| default_prefix(id));
                    let namapoli = live_polies.get(&id).map(|s| s.data.name.clone()).unwrap_or_default();
                    mapping.polies.insert(
                        id,
                        PolyCode {
                            kodepoli: r["kode"].as_str().unwrap_or_default().to_string(),
                            namapoli,
                            prefix,
                        },
                    );
                }
                None => e.add(&format!("{field}.kodepoli"), format!("BPJS has no poli with the code {}.", code.trim())),
            },
            _ => e.add(&format!("{field}.kodepoli"), "The kodepoli field is required."),
        }
    }
    for (i, d) in doctors.iter().enumerate() {
        let field = format!("doctors.{i}");
        let Some(id) = id_of(d, "doctor_id").filter(|id| live_doctors.get(id).is_some_and(|s| !s.is_trashed())) else {
            e.add(&format!("{field}.doctor_id"), "The selected doctor id is invalid.");
            continue;
        };
        match d.get("kodedokter") {
            Some(Value::Null) => {
                mapping.doctors.remove(&id);
            }
            Some(v) => match crate::validate::as_id(v).and_then(|code| ref_dokter.iter().find(|r| r["kode"].as_i64() == Some(code))) {
                Some(r) => {
                    let namadokter = live_doctors.get(&id).map(|s| s.data.name.clone()).unwrap_or_default();
                    mapping.doctors.insert(
                        id,
                        DoctorCode {
                            kodedokter: r["kode"].as_i64().unwrap_or_default(),
                            namadokter,
                        },
                    );
                }
                None => e.add(&format!("{field}.kodedokter"), format!("BPJS has no doctor with the code {v}.")),
            },
            None => e.add(&format!("{field}.kodedokter"), "The kodedokter field is required."),
        }
    }
    e.into_result()?;
    let mut ops = super::codes::replace_ops(tenant, &before, &mapping);
    ops.push(audit::entry(tenant, actor, Action::Update, "BPJS_MAPPING", 1, deps.clock.now()));
    deps.table.write(ops).await?;
    Ok(mapping)
}
