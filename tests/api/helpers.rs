//! The test harness: a real dev server per test, a client, and the seed's users.
#![allow(dead_code)]
use std::time::Duration;

use dev_server::{Config, StoreChoice};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const ADMIN_PASSWORD: &str = "rahasia-admin-123";
pub const PLATFORM_TOKEN: &str = "platform-token-for-tests-0123456789";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Store {
    Embedded,
    DynamoDb,
}

/// Runs each named test function once per store.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name($crate::helpers::Store::Embedded).await })*
        }
        mod dynamodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name($crate::helpers::Store::DynamoDb).await })*
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub config: Config,
    /// The embedded store's folder; kept until the test ends.
    pub data_dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

async fn dynamodb_endpoint() -> String {
    match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(e) if !e.is_empty() => e,
        _ => antrean_testkit::dynamodb_endpoint().await,
    }
}

impl TestApp {
    pub async fn spawn(store: Store) -> TestApp {
        Self::spawn_with(store, |_| {}).await
    }

    /// Starts a server; `tune` may change the configuration first.
    pub async fn spawn_with(store: Store, tune: impl FnOnce(&mut Config)) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let store_choice = match store {
            Store::Embedded => StoreChoice::Embedded { data_dir: data_dir.path().to_path_buf() },
            Store::DynamoDb => StoreChoice::DynamoDb {
                endpoint: Some(dynamodb_endpoint().await),
                table: format!("t{}", uuid_like()),
            },
        };
        let mut config = Config {
            bind: "127.0.0.1".into(),
            port: 0,
            store: store_choice,
            jwt_secret: Some("test-secret-that-is-long-enough-0123456789abcdef".into()),
            token_ttl_minutes: 60,
            platform_token: Some(PLATFORM_TOKEN.into()),
            bootstrap_admin_password: Some(ADMIN_PASSWORD.into()),
            cors_origins: Default::default(),
            base_domain: None,
            // Tests log in often from one address; tests/api/edge.rs sets low limits itself.
            limits: antrean_api::rate_limit::Limits::off(),
            // DynamoDB Local on a busy 2-core machine can take seconds per call under 200
            // concurrent requests; a 2 s attempt would be abandoned and retried as if DynamoDB
            // had lost it. These tests are not about that: tests/api/faults.rs sets its own.
            dynamodb_retries: antrean_store::dynamodb::Retries { attempt_timeout: Duration::from_secs(10), ..Default::default() },
        };
        tune(&mut config);
        Self::start(store, config, data_dir).await
    }

    async fn start(store: Store, config: Config, data_dir: tempfile::TempDir) -> TestApp {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let cfg = config.clone();
        let server = tokio::spawn(async move {
            if let Err(e) = dev_server::serve(cfg, move |addr| {
                let _ = tx.send(addr);
            })
            .await
            {
                panic!("dev server failed: {e}");
            }
        });
        let addr = tokio::time::timeout(Duration::from_secs(60), rx).await.expect("server start timed out").expect("server started");
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
            store,
            config,
            data_dir,
            server,
        }
    }

    /// A second server on the same DynamoDB table, as a second Lambda instance would be.
    pub async fn twin(&self) -> TestApp {
        assert_eq!(self.store, Store::DynamoDb, "only DynamoDB is shared between instances");
        let mut config = self.config.clone();
        config.port = 0;
        Self::start(self.store, config, tempfile::tempdir().expect("temp dir")).await
    }

    /// The domain's dependencies on this server's store, opened a second time (SQLite allows
    /// a second connection; DynamoDB is the same table): for setting up what no endpoint
    /// writes yet, e.g. booked places before reservations exist.
    pub async fn deps(&self) -> antrean_domain::Deps {
        let table = dev_server::open_store(&self.config.store).await.expect("open the store again");
        let secret = self.config.jwt_secret.clone().expect("tests set a JWT secret");
        let tokens = antrean_domain::auth::token::TokenKeys::new(secret.as_bytes(), chrono::Duration::minutes(self.config.token_ttl_minutes))
            .expect("token keys");
        antrean_domain::Deps { table, clock: std::sync::Arc::new(antrean_domain::SystemClock), tokens: std::sync::Arc::new(tokens) }
    }

    /// Stops this server and starts another on the same store (a restart).
    pub async fn restart(self) -> TestApp {
        self.server.abort();
        let _ = self.server.await;
        let mut config = self.config.clone();
        config.port = 0;
        Self::start(self.store, config, self.data_dir).await
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, format!("{}{}", self.base, path)).header("accept", "application/json");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: response is not JSON: {text:?}"));
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.call(Method::POST, "/api/auth/login", None, Some(json!({"username": username, "password": password}))).await
    }

    /// Logs in and returns the token, failing the test if it cannot.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let r = self.login(username, password).await;
        assert_eq!(r.status, StatusCode::OK, "login of {username}: {r:?}");
        r.body["token"].as_str().expect("token").to_string()
    }

    /// The bootstrap clinic's `superadmin`.
    pub async fn admin_token(&self) -> String {
        self.token("superadmin", ADMIN_PASSWORD).await
    }

    /// Creates a clinic through the platform API and returns its admin's token.
    pub async fn new_clinic(&self, slug: &str) -> String {
        let r = self
            .call(
                Method::POST,
                "/api/platform/clinics",
                Some(PLATFORM_TOKEN),
                Some(json!({"slug": slug, "name": format!("Klinik {slug}"),
                    "admin": {"name": "Admin", "username": "admin", "email": format!("admin@{slug}.id"), "password": "admin123"}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "create clinic {slug}: {r:?}");
        let login = self
            .call(Method::POST, "/api/auth/login", None, Some(json!({"username": "admin", "password": "admin123", "clinic": slug})))
            .await;
        assert_eq!(login.status, StatusCode::OK, "{login:?}");
        login.body["token"].as_str().unwrap().to_string()
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{}{}{}", std::process::id(), nanos, N.fetch_add(1, Ordering::Relaxed))
}

/// Logs in at a server this harness did not start (`body`: the login body) and returns the token.
pub async fn login_token(http: &reqwest::Client, base: &str, body: Value) -> String {
    let r: Value = http.post(format!("{base}/api/auth/login")).json(&body).send().await.unwrap().json().await.unwrap();
    r["token"].as_str().unwrap_or_else(|| panic!("no token: {r}")).to_string()
}

/// Asserts the seed's error envelope: status code, message, and (when given) the fields.
pub fn assert_error(r: &Reply, status: u16, message: &str) {
    assert_eq!(r.status.as_u16(), status, "{r:?}");
    assert_eq!(r.body["status"], "error", "{r:?}");
    assert_eq!(r.body["message"], message, "{r:?}");
}
