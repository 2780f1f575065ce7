//! High-value datasets (HVD): per organisation, which HVD categories it publishes, and whether
//! those datasets meet what the HVD regulation (Implementing Regulation (EU) 2023/138) asks,
//! as data.europa.eu's HVD reporting reads it: a licence as open as CC BY 4.0 (CC BY 4.0 or
//! CC0), reachable through an API or as a bulk download, and `dcatap:applicableLegislation`
//! naming the regulation.

use super::coverage::{Reading, readings};
use super::{Reports, cell, to_csv};
use crate::ReportError;
use chrono::{DateTime, Utc};
use samla_model::labels;
use serde::Serialize;

/// One HVD dataset and the requirements it meets.
#[derive(Debug, Clone, Serialize)]
pub struct HvdDataset {
    /// Dataset id.
    pub id: String,
    /// Title (Swedish, else any).
    pub title: String,
    /// Kommunkod of its publisher.
    pub municipality_code: Option<String>,
    /// Its HVD categories (IRIs).
    pub categories: Vec<String>,
    /// Every licence it gives is CC BY 4.0 or CC0, and it gives one.
    pub open_licence: bool,
    /// It offers an API or a download URL.
    pub api_or_download: bool,
    /// It names the HVD regulation as applicable legislation.
    pub legislation: bool,
}

impl HvdDataset {
    /// Whether it meets all three.
    pub fn meets(&self) -> bool {
        self.open_licence && self.api_or_download && self.legislation
    }
}

/// One HVD category of one organisation.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryHvd {
    /// The category's IRI.
    pub category: String,
    /// Its Swedish label.
    pub label: String,
    /// Datasets of the organisation in the category.
    pub datasets: u64,
    /// Of them, those meeting every requirement.
    pub meeting: u64,
}

/// One organisation's HVD.
#[derive(Debug, Clone, Serialize)]
pub struct OrganisationHvd {
    /// Kommunkod.
    pub code: String,
    /// Name.
    pub name: String,
    /// Whether its sources were read (a category without datasets means none, or unknown).
    pub reading: Reading,
    /// Its HVD datasets.
    pub datasets: u64,
    /// Of them, those meeting every requirement.
    pub meeting: u64,
    /// Of them, those lacking each requirement.
    pub without_open_licence: u64,
    /// See [`OrganisationHvd::without_open_licence`].
    pub without_api_or_download: u64,
    /// See [`OrganisationHvd::without_open_licence`].
    pub without_legislation: u64,
    /// Every HVD category, in the regulation's order.
    pub categories: Vec<CategoryHvd>,
}

/// The HVD report.
#[derive(Debug, Clone, Serialize)]
pub struct HvdReport {
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// Every organisation of the region.
    pub organisations: Vec<OrganisationHvd>,
    /// Every HVD dataset, those meeting the fewest requirements first.
    pub datasets: Vec<HvdDataset>,
}

/// Builds the report (of one organisation, if given).
pub fn hvd_report(
    reports: &Reports,
    now: DateTime<Utc>,
    municipality: Option<&str>,
) -> Result<HvdReport, ReportError> {
    let facts = reports.facts()?;
    let readings = readings(reports, now)?;
    let mut datasets: Vec<HvdDataset> = facts.filter_map(|d| {
        if d.view.hvd_categories.is_empty()
            || municipality.is_some_and(|m| d.municipality_code.as_deref() != Some(m))
        {
            return None;
        }
        let v = &d.view;
        let licences: Vec<&String> = v
            .license
            .iter()
            .chain(v.distributions.iter().filter_map(|x| x.license.as_ref()))
            .collect();
        Some(HvdDataset {
            id: d.id.clone(),
            title: d.title.clone(),
            municipality_code: d.municipality_code.clone(),
            categories: v.hvd_categories.clone(),
            open_licence: !licences.is_empty() && licences.iter().all(|l| labels::hvd_licence(l)),
            api_or_download: v.offers_api()
                || v.distributions.iter().any(|x| !x.download_urls.is_empty()),
            legislation: v
                .applicable_legislation
                .iter()
                .any(|l| labels::is_hvd_regulation(l)),
        })
    })?;
    let met = |d: &HvdDataset| {
        u8::from(d.open_licence) + u8::from(d.api_or_download) + u8::from(d.legislation)
    };
    datasets.sort_by(|a, b| met(a).cmp(&met(b)).then_with(|| a.id.cmp(&b.id)));
    let organisations = reports
        .directory()
        .organisations()
        .iter()
        .filter(|o| municipality.is_none_or(|m| m == o.code))
        .map(|o| {
            let mine: Vec<&HvdDataset> = datasets
                .iter()
                .filter(|d| d.municipality_code.as_deref() == Some(o.code.as_str()))
                .collect();
            let count =
                |f: &dyn Fn(&HvdDataset) -> bool| mine.iter().filter(|d| f(d)).count() as u64;
            OrganisationHvd {
                code: o.code.clone(),
                name: o.name.clone(),
                reading: readings.get(&o.code).copied().unwrap_or_default(),
                datasets: mine.len() as u64,
                meeting: count(&HvdDataset::meets),
                without_open_licence: count(&|d| !d.open_licence),
                without_api_or_download: count(&|d| !d.api_or_download),
                without_legislation: count(&|d| !d.legislation),
                categories: labels::HVD_CATEGORIES
                    .iter()
                    .map(|c| {
                        let iri = format!("{}{}", samla_model::vocab::eu::HVD, c.code);
                        let here: Vec<&&HvdDataset> = mine
                            .iter()
                            .filter(|d| d.categories.contains(&iri))
                            .collect();
                        CategoryHvd {
                            label: c.sv.to_string(),
                            datasets: here.len() as u64,
                            meeting: here.iter().filter(|d| d.meets()).count() as u64,
                            category: iri,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(HvdReport {
        as_of: now,
        organisations,
        datasets,
    })
}

/// The CSV tables of the HVD report.
pub const TABLES: &[&str] = &["organisations", "datasets"];

/// `organisations`: one row per organisation and HVD category; `datasets`: one row per HVD
/// dataset with the requirements it meets.
pub fn hvd_csv(report: &HvdReport, table: &str) -> Result<String, ReportError> {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    match table {
        "datasets" => to_csv(
            &[
                "id",
                "title",
                "municipality_code",
                "categories",
                "open_licence",
                "api_or_download",
                "applicable_legislation",
                "meets",
            ],
            report.datasets.iter().map(|d| {
                vec![
                    d.id.clone(),
                    d.title.clone(),
                    cell(d.municipality_code.as_ref()),
                    d.categories
                        .iter()
                        .map(|c| labels::hvd_category(c).map_or(c.as_str(), |l| l.sv))
                        .collect::<Vec<_>>()
                        .join("; "),
                    yes(d.open_licence),
                    yes(d.api_or_download),
                    yes(d.legislation),
                    yes(d.meets()),
                ]
            }),
        ),
        _ => to_csv(
            &[
                "code", "name", "read", "category", "label", "datasets", "meeting",
            ],
            report.organisations.iter().flat_map(|o| {
                o.categories.iter().map(move |c| {
                    vec![
                        o.code.clone(),
                        o.name.clone(),
                        o.reading.state.to_string(),
                        c.category.clone(),
                        c.label.clone(),
                        c.datasets.to_string(),
                        c.meeting.to_string(),
                    ]
                })
            }),
        ),
    }
}
