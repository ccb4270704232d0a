//! Services after the doctor: the pharmacy, the laboratory, the cashier. A patient the doctor
//! has finished can be sent on (`transfer`) keeping the same ticket, number and history; each
//! service has its own stages and its own board section. The pharmacy's stages are "waiting
//! for medicine", "being prepared" and "ready to collect" (BPJS tasks 5, 6 and 7), then
//! collected; the others are waiting, called, done. Every step is one atomic write of the
//! reservation (conditioned on its version), the service's day-queue index item, the board's
//! call when the patient is called, and the audit entry.
use antrean_store::{Key, Op, StoreError, Update};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::audit::{self, Action, Actor};
use crate::clock::stamp;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::queue::MAX_CALLS;
use crate::record::{self, Record, Stored, Unique};
use crate::reservation::{self, item_with, Reservation, DONE};
use crate::tenant::{id_key, Tenant};
use crate::{validate, Deps};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    Pharmacy,
    Laboratory,
    Cashier,
    Other,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Service {
    /// As the waiting room reads it: "Apotek", "Laboratorium", "Kasir".
    pub name: String,
    pub kind: ServiceKind,
}

impl Record for Service {
    const KIND: &'static str = "SERVICE";
    const LABEL: &'static str = "Service";
    fn unique(&self) -> Vec<Unique> {
        vec![Unique::new("name", &self.name)]
    }
}

pub const NOT_FOUND: &str = "Service not found";

impl Service {
    pub fn parse(body: &Value) -> DomainResult<Service> {
        let mut errors = FieldErrors::new();
        let name = validate::required_string(&mut errors, body, "name", 100);
        let kind = match body.get("kind") {
            None | Some(Value::Null) => Some(ServiceKind::Other),
            Some(v) => serde_json::from_value::<ServiceKind>(v.clone()).ok(),
        };
        if kind.is_none() {
            errors.add("kind", "The kind must be one of: pharmacy, laboratory, cashier, other.");
        }
        errors.into_result()?;
        Ok(Service { name: name.unwrap_or_default(), kind: kind.unwrap_or(ServiceKind::Other) })
    }
}

/// One step of a stage, with when it happened (and the BPJS task it is, at the pharmacy).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageStep {
    pub status: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bpjs_task: Option<u8>,
}

/// The patient's visit to one service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceStage {
    pub service_id: i64,
    pub service_name: String,
    pub kind: ServiceKind,
    pub status: String,
    #[serde(default)]
    pub number_of_calls: i64,
    pub history: Vec<StageStep>,
}

/// The moves within a service: `PATCH /api/queue/{id}/service/<move>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageMove {
    /// Call the patient (again: a recall). The pharmacy's call is "ready to collect".
    Call,
    /// The pharmacy starts preparing the medicine.
    Prepare,
    /// Finished with the patient (the pharmacy: medicine collected).
    Done,
}

impl StageMove {
    pub fn parse(segment: &str) -> Option<StageMove> {
        match segment {
            "call" | "ready" => Some(StageMove::Call),
            "preparing" => Some(StageMove::Prepare),
            "done" | "collected" => Some(StageMove::Done),
            _ => None,
        }
    }
}

fn first_status(kind: ServiceKind) -> &'static str {
    if kind == ServiceKind::Pharmacy {
        "waiting_medicine"
    } else {
        "waiting"
    }
}

/// The stage's next status for a move: `(status, is a call)`; `None`: not from here.
pub fn step(kind: ServiceKind, status: &str, mv: StageMove) -> Option<(&'static str, bool)> {
    use StageMove::*;
    match (kind == ServiceKind::Pharmacy, status, mv) {
        (true, "waiting_medicine", Prepare) => Some(("preparing", false)),
        (true, "preparing" | "ready", Call) => Some(("ready", true)),
        (true, "ready", Done) => Some(("collected", false)),
        (false, "waiting" | "called", Call) => Some(("called", true)),
        (false, "called", Done) => Some(("done", false)),
        _ => None,
    }
}

pub fn is_finished(status: &str) -> bool {
    matches!(status, "done" | "collected")
}

/// What the waiting room and the ticket page read for a status.
pub fn label(status: &str) -> &'static str {
    match status {
        "waiting_medicine" => "Menunggu obat",
        "preparing" => "Obat sedang disiapkan",
        "ready" => "Obat siap diambil",
        "collected" => "Obat sudah diambil",
        "waiting" => "Menunggu",
        "called" => "Dipanggil",
        _ => "Selesai",
    }
}

/// The BPJS task a pharmacy status is (5: waiting for medicine, 6: being prepared, 7: ready).
pub fn bpjs_task(status: &str) -> Option<u8> {
    match status {
        "waiting_medicine" => Some(5),
        "preparing" => Some(6),
        "ready" => Some(7),
        _ => None,
    }
}

pub(crate) fn day_partition(tenant: &Tenant, date: &str) -> String {
    tenant.partition(&format!("SERVICE_QUEUE#{date}"))
}

