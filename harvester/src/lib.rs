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

mod address;
pub mod ckan;
pub mod dcat;
pub mod entryscape;
mod http;
pub mod links;
mod paging;
mod parse;
mod probe;
mod spanning;

use spanning::Spanning;
pub mod protocol;

pub use address::{AddressPolicy, is_non_public};
pub use http::{Fetched, HttpClient, RDF_ACCEPT, Validators};
pub use parse::{
    ParseError, ParseLimits, Parsed, RdfFormat, ReadProblem, keep_within, parse_bounded, parse_rdf,
};
pub use probe::Probe;
pub use protocol::{Bounds, Decoded, Protocol};
pub use samla_model::run::{
    Outcome, ProblemGroup, ProblemSample, Reason, RunReport, SAMPLES_PER_REASON,
};

use futures::StreamExt;
use oxrdf::Triple;
use samla_config::{HarvestSettings, SourceConfig};
use samla_model::{
    DatasetId, DatasetRecord, Extraction, OrganisationDirectory, SourceContext, extract_datasets,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
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
    /// The address policy refuses the URL (a non-public address, not allowed).
    #[error("{url}: {reason}")]
    Refused {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server took longer than its deadline to send part of the response.
    #[error("{url} did not send {what} within {limit:?}")]
    Deadline {
        /// The URL.
        url: String,
        /// What it did not send in time.
        what: &'static str,
        /// The deadline.
        limit: std::time::Duration,
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
    pub fn reason(&self) -> Reason {
        match self {
            HarvestError::Client { .. } => Reason::ClientError,
            HarvestError::Request { source, .. } if source.is_timeout() => Reason::Timeout,
            HarvestError::Deadline { .. } => Reason::Timeout,
            HarvestError::Request { .. } => Reason::RequestFailed,
            HarvestError::Status { .. } => Reason::HttpStatus,
            HarvestError::BodyTooLarge { .. } => Reason::BodyTooLarge,
            HarvestError::Refused { .. } => Reason::AddressRefused,
        }
    }
}

/// Capacity of the channel records flow through from a run to its receiver.
pub const RECORD_CHANNEL_CAPACITY: usize = 1024;

/// What a run learnt about one page, kept for the next run: its validators for a
/// conditional request, where it led, and the datasets it held. A page that answers 304 next
/// time is not parsed: its datasets count as seen and its links are followed from here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageMemo {
    /// `ETag` / `Last-Modified`.
    pub validators: Validators,
    /// Next pages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next: Vec<String>,
    /// Sub-catalogues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<String>,
    /// The datasets read from the page (for a source whose records span pages, the first
    /// page holds every dataset of the run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetId>,
    /// Distributions of those datasets.
    #[serde(default)]
    pub distributions: u64,
    /// For an API source's first page: the fingerprint of the whole source (count and newest
    /// modification). When it is the same at the next run, no page is asked for again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// For a CKAN source's first page: the newest `metadata_modified` read so far; the next
    /// incremental run asks for packages modified since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
    /// For a CKAN source's first page: when the last complete (full) run read every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Page memos by URL.
pub type PageMemos = HashMap<String, PageMemo>;

/// What a run gives back besides the records it sent.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The report.
    pub report: RunReport,
    /// A memo of every page read, for the next run's conditional requests.
    pub pages: PageMemos,
    /// Datasets on pages that answered 304: still published, unchanged, not sent again.
    pub reused: Vec<DatasetId>,
    /// Whether the page memos differ from the ones the run started with.
    pub memos_changed: bool,
}

/// Harvests sources with one shared client.
#[derive(Debug, Clone)]
pub struct Harvester {
    client: HttpClient,
    settings: HarvestSettings,
    directory: Arc<OrganisationDirectory>,
    /// Where a catalog's triples past `held_triples` wait (none: the system's temporary
    /// directory).
    staging: Option<std::path::PathBuf>,
}

/// What decoding one page gave.
struct Page {
    content: Content,
    next: Vec<String>,
    parts: Vec<String>,
    problems: Vec<ReadProblem>,
    incomplete: bool,
    /// What the page describes: a hash of each subject, but those of the paging itself
    /// (subjects of Hydra statements). Paging that brings none new is going nowhere.
    subjects: Vec<u64>,
}

/// A page's content: its records, normalised on the thread that parsed it (while its triples
/// are still in that core's cache), or, for a source whose records span pages, its triples,
/// normalised once every page is read.
enum Content {
    Records(Extraction),
    Triples(Vec<Triple>),
}

/// How a run's pages are decoded: by its protocol, and into the run's source's records.
/// Cheap to clone, for a page read ahead on a task of its own.
#[derive(Clone)]
struct Decoder {
    protocol: Arc<dyn Protocol>,
    directory: Arc<OrganisationDirectory>,
    source_id: String,
    organisation: String,
    limits: ParseLimits,
    /// Cancelled when the run ends: a page still being read stops, and frees what it holds.
    stop: CancellationToken,
}

impl Decoder {
    /// The page's triples as [`Content`].
    fn content(&self, triples: Vec<Triple>) -> Content {
        if self.protocol.records_span_pages() {
            return Content::Triples(triples);
        }
        Content::Records(self.extract(triples))
    }

    fn extract(&self, triples: Vec<Triple>) -> Extraction {
        let ctx = SourceContext {
            source_id: &self.source_id,
            organisation_code: &self.organisation,
            directory: &self.directory,
        };
        extract_datasets(triples, &ctx)
    }
}

/// One run's working state.
struct Run<'a> {
    source: &'a SourceConfig,
    decoder: Decoder,
    sink: &'a mpsc::Sender<DatasetRecord>,
    report: RunReport,
    memos: &'a PageMemos,
    new_memos: PageMemos,
    reused: Vec<DatasetId>,
    seen_ids: HashSet<DatasetId>,
    prefetched: HashMap<String, Result<Fetched, HarvestError>>,
    /// The source's own hosts: its URL's and where its first page answered from.
    home: HashSet<String>,
    /// Hosts the operator allows for every source (`[harvest] allow_hosts`).
    allow_hosts: &'a [String],
}

