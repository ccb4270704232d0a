//! Staff accounts. The user record holds nothing secret: the password hash and the lockout
//! counters live in a separate credential item, so no listing can ever leak them.
use antrean_store::{Item, Key, Op};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::auth::password;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{self, Record, Stored, Unique};
use crate::tenant::{id_key, Tenant};
use crate::{validate, Deps};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub email_verified_at: Option<String>,
    #[serde(default)]
    pub poly_id: Option<i64>,
    pub username: String,
    #[serde(default)]
    pub roles: Vec<i64>,
}

impl Record for User {
    const KIND: &'static str = "USER";
    const LABEL: &'static str = "User";
    fn unique(&self) -> Vec<Unique> {
        vec![Unique::new("username", &self.username), Unique::new("email", &self.email)]
    }
}

pub const MIN_PASSWORD: usize = 6;

/// What creating an account needs; the password is still plain here and hashed on the way in.
pub struct NewUser {
    pub user: User,
    pub password: String,
}

impl NewUser {
    /// A clinic's first admin: `{"name","username","email","password"}`, becomes Super Admin.
    pub fn parse_admin(errors: &mut FieldErrors, body: &Value, prefix: &str) -> Option<NewUser> {
        let mut local = FieldErrors::new();
        let name = validate::required_string(&mut local, body, "name", 255);
        let username = validate::required_string(&mut local, body, "username", 100);
        let email = validate::required_string(&mut local, body, "email", 255);
        if let Some(e) = &email {
            if !validate::is_email(e) {
                local.add("email", "The email field must be a valid email address.");
            }
        }
        let password = validate::required_string(&mut local, body, "password", 255);
        if let Some(p) = &password {
            if p.chars().count() < MIN_PASSWORD {
                local.add("password", format!("The password field must be at least {MIN_PASSWORD} characters."));
            }
        }
        let ok = local.is_empty();
        for (field, msgs) in local.0 {
            for m in msgs.as_array().into_iter().flatten() {
                let m = m.as_str().unwrap_or_default();
                errors.add(&format!("{prefix}{field}"), m.replace(&format!("The {} ", validate::human(&field)), &format!("The {prefix}{} ", validate::human(&field))));
            }
        }
        ok.then(|| NewUser {
            user: User {
                name: name.unwrap(),
                email: email.unwrap(),
                email_verified_at: None,
                poly_id: None,
                username: username.unwrap(),
                roles: vec![1],
            },
            password: password.unwrap(),
        })
    }
}

pub fn credential_key(tenant: &Tenant, user_id: i64) -> Key {
    Key::new(tenant.partition("CREDENTIAL"), id_key(user_id))
}

pub fn credential_item(tenant: &Tenant, user_id: i64, password_hash: &str) -> Item {
    let key = credential_key(tenant, user_id);
    json!({"pk": key.pk, "sk": key.sk, "password_hash": password_hash, "failed_attempts": 0})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// The clinic's first user (id 1, Super Admin), its guards, credential and counter.
pub fn seed_admin_ops(_deps: &Deps, tenant: &Tenant, admin: &NewUser, ts: &str) -> DomainResult<(Stored<User>, Vec<Op>)> {
    let hash = password::hash(&admin.password)?;
    let mut ops = record::seed_ops(tenant, vec![admin.user.clone()], ts)?;
    ops.push(Op::put_new(credential_item(tenant, 1, &hash)));
    let stored = Stored { id: 1, data: admin.user.clone(), created_at: ts.into(), updated_at: ts.into(), deleted_at: None };
    Ok((stored, ops))
}

/// A live user by id.
pub async fn find(deps: &Deps, tenant: &Tenant, id: i64) -> DomainResult<Stored<User>> {
    record::find::<User>(deps, tenant, id).await
}

/// A live user by username (case-insensitive), if any.
pub async fn find_by_username(deps: &Deps, tenant: &Tenant, username: &str) -> DomainResult<Option<Stored<User>>> {
    let Some(id) = record::find_by_unique::<User>(deps, tenant, "username", username).await? else { return Ok(None) };
    match record::get::<User>(deps, tenant, id).await? {
        Some(u) if !u.is_trashed() => Ok(Some(u)),
        _ => Ok(None),
    }
}

pub fn internal(e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(e.to_string())
}
