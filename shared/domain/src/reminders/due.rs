//! Which reminders are due now (see the module notes for the rules), each rendered from its
//! message template, with the patient's WhatsApp number and the WhatsApp config to send from
//! (the clinic's first: the lowest id).
//!
//! Reads: the reminder configs, WhatsApp configs and templates (small partitions), today's
//! markers (one Query), and only when a config needs them: today's queue (one Query), its open
//! reservations and their patients (batch reads), their schedules and doctors, and tomorrow's
//! check-ups (one Query and a batch read).
use std::collections::{BTreeSet, HashMap};

use antrean_store::{Query, SortKey};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{ReminderId, Subject};
use crate::checkup_schedule;
use crate::configuration::config::clinic_timezone;
use crate::configuration::message_template::MessageTemplate;
use crate::configuration::reminder_config::{self, ReminderConfig};
use crate::configuration::whatsapp_config::WhatsappConfig;
use crate::error::DomainResult;
use crate::patient::{self, Patient};
use crate::poly::Poly;
use crate::record::{self, Stored};
use crate::reservation::{self, Reservation, WAITING};
use crate::schedule::Schedule;
use crate::ticket::position::{self, PolyDay, Position};
use crate::user::User;
use crate::{Deps, Tenant};

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Sender {
    pub id: i64,
    pub whatsapp_number: String,
    pub waha_api_url: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct DueReminder {
    /// Claim and mark it sent with this id.
    pub reminder_id: String,
    pub reminder_type: String,
    pub reminder_config_id: i64,
    pub message_template_id: i64,
    pub reservation_id: Option<i64>,
    pub checkup_schedule_id: Option<i64>,
    /// The patient; null for a message to a staff account (`PASSWORD_RESET`).
    pub patient_id: Option<i64>,
    pub patient_name: String,
    /// International form, e.g. `6281234567890`.
    pub whatsapp_number: String,
    /// WAHA's chat id: the patient's own, else `<number>@c.us`.
    pub chat_id: String,
    /// The template with its placeholders filled in.
    pub message: String,
    pub queue_number: Option<i64>,
    pub poly_id: Option<i64>,
    pub poly_name: String,
    /// The visit (or check-up) day, `YYYY-MM-DD`.
    pub date: String,
    pub ahead: Option<i64>,
    pub estimated_time: Option<String>,
    /// The patient's live ticket page (queue reminders), also the template's `{{ticket_url}}`.
    pub ticket_url: Option<String>,
    /// Where to send from.
    pub whatsapp_config: Sender,
}

/// The due reminders, and whether the clinic lacks a WhatsApp config (then none are due).
#[derive(Debug, Clone, Default)]
pub struct Due {
    pub reminders: Vec<DueReminder>,
    pub no_sender: bool,
    /// The clinic's today: the day claims and marks count under.
    pub day: NaiveDate,
}

/// Today's markers: sent ids, and ids claimed until when (ms).
async fn markers(deps: &Deps, tenant: &Tenant, day: NaiveDate) -> DomainResult<(BTreeSet<String>, HashMap<String, i64>)> {
    let q = Query::partition(tenant.partition(&format!("REMINDER#{}", day.format("%Y-%m-%d")))).sort(SortKey::Any);
    let (mut sent, mut claimed) = (BTreeSet::new(), HashMap::new());
    for item in antrean_store::query_all(deps.table.as_ref(), q).await? {
        let Some(id) = item.get("sk").and_then(Value::as_str).map(str::to_string) else { continue };
        if item.contains_key("sent_at") {
            sent.insert(id);
        } else if let Some(until) = item.get("claimed_until_ms").and_then(Value::as_i64) {
            claimed.insert(id, until);
        }
    }
    Ok((sent, claimed))
}

/// What a reminder is rendered from.
struct Facts<'a> {
    config: &'a Stored<ReminderConfig>,
    subject: Subject,
    patient: &'a Stored<Patient>,
    poly: (i64, String),
    date: String,
    queue_number: Option<i64>,
    position: Option<Position>,
    doctor: String,
    ticket_code: Option<String>,
}

