//! Where the product may send a clinic's webhook: an `http(s)` URL whose host is not a
//! link-local or cloud metadata address (169.254.0.0/16 holds the EC2/Lambda metadata and
//! credentials endpoints, fd00:ec2::254 their IPv6 twin) and not "this host" (0.0.0.0, ::).
//! Loopback is allowed only where the operator says so: the dev server, where n8n runs on the
//! same laptop; on Lambda it would reach the runtime's own endpoints.
//!
//! The rule is checked twice: when the setting is saved (so the clinic gets a clear error at
//! once) and on every send against the addresses the name resolves to, so that a host name
//! pointing at a refused address (or re-pointed there later) is refused as well.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// The rule one host applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destinations {
    allow_loopback: bool,
}

/// The address of AWS's instance metadata service over IPv6.
const EC2_METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

impl Destinations {
    /// Lambda and any deployed host: loopback refused.
    pub const fn deployed() -> Destinations {
        Destinations {
            allow_loopback: false,
        }
    }

    /// The dev server: loopback allowed (n8n on the same machine).
    pub const fn development() -> Destinations {
        Destinations {
            allow_loopback: true,
        }
    }

    /// Why `url` may not receive webhooks, or None when it may. Checks the scheme and, when the
    /// host is written as an address (or is `localhost`), the address; names are checked again
    /// when they are resolved (`GuardedResolver`).
    pub fn refusal(&self, url: &str) -> Option<&'static str> {
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return Some("it is not a valid URL");
        };
        if !matches!(parsed.scheme(), "http" | "https") {
            return Some("only http and https URLs are allowed");
        }
        // The URL parser writes every IPv4 form (decimal, octal, short) as dotted quads, and
        // IPv6 in brackets.
        let Some(host) = parsed.host_str() else {
            return Some("it is not a valid URL");
        };
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return self.refusal_of(ip);
        }
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        if (name == "localhost" || name.ends_with(".localhost")) && !self.allow_loopback {
            Some("loopback addresses are not allowed")
        } else {
            None
        }
    }

    /// Why a request may not go to `ip`, or None when it may.
    pub fn refusal_of(&self, ip: IpAddr) -> Option<&'static str> {
        // An IPv4 address written as IPv6 (::ffff:169.254.169.254) is that IPv4 address.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        let link_local = match ip {
            IpAddr::V4(v4) => v4.is_link_local(),
            IpAddr::V6(v6) => v6 == EC2_METADATA_V6 || (v6.segments()[0] & 0xffc0) == 0xfe80,
        };
        if link_local {
            Some("link-local and metadata addresses are not allowed")
        } else if ip.is_unspecified() || ip == IpAddr::V4(Ipv4Addr::BROADCAST) {
            Some("it is not an address a webhook can be sent to")
        } else if ip.is_loopback() && !self.allow_loopback {
            Some("loopback addresses are not allowed")
        } else {
            None
        }
    }
}

/// The webhook client's resolver: the system's lookup, then every address is held to the
/// rule; a name with any refused address is refused as a whole (no picking the good one, so
/// that a name cannot mix a public address with the metadata one).
pub struct GuardedResolver {
    pub rule: Destinations,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let rule = self.rule;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(why) = addrs.iter().find_map(|a| rule.refusal_of(a.ip())) {
                return Err(Box::new(Refused(why)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A destination the rule refuses, as the resolver reports it (the sender looks for it in the
/// error's chain to say why, instead of "could not connect").
#[derive(Debug)]
pub struct Refused(pub &'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Refused {}

/// The refusal somewhere in an error's chain of sources, if there is one.
pub fn refused_in(mut e: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    loop {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r.0);
        }
        e = e.source()?;
    }
}

impl GuardedResolver {
    pub fn shared(rule: Destinations) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver { rule })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_and_link_local_are_refused_everywhere() {
        for rule in [Destinations::deployed(), Destinations::development()] {
            for url in [
                "http://169.254.169.254/latest/meta-data/",
                "http://169.254.170.2/v2/credentials",
                "https://[fd00:ec2::254]/latest/api/token",
                "http://[fe80::1]/hook",
                "http://[::ffff:169.254.169.254]/",
                "http://0.0.0.0:5678/webhook",
                "http://2852039166/latest/meta-data/",
            ] {
                assert!(rule.refusal(url).is_some(), "{url} allowed by {rule:?}");
            }
        }
    }

    #[test]
    fn only_http_schemes() {
        let rule = Destinations::development();
        for url in [
            "ftp://n8n.example.com/x",
            "file:///etc/passwd",
            "gopher://n8n.example.com/",
            "javascript:alert(1)",
            "n8n.example.com/hook",
        ] {
            assert!(rule.refusal(url).is_some(), "{url}");
        }
        assert_eq!(
            rule.refusal("https://n8n.example.com/webhook/antrean"),
            None
        );
        assert_eq!(
            rule.refusal("http://10.0.3.7:5678/webhook/antrean"),
            None,
            "a clinic's own network is fine"
        );
    }

    #[test]
    fn loopback_only_in_development() {
        for url in [
            "http://127.0.0.1:5678/webhook",
            "http://localhost:5678/webhook",
            "http://[::1]:5678/",
            "http://127.1.2.3/",
            "http://n8n.localhost/",
        ] {
            assert!(
                Destinations::deployed().refusal(url).is_some(),
                "{url} allowed when deployed"
            );
            assert_eq!(
                Destinations::development().refusal(url),
                None,
                "{url} refused in development"
            );
        }
    }

    #[tokio::test]
    async fn names_are_checked_after_resolving() {
        use reqwest::dns::Resolve;
        let deployed = GuardedResolver {
            rule: Destinations::deployed(),
        };
        // `localhost` resolves to loopback on every machine.
        let err = match deployed.resolve("localhost".parse().unwrap()).await {
            Ok(_) => panic!("localhost resolved for a deployed host"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("loopback"), "{err}");
        let dev = GuardedResolver {
            rule: Destinations::development(),
        };
        assert!(dev.resolve("localhost".parse().unwrap()).await.is_ok());
    }
}
