//! The report of one run: counts, HTTP statuses, and problems grouped by reason with a few
//! samples each, so a municipality can find and fix what is wrong in its catalog.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Samples kept per problem reason.
pub const SAMPLES_PER_REASON: usize = 5;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every page was read.
    Success,
    /// Every page answered 304 Not Modified: nothing was parsed, nothing changed.
    Unchanged,
    /// Some pages were read; what was read is kept, nothing is archived.
    Partial,
    /// Nothing could be read; the source keeps its previous datasets.
    Failed,
    /// Stopped by timeout or shutdown.
    Cancelled,
    /// The run took longer than the run timeout and was aborted; nothing was applied.
    #[serde(rename = "timed_out")]
    TimedOut,
}

/// One example of a problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct ProblemGroup {
    /// The reason (`malformed_rdf`, `hydra_loop`, `body_too_large`, `missing_title`, …).
    pub reason: String,
    /// How many times it was met.
    pub count: u64,
    /// A few samples.
    pub samples: Vec<ProblemSample>,
}

/// The report of one run of one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// A new, empty report for a run starting now.
    pub fn start(source_id: &str, url: &str) -> Self {
        let now = Utc::now();
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
        reason: &str,
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
                reason: reason.into(),
                count: 1,
                samples: vec![sample],
            }),
        }
    }

    /// The count of problems of one reason.
    pub fn problem_count(&self, reason: &str) -> u64 {
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

    /// Closes the report.
    pub fn finish(&mut self) {
        self.finished = Utc::now();
        if self.outcome == Outcome::Success
            && self.pages > 0
            && self.pages_not_modified == self.pages
        {
            self.outcome = Outcome::Unchanged;
        }
        self.problems
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    }
}
