//! The all-in-one dev server: every endpoint group's router merged and served by
//! `axum::serve`, on the embedded store (default) or DynamoDB. The same handlers the
//! Lambdas run; nothing is written twice.
mod live;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use antrean_api::{ApiConfig, AppState, Group};
use antrean_domain::auth::token::TokenKeys;
use antrean_domain::clinic::{self, NewClinic};
use antrean_domain::user::NewUser;
use antrean_domain::{Deps, FieldErrors, SystemClock, Tenant};
use antrean_store::counted::StoreCounters;
use antrean_store::Table;
use axum::routing::get;
use axum::{Json, Router};
use rand::Rng;
use serde_json::json;

/// The SAM template: the dev server creates its DynamoDB table from the very same definition.
pub const TEMPLATE_YAML: &str = include_str!("../../template.yaml");

#[derive(Debug, Clone, PartialEq)]
pub enum StoreChoice {
    Embedded { data_dir: PathBuf },
    DynamoDb { endpoint: Option<String>, table: String },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub port: u16,
    pub store: StoreChoice,
    pub jwt_secret: Option<String>,
    pub token_ttl_minutes: i64,
    pub platform_token: Option<String>,
    pub bootstrap_admin_password: Option<String>,
    /// CORS_ORIGINS (unset: localhost on any port).
    pub cors_origins: antrean_api::cors::AllowedOrigins,
    /// BASE_DOMAIN: login reads the clinic from `<slug>.<base domain>`.
    pub base_domain: Option<String>,
    /// RATE_LOGIN_PER_MINUTE, RATE_PUBLIC_PER_MINUTE, RATE_API_KEY_PER_MINUTE.
    pub limits: antrean_api::rate_limit::Limits,
    /// DYNAMODB_MAX_ATTEMPTS, DYNAMODB_ATTEMPT_TIMEOUT_MS: the DynamoDB client's retry budget.
    pub dynamodb_retries: antrean_store::dynamodb::Retries,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Everything from the environment; see the README's table of variables.
    pub fn from_env() -> Result<Config, String> {
        let store = match env("STORE").as_deref().unwrap_or("embedded") {
            "embedded" => StoreChoice::Embedded { data_dir: PathBuf::from(env("DATA_DIR").unwrap_or_else(|| "./.data".into())) },
            "dynamodb" => StoreChoice::DynamoDb {
                endpoint: env("DYNAMODB_ENDPOINT"),
                table: env("TABLE_NAME").ok_or("STORE=dynamodb needs TABLE_NAME")?,
            },
            other => return Err(format!("STORE must be 'embedded' or 'dynamodb', not '{other}'")),
        };
        Ok(Config {
            bind: env("BIND").unwrap_or_else(|| "127.0.0.1".into()),
            port: env("PORT").map(|p| p.parse().map_err(|_| format!("PORT '{p}' is not a port number"))).transpose()?.unwrap_or(8080),
            store,
            jwt_secret: env("JWT_SECRET"),
            token_ttl_minutes: env("TOKEN_TTL_MINUTES").and_then(|m| m.parse().ok()).unwrap_or(720),
            platform_token: env("PLATFORM_TOKEN"),
            bootstrap_admin_password: env("BOOTSTRAP_ADMIN_PASSWORD"),
            cors_origins: antrean_api::cors::AllowedOrigins::from_env()?,
            base_domain: antrean_api::clinic_host::parse_base_domain(&env("BASE_DOMAIN").unwrap_or_default())?,
            limits: antrean_api::rate_limit::Limits::from_env()?,
            dynamodb_retries: antrean_store::dynamodb::Retries::from_env()?,
        })
    }
}

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// The signing secret: `JWT_SECRET`, else one generated once and kept in the data folder so
/// a restart does not sign everybody out.
fn jwt_secret(config: &Config) -> Result<String, String> {
    if let Some(s) = &config.jwt_secret {
        return Ok(s.clone());
    }
    let dir = match &config.store {
        StoreChoice::Embedded { data_dir } => data_dir.clone(),
        StoreChoice::DynamoDb { .. } => PathBuf::from(env("DATA_DIR").unwrap_or_else(|| "./.data".into())),
    };
    let path = dir.join("jwt-secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        if s.trim().len() >= 32 {
            return Ok(s.trim().to_string());
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let secret = random_token(64);
    std::fs::write(&path, &secret).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(secret)
}

pub async fn open_store(choice: &StoreChoice) -> Result<Arc<dyn Table>, String> {
    Ok(open_adapter(choice, antrean_store::dynamodb::Retries::from_env()?).await?.0)
}

type Capacity = Option<Arc<antrean_store::dynamodb::CapacityUsed>>;

/// `STORE_LATENCY_MS` (benchmarks only): each store request first waits this long, as a
/// DynamoDB round trip from Lambda would (typically 3–10 ms).
fn store_latency() -> Result<std::time::Duration, String> {
    match env("STORE_LATENCY_MS") {
        None => Ok(std::time::Duration::ZERO),
        Some(v) => v.parse::<u64>().map(std::time::Duration::from_millis).map_err(|_| format!("STORE_LATENCY_MS '{v}' is not a number of milliseconds")),
    }
}

/// The store wrapped in its request counters (and the latency of `STORE_LATENCY_MS`), plus on
/// DynamoDB the adapter's consumed-capacity counters.
async fn open_store_counted(config: &Config) -> Result<(Arc<dyn Table>, Arc<StoreCounters>, Capacity), String> {
    let (table, capacity) = open_adapter(&config.store, config.dynamodb_retries).await?;
    let mut counted = antrean_store::counted::CountedTable::new(table.clone(), store_latency()?);
    // The benchmarks' counters price writes by item size, as AWS bills them, reading written
    // items back on a client of their own (DynamoDB) so no counter sees those reads.
    if env("BENCH_CAPACITY").as_deref() == Some("1") {
        let reader = match &config.store {
            StoreChoice::DynamoDb { .. } => open_adapter(&config.store, config.dynamodb_retries).await?.0,
            StoreChoice::Embedded { .. } => table,
        };
        counted = counted.sizing(reader);
    }
    let counters = counted.counters();
    Ok((Arc::new(counted), counters, capacity))
}

async fn open_adapter(choice: &StoreChoice, retries: antrean_store::dynamodb::Retries) -> Result<(Arc<dyn Table>, Capacity), String> {
    match choice {
        StoreChoice::Embedded { data_dir } => {
            let table = antrean_store::embedded::EmbeddedTable::open(data_dir).map_err(|e| e.to_string())?;
            Ok((Arc::new(table), None))
        }
        StoreChoice::DynamoDb { endpoint, table } => {
            let t = antrean_store::dynamodb::DynamoTable::connect_with(endpoint.as_deref(), table, retries).await;
            if t.create_table_if_missing(TEMPLATE_YAML).await.map_err(|e| e.to_string())? {
                tracing::info!(table = %table, "created the DynamoDB table from template.yaml");
            }
            let capacity = t.capacity();
            Ok((Arc::new(t), Some(capacity)))
        }
    }
}

/// The body of `GET /debug/capacity`: store requests made and (on DynamoDB) capacity units
/// consumed since the server started.
fn capacity_json(capacity: &Capacity, counters: &StoreCounters) -> serde_json::Value {
    let mut body = capacity_units(capacity);
    body["requests"] = serde_json::to_value(counters.snapshot()).unwrap_or_default();
    body["by_kind"] = serde_json::to_value(counters.by_kind()).unwrap_or_default();
    body
}

fn capacity_units(capacity: &Capacity) -> serde_json::Value {
    match capacity.as_ref().map(|c| c.totals()) {
        Some(t) => json!({"store": "dynamodb", "read_capacity_units": t.read_units, "write_capacity_units": t.write_units,
            "calls": t.calls, "unreported_calls": t.unreported, "transactions": t.transactions,
            "transaction_items": t.transaction_items, "transaction_write_units": t.transaction_write_units}),
        None => json!({"store": "embedded", "read_capacity_units": null, "write_capacity_units": null}),
    }
}

/// What `bootstrap` did, so `main` can tell the person at the terminal.
#[derive(Debug, PartialEq)]
pub enum Bootstrap {
    AlreadyThere,
    Created { generated_password: Option<String> },
}

/// On an empty store: the `default` clinic with the seed's statuses and roles and the user
/// `superadmin`. Racing starts are safe: the clinic is one conditional write.
pub async fn bootstrap(deps: &Deps, admin_password: Option<&str>) -> Result<Bootstrap, String> {
    let tenant = Tenant::parse("default").expect("a valid slug");
    if clinic::exists(deps, &tenant).await.map_err(|e| e.to_string())? {
        return Ok(Bootstrap::AlreadyThere);
    }
    let generated = admin_password.is_none().then(|| random_token(20));
    let password = admin_password.map(str::to_string).or(generated.clone()).unwrap_or_default();
    let mut errors = FieldErrors::new();
    let admin = NewUser::parse_admin(
        &mut errors,
        &json!({"name": "Super Admin", "username": "superadmin", "email": "superadmin@mail.com", "password": password}),
        "",
    )
    .ok_or_else(|| format!("BOOTSTRAP_ADMIN_PASSWORD is not acceptable: {}", errors.first()))?;
    let new = NewClinic { tenant, name: "Klinik".into(), admin };
    match clinic::create(deps, new).await {
        Ok(_) => Ok(Bootstrap::Created { generated_password: generated }),
        // Another process bootstrapped first.
        Err(antrean_domain::DomainError::Validation(_)) => Ok(Bootstrap::AlreadyThere),
        Err(e) => Err(e.to_string()),
    }
}

pub struct Server {
    pub router: Router,
    pub state: AppState,
    pub bootstrap: Bootstrap,
}

/// Builds the whole API on the chosen store and bootstraps it.
pub async fn build(config: &Config) -> Result<Server, String> {
    let (table, counters, capacity) = open_store_counted(config).await?;
    let tokens = TokenKeys::new(jwt_secret(config)?.as_bytes(), chrono::Duration::minutes(config.token_ttl_minutes))
        .map_err(|e| e.to_string())?;
    let deps = Deps { table, clock: Arc::new(SystemClock), tokens: Arc::new(tokens) };
    let bootstrap = bootstrap(&deps, config.bootstrap_admin_password.as_deref()).await?;
    // Files: S3 when FILES_BUCKET is set, else a folder beside the store (per table on DynamoDB).
    let files_dir = match &config.store {
        StoreChoice::Embedded { data_dir } => data_dir.join("files"),
        StoreChoice::DynamoDb { table, .. } => PathBuf::from(env("DATA_DIR").unwrap_or_else(|| "./.data".into())).join("files").join(table),
    };
    let blobs = antrean_blobs::Blobs::open(&antrean_blobs::BlobChoice::from_env(files_dir)).await?;
    let hub = Arc::new(antrean_live::hub::Hub::new());
    let state = AppState { live: antrean_live::Live::new(hub.clone(), true), deps, config: Arc::new(ApiConfig { platform_token: config.platform_token.clone(), cors: config.cors_origins.clone(), base_domain: config.base_domain.clone(), limits: config.limits.clone() }), blobs: blobs.store.clone(), webhooks: Arc::new(antrean_domain::webhook::http::ReqwestSender::development()?) };
    // Every group, the site's health check, OpenAPI document and board pages included.
    let (api, _) = antrean_api::service::routes(Group::ALL).split_for_parts();
    let api = api.merge(blobs.routes()).merge(live::routes(hub));
    // BENCH_CAPACITY=1, dev server only (no Lambda has this route): the consumed capacity for
    // antrean-bench-queue. Counts only, no data; off unless asked for.
    let api = if env("BENCH_CAPACITY").as_deref() == Some("1") {
        tracing::warn!("BENCH_CAPACITY=1: serving GET /debug/capacity");
        api.route("/debug/capacity", get(move || { let body = capacity_json(&capacity, &counters); async move { Json(body) } }))
    } else {
        api
    };
    Ok(Server { router: antrean_api::service::finish(api, state.clone()), state, bootstrap })
}

/// Binds and serves until Ctrl-C / SIGTERM. Returns the bound address through `on_bound`.
pub async fn serve(config: Config, on_bound: impl FnOnce(SocketAddr)) -> Result<(), String> {
    let server = build(&config).await?;
    if let Bootstrap::Created { generated_password } = &server.bootstrap {
        match generated_password {
            Some(p) => println!("Created clinic 'default' with user 'superadmin' and password: {p}\n(shown once; set BOOTSTRAP_ADMIN_PASSWORD to choose it)"),
            None => println!("Created clinic 'default' with user 'superadmin' (password from BOOTSTRAP_ADMIN_PASSWORD)"),
        }
    }
    let listener = tokio::net::TcpListener::bind((config.bind.as_str(), config.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", config.bind, config.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    on_bound(addr);
    // Webhook retries (n8n, BPJS) run for as long as this server does (the guard stops them
    // with it); `WEBHOOK_RETRY_SECONDS=0` turns them off (tests that send by hand).
    let every = match env("WEBHOOK_RETRY_SECONDS").map(|s| s.parse::<u64>()) {
        Some(Ok(0)) => None,
        Some(Ok(n)) => Some(std::time::Duration::from_secs(n)),
        Some(Err(_)) => return Err("WEBHOOK_RETRY_SECONDS must be a number of seconds".into()),
        None => Some(WEBHOOK_RETRY_EVERY),
    };
    let _retries = every.map(|every| AbortOnDrop(tokio::spawn(retry_webhooks(server.state.deps.clone(), server.state.webhooks.clone(), every))));
    let _no_shows = AbortOnDrop(tokio::spawn(sweep_no_shows(server.state.deps.clone())));
    let _end_of_day = AbortOnDrop(tokio::spawn(close_days(server.state.clone())));
    axum::serve(listener, server.router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown()).await.map_err(|e| e.to_string())
}

/// How often the dev server retries failed n8n webhook deliveries.
pub const WEBHOOK_RETRY_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The dev server's stand-in for the scheduled `webhook-retry` Lambda: `retry_due` every 30 s.
async fn retry_webhooks(deps: Deps, sender: Arc<dyn antrean_domain::webhook::WebhookSender>, period: std::time::Duration) {
    let start = tokio::time::Instant::now() + period;
    let mut every = tokio::time::interval_at(start, period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match antrean_domain::webhook::retry_due(&deps, sender.as_ref()).await {
            Ok(r) if r.is_empty() => {}
            Ok(r) => tracing::info!(delivered = r.delivered, failed = r.failed, expired = r.expired, "webhook retries"),
            Err(e) => tracing::warn!(error = %e, "webhook retries failed; trying again at the next run"),
        }
    }
}

/// How often the dev server marks appointments not checked in after their schedule as no-show.
pub const NO_SHOW_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// The dev server's stand-in for the scheduled `no-show` Lambda.
async fn sweep_no_shows(deps: Deps) {
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + NO_SHOW_EVERY, NO_SHOW_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match antrean_domain::appointments::lifecycle::sweep_no_shows(&deps).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(marked = n, "no-show sweep"),
            Err(e) => tracing::warn!(error = %e, "no-show sweep failed; trying again later"),
        }
    }
}

/// How often the dev server looks for clinic days whose close time has passed.
pub const END_OF_DAY_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// The dev server's stand-in for the scheduled `end-of-day` Lambda: closes due days on the
/// server's clock and clears those days' boards.
async fn close_days(state: antrean_api::AppState) {
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + END_OF_DAY_EVERY, END_OF_DAY_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match antrean_domain::clinic_flow::end_of_day::sweep(&state.deps).await {
            Ok(closed) => {
                for (slug, day) in closed {
                    tracing::info!(clinic = %slug, date = %day.date, no_shows = day.no_shows.len(), left = day.left_in_progress.len(), "day closed");
                    if let (Ok(tenant), Ok(date)) = (antrean_domain::Tenant::parse(&slug), chrono::NaiveDate::parse_from_str(&day.date, "%Y-%m-%d")) {
                        state.live.changed(&state.deps, &tenant, date).await;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "end of day failed; trying again in a minute"),
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
