//! Everything samla serves over HTTP: the JSON API under `/api/v1/` (regional dataset search
//! with facets, records with provenance and their canonical graphs, source status, reports as
//! JSON, CSV and SVG charts, data requests, Atom feeds of searches) described by
//! `/openapi.json`; the DCAT-AP-SE export (`/catalog`, `/datasets/dcat`); a CKAN-compatible
//! Action API (`/api/3/action/`); SPARQL (`/sparql`); Prometheus `/metrics`; and the
//! server-rendered web UI in Swedish and English.
//!
//! Client input never causes a 5xx: bad parameters get a 400 naming the parameter, unknown
//! ids a 404. Store and index work runs on blocking threads; the details of internal errors
//! go to the log, never to the client.
//!
//! Architecture invariant: this crate knows nothing of reqwest or RDF parsers; it reads the
//! store and the index, and uses the model only to derive views and serialise graphs.

pub mod alerts;
mod catalog;
mod ckan;
pub mod client;
mod conditional;
mod error;
mod feed;
pub mod metrics;
mod negotiate;
pub mod openapi;
mod params;
pub mod requests;
mod sparql;
mod web;
pub mod wire;

pub use error::ApiError;
pub use web::Mails;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use params::SearchParams;
use samla_indexer::{Dimension, Indexer, SearchResult};
use samla_model::quality::Band;
use samla_model::view::pick;
use samla_model::{Organisation, OrganisationDirectory, labels, record};
use samla_reports as reports;
use samla_reports::Rendered;
use samla_store::Store;
use serde_json::{Value, json};
use std::sync::Arc;

pub use samla_reports::SourceInfo;

pub use samla_model::run::{HarvestControl, StartRefusal};

/// What the API serves from.
#[derive(Clone)]
pub struct AppState {
    /// The canonical store.
    pub store: Arc<Store>,
    /// The search index.
    pub index: Arc<Indexer>,
    /// The region's organisations.
    pub directory: Arc<OrganisationDirectory>,
    /// The configured sources.
    pub sources: Arc<Vec<SourceInfo>>,
    /// Starts runs, when this process harvests.
    pub control: Option<Arc<dyn HarvestControl>>,
    /// The admin bearer token; admin endpoints answer 403 without one configured.
    pub admin_token: Option<Arc<str>>,
    /// The reports.
    pub reports: Arc<reports::Reports>,
    /// Data requests accepted per client and hour.
    pub requests: Arc<RequestLimiter>,
    /// Searches on their way to the store, for the demand report.
    pub searches: Arc<SearchLog>,
    /// The region's name, for titles.
    pub region_name: Arc<str>,
    /// The public base URL (`https://samla.example`); the `Host` header when unset.
    pub public_url: Option<Arc<str>>,
    /// The SPARQL endpoint.
    pub sparql: Arc<samla_sparql::SparqlEndpoint>,
    /// The process's metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// The proxies whose forwarding headers give the client's address.
    pub trusted_proxies: client::TrustedProxies,
    /// Where blocking work runs.
    pub work: Arc<WorkPool>,
    /// Saved searches and notices, where this samla keeps them.
    pub notifier: Option<Arc<samla_notify::Notifier>>,
    /// The tokens organisations' contacts answer data requests with, by organisation code.
    pub organisation_tokens: Arc<Vec<(String, Arc<str>)>>,
}

/// Searches logged for the demand report, written to the store in batches by one task: a
/// search costs a place in a bounded queue, not a transaction (and a blocking thread waiting
/// for the store's writer while a harvest applies). When the queue is full the search is not
/// logged, and counted in the log.
#[derive(Debug, Default)]
pub struct SearchLog {
    queue:
        std::sync::OnceLock<tokio::sync::mpsc::Sender<(samla_store::LoggedSearch, Option<Client>)>>,
    dropped: std::sync::atomic::AtomicU64,
}

/// Who searched, as the request tells: its address and its `User-Agent`. Held only until
/// the search is written, as a hash under the day's salt.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    ip: std::net::IpAddr,
    agent: String,
}

impl Client {
    /// The client of a request.
    pub(crate) fn of(addr: Option<&client::ClientAddr>, headers: &HeaderMap) -> Option<Self> {
        Some(Client {
            ip: addr?.0,
            agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(256)
                .collect(),
        })
    }
}

/// The day's salt, shared by every node through the store (the first to write it wins) and
/// forgotten the next day, so yesterday's hashes cannot be tied to today's.
fn salt_of_day(store: &Store, day: &str) -> Result<String, samla_store::StoreError> {
    const KIND: &str = "demand-salt";
    store.put_entry(KIND, day, &samla_notify::alerts::token(), false)?;
    for (old, _) in store.entries(KIND, "")? {
        if old != day {
            store.remove_entry(KIND, &old)?;
        }
    }
    Ok(store.entry(KIND, day)?.unwrap_or_default())
}

/// Searches waiting to be written, at most.
const SEARCH_LOG_QUEUE: usize = 10_000;

/// Searches written in one transaction, at most.
const SEARCH_LOG_BATCH: usize = 1_000;

