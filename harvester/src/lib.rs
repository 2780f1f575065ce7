//! Harvesting: fetch a source's catalog over HTTP, parse it, and turn it into canonical
//! dataset records, with a run report of everything that went wrong.
//!
//! A run streams its records into a bounded channel; what the receiver does with them (store,
//! index, or just count, as `samla check` does) is not this crate's business. A run never
//! panics on bad input: every failure becomes a problem in its [`RunReport`], and the
//! [`Outcome`] says whether what was read is complete.
//!
//! Architecture invariant: this crate knows nothing of tantivy, SQLite or axum. It depends on
//! the model (records) and the config (sources, limits) only.

mod http;
mod parse;
mod report;

pub use http::{Fetched, HttpClient, RDF_ACCEPT};
pub use parse::{Parsed, RdfFormat, parse_rdf};
pub use report::{Outcome, ProblemGroup, ProblemSample, RunReport, SAMPLES_PER_REASON};

use oxrdf::{NamedOrBlankNode, Term, Triple};
use samla_config::{HarvestSettings, Protocol, SourceConfig};
use samla_model::record::states_type;
use samla_model::vocab::{dcat, dcterms, hydra};
use samla_model::{
    DatasetId, DatasetRecord, Extraction, OrganisationDirectory, SourceContext, extract_datasets,
};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};
use url::Url;

/// Why a fetch or a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    /// The HTTP client could not be built.
    #[error("cannot build the http client: {source}")]
    Client {
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The request failed (connection, timeout, protocol).
    #[error("request to {url} failed: {source}")]
    Request {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status after retries.
    #[error("{url} answered http {status}")]
    Status {
        /// The URL.
        url: String,
        /// The final status.
        status: u16,
        /// Statuses of every attempt, retries included.
        attempts: Vec<u16>,
    },
    /// The body is over the cap.
    #[error("{url} sent a body over the limit of {limit} bytes")]
    BodyTooLarge {
        /// The URL.
        url: String,
        /// The cap.
        limit: u64,
    },
}

impl HarvestError {
    /// The problem reason this error is counted under.
    pub fn reason(&self) -> &'static str {
        match self {
            HarvestError::Client { .. } => "client_error",
            HarvestError::Request { source, .. } if source.is_timeout() => "timeout",
            HarvestError::Request { .. } => "request_failed",
            HarvestError::Status { .. } => "http_status",
            HarvestError::BodyTooLarge { .. } => "body_too_large",
        }
    }
}

/// Capacity of the channel records flow through from a run to its receiver.
pub const RECORD_CHANNEL_CAPACITY: usize = 1024;

/// Harvests sources with one shared client.
#[derive(Debug, Clone)]
pub struct Harvester {
    client: HttpClient,
    settings: HarvestSettings,
    directory: Arc<OrganisationDirectory>,
    allowed_hosts: Option<Arc<HashSet<String>>>,
}

/// What parsing one page gave, besides its triples.
struct Page {
    next: Vec<String>,
    parts: Vec<String>,
    lenient: Option<String>,
}

impl Harvester {
    /// A harvester with the given limits, resolving publishers against `directory`.
    pub fn new(
        settings: HarvestSettings,
        directory: Arc<OrganisationDirectory>,
    ) -> Result<Self, HarvestError> {
        Ok(Self {
            client: HttpClient::new(&settings)?,
            settings,
            directory,
            allowed_hosts: None,
        })
    }

    /// The same harvester, following links only to these hosts (tests keep runs on loopback).
    pub fn with_allowed_hosts(mut self, hosts: impl IntoIterator<Item = String>) -> Self {
        self.allowed_hosts = Some(Arc::new(hosts.into_iter().collect()));
        self
    }

    fn allowed(&self, url: &Url) -> bool {
        self.allowed_hosts
            .as_ref()
            .is_none_or(|hosts| url.host_str().is_some_and(|h| hosts.contains(h)))
    }

    /// The same harvester with another client (tests shorten the retry backoff).
    pub fn with_client(mut self, client: HttpClient) -> Self {
        self.client = client;
        self
    }

    /// Runs one source: every record found is sent to `sink`; the report says what happened.
    /// Stops early, with outcome `cancelled`, when `cancel` fires or the run timeout passes.
    pub async fn run(
        &self,
        source: &SourceConfig,
        sink: mpsc::Sender<DatasetRecord>,
        cancel: CancellationToken,
    ) -> RunReport {
        let mut report = RunReport::start(&source.id, source.url.as_str());
        match source.protocol {
            Protocol::Dcat => self.run_dcat(source, &sink, &cancel, &mut report).await,
            other => {
                report.problem(
                    "unsupported_protocol",
                    source.url.as_str(),
                    None,
                    format!("protocol {other} is not harvested yet"),
                );
                report.downgrade(Outcome::Failed);
            }
        }
        report.finish();
        report
    }

