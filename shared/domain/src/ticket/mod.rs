//! The patient's ticket: every reservation gets an unguessable code, and whoever holds the
//! code (the patient, from the printed slip or a WhatsApp message) can see where that one
//! reservation stands, and nothing else.
//!
//! A code is `<clinic slug>.<20 characters>`: the clinic part says which tenant to look in
//! (every key starts with it), the secret part is 100 random bits from an alphabet without
//! look-alikes. Keys: the pointer `T#<clinic>#TICKET` / `<secret>` holding the reservation
//! id, put with "not exists" in the reservation's own create write.
pub mod position;
pub mod view;

use antrean_store::{Item, Key, Op};
use rand::Rng;
use serde_json::Value;

use crate::error::{DomainError, DomainResult};
use crate::record::Stored;
use crate::reservation::{self, Reservation};
use crate::tenant::Tenant;
use crate::Deps;

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const SECRET_LEN: usize = 20;
pub const NOT_FOUND: &str = "Ticket not found";

/// A well-formed ticket code; it may still name nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketCode {
    pub tenant: Tenant,
    secret: String,
}

impl TicketCode {
    pub fn generate(tenant: &Tenant) -> TicketCode {
        let mut rng = rand::rng();
        let secret = (0..SECRET_LEN).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
        TicketCode { tenant: tenant.clone(), secret }
    }

    /// Reads `<slug>.<secret>`; lower-case letters are accepted (people retype codes).
    pub fn parse(raw: &str) -> Option<TicketCode> {
        let (slug, secret) = raw.trim().rsplit_once('.')?;
        let secret = secret.to_ascii_uppercase();
        if secret.len() != SECRET_LEN || !secret.bytes().all(|b| ALPHABET.contains(&b)) {
            return None;
        }
        Some(TicketCode { tenant: Tenant::parse(slug).ok()?, secret })
    }

    pub fn as_string(&self) -> String {
        format!("{}.{}", self.tenant.slug(), self.secret)
    }

    fn key(&self) -> Key {
        Key::new(self.tenant.partition("TICKET"), self.secret.clone())
    }

    /// Removes the pointer: the code then finds nothing (a patient's erasure).
    pub(crate) fn delete_op(&self) -> Op {
        Op::delete(self.key())
    }

    /// The pointer to the reservation, for the reservation's create write.
    pub fn put_op(&self, reservation_id: i64) -> Op {
        let key = self.key();
        let mut item = Item::new();
        item.insert("pk".into(), key.pk.into());
        item.insert("sk".into(), key.sk.into());
        item.insert("id".into(), reservation_id.into());
        Op::put_new(item)
    }
}

/// The reservation a code names: two GetItems (the pointer, then the reservation). Any
/// failure is the same "Ticket not found", whatever part was wrong.
pub async fn find(deps: &Deps, raw: &str) -> DomainResult<(Tenant, Stored<Reservation>)> {
    let not_found = || DomainError::NotFound(NOT_FOUND.into());
    let code = TicketCode::parse(raw).ok_or_else(not_found)?;
    let pointer = deps.table.get(&code.key()).await?.ok_or_else(not_found)?;
    let id = pointer.get("id").and_then(Value::as_i64).ok_or_else(not_found)?;
    let (r, _) = reservation::read(deps, &code.tenant, id).await.map_err(|e| match e {
        DomainError::NotFound(_) => not_found(),
        other => other,
    })?;
    // The pointer and the reservation were written together; a mismatch means neither counts.
    if r.data.ticket_code.as_deref() != Some(code.as_string().as_str()) {
        return Err(not_found());
    }
    Ok((code.tenant, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_and_refuse_anything_else() {
        let t = Tenant::parse("klinik-sehat").unwrap();
        let code = TicketCode::generate(&t);
        let s = code.as_string();
        assert!(s.starts_with("klinik-sehat."), "{s}");
        assert_eq!(TicketCode::parse(&s), Some(code.clone()));
        assert_eq!(TicketCode::parse(&s.to_lowercase()), Some(code));
        for bad in ["", "klinik-sehat", "klinik-sehat.SHORT", ".ABCDEFGHJKLMNPQRSTUV", "Bad Slug.ABCDEFGHJKLMNPQRSTUV", "x.ABCDEFGHJKLMNPQRST0"] {
            assert_eq!(TicketCode::parse(bad), None, "{bad}");
        }
        assert_ne!(TicketCode::generate(&t), TicketCode::generate(&t));
    }
}
