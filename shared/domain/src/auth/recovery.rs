//! Password recovery by a one-time code sent to the account's WhatsApp number through the
//! clinic's WhatsApp config (n8n picks it up from the due list; see `reminders::outbox`). The
//! code is never in an answer or a log, lives 10 minutes, allows 5 tries, and a reset ends every
//! session of the account. Whether an account exists is never told: asking always answers the
//! same, and a reset for an unknown account fails like a wrong code.
//!
//! Keys: `T#<clinic>#PASSWORD_RESET` / `<user id, 12>` with the code's SHA-256, `tries_left`
//! and the TTL; a new request replaces it.
use antrean_store::{Condition, Item, Key, Op, StoreError, Update};
use chrono::Duration;
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::audit::{self, Action};
use crate::auth::login::user_actor;
use crate::auth::password;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::record::{record_key, Record, VERSION};
use crate::reminders::outbox::{self, Pending};
use crate::tenant::{id_key, Tenant};
use crate::user::{self, User};
use crate::Deps;

pub const CODE_MINUTES: i64 = 10;
pub const MAX_TRIES: i64 = 5;
const RESEND_AFTER_MS: i64 = 60_000;
pub const REQUESTED: &str =
    "If the account exists and has a WhatsApp number, a recovery code has been sent to it. The code is valid for 10 minutes.";
const INVALID: &str = "The code is invalid or has expired.";
const TOO_MANY: &str = "Too many wrong codes. Request a new code.";

fn key(tenant: &Tenant, user_id: i64) -> Key {
    Key::new(tenant.partition("PASSWORD_RESET"), id_key(user_id))
}

fn digest(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

/// Sends a code to the account's WhatsApp number, if there is such an account with a number.
pub async fn request(deps: &Deps, tenant: &Tenant, username: &str) -> DomainResult<()> {
    let Some(user) = user::find_by_username(deps, tenant, username).await? else { return Ok(()) };
    let Some(number) = user.data.whatsapp_number.clone() else { return Ok(()) };
    let now = deps.clock.now();
    // One message a minute per account at most: asking again and again cannot flood a phone.
    if let Some(current) = deps.table.get(&key(tenant, user.id)).await? {
        let made = current.get("created_ms").and_then(Value::as_i64).unwrap_or(0);
        if !antrean_store::is_expired(&current, now.timestamp()) && now.timestamp_millis() - made < RESEND_AFTER_MS {
            return Ok(());
        }
    }
    let code: String = {
        let mut rng = rand::rng();
        (0..6).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
    };
    let expires = (now + Duration::minutes(CODE_MINUTES)).timestamp();
    let clinic = crate::clinic::find(deps, tenant).await?.map(|c| c.name).unwrap_or_else(|| tenant.slug().to_string());
    let message = format!(
        "Kode pemulihan kata sandi {clinic}: {code}. Berlaku {CODE_MINUTES} menit. Jangan berikan kode ini kepada siapa pun, termasuk petugas klinik."
    );
    let k = key(tenant, user.id);
    let item: Item = json!({"pk": k.pk, "sk": k.sk, "code_sha256": digest(&code), "tries_left": MAX_TRIES, "created_ms": now.timestamp_millis(), antrean_store::TTL_ATTRIBUTE: expires})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let pending = Pending { user_id: user.id, name: user.data.name.clone(), whatsapp_number: number, message, claimed_until_ms: None };
    deps.table.write(vec![Op::put(item), outbox::put_op(tenant, &pending, expires)]).await?;
    Ok(())
}

/// `code`, `password`, `password_confirmation`: every problem at once.
pub struct ResetForm {
    pub code: String,
    pub password: String,
}

impl ResetForm {
    pub fn parse(body: &Value) -> DomainResult<ResetForm> {
        let mut errors = FieldErrors::new();
        let code = match body.get("code") {
            Some(Value::String(s)) if s.trim().len() == 6 && s.trim().bytes().all(|b| b.is_ascii_digit()) => Some(s.trim().to_string()),
            Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n < 1_000_000) => Some(format!("{:06}", n.as_u64().unwrap_or_default())),
            None | Some(Value::Null) => {
                errors.add("code", "The code field is required.");
                None
            }
            Some(_) => {
                errors.add("code", "The code field must be the 6 digits sent by WhatsApp.");
                None
            }
        };
        let password = user::password_rule(&mut errors, body, true);
        errors.into_result()?;
        Ok(ResetForm { code: code.unwrap_or_default(), password: password.unwrap_or_default() })
    }
}

fn invalid(message: &str) -> DomainError {
    FieldErrors::single("code", message)
}

/// Checks the code and sets the new password; every session of the account ends, a lock is
/// lifted, and the reset is audited, all in one write.
pub async fn reset(deps: &Deps, tenant: &Tenant, username: &str, form: &ResetForm) -> DomainResult<()> {
    let now = deps.clock.now();
    let Some(user) = user::find_by_username(deps, tenant, username).await? else {
        let _ = password::verify(password::decoy_hash(), &form.password);
        return Err(invalid(INVALID));
    };
    let k = key(tenant, user.id);
    let Some(item) = deps.table.get(&k).await?.filter(|i| !antrean_store::is_expired(i, now.timestamp())) else {
        return Err(invalid(INVALID));
    };
    let stored = item.get("code_sha256").and_then(Value::as_str).unwrap_or_default().to_string();
    let tries = item.get("tries_left").and_then(Value::as_i64).unwrap_or(0);
    if tries <= 0 {
        return Err(invalid(TOO_MANY));
    }
    if !bool::from(digest(&form.code).as_bytes().ct_eq(stored.as_bytes())) {
        // One try fewer, counted on the value read: two wrong guesses at once cannot both pass
        // for the last try. The last wrong one ends the code.
        let still = Condition::equals("tries_left", tries);
        let op = if tries <= 1 { Op::delete_if(k, still) } else { Op::update_if(k, Update::new().add("tries_left", -1), still) };
        return match deps.table.write(vec![op]).await {
            Ok(()) if tries <= 1 => Err(invalid(TOO_MANY)),
            Ok(()) => Err(FieldErrors::single("code", format!("{INVALID} {} tries left.", tries - 1))),
            Err(StoreError::ConditionFailed { .. }) => Err(invalid(INVALID)),
            Err(e) => Err(e.into()),
        };
    }
    let new_password = form.password.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&new_password)).await.map_err(|e| DomainError::Internal(e.to_string()))??;
    let credential = Update::new().set("password_hash", hash).set("failed_attempts", 0).remove("blocked_until");
    let revoke = Update::new().set("sessions_revoked_ms", now.timestamp_millis()).add(VERSION, 1);
    let ops = vec![
        // The code is used once: the write stands only while it is the one checked.
        Op::delete_if(k, Condition::equals("code_sha256", stored)),
        Op::update_if(user::credential_key(tenant, user.id), credential, Condition::Exists),
        Op::update_if(record_key::<User>(tenant, user.id), revoke, Condition::Exists),
        outbox::delete_op(tenant, user.id),
        audit::entry(tenant, &user_actor(&user), Action::PasswordReset, User::KIND, user.id, now),
    ];
    match deps.table.write(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(invalid(INVALID)),
        Err(e) => Err(e.into()),
    }
}
