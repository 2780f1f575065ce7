//! `/sparql`: the SPARQL 1.1 Protocol over the canonical records. `GET ?query=`, `POST` as a
//! form (`query=`) or as `application/sparql-query`; results as JSON, XML, CSV or TSV by
//! `Accept` (or `format=`/`output=`, as some clients send), graphs as Turtle, RDF/XML,
//! JSON-LD or N-Triples. Updates are refused; a query that does not parse is a 400, one past
//! the timeout a 503 naming the limit.

use crate::negotiate::{negotiate, rdf_offers, results_offers};
use crate::{ApiError, AppState, blocking};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use samla_model::export::{RdfFormat, formats};
use samla_sparql::{QueryResultsFormat, SparqlError};
use std::sync::Arc;

/// Longest query text accepted.
const MAX_QUERY_BYTES: usize = 64 * 1024;

struct SparqlRequest {
    query: String,
    /// A `format`/`output` parameter: a result format, a graph syntax, or both (`xml`, `json`).
    format: Option<(Option<QueryResultsFormat>, Option<RdfFormat>)>,
}

/// A format named by a parameter: for solutions, for graphs, or both.
fn named_format(name: &str) -> Option<(Option<QueryResultsFormat>, Option<RdfFormat>)> {
    let graph = match name.trim().to_ascii_lowercase().as_str() {
        "turtle" | "ttl" | "n3" | "text/turtle" => Some(RdfFormat::Turtle),
        "xml" | "rdf" | "rdf+xml" | "rdfxml" | "application/rdf+xml" => Some(RdfFormat::RdfXml),
        "json" | "json-ld" | "jsonld" | "application/ld+json" => Some(formats()[2]),
        "nt" | "ntriples" | "n-triples" | "application/n-triples" => Some(RdfFormat::NTriples),
        _ => None,
    };
    let results = match name.trim().to_ascii_lowercase().as_str() {
        "json" => Some(QueryResultsFormat::Json),
        "xml" => Some(QueryResultsFormat::Xml),
        "csv" => Some(QueryResultsFormat::Csv),
        "tsv" => Some(QueryResultsFormat::Tsv),
        media => results_offers()
            .into_iter()
            .find(|(m, _)| *m == media)
            .map(|(_, f)| f),
    };
    (graph.is_some() || results.is_some()).then_some((results, graph))
}

fn from_pairs(pairs: &[u8]) -> Result<SparqlRequest, ApiError> {
    let mut query = None;
    let mut format = None;
    for (key, value) in url::form_urlencoded::parse(pairs) {
        match key.as_ref() {
            "query" if query.is_some() => {
                return Err(ApiError::bad("query", "give one query"));
            }
            "query" => query = Some(value.into_owned()),
            "format" | "output" | "results" => {
                format = Some(named_format(&value).ok_or_else(|| {
                    ApiError::bad(
                        &key,
                        format!("{value:?} is not json, xml, csv, tsv, turtle, json-ld or nt"),
                    )
                })?);
            }
            "default-graph-uri" | "named-graph-uri" => {
                return Err(ApiError::bad(
                    &key,
                    "the endpoint has one default graph, the union of all records",
                ));
            }
            "update" | "using-graph-uri" | "using-named-graph-uri" => {
                return Err(ApiError::bad(&key, "the endpoint is read-only"));
            }
            other => return Err(ApiError::bad(other, "unknown parameter")),
        }
    }
    let query = query.ok_or_else(|| ApiError::bad("query", "missing"))?;
    Ok(SparqlRequest { query, format })
}

/// `GET /sparql?query=…`.
pub(crate) async fn get(
    state: State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let request = from_pairs(query.unwrap_or_default().as_bytes())?;
    run(state, headers, request).await
}

/// `POST /sparql`, a form or the query itself.
pub(crate) async fn post(
    state: State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let content_type = crate::content_type(&headers);
    let request = if content_type.starts_with("application/x-www-form-urlencoded") {
        from_pairs(&body)?
    } else if content_type.starts_with("application/sparql-query") {
        let mut request = from_pairs(query.unwrap_or_default().as_bytes()).or_else(|_| {
            Ok::<_, ApiError>(SparqlRequest {
                query: String::new(),
                format: None,
            })
        })?;
        request.query = String::from_utf8(body.to_vec())
            .map_err(|_| ApiError::bad("body", "the query is not UTF-8"))?;
        request
    } else if content_type.starts_with("application/sparql-update") {
        return Err(ApiError::bad("Content-Type", "the endpoint is read-only"));
    } else {
        return Err(ApiError::bad(
            "Content-Type",
            "send application/sparql-query or application/x-www-form-urlencoded",
        ));
    };
    run(state, headers, request).await
}

async fn run(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: SparqlRequest,
) -> Result<Response, ApiError> {
    if request.query.len() > MAX_QUERY_BYTES {
        return Err(ApiError::bad(
            "query",
            format!("at most {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let (named_results, named_graph) = request.format.unwrap_or((None, None));
    let format = named_results.unwrap_or_else(|| {
        negotiate(accept, &results_offers(), QueryResultsFormat::Json)
            .unwrap_or(QueryResultsFormat::Json)
    });
    let graph_format = named_graph.unwrap_or_else(|| {
        negotiate(accept, &rdf_offers(), RdfFormat::Turtle).unwrap_or(RdfFormat::Turtle)
    });
    let endpoint = Arc::clone(&state.sparql);
    let answer = blocking(&state.work, move || {
        endpoint
            .query(&request.query, format, graph_format)
            .map_err(|e| match e {
                SparqlError::Syntax(m) => ApiError::bad("query", m),
                SparqlError::Evaluation(m) => ApiError::bad("query", m),
                e @ (SparqlError::Timeout(_) | SparqlError::Busy) => {
                    ApiError::Unavailable(e.to_string())
                }
                SparqlError::Internal(m) => ApiError::Internal(m),
            })
    })
    .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                format!(
                    "{}; charset=utf-8",
                    crate::negotiate::essence(answer.media_type)
                ),
            ),
            (
                header::HeaderName::from_static("x-samla-truncated"),
                answer.truncated.to_string(),
            ),
            (header::VARY, "Accept".to_string()),
        ],
        answer.body,
    )
        .into_response())
}
