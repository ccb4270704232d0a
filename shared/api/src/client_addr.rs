//! The client's address, for per-address rate limits: on the dev server the TCP peer
//! (axum's `ConnectInfo`, from `into_make_service_with_connect_info`), on Lambda the source IP
//! API Gateway saw (the request context `lambda_http` puts in the request's extensions).
//! `X-Forwarded-For` is never read: anybody can send it.
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::Extensions;
use lambda_http::request::RequestContext;

/// The address a request came from, when the host tells.
pub fn client_addr(extensions: &Extensions) -> Option<IpAddr> {
    if let Some(ConnectInfo(peer)) = extensions.get::<ConnectInfo<SocketAddr>>() {
        return Some(peer.ip());
    }
    match extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref()?.parse().ok(),
        RequestContext::WebSocket(ctx) => ctx.identity.source_ip.as_deref()?.parse().ok(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The client's address as a handler argument; `None` when the host does not tell (a test
/// calling the router directly).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_addr(&parts.extensions)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;

    #[test]
    fn reads_the_dev_server_peer() {
        let mut ext = Extensions::new();
        ext.insert(ConnectInfo(SocketAddr::from(([192, 168, 1, 7], 40000))));
        assert_eq!(client_addr(&ext), Some(IpAddr::from([192, 168, 1, 7])));
    }

    #[test]
    fn reads_the_api_gateway_source_ip() {
        let mut ctx = ApiGatewayV2httpRequestContext::default();
        ctx.http.source_ip = Some("203.0.113.9".into());
        let mut ext = Extensions::new();
        ext.insert(RequestContext::ApiGatewayV2(ctx));
        assert_eq!(client_addr(&ext), Some(IpAddr::from([203, 0, 113, 9])));
    }

    #[test]
    fn nothing_when_the_host_does_not_tell() {
        assert_eq!(client_addr(&Extensions::new()), None);
    }
}
