//! The HTTP adapter of `WebhookSender`: reqwest (rustls), one total timeout per POST (3 s by
//! default), redirects followed only to the same scheme, host and port and only when they
//! keep the method and body (307/308), at most 3; anything else comes back as its 3xx status.
//!
//! It lives beside the port in the domain crate because the domain's manifest already carries
//! reqwest for it, so every host (dev server, Lambda host, tests) gets it without another
//! crate; the domain logic itself only ever sees `&dyn WebhookSender`.
//! Errors are short reasons without the URL (reqwest's own messages carry it, query and all).
use std::time::Duration;

use reqwest::redirect::Policy;

use super::destination::{self, Destinations, GuardedResolver};
use super::{WebhookSender, DEFAULT_TIMEOUT, USER_AGENT};

pub struct ReqwestSender {
    client: reqwest::Client,
    timeout: Duration,
    rule: Destinations,
}

impl ReqwestSender {
    /// The deployed product's sender: `DEFAULT_TIMEOUT` (3 s), loopback refused.
    pub fn standard() -> Result<ReqwestSender, String> {
        Self::with_timeout(DEFAULT_TIMEOUT, Destinations::deployed())
    }

    /// The dev server's: n8n may run on the same machine.
    pub fn development() -> Result<ReqwestSender, String> {
        Self::with_timeout(DEFAULT_TIMEOUT, Destinations::development())
    }

    /// A sender whose every POST, connecting included, ends within `timeout`, and that sends
    /// only where `rule` allows (checked again on the resolved addresses).
    pub fn with_timeout(timeout: Duration, rule: Destinations) -> Result<ReqwestSender, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(USER_AGENT)
            .redirect(same_origin_redirects())
            .dns_resolver(GuardedResolver::shared(rule))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {}", e.without_url()))?;
        Ok(ReqwestSender { client, timeout, rule })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

fn same_origin_redirects() -> Policy {
    Policy::custom(|attempt| {
        let first = attempt.previous().first();
        let to = attempt.url();
        let same_origin = first
            .is_some_and(|f| f.scheme() == to.scheme() && f.host_str() == to.host_str() && f.port_or_known_default() == to.port_or_known_default());
        let keeps_body = matches!(attempt.status().as_u16(), 307 | 308);
        if same_origin && keeps_body && attempt.previous().len() <= 3 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// A reason that names neither the URL nor anything else from the request.
fn reason(e: &reqwest::Error, timeout: Duration) -> String {
    if let Some(why) = destination::refused_in(e) {
        format!("refused: {why}")
    } else if e.is_timeout() {
        format!("timed out after {}", human(timeout))
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_redirect() {
        "too many redirects".into()
    } else if e.is_builder() {
        "invalid URL or header".into()
    } else if e.is_body() || e.is_decode() {
        "the response could not be read".into()
    } else {
        "request failed".into()
    }
}

#[async_trait::async_trait]
impl WebhookSender for ReqwestSender {
    fn refusal(&self, url: &str) -> Option<&'static str> {
        self.rule.refusal(url)
    }

    async fn post(&self, url: &str, body: Vec<u8>, headers: Vec<(String, String)>) -> Result<u16, String> {
        // Addresses written in the URL never reach the resolver: they are checked here.
        if let Some(why) = self.rule.refusal(url) {
            return Err(format!("refused: {why}"));
        }
        let mut req = self.client.post(url).body(body);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        match req.send().await {
            // The body is not needed; dropping the response closes the exchange.
            Ok(res) => Ok(res.status().as_u16()),
            Err(e) => {
                let short = reason(&e, self.timeout);
                tracing::debug!(error = %e.without_url(), "webhook POST failed");
                Err(short)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_well() {
        assert_eq!(human(Duration::from_secs(3)), "3 s");
        assert_eq!(human(Duration::from_millis(300)), "300 ms");
    }

    #[tokio::test]
    async fn an_unreachable_host_is_a_short_reason_without_the_url() {
        // Port 9 on loopback: nothing listens, the connection is refused at once.
        let sender = ReqwestSender::with_timeout(Duration::from_millis(500), Destinations::development()).unwrap();
        let err = sender
            .post("http://127.0.0.1:9/hook?token=abc", b"{}".to_vec(), vec![])
            .await
            .unwrap_err();
        assert!(!err.contains("token") && !err.contains("127.0.0.1"), "{err}");
    }

    #[tokio::test]
    async fn a_deployed_sender_never_reaches_metadata_or_loopback() {
        let sender = ReqwestSender::standard().unwrap();
        for url in ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/hook", "http://localhost:9/hook"] {
            let err = sender.post(url, b"{}".to_vec(), vec![]).await.unwrap_err();
            assert!(err.starts_with("refused: "), "{url}: {err}");
        }
    }
}
