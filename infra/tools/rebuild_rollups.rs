//! `antrean-rebuild-rollups --from 2026-01-01 --to 2026-01-31 [--clinic default]`
//!
//! Recomputes the dashboard rollups of a date range from the reservations themselves, for
//! repairs and migrations (e.g. after a clinic changes its time zone). Safe beside live
//! traffic: a day whose rollups change while it is being rebuilt is read again. Uses the dev
//! server's environment to find the store (`STORE`, `DATA_DIR`, `TABLE_NAME`, `DYNAMODB_ENDPOINT`).
#[path = "common.rs"]
mod common;

use antrean_domain::reporting::{self, source};
use antrean_domain::rollup;

const USAGE: &str = "antrean-rebuild-rollups --from YYYY-MM-DD --to YYYY-MM-DD [--clinic SLUG]

Rebuilds the dashboard/report rollups of the clinic's days FROM..=TO from its reservations.
The store is the dev server's: STORE=embedded|dynamodb, DATA_DIR, TABLE_NAME, DYNAMODB_ENDPOINT.";

#[tokio::main]
async fn main() {
    let args = common::Args::parse(USAGE);
    let tenant = args.tenant();
    let (Some(from), Some(to)) = (args.date("from"), args.date("to")) else { common::fail(&format!("--from and --to are required\n\n{USAGE}")) };
    if from > to {
        common::fail("--from must not be after --to");
    }
    let (table, _) = common::open_table().await;
    let deps = common::deps(table.clone());
    let tz = reporting::clinic_zone(&deps, &tenant).await.unwrap_or_else(|e| common::fail(&e.to_string()));
    let started = std::time::Instant::now();
    let (mut days, mut repaired, mut unchanged) = (0, 0, 0);
    for date in from.iter_days().take_while(|d| *d <= to) {
        let outcome = rollup::rebuild_day(table.as_ref(), &tenant, date, |d| source::day_facts(&deps, &tenant, d, tz))
            .await
            .unwrap_or_else(|e| common::fail(&format!("{date}: {e}")));
        if outcome.repaired > 0 {
            println!("{date}: repaired {} rollup item(s)", outcome.repaired);
        }
        days += 1;
        repaired += outcome.repaired;
        unchanged += outcome.unchanged;
    }
    println!(
        "clinic {}: {days} day(s) {from}..{to} in {:.1?}: {repaired} rollup item(s) repaired, {unchanged} already right",
        tenant.slug(),
        started.elapsed()
    );
}
