//! Sign-in tokens: an HS256 JWT naming the clinic, the user and a token id (`jti`). The
//! signature proves we issued it; a session item per `jti` lets logout revoke it at once.
use antrean_store::{Item, Key, Op};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{DomainError, DomainResult};
use crate::tenant::Tenant;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The clinic's slug.
    pub clinic: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's role ids at sign-in: only a hint of which role items to read along with the
    /// session and the user. The live user's roles decide; a changed role list costs one read more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<i64>,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub lifetime: Duration,
    /// The key the clinic's BPJS credentials are sealed with (`bpjs::crypto::sealing_key`).
    sealing: [u8; 32],
}

impl TokenKeys {
    /// `secret` must be long and random (at least 32 bytes); the hosts refuse to start with less.
    pub fn new(secret: &[u8], lifetime: Duration) -> DomainResult<TokenKeys> {
        if secret.len() < 32 {
            return Err(DomainError::Internal("JWT secret must be at least 32 bytes".into()));
        }
        let sealing = crate::bpjs::crypto::sealing_key(secret);
        Ok(TokenKeys { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), lifetime, sealing })
    }

    /// The key stored credentials (BPJS) are sealed with; never the signing secret itself.
    pub fn sealing_key(&self) -> &[u8; 32] {
        &self.sealing
    }

    pub fn issue(&self, tenant: &Tenant, user_id: i64, roles: &[i64], now: DateTime<Utc>) -> DomainResult<(String, Claims)> {
        let claims = Claims {
            sub: user_id.to_string(),
            clinic: tenant.slug().to_string(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iat: now.timestamp(),
            exp: (now + self.lifetime).timestamp(),
            roles: roles.to_vec(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| DomainError::Internal(format!("signing failed: {e}")))?;
        Ok((token, claims))
    }

    /// Checks signature, algorithm and expiry against `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> DomainResult<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        // We check expiry ourselves against the injected clock.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "sub"].iter().map(|s| s.to_string()).collect();
        let data = decode::<Claims>(token, &self.decoding, &validation).map_err(|_| DomainError::Unauthenticated)?;
        if data.claims.exp <= now.timestamp() {
            return Err(DomainError::Unauthenticated);
        }
        Ok(data.claims)
    }
}

pub fn session_key(tenant: &Tenant, jti: &str) -> Key {
    Key::new(tenant.partition("SESSION"), jti)
}

/// The session item written at login; its TTL is the token's expiry. `issued_ms` lets a
/// password reset end every session opened before it.
pub fn session_put(tenant: &Tenant, claims: &Claims, issued_ms: i64) -> Op {
    let key = session_key(tenant, &claims.jti);
    let item: Item = json!({"pk": key.pk, "sk": key.sk, "user_id": claims.sub, "expires_at": claims.exp, "issued_ms": issued_ms})
        .as_object()
        .cloned()
        .unwrap_or_default();
    Op::put_new(item)
}
