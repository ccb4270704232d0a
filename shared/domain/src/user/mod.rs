//! Staff accounts. The user record holds nothing secret: the password hash and the lockout
//! counters live in a separate credential item, so no listing can ever leak them. The
//! credential is written in the same atomic write as the account (create, password change).
use std::collections::{HashMap, HashSet};

use antrean_store::{Item, Key, Op, Update};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::audit::Actor;
use crate::auth::password;
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::poly::Poly;
use crate::record::{self, Record, Requirement, Stored, Unique};
use crate::role::Role;
use crate::tenant::{id_key, Tenant};
use crate::bpjs::codes::{self, Change};
use crate::webhook::WebhookSender;
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
    /// When each role was given (the seed's `pivot` timestamps). A role missing here was given
    /// when the account was created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_since: Vec<RoleSince>,
    /// Where a password-recovery code goes (international form), if the account has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_number: Option<String>,
    /// Sessions opened before this moment (ms) no longer count: set by a password reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_revoked_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RoleSince {
    pub role_id: i64,
    pub at: String,
}

impl Stored<User> {
    /// When the user got the role: the seed's `pivot.created_at` / `pivot.updated_at`.
    pub fn role_given_at(&self, role_id: i64) -> String {
        self.data
            .role_since
            .iter()
            .find(|r| r.role_id == role_id)
            .map(|r| r.at.clone())
            .unwrap_or_else(|| self.created_at.clone())
    }

    /// Case-insensitive part of the name, username or email.
    pub fn matches(&self, needle: &str) -> bool {
        [&self.data.name, &self.data.username, &self.data.email].iter().any(|f| f.to_lowercase().contains(needle))
    }
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
                role_since: vec![],
                whatsapp_number: None,
                sessions_revoked_ms: None,
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

/// The most roles one account may hold (keeps the atomic write far below its op limit).
pub const MAX_ROLES: usize = 20;

/// A valid user create/update form (seed "User Create" / "User Update").
#[derive(Debug, Clone, PartialEq)]
pub struct UserForm {
    pub name: String,
    pub username: String,
    pub email: String,
    /// Plain; hashed on the way in. `None` on update: the password stays.
    pub password: Option<String>,
    /// Existing live role ids, duplicates dropped, in the order given.
    pub roles: Vec<i64>,
    pub poly_id: Option<i64>,
    /// Optional, international form.
    pub whatsapp_number: Option<String>,
}

/// What the form's rules need to know about the clinic, read before judging it. The same
/// facts are checked again inside the write (guards and requirements), so a race cannot
/// slip past them; reading them first lets one answer name every problem at once.
#[derive(Debug, Clone, Default)]
pub struct FormFacts {
    pub username_taken: bool,
    pub email_taken: bool,
    pub live_roles: HashSet<i64>,
    pub poly_live: bool,
}

impl FormFacts {
    /// `editing`: the user being updated, whose own username and email are not "taken".
    pub async fn gather(deps: &Deps, tenant: &Tenant, body: &Value, editing: Option<i64>) -> DomainResult<FormFacts> {
        let taken = |field: &'static str| async move {
            let Some(value) = body.get(field).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty()) else {
                return Ok::<bool, DomainError>(false);
            };
            Ok(record::find_by_unique::<User>(deps, tenant, field, value).await?.is_some_and(|id| Some(id) != editing))
        };
        let username_taken = taken("username").await?;
        let email_taken = taken("email").await?;
        let live_roles = if body.get("roles").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            record::list::<Role>(deps, tenant, false).await?.into_iter().map(|r| r.id).collect()
        } else {
            HashSet::new()
        };
        let poly_live = match body.get("poly_id").and_then(validate::as_id) {
            Some(id) => record::get::<Poly>(deps, tenant, id).await?.is_some_and(|p| !p.is_trashed()),
            None => false,
        };
        Ok(FormFacts { username_taken, email_taken, live_roles, poly_live })
    }
}

