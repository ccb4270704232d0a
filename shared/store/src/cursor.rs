//! Opaque page cursors: the last key read, as base64url JSON. Clients never parse them.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{Map, Value};

use crate::StoreError;

pub(crate) fn encode(last_key: &Map<String, Value>) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(last_key).expect("a key map always serialises"))
}

pub(crate) fn decode(cursor: &str) -> Result<Map<String, Value>, StoreError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| StoreError::Invalid("malformed cursor".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| StoreError::Invalid("malformed cursor".into()))
}

/// A string attribute of a decoded cursor (the embedded store rebuilds its key from it).
#[cfg(feature = "embedded")]
pub(crate) fn string_at(map: &Map<String, Value>, attr: &str) -> Result<String, StoreError> {
    map.get(attr)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| StoreError::Invalid("malformed cursor".into()))
}