impl SearchLog {
    /// Queues a search; the writing task starts with the first (on the caller's runtime).
    fn log(&self, store: &Arc<Store>, entry: samla_store::LoggedSearch, client: Option<Client>) {
        let queue = self.queue.get_or_init(|| {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<(
                samla_store::LoggedSearch,
                Option<Client>,
            )>(SEARCH_LOG_QUEUE);
            let store = Arc::clone(store);
            tokio::spawn(async move {
                let mut batch = Vec::with_capacity(SEARCH_LOG_BATCH);
                while rx.recv_many(&mut batch, SEARCH_LOG_BATCH).await > 0 {
                    let (store, queued) = (Arc::clone(&store), std::mem::take(&mut batch));
                    let written = tokio::task::spawn_blocking(move || {
                        let mut salts: std::collections::HashMap<String, String> =
                            Default::default();
                        let mut entries = Vec::with_capacity(queued.len());
                        for (mut entry, client) in queued {
                            if let Some(c) = client {
                                let day = entry.at.format("%Y-%m-%d").to_string();
                                let salt = match salts.get(&day) {
                                    Some(salt) => salt.clone(),
                                    None => {
                                        let salt = salt_of_day(&store, &day)?;
                                        salts.insert(day, salt.clone());
                                        salt
                                    }
                                };
                                let hash = samla_notify::alerts::token_hash(&format!(
                                    "{salt}\u{1f}{}\u{1f}{}",
                                    c.ip, c.agent
                                ));
                                entry.visitor = hash[..32].to_string();
                            }
                            entries.push(entry);
                        }
                        store.log_searches(&entries)
                    })
                    .await;
                    match written {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => tracing::warn!(error = %e, "searches not logged"),
                        Err(e) => tracing::warn!(error = %e, "search logger stopped"),
                    }
                }
            });
            tx
        });
        if queue.try_send((entry, client)).is_err() {
            let dropped = self
                .dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if dropped.is_multiple_of(1000) {
                tracing::warn!(
                    dropped = dropped + 1,
                    "search log queue full; searches not logged"
                );
            }
        }
    }
}

/// Data requests per client and hour, counted in memory only (no address is stored).
#[derive(Debug)]
pub struct RequestLimiter {
    per_hour: u32,
    seen: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, Vec<std::time::Instant>>>,
}

impl RequestLimiter {
    /// At most `per_hour` requests per client address and hour.
    pub fn new(per_hour: u32) -> Self {
        Self {
            per_hour,
            seen: Default::default(),
        }
    }

    /// Counts a request from `client`; false when over the limit.
    fn admit(&self, client: std::net::IpAddr) -> bool {
        let hour = std::time::Duration::from_secs(3600);
        let now = std::time::Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < hour);
            !times.is_empty()
        });
        let times = seen.entry(client).or_default();
        if times.len() as u32 >= self.per_hour {
            return false;
        }
        times.push(now);
        true
    }
}

/// The router of the whole API.
pub fn router(state: AppState) -> Router {
    let routes = service_routes()
        .route("/api/v1/datasets", get(search))
        .route("/api/v1/datasets/{id}", get(dataset))
        .route("/api/v1/suggest", get(suggest))
        .route("/api/v1/requests", axum::routing::post(file_request))
        .route("/api/v1/requests/{id}", get(requests::get))
        .route(
            "/api/v1/requests/{id}/answer",
            axum::routing::post(requests::answer),
        )
        .route("/api/v1/alerts", axum::routing::post(alerts::create))
        .route(
            "/api/v1/alerts/{id}",
            get(alerts::get).delete(alerts::delete),
        )
        .route("/api/v1/datasets.atom", get(feed::search_feed))
        .merge(
            // What the store and index are at tells whether these changed.
            Router::new()
                .route("/catalog", get(catalog::negotiated))
                .route("/catalog.ttl", get(catalog::turtle))
                .route("/catalog.rdf", get(catalog::rdf_xml))
                .route("/catalog.jsonld", get(catalog::json_ld))
                .route("/catalog.nt", get(catalog::n_triples))
                .route("/datasets/dcat", get(catalog::single_file))
                .route(
                    "/api/3/action/{action}",
                    get(ckan::action).post(ckan::action),
                )
                .route("/api/action/{action}", get(ckan::action).post(ckan::action))
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    conditional::records,
                )),
        )
        .merge(
            Router::new()
                .route("/api/v1/reports/{name}", get(report))
                .route("/api/v1/reports/charts/{file}", get(chart))
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    conditional::reports,
                )),
        )
        .route("/sparql", get(sparql::get).post(sparql::post))
        .route("/openapi.json", get(openapi::openapi_json))
        .merge(web::routes());
    layered(routes, state)
}

/// The router of a harvester node: health, readiness, metrics, the sources and "run now".
pub fn service_router(state: AppState) -> Router {
    layered(service_routes(), state)
}

