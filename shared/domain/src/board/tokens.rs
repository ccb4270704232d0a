//! Who may watch a board: board tokens. A board is an API key whose only permission is
//! `board.watch` (it opens the live socket and nothing else), stored with the sections it
//! shows ([`BoardFilter`]).
use serde_json::Value;

use super::filter::BoardFilter;
use crate::audit::Actor;
use crate::auth::api_key::{self, ApiKey};
use crate::auth::principal::Principal;
use crate::error::{DomainError, DomainResult};
use crate::permission::Permission;
use crate::record::{self, Stored};
use crate::tenant::Tenant;
use crate::Deps;

/// May this caller watch the board? A board token, or any staff token that may see the queue.
pub fn may_watch(p: &Principal) -> bool {
    p.can(Permission::BoardWatch) || p.can(Permission::QueueView)
}

/// A board is an API key that grants `board.watch` and nothing else.
pub fn is_board(key: &ApiKey) -> bool {
    key.permissions == [Permission::BoardWatch]
}

pub const DEFAULT_NAME: &str = "Display board";
const NOT_FOUND: &str = "Board not found";

/// Creates a board showing `filter`'s sections; returns it and its token (shown once).
/// Managing boards is the permission that matters: the creator need not hold `board.watch`
/// themselves.
pub async fn create(deps: &Deps, creator: &Principal, name: Option<String>, filter: BoardFilter) -> DomainResult<(Stored<ApiKey>, String)> {
    creator.require(Permission::BoardsManage)?;
    let mut minting = creator.clone();
    minting.permissions.insert(Permission::BoardWatch);
    let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).unwrap_or_else(|| DEFAULT_NAME.into());
    let requirements = || filter.requirements(&creator.tenant);
    api_key::create_with(deps, &minting, Some(name), Some(vec![Permission::BoardWatch]), filter.clone(), requirements).await
}

/// Renames a board and / or changes what it shows (`poly_ids`, `room_ids`, `rooms`,
/// `services` of `body`; a field left out stays). Its open sockets keep the old filter until
/// they reconnect.
pub async fn update(
    deps: &Deps,
    tenant: &Tenant,
    actor: &Actor,
    id: i64,
    name: Option<String>,
    body: &Value,
) -> DomainResult<Stored<ApiKey>> {
    let changed = record::update::<ApiKey>(deps, tenant, actor, id, |current| {
        if !is_board(&current.data) {
            return Err(DomainError::NotFound(NOT_FOUND.into()));
        }
        let mut errors = crate::error::FieldErrors::new();
        let filter = BoardFilter::parse(&mut errors, body, &current.data.board_filter);
        errors.into_result()?;
        let requirements = filter.requirements(tenant);
        let mut data = current.data.clone();
        if let Some(name) = &name {
            data.token_name = name.clone();
        }
        data.board_filter = filter;
        Ok((data, requirements))
    })
    .await;
    match changed {
        Err(DomainError::NotFound(_)) => Err(DomainError::NotFound(NOT_FOUND.into())),
        other => other,
    }
}

/// The clinic's live boards, oldest first.
pub async fn list(deps: &Deps, tenant: &Tenant) -> DomainResult<Vec<Stored<ApiKey>>> {
    let mut boards: Vec<_> = api_key::list(deps, tenant).await?.into_iter().filter(|k| is_board(&k.data)).collect();
    boards.sort_by_key(|b| b.id);
    Ok(boards)
}

/// Revokes a board: its token stops working at once. Another kind of API key is not a board.
pub async fn revoke(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64) -> DomainResult<()> {
    match record::get::<ApiKey>(deps, tenant, id).await? {
        Some(k) if !k.is_trashed() && is_board(&k.data) => api_key::revoke(deps, tenant, actor, id).await,
        _ => Err(DomainError::NotFound(NOT_FOUND.into())),
    }
}