    async fn run_dcat(
        &self,
        source: &SourceConfig,
        sink: &mpsc::Sender<DatasetRecord>,
        cancel: &CancellationToken,
        report: &mut RunReport,
    ) {
        let deadline = Instant::now() + self.settings.run_timeout;
        // (url, depth): depth 0 is the catalog and its pages, 1 a sub-catalogue and its pages.
        let mut queue: VecDeque<(Url, u8)> = VecDeque::from([(source.url.clone(), 0)]);
        let mut queued: HashSet<String> = HashSet::from([source.url.to_string()]);
        let mut seen_ids: HashSet<DatasetId> = HashSet::new();
        let mut pages_read = 0u64;
        let mut in_flight = InFlight::new();
        let mut first = true;

        while let Some((url, depth)) = queue.pop_front() {
            if !self.allowed(&url) {
                report.problem(
                    "host_not_allowed",
                    url.as_str(),
                    None,
                    "links to this host are not followed",
                );
                report.downgrade(if first {
                    Outcome::Failed
                } else {
                    Outcome::Partial
                });
                first = false;
                continue;
            }
            if report.pages as usize >= self.settings.max_pages {
                report.problem(
                    "page_limit",
                    url.as_str(),
                    None,
                    format!("stopped after {} pages", self.settings.max_pages),
                );
                report.downgrade(Outcome::Partial);
                break;
            }
            let fetched = tokio::select! {
                _ = cancel.cancelled() => {
                    report.problem("cancelled", url.as_str(), None, "the run was cancelled");
                    report.downgrade(Outcome::Cancelled);
                    return;
                }
                _ = tokio::time::sleep_until(deadline) => {
                    report.problem("run_timeout", url.as_str(), None, format!("the run took longer than {:?}", self.settings.run_timeout));
                    report.downgrade(Outcome::Cancelled);
                    return;
                }
                fetched = self.client.get(&url, RDF_ACCEPT) => fetched,
            };
            let failed_outcome = if first {
                Outcome::Failed
            } else {
                Outcome::Partial
            };
            first = false;
            let fetched = match fetched {
                Ok(f) => f,
                Err(error) => {
                    if let HarvestError::Status { attempts, .. } = &error {
                        for status in attempts {
                            *report.http_statuses.entry(*status).or_default() += 1;
                        }
                    }
                    warn!(source_id = %source.id, url = %url, %error, "page fetch failed");
                    report.problem(error.reason(), url.as_str(), None, error.to_string());
                    report.downgrade(failed_outcome);
                    continue;
                }
            };
            for status in &fetched.attempts {
                *report.http_statuses.entry(*status).or_default() += 1;
            }
            report.pages += 1;
            let format = RdfFormat::detect(fetched.content_type.as_deref(), &fetched.body);
            let base = fetched.url.to_string();
            let body = fetched.body;
            let parsed = tokio::task::spawn_blocking(move || {
                let Parsed { triples, lenient } = parse_rdf(&body, format, &base)?;
                let (next, parts) = links(&triples);
                Ok::<_, String>((
                    triples,
                    Page {
                        next,
                        parts,
                        lenient,
                    },
                ))
            })
            .await;
            let (triples, page) = match parsed {
                Ok(Ok(parsed)) => parsed,
                Ok(Err(message)) => {
                    report.problem(
                        "malformed_rdf",
                        url.as_str(),
                        None,
                        format!("not valid {format}: {message}"),
                    );
                    report.downgrade(failed_outcome);
                    continue;
                }
                Err(join_error) => {
                    report.problem(
                        "internal_error",
                        url.as_str(),
                        None,
                        format!("parsing stopped: {join_error}"),
                    );
                    report.downgrade(failed_outcome);
                    continue;
                }
            };
            pages_read += 1;
            if let Some(complaint) = &page.lenient {
                report.problem(
                    "invalid_iri",
                    url.as_str(),
                    None,
                    format!("kept as published: {complaint}"),
                );
            }
            // Normalising a page overlaps with fetching and parsing the next one.
            let (directory, source_id, organisation) = (
                Arc::clone(&self.directory),
                source.id.clone(),
                source.organisation.clone(),
            );
            in_flight.push_back((
                url.clone(),
                tokio::task::spawn_blocking(move || {
                    let ctx = SourceContext {
                        source_id: &source_id,
                        organisation_code: &organisation,
                        directory: &directory,
                    };
                    extract_datasets(triples, &ctx)
                }),
            ));
            while in_flight.len() > EXTRACTIONS_IN_FLIGHT {
                if !deliver(&mut in_flight, report, &mut seen_ids, sink).await {
                    return;
                }
            }

            let base = &fetched.url;
            let next: Vec<Url> = page.next.iter().filter_map(|n| base.join(n).ok()).collect();
            if let Some(unvisited) = next.iter().find(|n| !queued.contains(n.as_str())) {
                queued.insert(unvisited.to_string());
                queue.push_back((unvisited.clone(), depth));
            } else if let Some(looped) = next.first() {
                report.problem(
                    "hydra_loop",
                    url.as_str(),
                    None,
                    format!("next page {looped} was already read; paging stopped"),
                );
                report.downgrade(Outcome::Partial);
            }
            if depth == 0 {
                for part in page.parts.iter().filter_map(|p| base.join(p).ok()) {
                    if queued.insert(part.to_string()) {
                        queue.push_back((part, 1));
                    }
                }
            }
        }
        while !in_flight.is_empty() {
            if !deliver(&mut in_flight, report, &mut seen_ids, sink).await {
                return;
            }
        }
        if pages_read == 0 {
            report.downgrade(Outcome::Failed);
        }
    }
}