impl Run<'_> {
    /// A catalog's triples could not be staged on disk: the run fails, and says why.
    fn staging_failed(&mut self, url: &Url, e: &std::io::Error) {
        self.report.problem(
            Reason::InternalError,
            url.as_str(),
            None,
            format!("the catalog's triples could not be staged on disk: {e}"),
        );
        self.report.downgrade(Outcome::Failed);
    }

    /// Whether a link found in the source may be followed: to the source's own hosts, to
    /// those its `follow_hosts` names (`*`: any), or to those `[harvest] allow_hosts` names.
    fn follows(&self, url: &Url) -> bool {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return false;
        };
        self.home.contains(&host)
            || self
                .source
                .follow_hosts
                .iter()
                .any(|h| h == "*" || *h == host)
            || self
                .allow_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&host))
    }

    /// Takes a page as the last run memoised it: its datasets count as seen (a dataset
    /// already read from another page counts once) and the memo is kept for the next run.
    fn reuse(&mut self, url: String, memo: PageMemo) {
        for id in &memo.datasets {
            if self.seen_ids.insert(id.clone()) {
                self.reused.push(id.clone());
                self.report.datasets += 1;
            }
        }
        self.report.distributions += memo.distributions;
        self.new_memos.insert(url, memo);
    }
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
            staging: None,
        })
    }

    /// The same harvester, staging large catalogs' triples in `dir` (the state directory's
    /// `staging`).
    pub fn with_staging(mut self, dir: std::path::PathBuf) -> Self {
        self.staging = Some(dir);
        self
    }

    /// The same harvester with another client (tests shorten the retry backoff).
    pub fn with_client(mut self, client: HttpClient) -> Self {
        self.client = client;
        self
    }

    /// The limits of one page, from the settings.
    pub fn parse_limits(&self) -> ParseLimits {
        ParseLimits {
            max_triples: self.settings.max_triples_per_page,
            max_literal_bytes: self.settings.max_literal_bytes,
            ..ParseLimits::default()
        }
    }

    /// The settings.
    pub fn settings(&self) -> &HarvestSettings {
        &self.settings
    }

    /// Runs one source without memory of earlier runs: every record found is sent to `sink`.
    pub async fn run(
        &self,
        source: &SourceConfig,
        sink: mpsc::Sender<DatasetRecord>,
        cancel: CancellationToken,
    ) -> RunReport {
        self.run_with(source, &PageMemos::new(), sink, cancel)
            .await
            .report
    }

    /// Runs one source by its configured protocol: pages the last run memoised are asked for
    /// conditionally; every record read is sent to `sink`. Stops early, with outcome
    /// `cancelled` or `timed_out`, when `cancel` fires or the run timeout passes.
    pub async fn run_with(
        &self,
        source: &SourceConfig,
        memos: &PageMemos,
        sink: mpsc::Sender<DatasetRecord>,
        cancel: CancellationToken,
    ) -> RunOutput {
        self.run_protocol(protocol::for_source(source), source, memos, sink, cancel)
            .await
    }

    /// Runs one source with `protocol` (whatever the source's configured one), as
    /// [`Harvester::run_with`] does.
    pub async fn run_protocol(
        &self,
        protocol: Arc<dyn Protocol>,
        source: &SourceConfig,
        memos: &PageMemos,
        sink: mpsc::Sender<DatasetRecord>,
        cancel: CancellationToken,
    ) -> RunOutput {
        let first = protocol.first_page(&source.url);
        let stop = cancel.child_token();
        let _stop_when_done = stop.clone().drop_guard();
        let mut run = Run {
            source,
            decoder: Decoder {
                protocol,
                directory: Arc::clone(&self.directory),
                source_id: source.id.clone(),
                organisation: source.organisation.clone(),
                limits: self.parse_limits(),
                stop,
            },
            sink: &sink,
            report: RunReport::start(&source.id, source.url.as_str(), chrono::Utc::now()),
            memos,
            new_memos: PageMemos::new(),
            reused: Vec::new(),
            seen_ids: HashSet::new(),
            prefetched: HashMap::new(),
            home: [Some(&source.url), first.as_ref()]
                .into_iter()
                .flatten()
                .filter_map(|u| u.host_str().map(str::to_ascii_lowercase))
                .collect(),
            allow_hosts: &self.settings.allow_hosts,
        };
        match first {
            Some(first) => self.run_pages(&mut run, first, &cancel).await,
            None => {
                run.report.problem(
                    Reason::BadUrl,
                    source.url.as_str(),
                    None,
                    "no API URL can be made from this source URL",
                );
                run.report.downgrade(Outcome::Failed);
            }
        }
        let mut report = run.report;
        report.finish(chrono::Utc::now());
        let memos_changed = run.new_memos != *memos;
        RunOutput {
            report,
            pages: run.new_memos,
            reused: run.reused,
            memos_changed,
        }
    }

    /// Sends the conditional requests of every page the last run memoised along the chain
    /// from `first`, a few at a time; the answers wait in `run.prefetched` for the walk.
    async fn prefetch(&self, run: &mut Run<'_>, first: &Url) {
        let mut chain = Vec::new();
        let mut queue = VecDeque::from([first.to_string()]);
        let mut seen = HashSet::new();
        while let Some(url) = queue.pop_front() {
            if chain.len() >= self.settings.max_pages || !seen.insert(url.clone()) {
                continue;
            }
            let Some(memo) = run.memos.get(&url).filter(|m| !m.validators.is_empty()) else {
                continue;
            };
            queue.extend(memo.next.iter().chain(&memo.parts).cloned());
            if let Ok(parsed) = Url::parse(&url)
                && run.follows(&parsed)
            {
                chain.push((parsed, memo.validators.clone()));
            }
        }
        if chain.len() < 2 {
            return;
        }
        let accept = run.decoder.protocol.accept();
        let answers: Vec<(String, Result<Fetched, HarvestError>)> = futures::stream::iter(chain)
            .map(|(url, validators)| async move {
                let result = self
                    .client
                    .get_if_changed(&url, accept, Some(&validators))
                    .await;
                (url.to_string(), result)
            })
            .buffer_unordered(PREFETCH_IN_FLIGHT)
            .collect()
            .await;
        run.prefetched.extend(answers);
    }

    /// The fingerprint of an API source, one small request; `None` for DCAT files or when the
    /// server does not give one.
    async fn fingerprint(&self, run: &mut Run<'_>) -> Option<String> {
        let url = run.decoder.protocol.fingerprint_url(&run.source.url)?;
        if !run.follows(&url) {
            return None;
        }
        let fetched = self.client.get(&url, "application/json").await.ok()?;
        for status in &fetched.attempts {
            *run.report.http_statuses.entry(*status).or_default() += 1;
        }
        run.decoder.protocol.fingerprint(&fetched.body)
    }

    /// When the source's fingerprint is what the last run recorded, every memoised page
    /// stands as it was: walks the memo chain from `first`, counting each page as not
    /// modified, without a request. Returns false (and does nothing) otherwise.
    fn reuse_unchanged(&self, run: &mut Run<'_>, first: &Url, fingerprint: &str) -> bool {
        let same = run
            .memos
            .get(first.as_str())
            .and_then(|m| m.fingerprint.as_deref())
            == Some(fingerprint);
        if !same {
            return false;
        }
        let mut chain = Vec::new();
        let mut queue = VecDeque::from([first.to_string()]);
        let mut visited = HashSet::new();
        while let Some(url) = queue.pop_front() {
            if !visited.insert(url.clone()) {
                continue;
            }
            let Some(memo) = run.memos.get(&url) else {
                return false; // the chain is incomplete: walk it for real
            };
            queue.extend(memo.next.iter().chain(&memo.parts).cloned());
            chain.push((url, memo.clone()));
        }
        for (url, memo) in chain {
            run.report.pages += 1;
            run.report.pages_not_modified += 1;
            run.reuse(url, memo);
        }
        true
    }

    async fn run_pages(&self, run: &mut Run<'_>, first: Url, cancel: &CancellationToken) {
        let deadline = Instant::now() + self.settings.run_timeout;
        let fingerprint = tokio::select! {
            _ = cancel.cancelled() => None,
            fingerprint = self.fingerprint(run) => fingerprint,
        };
        if let Some(fp) = &fingerprint
            && self.reuse_unchanged(run, &first, fp)
        {
            return;
        }
        if let Some(fp) = &fingerprint
            && self.incremental(run, &first, fp, cancel, deadline).await
        {
            return;
        }
        self.walk(run, first.clone(), cancel, deadline).await;
        if let (Some(fp), Some(memo)) = (fingerprint, run.new_memos.get_mut(first.as_str())) {
            // Only a complete walk may vouch for the whole source.
            if matches!(run.report.outcome, Outcome::Success) {
                memo.watermark = run.decoder.protocol.watermark(&fp);
                memo.full_at = Some(chrono::Utc::now());
                memo.fingerprint = Some(fp);
            }
        }
    }

    /// A source whose protocol reads incrementally and whose last full run is recent enough
    /// is read incrementally: only what changed since the watermark (for CKAN,
    /// `fq=metadata_modified:[… TO *]`). The page memos stay those of the full run, without
    /// their fingerprint, so no later run takes them as the whole source; the next full run
    /// (after `full_harvest_every`) catches deletions. Returns false when a full run is due.
    async fn incremental(
        &self,
        run: &mut Run<'_>,
        first: &Url,
        fingerprint: &str,
        cancel: &CancellationToken,
        deadline: Instant,
    ) -> bool {
        let Some(memo) = run.memos.get(first.as_str()).cloned() else {
            return false;
        };
        let (Some(watermark), Some(full_at)) = (&memo.watermark, memo.full_at) else {
            return false;
        };
        let age = (chrono::Utc::now() - full_at).to_std().unwrap_or_default();
        if age >= self.settings.full_harvest_every {
            return false;
        }
        let Some(url) = run.decoder.protocol.since(&run.source.url, watermark) else {
            return false;
        };
        run.report.incremental = true;
        self.walk(run, url, cancel, deadline).await;
        let success = run.report.outcome == Outcome::Success;
        run.new_memos = run.memos.clone();
        if let Some(first_memo) = run.new_memos.get_mut(first.as_str()) {
            first_memo.fingerprint = None;
            if success {
                first_memo.watermark = run.decoder.protocol.watermark(fingerprint);
            }
        }
        true
    }

    async fn walk(
        &self,
        run: &mut Run<'_>,
        first: Url,
        cancel: &CancellationToken,
        deadline: Instant,
    ) {
        if !run.memos.is_empty() {
            tokio::select! {
                _ = cancel.cancelled() => {
                    run.report.problem(Reason::Cancelled, first.as_str(), None, "the run was cancelled");
                    run.report.downgrade(Outcome::Cancelled);
                    return;
                }
                _ = tokio::time::sleep_until(deadline) => {
                    run.report.problem(Reason::RunTimeout, first.as_str(), None, format!("the run took longer than {:?}", self.settings.run_timeout));
                    run.report.downgrade(Outcome::TimedOut);
                    return;
                }
                _ = self.prefetch(run, &first) => {}
            }
        }
        // (url, depth): depth 0 is the catalog and its pages, 1 a sub-catalogue and its pages.
        let mut queue: VecDeque<(Url, u8)> = VecDeque::from([(first.clone(), 0)]);
        let mut queued: HashSet<String> = HashSet::from([first.to_string()]);
        // The last next link followed (from, to), and the page read ahead after it, if any.
        let mut link: Option<(Url, Url)> = None;
        let mut ahead: Option<ReadAhead> = None;
        let mut pages_read = 0u64;
        let mut is_first = true;
        // Pages of a source whose records span pages: their triples, and the URLs that
        // answered 304 and must be read again if any other page changed.
        let mut spanning = Spanning::new(self.settings.held_triples, self.staging.as_deref());
        let mut spanning_urls: Vec<(String, Validators, Vec<String>)> = Vec::new();
        let mut spanning_unmodified: Vec<Url> = Vec::new();
        // The subjects met so far, and pages in a row that brought none not already met.
        let mut subjects: HashSet<u64> = HashSet::new();
        let mut stalled = 0usize;

        while let Some((url, depth)) = queue.pop_front() {
            if !run.follows(&url) {
                run.report.problem(
                    Reason::HostNotAllowed,
                    url.as_str(),
                    None,
                    format!(
                        "a link to {} leaves the source's host: not followed (the source's \
                         follow_hosts may name it)",
                        url.host_str().unwrap_or_default()
                    ),
                );
                run.report.downgrade(if is_first {
                    Outcome::Failed
                } else {
                    Outcome::Partial
                });
                is_first = false;
                continue;
            }
            if run.report.pages as usize >= self.settings.max_pages {
                run.report.problem(
                    Reason::PageLimit,
                    url.as_str(),
                    None,
                    format!("stopped after {} pages", self.settings.max_pages),
                );
                run.report.downgrade(Outcome::Partial);
                break;
            }
            let memo = run
                .memos
                .get(url.as_str())
                .filter(|m| !m.validators.is_empty());
            // This page, if it was read ahead; a page read ahead that is not this one waits if
            // it is still to come, and is dropped otherwise (a wrong guess). While this page
            // is read and decoded, the one after it is read ahead.
            let this = match ahead.take() {
                Some(a) if a.url == url.as_str() && memo.is_none() => Some(a),
                Some(a) if queue.iter().any(|(u, _)| u.as_str() == a.url) => {
                    ahead = Some(a);
                    None
                }
                _ => None,
            };
            if ahead.is_none() {
                ahead = self.read_ahead(run, &url, link.as_ref(), &queued);
            }
            let page = tokio::select! {
                _ = cancel.cancelled() => {
                    run.report.problem(Reason::Cancelled, url.as_str(), None, "the run was cancelled");
                    run.report.downgrade(Outcome::Cancelled);
                    return;
                }
                _ = tokio::time::sleep_until(deadline) => {
                    run.report.problem(Reason::RunTimeout, url.as_str(), None, format!("the run took longer than {:?}", self.settings.run_timeout));
                    run.report.downgrade(Outcome::TimedOut);
                    return;
                }
                page = self.fetch_page(run, &url, memo.map(|m| &m.validators), this) => page,
            };
            let failed_outcome = if is_first {
                Outcome::Failed
            } else {
                Outcome::Partial
            };
            is_first = false;
            let (page, validators) = match page {
                Err(()) => {
                    run.report.downgrade(failed_outcome);
                    continue;
                }
                Ok(FetchedPage::NotModified) => {
                    let Some(memo) = memo else { continue };
                    pages_read += 1;
                    run.report.pages_not_modified += 1;
                    let (next, parts) = (memo.next.clone(), memo.parts.clone());
                    if run.decoder.protocol.records_span_pages() {
                        spanning_unmodified.push(url.clone());
                        spanning_urls.push((
                            url.to_string(),
                            memo.validators.clone(),
                            next.clone(),
                        ));
                    } else {
                        run.reuse(url.to_string(), memo.clone());
                    }
                    if let Some(n) =
                        self.follow(run, &url, depth, next, parts, &mut queue, &mut queued)
                    {
                        link = Some((url.clone(), n));
                    }
                    continue;
                }
                Ok(FetchedPage::Read(page, validators)) => (page, validators),
            };
            pages_read += 1;
            for problem in &page.problems {
                run.report
                    .problem(problem.reason, url.as_str(), None, problem.message.clone());
            }
            if page.incomplete {
                run.report.downgrade(Outcome::Partial);
            }
            let Page {
                content,
                next,
                parts,
                subjects: page_subjects,
                ..
            } = page;
            let before = subjects.len();
            subjects.extend(page_subjects);
            let fresh = subjects.len() - before;
            match content {
                Content::Triples(triples) => {
                    if let Err(e) = spanning.extend(triples) {
                        run.staging_failed(&url, &e);
                        return;
                    }
                    spanning_urls.push((url.to_string(), validators, next.clone()));
                }
                Content::Records(extraction) => {
                    let memo = PageMemo {
                        validators,
                        next: next.clone(),
                        parts: parts.clone(),
                        ..PageMemo::default()
                    };
                    if !deliver(run, &url, Some(memo), extraction).await {
                        return;
                    }
                }
            }
            // Paging that goes on and on without describing anything not already read (an
            // endless chain, a server that answers every page alike) stops early.
            stalled = if fresh == 0 && !next.is_empty() {
                stalled + 1
            } else {
                0
            };
            if stalled == NO_PROGRESS_PAGES {
                run.report.problem(
                    Reason::NoProgress,
                    url.as_str(),
                    None,
                    format!(
                        "{NO_PROGRESS_PAGES} pages in a row described nothing not already read; \
                         paging stopped"
                    ),
                );
                run.report.downgrade(Outcome::Partial);
                break;
            }
            if let Some(n) = self.follow(run, &url, depth, next, parts, &mut queue, &mut queued) {
                link = Some((url.clone(), n));
            }
        }
        drop(ahead);

        if run.decoder.protocol.records_span_pages() && !spanning_urls.is_empty() {
            let first_url = spanning_urls[0].0.clone();
            if spanning.is_empty() && spanning_unmodified.len() == spanning_urls.len() {
                // Nothing changed anywhere: the last run's datasets (on its first page) stand.
                // Every page here answered 304, so every one has its memo.
                for (url, _, _) in spanning_urls {
                    if let Some(memo) = run.memos.get(&url).cloned() {
                        run.reuse(url, memo);
                    }
                }
                return;
            }
            // Something changed: the records span pages, so the unchanged ones are read again.
            for url in spanning_unmodified {
                match self.fetch_page(run, &url, None, None).await {
                    Ok(FetchedPage::Read(
                        Page {
                            content: Content::Triples(triples),
                            ..
                        },
                        _,
                    )) => {
                        if let Err(e) = spanning.extend(triples) {
                            run.staging_failed(&url, &e);
                            return;
                        }
                    }
                    _ => run.report.downgrade(Outcome::Partial),
                }
            }
            for (url, validators, next) in spanning_urls {
                run.new_memos.insert(
                    url,
                    PageMemo {
                        validators,
                        next,
                        ..PageMemo::default()
                    },
                );
            }
            let first_memo = run.new_memos.get(&first_url).cloned();
            let first_url = Url::parse(&first_url).unwrap_or_else(|_| first.clone());
            let decoder = run.decoder.clone();
            // Normalised on a blocking thread, all at once or a batch of datasets at a time
            // (triples staged on disk), each part delivered as it is made.
            let (parts, mut made) = mpsc::channel::<Extraction>(1);
            let extracting = tokio::task::spawn_blocking(move || {
                spanning.each_part(|triples| parts.blocking_send(decoder.extract(triples)).is_ok())
            });
            let mut memo = first_memo;
            while let Some(extraction) = made.recv().await {
                if !deliver(run, &first_url, memo.take(), extraction).await {
                    return;
                }
                memo = run.new_memos.remove(first_url.as_str());
            }
            if let Some(memo) = memo {
                run.new_memos.insert(first_url.to_string(), memo);
            }
            let stopped = match extracting.await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("the catalog's triples could not be read back: {e}")),
                Err(join_error) => Some(format!("normalising stopped: {join_error}")),
            };
            if let Some(why) = stopped {
                run.report
                    .problem(Reason::InternalError, first_url.as_str(), None, why);
                run.report.downgrade(Outcome::Partial);
            }
        }
        if pages_read == 0 {
            run.report.downgrade(Outcome::Failed);
        }
    }

    /// Queues a page's next page (detecting loops) and, from the catalog, its sub-catalogues.
    /// Returns the next page queued.
    #[allow(clippy::too_many_arguments)]
    fn follow(
        &self,
        run: &mut Run<'_>,
        url: &Url,
        depth: u8,
        next: Vec<String>,
        parts: Vec<String>,
        queue: &mut VecDeque<(Url, u8)>,
        queued: &mut HashSet<String>,
    ) -> Option<Url> {
        let next: Vec<Url> = next.iter().filter_map(|n| url.join(n).ok()).collect();
        let mut followed = None;
        if let Some(unvisited) = next.iter().find(|n| !queued.contains(n.as_str())) {
            queued.insert(unvisited.to_string());
            queue.push_back((unvisited.clone(), depth));
            followed = Some(unvisited.clone());
        } else if let Some(looped) = next.first() {
            run.report.problem(
                Reason::HydraLoop,
                url.as_str(),
                None,
                format!("next page {looped} was already read; paging stopped"),
            );
            run.report.downgrade(Outcome::Partial);
        }
        let parts = parts.iter().filter_map(|p| url.join(p).ok());
        if depth == 0 {
            for part in parts {
                if queued.insert(part.to_string()) {
                    queue.push_back((part, 1));
                } else {
                    run.report.problem(
                        Reason::HasPartCycle,
                        url.as_str(),
                        None,
                        format!("sub-catalogue {part} was already read"),
                    );
                }
            }
        } else {
            // Sub-catalogues are read one level deep; one that leads back is named.
            for part in parts.filter(|p| queued.contains(p.as_str())) {
                run.report.problem(
                    Reason::HasPartCycle,
                    url.as_str(),
                    None,
                    format!("sub-catalogue {part} leads back to a catalog already read"),
                );
            }
        }
        followed
    }

    /// Fetches (conditionally, given validators) and decodes one page, or takes it from
    /// `ahead` when it was read ahead. Failures are recorded in the report and come back as
    /// `Err(())`.
    async fn fetch_page(
        &self,
        run: &mut Run<'_>,
        url: &Url,
        known: Option<&Validators>,
        ahead: Option<ReadAhead>,
    ) -> Result<FetchedPage, ()> {
        let prefetched = run
            .prefetched
            .remove(url.as_str())
            .filter(|_| known.is_some());
        let loaded = match (ahead, prefetched) {
            (Some(mut ahead), _) => match (&mut ahead.task).await {
                Ok(loaded) => loaded,
                // The read-ahead stopped (it never panics on bad input): read the page again.
                Err(_) => {
                    self.load(run.decoder.clone(), url.clone(), known.cloned())
                        .await
                }
            },
            (None, Some(Ok(fetched))) => Ok(decoded(run.decoder.clone(), fetched).await),
            (None, Some(Err(error))) => Err(error),
            (None, None) => {
                self.load(run.decoder.clone(), url.clone(), known.cloned())
                    .await
            }
        };
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(error) => {
                if let HarvestError::Status { attempts, .. } = &error {
                    for status in attempts {
                        *run.report.http_statuses.entry(*status).or_default() += 1;
                    }
                }
                warn!(source_id = %run.source.id, url = %url, %error, "page fetch failed");
                run.report
                    .problem(error.reason(), url.as_str(), None, error.to_string());
                return Err(());
            }
        };
        for status in &loaded.attempts {
            *run.report.http_statuses.entry(*status).or_default() += 1;
        }
        if run.report.pages == 0
            && let Some(host) = loaded.url.host_str()
        {
            // The first page answered from here (after redirects): the source lives here now.
            run.home.insert(host.to_ascii_lowercase());
        }
        run.report.pages += 1;
        match loaded.page {
            None => Ok(FetchedPage::NotModified),
            Some(Ok(page)) => Ok(FetchedPage::Read(page, loaded.validators)),
            Some(Err((reason, message))) => {
                run.report
                    .problem(reason, loaded.url.as_str(), None, message);
                Err(())
            }
        }
    }

    /// Fetches (conditionally, given validators) and decodes one page without touching the
    /// run, so that it can run ahead of the walk on a task of its own.
    fn load(
        &self,
        decoder: Decoder,
        url: Url,
        known: Option<Validators>,
    ) -> impl Future<Output = Result<Loaded, HarvestError>> + Send + 'static {
        let client = self.client.clone();
        async move {
            let fetched = client
                .get_if_changed(&url, decoder.protocol.accept(), known.as_ref())
                .await?;
            Ok(decoded(decoder, fetched).await)
        }
    }

    /// Starts reading the page after `url` ahead of the walk, when the last next link (`link`,
    /// which led to `url`) follows a pattern the next one will likely follow too (see
    /// `paging::guess_next`). Only a page the walk has not queued, that the last run did not
    /// memoise (those are asked for conditionally, in advance) and within the page limit.
    fn read_ahead(
        &self,
        run: &Run<'_>,
        url: &Url,
        link: Option<&(Url, Url)>,
        queued: &HashSet<String>,
    ) -> Option<ReadAhead> {
        let (from, to) = link?;
        if to != url || run.report.pages as usize + 2 > self.settings.max_pages {
            return None;
        }
        let guess = paging::guess_next(from, url)?;
        if queued.contains(guess.as_str())
            || run.memos.contains_key(guess.as_str())
            || !run.follows(&guess)
        {
            return None;
        }
        Some(ReadAhead {
            url: guess.to_string(),
            task: tokio::spawn(self.load(run.decoder.clone(), guess, None)),
        })
    }
}