/// `ticket_link` turns a ticket code into its page's address (the HTTP layer knows the host).
pub async fn due(deps: &Deps, tenant: &Tenant, ticket_link: &(dyn Fn(&str) -> String + Sync)) -> DomainResult<Due> {
    let tz = clinic_timezone(deps, tenant).await?;
    let now: DateTime<Utc> = deps.clock.now();
    let today = now.with_timezone(&tz).date_naive();
    let mut out = Due { day: today, ..Due::default() };
    let (configs, outbox) = futures::future::try_join(reminder_config::list(deps, tenant), super::outbox::pending(deps, tenant)).await?;
    if configs.is_empty() && outbox.is_empty() {
        return Ok(out);
    }
    let mut senders = record::list::<WhatsappConfig>(deps, tenant, false).await?;
    senders.sort_by_key(|s| s.id);
    let Some(sender) = senders.into_iter().next() else {
        out.no_sender = true;
        return Ok(out);
    };
    let sender = Sender { id: sender.id, whatsapp_number: sender.data.whatsapp_number, waha_api_url: sender.data.waha_api_url };
    // The product's own messages first: a recovery code is wanted now.
    let now_ms = now.timestamp_millis();
    for p in outbox.into_iter().filter(|p| p.claimed_until_ms.is_none_or(|until| until <= now_ms)) {
        out.reminders.push(DueReminder {
            reminder_id: format!("{}{}", super::outbox::PREFIX, p.user_id),
            reminder_type: "PASSWORD_RESET".into(),
            reminder_config_id: 0,
            message_template_id: 0,
            reservation_id: None,
            checkup_schedule_id: None,
            patient_id: None,
            patient_name: p.name,
            chat_id: format!("{}@c.us", p.whatsapp_number),
            whatsapp_number: p.whatsapp_number,
            message: p.message,
            queue_number: None,
            poly_id: None,
            poly_name: String::new(),
            date: today.format("%Y-%m-%d").to_string(),
            ahead: None,
            estimated_time: None,
            ticket_url: None,
            whatsapp_config: sender.clone(),
        });
    }
    let templates: HashMap<i64, MessageTemplate> =
        record::get_many::<MessageTemplate>(deps, tenant, configs.iter().map(|c| c.data.message_template_id)).await?.into_iter().map(|(id, t)| (id, t.data)).collect();
    let (sent, claimed) = markers(deps, tenant, today).await?;
    let polies: HashMap<i64, String> = record::list_all::<Poly>(deps, tenant).await?.into_iter().map(|p| (p.id, p.data.name)).collect();
    let mut facts: Vec<Facts> = Vec::new();

    // QUEUE and TIME: today's waiting patients.
    let kind = |c: &Stored<ReminderConfig>| c.data.reminder_type.clone();
    let queue_configs: Vec<&Stored<ReminderConfig>> = configs.iter().filter(|c| matches!(kind(c).as_str(), "QUEUE" | "TIME" | "SCHEDULE")).collect();
    let (reservations, patients, days, schedules, doctors);
    if !queue_configs.is_empty() {
        let entries = reservation::day_entries(deps, tenant, today, None).await?;
        // Only those not yet called: a patient at anamnesa or waiting for the doctor is here.
        let waiting: Vec<i64> = entries.iter().filter(|e| e.status_code == WAITING).map(|e| e.id).collect();
        reservations = reservation::many(deps, tenant, &waiting).await?;
        patients = patient::many(deps, tenant, reservations.iter().map(|r| r.data.patient_id)).await?;
        let minutes = position::configured_minutes(deps, tenant).await?;
        let mut by_poly: HashMap<i64, PolyDay> = HashMap::new();
        for e in entries {
            by_poly.entry(e.poly_id).or_insert_with(|| PolyDay { entries: vec![], configured_minutes: minutes, tz, learned: Default::default() }).entries.push(e);
        }
        days = by_poly;
        (schedules, doctors) = schedules_and_doctors(deps, tenant, &reservations).await?;
        for r in &reservations {
            let Some(p) = patients.get(&r.data.patient_id) else { continue };
            let schedule = schedules.get(&r.data.schedule_id);
            let Some(day) = days.get(&r.data.poly_id) else { continue };
            let pos = day.position(&r.data, schedule, now);
            for c in &queue_configs {
                let is_due = match c.data.reminder_type.as_str() {
                    "QUEUE" => pos.ahead.is_some_and(|a| a <= c.data.reminder_patient_count),
                    _ => pos.estimated_at.is_some_and(|t| t - Duration::minutes(c.data.reminder_offset) <= now),
                };
                if is_due {
                    facts.push(Facts {
                        config: c,
                        subject: Subject::Reservation(r.id),
                        patient: p,
                        poly: (r.data.poly_id, polies.get(&r.data.poly_id).cloned().unwrap_or_default()),
                        date: r.data.date.clone(),
                        queue_number: Some(r.data.queue_number),
                        position: Some(pos.clone()),
                        doctor: schedule.and_then(|s| doctors.get(&s.doctor_id)).cloned().unwrap_or_default(),
                        ticket_code: r.data.ticket_code.clone(),
                    });
                }
            }
        }
    }

    // CHECKUP: tomorrow's check-ups (H-1).
    let checkup_configs: Vec<&Stored<ReminderConfig>> = configs.iter().filter(|c| c.data.reminder_type == "CHECKUP").collect();
    let (checkups, checkup_patients);
    if !checkup_configs.is_empty() {
        let tomorrow = (today + Duration::days(1)).format("%Y-%m-%d").to_string();
        checkups = checkup_schedule::on_date(deps, tenant, &tomorrow).await?;
        checkup_patients = patient::many(deps, tenant, checkups.iter().map(|c| c.data.patient_id)).await?;
        for k in &checkups {
            let Some(p) = checkup_patients.get(&k.data.patient_id) else { continue };
            for c in &checkup_configs {
                facts.push(Facts {
                    config: c,
                    subject: Subject::Checkup(k.id),
                    patient: p,
                    poly: (k.data.poly_id, polies.get(&k.data.poly_id).cloned().unwrap_or_default()),
                    date: k.data.date.clone(),
                    queue_number: None,
                    position: None,
                    doctor: String::new(),
                    ticket_code: None,
                });
            }
        }
    }

    for f in facts {
        let id = ReminderId { kind: f.config.data.reminder_type.clone(), config_id: f.config.id, subject: f.subject }.as_string();
        if sent.contains(&id) || claimed.get(&id).is_some_and(|until| *until > now_ms) {
            continue;
        }
        let (Some(number), Some(template)) = (f.patient.data.whatsapp_number.clone(), templates.get(&f.config.data.message_template_id)) else { continue };
        let estimated_time = f.position.as_ref().and_then(|p| p.estimated_at).map(|t| t.with_timezone(&tz).format("%H:%M").to_string());
        let queue_number = f.queue_number.map(|n| n.to_string()).unwrap_or_default();
        let ticket_url = f.ticket_code.as_deref().map(ticket_link);
        let message = template.render(&[
            ("patient_name", &f.patient.data.patient_name),
            ("queue_number", &queue_number),
            ("poly", &f.poly.1),
            ("date", &f.date),
            ("doctor", &f.doctor),
            ("estimated_time", estimated_time.as_deref().unwrap_or("")),
            ("ticket_url", ticket_url.as_deref().unwrap_or("")),
        ]);
        let (reservation_id, checkup_schedule_id) = match f.subject {
            Subject::Reservation(r) => (Some(r), None),
            Subject::Checkup(c) => (None, Some(c)),
        };
        out.reminders.push(DueReminder {
            reminder_id: id,
            reminder_type: f.config.data.reminder_type.clone(),
            reminder_config_id: f.config.id,
            message_template_id: f.config.data.message_template_id,
            reservation_id,
            checkup_schedule_id,
            patient_id: Some(f.patient.id),
            patient_name: f.patient.data.patient_name.clone(),
            chat_id: f.patient.data.chat_id.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| format!("{number}@c.us")),
            whatsapp_number: number,
            message,
            queue_number: f.queue_number,
            poly_id: Some(f.poly.0),
            poly_name: f.poly.1,
            date: f.date,
            ahead: f.position.as_ref().and_then(|p| p.ahead),
            estimated_time,
            ticket_url,
            whatsapp_config: sender.clone(),
        });
    }
    Ok(out)
}

/// The schedules the reservations were booked on, and their doctors' names: two batch reads.
async fn schedules_and_doctors(deps: &Deps, tenant: &Tenant, reservations: &[Stored<Reservation>]) -> DomainResult<(HashMap<i64, Schedule>, HashMap<i64, String>)> {
    let schedules: HashMap<i64, Schedule> = record::get_many::<Schedule>(deps, tenant, reservations.iter().map(|r| r.data.schedule_id))
        .await?
        .into_iter()
        .filter(|(_, s)| !s.is_trashed())
        .map(|(id, s)| (id, s.data))
        .collect();
    let doctors = record::get_many::<User>(deps, tenant, schedules.values().map(|s| s.doctor_id)).await?.into_iter().map(|(id, u)| (id, u.data.name)).collect();
    Ok((schedules, doctors))
}
