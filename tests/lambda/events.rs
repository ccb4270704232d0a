//! Events as AWS sends them: API Gateway HTTP API payload format 2.0, WebSocket API proxy
//! events and EventBridge scheduled events, in the shapes of the AWS documentation
//! ("Working with AWS Lambda proxy integrations for HTTP APIs", "Setting up WebSocket API
//! integrations", "Amazon EventBridge scheduled events"): header names lower case, the Cookie
//! header moved to `cookies`, repeated query parameters joined with commas, a binary body
//! base64-encoded with `isBase64Encoded`.
use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::template::Route;

pub const API_ID: &str = "r4nd0m1d";
pub const DOMAIN: &str = "r4nd0m1d.execute-api.us-east-1.amazonaws.com";

/// One HTTP request, as a client sends it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query, e.g. `/api/poly?page=1`.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Send the body base64-encoded (API Gateway does so for a body it takes for binary).
    pub base64: bool,
    pub source_ip: String,
}

impl Request {
    pub fn new(method: &str, uri: &str) -> Request {
        Request {
            method: method.into(),
            uri: uri.into(),
            headers: Vec::new(),
            body: None,
            base64: false,
            source_ip: "203.0.113.10".into(),
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn bearer(self, token: Option<&str>) -> Request {
        match token {
            Some(t) => self.header("authorization", &format!("Bearer {t}")),
            None => self,
        }
    }
    pub fn json(self, body: &Value) -> Request {
        let mut r = self.header("content-type", "application/json");
        r.body = Some(serde_json::to_vec(body).unwrap());
        r
    }
    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Request {
        self = self.header("content-type", content_type);
        self.body = Some(body);
        self
    }
    pub fn base64(mut self) -> Request {
        self.base64 = true;
        self
    }
    pub fn from(mut self, ip: &str) -> Request {
        self.source_ip = ip.into();
        self
    }
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap()
    }
    pub fn query(&self) -> &str {
        self.uri.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
}

fn time_fields() -> (String, i64) {
    let now = chrono::Utc::now();
    (
        now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
        now.timestamp_millis(),
    )
}

fn request_id() -> String {
    format!("{:016x}=", rand::random::<u64>())
}

/// The HTTP API event for `req` on `route` (payload format 2.0), with the path parameters the
/// route captured.
pub fn http(req: &Request, route: &Route, path_parameters: &BTreeMap<String, String>) -> Value {
    let (time, epoch) = time_fields();
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &req.headers {
        let name = name.to_ascii_lowercase();
        if name == "cookie" {
            cookies.extend(value.split("; ").map(|c| Value::from(c.trim())));
            continue;
        }
        let joined = match headers.get(&name) {
            Some(Value::String(v)) => format!("{v},{value}"),
            _ => value.clone(),
        };
        headers.insert(name, Value::from(joined));
    }
    headers.insert("host".into(), DOMAIN.into());
    headers.insert("x-forwarded-for".into(), req.source_ip.clone().into());
    headers.insert("x-forwarded-port".into(), "443".into());
    headers.insert("x-forwarded-proto".into(), "https".into());
    headers.insert(
        "x-amzn-trace-id".into(),
        format!("Root=1-{:08x}-{:024x}", epoch / 1000, rand::random::<u64>()).into(),
    );
    headers.entry("user-agent").or_insert("curl/8.5.0".into());
    let body = req.body.as_ref().map(|b| {
        headers.insert("content-length".into(), b.len().to_string().into());
        if req.base64 {
            base64::engine::general_purpose::STANDARD.encode(b)
        } else {
            String::from_utf8(b.clone()).expect("a text body (use .base64() for bytes)")
        }
    });
    let mut query = Map::new();
    for pair in req.query().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = urldecode(v);
        let joined = match query.get(k) {
            Some(Value::String(old)) => format!("{old},{v}"),
            _ => v,
        };
        query.insert(urldecode(k), joined.into());
    }
    let route_key = format!("{} {}", route.method, route.path);
    let user_agent = headers["user-agent"].clone();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": req.path(),
        "rawQueryString": req.query(),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": DOMAIN,
            "domainPrefix": API_ID,
            "http": {"method": req.method, "path": req.path(), "protocol": "HTTP/1.1", "sourceIp": req.source_ip, "userAgent": user_agent},
            "requestId": request_id(),
            "routeKey": route_key,
            "stage": "$default",
            "time": time,
            "timeEpoch": epoch
        },
        "isBase64Encoded": req.base64
    });
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = json!(path_parameters);
    }
    if let Some(b) = body {
        event["body"] = Value::from(b);
    }
    event
}

fn urldecode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                16,
            ) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A WebSocket API event: `$connect` (with the query string of the socket URL), `$default`
/// (with the message), `$disconnect`.
pub fn websocket(
    route_key: &str,
    connection_id: &str,
    query: &[(&str, &str)],
    body: Option<&Value>,
) -> Value {
    let (time, epoch) = time_fields();
    let event_type = match route_key {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    };
    let mut context = json!({
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id(),
        "requestTime": time,
        "messageDirection": "IN",
        "stage": "live",
        "connectedAt": epoch - 1000,
        "requestTimeEpoch": epoch,
        "identity": {"sourceIp": "203.0.113.20", "userAgent": "Mozilla/5.0 (board)"},
        "requestId": request_id(),
        "domainName": "w5ck3t1d.execute-api.us-east-1.amazonaws.com",
        "connectionId": connection_id,
        "apiId": "w5ck3t1d"
    });
    if event_type == "MESSAGE" {
        context["messageId"] = Value::from(format!("{:x}", rand::random::<u32>()));
    }
    if event_type == "DISCONNECT" {
        context["disconnectStatusCode"] = Value::from(1001);
        context["disconnectReason"] = Value::from("Going away");
    }
    let mut event = json!({ "requestContext": context, "isBase64Encoded": false });
    if event_type == "CONNECT" {
        event["headers"] = json!({"Host": "w5ck3t1d.execute-api.us-east-1.amazonaws.com", "Sec-WebSocket-Version": "13", "X-Forwarded-Proto": "https"});
        if !query.is_empty() {
            event["queryStringParameters"] = Value::Object(
                query
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::from(*v)))
                    .collect(),
            );
        }
    }
    if let Some(b) = body {
        event["body"] = Value::from(b.to_string());
    }
    event
}

/// An EventBridge scheduled event (`rate(1 minute)`, `rate(15 minutes)`).
pub fn scheduled(rule: &str) -> Value {
    json!({
        "version": "0",
        "id": format!("{:08x}-0000-4000-8000-{:012x}", rand::random::<u32>(), rand::random::<u64>() >> 16),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": "us-east-1",
        "resources": [format!("arn:aws:events:us-east-1:123456789012:rule/{rule}")],
        "detail": {}
    })
}
