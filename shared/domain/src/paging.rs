//! Laravel-style page numbers for lists (`?page=2&per_page=10`) and the seed's `meta` block
//! `{current_page, last_page, per_page, total}`.
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{DomainResult, FieldErrors};

pub const DEFAULT_PER_PAGE: usize = 10;
pub const MAX_PER_PAGE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: usize,
    pub per_page: usize,
}

/// The seed's `meta` block.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct PageMeta {
    pub current_page: usize,
    pub last_page: usize,
    pub per_page: usize,
    pub total: usize,
}

impl Paging {
    /// `page` ≥ 1 (default 1), `per_page` 1–100 (default 10). Empty values count as absent,
    /// as Laravel turns empty query strings into null.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> DomainResult<Paging> {
        let mut errors = FieldErrors::new();
        let page = number(&mut errors, "page", page, DEFAULT_PAGE, None);
        let per_page = number(&mut errors, "per_page", per_page, DEFAULT_PER_PAGE, Some(MAX_PER_PAGE));
        errors.into_result()?;
        Ok(Paging { page, per_page })
    }

    /// How many items come before this page (saturating: an absurd page is just past the end).
    pub fn offset(self) -> usize {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// The requested page of `items` and its meta. A page past the end is empty, as in Laravel.
    pub fn slice<T>(self, items: Vec<T>) -> (Vec<T>, PageMeta) {
        let total = items.len();
        let last_page = total.div_ceil(self.per_page).max(1);
        let skip = self.offset();
        let data = items.into_iter().skip(skip).take(self.per_page).collect();
        (data, PageMeta { current_page: self.page, last_page, per_page: self.per_page, total })
    }
}

const DEFAULT_PAGE: usize = 1;

fn number(errors: &mut FieldErrors, field: &str, raw: Option<&str>, default: usize, max: Option<usize>) -> usize {
    let human = crate::validate::human(field);
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return default };
    let Ok(n) = raw.parse::<i64>() else {
        errors.add(field, format!("The {human} field must be an integer."));
        return default;
    };
    if n < 1 {
        errors.add(field, format!("The {human} field must be at least 1."));
        return default;
    }
    if let Some(max) = max {
        if n > max as i64 {
            errors.add(field, format!("The {human} field must not be greater than {max}."));
            return default;
        }
    }
    usize::try_from(n).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        assert_eq!(Paging::parse(None, None).unwrap(), Paging { page: 1, per_page: 10 });
        assert_eq!(Paging::parse(Some(""), Some(" 100 ")).unwrap(), Paging { page: 1, per_page: 100 });
        for (page, per_page, field, message) in [
            (None, Some("0"), "per_page", "The per page field must be at least 1."),
            (None, Some("101"), "per_page", "The per page field must not be greater than 100."),
            (None, Some("ten"), "per_page", "The per page field must be an integer."),
            (Some("0"), None, "page", "The page field must be at least 1."),
            (Some("1.5"), None, "page", "The page field must be an integer."),
        ] {
            match Paging::parse(page, per_page) {
                Err(crate::DomainError::Validation(e)) => {
                    assert_eq!(e.0[field], serde_json::json!([message]));
                }
                other => panic!("{page:?} {per_page:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn slices_like_laravel() {
        let p = Paging { page: 2, per_page: 2 };
        assert_eq!(p.slice(vec![1, 2, 3, 4, 5]), (vec![3, 4], PageMeta { current_page: 2, last_page: 3, per_page: 2, total: 5 }));
        let (data, meta) = Paging { page: 9, per_page: 10 }.slice(Vec::<i32>::new());
        assert!(data.is_empty());
        assert_eq!(meta, PageMeta { current_page: 9, last_page: 1, per_page: 10, total: 0 });
    }
}
