//! The contracts of a run, shared by the harvester that makes them, the store that keeps
//! them, the pipeline and runner that drive them and the API and reports that show them: the
//! state of a run ([`RunState`]), how a finished run ended ([`Outcome`]), why a problem was
//! counted ([`Reason`]), the run report ([`RunReport`]), and how a run is started on demand
//! ([`HarvestControl`]). Their names (snake_case) are what the store, the API and the reports
//! show; they are spelled here and nowhere else.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An error with its causes, as one line ("error performing TLS handshake: certificate
/// verify failed"): what a run report, a log line or a delivery attempt says of a failure.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Samples kept per problem reason.
pub const SAMPLES_PER_REASON: usize = 5;

/// Declares a string enum: its variants with their stable snake_case names, serde under
/// those names, `as_str`, `Display`, `FromStr`, `ALL`, and comparison with `&str`.
macro_rules! named {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &[$name] = &[$($name::$variant,)*];

            /// The stable name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(UnknownName {
                        kind: stringify!($name),
                        name: s.to_string(),
                    }),
                }
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }
    };
}

/// A name that is not one of its type's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a {kind}")]
pub struct UnknownName {
    /// The type.
    pub kind: &'static str,
    /// The name met.
    pub name: String,
}

named! {
    /// How a run ended.
    Outcome {
    /// Every page was read.
    Success = "success",
    /// Every page answered 304 Not Modified: nothing was parsed, nothing changed.
    Unchanged = "unchanged",
    /// Some pages were read; what was read is kept, nothing is archived.
    Partial = "partial",
    /// Nothing could be read; the source keeps its previous datasets.
    Failed = "failed",
    /// Stopped by shutdown or on demand; nothing but the run record was applied.
    Cancelled = "cancelled",
    /// The run took longer than the run timeout (or the watchdog's limit) and was aborted;
    /// nothing but the run record was applied.
    TimedOut = "timed_out",
}
}

impl Outcome {
    /// Whether the run read its source whole, so it says what the source no longer lists.
    pub fn is_complete(self) -> bool {
        matches!(self, Outcome::Success | Outcome::Unchanged)
    }

    /// Whether nothing the run read is applied (only its run record).
    pub fn applies_nothing(self) -> bool {
        matches!(
            self,
            Outcome::Failed | Outcome::Cancelled | Outcome::TimedOut
        )
    }
}

named! {
    /// The state of a run as recorded: going, ended with an [`Outcome`], or cut short by a
    /// stop of the process.
    RunState {
        /// Reserved and harvesting.
        Running = "running",
        /// See [`Outcome::Success`].
        Success = "success",
        /// See [`Outcome::Unchanged`].
        Unchanged = "unchanged",
        /// See [`Outcome::Partial`].
        Partial = "partial",
        /// See [`Outcome::Failed`].
        Failed = "failed",
        /// See [`Outcome::Cancelled`].
        Cancelled = "cancelled",
        /// See [`Outcome::TimedOut`].
        TimedOut = "timed_out",
        /// The process stopped while the run was going (found `running` at the next start).
        Interrupted = "interrupted",
    }
}

impl RunState {
    /// The states of runs that read something from their source (the source's datasets are
    /// as of its last such run).
    pub const READ_SOMETHING: &[RunState] =
        &[RunState::Success, RunState::Unchanged, RunState::Partial];

    /// Whether the run has ended.
    pub fn has_ended(self) -> bool {
        self != RunState::Running
    }

    /// Whether the run read something from its source.
    pub fn read_something(self) -> bool {
        Self::READ_SOMETHING.contains(&self)
    }
}

impl From<Outcome> for RunState {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Success => RunState::Success,
            Outcome::Unchanged => RunState::Unchanged,
            Outcome::Partial => RunState::Partial,
            Outcome::Failed => RunState::Failed,
            Outcome::Cancelled => RunState::Cancelled,
            Outcome::TimedOut => RunState::TimedOut,
        }
    }
}

