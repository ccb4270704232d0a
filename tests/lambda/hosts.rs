//! The two hosts side by side: the dev server (on DynamoDB Local) and the Lambdas (under the
//! emulator, on their own DynamoDB Local table, moto for S3 and the Management API), and how
//! their answers are compared.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use antrean_store::dynamodb::DynamoTable;
use base64::Engine;
use serde_json::Value;

use crate::emulator::{self, Emulator};
use crate::events::{self, Request};
use crate::helpers::{Store, TestApp, ADMIN_PASSWORD, PLATFORM_TOKEN};
use crate::template::{self, Route, Template};

pub const JWT_SECRET: &str = "lambda-events-secret-0123456789abcdef0123";

/// What a host answered.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    /// Lower-case names; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = String::from_utf8_lossy(&self.body);
        let cut: String = body.chars().take(600).collect();
        write!(f, "{} {:?} {cut}", self.status, self.headers)
    }
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {self:?}"))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub struct World {
    pub template: Template,
    pub routes: Vec<Route>,
    pub dev: TestApp,
    pub lambda: Emulator,
    /// The Lambdas' table, for what the test reads directly.
    pub deps: antrean_domain::Deps,
    http: reqwest::Client,
    pub moto: antrean_testkit::moto::Moto,
    /// The buckets standing in for FilesBucket and ReportBucket, on moto.
    pub files_bucket: String,
    pub reports_bucket: String,
}

impl World {
    /// Every function of the template under the emulator, and a dev server configured alike
    /// (the template's default CORS origin and rate limits, the same platform token).
    pub async fn start() -> World {
        Self::start_with(None).await
    }

    pub async fn start_with(only: Option<&[&str]>) -> World {
        let template = Template::load();
        let routes = template.routes();
        let moto = antrean_testkit::moto::moto("MOTO_ENDPOINT");
        let endpoint = antrean_testkit::dynamodb_endpoint().await;
        let table_name = crate::unique("lambda");
        let table = DynamoTable::connect(Some(&endpoint), &table_name).await;
        let yaml = std::fs::read_to_string(emulator::root().join("template.yaml")).unwrap();
        assert!(
            table
                .create_table_if_missing(&yaml)
                .await
                .expect("create the Lambdas' table"),
            "{table_name} existed"
        );
        let tokens = antrean_domain::auth::token::TokenKeys::new(
            JWT_SECRET.as_bytes(),
            chrono::Duration::minutes(60),
        )
        .unwrap();
        let deps = antrean_domain::Deps {
            table: Arc::new(table),
            clock: Arc::new(antrean_domain::SystemClock),
            tokens: Arc::new(tokens),
        };
        // What the dev server does on its first start, done once for the Lambdas' table (no
        // Lambda bootstraps a clinic): clinic `default`, its roles and statuses, `superadmin`.
        dev_server::bootstrap(&deps, Some(ADMIN_PASSWORD))
            .await
            .expect("bootstrap the Lambdas' table");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let (files, reports) = (crate::unique("files"), crate::unique("reports"));
        for bucket in [&files, &reports] {
            let r = http
                .put(format!("{}/{bucket}", moto.endpoint))
                .send()
                .await
                .expect("create a bucket on moto");
            assert!(
                r.status().is_success(),
                "create bucket {bucket}: {}",
                r.status()
            );
        }
        let stand_ins =
            emulator::stand_ins(&table_name, &files, &reports, &moto.endpoint, JWT_SECRET);
        let overrides = BTreeMap::from([("PlatformToken", PLATFORM_TOKEN.to_string())]);
        let all: Vec<&str> = template
            .functions
            .iter()
            .map(|f| f.binary.as_str())
            .collect();
        let binaries = only.unwrap_or(&all);
        let lambda = Emulator::start(&template, binaries, |binary| {
            let mut env = template.environment(binary, &stand_ins, &overrides);
            env.push(("DYNAMODB_ENDPOINT".into(), endpoint.clone()));
            env.push(("S3_ENDPOINT".into(), moto.endpoint.clone()));
            env
        })
        .await;
        let dev = TestApp::spawn_with(Store::DynamoDb, |c| {
            c.limits = antrean_api::rate_limit::Limits::default();
            c.cors_origins = antrean_api::cors::AllowedOrigins::parse(crate::CORS_ORIGIN).unwrap();
        })
        .await;
        World {
            template,
            routes,
            dev,
            lambda,
            deps,
            http,
            moto,
            files_bucket: files,
            reports_bucket: reports,
        }
    }

