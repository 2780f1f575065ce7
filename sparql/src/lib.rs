//! SPARQL 1.1 queries over the canonical records, with oxigraph's query engine.
//!
//! The union of every shown dataset's canonical graph is loaded into an in-memory oxigraph
//! store, rebuilt when the store's change sequence moves, so a query sees the same records
//! the search and the export show. Queries are read-only (no update, no `SERVICE`), stop
//! after a timeout, and return at most a fixed number of results.
//!
//! Architecture invariant: this crate knows nothing of HTTP; it takes a query string and
//! gives bytes in the asked result format.

pub use oxigraph::sparql::results::QueryResultsFormat;
use oxigraph::sparql::results::QueryResultsSerializer;
use oxigraph::sparql::{CancellationToken, QueryEvaluationError, QueryResults, SparqlEvaluator};
use oxrdf::{GraphName, Triple};
use samla_model::export::{self, RdfFormat};
use samla_store::Store;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What went wrong with a query.
#[derive(Debug, thiserror::Error)]
pub enum SparqlError {
    /// The query does not parse.
    #[error("the query does not parse: {0}")]
    Syntax(String),
    /// The query ran past the timeout.
    #[error("the query ran longer than {0:?} and was stopped")]
    Timeout(Duration),
    /// The query failed while being evaluated (a bad function argument, an unsupported
    /// feature such as SERVICE).
    #[error("the query could not be evaluated: {0}")]
    Evaluation(String),
    /// Too many queries are running.
    #[error("too many queries are running; try again shortly")]
    Busy,
    /// Ours: the store could not be read or loaded.
    #[error("internal: {0}")]
    Internal(String),
}

/// A query's answer: bytes and their media type.
#[derive(Debug)]
pub struct Answer {
    /// The media type.
    pub media_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
    /// Whether results past the limit were left out.
    pub truncated: bool,
}

/// Limits of the endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a query may run.
    pub timeout: Duration,
    /// Solutions or triples returned at most.
    pub max_results: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_results: 10_000,
        }
    }
}

/// Triples put into the graph at a time while loading it.
const LOAD_BATCH: usize = 100_000;

/// The endpoint: the loaded graph and the limits.
pub struct SparqlEndpoint {
    store: Arc<Store>,
    limits: Limits,
    loaded: Mutex<Option<(u64, oxigraph::store::Store)>>,
    running: Arc<std::sync::atomic::AtomicUsize>,
}

impl std::fmt::Debug for SparqlEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparqlEndpoint")
            .field("limits", &self.limits)
            .finish()
    }
}

impl SparqlEndpoint {
    /// An endpoint over `store`.
    pub fn new(store: Arc<Store>, limits: Limits) -> Self {
        Self {
            store,
            limits,
            loaded: Mutex::new(None),
            running: Arc::default(),
        }
    }

