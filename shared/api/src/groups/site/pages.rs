//! The display-board page and the patient's ticket page (`infra/board/`), built into the
//! binary. `page_url` links point here when `BOARD_PAGE_URL` is not set: on AWS at
//! `/board/index.html` and `/board/ticket.html` (API Gateway's `GET /board/{proxy+}` routes
//! them to the site function), on the dev server `/board/` as well.
use axum::extract::{Path, RawQuery};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorBody};
use crate::AppState;

const INDEX_HTML: &str = include_str!("../../../../../infra/board/index.html");
const BOARD_JS: &str = include_str!("../../../../../infra/board/board.js");
const BOARD_WORDS_JS: &str = include_str!("../../../../../infra/board/board-words.js");
const BOARD_LAYOUT_JS: &str = include_str!("../../../../../infra/board/board-layout.js");
const BOARD_RENDER_JS: &str = include_str!("../../../../../infra/board/board-render.js");
const BOARD_VOICE_JS: &str = include_str!("../../../../../infra/board/board-voice.js");
const BOARD_SOCKET_JS: &str = include_str!("../../../../../infra/board/board-socket.js");
const BOARD_CSS: &str = include_str!("../../../../../infra/board/board.css");
const TICKET_HTML: &str = include_str!("../../../../../infra/board/ticket.html");
const TICKET_JS: &str = include_str!("../../../../../infra/board/ticket.js");

/// The files and their types. Anything else under `/board/` is the JSON 404.
fn file(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "index.html" => ("text/html; charset=utf-8", INDEX_HTML),
        "board.js" => ("text/javascript; charset=utf-8", BOARD_JS),
        "board-words.js" => ("text/javascript; charset=utf-8", BOARD_WORDS_JS),
        "board-layout.js" => ("text/javascript; charset=utf-8", BOARD_LAYOUT_JS),
        "board-render.js" => ("text/javascript; charset=utf-8", BOARD_RENDER_JS),
        "board-voice.js" => ("text/javascript; charset=utf-8", BOARD_VOICE_JS),
        "board-socket.js" => ("text/javascript; charset=utf-8", BOARD_SOCKET_JS),
        "board.css" => ("text/css; charset=utf-8", BOARD_CSS),
        "ticket.html" => ("text/html; charset=utf-8", TICKET_HTML),
        "ticket.js" => ("text/javascript; charset=utf-8", TICKET_JS),
        _ => return None,
    })
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(page))
        // `/board` (no slash) sends the browser to the page itself, keeping `?token=…`.
        .route(
            "/board",
            get(|RawQuery(q): RawQuery| async move {
                Redirect::permanent(&format!(
                    "/board/index.html{}",
                    q.map(|q| format!("?{q}")).unwrap_or_default()
                ))
            }),
        )
        .route("/board/", get(|| async { serve("index.html") }))
}

fn serve(name: &str) -> Response {
    match file(name) {
        // no-cache: a screen left on all day picks up a new page version on its next load.
        Some((kind, body)) => (
            [
                (header::CONTENT_TYPE, kind),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, "The requested file does not exist.")
            .into_response(),
    }
}

#[utoipa::path(get, path = "/board/{file}", tag = "Site",
    params(("file" = String, Path, description = "`index.html` (the board: `?token=<board token>&ws=<socket URL>`), `ticket.html` (`?code=<ticket code>`), `board.js` with `board-words.js`, `board-layout.js`, `board-render.js`, `board-voice.js`, `board-socket.js`, `board.css`, `ticket.js`")),
    responses((status = 200, description = "The page or its script / style sheet", content((String = "text/html"), (String = "text/javascript"), (String = "text/css"))),
        (status = 404, body = ErrorBody, description = "No such file")))]
async fn page(Path(name): Path<String>) -> Response {
    serve(&name)
}
