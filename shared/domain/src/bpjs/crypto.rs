//! BPJS's request signature and response encryption, and the sealing of a clinic's BPJS
//! credentials at rest.
//!
//! - Signature: `x-signature` = base64(HMAC-SHA256(key = secret, message = `cons_id&timestamp`)),
//!   `x-timestamp` in Unix seconds (UTC).
//! - An encrypted `response` is base64 of AES-256-CBC (PKCS#7) with key = SHA-256(`cons_id +
//!   secret + timestamp`) and IV = the first 16 bytes of that key; the plaintext is LZ-string
//!   `compressToEncodedURIComponent` of the JSON. The timestamp is the one the request was sent
//!   with. `encrypt_response` is what BPJS does (the fake BPJS of the tests answers with it).
//! - Credentials (`secret_key`, `user_key`) are kept sealed with AES-256-GCM under a key that
//!   never is in the store: `BPJS_CREDENTIALS_KEY` when set, else one derived from the
//!   deployment's token signing secret.
use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use aes_gcm::aead::{Aead, KeyInit};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// `x-signature` for `cons_id` at `timestamp` (Unix seconds, as sent in `x-timestamp`).
pub fn signature(cons_id: &str, secret: &str, timestamp: i64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{cons_id}&{timestamp}").as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// True when `given` is the signature BPJS expects (constant-time): what BPJS (and the fake) checks.
pub fn verify_signature(cons_id: &str, secret: &str, timestamp: i64, given: &str) -> bool {
    let Ok(sig) = B64.decode(given.trim()) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{cons_id}&{timestamp}").as_bytes());
    mac.verify_slice(&sig).is_ok()
}

fn response_key(cons_id: &str, secret: &str, timestamp: i64) -> ([u8; 32], [u8; 16]) {
    let key: [u8; 32] = Sha256::digest(format!("{cons_id}{secret}{timestamp}").as_bytes()).into();
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&key[..16]);
    (key, iv)
}

/// The JSON text of an encrypted `response`; `None` when it does not decrypt or decompress.
pub fn decrypt_response(cons_id: &str, secret: &str, timestamp: i64, payload: &str) -> Option<String> {
    let (key, iv) = response_key(cons_id, secret, timestamp);
    let bytes = B64.decode(payload.trim()).ok()?;
    let plain = Decryptor::new(&key.into(), &iv.into()).decrypt_padded_vec_mut::<Pkcs7>(&bytes).ok()?;
    let compressed = String::from_utf8(plain).ok()?;
    let wide = lz_str::decompress_from_encoded_uri_component(&compressed)?;
    String::from_utf16(&wide).ok()
}

/// What BPJS sends as an encrypted `response` for `json`.
pub fn encrypt_response(cons_id: &str, secret: &str, timestamp: i64, json: &str) -> String {
    let (key, iv) = response_key(cons_id, secret, timestamp);
    let compressed = lz_str::compress_to_encoded_uri_component(json);
    B64.encode(Encryptor::new(&key.into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(compressed.as_bytes()))
}

/// The key credentials are sealed with: `BPJS_CREDENTIALS_KEY` (any length, hashed to 32
/// bytes) when set, else derived from the deployment's `fallback` secret (the token key).
pub fn sealing_key(fallback: &[u8]) -> [u8; 32] {
    match std::env::var("BPJS_CREDENTIALS_KEY").ok().filter(|k| !k.trim().is_empty()) {
        Some(k) => Sha256::digest(k.trim().as_bytes()).into(),
        None => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(fallback).expect("HMAC takes keys of any length");
            mac.update(b"antrean bpjs credentials v1");
            mac.finalize().into_bytes().into()
        }
    }
}

const SEALED_PREFIX: &str = "v1:";

/// `v1:<base64(nonce ‖ AES-256-GCM ciphertext)>`.
pub fn seal(key: &[u8; 32], plain: &str) -> String {
    let cipher = aes_gcm::Aes256Gcm::new(key.into());
    let nonce: [u8; 12] = rand::random();
    let mut out = nonce.to_vec();
    out.extend(cipher.encrypt(&nonce.into(), plain.as_bytes()).expect("AES-GCM encrypts any length"));
    format!("{SEALED_PREFIX}{}", B64.encode(out))
}

/// The sealed value, or `None` when it was sealed under another key (or is damaged).
pub fn unseal(key: &[u8; 32], sealed: &str) -> Option<String> {
    let bytes = B64.decode(sealed.strip_prefix(SEALED_PREFIX)?).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, ct) = bytes.split_at(12);
    let cipher = aes_gcm::Aes256Gcm::new(key.into());
    String::from_utf8(cipher.decrypt(nonce.into(), ct).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_cons_id_and_timestamp() {
        // Computed independently: printf '1234&433223232' | openssl dgst -sha256 -hmac pwd -binary | base64
        assert_eq!(signature("1234", "pwd", 433223232), "eXMtvX2r7e7CLCIu3kpEpCrvciZgK8FuOhKv06NDAHk=");
        assert!(verify_signature("1234", "pwd", 433223232, &signature("1234", "pwd", 433223232)));
        assert!(!verify_signature("1234", "wrong", 433223232, &signature("1234", "pwd", 433223232)));
        assert!(!verify_signature("1234", "pwd", 433223233, &signature("1234", "pwd", 433223232)));
    }

    #[test]
    fn responses_decrypt_as_bpjs_encrypts_them() {
        let json = r#"[{"nmpoli":"ANAK","kdpoli":"ANA"},{"nmpoli":"Penyakit Dalam","kdpoli":"INT"}]"#;
        let sealed = encrypt_response("fake-cons", "fake-secret", 1_700_000_000, json);
        assert_eq!(decrypt_response("fake-cons", "fake-secret", 1_700_000_000, &sealed).as_deref(), Some(json));
        // Another timestamp is another key.
        assert_eq!(decrypt_response("fake-cons", "fake-secret", 1_700_000_001, &sealed), None);
        assert_eq!(decrypt_response("fake-cons", "fake-secret", 1_700_000_000, "not base64!"), None);
    }

    #[test]
    fn credentials_seal_and_unseal_only_under_their_key() {
        let k = sealing_key(b"a-long-token-secret-for-the-test-0123456789");
        let sealed = seal(&k, "fake-user-key");
        assert!(sealed.starts_with("v1:") && !sealed.contains("fake-user-key"));
        assert_ne!(sealed, seal(&k, "fake-user-key"), "a fresh nonce each time");
        assert_eq!(unseal(&k, &sealed).as_deref(), Some("fake-user-key"));
        assert_eq!(unseal(&[9u8; 32], &sealed), None);
    }
}
