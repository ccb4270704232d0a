//! Laravel's `LengthAwarePaginator` JSON (`current_page`, `data`, `first_page_url`, `links`, …),
//! as the seed's message-template and reminder-config lists show it, and the request's own
//! URL that its links are built from.
use antrean_domain::paging::Paging;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::header;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// Where a request came in: `http://host:port`, its path and query pairs.
#[derive(Debug, Clone)]
pub struct RequestUrl {
    pub base: String,
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.split(',').next().unwrap_or("").trim().to_string());
        let scheme = header("x-forwarded-proto")
            .filter(|p| p == "http" || p == "https")
            .or_else(|| parts.uri.scheme_str().map(str::to_string))
            .unwrap_or_else(|| "http".into());
        let host = header(header::HOST.as_str())
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            // Only host-name characters: a crafted Host cannot inject into the links.
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')))
            .unwrap_or_else(|| "localhost".into());
        let query = parts.uri.query().map(parse_query).unwrap_or_default();
        Ok(RequestUrl { base: format!("{scheme}://{host}"), path: parts.uri.path().to_string(), query })
    }
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `application/x-www-form-urlencoded`, as PHP's `http_build_query` writes it.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One entry of the paginator's `links`.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct PageLink {
    pub url: Option<String>,
    pub label: String,
    pub page: Option<usize>,
    pub active: bool,
}

/// Laravel's paginator JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct LaravelPage<T> {
    pub current_page: usize,
    pub data: Vec<T>,
    pub first_page_url: String,
    pub from: Option<usize>,
    pub last_page: usize,
    pub last_page_url: String,
    pub links: Vec<PageLink>,
    pub next_page_url: Option<String>,
    pub path: String,
    pub per_page: usize,
    pub prev_page_url: Option<String>,
    pub to: Option<usize>,
    pub total: usize,
}

impl<T> LaravelPage<T> {
    /// The same page with each item turned into something else.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> LaravelPage<U> {
        LaravelPage {
            current_page: self.current_page,
            data: self.data.into_iter().map(f).collect(),
            first_page_url: self.first_page_url,
            from: self.from,
            last_page: self.last_page,
            last_page_url: self.last_page_url,
            links: self.links,
            next_page_url: self.next_page_url,
            path: self.path,
            per_page: self.per_page,
            prev_page_url: self.prev_page_url,
            to: self.to,
            total: self.total,
        }
    }
}

/// Laravel's `UrlWindow` with `onEachSide = 3`: every page when there are few, else the
/// first two, a window around the current page and the last two, with `...` between.
fn elements(current: usize, last: usize) -> Vec<Option<Vec<usize>>> {
    const EACH: usize = 3;
    let range = |a: usize, b: usize| Some((a.max(1)..=b.min(last)).collect::<Vec<_>>());
    if last < EACH * 2 + 8 {
        return vec![range(1, last)];
    }
    let window = EACH + 4;
    let (first, slider, end) = if current <= window {
        (range(1, window + EACH), None, range(last - 1, last))
    } else if current > last - window {
        (range(1, 2), None, range(last - (window + (EACH - 1)), last))
    } else {
        (range(1, 2), range(current - EACH, current + EACH), range(last - 1, last))
    };
    let mut out = vec![first];
    if slider.is_some() {
        out.push(None);
        out.push(slider);
    }
    out.push(None);
    out.push(end);
    out
}

