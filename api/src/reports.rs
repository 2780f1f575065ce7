//! Reports for regional staff, as JSON and as CSV (RFC 4180, UTF-8). So far: freshness.

use crate::ApiError;
use chrono::{DateTime, Utc};
use samla_model::freshness::{Freshness, freshness};
use samla_model::view::{DatasetView, pick};
use samla_model::{DatasetId, OrganisationDirectory, record};
use samla_store::Store;
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
#[derive(Debug, Clone, Serialize)]
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
    store: &Store,
    directory: &OrganisationDirectory,
    now: DateTime<Utc>,
    municipality: Option<&str>,
) -> Result<FreshnessReport, ApiError> {
    let mut datasets = Vec::new();
    store
        .for_each_dataset(|d| {
            if municipality.is_some_and(|m| d.municipality_code.as_deref() != Some(m)) {
                return;
            }
            let Ok(triples) = record::parse_canonical(&d.ntriples) else {
                return;
            };
            let view = DatasetView::from_triples(
                &DatasetId(d.id.clone()),
                &d.iri,
                &triples,
                d.municipality_code.clone(),
            );
            datasets.push(FreshnessRow {
                freshness: freshness(view.modified_at(), view.accrual_periodicity.as_deref(), now),
                title: pick(&view.title, "sv").unwrap_or_default().to_string(),
                accrual_periodicity: view.accrual_periodicity.clone(),
                modified: view.modified.clone(),
                id: d.id,
                municipality_code: d.municipality_code,
                source_id: d.source_id,
            });
        })
        .map_err(|e| ApiError::Internal(e.to_string()))?;
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
pub fn freshness_csv(report: &FreshnessReport, table: &str) -> Result<String, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| ApiError::Internal(e.to_string());
    match table {
        "municipalities" => {
            w.write_record([
                "code",
                "name",
                "datasets",
                "on_time",
                "overdue",
                "unknown",
                "most_overdue_days",
            ])
            .map_err(internal)?;
            for m in &report.municipalities {
                w.write_record([
                    m.code.clone(),
                    m.name.clone(),
                    m.datasets.to_string(),
                    m.on_time.to_string(),
                    m.overdue.to_string(),
                    m.unknown.to_string(),
                    m.most_overdue_days
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                ])
                .map_err(internal)?;
            }
        }
        _ => {
            w.write_record([
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
            ])
            .map_err(internal)?;
            for r in &report.datasets {
                let (status, reason, due, days) = match r.freshness {
                    Freshness::OnTime { due } => ("on_time", "", due, None),
                    Freshness::Overdue { due, days } => ("overdue", "", Some(due), Some(days)),
                    Freshness::Unknown { reason } => ("unknown", reason, None, None),
                };
                w.write_record([
                    r.id.clone(),
                    r.title.clone(),
                    r.municipality_code.clone().unwrap_or_default(),
                    r.source_id.clone(),
                    r.accrual_periodicity.clone().unwrap_or_default(),
                    r.modified.clone().unwrap_or_default(),
                    status.to_string(),
                    reason.to_string(),
                    due.map(|d| d.to_rfc3339()).unwrap_or_default(),
                    days.map(|d| d.to_string()).unwrap_or_default(),
                ])
                .map_err(internal)?;
            }
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(e.to_string()))
}
