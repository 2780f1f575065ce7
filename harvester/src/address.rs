//! The one address policy for every request samla sends out (harvest pages, paging links,
//! sub-catalogues, redirects, link checks): no loopback, private, link-local, unique-local,
//! documentation, shared, NAT64/6to4-embedded private or multicast address, decided after DNS
//! resolution and again on every redirect hop, unless the host is allowed (`allow_hosts`) or
//! private addresses are (`allow_private`). A harvested catalog cannot send samla into the
//! network it runs in.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use url::Url;

/// Whether an address is one a public link must not lead to.
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_non_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            let segments = v6.segments();
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address inside.
            let embedded = if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                Some(std::net::Ipv4Addr::new(
                    (segments[6] >> 8) as u8,
                    segments[6] as u8,
                    (segments[7] >> 8) as u8,
                    segments[7] as u8,
                ))
            } else if first == 0x2002 {
                Some(std::net::Ipv4Addr::new(
                    (segments[1] >> 8) as u8,
                    segments[1] as u8,
                    (segments[2] >> 8) as u8,
                    segments[2] as u8,
                ))
            } else {
                None
            };
            if let Some(v4) = embedded {
                return is_non_public(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || (first == 0x2001 && segments[1] == 0x0db8) // documentation
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
        }
    }
}

/// A resolver that keeps only public addresses, except for the allowed hosts.
struct PublicOnly {
    allow_hosts: Arc<Vec<String>>,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let allowed = self
            .allow_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host));
        Box::pin(async move {
            let lookup = host.clone();
            let addrs: Vec<SocketAddr> =
                tokio::task::spawn_blocking(move || (lookup.as_str(), 0).to_socket_addrs())
                    .await
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)??
                    .collect();
            let public: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| allowed || !is_non_public(a.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!("refused: {host} resolves to no public address").into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Which hosts and addresses requests may reach.
#[derive(Debug, Clone)]
pub struct AddressPolicy {
    allow_private: bool,
    allow_hosts: Arc<Vec<String>>,
}

impl AddressPolicy {
    /// Non-public addresses refused unless `allow_private`; `allow_hosts` (names or IP
    /// literals, any case) reached whatever their addresses.
    pub fn new(allow_private: bool, allow_hosts: &[String]) -> Self {
        Self {
            allow_private,
            allow_hosts: Arc::new(allow_hosts.iter().map(|h| h.to_ascii_lowercase()).collect()),
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allow_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Why a URL is refused before any request (an IP literal of a non-public address), if
    /// it is. Host names are checked when they are resolved.
    pub fn refused(&self, url: &Url) -> Option<String> {
        if self.allow_private {
            return None;
        }
        let ip = match url.host()? {
            url::Host::Ipv4(v4) => IpAddr::V4(v4),
            url::Host::Ipv6(v6) => IpAddr::V6(v6),
            url::Host::Domain(_) => return None,
        };
        (is_non_public(ip) && !self.host_allowed(&ip.to_string()))
            .then(|| format!("refused: {ip} is not a public address"))
    }

    /// A client builder that keeps to the policy: host names resolved through a guard that
    /// drops non-public addresses, and each redirect checked (ten at most).
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let policy = self.clone();
        let builder = builder.redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 10 {
                return attempt.error("too many redirects");
            }
            match policy.refused(attempt.url()) {
                Some(why) => attempt.error(why),
                None => attempt.follow(),
            }
        }));
        if self.allow_private {
            return builder;
        }
        builder.dns_resolver(Arc::new(PublicOnly {
            allow_hosts: Arc::clone(&self.allow_hosts),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_addresses_are_refused_unless_their_host_is_allowed() {
        let url = |u: &str| Url::parse(u).expect("url");
        let policy = AddressPolicy::new(false, &["127.0.0.1".to_string()]);
        assert_eq!(policy.refused(&url("http://127.0.0.1:8080/dcat")), None);
        assert!(policy.refused(&url("http://127.0.0.2/dcat")).is_some());
        assert!(policy.refused(&url("http://[::1]/dcat")).is_some());
        assert!(
            policy
                .refused(&url("http://169.254.169.254/latest"))
                .is_some()
        );
        assert_eq!(policy.refused(&url("http://193.44.157.10/")), None);
        // Names are checked when resolved, not here.
        assert_eq!(policy.refused(&url("http://localhost/")), None);
        assert_eq!(
            AddressPolicy::new(true, &[]).refused(&url("http://10.0.0.1/")),
            None
        );
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "2001:db8::1",
        ] {
            assert!(is_non_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["193.44.157.10", "2001:6b0::1", "64:ff9b::c12c:9d0a"] {
            assert!(!is_non_public(ip.parse().expect("ip")), "{ip}");
        }
    }
}
