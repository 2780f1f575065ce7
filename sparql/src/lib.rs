//! SPARQL 1.1 queries over the canonical records, with oxigraph's query engine (spareval).
//!
//! The union of every shown dataset's canonical graph is kept in a SQLite file of this node
//! (`graph.rs`), brought up to the store's change log before a query, so a query sees the
//! same records the search and the export show, and memory does not grow with them. Queries are read-only (no update, no `SERVICE`), stop
//! after a timeout, and return at most a fixed number of results.
//!
//! Architecture invariant: this crate knows nothing of HTTP; it takes a query string and
//! gives bytes in the asked result format.

mod graph;

use graph::{DiskGraph, GraphError, Reader};
use samla_model::export::{self, RdfFormat};
use samla_store::Store;
pub use sparesults::QueryResultsFormat;
use sparesults::QueryResultsSerializer;
use spareval::{CancellationToken, QueryEvaluationError, QueryEvaluator, QueryResults};
use spargebra::SparqlParser;
use std::path::Path;
use std::sync::Arc;
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

/// The endpoint: the graph file and the limits.
pub struct SparqlEndpoint {
    store: Arc<Store>,
    limits: Limits,
    graph: DiskGraph,
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
    /// An endpoint over `store`, keeping its graph in `dir` (made on the first query).
    pub fn new(store: Arc<Store>, dir: &Path, limits: Limits) -> Self {
        Self {
            store,
            limits,
            graph: DiskGraph::new(dir),
            running: Arc::default(),
        }
    }

    /// Runs a read-only `query`: solutions and booleans in `format`, graphs (CONSTRUCT,
    /// DESCRIBE) in `graph_format`.
    pub fn query(
        &self,
        query: &str,
        format: QueryResultsFormat,
        graph_format: RdfFormat,
    ) -> Result<Answer, SparqlError> {
        // The evaluator has no service handler, so SERVICE calls fail: no query reaches
        // another host.
        let query = SparqlParser::new()
            .parse_query(query)
            .map_err(|e| SparqlError::Syntax(e.to_string()))?;
        let path = self
            .graph
            .catch_up(&self.store)
            .map_err(|e| SparqlError::Internal(e.to_string()))?;
        let token = CancellationToken::new();
        // The query runs on its own thread; at the deadline the caller gets its answer (a
        // timeout) at once, and the token stops the thread when the engine next checks it.
        // Abandoned queries still count against `MAX_RUNNING` until they stop.
        let running = Running::enter(&self.running).ok_or(SparqlError::Busy)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let limits = self.limits;
        let evaluator = QueryEvaluator::new().with_cancellation_token(token.clone());
        std::thread::spawn(move || {
            let _running = running;
            let answer = Reader::open(&path)
                .map_err(Failure::Graph)
                .and_then(|reader| {
                    evaluator
                        .prepare(&query)
                        .execute(reader)
                        .map_err(Failure::from)
                })
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
            Failure::Graph(e) => SparqlError::Internal(e.to_string()),
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
    Graph(GraphError),
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
