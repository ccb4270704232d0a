//! Who an appointment is for: the patient's details as the booking form carries them. The
//! patient record itself is found or registered at check-in, by the reservation path, so a
//! booking that never arrives leaves no patient behind.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldErrors;
use crate::patient::PatientForm;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Visitor {
    pub patient_name: String,
    #[serde(default)]
    pub whatsapp_number: Option<String>,
    #[serde(default)]
    pub no_bpjs: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// `YYYY-MM-DD`: what age rules are judged by.
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub bpjs: bool,
}

impl Visitor {
    /// The patient fields (as `POST /api/reservation` takes them), `birth_date` and `bpjs`.
    pub fn parse(errors: &mut FieldErrors, body: &Value, today: NaiveDate) -> Option<Visitor> {
        let form = PatientForm::parse(errors, body);
        let birth_date = match body.get("birth_date") {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) if s.trim().is_empty() => Some(None),
            Some(_) => match crate::validate::required_date(errors, body, "birth_date") {
                Some(d) if d > today => {
                    errors.add("birth_date", "The birth date field must be a date before or equal to today.");
                    None
                }
                Some(d) => Some(Some(d.format("%Y-%m-%d").to_string())),
                None => None,
            },
        };
        let bpjs = match body.get("bpjs") {
            None | Some(Value::Null) => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            _ => {
                errors.add("bpjs", "The bpjs field must be true or false.");
                None
            }
        };
        if bpjs == Some(true) && form.as_ref().is_some_and(|f| f.no_bpjs.is_none()) {
            errors.add("no_bpjs", "The no bpjs field is required when bpjs is true.");
        }
        let form = form?;
        Some(Visitor {
            patient_name: form.patient_name,
            whatsapp_number: form.whatsapp_number,
            no_bpjs: form.no_bpjs,
            email: form.email,
            birth_date: birth_date?,
            bpjs: bpjs?,
        })
    }

    /// The one thing that names this patient across bookings: the WhatsApp number, else BPJS.
    pub fn identity(&self) -> String {
        match (&self.whatsapp_number, &self.no_bpjs) {
            (Some(w), _) => format!("wa:{w}"),
            (None, Some(b)) => format!("bpjs:{b}"),
            (None, None) => format!("name:{}", self.patient_name.to_lowercase()),
        }
    }

    /// The body the reservation path takes at check-in.
    pub fn reservation_body(&self, poly_id: i64, schedule_id: i64, date: &str) -> Value {
        serde_json::json!({"patient_name": self.patient_name, "whatsapp_number": self.whatsapp_number, "no_bpjs": self.no_bpjs,
            "email": self.email, "poly_id": poly_id, "schedule_id": schedule_id, "bpjs": self.bpjs, "date": date})
    }
}
