//! The JSON bodies of `/api/v1`: the handlers build these types, and `/openapi.json` is
//! generated from the same types (utoipa), so the document says what the API sends.

use chrono::{DateTime, Utc};
use samla_model::RunState;
use samla_model::run::ProblemGroup;
use samla_model::view::DatasetView;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// An error: a stable code, a message, and the parameter at fault for a 400.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `bad_parameter`, `not_found`, `unauthorized`, `forbidden`, `conflict`,
    /// `not_acceptable`, `too_many_requests`, `payload_too_large`, `request_timeout`,
    /// `bad_body`, `unavailable` or `internal`.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// For `bad_parameter`: the parameter or field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// For `conflict`: what it conflicts with (the run going).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// Searchable datasets.
    pub datasets: u64,
}

/// `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Whether search has caught up with every change the store holds.
    pub ready: bool,
    /// The store's change sequence number.
    pub store_seq: u64,
    /// The sequence number search has caught up with (none before the first index commit).
    pub indexed_seq: Option<u64>,
}

/// A hit's publisher.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitPublisher {
    /// The agent IRI.
    pub uri: String,
    /// Its name in the asked language, else any.
    pub name: Option<String>,
    /// Kommunkod of the organisation it resolves to.
    pub municipality_code: Option<String>,
}

/// A dataset in a search.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    /// Dataset id.
    pub id: String,
    /// Dataset IRI.
    pub uri: String,
    /// Title in the asked language, else any.
    pub title: Option<String>,
    /// Description in the asked language, else any.
    pub description: Option<String>,
    /// The publisher.
    pub publisher: Option<HitPublisher>,
    /// Theme IRIs.
    pub themes: Vec<String>,
    /// File-type IRIs.
    pub formats: Vec<String>,
    /// Licence IRI.
    pub license: Option<String>,
    /// `dcterms:modified` as published.
    pub modified: Option<String>,
    /// Landing page.
    pub landing_page: Option<String>,
    /// The source it is shown from.
    pub source_id: String,
}

/// One value of a facet.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacetValue {
    /// The value (a kommunkod, an IRI).
    pub value: String,
    /// Its label in the asked language.
    pub label: String,
    /// Datasets with it.
    pub count: u64,
}

/// A page of search results with facet counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    /// Datasets found.
    pub total: u64,
    /// Page, from 1.
    pub page: u64,
    /// Hits per page.
    pub per_page: u64,
    /// This page's hits.
    pub hits: Vec<SearchHit>,
    /// Value counts per dimension (`municipality`, `publisher`, `theme`, `format`,
    /// `license`, `access_rights`, `conforms_to`, `hvd_category`, `reuse`, `open_licence`,
    /// `api`, `free`, `fresh`, `quality`).
    pub facets: BTreeMap<String, Vec<FacetValue>>,
    /// When `q` as typed found nothing: the query searched instead, its misspelt words
    /// corrected (`badplaster` → `badplatser`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected: Option<String>,
}

/// An organisation of the region.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationRef {
    /// Kommunkod (or the code in the region file).
    pub code: String,
    /// Its name, when the region knows it.
    pub name: Option<String>,
}

/// One source's row of a dataset.
#[derive(Debug, Serialize, ToSchema)]
pub struct Provenance {
    /// The source.
    pub source_id: String,
    /// The page it was read on.
    pub source_url: String,
    /// The subject as published (before skolemising).
    pub original_subject: String,
    /// First harvested.
    pub first_seen: DateTime<Utc>,
    /// Last changed.
    pub last_changed: DateTime<Utc>,
    /// The end of the source's last run that read something.
    pub last_harvested: Option<DateTime<Utc>>,
    /// Content hash of the canonical graph.
    pub hash: String,
    /// Whether this is the row shown.
    pub shown: bool,
    /// Since when the source no longer lists it.
    pub missing_since: Option<DateTime<Utc>>,
    /// When it was archived.
    pub archived_at: Option<DateTime<Utc>>,
}

/// A dataset record: the typed view, its municipality, provenance per source.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetRecord {
    /// The typed view of the canonical graph.
    #[serde(flatten)]
    pub view: DatasetView,
    /// The organisation the publisher resolves to.
    pub municipality: Option<OrganisationRef>,
    /// Whether every source has archived it.
    pub archived: bool,
    /// The source it is shown from.
    pub source_id: String,
    /// Every source's row, the shown one first.
    pub provenance: Vec<Provenance>,
}