fn service_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::scrape))
        .route("/api/v1/sources", get(sources))
        .route("/api/v1/sources/{id}", get(source_detail))
        .route("/api/v1/sources/{id}/runs", get(source_runs))
        .route(
            "/api/v1/sources/{id}/harvest",
            axum::routing::post(start_harvest),
        )
}

/// What every answer goes through: bounded bodies, metrics, the trace, the client's address,
/// security headers, compression and CORS.
fn layered(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(axum::middleware::from_fn(error::bounded_body))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.metrics),
            metrics::count_responses,
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |request: &axum::http::Request<axum::body::Body>| {
                    let client = request
                        .extensions()
                        .get::<client::ClientAddr>()
                        .map(|c| c.0);
                    tracing::debug_span!(
                        "request",
                        method = %request.method(),
                        uri = %request.uri(),
                        client = ?client,
                    )
                },
            ),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.trusted_proxies.clone(),
            client::client_address,
        ))
        .layer(axum::middleware::from_fn(client::security_headers))
        // Large answers (exports, reports, big pages) compressed when the client takes it; a
        // page of search hits (some 17 KB) is sent as it is: compressing it cost a search over
        // HTTP about a fifth of its time.
        .layer(
            tower_http::compression::CompressionLayer::new().compress_when(
                tower_http::compression::Predicate::and(
                    tower_http::compression::DefaultPredicate::new(),
                    tower_http::compression::predicate::SizeAbove::new(COMPRESS_ABOVE),
                ),
            ),
        )
        // Anyone's page may read the open data; no credentials are involved.
        .layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods([axum::http::Method::GET, axum::http::Method::HEAD])
                .expose_headers([header::ETAG, header::LAST_MODIFIED, header::LINK]),
        )
        .with_state(state)
}

/// Answers smaller than this (bytes) are not compressed.
const COMPRESS_ABOVE: u16 = 32 * 1024;

/// Blocking work (searches, store reads, reports, exports) runs on at most `workers` threads
/// at once, with at most `queue` more requests waiting; past that a request is answered 503
/// at once, so a flood of connections neither grows the thread pool nor waits without end.
#[derive(Debug)]
pub struct WorkPool {
    running: tokio::sync::Semaphore,
    admitted: tokio::sync::Semaphore,
}

impl WorkPool {
    /// Requests waiting for a worker, at most, when not configured.
    pub const QUEUE: usize = 256;

    /// A pool of `workers` threads (at least one; two per core when `None`: a worker may
    /// wait on the disk) and `queue` waiting requests ([`Self::QUEUE`] when `None`).
    pub fn new(workers: Option<usize>, queue: Option<usize>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = workers.unwrap_or(2 * cores).max(1);
        Self {
            running: tokio::sync::Semaphore::new(workers),
            admitted: tokio::sync::Semaphore::new(workers + queue.unwrap_or(Self::QUEUE)),
        }
    }
}

async fn blocking<T: Send + 'static>(
    pool: &WorkPool,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let Ok(_admitted) = pool.admitted.try_acquire() else {
        return Err(ApiError::Unavailable(
            "too many requests are waiting; try again in a moment".into(),
        ));
    };
    let _running = pool
        .running
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(format!("work pool closed: {e}")))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("worker stopped: {e}")))?
}

#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "The service answers", body = wire::Health)))]
async fn healthz(State(state): State<AppState>) -> axum::Json<wire::Health> {
    let index = Arc::clone(&state.index);
    let datasets = blocking(&state.work, move || Ok(index.len()))
        .await
        .unwrap_or(0);
    axum::Json(wire::Health {
        status: "ok",
        datasets,
    })
}

#[utoipa::path(get, path = "/readyz", tag = "service",
    responses(
        (status = 200, description = "Search has caught up with the store", body = wire::Readiness),
        (status = 503, description = "Search is behind the store (or the store cannot be read)", body = wire::Readiness),
    ))]
