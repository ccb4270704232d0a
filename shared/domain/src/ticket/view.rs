//! What the ticket page shows: this one reservation's number, poly, day and status, the number
//! now served, how many are ahead and the estimate. Nothing about any other patient (not even
//! their numbers beyond the one now served), and not the patient's own name or numbers, so a
//! forwarded link gives nothing away.
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::position::PolyDay;
use crate::clock::stamp;
use crate::configuration::config::clinic_timezone;
use crate::error::DomainResult;
use crate::poly::Poly;
use crate::record::{self, record_key, Stored};
use crate::schedule::Schedule;
use crate::reservation::Reservation;
use crate::status::Status;
use crate::tenant::Tenant;
use crate::Deps;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct TicketView {
    pub clinic: String,
    pub queue_number: i64,
    pub poly_id: i64,
    pub poly_name: String,
    /// `YYYY-MM-DD`, the clinic's calendar.
    pub date: String,
    /// The workflow code: `WAITING`, `ANAMNESA`, `WAITING_DOCTOR`, `WITH_DOCTOR`, `DONE`, `NO_SHOW`, `CANCELLED`.
    pub status: String,
    /// The clinic's label for it ("Menunggu").
    pub status_label: String,
    pub now_serving: Option<i64>,
    pub now_anamnesa: Option<i64>,
    /// Open numbers before this one; null once it is with the doctor or finished.
    pub ahead: Option<i64>,
    /// `HH:MM` clinic time; null once it is with the doctor or finished.
    pub estimated_time: Option<String>,
    /// The same, as a UTC timestamp.
    pub estimated_at: Option<String>,
    pub timezone: String,
    /// When this view was read (UTC): a page never steps back to an older one.
    pub at: String,
    /// Where the patient is now when the doctor sent them on (pharmacy, laboratory, cashier):
    /// `{"service_name", "kind", "status", "label"}`; null before.
    pub service: Option<TicketService>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct TicketService {
    pub service_name: String,
    pub kind: crate::clinic_flow::services::ServiceKind,
    /// `waiting_medicine`, `preparing`, `ready`, `collected` at the pharmacy; `waiting`, `called`, `done` elsewhere.
    pub status: String,
    /// "Obat siap diambil".
    pub label: String,
}

/// The view of one reservation now.
pub async fn view(deps: &Deps, tenant: &Tenant, r: &Stored<Reservation>) -> DomainResult<TicketView> {
    let now: DateTime<Utc> = deps.clock.now();
    let at = stamp(now);
    let tz = clinic_timezone(deps, tenant).await?;
    let d = &r.data;
    // The schedule, poly and status in one batch, beside the poly's day and the clinic.
    let keys = [record_key::<Schedule>(tenant, d.schedule_id), record_key::<Poly>(tenant, d.poly_id), record_key::<Status>(tenant, d.status_id)];
    let (day, items, clinic) = futures::future::try_join3(
        PolyDay::load(deps, tenant, d.poly_id, d.visit_date(), tz),
        async { Ok(deps.table.get_many(&keys, None).await?) },
        crate::clinic::find(deps, tenant),
    )
    .await?;
    let mut items = items.into_iter();
    let schedule = items.next().flatten().map(record::decode::<Stored<Schedule>>).transpose()?.filter(|s| !s.is_trashed()).map(|s| s.data);
    let poly = items.next().flatten().map(record::decode::<Stored<Poly>>).transpose()?;
    let status = items.next().flatten().map(record::decode::<Stored<Status>>).transpose()?;
    let p = day.position(d, schedule.as_ref(), now);
    Ok(TicketView {
        clinic: clinic.map(|c| c.name).unwrap_or_else(|| tenant.slug().to_string()),
        queue_number: d.queue_number,
        poly_id: d.poly_id,
        poly_name: poly.map(|p| p.data.name).unwrap_or_default(),
        date: d.date.clone(),
        status: d.status_code.clone(),
        // At a service, the ticket says where they are now ("Obat sedang disiapkan").
        status_label: match d.services.last() {
            Some(s) => crate::clinic_flow::services::label(&s.status).to_string(),
            None => status.map(|s| s.data.label).unwrap_or_else(|| d.status_code.clone()),
        },
        now_serving: p.now_serving,
        now_anamnesa: p.now_anamnesa,
        ahead: p.ahead,
        estimated_time: p.estimated_at.map(|t| t.with_timezone(&tz).format("%H:%M").to_string()),
        estimated_at: p.estimated_at.map(stamp),
        timezone: tz.name().to_string(),
        at,
        service: d.services.last().map(|s| TicketService {
            service_name: s.service_name.clone(),
            kind: s.kind,
            status: s.status.clone(),
            label: crate::clinic_flow::services::label(&s.status).into(),
        }),
    })
}