named! {
    /// Why a problem was counted in a run report. The names are those of the run reports and
    /// the API.
    Reason {
        /// The source's URL, or a link in it, is not a usable URL.
        BadUrl = "bad_url",
        /// The HTTP client could not be built or refused the request.
        ClientError = "client_error",
        /// The request timed out.
        Timeout = "timeout",
        /// The request failed (connection, TLS).
        RequestFailed = "request_failed",
        /// The server answered an error status.
        HttpStatus = "http_status",
        /// The body is larger than the harvest's limit.
        BodyTooLarge = "body_too_large",
        /// A link leads to a host the harvest may not follow.
        HostNotAllowed = "host_not_allowed",
        /// A URL (or a redirect) leads to an address that is not public, and its host is not
        /// allowed (`[harvest] allow_hosts`).
        AddressRefused = "address_refused",
        /// The run read as many pages as it may.
        PageLimit = "page_limit",
        /// The run took longer than the run timeout.
        RunTimeout = "run_timeout",
        /// The run was cancelled.
        Cancelled = "cancelled",
        /// Paging links lead back to a page already read.
        HydraLoop = "hydra_loop",
        /// The server answered a page with an empty body: nothing on it is taken as the
        /// source's (a server's bad night must not empty its part of the region).
        EmptyResponse = "empty_response",
        /// A page contradicts itself: a count of results with none on a page it promises.
        InconsistentCount = "inconsistent_count",
        /// A page's entries carry no readable metadata.
        NoMetadata = "no_metadata",
        /// The RDF does not parse.
        MalformedRdf = "malformed_rdf",
        /// A statement that does not parse, left out; the rest of its page is kept.
        MalformedStatement = "malformed_statement",
        /// Bytes that are not UTF-8, replaced with U+FFFD.
        InvalidUtf8 = "invalid_utf8",
        /// An XML document whose entities expand past the limit (the "billion laughs").
        EntityExpansion = "entity_expansion",
        /// A document that nests deeper than the limit.
        TooDeep = "too_deep",
        /// A page with more triples than the limit.
        PageTooLarge = "page_too_large",
        /// A literal longer than the limit, left out.
        LiteralTooLong = "literal_too_long",
        /// An IRI longer than the limit: its statement is left out.
        IriTooLong = "iri_too_long",
        /// A dataset whose description holds more triples than the limit: not taken this
        /// run (the one held stays).
        DatasetTooLarge = "dataset_too_large",
        /// A property with more values on one node than the limit: the rest are left out.
        ListTooLong = "list_too_long",
        /// Control characters in a literal, removed.
        ControlCharacters = "control_characters",
        /// A sub-catalogue that leads back to a catalog already read.
        HasPartCycle = "has_part_cycle",
        /// Paging that goes on without a dataset not already read: stopped.
        NoProgress = "no_progress",
        /// A run that read far fewer datasets than the source held: nothing is archived
        /// until a second run in a row reads as few.
        FewerDatasets = "fewer_datasets",
        /// The JSON does not parse, or is not the API's shape.
        MalformedJson = "malformed_json",
        /// A CKAN API answered `success: false`.
        CkanError = "ckan_error",
        /// A JSON-LD document the strict reading refuses, read leniently.
        InvalidJsonLd = "invalid_json_ld",
        /// An IRI that breaks the IRI grammar (kept as published).
        InvalidIri = "invalid_iri",
        /// A language tag that breaks BCP 47 (kept as published).
        InvalidLanguageTag = "invalid_language_tag",
        /// One dataset met twice in one run.
        DuplicateDataset = "duplicate_dataset",
        /// A dataset that is a blank node (given a skolem IRI).
        BlankNodeDataset = "blank_node_dataset",
        /// A dataset without a publisher.
        MissingPublisher = "missing_publisher",
        /// A date that is not a date.
        InvalidDate = "invalid_date",
        /// A dataset without a title, or with blank ones only.
        MissingTitle = "missing_title",
        /// A title that starts like a spreadsheet formula (`=`, `+`, `-`, `@`).
        FormulaLikeTitle = "formula_like_title",
        /// samla failed while reading (a decoding thread stopped).
        InternalError = "internal_error",
        /// The run ended without its own report: the pipeline failed.
        Failed = "failed",
        /// The run ended without its own report: the watchdog aborted it.
        TimedOut = "timed_out",
        /// A reason this samla does not know (a report written by another version).
        #[serde(other)]
        Unknown = "unknown",
    }
}
/// One example of a problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProblemSample {
    /// The page the problem was met on.
    pub url: String,
    /// The offending subject, when it is about a record.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<String>,
    /// What exactly is wrong.
    pub detail: String,
}

/// Problems of one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProblemGroup {
    /// The reason.
    pub reason: Reason,
    /// How many times it was met.
    pub count: u64,
    /// A few samples.
    pub samples: Vec<ProblemSample>,
}