/// A page as fetched: where it ended up, the statuses of every attempt, its validators, and
/// what decoding it gave (`None` for a 304, which has no body).
struct Loaded {
    url: Url,
    attempts: Vec<u16>,
    validators: Validators,
    page: Option<Result<Page, (Reason, String)>>,
}

/// Decodes a fetched page, and normalises its records, on a blocking thread.
async fn decoded(decoder: Decoder, fetched: Fetched) -> Loaded {
    let mut loaded = Loaded {
        url: fetched.url.clone(),
        attempts: fetched.attempts.clone(),
        validators: fetched.validators.clone(),
        page: None,
    };
    if fetched.not_modified() {
        return loaded;
    }
    let page = tokio::task::spawn_blocking(move || decode(&decoder, &fetched))
        .await
        .unwrap_or_else(|e| Err((Reason::InternalError, format!("decoding stopped: {e}"))));
    loaded.page = Some(page);
    loaded
}

/// A page being read ahead of the walk; stopped when dropped unused (the walk went elsewhere,
/// or stopped).
struct ReadAhead {
    url: String,
    task: tokio::task::JoinHandle<Result<Loaded, HarvestError>>,
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Pages in a row that bring no dataset not already read before paging stops (`no_progress`).
pub const NO_PROGRESS_PAGES: usize = 5;

/// Conditional requests for pages the last run memoised, sent this many at a time before the
/// run walks its pages: a source whose pages mostly answer 304 costs a few round trips.
const PREFETCH_IN_FLIGHT: usize = 8;

enum FetchedPage {
    NotModified,
    Read(Page, Validators),
}

/// Decodes a fetched page through the run's protocol, and normalises its records.
fn decode(decoder: &Decoder, fetched: &Fetched) -> Result<Page, (Reason, String)> {
    // Whatever the protocol, an empty answer is not an empty catalog (an empty catalog is a
    // document that lists no dataset).
    let blank = |b: &u8| b.is_ascii_whitespace() || [0xEF, 0xBB, 0xBF].contains(b);
    if fetched.body.iter().all(blank) {
        return Err((
            Reason::EmptyResponse,
            format!("{} answered with an empty body", fetched.url),
        ));
    }
    let bounds = Bounds {
        limits: &decoder.limits,
        stop: &|| decoder.stop.is_cancelled(),
    };
    let Decoded {
        mut triples,
        next,
        parts,
        mut problems,
        mut incomplete,
    } = decoder.protocol.decode(fetched, &bounds)?;
    // Whatever the protocol, no page past the limits goes on, and no term past them: here,
    // once for every protocol (the parser counts triples as it reads too, to stop early).
    if triples.len() > decoder.limits.max_triples {
        return Err((
            Reason::PageTooLarge,
            format!(
                "{} holds more than {} triples",
                fetched.url, decoder.limits.max_triples
            ),
        ));
    }
    let (left_out, cut) = keep_within(&mut triples, &decoder.limits);
    problems.extend(left_out);
    incomplete |= cut;
    let subjects = described(&triples);
    Ok(Page {
        content: decoder.content(triples),
        next,
        parts,
        problems,
        incomplete,
        subjects,
    })
}

/// A hash of each subject of `triples`, but those of Hydra statements (a page's own node). A
/// parser's blank-node labels are new in every document, so its blank nodes always count as
/// new; a JSON mapping's are the same for the same record.
fn described(triples: &[Triple]) -> Vec<u64> {
    use std::hash::BuildHasher;
    let paging: HashSet<&oxrdf::NamedOrBlankNode> = triples
        .iter()
        .filter(|t| {
            t.predicate
                .as_str()
                .starts_with(samla_model::vocab::hydra::NS)
        })
        .map(|t| &t.subject)
        .collect();
    let hasher =
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
    let mut last = None;
    let mut out: Vec<u64> = Vec::new();
    for t in triples {
        // Statements about one subject come together: it is looked at once per run of them.
        if last == Some(&t.subject) || paging.contains(&t.subject) {
            continue;
        }
        last = Some(&t.subject);
        out.push(hasher.hash_one(&t.subject));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Sends a page's records on, counting problems and duplicates, and completes the page's
/// memo with the datasets it held. Returns false when the receiver has gone (the run is then
/// cancelled).
async fn deliver(
    run: &mut Run<'_>,
    url: &Url,
    memo: Option<PageMemo>,
    extraction: Extraction,
) -> bool {
    let report = &mut run.report;
    debug!(url = %url, datasets = extraction.records.len(), "page normalised");
    for p in &extraction.problems {
        report.problem(p.reason, url.as_str(), Some(&p.subject), p.detail.clone());
        if p.reason == Reason::DatasetTooLarge {
            // Not taken: its last version must stay, so this run may archive nothing.
            report.downgrade(Outcome::Partial);
        }
    }
    let mut memo = memo;
    for mut record in extraction.records {
        record.source_url = url.to_string();
        if !run.seen_ids.insert(record.id.clone()) {
            report.problem(
                Reason::DuplicateDataset,
                url.as_str(),
                Some(&record.iri),
                format!("dataset {} appears more than once", record.id),
            );
            continue;
        }
        report.datasets += 1;
        let distributions = record.view.distributions.len() as u64;
        report.distributions += distributions;
        if let Some(memo) = memo.as_mut() {
            memo.datasets.push(record.id.clone());
            memo.distributions += distributions;
        }
        if run.sink.send(record).await.is_err() {
            report.problem(
                Reason::Cancelled,
                url.as_str(),
                None,
                "the receiver stopped",
            );
            report.downgrade(Outcome::Cancelled);
            return false;
        }
    }
    if let Some(memo) = memo {
        run.new_memos.insert(url.to_string(), memo);
    }
    true
}
