//! The harvest pipeline, wiring harvester → store → index:
//!
//! ```text
//!  source runs (≤ concurrency at once)
//!    harvester ──records──▶ [bounded mpsc, 1024] ──▶ collector (drops unchanged by hash)
//!                                                        │ changed records of one run
//!                                                        ▼
//!                         apply (one run at a time, blocking thread):
//!                           store transaction (records + run) ──▶ index upsert + commit(seq)
//! ```
//!
//! A run's changes become visible together: the store commits them in one transaction and
//! the index in one commit. The index commit carries the store's change sequence number, so
//! [`Pipeline::reconcile`] can rebuild the index after a crash between the two.

use samla_config::SourceConfig;
use samla_harvester::{Harvester, Outcome, RECORD_CHANNEL_CAPACITY, RunReport};
use samla_indexer::{IndexInput, Indexer};
use samla_model::view::DatasetView;
use samla_model::{DatasetId, DatasetRecord, OrganisationDirectory, record};
use samla_store::{Applied, RunRow, Store};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

/// What the pipeline reports while it works.
pub trait Progress: Send + Sync {
    /// A source run started.
    fn started(&self, _source_id: &str) {}
    /// A source run has read `datasets` datasets so far.
    fn datasets(&self, _source_id: &str, _datasets: u64) {}
    /// A source run ended.
    fn finished(&self, _source_id: &str, _outcome: &SourceOutcome) {}
}

/// Progress that is not shown.
pub struct Quiet;
impl Progress for Quiet {}

/// The result of one source run.
#[derive(Debug, Clone)]
pub struct SourceOutcome {
    /// The run report.
    pub report: RunReport,
    /// What it changed.
    pub applied: Applied,
}

/// The pipeline.
pub struct Pipeline {
    store: Arc<Store>,
    index: Arc<Indexer>,
    harvester: Harvester,
    directory: Arc<OrganisationDirectory>,
    apply: Mutex<()>,
}

impl Pipeline {
    /// A pipeline over these parts.
    pub fn new(
        store: Arc<Store>,
        index: Arc<Indexer>,
        harvester: Harvester,
        directory: Arc<OrganisationDirectory>,
    ) -> Self {
        Self {
            store,
            index,
            harvester,
            directory,
            apply: Mutex::new(()),
        }
    }

