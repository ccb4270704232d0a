//! The waiting-room display board: what it shows (the clinic's snapshot, [`snapshot`]), the
//! calls it announces ([`calls`]), what one board is limited to ([`filter`]) and who may watch
//! it (board tokens, [`tokens`]).
//!
//! A snapshot is the seed's "WebScoket (Laravel Reverb)" payload: an object keyed by poly
//! (`"umum"`, `"gigi"`) whose values hold `queue_number_anamnesa` and
//! `queue_number_with_doctor`, plus `poly_id`, `poly_name` and the last call so a board can
//! announce a recall, and beside it the day's recent calls. Only numbers travel: no patient
//! names, no reservation ids.
use chrono::NaiveDate;

use crate::error::DomainResult;
use crate::tenant::Tenant;
use crate::Deps;

pub mod calls;
pub mod filter;
pub mod keys;
pub mod snapshot;
pub mod state;
pub mod tokens;

pub(crate) use calls::calls_partition;
pub use calls::{call_op, closed, closed_op, record_call, Call, CalledTo, LastCall, RecentCall, Stage};
pub use keys::{poly_key, poly_keys};
pub use snapshot::{
    snapshot, snapshot_with, ClinicView, DayNumbers, FromQueue, FromRollups, Polies, PolyCalls, PolyBoard, QueueNumbers, RoomBoard, Section, ServiceBoard, ServiceCall,
    Snapshot, SNAPSHOT_EVENT,
};
pub use tokens::{create, is_board, list, may_watch, revoke, update, DEFAULT_NAME};

/// The clinic's day as its boards see it: today in the clinic's time zone (its
/// `clinic_timezone` config, as for the queue and the reports).
pub async fn today(deps: &Deps, tenant: &Tenant) -> DomainResult<NaiveDate> {
    let tz = crate::configuration::config::clinic_timezone(deps, tenant).await?;
    Ok(deps.clock.now().with_timezone(&tz).date_naive())
}