impl UserForm {
    /// The seed's rules, every problem at once, fields in the seed's order. On create the
    /// password is required; on update an absent or empty password keeps the old one.
    pub fn parse(body: &Value, facts: &FormFacts, password_required: bool) -> DomainResult<UserForm> {
        let mut errors = FieldErrors::new();
        let name = validate::required_string(&mut errors, body, "name", 255);
        let username = validate::required_string(&mut errors, body, "username", 100);
        if username.is_some() && facts.username_taken {
            errors.add("username", "The username has already been taken.");
        }
        let email = validate::required_string(&mut errors, body, "email", 255).filter(|e| {
            let ok = validate::is_email(e);
            if !ok {
                errors.add("email", "The email field must be a valid email address.");
            }
            ok
        });
        if email.is_some() && facts.email_taken {
            errors.add("email", "The email has already been taken.");
        }
        let password = password_rule(&mut errors, body, password_required);
        let roles = roles_rule(&mut errors, body, &facts.live_roles);
        let poly_id = match validate::optional_id(&mut errors, body, "poly_id") {
            Some(Some(_)) if !facts.poly_live => {
                errors.add("poly_id", "The selected poly id is invalid.");
                None
            }
            Some(p) => p,
            None => None,
        };
        // Optional: where a forgotten password's code is sent.
        let whatsapp_number = match body.get("whatsapp_number") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => {
                let n = crate::patient::normalize_whatsapp(s);
                if n.is_none() {
                    errors.add("whatsapp_number", "The whatsapp number field must be a valid Indonesian mobile number, e.g. 081234567890.");
                }
                n
            }
            Some(_) => {
                errors.add("whatsapp_number", "The whatsapp number field must be a string.");
                None
            }
        };
        errors.into_result()?;
        Ok(UserForm { name: name.unwrap(), username: username.unwrap(), email: email.unwrap(), password, roles, poly_id, whatsapp_number })
    }
}

/// `password` (not trimmed: spaces are part of it), at least 6 characters, `confirmed`.
pub(crate) fn password_rule(errors: &mut FieldErrors, body: &Value, required: bool) -> Option<String> {
    let given = match body.get("password") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.add("password", "The password field must be a string.");
            return None;
        }
    };
    let Some(p) = given else {
        if required {
            errors.add("password", "The password field is required.");
        }
        return None;
    };
    let len = p.chars().count();
    if len < MIN_PASSWORD {
        errors.add("password", format!("The password field must be at least {MIN_PASSWORD} characters."));
    }
    if len > 255 {
        errors.add("password", "The password field must not be greater than 255 characters.");
    }
    if body.get("password_confirmation").and_then(Value::as_str) != Some(p.as_str()) {
        errors.add("password", "The password field confirmation does not match.");
    }
    (!errors.has("password")).then_some(p)
}

/// `roles`: a non-empty array of live role ids; a bad entry is named by its index.
fn roles_rule(errors: &mut FieldErrors, body: &Value, live: &HashSet<i64>) -> Vec<i64> {
    let list = match body.get("roles") {
        None | Some(Value::Null) => {
            errors.add("roles", "The roles field is required.");
            return vec![];
        }
        Some(Value::Array(a)) if a.is_empty() => {
            errors.add("roles", "The roles field is required.");
            return vec![];
        }
        Some(Value::Array(a)) if a.len() > MAX_ROLES => {
            errors.add("roles", format!("The roles field must not have more than {MAX_ROLES} items."));
            return vec![];
        }
        Some(Value::Array(a)) => a,
        Some(_) => {
            errors.add("roles", "The roles field must be an array.");
            return vec![];
        }
    };
    let mut roles = Vec::new();
    for (i, v) in list.iter().enumerate() {
        match validate::as_id(v) {
            Some(id) if live.contains(&id) => {
                if !roles.contains(&id) {
                    roles.push(id);
                }
            }
            _ => errors.add(&format!("roles.{i}"), format!("The selected roles.{i} is invalid.")),
        }
    }
    roles
}

