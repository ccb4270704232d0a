//! The health check's one question: can this host reach its store right now?
use antrean_store::Key;

use crate::error::DomainResult;
use crate::Deps;

/// One GetItem of a key that holds nothing (under the platform's own partition, never a
/// clinic's): it proves the table answers (endpoint, credentials, table name) and reads no data.
pub async fn store_reachable(deps: &Deps) -> DomainResult<()> {
    deps.table
        .get(&Key::new("PLATFORM#HEALTH", "probe"))
        .await?;
    Ok(())
}