    /// The request to the dev server.
    pub async fn dev(&self, req: &Request) -> Answer {
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
        let mut r = self
            .http
            .request(method, format!("{}{}", self.dev.base, req.uri));
        for (k, v) in &req.headers {
            r = r.header(k, v);
        }
        if let Some(b) = &req.body {
            r = r.body(b.clone());
        }
        let res = r.send().await.expect("dev server request");
        let status = res.status().as_u16();
        let mut headers = BTreeMap::new();
        for (k, v) in res.headers() {
            let v = v.to_str().unwrap_or_default().to_string();
            headers
                .entry(k.as_str().to_string())
                .and_modify(|old: &mut String| *old = format!("{old}, {v}"))
                .or_insert(v);
        }
        Answer {
            status,
            headers,
            body: res.bytes().await.unwrap().to_vec(),
        }
    }

    /// The request through "API Gateway": the route the template gives it, that route's
    /// function, the v2 event; API Gateway's own 404 when no route matches.
    pub async fn lambda(&self, req: &Request) -> Answer {
        let Some((route, params)) = template::select(&self.routes, &req.method, req.path()) else {
            return gateway_not_found();
        };
        let binary = route.binary.clone();
        self.invoke_http(&binary, &events::http(req, route, &params))
            .await
    }

    pub async fn invoke_http(&self, binary: &str, event: &Value) -> Answer {
        answer_of(binary, &self.lambda.invoke(binary, event).await)
    }

    /// Both hosts, the same request (bearer tokens are each host's own: `auth` picks them).
    pub async fn both(&self, req: Request, auth: &Auth) -> (Answer, Answer) {
        let dev = self.dev(&req.clone().bearer(auth.dev.as_deref())).await;
        let lambda = self.lambda(&req.bearer(auth.lambda.as_deref())).await;
        (dev, lambda)
    }

    /// Both hosts, and their answers must match (see `same`).
    pub async fn same(&self, what: &str, req: Request, auth: &Auth) -> (Answer, Answer) {
        let (d, l) = self.both(req, auth).await;
        assert_same(what, &d, &l, &auth.secrets);
        (d, l)
    }
}

