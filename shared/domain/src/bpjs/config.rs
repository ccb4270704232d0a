//! A clinic's BPJS configuration: which tier (FKTRL `antreanrs` or FKTP `antreanfktp`), where
//! BPJS is, the credentials BPJS gave the clinic (kept sealed, `crypto::seal`), the user
//! Mobile JKN signs in with on the clinic's WS. (Its estimates are the queue's own: `estimate`.)
//! One item, `T#<clinic>#BPJS` / `CONFIG`. Nothing here is ever shown or logged with its secrets.
use antrean_store::{Item, Key, Op};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::crypto;
use crate::audit::{self, Action, Actor};
use crate::auth::password;
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::tenant::Tenant;
use crate::{validate, Deps};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Hospitals and clinics utama (FKTRL): `antreanrs`, booking codes, task ids.
    Rs,
    /// Klinik pratama (FKTP): `antreanfktp`, add / panggil / batal.
    Fktp,
}

impl Tier {
    pub fn default_service(self) -> &'static str {
        match self {
            Tier::Rs => "antreanrs",
            Tier::Fktp => "antreanfktp",
        }
    }
}

pub const DEFAULT_KETERANGAN: &str = "Peserta harap 30 menit lebih awal guna pencatatan administrasi.";

/// The stored configuration (credentials sealed).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BpjsConfig {
    pub enabled: bool,
    pub tier: Tier,
    pub base_url: String,
    pub service_name: String,
    pub cons_id: String,
    secret_sealed: String,
    user_key_sealed: String,
    #[serde(default)]
    pub ws_username: Option<String>,
    #[serde(default)]
    ws_password_hash: Option<String>,
    pub keterangan: String,
    pub updated_at: String,
}

/// The unsealed credentials of one call; `Debug` shows none of them.
#[derive(Clone)]
pub struct Credentials {
    pub cons_id: String,
    pub secret: String,
    pub user_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials([redacted])")
    }
}

pub fn key(tenant: &Tenant) -> Key {
    Key::new(tenant.partition("BPJS"), "CONFIG")
}

impl BpjsConfig {
    pub fn from_item(item: Option<Item>) -> Option<BpjsConfig> {
        serde_json::from_value(Value::Object(item?)).ok()
    }

    /// `{base_url}/{service_name}/{path}`.
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/{}/{}",
            self.base_url.trim_end_matches('/'),
            self.service_name.trim_matches('/'),
            path.trim_start_matches('/')
        )
    }

    pub fn credentials(&self, deps: &Deps) -> DomainResult<Credentials> {
        let k = deps.tokens.sealing_key();
        match (crypto::unseal(k, &self.secret_sealed), crypto::unseal(k, &self.user_key_sealed)) {
            (Some(secret), Some(user_key)) => Ok(Credentials {
                cons_id: self.cons_id.clone(),
                secret,
                user_key,
            }),
            // Sealed under another key (BPJS_CREDENTIALS_KEY or the token secret changed).
            _ => Err(DomainError::Unprocessable(
                "The BPJS credentials cannot be read with this deployment's key; enter them again.".into(),
            )),
        }
    }

    /// Mobile JKN's user on the clinic's WS (constant-time on the hash).
    pub fn ws_user_ok(&self, username: &str, pass: &str) -> bool {
        match (&self.ws_username, &self.ws_password_hash) {
            (Some(u), Some(h)) => {
                let same_user: bool = subtle::ConstantTimeEq::ct_eq(u.as_bytes(), username.as_bytes()).into();
                password::verify(h, pass) && same_user
            }
            _ => false,
        }
    }

    /// What the clinic's IT person sees: never a secret, only whether each is set.
    pub fn view(&self) -> Value {
        serde_json::json!({
            "enabled": self.enabled,
            "tier": self.tier,
            "base_url": self.base_url,
            "service_name": self.service_name,
            "cons_id": self.cons_id,
            "secret_key_set": !self.secret_sealed.is_empty(),
            "user_key_set": !self.user_key_sealed.is_empty(),
            "ws_username": self.ws_username,
            "ws_password_set": self.ws_password_hash.is_some(),
            "keterangan": self.keterangan,
            "updated_at": self.updated_at,
        })
    }
}

pub async fn read(deps: &Deps, tenant: &Tenant) -> DomainResult<Option<BpjsConfig>> {
    Ok(BpjsConfig::from_item(deps.table.get(&key(tenant)).await?))
}

/// The configuration, or 422 "BPJS is not configured for this clinic."
pub async fn required(deps: &Deps, tenant: &Tenant) -> DomainResult<BpjsConfig> {
    read(deps, tenant).await?.ok_or_else(|| DomainError::Unprocessable(NOT_CONFIGURED.into()))
}

