//! The normalised DCAT-AP-SE model of samla, on `oxrdf`.
//!
//! A dataset's canonical record is its normalised graph (dataset, distributions, agents,
//! contact points, and every property samla does not know), with an identity, stable skolem
//! IRIs for blank nodes and an order-independent content hash. The typed [`DatasetView`] is
//! derived from that graph for indexing and display.
//!
//! Architecture invariant: this crate does no I/O (no network, no files, no database, no
//! clock); it knows nothing of HTTP, tantivy or SQLite. It turns triples into records.

pub mod canonical;
pub mod export;
pub mod freshness;
pub mod labels;
pub mod normalize;
pub mod par;
pub mod quality;
pub mod record;
pub mod reference;
pub mod region;
pub mod run;
pub mod shacl;
pub mod view;
pub mod vocab;

pub use record::{
    DatasetId, DatasetRecord, Extraction, RecordProblem, SourceContext, extract_datasets,
};
pub use region::{Organisation, OrganisationDirectory};
pub use run::{Outcome, Reason, RunReport, RunState};
pub use view::{DatasetView, DistributionView, LangMap};