fn index_key(tenant: &Tenant, r: &Reservation, service_id: i64) -> Key {
    Key::new(day_partition(tenant, &r.date), format!("{}#{}#{:06}", id_key(service_id), id_key(r.poly_id), r.queue_number))
}

/// The board's last call of a service on a day, beside the polies' (`T#…#BOARD#<date>`).
pub(crate) const CALL_PREFIX: &str = "SERVICE#";

async fn write_step(
    deps: &Deps,
    tenant: &Tenant,
    before: &Stored<Reservation>,
    version: i64,
    after: &Stored<Reservation>,
    actor: &Actor,
    created: bool,
) -> DomainResult<()> {
    let stage = after.data.services.last().ok_or_else(|| DomainError::Internal("a stage step without a stage".into()))?;
    let now = deps.clock.now();
    let mut ops = vec![Op::put_if(record::item_of(tenant, after, version + 1)?, antrean_store::Condition::equals(record::VERSION, version))];
    let key = index_key(tenant, &after.data, stage.service_id);
    let called = step_called(before, after);
    if created {
        ops.push(Op::put(item_with(
            &key,
            json!({"id": after.id, "poly_id": after.data.poly_id, "queue_number": after.data.queue_number, "status": stage.status,
                "priority": after.data.priority, "service_id": stage.service_id}),
        )));
    } else {
        let mut u = Update::new().set("status", stage.status.clone());
        if called {
            u = u.set("called_ms", now.timestamp_millis());
        }
        ops.push(Op::update(key, u));
    }
    if called {
        let u = Update::new()
            .set("queue_number", after.data.queue_number)
            .set("poly_id", after.data.poly_id)
            .set("status", stage.status.clone())
            .set("number_of_calls", stage.number_of_calls)
            .set("priority", after.data.priority)
            .set("at", stamp(now))
            .set("at_ms", now.timestamp_millis())
            .set(antrean_store::TTL_ATTRIBUTE, now.timestamp() + 3 * 86_400);
        let board = crate::board::calls_partition(tenant, after.data.visit_date());
        ops.push(Op::update(Key::new(board, format!("{CALL_PREFIX}{}", id_key(stage.service_id))), u));
    }
    // BPJS tasks 6 and 7 (the pharmacy's steps), in this same write.
    ops.extend(crate::bpjs::outbound::on_change(tenant, before, after, now));
    ops.push(audit::entry(tenant, actor, Action::Update, Reservation::KIND, after.id, now));
    match deps.table.write(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
            Err(DomainError::Conflict("Someone else has just moved this reservation; look again and retry.".into()))
        }
        Err(e) => Err(e.into()),
    }
}

fn step_called(before: &Stored<Reservation>, after: &Stored<Reservation>) -> bool {
    let calls = |r: &Stored<Reservation>| r.data.services.last().map(|s| (s.service_id, s.history.len(), s.number_of_calls));
    match (calls(before), calls(after)) {
        (Some((b_id, b_len, b_calls)), Some((a_id, a_len, a_calls))) => b_id == a_id && b_len <= a_len && a_calls > b_calls,
        _ => false,
    }
}

/// Sends a patient the doctor has finished on to `service_id` (seed-style
/// `PATCH /api/queue/{id}/transfer {"service_id"}`): a new stage, the same ticket.
pub async fn transfer(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Stored<Reservation>> {
    let mut errors = FieldErrors::new();
    let service_id = validate::required_id(&mut errors, body, "service_id");
    errors.into_result()?;
    let service_id = service_id.unwrap_or_default();
    let keys = [reservation::key(tenant, id), record::record_key::<Service>(tenant, service_id)];
    let mut items = deps.table.get_many(&keys, None).await?.into_iter();
    let (before, version) = match items.next().flatten() {
        Some(item) => reservation::decode(item)?,
        None => return Err(reservation::not_found()),
    };
    let service: Stored<Service> = match items.next().flatten().map(record::decode::<Stored<Service>>).transpose()? {
        Some(s) if !s.is_trashed() => s,
        _ => return Err(FieldErrors::single("service_id", "The selected service id is invalid.")),
    };
    if before.data.status_code != DONE {
        return Err(DomainError::Conflict(format!(
            "The reservation is {}; the doctor must finish with the patient before sending them on.",
            before.data.status_code
        )));
    }
    if let Some(open) = before.data.services.last().filter(|s| !is_finished(&s.status)) {
        return Err(DomainError::Conflict(format!("The patient is still at {} ({}).", open.service_name, label(&open.status))));
    }
    let now = deps.clock.now();
    let status = first_status(service.data.kind);
    let mut after = before.clone();
    after.updated_at = stamp(now);
    after.data.services.push(ServiceStage {
        service_id,
        service_name: service.data.name.clone(),
        kind: service.data.kind,
        status: status.into(),
        number_of_calls: 0,
        history: vec![StageStep { status: status.into(), at: stamp(now), bpjs_task: bpjs_task(status).filter(|_| service.data.kind == ServiceKind::Pharmacy) }],
    });
    write_step(deps, tenant, &before, version, &after, actor, true).await?;
    Ok(after)
}

/// One step within the patient's current service (`PATCH /api/queue/{id}/service/<move>`).
pub async fn move_stage(deps: &Deps, tenant: &Tenant, actor: &Actor, id: i64, mv: StageMove) -> DomainResult<Stored<Reservation>> {
    let (before, version) = reservation::read(deps, tenant, id).await?;
    let Some(stage) = before.data.services.last() else {
        return Err(DomainError::Conflict("The patient has not been sent on to a service.".into()));
    };
    let Some((status, call)) = step(stage.kind, &stage.status, mv) else {
        return Err(DomainError::Conflict(format!("The patient is at {} ({}); that step is not possible now.", stage.service_name, label(&stage.status))));
    };
    let recall = call && stage.status == status;
    if recall && stage.number_of_calls >= MAX_CALLS {
        return Err(DomainError::UnprocessableWith {
            message: format!("Maximum number of calls reached ({MAX_CALLS} times)"),
            data: json!({ "number_of_calls": stage.number_of_calls }),
        });
    }
    let now = deps.clock.now();
    let mut after = before.clone();
    after.updated_at = stamp(now);
    let s = after.data.services.last_mut().ok_or_else(|| DomainError::Internal("the stage vanished".into()))?;
    s.number_of_calls = if call { s.number_of_calls + 1 } else { s.number_of_calls };
    if !recall {
        let task = if s.kind == ServiceKind::Pharmacy { bpjs_task(status) } else { None };
        s.history.push(StageStep { status: status.into(), at: stamp(now), bpjs_task: task });
    }
    s.status = status.into();
    write_step(deps, tenant, &before, version, &after, actor, false).await?;
    Ok(after)
}

/// One number at a service on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceNumber {
    pub queue_number: i64,
    pub poly_id: i64,
    pub status: String,
    pub priority: bool,
}