async fn readyz(State(state): State<AppState>) -> Response {
    let store = Arc::clone(&state.store);
    let store_seq = blocking(&state.work, move || {
        store
            .change_seq()
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await;
    let indexed_seq = state.index.indexed_seq();
    let ready = matches!(store_seq, Ok(seq) if indexed_seq.unwrap_or(0) >= seq);
    let status = if ready {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    let body = wire::Readiness {
        ready,
        store_seq: store_seq.unwrap_or(0),
        indexed_seq,
    };
    (status, axum::Json(body)).into_response()
}

#[utoipa::path(get, path = "/api/v1/datasets", tag = "datasets",
    params(openapi::SearchQuery),
    responses(
        (status = 200, description = "A page of datasets with facet counts", body = wire::SearchResponse),
        (status = 400, description = "A parameter is invalid; the body names it", body = wire::ErrorBody),
    ))]
async fn search(
    State(state): State<AppState>,
    client: Option<axum::Extension<client::ClientAddr>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<wire::SearchResponse>, ApiError> {
    let params = SearchParams::parse(query.as_deref().unwrap_or(""))?;
    let who = Client::of(client.as_deref(), &headers);
    let result = run_search(&state, &params, Demand::Log(who)).await?;
    let lang = params.lang.as_str();
    let text = |map: &samla_model::LangMap| pick(map, lang).map(str::to_string);
    let hits = result
        .hits
        .iter()
        .map(|h| wire::SearchHit {
            id: h.id.clone(),
            uri: h.uri.clone(),
            title: text(&h.title),
            description: text(&h.description),
            publisher: h.publisher.as_ref().map(|p| wire::HitPublisher {
                uri: p.uri.clone(),
                name: text(&p.name),
                municipality_code: p.municipality_code.clone(),
            }),
            themes: h.themes.clone(),
            formats: h.formats.clone(),
            license: h.license.clone(),
            modified: h.modified.clone(),
            landing_page: h.landing_page.clone(),
            source_id: h.source_id.clone(),
        })
        .collect();
    let facets = result
        .facets
        .iter()
        .map(|(dim, values)| {
            let values = values
                .iter()
                .map(|(value, count)| wire::FacetValue {
                    value: value.clone(),
                    label: facet_label(&state.directory, *dim, value, lang),
                    count: *count,
                })
                .collect();
            (dim.name().to_string(), values)
        })
        .collect();
    Ok(axum::Json(wire::SearchResponse {
        total: result.total as u64,
        page: params.page as u64,
        per_page: params.per_page as u64,
        hits,
        facets,
        corrected: result.corrected.clone(),
    }))
}

#[utoipa::path(get, path = "/api/v1/suggest", tag = "datasets",
    params(openapi::SuggestQuery),
    responses(
        (status = 200, description = "Completions of what was typed, best first", body = wire::SuggestResponse),
        (status = 400, description = "A parameter is invalid; the body names it", body = wire::ErrorBody),
    ))]
async fn suggest(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<wire::SuggestResponse>, ApiError> {
    let params = params::SuggestParams::parse(query.as_deref().unwrap_or(""))?;
    let index = Arc::clone(&state.index);
    let (q, lang, limit) = (params.q.clone(), params.lang.clone(), params.limit);
    let found = blocking(&state.work, move || Ok(index.suggest(&q, &lang, limit))).await?;
    Ok(axum::Json(wire::SuggestResponse {
        q: params.q,
        suggestions: found
            .into_iter()
            .map(|s| wire::Suggestion {
                text: s.text,
                kind: s.kind,
                datasets: s.datasets,
            })
            .collect(),
    }))
}

/// Whether a search counts as demand (a person searching) or not (an export or feed poll).
#[derive(Debug, Clone)]
pub(crate) enum Demand {
    /// A person's search, from this client.
    Log(Option<Client>),
    Skip,
}

/// Runs a search on a blocking thread, its time in the metrics; a person's first page is
/// logged for the demand report.
pub(crate) async fn run_search(
    state: &AppState,
    params: &SearchParams,
    demand: Demand,
) -> Result<SearchResult, ApiError> {
    let request = params.request(&state.directory)?;
    let index = Arc::clone(&state.index);
    let started = std::time::Instant::now();
    let result = blocking(&state.work, move || {
        index
            .search(&request)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    state.metrics.observe_search(started.elapsed());
    if let Demand::Log(client) = demand
        && params.page == 1
    {
        log_search(state, params, &result, client);
    }
    Ok(result)
}

/// The shown records of `hits`, in order; a hit archived since the search is left out.
pub(crate) async fn winners(
    state: &AppState,
    hits: &[samla_indexer::Hit],
) -> Result<Vec<samla_store::StoredDataset>, ApiError> {
    let store = Arc::clone(&state.store);
    let ids: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
    blocking(&state.work, move || {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(d) = store
                .winner(&id)
                .map_err(|e| ApiError::Internal(e.to_string()))?
            {
                out.push(d);
            }
        }
        Ok(out)
    })
    .await
}

/// The request's `Content-Type`, lower case, without parameters ("" when absent).
/// A body sent as JSON or as a form (`application/x-www-form-urlencoded`; an empty field is
/// not given), read as `T`; a 400 naming what is wrong otherwise.
pub(crate) fn read_input<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
) -> Result<T, ApiError> {
    let content_type = content_type(headers);
    if content_type.starts_with("application/x-www-form-urlencoded") {
        Ok(form_input(body, what)?)
    } else if content_type.starts_with("application/json") {
        serde_json::from_slice(body).map_err(|e| ApiError::bad("body", format!("not {what}: {e}")))
    } else {
        Err(ApiError::bad(
            "Content-Type",
            "send application/json or application/x-www-form-urlencoded",
        ))
    }
}

/// A form's fields read as `T` (an empty field is not given).
pub(crate) fn form_input<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<T, ApiError> {
    let mut map = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        let v = v.trim();
        if !v.is_empty() {
            map.insert(k.to_string(), Value::String(v.to_string()));
        }
    }
    serde_json::from_value(Value::Object(map))
        .map_err(|e| ApiError::bad("body", format!("not {what}: {e}")))
}

