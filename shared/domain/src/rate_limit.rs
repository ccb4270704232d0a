//! Rate limits counted in the table, so a limit holds across every Lambda instance and the dev
//! server alike. Fixed windows: one item per (clinic, bucket, subject, window) under
//! `T#<clinic>#RATE#<bucket>#<subject>`, sort key the window's start, bumped with `ADD n 1`
//! under the condition `n < limit`. The condition makes the count exact under concurrency:
//! when the limit is reached, the write is refused and nothing changes. Items carry a TTL
//! (`expires_at`) one window after their window ends, so the table sweeps them.
use antrean_store::{Cmp, Condition, Key, Op, StoreError, Update, TTL_ATTRIBUTE};

use crate::error::{DomainError, DomainResult};
use crate::tenant::Tenant;
use crate::Deps;

/// The record kind in the key: `T#<clinic>#RATE#…`.
pub const KIND: &str = "RATE";
/// Laravel's throttle message, which the seed's clients already know.
pub const MESSAGE: &str = "Too Many Attempts.";

/// One counted thing: `bucket` names the rule ("login", "public", "apikey"), `subject` whom it
/// counts (a client address, an API key id).
#[derive(Debug, Clone)]
pub struct Counter<'a> {
    pub tenant: &'a Tenant,
    pub bucket: &'a str,
    pub subject: &'a str,
    /// The most hits one window admits; 0 turns the rule off.
    pub limit: u32,
    pub window_secs: i64,
}

/// Keeps keys short and free of the separator whatever a subject holds (an IPv6 address has
/// colons, which are fine; anything odd is replaced).
fn clean(s: &str) -> String {
    s.chars()
        .take(64)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '_') { c } else { '_' })
        .collect()
}

impl Counter<'_> {
    fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_secs)
    }

    pub fn key(&self, now: i64) -> Key {
        let pk = self.tenant.partition(&format!("{KIND}#{}#{}", clean(self.bucket), clean(self.subject)));
        Key::new(pk, format!("{:012}", self.window_start(now)))
    }
}

/// Counts one hit; `TooManyRequests` (with the seconds until the window ends) when the
/// window already holds `limit` hits.
pub async fn hit(deps: &Deps, counter: &Counter<'_>) -> DomainResult<()> {
    if counter.limit == 0 || counter.window_secs <= 0 {
        return Ok(());
    }
    let now = deps.clock.now().timestamp();
    let key = counter.key(now);
    let window_end = counter.window_start(now) + counter.window_secs;
    let update = Update::new().add("n", 1).set(TTL_ATTRIBUTE, window_end + counter.window_secs);
    let under_limit = Condition::Or(vec![Condition::attr_not_exists("n"), Condition::compare("n", Cmp::Lt, i64::from(counter.limit))]);
    // A conflicting concurrent write changed nothing; the next try sees its result.
    let mut tries = 0;
    loop {
        match deps.table.write(vec![Op::update_if(key.clone(), update.clone(), under_limit.clone())]).await {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed { .. }) => {
                return Err(DomainError::TooManyRequests { message: MESSAGE.into(), retry_after_secs: (window_end - now).max(1) })
            }
            Err(e) if e.is_retryable() && tries < 8 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 * tries)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_start_with_the_clinic_and_name_the_window() {
        let tenant = Tenant::parse("klinik-a").unwrap();
        let c = Counter { tenant: &tenant, bucket: "login", subject: "10.0.0.1", limit: 5, window_secs: 60 };
        let k = c.key(1_700_000_059);
        assert_eq!(k.pk, "T#klinik-a#RATE#login#10.0.0.1");
        assert_eq!(k.sk, format!("{:012}", 1_700_000_040));
        assert_eq!(c.key(1_700_000_099).sk, format!("{:012}", 1_700_000_040));
        assert_eq!(c.key(1_700_000_100).sk, format!("{:012}", 1_700_000_100));
        let odd = Counter { subject: "a#b c", ..c };
        assert_eq!(odd.key(0).pk, "T#klinik-a#RATE#login#a_b_c");
    }
}
