//! The link checker: is a distribution's access or download URL answering?
//!
//! HEAD first, GET when the server refuses HEAD (405, 501, or any 4xx some servers give it);
//! bounded concurrency overall and per host, with a pause between two requests to one host;
//! a timeout per check. Unless configured otherwise, it never asks a private, loopback,
//! link-local or otherwise non-public address: host names are resolved through a guard that
//! drops such addresses, IP literals are refused before any request, and each redirect is
//! checked the same way, so a public URL cannot redirect the checker into the network.

use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use samla_config::LinkSettings;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Semaphore;
use url::Url;

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCheck {
    /// The URL checked.
    pub url: String,
    /// Whether it answered with 2xx or 3xx (after redirects).
    pub ok: bool,
    /// The final HTTP status, if there was an answer.
    pub status: Option<u16>,
    /// Why it failed without a status (timeout, refused address, DNS, TLS…).
    pub error: Option<String>,
    /// How long the check took, in milliseconds.
    pub elapsed_ms: u64,
}

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
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
        }
    }
}

/// Why a URL is refused before any request, if it is.
fn refused(url: &Url, allow_private: bool) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!("scheme {} is not checked", url.scheme()));
    }
    if allow_private {
        return None;
    }
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    is_non_public(ip).then(|| format!("refused: {ip} is not a public address"))
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

/// Checks links under the configured limits.
#[derive(Clone)]
pub struct LinkChecker {
    client: reqwest::Client,
    settings: LinkSettings,
    hosts: Arc<Mutex<HashMap<String, Arc<HostSlot>>>>,
}

struct HostSlot {
    permits: Semaphore,
    last: tokio::sync::Mutex<Option<Instant>>,
}

impl LinkChecker {
    /// Builds the checker.
    pub fn new(settings: LinkSettings, user_agent: &str) -> Result<Self, reqwest::Error> {
        let allow_private = settings.allow_private;
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 10 {
                    return attempt.error("too many redirects");
                }
                match refused(attempt.url(), allow_private) {
                    Some(why) => attempt.error(why),
                    None => attempt.follow(),
                }
            }));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly {
                allow_hosts: Arc::new(settings.allow_hosts.clone()),
            }));
        }
        Ok(Self {
            client: builder.build()?,
            settings,
            hosts: Arc::default(),
        })
    }

    fn slot(&self, host: &str) -> Arc<HostSlot> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host.to_string())
            .or_insert_with(|| {
                Arc::new(HostSlot {
                    permits: Semaphore::new(self.settings.per_host.max(1)),
                    last: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }

    /// Checks one URL.
    pub async fn check(&self, raw: &str) -> LinkCheck {
        let started = Instant::now();
        let done = |status: Option<u16>, error: Option<String>| LinkCheck {
            url: raw.to_string(),
            ok: status.is_some_and(|s| (200..400).contains(&s)),
            status,
            error,
            elapsed_ms: started.elapsed().as_millis() as u64,
        };
        let url = match Url::parse(raw.trim()) {
            Ok(url) => url,
            Err(e) => return done(None, Some(format!("not a URL: {e}"))),
        };
        if let Some(why) = refused(&url, self.settings.allow_private) {
            return done(None, Some(why));
        }
        let slot = self.slot(url.host_str().unwrap_or_default());
        let Ok(_permit) = slot.permits.acquire().await else {
            return done(None, Some("checker closed".into()));
        };
        {
            let mut last = slot.last.lock().await;
            if let Some(at) = *last {
                let wait = self.settings.per_host_delay.saturating_sub(at.elapsed());
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
            }
            *last = Some(Instant::now());
        }
        match self.client.head(url.clone()).send().await {
            Ok(r) if head_refused(r.status()) => {}
            Ok(r) => return done(Some(r.status().as_u16()), None),
            Err(e) => return done(None, Some(describe(&e))),
        }
        match self.client.get(url).send().await {
            // Only the status matters: the body is not read.
            Ok(r) => done(Some(r.status().as_u16()), None),
            Err(e) => done(None, Some(describe(&e))),
        }
    }

    /// Checks many URLs, at most `concurrency` at once.
    pub async fn check_all(&self, urls: Vec<String>) -> Vec<LinkCheck> {
        futures::stream::iter(urls)
            .map(|u| async move { self.check(&u).await })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await
    }
}

/// Statuses that mean "HEAD is not supported here", worth a GET.
fn head_refused(status: StatusCode) -> bool {
    matches!(status.as_u16(), 400 | 403 | 404 | 405 | 406 | 501)
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        format!("timeout: {text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert!(is_non_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["193.44.157.10", "2001:6b0::1"] {
            assert!(!is_non_public(ip.parse().expect("ip")), "{ip}");
        }
    }
}
