//! Login: username + password within one clinic, with lockout after repeated failures
//! (the Colederma seed's `num_of_login_attempts` / `is_blocked`).
use antrean_store::{Condition, Op, Update};
use chrono::Duration;
use serde_json::Value;

use crate::audit::{self, Action, Actor};
use crate::auth::{password, token};
use crate::record::Record;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::Stored;
use crate::tenant::Tenant;
use crate::user::{self, User};
use crate::{validate, Deps};

pub const MAX_FAILED_ATTEMPTS: i64 = 5;
pub const LOCK_MINUTES: i64 = 15;
pub const WRONG_CREDENTIALS: &str = "Incorrect username or password";

pub struct LoginRequest {
    pub username: String,
    pub password: String,
    pub clinic: Option<String>,
}

impl LoginRequest {
    pub fn parse(body: &Value) -> DomainResult<LoginRequest> {
        let mut errors = FieldErrors::new();
        let username = validate::required_string(&mut errors, body, "username", 255);
        // Passwords are not trimmed: spaces are part of them.
        let password = match body.get("password") {
            Some(Value::String(p)) if !p.is_empty() => Some(p.clone()),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                errors.add("password", "The password field is required.");
                None
            }
            Some(_) => {
                errors.add("password", "The password field must be a string.");
                None
            }
        };
        let clinic = validate::optional_string(&mut errors, body, "clinic", 40);
        errors.into_result()?;
        Ok(LoginRequest { username: username.unwrap(), password: password.unwrap(), clinic })
    }
}

pub struct LoggedIn {
    pub token: String,
    pub claims: token::Claims,
    pub user: Stored<User>,
}

fn locked(minutes_left: i64) -> DomainError {
    DomainError::Locked {
        message: format!(
            "Account is locked after {MAX_FAILED_ATTEMPTS} failed login attempts. Try again in {} minute(s) or ask an administrator.",
            minutes_left.max(1)
        ),
        retry_after_secs: minutes_left.max(1) * 60,
    }
}

pub async fn login(deps: &Deps, tenant: &Tenant, req: &LoginRequest) -> DomainResult<LoggedIn> {
    let now = deps.clock.now();
    let found = user::find_by_username(deps, tenant, &req.username).await?;
    let credential = match &found {
        Some(u) => deps.table.get(&user::credential_key(tenant, u.id)).await?,
        None => None,
    };
    let (Some(user), Some(credential)) = (found, credential) else {
        // Same work as a real check, so timing does not tell which usernames exist.
        let _ = password::verify(password::decoy_hash(), &req.password);
        return Err(DomainError::InvalidCredentials(WRONG_CREDENTIALS.into()));
    };
    if let Some(until) = credential.get("blocked_until").and_then(Value::as_i64) {
        if until > now.timestamp() {
            return Err(locked((until - now.timestamp() + 59) / 60));
        }
    }
    let hash = credential.get("password_hash").and_then(Value::as_str).unwrap_or_default().to_string();
    let attempt = req.password.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&hash, &attempt))
        .await
        .map_err(|e| DomainError::Internal(e.to_string()))?;
    let key = user::credential_key(tenant, user.id);
    if !ok {
        let failed = credential.get("failed_attempts").and_then(Value::as_i64).unwrap_or(0) + 1;
        let mut update = Update::new().add("failed_attempts", 1);
        let lock = failed >= MAX_FAILED_ATTEMPTS;
        if lock {
            update = update.set("blocked_until", (now + Duration::minutes(LOCK_MINUTES)).timestamp()).set("failed_attempts", 0);
            update.add.clear();
        }
        let mut ops = vec![Op::update_if(key, update, Condition::Exists)];
        if lock {
            // The lock is in the activity trail, as the account's own doing.
            ops.push(audit::entry(tenant, &user_actor(&user), Action::Lock, User::KIND, user.id, now));
        }
        deps.table.write(ops).await?;
        return Err(if lock { locked(LOCK_MINUTES) } else { DomainError::InvalidCredentials(WRONG_CREDENTIALS.into()) });
    }
    let (token, claims) = deps.tokens.issue(tenant, user.id, &user.data.roles, now)?;
    let reset = Update::new().set("failed_attempts", 0).remove("blocked_until").set("last_login_at", now.timestamp());
    deps.table.write(vec![token::session_put(tenant, &claims, now.timestamp_millis()), Op::update_if(key, reset, Condition::Exists)]).await?;
    Ok(LoggedIn { token, claims, user })
}

/// The account itself as the actor of what happens to it (a lock, a reset by code).
pub(crate) fn user_actor(user: &Stored<User>) -> Actor {
    Actor { user_id: Some(user.id), api_key_id: None, name: user.data.name.clone(), roles: vec![] }
}

/// Lifts a lock (an administrator's "unblock"), audited; 404 for an unknown account.
pub async fn unblock(deps: &Deps, tenant: &Tenant, actor: &Actor, user_id: i64) -> DomainResult<()> {
    let user = user::find(deps, tenant, user_id).await?;
    let now = deps.clock.now();
    let clear = Update::new().set("failed_attempts", 0).remove("blocked_until");
    deps.table
        .write(vec![
            Op::update_if(user::credential_key(tenant, user.id), clear, Condition::Exists),
            audit::entry(tenant, actor, Action::Unblock, User::KIND, user.id, now),
        ])
        .await?;
    Ok(())
}

/// Revokes the session behind a token: the token stops working at once.
pub async fn logout(deps: &Deps, tenant: &Tenant, jti: &str) -> DomainResult<()> {
    deps.table.write(vec![Op::delete(token::session_key(tenant, jti))]).await?;
    Ok(())
}