/// The requested page of `items` (already in order) as Laravel's paginator shows it. Links
/// keep the request's other query parameters (`search`, `per_page`).
pub fn paginate<T>(items: Vec<T>, paging: Paging, url: &RequestUrl) -> LaravelPage<T> {
    let (data, meta) = paging.slice(items);
    let path = format!("{}{}", url.base, url.path);
    let kept: Vec<String> = url.query.iter().filter(|(k, _)| k != "page").map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    let page_url = |page: usize| {
        let mut q = kept.clone();
        q.push(format!("page={page}"));
        format!("{path}?{}", q.join("&"))
    };
    let (current, last) = (meta.current_page, meta.last_page);
    let from = (!data.is_empty()).then(|| (current - 1) * meta.per_page + 1);
    let to = from.map(|f| f + data.len() - 1);
    let prev = (current > 1).then(|| page_url(current - 1));
    let next = (current < last).then(|| page_url(current + 1));
    let mut links = vec![PageLink { url: prev.clone(), label: "&laquo; Previous".into(), page: (current > 1).then(|| current - 1), active: false }];
    for element in elements(current, last) {
        match element {
            Some(pages) => links.extend(pages.into_iter().map(|p| PageLink { url: Some(page_url(p)), label: p.to_string(), page: Some(p), active: p == current })),
            None => links.push(PageLink { url: None, label: "...".into(), page: None, active: false }),
        }
    }
    links.push(PageLink { url: next.clone(), label: "Next &raquo;".into(), page: (current < last).then_some(current + 1), active: false });
    LaravelPage {
        current_page: current,
        data,
        first_page_url: page_url(1),
        from,
        last_page: last,
        last_page_url: page_url(last),
        links,
        next_page_url: next,
        path,
        per_page: meta.per_page,
        prev_page_url: prev,
        to,
        total: meta.total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(q: &str) -> RequestUrl {
        RequestUrl { base: "http://127.0.0.1:8000".into(), path: "/api/message-templates".into(), query: parse_query(q) }
    }

    #[test]
    fn one_page_reads_like_the_seed() {
        let p = paginate(vec![1], Paging::parse(None, None).unwrap(), &url(""));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "current_page": 1, "data": [1],
                "first_page_url": "http://127.0.0.1:8000/api/message-templates?page=1", "from": 1, "last_page": 1,
                "last_page_url": "http://127.0.0.1:8000/api/message-templates?page=1",
                "links": [
                    {"url": null, "label": "&laquo; Previous", "page": null, "active": false},
                    {"url": "http://127.0.0.1:8000/api/message-templates?page=1", "label": "1", "page": 1, "active": true},
                    {"url": null, "label": "Next &raquo;", "page": null, "active": false}
                ],
                "next_page_url": null, "path": "http://127.0.0.1:8000/api/message-templates", "per_page": 10,
                "prev_page_url": null, "to": 1, "total": 1
            })
        );
    }

    #[test]
    fn middle_pages_keep_the_query_and_window_like_laravel() {
        let p = paginate((1..=200).collect(), Paging::parse(Some("10"), Some("5")).unwrap(), &url("search=dear+budi&per_page=5&page=10"));
        assert_eq!(p.data, vec![46, 47, 48, 49, 50]);
        assert_eq!((p.from, p.to, p.last_page), (Some(46), Some(50), 40));
        assert_eq!(p.next_page_url.as_deref(), Some("http://127.0.0.1:8000/api/message-templates?search=dear+budi&per_page=5&page=11"));
        let labels: Vec<&str> = p.links.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["&laquo; Previous", "1", "2", "...", "7", "8", "9", "10", "11", "12", "13", "...", "39", "40", "Next &raquo;"]);
        let empty = paginate(Vec::<i32>::new(), Paging::parse(Some("3"), None).unwrap(), &url(""));
        assert_eq!((empty.from, empty.to, empty.last_page), (None, None, 1));
    }
}

/// Laravel's paginator around a page the domain already cut, `total` items in all.
pub fn paginate_page<T>(data: Vec<T>, total: usize, paging: Paging, url: &RequestUrl) -> LaravelPage<T> {
    // The links and numbers depend only on the count; zero-sized items cost nothing.
    let shell = paginate(vec![(); total], paging, url);
    let from = if data.is_empty() { None } else { shell.from };
    let to = from.map(|f| f + data.len() - 1);
    LaravelPage {
        current_page: shell.current_page,
        data,
        first_page_url: shell.first_page_url,
        from,
        last_page: shell.last_page,
        last_page_url: shell.last_page_url,
        links: shell.links,
        next_page_url: shell.next_page_url,
        path: shell.path,
        per_page: shell.per_page,
        prev_page_url: shell.prev_page_url,
        to,
        total: shell.total,
    }
}
