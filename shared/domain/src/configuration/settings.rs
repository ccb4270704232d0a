//! The few configs the engine itself reads on most requests (`clinic_timezone`,
//! `n8n_webhook_url`, `n8n_webhook_secret`), kept as attributes of the clinic's profile item
//! too, written in the same atomic write as the config record. So the zone, the webhook and the
//! clinic's name are one key (`T#<clinic>#CLINIC` / `PROFILE`) that any batch read can take
//! along, instead of two GetItems per config.
//!
//! A profile carries them once it has `settings_synced` (every clinic created since they are
//! kept there). An older profile without it is read the old way: each config by its name.
use antrean_store::{Item, Key, Op, Update};
use chrono_tz::Tz;
use serde_json::Value;

use super::config::{config_value, Config, CLINIC_TIMEZONE, DEFAULT_TIMEZONE, N8N_WEBHOOK_SECRET, N8N_WEBHOOK_URL};
use crate::error::DomainResult;
use crate::tenant::Tenant;
use crate::{clinic, request_cache, Deps};

/// The engine's configs, kept on the profile.
const KEPT: [&str; 3] = [CLINIC_TIMEZONE, N8N_WEBHOOK_URL, N8N_WEBHOOK_SECRET];
/// The profile says it carries every kept config.
pub const SYNCED: &str = "settings_synced";

/// What the engine reads of a clinic.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub name: Option<String>,
    pub zone: Tz,
    pub n8n_webhook_url: Option<String>,
    pub n8n_webhook_secret: Option<String>,
    /// The clinic's audit trail is kept by month from the start (no day partitions to read).
    pub audit_monthly: bool,
}

fn attribute(name: &str) -> String {
    format!("cfg_{}", name.to_ascii_lowercase())
}

fn kept(name: &str) -> bool {
    KEPT.iter().any(|k| k.eq_ignore_ascii_case(name))
}

fn cache_name(tenant: &Tenant) -> String {
    format!("settings:{}", tenant.slug())
}

fn zone_of(tenant: &Tenant, configured: Option<&str>, profile_zone: Option<&str>) -> Tz {
    match configured {
        Some(v) => v.parse::<Tz>().unwrap_or_else(|_| {
            tracing::warn!(clinic = tenant.slug(), value = %v, "stored clinic_timezone is not a zone; using the default");
            DEFAULT_TIMEZONE
        }),
        // No config: the zone the clinic was created with, else the default.
        None => profile_zone.and_then(|z| z.parse::<Tz>().ok()).unwrap_or(DEFAULT_TIMEZONE),
    }
}