/// A service's day from its index: the numbers called (ready) now and how many wait.
pub fn numbers_of(items: &[antrean_store::Item], service_id: i64) -> (Vec<ServiceNumber>, i64) {
    let mut called = Vec::new();
    let mut waiting = 0;
    for i in items.iter().filter(|i| i.get("service_id").and_then(Value::as_i64) == Some(service_id)) {
        let status = i.get("status").and_then(Value::as_str).unwrap_or_default().to_string();
        match status.as_str() {
            "called" | "ready" => called.push(ServiceNumber {
                queue_number: i.get("queue_number").and_then(Value::as_i64).unwrap_or_default(),
                poly_id: i.get("poly_id").and_then(Value::as_i64).unwrap_or_default(),
                status,
                priority: i.get("priority").and_then(Value::as_bool).unwrap_or(false),
            }),
            "waiting" | "waiting_medicine" | "preparing" => waiting += 1,
            _ => {}
        }
    }
    (called, waiting)
}

/// A service after the doctor on the board (pharmacy, laboratory, cashier): the numbers called
/// (at the pharmacy: ready to collect) and how many wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceBoard {
    /// `"service"`.
    pub kind: String,
    pub service_id: i64,
    pub service_name: String,
    /// `pharmacy`, `laboratory`, `cashier`, `other`.
    pub service_kind: ServiceKind,
    pub called: Vec<ServiceNumber>,
    pub waiting: i64,
    pub last_call: Option<ServiceCall>,
}

/// A service's latest call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCall {
    pub queue_number: i64,
    pub poly_id: i64,
    /// `called`, or at the pharmacy `ready`.
    pub status: String,
    pub number_of_calls: i64,
    pub priority: bool,
    pub at: String,
}

/// The services' day queue, every service: one Query.
pub async fn day(deps: &Deps, tenant: &Tenant, date: chrono::NaiveDate) -> DomainResult<Vec<antrean_store::Item>> {
    let partition = day_partition(tenant, &date.format("%Y-%m-%d").to_string());
    Ok(antrean_store::query_all(deps.table.as_ref(), antrean_store::Query::partition(partition).sort(antrean_store::SortKey::Any)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pharmacy_keeps_its_three_stages_and_others_their_own() {
        use StageMove::*;
        let p = ServiceKind::Pharmacy;
        assert_eq!(step(p, "waiting_medicine", Prepare), Some(("preparing", false)));
        assert_eq!(step(p, "waiting_medicine", Call), None, "medicine is prepared before it is ready");
        assert_eq!(step(p, "preparing", Call), Some(("ready", true)));
        assert_eq!(step(p, "ready", Call), Some(("ready", true)), "a recall");
        assert_eq!(step(p, "ready", Done), Some(("collected", false)));
        assert_eq!(step(p, "collected", Done), None);
        assert_eq!((bpjs_task("waiting_medicine"), bpjs_task("preparing"), bpjs_task("ready")), (Some(5), Some(6), Some(7)));
        let lab = ServiceKind::Laboratory;
        assert_eq!(step(lab, "waiting", Call), Some(("called", true)));
        assert_eq!(step(lab, "waiting", Done), None);
        assert_eq!(step(lab, "called", Done), Some(("done", false)));
        assert_eq!(step(lab, "waiting", Prepare), None);
    }
}
