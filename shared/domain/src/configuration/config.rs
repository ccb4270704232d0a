//! Named configs of a clinic (`{"name": "clinic_timezone", "value": "Asia/Jakarta"}`).
//! Names are unique per clinic (ignoring case). A few names mean something to the product
//! and their values are checked:
//! - `clinic_timezone`: an IANA zone; "today" and day boundaries of the clinic use it
//!   (`clinic_timezone`, default `Asia/Jakarta`);
//! - `n8n_webhook_url`: an http(s) URL the queue engine calls;
//! - `n8n_webhook_secret`: at least 16 characters; the queue engine signs its calls with it.
//!
//! Reading one by name is two GetItems (the name's unique guard gives the id, then the
//! record), never a scan.
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::is_http_url;
use crate::audit::Actor;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{self, Record, Requirement, Stored, Unique};
use crate::tenant::Tenant;
use crate::{validate, Deps};

pub const CLINIC_TIMEZONE: &str = "clinic_timezone";
pub const N8N_WEBHOOK_URL: &str = "n8n_webhook_url";
pub const N8N_WEBHOOK_SECRET: &str = "n8n_webhook_secret";
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Jakarta;
pub const MIN_SECRET_CHARS: usize = 16;
pub const MAX_VALUE_CHARS: usize = 2000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Config {
    pub name: String,
    pub value: String,
}

impl Record for Config {
    const KIND: &'static str = "CONFIG";
    const LABEL: &'static str = "Config";
    fn unique(&self) -> Vec<Unique> {
        vec![Unique::new("name", &self.name)]
    }
}

/// Values that are credentials: shown only to those who may change configs.
pub fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["_secret", "_token", "_password", "_api_key"].iter().any(|s| n.ends_with(s))
}

impl Config {
    /// `{"name": "clinic_timezone", "value": "Asia/Jakarta"}`. A value may be sent as a
    /// number or boolean; it is stored as text.
    pub fn parse(body: &Value) -> DomainResult<Config> {
        let mut errors = FieldErrors::new();
        let name = validate::required_string(&mut errors, body, "name", 100).and_then(|n| {
            if n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
                Some(n)
            } else {
                errors.add("name", "The name field may only contain letters, digits, dashes, dots and underscores.");
                None
            }
        });
        let value = match body.get("value") {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => validate::required_string(&mut errors, body, "value", MAX_VALUE_CHARS),
        };
        if let (Some(n), Some(v)) = (&name, &value) {
            match n.to_ascii_lowercase().as_str() {
                CLINIC_TIMEZONE if v.parse::<Tz>().is_err() => {
                    errors.add("value", format!("The value field must be a valid timezone for {CLINIC_TIMEZONE} (an IANA name such as Asia/Jakarta)."))
                }
                N8N_WEBHOOK_URL if !is_http_url(v) => {
                    errors.add("value", format!("The value field must be a valid URL (http or https) for {N8N_WEBHOOK_URL}."))
                }
                N8N_WEBHOOK_SECRET if v.chars().count() < MIN_SECRET_CHARS => {
                    errors.add("value", format!("The value field must be at least {MIN_SECRET_CHARS} characters for {N8N_WEBHOOK_SECRET}."))
                }
                _ => {}
            }
        }
        errors.into_result()?;
        Ok(Config { name: name.unwrap_or_default(), value: value.unwrap_or_default() })
    }

    /// The webhook URL held to the sending host's rule (`webhook::destination`): refused
    /// addresses are a validation error on save, not a failed delivery later.
    pub fn check_destination(&self, refusal: impl Fn(&str) -> Option<&'static str>) -> DomainResult<()> {
        match refusal(&self.value) {
            Some(why) if self.name.eq_ignore_ascii_case(N8N_WEBHOOK_URL) => {
                Err(FieldErrors::single("value", format!("The value field must be a URL the webhook may be sent to for {N8N_WEBHOOK_URL}: {why}.")))
            }
            _ => Ok(()),
        }
    }
}

/// The value of the clinic's config `name` (ignoring case), if it has one.
pub async fn config_value(deps: &Deps, tenant: &Tenant, name: &str) -> DomainResult<Option<String>> {
    let Some(id) = record::find_by_unique::<Config>(deps, tenant, "name", name).await? else { return Ok(None) };
    // Deleted between the two reads: then there is none.
    Ok(record::get::<Config>(deps, tenant, id).await?.filter(|c| !c.is_trashed()).map(|c| c.data.value))
}

