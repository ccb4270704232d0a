//! Display boards (`/api/boards`): create one (its token, WebSocket URL and page URL), list,
//! change what it shows, revoke. A board token is an API key whose only permission is
//! `board.watch`: it opens the live socket and nothing else. A board can be limited to chosen
//! polies, rooms and services (one TV per waiting area); the server sends it only those
//! sections. Served with the queue group.
use antrean_domain::auth::api_key::ApiKey;
use antrean_domain::board::{self, filter::BoardFilter};
use antrean_domain::permission::Permission;
use antrean_domain::record::Stored;
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
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(update, revoke))
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct BoardBody {
    /// What to call it, e.g. "TV Ruang Tunggu" (at most 100 characters); default "Display board".
    pub name: Option<String>,
    /// Show only these polies (live poly ids), e.g. `[1, 3]`; `[]` or `null`: no limit.
    pub poly_ids: Option<Vec<i64>>,
    /// Show the polies these rooms are in, with only these rooms' calls: live room ids
    /// (`GET /api/queue/rooms`), e.g. `[4]`.
    pub room_ids: Option<Vec<i64>>,
    /// The same by room name, e.g. `["Ruang 2"]`: every poly's room of that name.
    pub rooms: Option<Vec<String>>,
    /// Show these service sections (by key or name), e.g. `["farmasi"]`.
    pub services: Option<Vec<String>>,
}

/// What a board shows; all empty: the whole clinic.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sections {
    pub poly_ids: Vec<i64>,
    pub room_ids: Vec<i64>,
    pub rooms: Vec<String>,
    pub services: Vec<String>,
}

impl From<BoardFilter> for Sections {
    fn from(f: BoardFilter) -> Sections {
        Sections { poly_ids: f.poly_ids, room_ids: f.room_ids, rooms: f.rooms, services: f.services }
    }
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
    #[serde(flatten)]
    pub sections: Sections,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardView {
    pub id: i64,
    pub name: String,
    #[serde(flatten)]
    pub sections: Sections,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

fn view(b: Stored<ApiKey>) -> BoardView {
    BoardView {
        id: b.id,
        name: b.data.token_name,
        sections: b.data.board_filter.into(),
        created_by: b.data.created_by,
        created_at: b.created_at,
        updated_at: b.updated_at,
    }
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
    let filter = BoardFilter::parse(&mut errors, &body, &BoardFilter::default());
    errors.into_result()?;
    let (stored, token) = board::create(&s.deps, &caller, name, filter).await?;
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
            sections: stored.data.board_filter.into(),
            created_at: stored.created_at,
        },
    )))
}

#[utoipa::path(get, path = "/api/boards", tag = "Boards", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<BoardView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<MessageData<Vec<BoardView>>>> {
    caller.require(Permission::BoardsManage)?;
    let boards = board::list(&s.deps, &caller.tenant).await?;
    Ok(Json(envelope::message_data("Board list retrieved successfully", boards.into_iter().map(view).collect())))
}

#[utoipa::path(patch, path = "/api/boards/{id}", tag = "Boards", params(("id" = String, Path)), request_body(content = BoardBody),
    security(("bearer" = [])),
    responses((status = 200, body = MessageData<BoardView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<MessageData<BoardView>>> {
    caller.require(Permission::BoardsManage)?;
    let id = parse_id(&id, NOT_FOUND)?;
    let mut errors = FieldErrors::new();
    let name = antrean_domain::validate::optional_string(&mut errors, &body, "name", 100);
    // The body's own mistakes are answered (422) before looking the board up.
    BoardFilter::parse(&mut errors, &body, &BoardFilter::default());
    errors.into_result()?;
    let stored = board::update(&s.deps, &caller.tenant, &caller.actor, id, name, &body).await?;
    // Its open sockets close now and reconnect with the new sections.
    s.live.port.close_board(&caller.tenant, id).await;
    Ok(Json(envelope::message_data("Board updated successfully", view(stored))))
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
