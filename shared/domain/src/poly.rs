//! Polies (clinic departments: Poli Umum, Poli Gigi, …). Names are unique per clinic.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::Actor;
use crate::bpjs::codes;
use crate::error::{DomainResult, FieldErrors};
use crate::record::{self, Record, Stored, Unique};
use crate::tenant::Tenant;
use crate::webhook::WebhookSender;
use crate::{validate, Deps};

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

/// Creates a poly with its optional BPJS code (`kodepoli`, `prefix`; `bpjs::codes`): checked
/// against BPJS's `ref/poli` when the clinic has BPJS configured, written in the poly's own write.
pub async fn create(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, actor: &Actor, body: &Value) -> DomainResult<Stored<Poly>> {
    let poly = Poly::parse(body)?;
    let form = codes::PolyForm::parse(body)?;
    codes::check_poly(deps, sender, tenant, &form, "kodepoli").await?;
    let name = poly.name.clone();
    record::create(deps, tenant, actor, poly, |id| codes::poly_requirement(tenant, id, &name, &form, None)).await
}

/// Renames a poly and sets, keeps (absent) or removes (`null`) its BPJS code.
pub async fn update(deps: &Deps, sender: &dyn WebhookSender, tenant: &Tenant, actor: &Actor, id: i64, body: &Value) -> DomainResult<Stored<Poly>> {
    let poly = Poly::parse(body)?;
    let form = codes::PolyForm::parse(body)?;
    let current = codes::read(deps, tenant).await?.polies.remove(&id);
    if current.as_ref().map(|c| codes::Change::Set(c.kodepoli.clone())) != Some(form.kodepoli.clone()) {
        codes::check_poly(deps, sender, tenant, &form, "kodepoli").await?;
    }
    record::update::<Poly>(deps, tenant, actor, id, |_| Ok((poly.clone(), codes::poly_requirement(tenant, id, &poly.name, &form, current.as_ref())))).await
}
