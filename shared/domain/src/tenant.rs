//! A clinic is a tenant. Every key the product writes starts with `T#<clinic>#`, so no query
//! can reach another clinic's records: there is no way to build a key without a `Tenant`.
use crate::error::{DomainError, FieldErrors};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant {
    slug: String,
}

impl Tenant {
    /// A clinic slug: 2–40 characters of `a-z`, `0-9` and inner `-`, so it is safe inside
    /// keys, host names and tokens.
    pub fn parse(slug: &str) -> Result<Tenant, DomainError> {
        let s = slug.trim().to_ascii_lowercase();
        let ok = (2..=40).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Tenant { slug: s })
        } else {
            Err(FieldErrors::single(
                "slug",
                "The slug must be 2 to 40 characters of lowercase letters, digits and inner dashes.",
            ))
        }
    }

    pub fn slug(&self) -> &str {
        &self.slug
    }

    /// The partition holding every record of one kind: `T#<clinic>#<KIND>`.
    pub fn partition(&self, kind: &str) -> String {
        format!("T#{}#{}", self.slug, kind)
    }
}

/// Numeric ids as sort keys: zero-padded so byte order is numeric order.
pub fn id_key(id: i64) -> String {
    format!("{id:012}")
}