pub(crate) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Logs a search for the demand report (first pages only, so paging through one search
/// counts once): the normalised query, the filters, the hit count and the time; nothing
/// about who searched. Written off the request path; a failure is logged, not answered.
fn log_search(
    state: &AppState,
    params: &SearchParams,
    result: &SearchResult,
    client: Option<Client>,
) {
    let total = result.total as u64;
    // What the results are mostly about: a theme or specification of half the hits or more.
    let about = [Dimension::Theme, Dimension::ConformsTo]
        .into_iter()
        .flat_map(|dim| {
            result
                .facets
                .get(&dim)
                .into_iter()
                .flatten()
                .filter(|(_, n)| total > 0 && n * 2 >= total)
                .take(3)
                .map(move |(v, _)| (dim.name().to_string(), v.clone()))
        })
        .collect();
    let entry = samla_store::LoggedSearch {
        visitor: String::new(),
        about,
        at: chrono::Utc::now(),
        query: reports::demand::normalise_query(params.q.as_deref().unwrap_or("")),
        filters: params
            .filters
            .iter()
            .map(|(d, v)| (d.name().to_string(), v.clone()))
            .collect(),
        total,
    };
    state.searches.log(&state.store, entry, client);
}

/// A display label for a facet value.
fn facet_label(
    directory: &OrganisationDirectory,
    dim: Dimension,
    value: &str,
    lang: &str,
) -> String {
    match dim {
        Dimension::Municipality => directory.by_code(value).map(|o| o.name.clone()),
        Dimension::Publisher => directory
            .resolve_publisher(Some(value), &[])
            .map(|o: &Organisation| o.name.clone()),
        Dimension::ConformsTo => Some(labels::specification_label(value)),
        Dimension::Quality => [Band::Excellent, Band::Good, Band::Enough, Band::Bad]
            .into_iter()
            .find(|b| b.key() == value)
            .map(|b| b.label(lang).to_string()),
        Dimension::Reuse
        | Dimension::OpenLicence
        | Dimension::Api
        | Dimension::Free
        | Dimension::Fresh => {
            let words = match (dim, value) {
                (Dimension::Reuse, "commercial") => {
                    ("Kommersiell användning tillåten", "Commercial use allowed")
                }
                (Dimension::Reuse, "non_commercial") => {
                    ("Ej kommersiell användning", "No commercial use")
                }
                (Dimension::Reuse, _) => ("Licensen okänd", "Licence unknown"),
                (Dimension::OpenLicence, "true") => ("Öppen licens", "Open licence"),
                (Dimension::OpenLicence, _) => ("Ingen öppen licens", "No open licence"),
                (Dimension::Api, "true") => ("Har API", "Has an API"),
                (Dimension::Api, _) => ("Inget API", "No API"),
                (Dimension::Free, "true") => ("Avgiftsfri", "Free of charge"),
                (Dimension::Free, _) => ("Avgift", "Fee"),
                (_, "true") => ("Uppdaterad i tid", "Updated on time"),
                _ => ("Försenad", "Overdue"),
            };
            Some(if lang == "en" { words.1 } else { words.0 }.to_string())
        }
        _ => labels::label_for(value, lang).map(str::to_string),
    }
    .unwrap_or_else(|| value.to_string())
}

/// A harvested URL as a link, when its scheme is one a link may have (http, https, mailto):
/// harvested text is untrusted, and a `javascript:` or `data:` URL must not become a link in
/// the web UI or a feed.
pub(crate) fn safe_url(url: &str) -> Option<String> {
    let lower = url.trim_start().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|s| lower.starts_with(s))
        .then(|| url.to_string())
}

/// A dataset's rows, the one shown first (a dataset every source has archived is still shown,
/// marked so), and the shown row's canonical graph; 404 for an unknown id. The rows are never
/// empty.
pub(crate) async fn shown_record(
    state: &AppState,
    id: &str,
) -> Result<(Vec<samla_store::StoredDataset>, Vec<oxrdf::Triple>), ApiError> {
    let store = Arc::clone(&state.store);
    let lookup = id.to_string();
    let rows = blocking(&state.work, move || {
        store
            .provenance(&lookup)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    let stored = rows
        .first()
        .ok_or_else(|| ApiError::NotFound(format!("no dataset with id {id:?}")))?;
    let triples = record::parse_canonical(&stored.ntriples)
        .map_err(|e| ApiError::Internal(format!("stored graph of {id} does not parse: {e}")))?;
    Ok((rows, triples))
}

#[utoipa::path(get, path = "/api/v1/datasets/{id}", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id (a UUID identifier, else the IRI)")),
    responses(
        (status = 200, description = "The record with distributions and provenance; its canonical graph with Accept: text/turtle", content(
            (wire::DatasetRecord = "application/json"),
            (String = "text/turtle"),
        )),
        (status = 400, description = "A parameter is invalid; the body names it", body = wire::ErrorBody),
        (status = 404, description = "No such dataset", body = wire::ErrorBody),
    ))]
