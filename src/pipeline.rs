//! The harvest pipeline, wiring harvester → store → index:
//!
//! ```text
//!  source runs (≤ concurrency at once)
//!    harvester ──records──▶ [bounded mpsc, 1024] ──▶ collector (drops unchanged by hash)
//!                                                        │ changed records of one run
//!                                                        ▼
//!                         apply (group commit: the runs that finished meanwhile, together,
//!                                on a blocking thread):
//!                           store transaction (records + runs) ──▶ index upsert + commit(seq)
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
use tokio::sync::{Mutex, mpsc, oneshot};
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
    queue: std::sync::Mutex<Vec<QueuedRun>>,
}

type QueuedRun = (
    Vec<DatasetRecord>,
    RunRow,
    oneshot::Sender<anyhow::Result<Applied>>,
);

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
            queue: std::sync::Mutex::new(Vec::new()),
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

        let row = RunRow {
            source_id: report.source_id.clone(),
            started: report.started,
            finished: report.finished,
            outcome: serde_json::to_value(report.outcome)?
                .as_str()
                .unwrap_or("failed")
                .to_string(),
            unchanged_elsewhere: unchanged,
            report_json: serde_json::to_string(&report)?,
        };
        let applied = self.apply(kept, row).await?;
        let outcome = SourceOutcome { report, applied };
        progress.finished(&source.id, &outcome);
        Ok(outcome)
    }

    /// Applies a finished run, grouped with whatever other runs finished meanwhile: the first
    /// run to get the apply lock applies every queued run in one store transaction and one
    /// index commit, and hands each its result. Each run's changes still become visible
    /// together; fewer commits make many small sources cheap.
    async fn apply(&self, records: Vec<DatasetRecord>, row: RunRow) -> anyhow::Result<Applied> {
        let (tx, mut rx) = oneshot::channel();
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((records, row, tx));
        let _leader = self.apply.lock().await;
        if let Ok(result) = rx.try_recv() {
            return result; // applied by an earlier leader's group
        }
        let group = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
        let (store, index, directory) = (
            Arc::clone(&self.store),
            Arc::clone(&self.index),
            Arc::clone(&self.directory),
        );
        tokio::task::spawn_blocking(move || {
            let (runs, replies): (Vec<_>, Vec<_>) = group
                .into_iter()
                .map(|(records, row, reply)| ((records, row), reply))
                .unzip();
            let source_ids: Vec<String> =
                runs.iter().map(|(_, row)| row.source_id.clone()).collect();
            let result = store
                .apply_runs(runs)
                .map_err(anyhow::Error::from)
                .and_then(|applied| {
                    let changed: Vec<(&DatasetRecord, &str)> = applied
                        .iter()
                        .zip(&source_ids)
                        .flat_map(|((_, records), id)| {
                            records.iter().map(move |r| (r, id.as_str()))
                        })
                        .collect();
                    if let (false, Some((first, _))) = (changed.is_empty(), applied.first()) {
                        let names: Vec<Vec<String>> = changed
                            .iter()
                            .map(|(r, _)| {
                                municipality_names(&directory, r.municipality_code.as_deref())
                            })
                            .collect();
                        index.upsert(
                            changed
                                .iter()
                                .zip(&names)
                                .map(|((r, source_id), n)| IndexInput {
                                    view: &r.view,
                                    source_id,
                                    municipality_names: n,
                                }),
                            first.seq,
                        )?;
                    }
                    Ok(applied.into_iter().map(|(a, _)| a).collect::<Vec<_>>())
                });
            match result {
                Ok(applied) => {
                    for (reply, a) in replies.into_iter().zip(applied) {
                        let _ = reply.send(Ok(a));
                    }
                }
                Err(e) => {
                    let message = format!("{e:#}");
                    for reply in replies {
                        let _ =
                            reply.send(Err(anyhow::anyhow!("applying the run failed: {message}")));
                    }
                }
            }
        })
        .await?;
        rx.await?
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