/// A function's proxy response (`statusCode`, `headers`, `multiValueHeaders`, `body`,
/// `isBase64Encoded`) as the client gets it from API Gateway.
pub fn answer_of(binary: &str, out: &Value) -> Answer {
    let status = out["statusCode"]
        .as_u64()
        .unwrap_or_else(|| panic!("{binary}: no statusCode in {out}")) as u16;
    let mut headers = BTreeMap::new();
    if let Some(h) = out["headers"].as_object() {
        for (k, v) in h {
            headers.insert(
                k.to_ascii_lowercase(),
                v.as_str().unwrap_or_default().to_string(),
            );
        }
    }
    if let Some(h) = out["multiValueHeaders"].as_object() {
        for (k, vs) in h {
            let joined = vs
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            headers.entry(k.to_ascii_lowercase()).or_insert(joined);
        }
    }
    let text = out["body"].as_str().unwrap_or_default();
    let body = if out["isBase64Encoded"].as_bool() == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64 body")
    } else {
        text.as_bytes().to_vec()
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// API Gateway's answer for a path no route matches (the function never sees it).
fn gateway_not_found() -> Answer {
    Answer {
        status: 404,
        headers: BTreeMap::from([("content-type".into(), "application/json".into())]),
        body: br#"{"message":"Not Found"}"#.to_vec(),
    }
}

/// Each host's bearer token, and the random values each host handed out (tokens, ticket codes),
/// which stand for each other in the comparison.
#[derive(Default, Clone)]
pub struct Auth {
    pub dev: Option<String>,
    pub lambda: Option<String>,
    pub secrets: Vec<(String, String)>,
}

impl Auth {
    pub fn none() -> Auth {
        Auth::default()
    }
    pub fn bearer(&self, dev: &str, lambda: &str) -> Auth {
        Auth {
            dev: Some(dev.into()),
            lambda: Some(lambda.into()),
            secrets: self.secrets.clone(),
        }
    }
    pub fn anonymous(&self) -> Auth {
        Auth {
            dev: None,
            lambda: None,
            secrets: self.secrets.clone(),
        }
    }
    /// Remembers that `dev` on the dev server is `lambda` on AWS (a token, a ticket code).
    pub fn learn(&mut self, dev: &str, lambda: &str) {
        self.secrets.push((dev.to_string(), lambda.to_string()));
    }
}

/// The headers a client acts on. `x-request-id` must be there on both (its value is random).
pub const HEADERS_THAT_MATTER: &[&str] = &[
    "content-type",
    "cache-control",
    "retry-after",
    "location",
    "content-disposition",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-max-age",
    "vary",
    "x-content-type-options",
    "server",
];

/// Same status, same headers that matter, same body once the values that differ by nature
/// are replaced: each host's base URL, the secrets each handed out, JWTs and clock times.
pub fn assert_same(what: &str, dev: &Answer, lambda: &Answer, secrets: &[(String, String)]) {
    assert_eq!(
        dev.status, lambda.status,
        "{what}: status\n dev:    {dev:?}\n lambda: {lambda:?}"
    );
    for h in HEADERS_THAT_MATTER {
        let norm = |v: Option<&str>| {
            v.map(|v| {
                v.split(',')
                    .map(|p| p.trim().to_ascii_lowercase())
                    .collect::<Vec<_>>()
                    .join(",")
            })
        };
        assert_eq!(
            norm(dev.header(h)),
            norm(lambda.header(h)),
            "{what}: header {h}\n dev:    {dev:?}\n lambda: {lambda:?}"
        );
    }
    assert!(
        dev.header("x-request-id").is_some() && lambda.header("x-request-id").is_some(),
        "{what}: x-request-id on both\n dev: {dev:?}\n lambda: {lambda:?}"
    );
    let is_json = dev
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"));
    if is_json {
        let d = normalise(&dev.json(), &Side::Dev, secrets);
        let l = normalise(&lambda.json(), &Side::Lambda, secrets);
        assert_eq!(d, l, "{what}: body\n dev:    {}\n lambda: {}", d, l);
    } else {
        assert_eq!(
            dev.body, lambda.body,
            "{what}: body\n dev:    {dev:?}\n lambda: {lambda:?}"
        );
    }
}

/// Fields holding the clinic's clock time of day (`HH:MM[:SS]`): when a number was handed
/// out or called, and the estimate from now.
const CLOCK_KEYS: &[&str] = &["re_reservation_time", "call_time", "estimated_time"];

pub enum Side {
    Dev,
    Lambda,
}

fn normalise(v: &Value, side: &Side, secrets: &[(String, String)]) -> Value {
    match v {
        Value::String(s) => Value::String(normalise_text(s, side, secrets)),
        Value::Array(a) => Value::Array(a.iter().map(|x| normalise(x, side, secrets)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    // Clock times of day, taken a moment apart on each host.
                    let x = if CLOCK_KEYS.contains(&k.as_str()) && x.is_string() {
                        Value::from("<clock>")
                    } else {
                        normalise(x, side, secrets)
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn normalise_text(s: &str, side: &Side, secrets: &[(String, String)]) -> String {
    let mut s = s.to_string();
    for (dev, lambda) in secrets {
        let mine = match side {
            Side::Dev => dev,
            Side::Lambda => lambda,
        };
        s = s.replace(mine.as_str(), "<secret>");
    }
    s = host_re().replace_all(&s, "<host>").into_owned();
    s = jwt_re().replace_all(&s, "<jwt>").into_owned();
    time_re().replace_all(&s, "<time>").into_owned()
}

fn host_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(&format!(
            r"(https?|wss?)://(127\.0\.0\.1:\d+|{})",
            regex::escape(events::DOMAIN)
        ))
        .unwrap()
    })
}
fn jwt_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+").unwrap()
    })
}
fn time_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
            .unwrap()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        let headers = BTreeMap::from([
            ("content-type".to_string(), "application/json".to_string()),
            ("x-request-id".to_string(), "r".to_string()),
        ]);
        Answer {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn what_differs_by_nature_is_the_same() {
        let dev = answer(
            200,
            r#"{"token":"eyJa.eyJb.sig1","url":"http://127.0.0.1:4321/board/ticket.html?code=default.AAA","at":"2026-12-03T11:58:54.8Z"}"#,
        );
        let aws = answer(
            200,
            r#"{"token":"eyJc.eyJd.sig2","url":"https://r4nd0m1d.execute-api.us-east-1.amazonaws.com/board/ticket.html?code=default.BBB","at":"2026-12-03T11:58:55.1Z"}"#,
        );
        assert_same(
            "equal",
            &dev,
            &aws,
            &[("default.AAA".into(), "default.BBB".into())],
        );
    }

    #[test]
    #[should_panic(expected = "body")]
    fn a_different_value_is_not() {
        assert_same(
            "values",
            &answer(200, r#"{"id":1,"name":"Poli Umum"}"#),
            &answer(200, r#"{"id":2,"name":"Poli Umum"}"#),
            &[],
        );
    }

    #[test]
    #[should_panic(expected = "header content-type")]
    fn a_different_header_is_not() {
        let mut aws = answer(200, "{}");
        aws.headers
            .insert("content-type".into(), "text/plain".into());
        assert_same("headers", &answer(200, "{}"), &aws, &[]);
    }

    #[test]
    #[should_panic(expected = "status")]
    fn a_different_status_is_not() {
        assert_same("status", &answer(200, "{}"), &answer(201, "{}"), &[]);
    }
}