/// Blank values count as unset.
fn set(v: Option<String>) -> Option<String> {
    v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The settings a profile item carries, if it carries them (`settings_synced`).
pub fn from_profile(tenant: &Tenant, profile: Option<&Item>) -> Option<Settings> {
    let p = profile?;
    if p.get(SYNCED).and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let s = |attr: &str| p.get(attr).and_then(Value::as_str).map(str::to_string);
    Some(Settings {
        name: s("name"),
        zone: zone_of(tenant, s(&attribute(CLINIC_TIMEZONE)).as_deref(), s("timezone").as_deref()),
        n8n_webhook_url: set(s(&attribute(N8N_WEBHOOK_URL))),
        n8n_webhook_secret: set(s(&attribute(N8N_WEBHOOK_SECRET))),
        audit_monthly: p.get(crate::audit::MONTHLY).and_then(Value::as_bool) == Some(true),
    })
}

/// The key a batch read takes along to learn the settings ([`take_from_batch`]).
pub fn key(tenant: &Tenant) -> Key {
    clinic::profile_key(tenant)
}

/// Keeps the settings a batch read brought (the profile item) for the rest of the request.
pub fn take_from_batch(tenant: &Tenant, profile: Option<&Item>) {
    if let Some(s) = from_profile(tenant, profile) {
        request_cache::prime(&cache_name(tenant), s);
    }
    // The profile carries the workflow statuses too.
    crate::status::take_from_profile(tenant, profile);
}

/// Whether this request already knows the settings (a batch read need not fetch the profile).
pub fn known(tenant: &Tenant) -> bool {
    request_cache::has(&cache_name(tenant))
}

/// The clinic's settings: read once per request, one GetItem on a synced profile.
pub async fn settings(deps: &Deps, tenant: &Tenant) -> DomainResult<Settings> {
    request_cache::memo(&cache_name(tenant), async {
        let profile = deps.table.get(&key(tenant)).await?;
        crate::status::take_from_profile(tenant, profile.as_ref());
        if let Some(s) = from_profile(tenant, profile.as_ref()) {
            return Ok(s);
        }
        // A profile from before the settings were kept on it: each config by its name.
        let p = |attr: &str| profile.as_ref().and_then(|p| p.get(attr)).and_then(Value::as_str).map(str::to_string);
        let (zone, url, secret) = futures::try_join!(
            config_value(deps, tenant, CLINIC_TIMEZONE),
            config_value(deps, tenant, N8N_WEBHOOK_URL),
            config_value(deps, tenant, N8N_WEBHOOK_SECRET)
        )?;
        let audit_monthly = profile.as_ref().and_then(|p| p.get(crate::audit::MONTHLY)).and_then(Value::as_bool) == Some(true);
        Ok(Settings {
            name: p("name"),
            zone: zone_of(tenant, zone.as_deref(), p("timezone").as_deref()),
            n8n_webhook_url: set(url),
            n8n_webhook_secret: set(secret),
            audit_monthly,
        })
    })
    .await
}

/// The op that keeps the profile's copy right when a config changes from `before` to `after`
/// (`None`: created / deleted), for the config's own atomic write; `None` when neither is kept.
/// It never creates a profile's `settings_synced`: an older clinic stays on the old reads.
pub fn sync_op(tenant: &Tenant, before: Option<&Config>, after: Option<&Config>) -> Option<Op> {
    let mut update = Update::new();
    if let Some(b) = before.filter(|b| kept(&b.name)) {
        if after.is_none_or(|a| !a.name.eq_ignore_ascii_case(&b.name)) {
            update = update.remove(&attribute(&b.name));
        }
    }
    if let Some(a) = after.filter(|a| kept(&a.name)) {
        update = update.set(&attribute(&a.name), a.value.clone());
    }
    (!update.set.is_empty() || !update.remove.is_empty()).then(|| Op::update(key(tenant), update))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(name: &str, value: &str) -> Config {
        Config { name: name.into(), value: value.into() }
    }

    #[test]
    fn a_synced_profile_carries_zone_and_webhook() {
        let t = Tenant::parse("klinik").unwrap();
        let mut p = json!({"pk": "x", "sk": "PROFILE", "name": "Klinik", "timezone": "Asia/Jakarta", "settings_synced": true}).as_object().unwrap().clone();
        assert_eq!(from_profile(&t, Some(&p)).unwrap().zone, chrono_tz::Asia::Jakarta);
        p.insert("cfg_clinic_timezone".into(), json!("Asia/Jayapura"));
        p.insert("cfg_n8n_webhook_url".into(), json!("  "));
        let s = from_profile(&t, Some(&p)).unwrap();
        assert_eq!((s.zone, s.n8n_webhook_url, s.name.as_deref()), (chrono_tz::Asia::Jayapura, None, Some("Klinik")));
        p.remove(SYNCED);
        assert_eq!(from_profile(&t, Some(&p)), None, "an older profile is read the old way");
    }

    #[test]
    fn only_kept_configs_touch_the_profile() {
        let t = Tenant::parse("klinik").unwrap();
        assert!(sync_op(&t, None, Some(&cfg("max_daily", "30"))).is_none());
        let Some(Op::Update { update, .. }) = sync_op(&t, Some(&cfg("Clinic_Timezone", "Asia/Jakarta")), Some(&cfg("max_daily", "3"))) else { panic!() };
        assert_eq!((update.set.len(), update.remove.clone()), (0, vec!["cfg_clinic_timezone".to_string()]));
        let Some(Op::Update { update, .. }) = sync_op(&t, Some(&cfg("clinic_timezone", "Asia/Jakarta")), Some(&cfg("CLINIC_TIMEZONE", "Asia/Makassar"))) else { panic!() };
        assert_eq!((update.set, update.remove.len()), (vec![("cfg_clinic_timezone".to_string(), json!("Asia/Makassar"))], 0));
    }
}
