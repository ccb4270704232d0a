//! Reminders for n8n (`/api/reminders/*`, permission `reminders.send`; a default n8n API key has
//! it): the reminders due now, claiming one for sending, and marking it sent. Served with the
//! queue group. See `antrean_domain::reminders` for the rules.
use antrean_domain::permission::Permission;
use antrean_domain::reminders::{self, due::DueReminder};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{self, Message, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(due)).routes(routes!(claim)).routes(routes!(sent))
}

#[utoipa::path(get, path = "/api/reminders/due", tag = "Reminders", security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<DueReminder>>, description = "Due now, not sent and not claimed by another run"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn due(State(s): State<AppState>, caller: Caller, headers: HeaderMap) -> ApiResult<Json<MessageData<Vec<DueReminder>>>> {
    caller.require(Permission::RemindersSend)?;
    let link = |code: &str| crate::groups::ticket::page_url(&s, &headers, code);
    let due = reminders::due::due(&s.deps, &caller.tenant, &link).await?;
    let message = if due.no_sender {
        "No WhatsApp config: add one at /api/whatsapp-configs to send reminders"
    } else {
        "Due reminders retrieved successfully"
    };
    Ok(Json(envelope::message_data(message, due.reminders)))
}

#[utoipa::path(post, path = "/api/reminders/{reminder_id}/claim", tag = "Reminders", params(("reminder_id" = String, Path, description = "e.g. `QUEUE-1-42`")),
    security(("bearer" = [])),
    responses((status = 200, body = Message, description = "This run sends it (for the next ten minutes)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Already sent, or another run is sending it: skip it")))]
async fn claim(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Message>> {
    caller.require(Permission::RemindersSend)?;
    let today = antrean_domain::board::today(&s.deps, &caller.tenant).await?;
    reminders::claim(&s.deps, &caller.tenant, today, &id).await?;
    Ok(Json(envelope::message("Reminder claimed successfully")))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Sent {
    pub status: &'static str,
    pub message: &'static str,
    /// True when an earlier call had already marked it (nothing changed).
    pub already_sent: bool,
}

#[utoipa::path(post, path = "/api/reminders/{reminder_id}/sent", tag = "Reminders", params(("reminder_id" = String, Path, description = "e.g. `QUEUE-1-42`")),
    security(("bearer" = [])),
    responses((status = 200, body = Sent, description = "Idempotent: a second call answers `already_sent: true`"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn sent(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Sent>> {
    caller.require(Permission::RemindersSend)?;
    let today = antrean_domain::board::today(&s.deps, &caller.tenant).await?;
    let marked = reminders::mark_sent(&s.deps, &caller.tenant, today, &id).await?;
    Ok(Json(Sent { status: "success", message: if marked { "Reminder marked as sent" } else { "Reminder was already marked as sent" }, already_sent: !marked }))
}