async fn dataset(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (rows, triples) = shown_record(&state, &id).await?;
    let stored = rows[0].clone();
    let wants_turtle = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/turtle"));
    if wants_turtle {
        return Ok((
            [(header::CONTENT_TYPE, "text/turtle; charset=utf-8")],
            record::to_turtle(&triples),
        )
            .into_response());
    }
    let view = stored.view_from(&triples);
    let provenance = rows
        .iter()
        .map(|r| wire::Provenance {
            source_id: r.source_id.clone(),
            source_url: r.source_url.clone(),
            original_subject: r.original_subject.clone(),
            first_seen: r.first_seen,
            last_changed: r.last_changed,
            last_harvested: r.last_harvested,
            hash: r.hash.clone(),
            shown: r.source_id == stored.source_id,
            missing_since: r.missing_since,
            archived_at: r.archived_at,
        })
        .collect();
    Ok(axum::Json(wire::DatasetRecord {
        view,
        municipality: stored
            .municipality_code
            .as_deref()
            .and_then(|c| state.directory.by_code(c))
            .map(|o| wire::OrganisationRef {
                code: o.code.clone(),
                name: Some(o.name.clone()),
            }),
        archived: stored.archived_at.is_some(),
        source_id: stored.source_id,
        provenance,
    })
    .into_response())
}

/// Every source's active dataset count and last run, read together off the async threads.
pub(crate) async fn source_status(
    state: &AppState,
) -> Result<
    (
        std::collections::HashMap<String, u64>,
        std::collections::HashMap<String, samla_store::StoredRun>,
    ),
    ApiError,
> {
    let store = Arc::clone(&state.store);
    blocking(&state.work, move || {
        let internal = |e: samla_store::StoreError| ApiError::Internal(e.to_string());
        Ok((
            store.dataset_counts().map_err(internal)?,
            store.last_runs().map_err(internal)?,
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/sources", tag = "sources",
    responses((status = 200, description = "Every source with its organisation, last run and dataset count", body = wire::SourceList)))]
async fn sources(State(state): State<AppState>) -> Result<axum::Json<wire::SourceList>, ApiError> {
    let (counts, runs) = source_status(&state).await?;
    let sources = state
        .sources
        .iter()
        .map(|s| source_wire(&state, s, &counts, runs.get(&s.id)))
        .collect();
    Ok(axum::Json(wire::SourceList { sources }))
}

/// A source as the API shows it.
fn source_wire(
    state: &AppState,
    s: &SourceInfo,
    counts: &std::collections::HashMap<String, u64>,
    last_run: Option<&samla_store::StoredRun>,
) -> wire::Source {
    wire::Source {
        id: s.id.clone(),
        organisation: wire::OrganisationRef {
            code: s.organisation.clone(),
            name: state
                .directory
                .by_code(&s.organisation)
                .map(|o| o.name.clone()),
        },
        protocol: s.protocol.clone(),
        url: s.url.clone(),
        verified: s.verified,
        dataset_count: counts.get(&s.id).copied().unwrap_or(0),
        last_run: last_run.map(run_wire),
    }
}

fn known_source<'a>(state: &'a AppState, id: &str) -> Result<&'a SourceInfo, ApiError> {
    state
        .sources
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no source with id {id:?}")))
}

/// A run as the API shows it.
fn run_wire(r: &samla_store::StoredRun) -> wire::Run {
    // A run still going has no report yet.
    let report = r.outcome.has_ended().then_some(&r.report);
    wire::Run {
        id: r.id,
        started: r.started,
        finished: report.map(|_| r.finished),
        outcome: r.outcome,
        new: r.new,
        changed: r.changed,
        unchanged: r.unchanged,
        archived: r.archived,
        pages: report.map(|r| r.pages),
        pages_not_modified: report.map(|r| r.pages_not_modified),
        datasets: report.map(|r| r.datasets),
        distributions: report.map(|r| r.distributions),
        http_statuses: report.map(|r| r.http_statuses.clone()),
        problems: report.map(|r| r.problems.clone()),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsQuery {
    limit: Option<String>,
}

/// `GET /api/v1/sources/{id}/runs?limit=N`: the run history, newest first.
#[utoipa::path(get, path = "/api/v1/sources/{id}/runs", tag = "sources",
    params(("id" = String, Path, description = "Source id"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Runs, newest first (50 by default)")),
    responses(
        (status = 200, description = "The run history", body = wire::RunList),
        (status = 400, description = "A parameter is invalid; the body names it", body = wire::ErrorBody),
        (status = 404, description = "No such source", body = wire::ErrorBody),
    ))]
async fn source_runs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<RunsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    known_source(&state, &id)?;
    let axum::extract::Query(query) = query.map_err(|e| ApiError::bad("query", e.body_text()))?;
    let limit = match query.limit.as_deref() {
        None => 50,
        Some(v) => match v.parse::<u32>() {
            Ok(n @ 1..=1000) => n,
            _ => {
                return Err(ApiError::bad(
                    "limit",
                    format!("{v:?} is not a number from 1 to 1000"),
                ));
            }
        },
    };
    let store = Arc::clone(&state.store);
    let lookup = id.clone();
    let runs = blocking(&state.work, move || {
        store
            .runs(&lookup, limit)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    Ok(axum::Json(wire::RunList {
        source_id: id,
        runs: runs.iter().map(run_wire).collect(),
    })
    .into_response())
}

/// `GET /api/v1/sources/{id}`: the source, its last run, and its archived datasets.
#[utoipa::path(get, path = "/api/v1/sources/{id}", tag = "sources",
    params(("id" = String, Path, description = "Source id")),
    responses(
        (status = 200, description = "The source, its last run and its archived datasets", body = wire::SourceDetail),
        (status = 400, description = "A parameter is invalid; the body names it", body = wire::ErrorBody),
        (status = 404, description = "No such source", body = wire::ErrorBody),
    ))]
async fn source_detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let info = known_source(&state, &id)?.clone();
    let store = Arc::clone(&state.store);
    let lookup = id.clone();
    let (runs, archived, counts) = blocking(&state.work, move || {
        let internal = |e: samla_store::StoreError| ApiError::Internal(e.to_string());
        Ok((
            store.runs(&lookup, 1).map_err(internal)?,
            store.archived(&lookup).map_err(internal)?,
            store.dataset_counts().map_err(internal)?,
        ))
    })
    .await?;
    let archived = archived
        .iter()
        .map(|d| wire::ArchivedDataset {
            id: d.id.clone(),
            uri: d.iri.clone(),
            missing_since: d.missing_since,
            archived_at: d.archived_at,
        })
        .collect();
    Ok(axum::Json(wire::SourceDetail {
        source: source_wire(&state, &info, &counts, runs.first()),
        archived,
    })
    .into_response())
}

/// Checks `Authorization: Bearer <token>` against the configured admin token.
fn authorise(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::Unauthorized(
            "this needs the admin token: Authorization: Bearer <token>".into(),
        ));
    };
    let Some(expected) = state.admin_token.as_deref() else {
        return Err(ApiError::Forbidden(
            "admin endpoints are disabled: set [admin] token in the region file or SAMLA_ADMIN_TOKEN"
                .into(),
        ));
    };
    // Compared in full, whatever the first differing byte.
    if samla_notify::alerts::same(bearer(value), expected) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("the admin token is not valid".into()))
    }
}

