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
}

impl TokenKeys {
    /// `secret` must be long and random (at least 32 bytes); the hosts refuse to start with less.
    pub fn new(secret: &[u8], lifetime: Duration) -> DomainResult<TokenKeys> {
        if secret.len() < 32 {
            return Err(DomainError::Internal("JWT secret must be at least 32 bytes".into()));
        }
        Ok(TokenKeys { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), lifetime })
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    const SECRET: &[u8] = b"a-test-secret-that-is-long-enough-0123456789";

    fn keys() -> TokenKeys {
        TokenKeys::new(SECRET, Duration::minutes(60)).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    /// A token with any header and claims, signed with HMAC-SHA256 over the same secret.
    fn forged(header: serde_json::Value, claims: serde_json::Value) -> String {
        use hmac::{Hmac, Mac};
        let head = URL_SAFE_NO_PAD.encode(header.to_string());
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET).unwrap();
        mac.update(format!("{head}.{body}").as_bytes());
        format!("{head}.{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    fn claims(exp: Option<i64>) -> serde_json::Value {
        let mut c = json!({"sub": "1", "clinic": "klinik", "jti": "abc", "iat": now().timestamp()});
        if let Some(exp) = exp {
            c["exp"] = json!(exp);
        }
        c
    }

    #[test]
    fn our_own_token_verifies() {
        let (token, issued) = keys().issue(&Tenant::parse("klinik").unwrap(), 7, &[2], now()).unwrap();
        assert_eq!(keys().verify(&token, now()).unwrap(), issued);
        // The same claims signed by hand verify too: the forgeries below differ in one thing only.
        let exp = now().timestamp() + 60;
        assert!(keys().verify(&forged(json!({"alg": "HS256", "typ": "JWT"}), claims(Some(exp))), now()).is_ok());
    }

    #[test]
    fn only_hs256_is_accepted() {
        let exp = now().timestamp() + 60;
        for alg in ["none", "None", "HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA"] {
            let token = forged(json!({"alg": alg, "typ": "JWT"}), claims(Some(exp)));
            assert!(matches!(keys().verify(&token, now()), Err(DomainError::Unauthenticated)), "alg {alg} accepted");
        }
        // `alg: none` with no signature at all.
        let unsigned = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(claims(Some(exp)).to_string()));
        assert!(keys().verify(&unsigned, now()).is_err());
    }

    #[test]
    fn exp_is_required_and_enforced() {
        let header = json!({"alg": "HS256", "typ": "JWT"});
        assert!(keys().verify(&forged(header.clone(), claims(None)), now()).is_err(), "a token without exp was accepted");
        assert!(keys().verify(&forged(header.clone(), claims(Some(now().timestamp()))), now()).is_err(), "expired at now");
        assert!(keys().verify(&forged(header, claims(Some(now().timestamp() - 3600))), now()).is_err(), "expired an hour ago");
    }

    #[test]
    fn another_secret_is_refused() {
        let other = TokenKeys::new(b"another-secret-that-is-long-enough-0123456789", Duration::minutes(60)).unwrap();
        let (token, _) = other.issue(&Tenant::parse("klinik").unwrap(), 7, &[], now()).unwrap();
        assert!(keys().verify(&token, now()).is_err());
    }
}
