//! Display boards (`/api/boards`): create one (its token, WebSocket URL and page URL), list,
//! revoke. A board token is an API key whose only permission is `board.watch`: it opens the
//! live socket and nothing else. Served with the queue group.
use antrean_domain::board;
use antrean_domain::permission::Permission;
use antrean_domain::FieldErrors;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_id, Caller, JsonBody};
use crate::AppState;

const NOT_FOUND: &str = "Board not found";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(revoke))
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct BoardBody {
    /// What to call it, e.g. "TV Ruang Tunggu" (at most 100 characters); default "Display board".
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardCreated {
    pub id: i64,
    pub name: String,
    /// Shown once: it is in both URLs below.
    pub token: String,
    /// Where the board's socket connects: `ws://…/ws?token=…` (dev server) or the WebSocket API.
    pub ws_url: String,
    /// The board page for the waiting-room screen, with the token in it.
    pub page_url: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardView {
    pub id: i64,
    pub name: String,
    pub created_by: Option<i64>,
    pub created_at: String,
}

/// `(http base, ws base)` of the host the request came to (the dev server).
pub(crate) fn request_bases(headers: &HeaderMap) -> (String, String) {
    let host = headers.get("x-forwarded-host").or_else(|| headers.get("host")).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let secure = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"));
    if secure {
        (format!("https://{host}"), format!("wss://{host}"))
    } else {
        (format!("http://{host}"), format!("ws://{host}"))
    }
}

pub(crate) fn with_query(base: &str, query: &str) -> String {
    format!("{base}{}{query}", if base.contains('?') { '&' } else { '?' })
}

#[utoipa::path(post, path = "/api/boards", tag = "Boards", request_body(content = Option<BoardBody>), security(("bearer" = [])),
    responses((status = 200, body = MessageData<BoardCreated>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(State(s): State<AppState>, caller: Caller, headers: HeaderMap, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<BoardCreated>>> {
    caller.require(Permission::BoardsManage)?;
    let mut errors = FieldErrors::new();
    let name = antrean_domain::validate::optional_string(&mut errors, &body, "name", 100);
    errors.into_result()?;
    let (stored, token) = board::create(&s.deps, &caller, name).await?;
    let t = antrean_live::encode_query(&token);
    let (http, ws) = request_bases(&headers);
    let ws_url = s.live.ws_url.clone().unwrap_or_else(|| format!("{ws}/ws"));
    let page_url = match &s.live.page_url {
        Some(page) => with_query(page, &format!("token={t}&ws={}", antrean_live::encode_query(&ws_url))),
        // The page this host serves (the site group). When the socket lives elsewhere (API
        // Gateway's WebSocket API, BOARD_WS_URL) the page is told where; on AWS the path is
        // `/board/index.html`, which API Gateway's `GET /board/{proxy+}` routes for certain.
        None if s.live.ws_url.is_some() => format!("{http}/board/index.html?token={t}&ws={}", antrean_live::encode_query(&ws_url)),
        None => format!("{http}/board/?token={t}"),
    };
    Ok(Json(envelope::message_data(
        "Board created successfully",
        BoardCreated {
            id: stored.id,
            name: stored.data.token_name,
            ws_url: with_query(&ws_url, &format!("token={t}")),
            page_url,
            token,
            created_at: stored.created_at,
        },
    )))
}

#[utoipa::path(get, path = "/api/boards", tag = "Boards", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<BoardView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<MessageData<Vec<BoardView>>>> {
    caller.require(Permission::BoardsManage)?;
    let boards = board::list(&s.deps, &caller.tenant).await?;
    Ok(Json(envelope::message_data(
        "Board list retrieved successfully",
        boards
            .into_iter()
            .map(|b| BoardView { id: b.id, name: b.data.token_name, created_by: b.data.created_by, created_at: b.created_at })
            .collect(),
    )))
}

#[utoipa::path(delete, path = "/api/boards/{id}", tag = "Boards", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::BoardsManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    board::revoke(&s.deps, &caller.tenant, &caller.actor, id).await?;
    // Its open sockets close now, not at their next reconnect.
    s.live.port.close_board(&caller.tenant, id).await;
    Ok(Json(envelope::message("Board revoked successfully")))
}
