//! The patient's ticket (`/api/tickets/{code}`): public, no sign-in. Whoever holds a ticket
//! code sees that one reservation and nothing else; a code that names nothing, in any clinic,
//! is the same 404. Look-ups are rate-limited per client address (`RATE_TICKET_PER_MINUTE`, on
//! top of the public limit). Served with the queue group; the page is `ticket.html` next to
//! the board page, and its live updates come over the boards' socket (`?ticket=<code>`).
use antrean_domain::ticket::{self, view::TicketView, TicketCode};
use antrean_domain::Tenant;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::client_addr::ClientAddr;
use crate::envelope::{self, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::groups::boards::{request_bases, with_query};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

/// The clinic a code names, for counting look-ups; made-up codes count under `default`.
fn lookup_tenant(code: &str) -> Tenant {
    TicketCode::parse(code).map(|c| c.tenant).unwrap_or_else(crate::rate_limit::default_tenant)
}

/// Checks the look-up limit and reads the ticket: what the page's HTTP call and its socket share.
pub async fn lookup(s: &AppState, address: Option<std::net::IpAddr>, code: &str) -> ApiResult<(Tenant, TicketView)> {
    crate::rate_limit::per_ticket_lookup(s, &lookup_tenant(code), address).await?;
    let (tenant, r) = ticket::find(&s.deps, code).await?;
    let view = ticket::view::view(&s.deps, &tenant, &r).await?;
    Ok((tenant, view))
}

#[utoipa::path(get, path = "/api/tickets/{code}", tag = "Ticket", params(("code" = String, Path, description = "The ticket code, `<clinic>.<20 characters>`")),
    responses((status = 200, body = MessageData<TicketView>), (status = 404, body = ErrorBody, description = "No such ticket (whatever was wrong)"),
        (status = 429, body = ErrorBody)))]
async fn status(State(s): State<AppState>, ClientAddr(address): ClientAddr, Path(code): Path<String>) -> ApiResult<Response> {
    let (_, view) = lookup(&s, address, &code).await?;
    let mut res = Json(envelope::message_data("Ticket retrieved successfully", view)).into_response();
    // A ticket is one patient's: no shared cache keeps it.
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The ticket page for a code: `ticket.html` beside the board page (`BOARD_PAGE_URL`, then with
/// the API and socket URLs), or this host's `/board/ticket.html` (with the socket URL when
/// the socket is not this host's).
pub fn page_url(s: &AppState, headers: &HeaderMap, code: &str) -> String {
    let (http, ws) = request_bases(headers);
    let c = antrean_live::encode_query(code);
    match &s.live.page_url {
        Some(board_page) => {
            let base = board_page.split('?').next().unwrap_or_default();
            let dir = base.rsplit_once('/').map(|(d, _)| d).unwrap_or(base);
            let ws_url = s.live.ws_url.clone().unwrap_or_else(|| format!("{ws}/ws"));
            with_query(&format!("{dir}/ticket.html"), &format!("code={c}&api={}&ws={}", antrean_live::encode_query(&http), antrean_live::encode_query(&ws_url)))
        }
        // This host's page (the site group), told where the socket is when it lives elsewhere.
        None => match &s.live.ws_url {
            Some(ws_url) => format!("{http}/board/ticket.html?code={c}&ws={}", antrean_live::encode_query(ws_url)),
            None => format!("{http}/board/ticket.html?code={c}"),
        },
    }
}