pub const NOT_CONFIGURED: &str = "BPJS is not configured for this clinic.";

fn http_url(errors: &mut FieldErrors, body: &Value, field: &str, refusal: Refusal<'_>) -> Option<String> {
    let url = validate::required_string(errors, body, field, 500)?;
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.query().is_none() && u.password().is_none() => match refusal(&url) {
            Some(why) => {
                errors.add(field, format!("The {} field is refused: {why}.", validate::human(field)));
                None
            }
            None => Some(url),
        },
        _ => {
            errors.add(
                field,
                format!("The {} field must be an http(s) URL without query or credentials.", validate::human(field)),
            );
            None
        }
    }
}

/// Why the host's sender would never send to a URL (`WebhookSender::refusal`).
pub type Refusal<'a> = &'a (dyn Fn(&str) -> Option<&'static str> + Send + Sync);

/// Sets the configuration (`PUT /api/bpjs/config`). A secret left out keeps the stored one
/// (the form never gets them back); the first configuration needs both.
pub async fn save(deps: &Deps, tenant: &Tenant, actor: &Actor, body: &Value, refusal: Refusal<'_>) -> DomainResult<BpjsConfig> {
    let before = read(deps, tenant).await?;
    let mut e = FieldErrors::new();
    let tier = match body.get("tier").and_then(Value::as_str).unwrap_or("rs") {
        "rs" => Some(Tier::Rs),
        "fktp" => Some(Tier::Fktp),
        _ => {
            e.add("tier", "The tier field must be rs or fktp.");
            None
        }
    };
    let base_url = http_url(&mut e, body, "base_url", refusal);
    let service_name = validate::optional_string(&mut e, body, "service_name", 100);
    let cons_id = validate::required_string(&mut e, body, "cons_id", 50);
    let secret = validate::optional_string(&mut e, body, "secret_key", 200);
    let user_key = validate::optional_string(&mut e, body, "user_key", 200);
    if before.is_none() {
        if secret.is_none() && !e.has("secret_key") {
            e.add("secret_key", "The secret key field is required.");
        }
        if user_key.is_none() && !e.has("user_key") {
            e.add("user_key", "The user key field is required.");
        }
    }
    let ws_username = validate::optional_string(&mut e, body, "ws_username", 100);
    let ws_password = validate::optional_string(&mut e, body, "ws_password", 200);
    if ws_password.as_ref().is_some_and(|p| p.chars().count() < 8) {
        e.add("ws_password", "The ws password field must be at least 8 characters.");
    }
    let enabled = match body.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            e.add("enabled", "The enabled field must be true or false.");
            false
        }
    };
    let keterangan = validate::optional_string(&mut e, body, "keterangan", 255);
    e.into_result()?;
    let (Some(tier), Some(base_url), Some(cons_id)) = (tier, base_url, cons_id) else {
        return Err(DomainError::Internal("a checked BPJS config lacks a field".into()));
    };
    let k = deps.tokens.sealing_key();
    let keep = |new: Option<String>, old: Option<&String>| new.map(|v| crypto::seal(k, &v)).or_else(|| old.cloned()).unwrap_or_default();
    let now = deps.clock.now();
    let ws_password_hash = match ws_password {
        Some(p) => Some(password::hash(&p)?),
        None => before.as_ref().and_then(|b| b.ws_password_hash.clone()),
    };
    let config = BpjsConfig {
        enabled,
        tier,
        base_url,
        service_name: service_name.unwrap_or_else(|| tier.default_service().into()),
        cons_id,
        secret_sealed: keep(secret, before.as_ref().map(|b| &b.secret_sealed)),
        user_key_sealed: keep(user_key, before.as_ref().map(|b| &b.user_key_sealed)),
        ws_username: ws_username.or_else(|| before.as_ref().and_then(|b| b.ws_username.clone())),
        ws_password_hash,
        keterangan: keterangan
            .or_else(|| before.as_ref().map(|b| b.keterangan.clone()))
            .unwrap_or_else(|| DEFAULT_KETERANGAN.into()),
        updated_at: stamp(now),
    };
    let mut item = match serde_json::to_value(&config) {
        Ok(Value::Object(m)) => m,
        _ => return Err(DomainError::Internal("a BPJS config serialises to an object".into())),
    };
    let k = key(tenant);
    item.insert("pk".into(), k.pk.into());
    item.insert("sk".into(), k.sk.into());
    deps.table
        .write(vec![Op::put(item), audit::entry(tenant, actor, Action::Update, "BPJS_CONFIG", 1, now)])
        .await?;
    Ok(config)
}