    /// Harvests one source and applies what changed.
    pub async fn harvest_source(
        &self,
        source: &SourceConfig,
        cancel: CancellationToken,
        progress: &dyn Progress,
    ) -> anyhow::Result<SourceOutcome> {
        progress.started(&source.id);
        let store = Arc::clone(&self.store);
        let id = source.id.clone();
        let known = tokio::task::spawn_blocking(move || store.hashes_for_source(&id)).await??;

        let (tx, mut rx) = mpsc::channel::<DatasetRecord>(RECORD_CHANNEL_CAPACITY);
        let run = self.harvester.run(source, tx, cancel);
        let collect = async {
            let (mut kept, mut unchanged, mut seen) = (Vec::new(), 0u64, 0u64);
            while let Some(record) = rx.recv().await {
                seen += 1;
                if known.get(&record.id.0) == Some(&record.hash) {
                    unchanged += 1;
                } else {
                    kept.push(record);
                }
                if seen % 100 == 0 {
                    progress.datasets(&source.id, seen);
                }
            }
            (kept, unchanged)
        };
        let (report, (mut kept, unchanged)) = tokio::join!(run, collect);
        if matches!(report.outcome, Outcome::Cancelled | Outcome::Failed) {
            // Nothing of a stopped or failed run is applied: the source keeps what it had.
            kept.clear();
        }

        let _one_at_a_time = self.apply.lock().await;
        let store = Arc::clone(&self.store);
        let index = Arc::clone(&self.index);
        let directory = Arc::clone(&self.directory);
        let report_for_store = report.clone();
        let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<Applied> {
            let report_json = serde_json::to_string(&report_for_store)?;
            let outcome = serde_json::to_value(report_for_store.outcome)?;
            let row = RunRow {
                source_id: &report_for_store.source_id,
                started: report_for_store.started,
                finished: report_for_store.finished,
                outcome: outcome.as_str().unwrap_or("failed"),
                unchanged_elsewhere: unchanged,
                report_json: &report_json,
            };
            let (applied, changed) = store.apply_run(kept, &row)?;
            if !changed.is_empty() {
                let names: Vec<Vec<String>> = changed
                    .iter()
                    .map(|r| municipality_names(&directory, r.municipality_code.as_deref()))
                    .collect();
                let source_id = row.source_id;
                index.upsert(
                    changed.iter().zip(&names).map(|(r, n)| IndexInput {
                        view: &r.view,
                        source_id,
                        municipality_names: n,
                    }),
                    applied.seq,
                )?;
            }
            Ok(applied)
        })
        .await??;
        let outcome = SourceOutcome { report, applied };
        progress.finished(&source.id, &outcome);
        Ok(outcome)
    }

    /// Harvests these sources, `concurrency` at a time, each run on its own task.
    pub async fn harvest_all(
        self: &Arc<Self>,
        sources: &[SourceConfig],
        concurrency: usize,
        cancel: CancellationToken,
        progress: Arc<dyn Progress>,
    ) -> Vec<(String, anyhow::Result<SourceOutcome>)> {
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut runs = tokio::task::JoinSet::new();
        for source in sources.iter().filter(|s| s.enabled).cloned() {
            let (this, cancel, progress, permits) = (
                Arc::clone(self),
                cancel.child_token(),
                Arc::clone(&progress),
                Arc::clone(&permits),
            );
            runs.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let result = this
                    .harvest_source(&source, cancel, progress.as_ref())
                    .await;
                (source.id, result)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = runs.join_next().await {
            match joined {
                Ok(result) => results.push(result),
                Err(e) => results.push((
                    "(unknown)".into(),
                    Err(anyhow::anyhow!("harvest task stopped: {e}")),
                )),
            }
        }
        results
    }

    /// Rebuilds the index from the store, without the network. Returns the datasets indexed.
    pub fn reindex(&self) -> anyhow::Result<u64> {
        reindex(&self.store, &self.index, &self.directory)
    }

    /// Rebuilds the index if it has not caught up with the store (after a crash).
    pub fn reconcile(&self) -> anyhow::Result<Option<u64>> {
        if self.index.indexed_seq() == Some(self.store.change_seq()?) {
            return Ok(None);
        }
        self.reindex().map(Some)
    }
}

/// Rebuilds the index from the store.
pub fn reindex(
    store: &Store,
    index: &Indexer,
    directory: &OrganisationDirectory,
) -> anyhow::Result<u64> {
    let seq = store.change_seq()?;
    let mut docs: Vec<(DatasetView, String, Vec<String>)> = Vec::new();
    let mut bad = 0u64;
    store.for_each_dataset(|d| match record::parse_canonical(&d.ntriples) {
        Ok(triples) => {
            let view = DatasetView::from_triples(
                &DatasetId(d.id.clone()),
                &d.iri,
                &triples,
                d.municipality_code.clone(),
            );
            let names = municipality_names(directory, d.municipality_code.as_deref());
            docs.push((view, d.source_id, names));
        }
        Err(error) => {
            bad += 1;
            tracing::warn!(id = %d.id, %error, "stored graph does not parse; not indexed");
        }
    })?;
    let n = index.rebuild(
        docs.iter().map(|(view, source_id, names)| IndexInput {
            view,
            source_id,
            municipality_names: names,
        }),
        seq,
    )?;
    if bad > 0 {
        tracing::warn!(bad, "datasets left out of the index");
    }
    Ok(n)
}

fn municipality_names(directory: &OrganisationDirectory, code: Option<&str>) -> Vec<String> {
    code.and_then(|c| directory.by_code(c))
        .map(|o| vec![o.name.clone(), o.short_name.clone()])
        .unwrap_or_default()
}
