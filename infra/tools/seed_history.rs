//! `antrean-seed-history [--clinic default] [--from YYYY-MM-DD] [--days 365] [--per-day 320] [--seed 1]`
//!
//! Loads a realistic clinic history into the dev server's store (embedded or DynamoDB, from
//! the same environment as the server): three polies and, by default, a year of working days
//! with about 100,000 reservations, written as batched atomic writes of the very items the
//! live API writes, rollups included (`reservation::history_items`). For the benchmark and for
//! trying the dashboards. The clinic must not have reservations or patients yet.
#[path = "common.rs"]
mod common;
#[path = "history.rs"]
mod history;

use antrean_domain::audit::Actor;
use antrean_domain::poly::Poly;
use antrean_domain::{record, reporting};

const USAGE: &str = "antrean-seed-history [--clinic SLUG] [--from YYYY-MM-DD] [--days N] [--per-day N] [--seed N]

Loads a year (default) of reservations for three polies into the clinic (default: the dev
server's bootstrap clinic `default`, created if missing with BOOTSTRAP_ADMIN_PASSWORD).
Defaults: --from = 365 days before today, --days 365, --per-day 320 (about 100,000 in a year
of six-day weeks), --seed 1. The store is the dev server's: STORE, DATA_DIR, TABLE_NAME,
DYNAMODB_ENDPOINT. The clinic must not have reservations or patients yet (ids start at 1);
all seeded reservations are finished (DONE, NO_SHOW, CANCELLED) and have schedule_id 0.";

#[tokio::main]
async fn main() {
    let args = common::Args::parse(USAGE);
    let tenant = args.tenant();
    let days: i64 = args.number("days", 365);
    let per_day: usize = args.number("per-day", 320);
    let seed: u64 = args.number("seed", 1);
    let (table, config) = common::open_table().await;
    let deps = common::deps(table.clone());
    if tenant.slug() == "default" {
        dev_server::bootstrap(&deps, config.bootstrap_admin_password.as_deref()).await.unwrap_or_else(|e| common::fail(&e));
    } else if !antrean_domain::clinic::exists(&deps, &tenant).await.unwrap_or(false) {
        common::fail(&format!("clinic {} does not exist (create it with POST /api/platform/clinics)", tenant.slug()));
    }
    let tz = reporting::clinic_zone(&deps, &tenant).await.unwrap_or_else(|e| common::fail(&e.to_string()));
    let from = args.date("from").unwrap_or_else(|| deps.clock.now().with_timezone(&tz).date_naive() - chrono::Duration::days(days));

    let actor = Actor::system("seed-history");
    let mut poly_ids = [0i64; 3];
    for (i, name) in history::POLIES.iter().enumerate() {
        poly_ids[i] = match record::find_by_unique::<Poly>(&deps, &tenant, "name", name).await.unwrap_or_else(|e| common::fail(&e.to_string())) {
            Some(id) => id,
            None => record::create(&deps, &tenant, &actor, Poly { name: (*name).into() }, |_| vec![]).await.unwrap_or_else(|e| common::fail(&e.to_string())).id,
        };
    }

    let started = std::time::Instant::now();
    let visits = history::generate(from, days, per_day, tz, seed);
    println!("generated {} reservations for {} from {from} ({days} days) in {:.1?}", visits.len(), tenant.slug(), started.elapsed());
    let writing = std::time::Instant::now();
    let w = history::write_reservations(&deps, &tenant, &visits, &poly_ids, tz).await.unwrap_or_else(|e| common::fail(&e));
    let secs = writing.elapsed().as_secs_f64();
    println!(
        "wrote {} reservations of {} patients ({} items) and {} rollup items into the {} store in {} atomic writes: {secs:.1}s ({:.0} reservations/s; {:.1?} in all)",
        w.reservations,
        w.patients,
        w.items,
        w.rollups,
        table.kind(),
        w.batches,
        w.reservations as f64 / secs.max(1e-9),
        started.elapsed()
    );
}