    /// The graph of the store's current records, loaded when the store has changed.
    fn graph(&self) -> Result<oxigraph::store::Store, SparqlError> {
        let internal = |e: &dyn std::fmt::Display| SparqlError::Internal(e.to_string());
        let seq = self.store.change_seq().map_err(|e| internal(&e))?;
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, graph)) = loaded.as_ref()
            && *at == seq
        {
            return Ok(graph.clone());
        }
        let graph = oxigraph::store::Store::new().map_err(|e| internal(&e))?;
        // Loaded a batch of datasets at a time: the graph, not a copy of every triple
        // besides it, is what loading holds.
        let mut batch: Vec<Triple> = Vec::new();
        let mut loaded_triples = 0usize;
        let mut failed = None;
        let mut flush = |batch: &mut Vec<Triple>| {
            loaded_triples += batch.len();
            let added = graph.extend(batch.drain(..).map(|t| t.in_graph(GraphName::DefaultGraph)));
            if let Err(e) = added {
                failed.get_or_insert(e.to_string());
            }
        };
        self.store
            .for_each_dataset(|d| match samla_model::record::parse_canonical(&d.ntriples) {
                Ok(t) => {
                    batch.extend(t);
                    if batch.len() >= LOAD_BATCH {
                        flush(&mut batch);
                    }
                }
                Err(e) => tracing::error!(dataset = %d.id, error = %e, "stored graph left out of sparql"),
            })
            .map_err(|e| internal(&e))?;
        flush(&mut batch);
        if let Some(e) = failed {
            return Err(internal(&e));
        }
        tracing::info!(triples = loaded_triples, seq, "sparql graph loaded");
        *loaded = Some((seq, graph.clone()));
        Ok(graph)
    }

    /// Runs a read-only `query`: solutions and booleans in `format`, graphs (CONSTRUCT,
    /// DESCRIBE) in `graph_format`.
    pub fn query(
        &self,
        query: &str,
        format: QueryResultsFormat,
        graph_format: RdfFormat,
    ) -> Result<Answer, SparqlError> {
        // Built without oxigraph's HTTP client, so SERVICE calls fail: no query reaches
        // another host.
        let token = CancellationToken::new();
        let prepared = SparqlEvaluator::new()
            .with_cancellation_token(token.clone())
            .parse_query(query)
            .map_err(|e| SparqlError::Syntax(e.to_string()))?;
        let graph = self.graph()?;
        // The query runs on its own thread; at the deadline the caller gets its answer (a
        // timeout) at once, and the token stops the thread when the engine next checks it.
        // Abandoned queries still count against `MAX_RUNNING` until they stop.
        let running = Running::enter(&self.running).ok_or(SparqlError::Busy)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let limits = self.limits;
        std::thread::spawn(move || {
            let _running = running;
            let answer = prepared
                .on_store(&graph)
                .execute()
                .map_err(Failure::from)
                .and_then(|results| serialize(results, format, graph_format, limits.max_results));
            let _ = tx.send(answer);
        });
        let answer = match rx.recv_timeout(self.limits.timeout) {
            Ok(answer) => answer,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                token.cancel();
                return Err(SparqlError::Timeout(self.limits.timeout));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(SparqlError::Internal("the query thread stopped".into()));
            }
        };
        answer.map_err(|e| match e {
            Failure::Evaluation(QueryEvaluationError::Cancelled) => {
                SparqlError::Timeout(self.limits.timeout)
            }
            Failure::Evaluation(e) => SparqlError::Evaluation(e.to_string()),
            Failure::Io(e) => SparqlError::Internal(e.to_string()),
        })
    }
}

/// Queries running at once at most, abandoned ones included.
const MAX_RUNNING: usize = 4;

/// A slot among the running queries, given back on drop.
struct Running(Arc<std::sync::atomic::AtomicUsize>);

impl Running {
    fn enter(count: &Arc<std::sync::atomic::AtomicUsize>) -> Option<Self> {
        use std::sync::atomic::Ordering;
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_RUNNING).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(Arc::clone(count)))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

fn serialize(
    results: QueryResults<'_>,
    format: QueryResultsFormat,
    graph_format: RdfFormat,
    max: usize,
) -> Result<Answer, Failure> {
    match results {
        QueryResults::Boolean(value) => Ok(Answer {
            media_type: format.media_type(),
            body: QueryResultsSerializer::from_format(format)
                .serialize_boolean_to_writer(Vec::new(), value)?,
            truncated: false,
        }),
        QueryResults::Solutions(solutions) => {
            let mut writer = QueryResultsSerializer::from_format(format)
                .serialize_solutions_to_writer(Vec::new(), solutions.variables().to_vec())?;
            let mut truncated = false;
            for (n, solution) in solutions.enumerate() {
                if n == max {
                    truncated = true;
                    break;
                }
                writer.serialize(&solution?)?;
            }
            Ok(Answer {
                media_type: format.media_type(),
                body: writer.finish()?,
                truncated,
            })
        }
        QueryResults::Graph(triples) => {
            let mut out = Vec::new();
            let mut truncated = false;
            for (n, triple) in triples.enumerate() {
                if n == max {
                    truncated = true;
                    break;
                }
                out.push(triple?);
            }
            Ok(Answer {
                media_type: graph_format.media_type(),
                body: export::serialize(&out, graph_format),
                truncated,
            })
        }
    }
}

enum Failure {
    Evaluation(QueryEvaluationError),
    Io(std::io::Error),
}

impl From<QueryEvaluationError> for Failure {
    fn from(e: QueryEvaluationError) -> Self {
        Self::Evaluation(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}