/// A run as the API shows it; a run still going has no report figures yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct Run {
    /// Run id.
    pub id: i64,
    /// Start.
    pub started: DateTime<Utc>,
    /// End, once it has ended.
    pub finished: Option<DateTime<Utc>>,
    /// Running, or how it ended.
    pub outcome: RunState,
    /// Datasets new in this run.
    pub new: u64,
    /// Datasets changed.
    pub changed: u64,
    /// Datasets unchanged.
    pub unchanged: u64,
    /// Datasets archived by this run.
    pub archived: u64,
    /// Pages read.
    pub pages: Option<u64>,
    /// Pages that answered 304.
    pub pages_not_modified: Option<u64>,
    /// Datasets found.
    pub datasets: Option<u64>,
    /// Distributions found.
    pub distributions: Option<u64>,
    /// Responses by HTTP status, retries included.
    #[schema(value_type = Option<BTreeMap<String, u64>>)]
    pub http_statuses: Option<BTreeMap<u16, u64>>,
    /// Problems by reason, with samples.
    pub problems: Option<Vec<ProblemGroup>>,
}

/// A configured source with its last run.
#[derive(Debug, Serialize, ToSchema)]
pub struct Source {
    /// Source id.
    pub id: String,
    /// The organisation that runs it.
    pub organisation: OrganisationRef,
    /// `dcat`, `ckan` or `entryscape`.
    pub protocol: String,
    /// Where harvests start.
    pub url: String,
    /// Whether the URL is known to serve a catalog.
    pub verified: bool,
    /// Searchable datasets from it.
    pub dataset_count: u64,
    /// Its last run.
    pub last_run: Option<Run>,
}

/// Every configured source with its last run.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceList {
    /// The sources, in region-file order.
    pub sources: Vec<Source>,
}

/// A dataset a source no longer lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArchivedDataset {
    /// Dataset id.
    pub id: String,
    /// Dataset IRI.
    pub uri: String,
    /// Since when the source no longer lists it.
    pub missing_since: Option<DateTime<Utc>>,
    /// When it was archived.
    pub archived_at: Option<DateTime<Utc>>,
}

/// One source, its last run and its archived datasets.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceDetail {
    /// The source.
    #[serde(flatten)]
    pub source: Source,
    /// Its archived datasets, most recently archived first.
    pub archived: Vec<ArchivedDataset>,
}

/// A source's run history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    /// The source.
    pub source_id: String,
    /// Newest first.
    pub runs: Vec<Run>,
}

/// A started run.
#[derive(Debug, Serialize, ToSchema)]
pub struct HarvestStarted {
    /// The run's id.
    pub run_id: i64,
    /// The source.
    pub source_id: String,
    /// `running`.
    pub status: RunState,
    /// Where its progress shows.
    pub runs: String,
}

/// A filed data request (the contact left out).
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestFiled {
    /// Its id.
    pub id: i64,
    /// The request as stored, without the contact.
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// Its page: its status, the answer, the dataset that answers it.
    pub page: String,
}

/// A saved search, as its creator gets it back.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertSaved {
    /// Its id.
    pub id: String,
    /// `pending` (until the link of the confirmation mail is followed) or `active`.
    pub state: String,
    /// The token that ends it (also in the unsubscribe link of every mail and payload).
    pub token: String,
    /// The webhook's signing key, when samla made it up; shown once.
    pub secret: Option<String>,
    /// The link that ends it.
    pub unsubscribe: String,
}

/// A completion of what was typed in a search box.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    /// The name as written.
    pub text: String,
    /// What it names: `title`, `keyword`, `organisation`, `municipality`, `theme` or
    /// `specification`.
    #[schema(value_type = String)]
    pub kind: samla_indexer::suggest::Kind,
    /// Datasets that carry it.
    pub datasets: u64,
}

/// The completions of a search box's text.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestResponse {
    /// What was typed.
    pub q: String,
    /// Completions: names starting with it (or a later word of a title does) first, then
    /// names a typo away; each group by the datasets that carry them.
    pub suggestions: Vec<Suggestion>,
}
