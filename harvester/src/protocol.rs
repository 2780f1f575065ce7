//! A protocol: how a source is read, page by page. The run loop asks the source's protocol
//! what to ask first, decodes each page through it and follows the links it finds there; it
//! has no per-protocol branches. `dcat`, `ckan` and `entryscape` implement [`Protocol`]; a new
//! one (LDES, OAI-PMH) is a module that implements it, and [`for_source`] names it.
//!
//! What every protocol shares, and so is not part of the trait: pages are asked for
//! conditionally with the validators (`ETag`, `Last-Modified`) the last run memoised; bodies
//! are capped; records are normalised by the model, the same for every protocol.

use crate::{Fetched, ckan, dcat, entryscape};
use crate::{ParseLimits, ReadProblem, Reason};
use oxrdf::Triple;
use samla_config::SourceConfig;
use std::sync::Arc;
use url::Url;

/// What decoding one page gave, in the publisher's terms.
#[derive(Debug, Default)]
pub struct Decoded {
    /// The page's triples (a mapping from JSON writes them as ckanext-dcat would).
    pub triples: Vec<Triple>,
    /// The next page(s), absolute or relative to the page.
    pub next: Vec<String>,
    /// Sub-catalogues to read as well (from the first level only).
    pub parts: Vec<String>,
    /// What was wrong but did not cost the page (see [`crate::Parsed::problems`]).
    pub problems: Vec<ReadProblem>,
    /// Whether the page was read only in part (datasets may be missing from it).
    pub incomplete: bool,
}

/// What reading one page may cost, and how to stop it.
pub struct Bounds<'a> {
    /// The limits of one document.
    pub limits: &'a ParseLimits,
    /// Whether the run has ended (reading stops soon after).
    pub stop: &'a dyn Fn() -> bool,
}

/// How one kind of source is read.
pub trait Protocol: Send + Sync + 'static {
    /// Its name, as in run reports and logs.
    fn name(&self) -> &'static str;

    /// What to ask first: the first page of a source at `source`; `None` when no page can be
    /// made from that URL (the run fails with `bad_url`).
    fn first_page(&self, source: &Url) -> Option<Url>;

    /// The `Accept` header its pages are asked for with.
    fn accept(&self) -> &'static str;

    /// Decodes a fetched page (on a blocking thread), within `bounds`: its triples and links,
    /// or why not.
    fn decode(&self, page: &Fetched, bounds: &Bounds<'_>) -> Result<Decoded, (Reason, String)>;

    /// Whether a dataset's description may span pages. Then the pages' triples are
    /// normalised together once every page is read, and pages that answered 304 are read
    /// again when any other page changed.
    fn records_span_pages(&self) -> bool {
        false
    }

    /// How to fingerprint the source: one small request whose answer changes whenever the
    /// source does. `None`: the source has no fingerprint (its pages are asked for
    /// conditionally, one by one).
    fn fingerprint_url(&self, _source: &Url) -> Option<Url> {
        None
    }

    /// The fingerprint in the answer to [`Protocol::fingerprint_url`].
    fn fingerprint(&self, _body: &[u8]) -> Option<String> {
        None
    }

    /// What incremental means: the first page of a run asking only for what changed since
    /// `watermark`. `None`: the protocol reads its sources whole.
    fn since(&self, _source: &Url, _watermark: &str) -> Option<Url> {
        None
    }

    /// The watermark a fingerprint vouches for (the newest change it saw), kept for the
    /// next incremental run.
    fn watermark(&self, _fingerprint: &str) -> Option<String> {
        None
    }
}

/// The protocol that reads a configured source.
pub fn for_source(source: &SourceConfig) -> Arc<dyn Protocol> {
    use samla_config::Protocol as Configured;
    match source.protocol {
        Configured::Dcat => Arc::new(dcat::Dcat),
        // An EntryScape catalog export is a DCAT document.
        Configured::Entryscape if entryscape::is_export(&source.url) => Arc::new(dcat::Dcat),
        Configured::Entryscape => Arc::new(entryscape::EntryscapeSearch::new(&source.url)),
        Configured::Ckan => Arc::new(ckan::Ckan),
    }
}
