//! The caller of a request: resolved from `Authorization: Bearer …`, either a sign-in token
//! (JWT + live session + live user) or an API key. Carries the clinic and the permissions.
use std::collections::BTreeSet;

use antrean_store::is_expired;

use crate::audit::Actor;
use crate::auth::{api_key, token};
use crate::error::{DomainError, DomainResult};
use crate::permission::Permission;
use crate::tenant::Tenant;
use crate::configuration::settings;
use crate::record::{self, Stored};
use crate::role::{self, Role};
use crate::user::User;
use crate::Deps;

#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    Session { user_id: i64, jti: String },
    ApiKey { id: i64 },
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: Tenant,
    pub actor: Actor,
    pub credential: Credential,
    pub permissions: BTreeSet<Permission>,
}

impl Principal {
    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    pub fn require(&self, p: Permission) -> DomainResult<()> {
        if self.can(p) {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }
}

/// Resolves a bearer token. Any failure is the same "Unauthenticated": a caller learns
/// nothing about which part was wrong.
pub async fn authenticate(deps: &Deps, bearer: &str) -> DomainResult<Principal> {
    if let Some(parsed) = api_key::ParsedKey::parse(bearer) {
        return api_key::authenticate(deps, &parsed).await;
    }
    let now = deps.clock.now();
    let claims = deps.tokens.verify(bearer, now)?;
    let tenant = Tenant::parse(&claims.clinic).map_err(|_| DomainError::Unauthenticated)?;
    let user_id: i64 = claims.sub.parse().map_err(|_| DomainError::Unauthenticated)?;
    // One batch: the session, the user, and the roles the token says the user had.
    let mut keys = vec![token::session_key(&tenant, &claims.jti), record::record_key::<User>(&tenant, user_id)];
    keys.extend(claims.roles.iter().map(|id| record::record_key::<Role>(&tenant, *id)));
    // Nearly every route then wants the clinic's zone: the profile comes along in the same batch.
    keys.push(settings::key(&tenant));
    let mut items = deps.table.get_many(&keys, None).await?.into_iter();
    let profile = items.next_back().flatten();
    settings::take_from_batch(&tenant, profile.as_ref());
    let issued_ms = match items.next().flatten() {
        Some(s) if !is_expired(&s, now.timestamp()) => s.get("issued_ms").and_then(serde_json::Value::as_i64).unwrap_or(0),
        _ => return Err(DomainError::Unauthenticated),
    };
    // A deleted user's tokens stop working at once.
    let user: Stored<User> = match items.next().flatten().map(record::decode::<Stored<User>>).transpose()? {
        Some(u) if !u.is_trashed() => u,
        _ => return Err(DomainError::Unauthenticated),
    };
    // A password reset ends every session opened before it.
    if user.data.sessions_revoked_ms.is_some_and(|revoked| issued_ms < revoked) {
        return Err(DomainError::Unauthenticated);
    }
    let mut hinted: std::collections::HashMap<i64, Stored<Role>> = std::collections::HashMap::new();
    for r in items.flatten() {
        let r: Stored<Role> = record::decode(r)?;
        hinted.insert(r.id, r);
    }
    let roles = role::permissions_of_read(deps, &tenant, &user.data.roles, hinted).await?;
    let permissions = roles.iter().flat_map(|(_, _, p)| p.iter().copied()).collect();
    Ok(Principal {
        tenant,
        actor: Actor {
            user_id: Some(user.id),
            api_key_id: None,
            name: user.data.name.clone(),
            roles: roles.into_iter().map(|(_, name, _)| name).collect(),
        },
        credential: Credential::Session { user_id, jti: claims.jti },
        permissions,
    })
}