/// The clinic's timezone: its `clinic_timezone` config, else the zone its profile was
/// created with, else `Asia/Jakarta` (read once per request, see `settings`).
pub async fn clinic_timezone(deps: &Deps, tenant: &Tenant) -> DomainResult<Tz> {
    Ok(super::settings::settings(deps, tenant).await?.zone)
}

/// The requirement that keeps the profile's copy of an engine config right (see `settings`).
fn kept_in_profile(tenant: &Tenant, before: Option<&Config>, after: Option<&Config>) -> Vec<Requirement> {
    super::settings::sync_op(tenant, before, after)
        .map(|op| Requirement { op, error: DomainError::Internal("an unconditional update failed".into()) })
        .into_iter()
        .collect()
}

pub async fn create(deps: &Deps, tenant: &Tenant, actor: &Actor, config: Config) -> DomainResult<Stored<Config>> {
    record::create(deps, tenant, actor, config.clone(), |_| kept_in_profile(tenant, None, Some(&config))).await
}

pub async fn update(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, config: Config) -> DomainResult<Stored<Config>> {
    record::update::<Config>(deps, tenant, actor, id, |current| Ok((config.clone(), kept_in_profile(tenant, Some(&current.data), Some(&config))))).await
}

pub async fn delete(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    record::delete_with::<Config>(deps, tenant, actor, id, |current| {
        kept_in_profile(tenant, Some(&current.data), None).into_iter().map(|r| r.op).collect()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DomainError;
    use serde_json::json;

    fn value_error(body: Value) -> Option<String> {
        match Config::parse(&body) {
            Err(DomainError::Validation(e)) => e.0.get("value").map(|v| v[0].as_str().unwrap().to_string()),
            _ => None,
        }
    }

    #[test]
    fn known_names_check_their_values() {
        assert!(Config::parse(&json!({"name": "clinic_timezone", "value": "Asia/Makassar"})).is_ok());
        assert!(value_error(json!({"name": "Clinic_Timezone", "value": "Asia/Bandung"})).unwrap().contains("valid timezone"));
        assert!(value_error(json!({"name": "n8n_webhook_url", "value": "n8n.local/hook"})).unwrap().contains("valid URL"));
        assert!(Config::parse(&json!({"name": "n8n_webhook_url", "value": "https://n8n.example.com/webhook/x"})).is_ok());
        assert!(value_error(json!({"name": "n8n_webhook_secret", "value": "short"})).unwrap().contains("16 characters"));
        assert_eq!(Config::parse(&json!({"name": "max_daily", "value": 30})).unwrap().value, "30");
        assert!(is_secret("n8n_webhook_secret") && !is_secret("clinic_timezone"));
    }

    #[tokio::test]
    async fn timezone_and_values_are_read_by_name() {
        use std::sync::Arc;

        use crate::audit::Actor;

        let dir = tempfile::tempdir().unwrap();
        let deps = crate::test_deps(dir.path(), Arc::new(crate::SystemClock));
        let (a, b) = (Tenant::parse("klinik-a").unwrap(), Tenant::parse("klinik-b").unwrap());
        let actor = Actor::system("test");
        assert_eq!(clinic_timezone(&deps, &a).await.unwrap(), chrono_tz::Asia::Jakarta);
        assert_eq!(config_value(&deps, &a, N8N_WEBHOOK_URL).await.unwrap(), None);
        let tz = Config::parse(&json!({"name": "clinic_timezone", "value": "Asia/Jayapura"})).unwrap();
        let stored = record::create(&deps, &a, &actor, tz, |_| vec![]).await.unwrap();
        let url = Config::parse(&json!({"name": "N8N_Webhook_URL", "value": "https://n8n.example.com/webhook/x"})).unwrap();
        record::create(&deps, &a, &actor, url, |_| vec![]).await.unwrap();
        assert_eq!(clinic_timezone(&deps, &a).await.unwrap(), chrono_tz::Asia::Jayapura);
        assert_eq!(config_value(&deps, &a, N8N_WEBHOOK_URL).await.unwrap().as_deref(), Some("https://n8n.example.com/webhook/x"));
        // Another clinic has its own (none): the default.
        assert_eq!(clinic_timezone(&deps, &b).await.unwrap(), DEFAULT_TIMEZONE);
        record::delete::<Config>(&deps, &a, &actor, stored.id).await.unwrap();
        assert_eq!(clinic_timezone(&deps, &a).await.unwrap(), DEFAULT_TIMEZONE);
    }
}
