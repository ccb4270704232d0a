//! Live updates for a patient's ticket page, over the boards' socket: a connection opened with
//! `?ticket=<code>` (instead of a board token) hears only its own ticket's view, recomputed
//! whenever its clinic's queue changes. It never hears a snapshot: those name every poly's
//! numbers and calls, which are no business of one patient.
use antrean_domain::ticket::{self, view::TicketView};
use antrean_domain::error::DomainResult;
use antrean_domain::{Deps, Tenant};
use serde::Serialize;

pub const TICKET_EVENT: &str = "ticket.status";

#[derive(Serialize)]
struct Message<'a> {
    event: &'static str,
    data: &'a TicketView,
}

/// The ticket's current view, as the socket sends it.
pub fn message(view: &TicketView) -> String {
    serde_json::to_string(&Message { event: TICKET_EVENT, data: view }).unwrap_or_default()
}

/// Reads the ticket again and renders its message.
pub async fn current(deps: &Deps, code: &str) -> DomainResult<(Tenant, TicketView, String)> {
    let (tenant, r) = ticket::find(deps, code).await?;
    let view = ticket::view::view(deps, &tenant, &r).await?;
    let text = message(&view);
    Ok((tenant, view, text))
}

/// The same view apart from when it was read: nothing worth sending.
pub fn same(a: &TicketView, b: &TicketView) -> bool {
    TicketView { at: String::new(), ..a.clone() } == TicketView { at: String::new(), ..b.clone() }
}