/// The report of one run of one source. Every field has a default, so the report of a run
/// that ended without one (reserved, then aborted) reads as an empty report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunReport {
    /// The source.
    pub source_id: String,
    /// The start URL.
    pub url: String,
    /// When the run started.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub finished: DateTime<Utc>,
    /// How it ended.
    pub outcome: Outcome,
    /// Pages read.
    pub pages: u64,
    /// Pages that answered 304 Not Modified (their datasets are those of the last run).
    #[serde(default)]
    pub pages_not_modified: u64,
    /// An incremental run: only what changed since the last run was asked for, so what the
    /// source no longer lists cannot be told (nothing is archived).
    #[serde(default)]
    pub incremental: bool,
    /// Datasets found.
    pub datasets: u64,
    /// Distributions found.
    pub distributions: u64,
    /// Responses by HTTP status, retries included.
    pub http_statuses: BTreeMap<u16, u64>,
    /// Problems by reason.
    pub problems: Vec<ProblemGroup>,
}

impl RunReport {
    /// A new, empty report for a run starting at `now`.
    pub fn start(source_id: &str, url: &str, now: DateTime<Utc>) -> Self {
        Self {
            source_id: source_id.into(),
            url: url.into(),
            started: now,
            finished: now,
            outcome: Outcome::Success,
            pages: 0,
            pages_not_modified: 0,
            incremental: false,
            datasets: 0,
            distributions: 0,
            http_statuses: BTreeMap::new(),
            problems: Vec::new(),
        }
    }

    /// Counts a problem, keeping a few samples.
    pub fn problem(
        &mut self,
        reason: Reason,
        url: &str,
        subject: Option<&str>,
        detail: impl Into<String>,
    ) {
        let sample = ProblemSample {
            url: url.into(),
            subject: subject.map(str::to_string),
            detail: detail.into(),
        };
        match self.problems.iter_mut().find(|g| g.reason == reason) {
            Some(group) => {
                group.count += 1;
                if group.samples.len() < SAMPLES_PER_REASON {
                    group.samples.push(sample);
                }
            }
            None => self.problems.push(ProblemGroup {
                reason,
                count: 1,
                samples: vec![sample],
            }),
        }
    }

    /// The count of problems of one reason.
    /// (`reason` is a [`Reason`], or its name.)
    pub fn problem_count<R>(&self, reason: R) -> u64
    where
        Reason: PartialEq<R>,
    {
        self.problems
            .iter()
            .find(|g| g.reason == reason)
            .map_or(0, |g| g.count)
    }

    /// Downgrades the outcome (success → partial → failed), never upgrades it.
    pub fn downgrade(&mut self, outcome: Outcome) {
        let rank = |o: Outcome| match o {
            Outcome::Success | Outcome::Unchanged => 0,
            Outcome::Partial => 1,
            Outcome::Failed => 2,
            Outcome::Cancelled | Outcome::TimedOut => 3,
        };
        if rank(outcome) > rank(self.outcome) {
            self.outcome = outcome;
        }
    }

    /// The report of a run that ended without reading (aborted by the watchdog, or failed in
    /// the pipeline): its outcome and one problem saying why.
    pub fn ended(source_id: &str, outcome: Outcome, detail: &str, now: DateTime<Utc>) -> Self {
        let mut report = Self::start(source_id, "", now);
        report.outcome = outcome;
        let reason = if outcome == Outcome::TimedOut {
            Reason::TimedOut
        } else {
            Reason::Failed
        };
        report.problem(reason, "", None, detail);
        report
    }

    /// Closes the report at `now`.
    pub fn finish(&mut self, now: DateTime<Utc>) {
        self.finished = now;
        if self.outcome == Outcome::Success
            && self.pages > 0
            && self.pages_not_modified == self.pages
        {
            self.outcome = Outcome::Unchanged;
        }
        self.problems.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.reason.as_str().cmp(b.reason.as_str()))
        });
    }
}

impl Default for RunReport {
    fn default() -> Self {
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        Self {
            source_id: String::new(),
            url: String::new(),
            started: epoch,
            finished: epoch,
            outcome: Outcome::Success,
            pages: 0,
            pages_not_modified: 0,
            incremental: false,
            datasets: 0,
            distributions: 0,
            http_statuses: BTreeMap::new(),
            problems: Vec::new(),
        }
    }
}

/// Why a run could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartRefusal {
    /// No such source.
    UnknownSource,
    /// The source has a run going (its id).
    AlreadyRunning(i64),
    /// Another harvester node has a run of the source going.
    RunningElsewhere,
    /// The service is stopping.
    ShuttingDown,
    /// The run could not be recorded.
    Internal(String),
}

/// Starts harvest runs on demand: what the API's "run now" asks of the runner.
pub trait HarvestControl: Send + Sync {
    /// Starts a run of a source now; returns its run id.
    fn start_run(self: Arc<Self>, source_id: &str) -> Result<i64, StartRefusal>;
}
