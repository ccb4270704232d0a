//! JSON values to DynamoDB attribute values and back.
use super::*;

pub fn to_attribute(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(to_attribute).collect()),
        Value::Object(m) => AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect()),
    }
}

pub(super) fn number(n: &str) -> Value {
    n.parse::<i64>()
        .map(Value::from)
        .ok()
        .or_else(|| n.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number))
        .unwrap_or(Value::Null)
}

pub fn from_attribute(av: &AttributeValue) -> Value {
    match av {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attribute).collect()),
        AttributeValue::M(m) => Value::Object(sorted(m)),
        AttributeValue::Ss(ss) => Value::Array(ss.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(ns) => Value::Array(ns.iter().map(|n| number(n)).collect()),
        _ => Value::Null,
    }
}

/// DynamoDB hands attributes back in no particular order; sort them so items read the same twice.
pub(super) fn sorted(m: &HashMap<String, AttributeValue>) -> Map<String, Value> {
    let mut keys: Vec<_> = m.keys().collect();
    keys.sort();
    keys.into_iter().map(|k| (k.clone(), from_attribute(&m[k]))).collect()
}

pub(super) fn to_item(m: &HashMap<String, AttributeValue>) -> Item {
    sorted(m)
}

pub(super) fn key_map(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), AttributeValue::S(key.pk.clone())), ("sk".to_string(), AttributeValue::S(key.sk.clone()))])
}
