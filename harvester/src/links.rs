//! The link checker: is a distribution's access or download URL answering?
//!
//! HEAD first, GET when the server refuses HEAD (405, 501, or any 4xx some servers give it);
//! bounded concurrency overall and per host, with a pause between two requests to one host;
//! a timeout per check. Unless configured otherwise, it never asks a private, loopback,
//! link-local or otherwise non-public address: host names are resolved through a guard that
//! drops such addresses, IP literals are refused before any request, and each redirect is
//! checked the same way, so a public URL cannot redirect the checker into the network.

use crate::address::AddressPolicy;
use futures::StreamExt;
use reqwest::StatusCode;
use samla_config::LinkSettings;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
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

/// Why a URL is refused before any request, if it is: a scheme the checker does not ask,
/// or an address the policy refuses.
fn refused(url: &Url, policy: &AddressPolicy) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!("scheme {} is not checked", url.scheme()));
    }
    policy.refused(url)
}

/// Checks links under the configured limits.
#[derive(Clone)]
pub struct LinkChecker {
    client: reqwest::Client,
    policy: AddressPolicy,
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
        let policy = AddressPolicy::new(settings.allow_private, &settings.allow_hosts);
        let builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .no_proxy();
        Ok(Self {
            client: policy.apply(builder).build()?,
            policy,
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
        if let Some(why) = refused(&url, &self.policy) {
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
    let text = samla_model::run::error_chain(e);
    if e.is_timeout() {
        format!("timeout: {text}")
    } else {
        text
    }
}
