//! Freshness: each dataset's last modification against its declared update frequency,
//! rolled up for every organisation of the region.

use super::{Reports, cell, to_csv};

/// The CSV tables of the freshness report.
pub const TABLES: &[&str] = &["municipalities", "datasets"];
use crate::ReportError;
use chrono::{DateTime, Utc};
use samla_model::freshness::{Freshness, freshness};
use serde::Serialize;

/// One dataset's freshness.
#[derive(Debug, Clone, Serialize)]
pub struct FreshnessRow {
    /// Dataset id.
    pub id: String,
    /// Title (Swedish, else any).
    pub title: String,
    /// Kommunkod of the publisher.
    pub municipality_code: Option<String>,
    /// The source it is shown from.
    pub source_id: String,
    /// Declared `dct:accrualPeriodicity`.
    pub accrual_periodicity: Option<String>,
    /// Last modification as published.
    pub modified: Option<String>,
    /// On time, overdue or unknown.
    #[serde(flatten)]
    pub freshness: Freshness,
}

/// Freshness rolled up for one organisation of the region.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct FreshnessRollup {
    /// Kommunkod.
    pub code: String,
    /// Name.
    pub name: String,
    /// Datasets.
    pub datasets: u64,
    /// On time.
    pub on_time: u64,
    /// Overdue.
    pub overdue: u64,
    /// Cannot be told.
    pub unknown: u64,
    /// The longest time past due, in days.
    pub most_overdue_days: Option<i64>,
}

/// The freshness report.
#[derive(Debug, Clone, Serialize)]
pub struct FreshnessReport {
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// Every organisation of the region (those that publish nothing too).
    pub municipalities: Vec<FreshnessRollup>,
    /// Every dataset, most overdue first.
    pub datasets: Vec<FreshnessRow>,
}

/// Computes the freshness of every searchable dataset as of `now`, optionally of one
/// organisation (`municipality`).
pub fn freshness_report(
    reports: &Reports,
    now: DateTime<Utc>,
    municipality: Option<&str>,
) -> Result<FreshnessReport, ReportError> {
    let facts = reports.facts()?;
    let directory = reports.directory();
    let mut datasets: Vec<FreshnessRow> = facts.filter_map(|d| {
        municipality
            .is_none_or(|m| d.municipality_code.as_deref() == Some(m))
            .then(|| FreshnessRow {
                freshness: freshness(
                    d.view.modified_at(),
                    d.view.accrual_periodicity.as_deref(),
                    now,
                ),
                title: d.title.clone(),
                accrual_periodicity: d.view.accrual_periodicity.clone(),
                modified: d.view.modified.clone(),
                id: d.id.clone(),
                municipality_code: d.municipality_code.clone(),
                source_id: d.source_id.clone(),
            })
    })?;
    let overdue_days = |r: &FreshnessRow| match r.freshness {
        Freshness::Overdue { days, .. } => Some(days),
        _ => None,
    };
    datasets.sort_by(|a, b| {
        overdue_days(b)
            .cmp(&overdue_days(a))
            .then_with(|| a.id.cmp(&b.id))
    });
    let municipalities = directory
        .organisations()
        .iter()
        .filter(|o| municipality.is_none_or(|m| m == o.code))
        .map(|o| {
            let mine: Vec<&FreshnessRow> = datasets
                .iter()
                .filter(|r| r.municipality_code.as_deref() == Some(o.code.as_str()))
                .collect();
            let count =
                |f: fn(&Freshness) -> bool| mine.iter().filter(|r| f(&r.freshness)).count() as u64;
            FreshnessRollup {
                code: o.code.clone(),
                name: o.name.clone(),
                datasets: mine.len() as u64,
                on_time: count(|f| matches!(f, Freshness::OnTime { .. })),
                overdue: count(|f| matches!(f, Freshness::Overdue { .. })),
                unknown: count(|f| matches!(f, Freshness::Unknown { .. })),
                most_overdue_days: mine.iter().filter_map(|r| overdue_days(r)).max(),
            }
        })
        .collect();
    Ok(FreshnessReport {
        as_of: now,
        municipalities,
        datasets,
    })
}

/// The report's tables as CSV: `municipalities` (one row per organisation) or `datasets`.
pub fn freshness_csv(report: &FreshnessReport, table: &str) -> Result<String, ReportError> {
    match table {
        "municipalities" => to_csv(
            &[
                "code",
                "name",
                "datasets",
                "on_time",
                "overdue",
                "unknown",
                "most_overdue_days",
            ],
            report.municipalities.iter().map(|m| {
                [
                    m.code.clone(),
                    m.name.clone(),
                    m.datasets.to_string(),
                    m.on_time.to_string(),
                    m.overdue.to_string(),
                    m.unknown.to_string(),
                    cell(m.most_overdue_days),
                ]
            }),
        ),
        _ => to_csv(
            &[
                "id",
                "title",
                "municipality_code",
                "source_id",
                "accrual_periodicity",
                "modified",
                "status",
                "unknown_reason",
                "due",
                "overdue_days",
            ],
            report.datasets.iter().map(|r| {
                let (status, reason, due, days) = match r.freshness {
                    Freshness::OnTime { due } => ("on_time", "", due, None),
                    Freshness::Overdue { due, days } => ("overdue", "", Some(due), Some(days)),
                    Freshness::Unknown { reason } => ("unknown", reason, None, None),
                };
                [
                    r.id.clone(),
                    r.title.clone(),
                    cell(r.municipality_code.as_ref()),
                    r.source_id.clone(),
                    cell(r.accrual_periodicity.as_ref()),
                    cell(r.modified.as_ref()),
                    status.to_string(),
                    reason.to_string(),
                    cell(due.map(|d| d.to_rfc3339())),
                    cell(days),
                ]
            }),
        ),
    }
}
