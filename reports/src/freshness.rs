//! Freshness: each dataset's last modification against its declared update frequency,
//! rolled up for every organisation of the region.

use super::{Reports, cell, json_cell, write_csv};
use crate::listing::Listing;
use std::collections::HashMap;

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
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
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
#[derive(Debug, Serialize)]
pub struct FreshnessReport {
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// Every organisation of the region (those that publish nothing too).
    pub municipalities: Vec<FreshnessRollup>,
    /// Every dataset, most overdue first, then by id (none when the report was made without
    /// its list): a [`FreshnessRow`] each, kept on disk.
    pub datasets: Listing,
}

/// One dataset's freshness as of `now`.
pub fn freshness_row(d: &super::DatasetFacts, now: DateTime<Utc>) -> FreshnessRow {
    FreshnessRow {
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
    }
}

/// Computes the freshness of every searchable dataset as of `now`, optionally of one
/// organisation (`municipality`). The datasets are listed only if `listed`, on disk; the
/// organisations' figures are counted as the datasets are read.
pub fn freshness_report(
    reports: &Reports,
    now: DateTime<Utc>,
    municipality: Option<&str>,
    listed: bool,
) -> Result<FreshnessReport, ReportError> {
    let facts = reports.facts()?;
    let directory = reports.directory();
    let mut datasets = if listed {
        Listing::new(&reports.dir)?
    } else {
        Listing::none()
    };
    let mut rollups: HashMap<String, FreshnessRollup> = HashMap::new();
    facts.try_each(|d| {
        if municipality.is_some_and(|m| d.municipality_code.as_deref() != Some(m)) {
            return Ok(());
        }
        let row = freshness_row(&d, now);
        let overdue_days = match row.freshness {
            Freshness::Overdue { days, .. } => Some(days),
            _ => None,
        };
        if let Some(code) = &row.municipality_code {
            let r = rollups.entry(code.clone()).or_default();
            r.datasets += 1;
            match row.freshness {
                Freshness::OnTime { .. } => r.on_time += 1,
                Freshness::Overdue { .. } => r.overdue += 1,
                Freshness::Unknown { .. } => r.unknown += 1,
            }
            r.most_overdue_days = r.most_overdue_days.max(overdue_days);
        }
        // Most overdue first; the rest after, in the facts' (id) order.
        let key = overdue_days.map_or(i32::MAX, |days| {
            i32::try_from(days).map_or(i32::MIN, |days| days.saturating_neg())
        });
        if listed {
            datasets.push(key, &row)?;
        }
        Ok(())
    })?;
    let municipalities = directory
        .organisations()
        .iter()
        .filter(|o| municipality.is_none_or(|m| m == o.code))
        .map(|o| FreshnessRollup {
            code: o.code.clone(),
            name: o.name.clone(),
            ..rollups.remove(&o.code).unwrap_or_default()
        })
        .collect();
    Ok(FreshnessReport {
        as_of: now,
        municipalities,
        datasets: datasets.finish()?,
    })
}

/// The `datasets` table's columns, and the key of each in a listed [`FreshnessRow`].
const DATASET_COLUMNS: [(&str, &str); 10] = [
    ("id", "id"),
    ("title", "title"),
    ("municipality_code", "municipality_code"),
    ("source_id", "source_id"),
    ("accrual_periodicity", "accrual_periodicity"),
    ("modified", "modified"),
    ("status", "status"),
    ("unknown_reason", "reason"),
    ("due", "due"),
    ("overdue_days", "days"),
];

/// Table `table` of the report as CSV, written to `out`: `municipalities` (one row per
/// organisation) or `datasets` (a row at a time from the list on disk).
pub fn freshness_csv(
    report: &FreshnessReport,
    table: &str,
    out: &mut dyn std::io::Write,
) -> Result<(), ReportError> {
    match table {
        "municipalities" => write_csv(
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
                Ok([
                    m.code.clone(),
                    m.name.clone(),
                    m.datasets.to_string(),
                    m.on_time.to_string(),
                    m.overdue.to_string(),
                    m.unknown.to_string(),
                    cell(m.most_overdue_days),
                ])
            }),
            out,
        ),
        _ => write_csv(
            &DATASET_COLUMNS.map(|(column, _)| column),
            report.datasets.values().map(|r| {
                let r = r?;
                let mut row = DATASET_COLUMNS.map(|(_, key)| json_cell(&r[key]));
                // As RFC 3339 writes it (`+00:00`), as this table always had it.
                row[8] = cell(
                    DateTime::parse_from_rfc3339(&row[8])
                        .ok()
                        .map(|due| due.with_timezone(&Utc).to_rfc3339()),
                );
                Ok(row)
            }),
            out,
        ),
    }
}
