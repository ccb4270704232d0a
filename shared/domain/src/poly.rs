//! Polies (clinic departments: Poli Umum, Poli Gigi, …). Names are unique per clinic.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{DomainResult, FieldErrors};
use crate::record::{Record, Unique};
use crate::validate;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Poly {
    pub name: String,
}

impl Record for Poly {
    const KIND: &'static str = "POLY";
    const LABEL: &'static str = "Poly";
    fn unique(&self) -> Vec<Unique> {
        vec![Unique::new("name", &self.name)]
    }
}

impl Poly {
    /// `{"name": "umum"}`: required, at most 255 characters.
    pub fn parse(body: &Value) -> DomainResult<Poly> {
        let mut errors = FieldErrors::new();
        let name = validate::required_string(&mut errors, body, "name", 255);
        errors.into_result()?;
        Ok(Poly { name: name.unwrap_or_default() })
    }
}
