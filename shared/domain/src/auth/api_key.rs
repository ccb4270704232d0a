//! API keys ("permanent tokens") for n8n: `<clinic>|<id>|<secret>`. The secret is 256 random
//! bits shown once; only its SHA-256 is stored (a slow hash adds nothing to a random secret).
//! Each key carries its own permissions, at most those of the user who made it.
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::audit::Actor;
use crate::auth::principal::{Credential, Principal};
use crate::board::filter::BoardFilter;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::permission::Permission;
use crate::record::{self, Record, Stored};
use crate::tenant::Tenant;
use crate::Deps;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiKey {
    pub token_name: String,
    pub permissions: Vec<Permission>,
    pub secret_sha256: String,
    pub created_by: Option<i64>,
    /// A display board's sections (the whole clinic when empty).
    #[serde(default, skip_serializing_if = "BoardFilter::is_everything")]
    pub board_filter: BoardFilter,
}

impl Record for ApiKey {
    const KIND: &'static str = "APIKEY";
    const LABEL: &'static str = "API key";
}

pub struct ParsedKey {
    pub tenant: Tenant,
    pub id: i64,
    pub secret: String,
}

impl ParsedKey {
    pub fn parse(token: &str) -> Option<ParsedKey> {
        let mut parts = token.split('|');
        let (slug, id, secret) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || secret.len() < 32 {
            return None;
        }
        Some(ParsedKey { tenant: Tenant::parse(slug).ok()?, id: id.parse().ok()?, secret: secret.to_string() })
    }
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..48).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Creates a key; returns the stored record and the full token (the only time it exists).
pub async fn create(
    deps: &Deps,
    creator: &Principal,
    name: Option<String>,
    permissions: Option<Vec<Permission>>,
) -> DomainResult<(Stored<ApiKey>, String)> {
    create_with(deps, creator, name, permissions, BoardFilter::default(), Vec::new).await
}

/// [`create`] with a board's filter, and requirements checked in the same write (the polies
/// it names are live).
pub async fn create_with(
    deps: &Deps,
    creator: &Principal,
    name: Option<String>,
    permissions: Option<Vec<Permission>>,
    board_filter: BoardFilter,
    requirements: impl Fn() -> Vec<record::Requirement>,
) -> DomainResult<(Stored<ApiKey>, String)> {
    let permissions = permissions.unwrap_or_else(|| {
        crate::permission::N8N_DEFAULT.iter().copied().filter(|p| creator.can(*p)).collect()
    });
    let beyond: Vec<&str> = permissions.iter().filter(|p| !creator.can(**p)).map(|p| p.as_str()).collect();
    if !beyond.is_empty() {
        return Err(FieldErrors::single(
            "permissions",
            format!("You cannot grant permissions you do not have: {}.", beyond.join(", ")),
        ));
    }
    let secret = random_secret();
    let key = ApiKey {
        token_name: name.unwrap_or_else(|| "permanent-token".into()),
        permissions,
        secret_sha256: digest(&secret),
        created_by: creator.actor.user_id,
        board_filter,
    };
    let stored = record::create(deps, &creator.tenant, &creator.actor, key, |_| requirements()).await?;
    let token = format!("{}|{}|{}", creator.tenant.slug(), stored.id, secret);
    Ok((stored, token))
}

pub async fn list(deps: &Deps, tenant: &Tenant) -> DomainResult<Vec<Stored<ApiKey>>> {
    record::list::<ApiKey>(deps, tenant, false).await
}

pub async fn revoke(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    record::delete::<ApiKey>(deps, tenant, actor, id).await
}

pub async fn authenticate(deps: &Deps, key: &ParsedKey) -> DomainResult<Principal> {
    // The clinic's profile comes along: nearly every route then wants its zone.
    let keys = [record::record_key::<ApiKey>(&key.tenant, key.id), crate::configuration::settings::key(&key.tenant)];
    let mut items = deps.table.get_many(&keys, None).await?.into_iter();
    let stored: Stored<ApiKey> = items.next().flatten().map(record::decode).transpose()?.ok_or(DomainError::Unauthenticated)?;
    crate::configuration::settings::take_from_batch(&key.tenant, items.next().flatten().as_ref());
    let given = digest(&key.secret);
    if !bool::from(given.as_bytes().ct_eq(stored.data.secret_sha256.as_bytes())) || stored.is_trashed() {
        return Err(DomainError::Unauthenticated);
    }
    Ok(Principal {
        tenant: key.tenant.clone(),
        actor: Actor {
            user_id: None,
            api_key_id: Some(stored.id),
            name: format!("API key: {}", stored.data.token_name),
            roles: vec![],
        },
        credential: Credential::ApiKey { id: stored.id },
        permissions: stored.data.permissions.iter().copied().collect(),
    })
}
