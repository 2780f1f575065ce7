//! Regional ⇄ national: which of the region's datasets the national portal lists, which it
//! lacks, which it lists differently (title, modification date, distributions), and which
//! datasets it attributes to the region's organisations that no regional source lists.
//! Datasets are matched by dataportal.se's identity rules, as samla identifies its own: a
//! UUID `dcterms:identifier`, else the dataset's IRI.

use super::{Reports, cell, to_csv};
use crate::ReportError;
use chrono::{DateTime, Utc};
use samla_model::reference::{self, ReferenceRecord};
use samla_model::run::{Outcome, RunReport};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The CSV tables of the national report.
pub const TABLES: &[&str] = &["organisations", "missing", "different", "national_only"];

/// One organisation's datasets against the national portal.
#[derive(Debug, Clone, Serialize)]
pub struct OrganisationNational {
    /// Kommunkod.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its datasets in samla.
    pub regional: u64,
    /// Of them, listed nationally as in the region.
    pub same: u64,
    /// Listed nationally, but differently.
    pub different: u64,
    /// Not listed nationally.
    pub missing: u64,
    /// Listed nationally under its name, in no regional source.
    pub national_only: u64,
}

/// A regional dataset and what the national portal makes of it.
#[derive(Debug, Clone, Serialize)]
pub struct Compared {
    /// Dataset id.
    pub id: String,
    /// Title in the region.
    pub title: String,
    /// Kommunkod of its publisher.
    pub municipality_code: Option<String>,
    /// The source it is shown from.
    pub source_id: String,
    /// What differs nationally: `title`, `modified`, `distributions` (empty when missing).
    pub differs: Vec<&'static str>,
    /// `dcterms:modified` in the region.
    pub modified: Option<String>,
    /// The national title, when listed.
    pub national_title: Option<String>,
    /// The national `dcterms:modified`, when listed.
    pub national_modified: Option<String>,
}

