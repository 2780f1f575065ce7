//! What samla keeps of a dataset the national portal lists: enough to tell whether the
//! region's copy reached it unchanged, nothing to show in search.

use crate::record::DatasetRecord;
use crate::view::pick;
use serde::{Deserialize, Serialize};

/// A dataset as a reference portal lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceRecord {
    /// Its identity by dataportal.se's rules (a UUID `dcterms:identifier`, else its IRI),
    /// as samla's own records are identified.
    pub id: String,
    /// Its IRI as published.
    pub iri: String,
    /// Its title (Swedish, else any).
    pub title: String,
    /// `dcterms:modified` as published.
    pub modified: Option<String>,
    /// Its distributions' access and download URLs, sorted.
    pub urls: Vec<String>,
    /// The region's organisation its publisher names, if any.
    pub municipality_code: Option<String>,
}

impl ReferenceRecord {
    /// What is kept of `record`.
    pub fn of(record: &DatasetRecord) -> Self {
        let mut urls: Vec<String> = record.view.link_urls().cloned().collect();
        urls.sort();
        urls.dedup();
        Self {
            id: record.id.0.clone(),
            iri: record.original_subject.clone(),
            title: pick(&record.view.title, "sv")
                .unwrap_or_default()
                .to_string(),
            modified: record.view.modified.clone(),
            urls,
            municipality_code: record.municipality_code.clone(),
        }
    }
}

/// The store entry kind of the national portal's harvest: key [`RECORDS`] holds its
/// datasets (JSON, a list of [`ReferenceRecord`]), key [`RUN`] its last run's report.
pub const NATIONAL: &str = "national";
/// See [`NATIONAL`].
pub const RECORDS: &str = "records";
/// See [`NATIONAL`].
pub const RUN: &str = "run";