/// Pages whose records are being normalised while the next page is fetched.
const EXTRACTIONS_IN_FLIGHT: usize = 2;

type InFlight = VecDeque<(Url, tokio::task::JoinHandle<Extraction>)>;

/// Waits for the oldest page's records and sends them on, counting problems and duplicates.
/// Returns false when the receiver has gone (the run is then cancelled).
async fn deliver(
    in_flight: &mut InFlight,
    report: &mut RunReport,
    seen_ids: &mut HashSet<DatasetId>,
    sink: &mpsc::Sender<DatasetRecord>,
) -> bool {
    let Some((url, handle)) = in_flight.pop_front() else {
        return true;
    };
    let extraction = match handle.await {
        Ok(extraction) => extraction,
        Err(join_error) => {
            report.problem(
                "internal_error",
                url.as_str(),
                None,
                format!("normalising stopped: {join_error}"),
            );
            report.downgrade(Outcome::Partial);
            return true;
        }
    };
    debug!(url = %url, datasets = extraction.records.len(), "page normalised");
    for p in &extraction.problems {
        report.problem(&p.reason, url.as_str(), Some(&p.subject), p.detail.clone());
    }
    for mut record in extraction.records {
        record.source_url = url.to_string();
        if !seen_ids.insert(record.id.clone()) {
            report.problem(
                "duplicate_dataset",
                url.as_str(),
                Some(&record.iri),
                format!("dataset {} appears more than once", record.id),
            );
            continue;
        }
        report.datasets += 1;
        report.distributions += record.view.distributions.len() as u64;
        if sink.send(record).await.is_err() {
            report.problem("cancelled", url.as_str(), None, "the receiver stopped");
            report.downgrade(Outcome::Cancelled);
            return false;
        }
    }
    true
}

/// Hydra next links (`hydra:next` or the deprecated `hydra:nextPage`, as IRI or string) and
/// sub-catalogues (`dcterms:hasPart` of a catalog) that are not described in this page.
fn links(triples: &[Triple]) -> (Vec<String>, Vec<String>) {
    let value = |t: &Term| match t {
        Term::NamedNode(n) => Some(n.as_str().to_string()),
        Term::Literal(l) => Some(l.value().trim().to_string()),
        _ => None,
    };
    let mut next: Vec<String> = triples
        .iter()
        .filter(|t| t.predicate == hydra::NEXT || t.predicate == hydra::NEXT_PAGE)
        .filter_map(|t| value(&t.object))
        .collect();
    next.sort();
    next.dedup();
    let catalogs: HashSet<&NamedOrBlankNode> = triples
        .iter()
        .filter(|t| states_type(t, dcat::CATALOG))
        .map(|t| &t.subject)
        .collect();
    let described: HashSet<&str> = triples
        .iter()
        .filter(|t| t.predicate == dcat::DATASET_PROP)
        .filter_map(|t| match &t.subject {
            NamedOrBlankNode::NamedNode(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    let mut parts: Vec<String> = triples
        .iter()
        .filter(|t| t.predicate == dcterms::HAS_PART && catalogs.contains(&t.subject))
        .filter_map(|t| match &t.object {
            Term::NamedNode(n) if !described.contains(n.as_str()) => Some(n.as_str().to_string()),
            _ => None,
        })
        .collect();
    parts.sort();
    parts.dedup();
    (next, parts)
}
