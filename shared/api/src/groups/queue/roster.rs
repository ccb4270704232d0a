//! The day's room roster (issue 16): which doctor sits in which room on a date
//! (`clinic_flow::roster`). A room's own doctor is the default; call-next with a room calls
//! its doctor's patients first.
use antrean_domain::clinic_flow::roster::{self, RosterRoom};
use antrean_domain::permission::Permission;
use antrean_domain::queue;
use antrean_domain::FieldErrors;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::reservations::{filter_date, filter_id};
use crate::envelope::{self, Data, MessageData};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show, set))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RosterParams {
    /// `YYYY-MM-DD`; default the clinic's today.
    pub date: Option<String>,
    #[param(value_type = Option<u32>)]
    pub poly_id: Option<String>,
}

#[utoipa::path(get, path = "/api/queue/rooms/roster", tag = "Rooms", params(RosterParams), security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<RosterRoom>>, description = "Every live room (of one poly when asked) with its doctor that day: `source` roster (set for the day) or default (the room's own doctor)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn show(State(s): State<AppState>, caller: Caller, Query(q): Query<RosterParams>) -> ApiResult<Json<Data<Vec<RosterRoom>>>> {
    caller.require(Permission::QueueView)?;
    let mut errors = FieldErrors::new();
    let date = filter_date(&mut errors, "date", q.date.as_deref());
    let poly_id = filter_id(&mut errors, "poly_id", q.poly_id.as_deref());
    errors.into_result()?;
    let date = queue::day_or_today(&s.deps, &caller.tenant, date).await?;
    Ok(Json(envelope::data(roster::day(&s.deps, &caller.tenant, date, poly_id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RosterEntry {
    pub room_id: i64,
    /// The doctor (a staff user) in the room that day; null: nobody.
    pub doctor_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RosterBody {
    /// `YYYY-MM-DD`, today or later.
    pub date: String,
    /// Up to 50 rooms; rooms left out keep what they had. A doctor sits in one room a day.
    pub rooms: Vec<RosterEntry>,
}

#[utoipa::path(put, path = "/api/queue/rooms/roster", tag = "Rooms", request_body = RosterBody, security(("bearer" = [])),
    responses((status = 200, body = MessageData<Vec<RosterRoom>>, description = "The day's roster as it now is"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A bad date, an unknown room or doctor, a room named twice, or a doctor in two rooms")))]
async fn set(State(s): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> ApiResult<Json<MessageData<Vec<RosterRoom>>>> {
    caller.require(Permission::RoomsManage)?;
    let today = queue::today(&s.deps, &caller.tenant).await?;
    let day = roster::set(&s.deps, &caller.tenant, &caller.actor, &body, today).await?;
    Ok(Json(envelope::message_data("Room roster updated successfully", day)))
}