/// The token of an `Authorization: Bearer <token>` header (`""` for another scheme).
pub(crate) fn bearer(value: &axum::http::HeaderValue) -> &str {
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("")
}

/// `POST /api/v1/sources/{id}/harvest`: starts a run now (admin); 202 with the run id.
#[utoipa::path(post, path = "/api/v1/sources/{id}/harvest", tag = "sources",
    params(("id" = String, Path, description = "Source id")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The run started", body = wire::HarvestStarted),
        (status = 400, description = "A parameter is invalid; the body names it", body = wire::ErrorBody),
        (status = 401, description = "No admin token given", body = wire::ErrorBody),
        (status = 403, description = "Wrong token, or admin endpoints disabled", body = wire::ErrorBody),
        (status = 404, description = "No such source", body = wire::ErrorBody),
        (status = 409, description = "The source has a run going", body = wire::ErrorBody),
        (status = 503, description = "Not harvesting, or shutting down", body = wire::ErrorBody),
    ))]
async fn start_harvest(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorise(&state, &headers)?;
    known_source(&state, &id)?;
    let Some(control) = state.control.clone() else {
        return Err(ApiError::Unavailable(
            "this process does not harvest (started without a runner)".into(),
        ));
    };
    let source = id.clone();
    let started = blocking(&state.work, move || Ok(control.start_run(&source))).await?;
    match started {
        Ok(run_id) => Ok((
            axum::http::StatusCode::ACCEPTED,
            axum::Json(wire::HarvestStarted {
                run_id,
                runs: format!("/api/v1/sources/{id}/runs"),
                source_id: id,
                status: samla_model::RunState::Running,
            }),
        )
            .into_response()),
        Err(StartRefusal::AlreadyRunning(run_id)) => Err(ApiError::Conflict {
            message: format!("source {id} already has run {run_id} going"),
            detail: json!({"run_id": run_id}),
        }),
        Err(StartRefusal::RunningElsewhere) => Err(ApiError::Conflict {
            message: format!("another harvester node has a run of source {id} going"),
            detail: json!({"elsewhere": true}),
        }),
        Err(StartRefusal::UnknownSource) => {
            Err(ApiError::NotFound(format!("no source with id {id:?}")))
        }
        Err(StartRefusal::ShuttingDown) => {
            Err(ApiError::Unavailable("samla is shutting down".into()))
        }
        Err(StartRefusal::Internal(e)) => Err(ApiError::Internal(e)),
    }
}

