//! The one outbound HTTP policy: every connection Wharf opens (REST and Poll tasks, Validate,
//! certificate fetching, the Registry and Kubernetes tasks, Docker Hub sync, callbacks) goes
//! only where this policy allows, decided on the addresses a name resolves to (after DNS, so a
//! name pointing at a metadata service is caught) and again for every redirect.
//!
//! | range | default | setting |
//! |---|---|---|
//! | unspecified (`0.0.0.0/8`, `::`), multicast, broadcast | refused | — |
//! | link-local (`169.254.0.0/16`, `fe80::/10`): cloud metadata services | refused | `WHARF_OUTBOUND_ALLOW_LINK_LOCAL` |
//! | loopback (`127.0.0.0/8`, `::1`) | allowed | `WHARF_OUTBOUND_ALLOW_LOOPBACK` |
//! | private (`10/8`, `172.16/12`, `192.168/16`, `100.64/10`, `fc00::/7`) | allowed | `WHARF_OUTBOUND_ALLOW_PRIVATE` |
//! | everything else | allowed | — |
//!
//! Clusters and registries usually live on loopback or private addresses, hence those
//! defaults; an installation that reaches only public services can refuse them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The longest a whole outbound request may take unless its caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Redirects followed when a caller asks for them.
const MAX_REDIRECTS: usize = 5;

/// Where outbound connections may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Loopback addresses (`127.0.0.0/8`, `::1`).
    pub allow_loopback: bool,
    /// Private addresses (RFC 1918, shared address space, unique local IPv6).
    pub allow_private: bool,
    /// Link-local addresses, where cloud metadata services answer.
    pub allow_link_local: bool,
}

impl Default for OutboundPolicy {
    fn default() -> Self {
        Self {
            allow_loopback: true,
            allow_private: true,
            allow_link_local: false,
        }
    }
}

/// What kind of address an IP is, for the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    Never(&'static str),
    LinkLocal,
    Loopback,
    Private,
    Public,
}

fn range_v4(ip: Ipv4Addr) -> Range {
    let o = ip.octets();
    if o[0] == 0 {
        Range::Never("an unspecified address")
    } else if ip.is_broadcast() || ip.is_multicast() {
        Range::Never("a broadcast or multicast address")
    } else if ip.is_link_local() {
        Range::LinkLocal
    } else if ip.is_loopback() {
        Range::Loopback
    } else if ip.is_private() || (o[0] == 100 && (64..128).contains(&o[1])) {
        Range::Private
    } else {
        Range::Public
    }
}

fn range(ip: IpAddr) -> Range {
    match ip {
        IpAddr::V4(v4) => range_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return range_v4(v4);
            }
            let first = v6.segments()[0];
            if v6.is_unspecified() {
                Range::Never("an unspecified address")
            } else if v6.is_multicast() {
                Range::Never("a multicast address")
            } else if v6 == Ipv6Addr::LOCALHOST {
                Range::Loopback
            } else if first & 0xffc0 == 0xfe80 {
                Range::LinkLocal
            } else if first & 0xfe00 == 0xfc00 {
                Range::Private
            } else {
                Range::Public
            }
        }
    }
}

impl OutboundPolicy {
    /// Whether Wharf may connect to `ip`; the error says why not and which setting decides.
    pub fn decide(&self, ip: IpAddr) -> Result<(), String> {
        let refused = |what: &str, setting: &str| {
            Err(format!(
                "Wharf's outbound policy refuses {ip} ({what}); an administrator can allow \
                 it with {setting}."
            ))
        };
        match range(ip) {
            Range::Never(what) => Err(format!("Wharf's outbound policy refuses {ip} ({what}).")),
            Range::LinkLocal if !self.allow_link_local => refused(
                "link-local, where cloud metadata services answer",
                "WHARF_OUTBOUND_ALLOW_LINK_LOCAL",
            ),
            Range::Loopback if !self.allow_loopback => {
                refused("loopback", "WHARF_OUTBOUND_ALLOW_LOOPBACK")
            }
            Range::Private if !self.allow_private => {
                refused("a private address", "WHARF_OUTBOUND_ALLOW_PRIVATE")
            }
            _ => Ok(()),
        }
    }