async fn hash_off_thread(plain: String) -> DomainResult<String> {
    tokio::task::spawn_blocking(move || password::hash(&plain)).await.map_err(internal)?
}

/// The roles and poly must still be live when the write lands, not just when we read them.
fn references(tenant: &Tenant, roles: &[i64], poly_id: Option<i64>) -> Vec<Requirement> {
    let mut reqs: Vec<Requirement> = roles
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let field = format!("roles.{i}");
            record::must_be_live::<Role>(tenant, *id, FieldErrors::single(&field, format!("The selected roles.{i} is invalid.")))
        })
        .collect();
    if let Some(id) = poly_id {
        reqs.push(record::must_be_live::<Poly>(tenant, id, FieldErrors::single("poly_id", "The selected poly id is invalid.")));
    }
    reqs
}

/// An op that cannot fail, carried as a requirement so it lands in the record's own write.
fn riding(op: Op) -> Requirement {
    Requirement { op, error: DomainError::Internal("an unconditional operation failed".into()) }
}

/// Creates an account and its credential in one atomic write.
/// `kodedokter` (optional, BPJS's code of a doctor) is checked against BPJS's `ref/dokter`
/// when the clinic has BPJS configured, and kept beside the account (`bpjs::codes`).
pub async fn create(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Stored<User>> {
    let facts = FormFacts::gather(deps, tenant, body, None).await?;
    let form = UserForm::parse(body, &facts, true)?;
    let kodedokter = codes::parse_kodedokter(body)?;
    codes::check_doctor(deps, sender, tenant, &kodedokter, "kodedokter").await?;
    let hash = hash_off_thread(form.password.clone().unwrap_or_default()).await?;
    let user = User {
        name: form.name,
        email: form.email,
        email_verified_at: None,
        poly_id: form.poly_id,
        username: form.username,
        roles: form.roles.clone(),
        role_since: vec![],
        whatsapp_number: form.whatsapp_number.clone(),
        sessions_revoked_ms: None,
    };
    let name = user.name.clone();
    record::create(deps, tenant, actor, user, |id| {
        let mut reqs = references(tenant, &form.roles, form.poly_id);
        reqs.push(riding(Op::put(credential_item(tenant, id, &hash))));
        reqs.extend(codes::doctor_requirement(tenant, id, &name, &kodedokter, None));
        reqs
    })
    .await
}

/// Replaces an account's fields; a new password rewrites the credential in the same write
/// (and clears any lockout). Unknown or trashed ids are "User not found" before the body is judged.
pub async fn update(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Stored<User>> {
    find(deps, tenant, id).await?;
    let facts = FormFacts::gather(deps, tenant, body, Some(id)).await?;
    let form = UserForm::parse(body, &facts, false)?;
    let kodedokter = codes::parse_kodedokter(body)?;
    let current_code = codes::read(deps, tenant).await?.doctors.remove(&id);
    if current_code.as_ref().map(|c| Change::Set(c.kodedokter)) != Some(kodedokter.clone()) {
        codes::check_doctor(deps, sender, tenant, &kodedokter, "kodedokter").await?;
    }
    let hash = match &form.password {
        Some(p) => Some(hash_off_thread(p.clone()).await?),
        None => None,
    };
    let now = stamp(deps.clock.now());
    record::update::<User>(deps, tenant, actor, id, |current| {
        // Like Laravel's `sync`: a role kept keeps its pivot time; a new one gets now.
        let role_since = form
            .roles
            .iter()
            .map(|r| RoleSince {
                role_id: *r,
                at: if current.data.roles.contains(r) { current.role_given_at(*r) } else { now.clone() },
            })
            .collect();
        let same_email = current.data.email.to_lowercase() == form.email.to_lowercase();
        let data = User {
            name: form.name.clone(),
            email: form.email.clone(),
            email_verified_at: if same_email { current.data.email_verified_at.clone() } else { None },
            poly_id: form.poly_id,
            username: form.username.clone(),
            roles: form.roles.clone(),
            role_since,
            whatsapp_number: form.whatsapp_number.clone(),
            sessions_revoked_ms: current.data.sessions_revoked_ms,
        };
        let mut reqs = references(tenant, &form.roles, form.poly_id);
        reqs.extend(codes::doctor_requirement(tenant, id, &form.name, &kodedokter, current_code.as_ref()));
        if let Some(h) = &hash {
            let change = Update::new().set("password_hash", h.as_str()).set("failed_attempts", 0).remove("blocked_until");
            reqs.push(riding(Op::update(credential_key(tenant, id), change)));
        }
        Ok((data, reqs))
    })
    .await
}

/// Soft delete: the account can no longer log in and its tokens stop working (both check
/// for a live user). Deleting one's own account is refused: it would lock the caller out.
pub async fn trash(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    if actor.user_id == Some(id) {
        return Err(DomainError::Conflict("You cannot delete your own account.".into()));
    }
    record::trash::<User>(deps, tenant, actor, id, vec![]).await
}

/// Live (or trashed) accounts matching `search` (name, username, email), by id.
pub async fn list(deps: &Deps, tenant: &Tenant, trashed: bool, search: Option<&str>) -> DomainResult<Vec<Stored<User>>> {
    let needle = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let mut users: Vec<Stored<User>> = record::list::<User>(deps, tenant, trashed)
        .await?
        .into_iter()
        .filter(|u| needle.as_deref().is_none_or(|n| u.matches(n)))
        .collect();
    users.sort_by_key(|u| u.id);
    Ok(users)
}

/// A user with what the seed nests in every user view: its live roles (with the time each
/// was given) and its poly (`None` when unset or trashed).
#[derive(Debug, Clone)]
pub struct UserWithRelations {
    pub user: Stored<User>,
    pub roles: Vec<(Stored<Role>, String)>,
    pub poly: Option<Stored<Poly>>,
    /// BPJS's code of the doctor, if the clinic gave one (`bpjs::codes`).
    pub kodedokter: Option<i64>,
}

/// Loads the relations of several users with two partition reads.
pub async fn with_relations(deps: &Deps, tenant: &Tenant, users: Vec<Stored<User>>) -> DomainResult<Vec<UserWithRelations>> {
    if users.is_empty() {
        return Ok(vec![]);
    }
    let roles: HashMap<i64, Stored<Role>> = record::list::<Role>(deps, tenant, false).await?.into_iter().map(|r| (r.id, r)).collect();
    let polies: HashMap<i64, Stored<Poly>> = if users.iter().any(|u| u.data.poly_id.is_some()) {
        record::list::<Poly>(deps, tenant, false).await?.into_iter().map(|p| (p.id, p)).collect()
    } else {
        HashMap::new()
    };
    let codes = codes::read(deps, tenant).await?.doctors;
    Ok(users
        .into_iter()
        .map(|user| {
            let roles = user.data.roles.iter().filter_map(|id| roles.get(id).map(|r| (r.clone(), user.role_given_at(*id)))).collect();
            let poly = user.data.poly_id.and_then(|id| polies.get(&id).cloned());
            let kodedokter = codes.get(&user.id).map(|c| c.kodedokter);
            UserWithRelations { user, roles, poly, kodedokter }
        })
        .collect())
}

/// One user with its relations.
pub async fn with_relations_one(deps: &Deps, tenant: &Tenant, user: Stored<User>) -> DomainResult<UserWithRelations> {
    let mut all = with_relations(deps, tenant, vec![user]).await?;
    all.pop().ok_or_else(|| internal("a user went missing"))
}

#[cfg(test)]
mod tests;
