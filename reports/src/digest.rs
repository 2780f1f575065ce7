//! A publisher's digest: what the person who answers for one organisation's catalog should
//! know after a harvest — each source's last run with its problems by reason (with samples),
//! its broken links and its overdue datasets. The notifier sends it when it changed; the
//! organisation page shows it.

use super::Reports;
use crate::ReportError;
use crate::freshness::{FreshnessRollup, FreshnessRow, freshness_report, freshness_row};
use crate::health::{SourceHealth, health_report};
use chrono::{DateTime, Utc};
use samla_model::freshness::Freshness;
use samla_model::run::Reason;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Broken links and overdue datasets listed by name; the rest are counted.
pub const LISTED: usize = 20;

/// A distribution link that failed its last check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BrokenLink {
    /// The dataset.
    pub dataset_id: String,
    /// Its title.
    pub title: String,
    /// The link.
    pub url: String,
    /// The status it answered, if any.
    pub status: Option<u16>,
    /// Why it failed without a status.
    pub error: Option<String>,
}

/// A dataset not updated within its declared interval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Overdue {
    /// The dataset.
    pub dataset_id: String,
    /// Its title.
    pub title: String,
    /// Its declared frequency.
    pub accrual_periodicity: Option<String>,
    /// Whole days past due.
    pub days: i64,
}

/// A problem reason a source's last run met that the last digest did not hold.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NewProblem {
    /// The source.
    pub source_id: String,
    /// The reason.
    pub reason: Reason,
    /// How many times the run met it.
    pub count: u64,
}

/// One organisation's digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Digest {
    /// Its code.
    pub organisation: String,
    /// Its name.
    pub name: String,
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// Its sources: the last run, its outcome and problems, failing first.
    pub sources: Vec<SourceHealth>,
    /// Problems new since the digest it is compared with ([`Digest::mark_new`]).
    #[serde(default)]
    pub new_problems: Vec<NewProblem>,
    /// Broken links, the first [`LISTED`].
    pub broken_links: Vec<BrokenLink>,
    /// Broken links in all.
    pub broken_total: u64,
    /// Overdue datasets, most overdue first, the first [`LISTED`].
    pub overdue: Vec<Overdue>,
    /// Overdue datasets in all.
    pub overdue_total: u64,
    /// Its datasets on time, overdue and unknown.
    #[serde(default)]
    pub freshness: Option<FreshnessRollup>,
}

/// Builds the digest of organisation `code` as of `now`; `None` if the region has no such
/// organisation.
pub fn digest(
    reports: &Reports,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<Digest>, ReportError> {
    let Some(organisation) = reports.directory().by_code(code) else {
        return Ok(None);
    };
    let health = health_report(reports, now, Some(code))?;
    let facts = reports.facts()?;
    // The organisation's links, then the results of those alone (not every link's row), and
    // its overdue datasets, in one read of the facts.
    let mut theirs: Vec<(String, String, String)> = Vec::new();
    let mut overdue: Vec<Overdue> = Vec::new();
    facts.each(|d| {
        if d.municipality_code.as_deref() != Some(code) {
            return;
        }
        let mut urls: Vec<&String> = d.view.link_urls().collect();
        urls.sort();
        urls.dedup();
        theirs.extend(
            urls.into_iter()
                .map(|url| (d.id.clone(), d.title.clone(), url.clone())),
        );
        let row: FreshnessRow = freshness_row(&d, now);
        if let Freshness::Overdue { days, .. } = row.freshness {
            overdue.push(Overdue {
                dataset_id: row.id,
                title: row.title,
                accrual_periodicity: row.accrual_periodicity,
                days,
            });
        }
    })?;
    // Most overdue first, as the freshness report lists them (the facts come in id order).
    overdue.sort_by_key(|o| std::cmp::Reverse(o.days));
    let rows = reports
        .store
        .link_rows(theirs.iter().map(|(_, _, url)| url.as_str()))?;
    let mut broken: Vec<BrokenLink> = theirs
        .into_iter()
        .filter_map(|(dataset_id, title, url)| {
            let row = rows.get(&url).filter(|r| !r.ok)?;
            Some(BrokenLink {
                dataset_id,
                title,
                status: row.status,
                error: row.error.clone(),
                url,
            })
        })
        .collect();
    broken
        .sort_by(|a, b| (&a.title, &a.dataset_id, &a.url).cmp(&(&b.title, &b.dataset_id, &b.url)));
    let rollup = freshness_report(reports, now, Some(code), false)?
        .municipalities
        .into_iter()
        .next();
    Ok(Some(Digest {
        organisation: organisation.code.clone(),
        name: organisation.name.clone(),
        as_of: now,
        sources: health.sources,
        new_problems: Vec::new(),
        broken_total: broken.len() as u64,
        broken_links: broken.into_iter().take(LISTED).collect(),
        freshness: rollup,
        overdue_total: overdue.len() as u64,
        overdue: overdue.into_iter().take(LISTED).collect(),
    }))
}

impl Digest {
    /// What a notice is about, and nothing that moves without news (times, failure streaks,
    /// days overdue, a run finding the catalog unchanged rather than read anew): each
    /// source's status and problems by reason and count, which links are broken and which
    /// datasets overdue. Equal fingerprints: nothing to tell.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        for s in &self.sources {
            hash.update(format!("source {} {}\n", s.id, s.status));
            for p in &s.problems {
                hash.update(format!("problem {} {}\n", p.reason.as_str(), p.count));
            }
        }
        hash.update(format!("broken {}\n", self.broken_total));
        for b in &self.broken_links {
            hash.update(format!("broken {} {}\n", b.dataset_id, b.url));
        }
        hash.update(format!("overdue {}\n", self.overdue_total));
        for o in &self.overdue {
            hash.update(format!("overdue {}\n", o.dataset_id));
        }
        format!("{:x}", hash.finalize())
    }

    /// Notes the problems of each source's last run that `previous` did not hold (all of
    /// them when there is no previous digest).
    pub fn mark_new(&mut self, previous: Option<&Digest>) {
        self.new_problems = self
            .sources
            .iter()
            .flat_map(|s| {
                let before = previous.and_then(|p| p.sources.iter().find(|o| o.id == s.id));
                s.problems
                    .iter()
                    .filter(move |p| {
                        before.is_none_or(|b| !b.problems.iter().any(|o| o.reason == p.reason))
                    })
                    .map(|p| NewProblem {
                        source_id: s.id.clone(),
                        reason: p.reason,
                        count: p.count,
                    })
            })
            .collect();
    }
}