    /// Checks a URL before it is requested: http or https, and an address literal allowed
    /// (names are checked when they resolve).
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "Wharf only calls http and https URLs, not {}.",
                url.scheme()
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| "The URL names no host.".to_owned())?;
        match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => self.decide(ip),
            Err(_) => Ok(()),
        }
    }

    /// Resolves `host:port` and keeps the addresses the policy allows; an error when none is
    /// left (or the name does not resolve).
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let found: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| format!("{host} did not resolve within 5 seconds."))?
                .map_err(|_| format!("{host} does not resolve to an address."))?
                .collect(),
        };
        let mut allowed = Vec::new();
        let mut last = format!("{host} does not resolve to an address.");
        for a in found {
            match self.decide(a.ip()) {
                Ok(()) => allowed.push(a),
                Err(why) => last = why,
            }
        }
        if allowed.is_empty() {
            Err(last)
        } else {
            Ok(allowed)
        }
    }

    /// A reqwest client builder under this policy: names resolved through it, no proxies (a
    /// proxy would resolve names where the policy cannot see), no redirects, timeouts, and
    /// Wharf's user agent. Callers add what they need (TLS, a longer timeout).
    pub fn builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .dns_resolver(Arc::new(Resolver(*self)))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(DEFAULT_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("wharf/", env!("CARGO_PKG_VERSION")))
    }

    /// [`Self::builder`] following up to five redirects, each to the same host as the request
    /// it answers and to an address the policy allows.
    pub fn builder_following_same_host(&self) -> reqwest::ClientBuilder {
        let policy = *self;
        self.builder()
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
                }
                let same_host = attempt
                    .previous()
                    .last()
                    .is_some_and(|prev| prev.host_str() == attempt.url().host_str());
                if !same_host {
                    let to = attempt.url().host_str().unwrap_or("?").to_owned();
                    return attempt
                        .error(format!("a redirect to another host ({to}) is not followed"));
                }
                match policy.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(why) => attempt.error(why),
                }
            }))
    }

    /// A resolver for hyper's connector (the Kubernetes client) under this policy.
    pub fn hyper_resolver(&self) -> HyperResolver {
        HyperResolver(*self)
    }
}

/// reqwest's resolver under the policy.
struct Resolver(OutboundPolicy);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        Box::pin(async move {
            let addrs = policy
                .resolve(name.as_str(), 0)
                .await
                .map_err(|why| -> Box<dyn std::error::Error + Send + Sync> { why.into() })?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// hyper-util's resolver under the policy.
#[derive(Clone, Copy)]
pub struct HyperResolver(OutboundPolicy);

impl tower::Service<hyper_util::client::legacy::connect::dns::Name> for HyperResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        let policy = self.0;
        Box::pin(async move {
            policy
                .resolve(name.as_str(), 0)
                .await
                .map(Vec::into_iter)
                .map_err(std::io::Error::other)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn link_local_and_unspecified_are_refused_by_default_loopback_and_private_allowed() {
        let p = OutboundPolicy::default();
        for refused in [
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "::",
            "::ffff:169.254.169.254",
            "255.255.255.255",
            "224.0.0.1",
        ] {
            assert!(p.decide(ip(refused)).is_err(), "{refused}");
        }
        for allowed in [
            "127.0.0.1",
            "::1",
            "10.1.2.3",
            "192.168.1.1",
            "172.20.0.1",
            "8.8.8.8",
            "fd00::1",
        ] {
            assert!(p.decide(ip(allowed)).is_ok(), "{allowed}");
        }
        let e = p.decide(ip("169.254.169.254")).unwrap_err();
        assert!(e.contains("WHARF_OUTBOUND_ALLOW_LINK_LOCAL"), "{e}");
    }

    #[test]
    fn loopback_and_private_can_be_refused() {
        let p = OutboundPolicy {
            allow_loopback: false,
            allow_private: false,
            allow_link_local: false,
        };
        for refused in [
            "127.0.0.1",
            "::1",
            "10.0.0.1",
            "100.64.0.1",
            "fc00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(p.decide(ip(refused)).is_err(), "{refused}");
        }
        assert!(p.decide(ip("93.184.216.34")).is_ok());
    }

    #[test]
    fn urls_with_address_literals_are_checked_before_any_request() {
        let p = OutboundPolicy::default();
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(p
            .check_url(&url("http://169.254.169.254/latest/meta-data/"))
            .is_err());
        assert!(p.check_url(&url("http://[fe80::1]/")).is_err());
        assert!(p.check_url(&url("file:///etc/passwd")).is_err());
        assert!(p.check_url(&url("http://127.0.0.1:8080/")).is_ok());
        assert!(p.check_url(&url("https://metadata.example/")).is_ok());
    }
}
