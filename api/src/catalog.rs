//! The aggregate as DCAT-AP-SE: `/catalog` (content negotiation) and `/catalog.ttl`, `.rdf`,
//! `.jsonld`, `.nt`, paged with Hydra and filtered like the search; `/datasets/dcat`, the
//! whole aggregate as one RDF/XML file (DIGG's address convention, for dataportal.se).
//!
//! Each dataset is its canonical graph as stored: every harvested triple is kept.

use crate::negotiate::{negotiate, rdf_offers};
use crate::params::SearchParams;
use crate::{ApiError, AppState, blocking};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use oxrdf::{NamedNode, Triple};
use samla_model::export::{self, CatalogDescription, HydraPage, RdfFormat, formats};
use samla_model::record;
use std::sync::Arc;

/// Datasets per catalog page unless `per_page` says otherwise.
pub const DEFAULT_PER_PAGE: usize = 100;

/// The address the client reached us at (`http://host:port`), for absolute IRIs.
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(base) = &state.public_url {
        return base.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn description(state: &AppState, base: &str) -> CatalogDescription {
    let region = &state.region_name;
    CatalogDescription {
        iri: format!("{base}/catalog"),
        titles: vec![
            ("sv".into(), format!("Öppna data i {region}")),
            ("en".into(), format!("Open data in {region}")),
        ],
        descriptions: vec![
            (
                "sv".into(),
                format!(
                    "Datamängder som kommunerna och regionen i {region} publicerar, samlade av samla."
                ),
            ),
            (
                "en".into(),
                format!(
                    "Datasets published by the municipalities and the region of {region}, gathered by samla."
                ),
            ),
        ],
        publisher: (
            format!("{base}/catalog/publisher"),
            format!("samla – {region}"),
        ),
        homepage: Some(format!("{base}/")),
    }
}

fn rdf_response(format: RdfFormat, body: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                format!("{}; charset=utf-8", format.media_type()),
            ),
            (header::VARY, "Accept".to_string()),
        ],
        body,
    )
        .into_response()
}

/// `GET /catalog`: the syntax from `Accept`; 406 when none of the four is acceptable.
pub(crate) async fn negotiated(
    state: State<AppState>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let Some(format) = negotiate(accept, &rdf_offers(), RdfFormat::Turtle) else {
        return Err(ApiError::NotAcceptable(
            "the catalog is served as text/turtle, application/rdf+xml, application/ld+json or application/n-triples".into(),
        ));
    };
    page(state, headers, query, format, "").await
}

macro_rules! fixed_syntax {
    ($name:ident, $format:expr) => {
        pub(crate) async fn $name(
            state: State<AppState>,
            headers: HeaderMap,
            query: RawQuery,
        ) -> Result<Response, ApiError> {
            let format: RdfFormat = $format;
            let suffix = format!(".{}", format.file_extension());
            page(state, headers, query, format, &suffix).await
        }
    };
}

fixed_syntax!(turtle, RdfFormat::Turtle);
fixed_syntax!(rdf_xml, RdfFormat::RdfXml);
fixed_syntax!(json_ld, formats()[2]);
fixed_syntax!(n_triples, RdfFormat::NTriples);

/// One page of the catalog: the search's filters and `q`, `page`, `per_page` (default 100).
async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    format: RdfFormat,
    suffix: &str,
) -> Result<Response, ApiError> {
    let query = query.unwrap_or_default();
    let params = SearchParams::parse_paged(&query, DEFAULT_PER_PAGE, None)?;
    let base = base_url(&state, &headers);
    let catalog = description(&state, &base);
    let result = crate::run_search(&state, &params, crate::Demand::Skip).await?;
    let total = result.total;
    let graphs = crate::winners(&state, &result.hits).await?;
    // The page links keep every parameter but `page`.
    let page_iri = |n: usize| {
        let query = crate::params::with_page(&query, Some(n));
        format!("{base}/catalog{suffix}?{query}")
    };
    let last = total.div_ceil(params.per_page).max(1);
    let hydra = HydraPage {
        iri: page_iri(params.page),
        first: page_iri(1),
        previous: (params.page > 1).then(|| page_iri((params.page - 1).min(last))),
        next: (params.page < last).then(|| page_iri(params.page + 1)),
        last: page_iri(last),
        total: total as u64,
        per_page: params.per_page as u64,
    };
    let body = blocking(&state.work, move || {
        let mut triples: Vec<Triple> = Vec::new();
        let mut iris = Vec::with_capacity(graphs.len());
        for stored in graphs {
            iris.push(NamedNode::new_unchecked(&stored.iri));
            triples.extend(parse(&stored)?);
        }
        let mut all = export::catalog_triples(&catalog, &iris, Some(&hydra));
        all.append(&mut triples);
        Ok(export::serialize(&all, format))
    })
    .await?;
    Ok(rdf_response(format, body))
}

fn parse(stored: &samla_store::StoredDataset) -> Result<Vec<Triple>, ApiError> {
    record::parse_canonical(&stored.ntriples).map_err(|e| {
        ApiError::Internal(format!("stored graph of {} does not parse: {e}", stored.id))
    })
}

/// `GET /datasets/dcat`: every dataset in one RDF/XML file with its catalog, no paging.
pub(crate) async fn single_file(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = base_url(&state, &headers);
    let catalog = description(&state, &base);
    let store = Arc::clone(&state.store);
    let body = blocking(&state.work, move || {
        let mut iris = Vec::new();
        let mut triples = Vec::new();
        store
            .for_each_dataset(|stored| match parse(&stored) {
                Ok(t) => {
                    iris.push(NamedNode::new_unchecked(&stored.iri));
                    triples.extend(t);
                }
                // Logged with its id; the rest of the aggregate is still served.
                Err(e) => tracing::error!(error = %e, "dataset left out of the export"),
            })
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut all = export::catalog_triples(&catalog, &iris, None);
        all.append(&mut triples);
        Ok(export::serialize(&all, RdfFormat::RdfXml))
    })
    .await?;
    Ok(rdf_response(RdfFormat::RdfXml, body))
}
