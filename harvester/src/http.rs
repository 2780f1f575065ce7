//! The one shared HTTP client: connect and total timeouts, a cap on the (decompressed) body,
//! gzip and brotli, retries with backoff on 429 and 5xx honouring `Retry-After`, and a limit
//! on requests in flight per host.

use crate::HarvestError;
use crate::address::AddressPolicy;
use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};
use samla_config::HarvestSettings;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// What RDF catalogs are asked for with.
pub const RDF_ACCEPT: &str = "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8, application/n-triples;q=0.8, application/xml;q=0.5, */*;q=0.1";

/// The longest `Retry-After` samla waits for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A fetched response.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL after redirects.
    pub url: Url,
    /// The final status (a success).
    pub status: u16,
    /// `Content-Type`, lower case, without parameters.
    pub content_type: Option<String>,
    /// The decompressed body.
    pub body: Bytes,
    /// Statuses of every attempt, retries included.
    pub attempts: Vec<u16>,
    /// The validators the server sent, for the next conditional request.
    pub validators: Validators,
}

impl Fetched {
    /// Whether the server answered 304: the body is empty and the earlier one still holds.
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }
}

/// What a conditional request sends back: `ETag` and `Last-Modified` as the server gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// `ETag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// Whether there is anything to send.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The shared client.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: AddressPolicy,
    max_body_bytes: u64,
    header_timeout: Duration,
    retries: u32,
    retry_base: Duration,
    hosts: Arc<HostLimits>,
}

/// Requests in flight per host (host and port), across every clone of the client.
#[derive(Debug)]
struct HostLimits {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimits {
    /// Waits for a turn at `url`'s host; the turn ends when the permit is dropped.
    async fn turn(&self, url: &Url) -> Option<OwnedSemaphorePermit> {
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        let semaphore = Arc::clone(
            self.hosts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host.max(1)))),
        );
        semaphore.acquire_owned().await.ok()
    }
}

/// The address policy's reason in an error's causes (`refused: …`), if it is there.
fn refusal(error: &reqwest::Error) -> Option<String> {
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(c) = cause {
        let text = c.to_string();
        if text.starts_with("refused: ") {
            return Some(text);
        }
        cause = c.source();
    }
    None
}

impl HttpClient {
    /// Builds the client from the harvest settings.
    pub fn new(settings: &HarvestSettings) -> Result<Self, HarvestError> {
        let policy = AddressPolicy::new(settings.allow_private, &settings.allow_hosts);
        let builder = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .no_proxy();
        let client = policy
            .apply(builder)
            .build()
            .map_err(|source| HarvestError::Client { source })?;
        Ok(Self {
            client,
            policy,
            max_body_bytes: settings.max_body_bytes,
            header_timeout: settings.header_timeout,
            retries: settings.retries,
            retry_base: Duration::from_millis(500),
            hosts: Arc::new(HostLimits {
                per_host: settings.per_host,
                hosts: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The same client with another first backoff (tests keep it short).
    pub fn with_retry_base(mut self, base: Duration) -> Self {
        self.retry_base = base;
        self
    }

    /// GETs `url` with `accept`, retrying 429 and 5xx, and reads the body up to the cap.
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Fetched, HarvestError> {
        self.get_if_changed(url, accept, None).await
    }

    /// GETs `url`, conditionally when `known` validators are given: a 304 comes back as a
    /// [`Fetched`] with [`Fetched::not_modified`] and an empty body.
    pub async fn get_if_changed(
        &self,
        url: &Url,
        accept: &str,
        known: Option<&Validators>,
    ) -> Result<Fetched, HarvestError> {
        if let Some(reason) = self.policy.refused(url) {
            return Err(HarvestError::Refused {
                url: url.to_string(),
                reason,
            });
        }
        let mut attempts = Vec::new();
        let mut attempt = 0u32;
        loop {
            // The host's turn lasts until the body is read; backoff waits give it back.
            let turn = self.hosts.turn(url).await;
            let mut request = self.client.get(url.clone()).header(ACCEPT, accept);
            if let Some(known) = known {
                if let Some(etag) = &known.etag {
                    request = request.header(IF_NONE_MATCH, etag);
                }
                if let Some(date) = &known.last_modified {
                    request = request.header(IF_MODIFIED_SINCE, date);
                }
            }
            // A server may take so long to answer, or drip its headers, that the request
            // timeout (which covers the body) is not the bound that matters.
            let response = match tokio::time::timeout(self.header_timeout, request.send()).await {
                Ok(response) => response,
                Err(_) => {
                    if attempt < self.retries.min(1) {
                        drop(turn);
                        attempt += 1;
                        continue;
                    }
                    return Err(HarvestError::Deadline {
                        url: url.to_string(),
                        what: "its status and headers",
                        limit: self.header_timeout,
                    });
                }
            };
            let response = match response {
                Ok(r) => r,
                Err(source) => {
                    // The address policy stopped it (a host resolving to no public address,
                    // or a redirect to one): its reason is in the error's causes. Not retried.
                    if let Some(reason) = refusal(&source) {
                        return Err(HarvestError::Refused {
                            url: url.to_string(),
                            reason,
                        });
                    }
                    // A timeout is tried once more at most: a source that never answers
                    // must not hold the run for every retry.
                    let retries = if source.is_timeout() {
                        self.retries.min(1)
                    } else {
                        self.retries
                    };
                    if attempt < retries && (source.is_connect() || source.is_timeout()) {
                        drop(turn);
                        tokio::time::sleep(self.backoff(attempt, None)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(HarvestError::Request {
                        url: url.to_string(),
                        source,
                    });
                }
            };
            let status = response.status();
            attempts.push(status.as_u16());
            if (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error())
                && attempt < self.retries
            {
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                drop(response);
                drop(turn);
                tokio::time::sleep(self.backoff(attempt, retry_after)).await;
                attempt += 1;
                continue;
            }
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                    .map(str::to_string)
            };
            let validators = Validators {
                etag: header(ETAG),
                last_modified: header(LAST_MODIFIED),
            };
            if status == StatusCode::NOT_MODIFIED && known.is_some() {
                return Ok(Fetched {
                    url: response.url().clone(),
                    status: status.as_u16(),
                    content_type: None,
                    body: Bytes::new(),
                    attempts,
                    validators,
                });
            }
            if !status.is_success() {
                return Err(HarvestError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                    attempts,
                });
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase());
            let final_url = response.url().clone();
            let mut body = self.read_capped(response, url).await?;
            // A UTF-8 byte-order mark is legal at the start of a document, and no content:
            // dropped here so that no reader (JSON ones included) trips on it.
            if body.starts_with(b"\xEF\xBB\xBF") {
                body = body.slice(3..);
            }
            return Ok(Fetched {
                url: final_url,
                status: status.as_u16(),
                content_type,
                body,
                attempts,
                validators,
            });
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        retry_after
            .map(|d| d.min(MAX_RETRY_AFTER))
            .unwrap_or_else(|| self.retry_base.saturating_mul(2u32.saturating_pow(attempt)))
    }

    async fn read_capped(
        &self,
        mut response: reqwest::Response,
        url: &Url,
    ) -> Result<Bytes, HarvestError> {
        let too_large = || HarvestError::BodyTooLarge {
            url: url.to_string(),
            limit: self.max_body_bytes,
        };
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body_bytes)
        {
            return Err(too_large());
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|source| HarvestError::Request {
                url: url.to_string(),
                source,
            })?
        {
            if (body.len() + chunk.len()) as u64 > self.max_body_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_as_seconds_or_date() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
