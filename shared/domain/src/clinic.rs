//! Clinics: creating one (with the seed's statuses and roles and its first admin) and
//! reading its profile.
use antrean_store::{Condition, Item, Key, Op, Query, SortKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::tenant::Tenant;
use crate::user::{self, NewUser};
use crate::{role, status, validate, Deps};

pub const DEFAULT_TIMEZONE: &str = "Asia/Jakarta";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Clinic {
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub created_at: String,
}

/// The clinic's own profile item: `T#<clinic>#CLINIC` / `PROFILE`.
pub fn profile_key(tenant: &Tenant) -> Key {
    Key::new(tenant.partition("CLINIC"), "PROFILE")
}

/// The platform's list of clinics. The only partition not under a tenant: it holds nothing
/// but each clinic's slug and name, for the platform operator's own listing.
const PLATFORM_PARTITION: &str = "PLATFORM#CLINICS";

pub async fn find(deps: &Deps, tenant: &Tenant) -> DomainResult<Option<Clinic>> {
    let item = deps.table.get(&profile_key(tenant)).await?;
    Ok(item.map(|i| serde_json::from_value(Value::Object(i)).map_err(|e| DomainError::Internal(e.to_string()))).transpose()?)
}

pub async fn list(deps: &Deps) -> DomainResult<Vec<Clinic>> {
    let items = antrean_store::query_all(deps.table.as_ref(), Query::partition(PLATFORM_PARTITION).sort(SortKey::Any)).await?;
    items
        .into_iter()
        .map(|i| serde_json::from_value(Value::Object(i)).map_err(|e| DomainError::Internal(e.to_string())))
        .collect()
}

pub struct NewClinic {
    pub tenant: Tenant,
    pub name: String,
    pub admin: NewUser,
}

impl NewClinic {
    /// `{"slug","name","admin":{"name","username","email","password"}}`
    pub fn parse(body: &Value) -> DomainResult<NewClinic> {
        let mut errors = FieldErrors::new();
        let slug = validate::required_string(&mut errors, body, "slug", 40);
        let tenant = match slug.map(|s| Tenant::parse(&s)) {
            Some(Ok(t)) => Some(t),
            Some(Err(_)) => {
                errors.add("slug", "The slug must be 2 to 40 characters of lowercase letters, digits and inner dashes.");
                None
            }
            None => None,
        };
        let name = validate::required_string(&mut errors, body, "name", 255);
        let admin_body = body.get("admin").cloned().unwrap_or(Value::Null);
        if !admin_body.is_object() {
            errors.add("admin", "The admin field is required.");
        }
        let admin = NewUser::parse_admin(&mut errors, &admin_body, "admin.");
        errors.into_result()?;
        Ok(NewClinic { tenant: tenant.unwrap(), name: name.unwrap(), admin: admin.unwrap() })
    }
}

/// Creates the clinic, its statuses and roles (ids 1.. in the seed's order) and its first
/// admin (a Super Admin) in one atomic write: a clinic is never half made.
pub async fn create(deps: &Deps, new: NewClinic) -> DomainResult<(Clinic, crate::record::Stored<user::User>)> {
    let now = deps.clock.now();
    let ts = stamp(now);
    let tenant = &new.tenant;
    let clinic = Clinic { slug: tenant.slug().into(), name: new.name.clone(), timezone: DEFAULT_TIMEZONE.into(), created_at: ts.clone() };
    let mut profile: Item = json!({"pk": profile_key(tenant).pk, "sk": "PROFILE"}).as_object().unwrap().clone();
    profile.extend(serde_json::to_value(&clinic).unwrap().as_object().unwrap().clone());
    // It carries the engine's configs from the start (configuration::settings).
    profile.insert(crate::configuration::settings::SYNCED.into(), true.into());
    // Its audit trail is kept by month from the start (audit::partition_of).
    profile.insert(crate::audit::MONTHLY.into(), true.into());
    let mut listing: Item = json!({"pk": PLATFORM_PARTITION, "sk": tenant.slug()}).as_object().unwrap().clone();
    listing.extend(serde_json::to_value(&clinic).unwrap().as_object().unwrap().clone());

    // And the workflow statuses, which every move and list reads (status::SYNCED).
    let statuses = status::seed_ops(tenant, &ts);
    profile.extend(status::profile_copy(tenant, &statuses));
    let mut ops = vec![Op::put_new(profile), Op::put_new(listing)];
    ops.extend(statuses);
    ops.extend(role::seed_ops(tenant, &ts));
    let (admin, user_ops) = user::seed_admin_ops(deps, tenant, &new.admin, &ts)?;
    ops.extend(user_ops);
    match deps.table.write(ops).await {
        Ok(()) => Ok((clinic, admin)),
        Err(antrean_store::StoreError::ConditionFailed { .. }) => {
            Err(FieldErrors::single("slug", "The slug has already been taken."))
        }
        Err(e) => Err(e.into()),
    }
}

/// True when the clinic exists (used by login to tell "no such clinic" from a bad password
/// without saying which).
pub async fn exists(deps: &Deps, tenant: &Tenant) -> DomainResult<bool> {
    Ok(deps.table.get(&profile_key(tenant)).await?.is_some())
}

/// A condition-check op that fails unless the clinic exists.
pub fn must_exist(tenant: &Tenant) -> Op {
    Op::check(profile_key(tenant), Condition::Exists)
}
