//! Prometheus `/metrics` (OpenMetrics text): HTTP responses by status, search latency, and,
//! read from the store at each scrape, harvest runs per source and outcome, each source's
//! last outcome and its datasets.

use crate::{ApiError, AppState, blocking};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

type Labels = Vec<(&'static str, String)>;

/// The metrics of one serving process.
pub struct Metrics {
    registry: Registry,
    responses: Family<Labels, Counter>,
    search_seconds: Histogram,
    runs: Family<Labels, Gauge>,
    last_outcome: Family<Labels, Gauge>,
    datasets: Family<Labels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("samla");
        let responses = Family::<Labels, Counter>::default();
        registry.register(
            "http_responses",
            "HTTP responses by status code",
            responses.clone(),
        );
        // 0.5 ms to ~4 s.
        let search_seconds = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(0.0005, 2.0, 14),
        );
        registry.register(
            "search_duration_seconds",
            "Search latency in the index, API and web searches",
            search_seconds.clone(),
        );
        let runs = Family::<Labels, Gauge>::default();
        registry.register(
            "harvest_runs",
            "Harvest runs in the kept history by source and outcome",
            runs.clone(),
        );
        let last_outcome = Family::<Labels, Gauge>::default();
        registry.register(
            "harvest_last_outcome",
            "1 for each source's last run outcome",
            last_outcome.clone(),
        );
        let datasets = Family::<Labels, Gauge>::default();
        registry.register("datasets", "Active datasets per source", datasets.clone());
        Self {
            registry,
            responses,
            search_seconds,
            runs,
            last_outcome,
            datasets,
        }
    }

    /// Records a search's duration.
    pub fn observe_search(&self, took: Duration) {
        self.search_seconds.observe(took.as_secs_f64());
    }
}

/// Counts every response by status.
pub(crate) async fn count_responses(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    metrics
        .responses
        .get_or_create(&vec![("code", response.status().as_u16().to_string())])
        .inc();
    response
}

/// `GET /metrics`.
pub(crate) async fn scrape(State(state): State<AppState>) -> Result<Response, ApiError> {
    let store = Arc::clone(&state.store);
    let runs = blocking(&state.work, move || {
        store
            .run_counts()
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    let (counts, last) = crate::source_status(&state).await?;
    let m = &state.metrics;
    m.runs.clear();
    for (source, outcome, n) in runs {
        m.runs
            .get_or_create(&vec![("source", source), ("outcome", outcome.to_string())])
            .set(n as i64);
    }
    m.last_outcome.clear();
    m.datasets.clear();
    for s in state.sources.iter() {
        if let Some(run) = last.get(&s.id) {
            m.last_outcome
                .get_or_create(&vec![
                    ("source", s.id.clone()),
                    ("outcome", run.outcome.to_string()),
                ])
                .set(1);
        }
        m.datasets
            .get_or_create(&vec![
                ("source", s.id.clone()),
                ("organisation", s.organisation.clone()),
            ])
            .set(counts.get(&s.id).copied().unwrap_or(0) as i64);
    }
    let mut body = String::new();
    encode(&mut body, &m.registry).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