/// `GET /api/v1/reports/{name}?format=json|csv&municipality=&table=…` for `quality`,
/// `coverage` (`by=`), `freshness`, `harvest`, `demand` (`days=`), `hvd` and `national`.
#[utoipa::path(get, path = "/api/v1/reports/{name}", tag = "reports",
    params(("name" = openapi::ReportName, Path, description = "The report"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
        ("table" = Option<String>, Query, description = "With format=csv: which table of the report"),
        ("municipality" = Option<String>, Query, description = "Kommunkod"),
        ("by" = Option<String>, Query, description = "coverage: conforms_to, hvd_category or theme; demand: themes or specifications"),
        ("days" = Option<u32>, Query, description = "demand: days back")),
    responses(
        (status = 200, description = "The report", content(
            (Object = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A parameter is invalid; the body names it", body = wire::ErrorBody),
        (status = 404, description = "No such report", body = wire::ErrorBody),
    ))]
async fn report(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let reports = Arc::clone(&state.reports);
    let rendered = blocking(&state.work, move || {
        reports::render(
            &reports,
            &name,
            query.as_deref().unwrap_or(""),
            chrono::Utc::now(),
        )
        .map_err(ApiError::from)
    })
    .await?;
    Ok(match rendered {
        Rendered::Json(body) => (
            [(
                header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            report_body(body),
        )
            .into_response(),
        Rendered::Csv { filename, body } => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            report_body(body),
        )
            .into_response(),
    })
}

/// A rendered report as a response body: from memory, or read from its file as it is sent
/// (with its length, so a client sees how much is coming).
fn report_body(body: reports::Body) -> Response {
    let len = body.len();
    match body.into_inner() {
        reports::Text::InMemory(text) => text.into_response(),
        reports::Text::InFile(file) => (
            [(header::CONTENT_LENGTH, len.to_string())],
            axum::body::Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
                tokio::fs::File::from_std(file),
                reports::WRITTEN_AT_ONCE,
            )),
        )
            .into_response(),
    }
}

/// `GET /api/v1/reports/charts/{name}.svg?…`: the report charts as SVG (`coverage`,
/// `coverage-history`, `quality`, `demand`).
#[utoipa::path(get, path = "/api/v1/reports/charts/{file}", tag = "reports",
    params(("file" = openapi::ChartFile, Path, description = "The chart"),
        ("by" = Option<String>, Query, description = "As the report takes it"),
        ("days" = Option<u32>, Query, description = "demand: days back")),
    responses(
        (status = 200, description = "The chart", content((String = "image/svg+xml"))),
        (status = 400, description = "A parameter is invalid; the body names it", body = wire::ErrorBody),
        (status = 404, description = "No such chart", body = wire::ErrorBody),
    ))]
async fn chart(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let Some(name) = file.strip_suffix(".svg").map(str::to_string) else {
        return Err(ApiError::NotFound(format!("no chart {file:?}")));
    };
    let reports = Arc::clone(&state.reports);
    let body = blocking(&state.work, move || {
        reports::chart(
            &reports,
            &name,
            query.as_deref().unwrap_or(""),
            chrono::Utc::now(),
        )
        .map_err(ApiError::from)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

/// Validates and stores a data request from `client` (within its hourly limit); its id, and
/// the request as shown back (without the contact).
async fn accept_request(
    state: &AppState,
    client: Option<std::net::IpAddr>,
    input: reports::demand::DataRequestInput,
) -> Result<(i64, Value), ApiError> {
    let request = reports::demand::validate_request(input, &state.directory)?;
    let ip = client.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    if !state.requests.admit(ip) {
        return Err(ApiError::TooManyRequests(
            "too many data requests from this address; try again within the hour".into(),
        ));
    }
    let store = Arc::clone(&state.store);
    let stored = request.clone();
    // Proposals are sought among what harvests bring from now on.
    let cursor = state.index.indexed_seq().unwrap_or(0);
    let id = blocking(&state.work, move || {
        let id = store
            .add_request(chrono::Utc::now(), &stored)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let fresh = reports::requests::RequestState {
            cursor,
            ..Default::default()
        };
        reports::requests::save(&store, id, &fresh)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(id)
    })
    .await?;
    let mut shown = request;
    if let Some(o) = shown.as_object_mut() {
        o.remove("contact");
    }
    Ok((id, shown))
}

/// `POST /api/v1/requests`: a business files a data request (JSON or a form). 201 with its
/// id; 400 naming the field that is wrong; 429 past the hourly limit per client.
#[utoipa::path(post, path = "/api/v1/requests", tag = "demand",
    request_body(content(
        (reports::demand::DataRequestInput = "application/json"),
        (reports::demand::DataRequestInput = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "Filed", body = wire::RequestFiled),
        (status = 400, description = "A parameter is invalid; the body names it", body = wire::ErrorBody),
        (status = 429, description = "Too many requests from this address this hour", body = wire::ErrorBody),
    ))]
async fn file_request(
    State(state): State<AppState>,
    client: Option<axum::Extension<client::ClientAddr>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let input: reports::demand::DataRequestInput = read_input(&headers, &body, "a data request")?;
    let (id, shown) = accept_request(&state, client.map(|c| c.0.0), input).await?;
    let page = format!(
        "{}/request/{id}",
        state
            .public_url
            .as_deref()
            .unwrap_or("")
            .trim_end_matches('/')
    );
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(wire::RequestFiled {
            id,
            request: shown,
            page,
        }),
    )
        .into_response())
}
