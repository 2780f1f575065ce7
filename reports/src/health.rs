//! Harvest health: per source the last run and its outcome, the last success, the current
//! failure streak and the problems of the last run by reason.

use super::{Reports, cell, to_csv};
use crate::ReportError;
use chrono::{DateTime, Utc};
use samla_model::run::{ProblemSample, Reason, RunState};
use serde::{Deserialize, Serialize};

/// One problem reason of the last run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Problem {
    /// Reason.
    pub reason: Reason,
    /// How many.
    pub count: u64,
    /// A few of them: the page, the offending record, what is wrong.
    pub samples: Vec<ProblemSample>,
}

/// One source's health.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceHealth {
    /// Source id.
    pub id: String,
    /// Kommunkod of its organisation.
    pub organisation: String,
    /// Protocol.
    pub protocol: String,
    /// URL.
    pub url: String,
    /// `ok` (last run good), `failing`, or `never_run`.
    pub status: String,
    /// Outcome of the last finished run.
    pub last_outcome: Option<RunState>,
    /// When the last finished run ended.
    pub last_run: Option<DateTime<Utc>>,
    /// When the last good run ended.
    pub last_success: Option<DateTime<Utc>>,
    /// Bad runs since the last good one.
    pub failure_streak: u64,
    /// Problems of the last finished run that read the source whole (not one that found it
    /// unchanged, nor an incremental one), by reason, most first.
    pub problems: Vec<Problem>,
    /// Searchable datasets from this source.
    pub datasets: u64,
}

/// The harvest-health report.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// Sources failing now.
    pub failing: u64,
    /// Every configured source, failing first.
    pub sources: Vec<SourceHealth>,
}

/// Samples kept per problem reason.
const SAMPLES: usize = 3;

/// How many past runs are read per source for the streak.
const HISTORY: u32 = 200;

/// Builds the report (of one organisation's sources, if given).
pub fn health_report(
    reports: &Reports,
    now: DateTime<Utc>,
    municipality: Option<&str>,
) -> Result<HealthReport, ReportError> {
    let counts = reports.store().dataset_counts()?;
    let mut sources = Vec::new();
    for s in reports
        .sources
        .iter()
        .filter(|s| municipality.is_none_or(|m| m == s.organisation))
    {
        let runs = reports.store().runs(&s.id, HISTORY)?;
        let finished: Vec<_> = runs.iter().filter(|r| r.outcome.has_ended()).collect();
        let last = finished.first();
        let streak = finished
            .iter()
            .take_while(|r| !r.outcome.read_something())
            .count() as u64;
        // The problems of what the source publishes now: those of the last run that read it
        // whole (a run that found it unchanged, or read only its changes, met fewer).
        let read_whole = finished
            .iter()
            .find(|r| r.outcome != RunState::Unchanged && !r.report.incremental)
            .or(last);
        let mut problems: Vec<Problem> = read_whole
            .map(|r| {
                r.report
                    .problems
                    .iter()
                    .map(|g| Problem {
                        reason: g.reason,
                        count: g.count,
                        samples: g.samples.iter().take(SAMPLES).cloned().collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        problems.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.reason.as_str().cmp(b.reason.as_str()))
        });
        sources.push(SourceHealth {
            id: s.id.clone(),
            organisation: s.organisation.clone(),
            protocol: s.protocol.clone(),
            url: s.url.clone(),
            status: match last {
                None => "never_run",
                Some(_) if streak > 0 => "failing",
                Some(_) => "ok",
            }
            .to_string(),
            last_outcome: last.map(|r| r.outcome),
            last_run: last.map(|r| r.finished),
            last_success: finished
                .iter()
                .find(|r| r.outcome.read_something())
                .map(|r| r.finished),
            failure_streak: streak,
            problems,
            datasets: counts.get(&s.id).copied().unwrap_or(0),
        });
    }
    sources.sort_by(|a, b| {
        b.failure_streak
            .cmp(&a.failure_streak)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(HealthReport {
        as_of: now,
        failing: sources.iter().filter(|s| s.status == "failing").count() as u64,
        sources,
    })
}

/// The CSV tables of the health report.
pub const TABLES: &[&str] = &["sources"];

/// One row per source; problems as `reason:count` joined by `;`.
pub fn health_csv(report: &HealthReport) -> Result<String, ReportError> {
    to_csv(
        &[
            "id",
            "organisation",
            "protocol",
            "url",
            "status",
            "last_outcome",
            "last_run",
            "last_success",
            "failure_streak",
            "datasets",
            "problems",
        ],
        report.sources.iter().map(|s| {
            vec![
                s.id.clone(),
                s.organisation.clone(),
                s.protocol.clone(),
                s.url.clone(),
                s.status.to_string(),
                cell(s.last_outcome.as_ref()),
                cell(s.last_run.map(|t| t.to_rfc3339())),
                cell(s.last_success.map(|t| t.to_rfc3339())),
                s.failure_streak.to_string(),
                s.datasets.to_string(),
                s.problems
                    .iter()
                    .map(|p| format!("{}:{}", p.reason, p.count))
                    .collect::<Vec<_>>()
                    .join(";"),
            ]
        }),
    )
}