/// A dataset the national portal attributes to one of the region's organisations.
#[derive(Debug, Clone, Serialize)]
pub struct NationalOnly {
    /// Its identity.
    pub id: String,
    /// Its IRI.
    pub iri: String,
    /// Its title.
    pub title: String,
    /// The organisation.
    pub municipality_code: Option<String>,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct NationalReport {
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// Where the national portal was read from (none before its first harvest: then nothing
    /// is known, and every list is empty).
    pub portal: Option<String>,
    /// When it was last harvested.
    pub harvested: Option<DateTime<Utc>>,
    /// How that harvest ended.
    pub outcome: Option<Outcome>,
    /// Datasets the portal listed.
    pub listed: u64,
    /// Every organisation of the region.
    pub organisations: Vec<OrganisationNational>,
    /// Regional datasets the portal lacks.
    pub missing: Vec<Compared>,
    /// Regional datasets the portal lists differently.
    pub different: Vec<Compared>,
    /// Datasets the portal attributes to the region's organisations that no regional
    /// source lists.
    pub national_only: Vec<NationalOnly>,
}

/// Text as compared: runs of white space as one space, no white space at the ends.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A modification time as compared: its day (publishers and portals write the time of day
/// and the zone differently).
fn day(text: Option<&str>) -> Option<&str> {
    text.map(|t| t.get(..10).unwrap_or(t))
}

/// Builds the report (of one organisation, if given).
pub fn national_report(
    reports: &Reports,
    now: DateTime<Utc>,
    municipality: Option<&str>,
) -> Result<NationalReport, ReportError> {
    let store = reports.store();
    let run: Option<RunReport> = store
        .entry(reference::NATIONAL, reference::RUN)?
        .and_then(|b| serde_json::from_str(&b).ok());
    let listed: Option<Vec<ReferenceRecord>> = store
        .entry(reference::NATIONAL, reference::RECORDS)?
        .and_then(|b| serde_json::from_str(&b).ok());
    let facts = reports.facts()?;
    let directory = reports.directory();
    let mine = |code: Option<&str>| municipality.is_none_or(|m| code == Some(m));
    let mut missing = Vec::new();
    let mut different = Vec::new();
    let mut national_only = Vec::new();
    let mut counts: BTreeMap<&str, OrganisationNational> = BTreeMap::new();
    for o in directory.organisations() {
        if mine(Some(&o.code)) {
            counts.insert(
                &o.code,
                OrganisationNational {
                    code: o.code.clone(),
                    name: o.name.clone(),
                    regional: 0,
                    same: 0,
                    different: 0,
                    missing: 0,
                    national_only: 0,
                },
            );
        }
    }
    if let Some(listed) = &listed {
        let by_id: HashMap<&str, &ReferenceRecord> =
            listed.iter().map(|r| (r.id.as_str(), r)).collect();
        let by_iri: HashMap<&str, &ReferenceRecord> =
            listed.iter().map(|r| (r.iri.as_str(), r)).collect();
        let mut matched: HashSet<&str> = HashSet::new();
        facts.each(|d| {
            let national = by_id
                .get(d.id.as_str())
                .or_else(|| by_iri.get(d.view.uri.as_str()))
                .copied();
            if let Some(n) = national {
                matched.insert(n.id.as_str());
            }
            if !mine(d.municipality_code.as_deref()) {
                return;
            }
            let row = d
                .municipality_code
                .as_deref()
                .and_then(|c| counts.get_mut(c));
            let mut compared = Compared {
                id: d.id.clone(),
                title: d.title.clone(),
                municipality_code: d.municipality_code.clone(),
                source_id: d.source_id.clone(),
                differs: Vec::new(),
                modified: d.view.modified.clone(),
                national_title: national.map(|n| n.title.clone()),
                national_modified: national.and_then(|n| n.modified.clone()),
            };
            let Some(n) = national else {
                if let Some(row) = row {
                    row.regional += 1;
                    row.missing += 1;
                }
                missing.push(compared);
                return;
            };
            if squeezed(&n.title) != squeezed(&d.title) {
                compared.differs.push("title");
            }
            if day(n.modified.as_deref()) != day(d.view.modified.as_deref()) {
                compared.differs.push("modified");
            }
            let mut urls: Vec<&String> = d.view.link_urls().collect();
            urls.sort();
            urls.dedup();
            if urls.len() != n.urls.len() || urls.iter().zip(&n.urls).any(|(a, b)| *a != b) {
                compared.differs.push("distributions");
            }
            if let Some(row) = row {
                row.regional += 1;
                if compared.differs.is_empty() {
                    row.same += 1;
                } else {
                    row.different += 1;
                }
            }
            if !compared.differs.is_empty() {
                different.push(compared);
            }
        })?;
        for n in listed {
            let Some(code) = n.municipality_code.as_deref() else {
                continue;
            };
            if matched.contains(n.id.as_str()) || !mine(Some(code)) {
                continue;
            }
            let Some(row) = counts.get_mut(code) else {
                continue;
            };
            row.national_only += 1;
            national_only.push(NationalOnly {
                id: n.id.clone(),
                iri: n.iri.clone(),
                title: n.title.clone(),
                municipality_code: n.municipality_code.clone(),
            });
        }
    } else {
        facts.each(|d| {
            if let Some(row) = d
                .municipality_code
                .as_deref()
                .filter(|c| mine(Some(c)))
                .and_then(|c| counts.get_mut(c))
            {
                row.regional += 1;
            }
        })?;
    }
    let order = |a: &Compared, b: &Compared| {
        (&a.municipality_code, &a.title, &a.id).cmp(&(&b.municipality_code, &b.title, &b.id))
    };
    missing.sort_by(order);
    different.sort_by(order);
    national_only.sort_by(|a, b| {
        (&a.municipality_code, &a.title, &a.id).cmp(&(&b.municipality_code, &b.title, &b.id))
    });
    let mut organisations: Vec<OrganisationNational> = counts.into_values().collect();
    organisations
        .sort_by_cached_key(|o| (samla_model::region::swedish_order(&o.name), o.code.clone()));
    Ok(NationalReport {
        as_of: now,
        portal: run.as_ref().map(|r| r.url.clone()),
        harvested: run.as_ref().map(|r| r.finished),
        outcome: run.as_ref().map(|r| r.outcome),
        listed: listed.as_ref().map_or(0, |l| l.len() as u64),
        organisations,
        missing,
        different,
        national_only,
    })
}

/// The report's tables as CSV.
pub fn national_csv(report: &NationalReport, table: &str) -> Result<String, ReportError> {
    let compared = |rows: &[Compared]| {
        to_csv(
            &[
                "id",
                "title",
                "municipality_code",
                "source_id",
                "differs",
                "modified",
                "national_title",
                "national_modified",
            ],
            rows.iter().map(|c| {
                vec![
                    c.id.clone(),
                    c.title.clone(),
                    cell(c.municipality_code.as_ref()),
                    c.source_id.clone(),
                    c.differs.join(";"),
                    cell(c.modified.as_ref()),
                    cell(c.national_title.as_ref()),
                    cell(c.national_modified.as_ref()),
                ]
            }),
        )
    };
    match table {
        "missing" => compared(&report.missing),
        "different" => compared(&report.different),
        "national_only" => to_csv(
            &["id", "iri", "title", "municipality_code"],
            report.national_only.iter().map(|n| {
                vec![
                    n.id.clone(),
                    n.iri.clone(),
                    n.title.clone(),
                    cell(n.municipality_code.as_ref()),
                ]
            }),
        ),
        _ => to_csv(
            &[
                "code",
                "name",
                "regional",
                "same",
                "different",
                "missing",
                "national_only",
            ],
            report.organisations.iter().map(|o| {
                vec![
                    o.code.clone(),
                    o.name.clone(),
                    o.regional.to_string(),
                    o.same.to_string(),
                    o.different.to_string(),
                    o.missing.to_string(),
                    o.national_only.to_string(),
                ]
            }),
        ),
    }
}
