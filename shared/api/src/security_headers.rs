//! Headers every answer carries, whatever produced it (a route, a fallback, CORS, a rate limit,
//! a file): `X-Content-Type-Options: nosniff`, so a browser never runs an uploaded FAQ file or
//! a JSON answer as a script or page; and no `Server` / `X-Powered-By`, which would only tell an
//! attacker what to try.
use axum::extract::Request;
use axum::http::header::{HeaderValue, SERVER, X_CONTENT_TYPE_OPTIONS};
use axum::middleware::Next;
use axum::response::Response;

pub async fn layer(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.remove(SERVER);
    headers.remove("x-powered-by");
    res
}
