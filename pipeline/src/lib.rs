//! The harvest pipeline, wiring harvester → store → index:
//!
//! ```text
//!  source runs (≤ concurrency harvesting at once)
//!    harvester ──records──▶ [bounded mpsc, 1024] ──▶ collector (drops unchanged by hash)
//!                                                        │ changed records of one run
//!                                                        ▼
//!                         apply (group commit: the runs that finished meanwhile, together,
//!                                on a blocking thread):
//!                           store transaction (records + runs) ──▶ index stage(seq)
//!                                                        ▼
//!                         publish: one index commit for everything staged (at once when no
//!                                  run is harvesting, else about once a second)
//! ```
//!
//! A run's changes become visible together: the store commits them in one transaction and
//! the index in one commit. The index commit carries the store's change sequence number, so
//! [`Pipeline::reconcile`] can rebuild the index after a crash between the two.

pub mod runner;

use samla_config::SourceConfig;
use samla_harvester::{Harvester, PageMemos, RECORD_CHANNEL_CAPACITY, RunOutput, RunReport};
use samla_indexer::{IndexError, IndexInput, Indexer};
use samla_model::par::{par_drop, par_map};
use samla_model::quality::{self, Band};
use samla_model::record::{self, StoredGraph};
use samla_model::run::{Outcome, Reason, RunState};
use samla_model::shacl::Shapes;
use samla_model::view::DatasetView;
use samla_model::{DatasetRecord, OrganisationDirectory};
use samla_store::{
    Applied, GroupApplied, LinkTable, Records, RunInput, RunRow, Store, StoreError, StoredDataset,
};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, Notify, OwnedSemaphorePermit, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Why a run could not be applied, or the index rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A blocking task of the pipeline stopped (panicked or was cancelled).
    #[error("a pipeline task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The group of runs this run was applied with failed (the store rolled it back).
    #[error("applying the run failed: {0}")]
    Apply(String),
    /// The apply ended without answering.
    #[error("applying the run stopped without an answer")]
    ApplyStopped,
    /// The page memos could not be written as JSON.
    #[error("page memos: {0}")]
    Memos(#[from] serde_json::Error),
    /// A publish left out changes it should have made searchable.
    #[error("the index lost changes staged with sequence number {0}")]
    LostStaged(u64),
    /// Another harvester node has a run of the source going.
    #[error("another harvester node has a run of source {0} going")]
    RunningElsewhere(String),
}

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

/// Counts a run as harvesting while it lives, and wakes the runs waiting to publish when
/// it ends (one run fewer to wait for); the run's harvest permit, if it has one, is given
/// back at the same time.
struct Harvesting<'a>(&'a Pipeline, Option<OwnedSemaphorePermit>);

impl<'a> Harvesting<'a> {
    fn new(pipeline: &'a Pipeline, permit: Option<OwnedSemaphorePermit>) -> Self {
        pipeline.harvesting.fetch_add(1, Ordering::SeqCst);
        Self(pipeline, permit)
    }
}

impl Drop for Harvesting<'_> {
    fn drop(&mut self) {
        drop(self.1.take());
        self.0.harvesting.fetch_sub(1, Ordering::SeqCst);
        self.0.wake.notify_waiters();
    }
}

/// The pipeline.
pub struct Pipeline {
    store: Arc<Store>,
    index: Arc<Indexer>,
    harvester: Harvester,
    directory: Arc<OrganisationDirectory>,
    private: HashSet<String>,
    apply: Mutex<()>,
    queue: std::sync::Mutex<Vec<QueuedRun>>,
    /// Runs harvesting now (not yet handed to the apply).
    harvesting: AtomicUsize,
    /// Woken when a run stops harvesting and when the index publishes.
    wake: Notify,
    /// How the index scores quality.
    scoring: Scoring,
    /// Where a run's changed records past `[harvest] held_records` wait for their apply.
    staging: PathBuf,
}

/// How a dataset's quality band is scored for the index: with the shapes and options the
/// quality report uses, and the link-check results stored so far.
#[derive(Clone)]
pub struct Scoring {
    shapes: Arc<Shapes>,
    options: quality::Options,
}

impl Default for Scoring {
    fn default() -> Self {
        Self::new(
            Arc::new(Shapes::dcat_ap_core()),
            quality::Options::default(),
        )
    }
}

impl Scoring {
    /// Scoring with these shapes and options.
    pub fn new(shapes: Arc<Shapes>, options: quality::Options) -> Self {
        Self { shapes, options }
    }

    /// The band of the dataset `view` whose canonical graph is `ntriples`, with the link
    /// results `links` holds. The graph is parsed and validated only when its conformance
    /// decides the band: a dataset whose band is the same either way costs one score. `None`
    /// when the graph does not parse.
    fn band(&self, view: &DatasetView, graph: Graph<'_>, links: &LinkTable) -> Option<Band> {
        let link = |url: &str| links.state(url);
        let cx = quality::Context {
            link: &link,
            conforms: None,
            options: self.options,
        };
        let (if_conforms, if_not) = quality::bands(view, &cx);
        if if_conforms == if_not {
            return Some(if_conforms);
        }
        // Only now does the graph's SHACL verdict matter.
        let read_now;
        let read = match graph.read {
            Some(read) => read,
            None => {
                read_now = record::read_stored(graph.ntriples).ok()?;
                &read_now
            }
        };
        let conforms = self.shapes.validate_refs(&read.triples()).conforms;
        Some(if conforms { if_conforms } else { if_not })
    }
}

/// A queued run and where its result goes: what it changed, and the store change sequence
/// number its index changes were staged with (`None` when it changed nothing searchable).
type QueuedRun = (
    RunInput,
    oneshot::Sender<Result<(Applied, Option<u64>), PipelineError>>,
);

/// How long staged index changes wait for other runs' before they are published, while
/// runs are still harvesting: a harvest of many sources then commits the index about once
/// this often rather than once per source (each commit finishes a segment: a fixed cost).
/// With no run harvesting, staged changes are published at once.
const PUBLISH_LINGER: Duration = Duration::from_secs(1);

/// Precedence of a source's record among the sources of the same dataset (lower wins), by
/// the store's rule ([`samla_store::rank`]): is the source an aggregate, is the publisher its
/// own organisation, is that organisation private.
pub fn rank(source: &SourceConfig, record: &DatasetRecord, private: bool) -> i64 {
    let own = record.municipality_code.as_deref() == Some(source.organisation.as_str());
    samla_store::rank(source.aggregate, own, private)
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
            private: HashSet::new(),
            apply: Mutex::new(()),
            queue: std::sync::Mutex::new(Vec::new()),
            harvesting: AtomicUsize::new(0),
            wake: Notify::new(),
            scoring: Scoring::default(),
            staging: std::env::temp_dir(),
        }
    }

    /// The same pipeline, staging large runs' records in `dir` (the state directory's
    /// `staging`; by default the system's temporary directory).
    pub fn with_staging(mut self, dir: PathBuf) -> Self {
        self.staging = dir;
        self
    }

    /// The same pipeline, scoring quality for the index with these shapes and options (those
    /// of the quality report).
    pub fn with_scoring(mut self, scoring: Scoring) -> Self {
        self.scoring = scoring;
        self
    }

    /// The same pipeline, ranking sources of these organisations (codes) as private.
    pub fn with_private_organisations(mut self, codes: impl IntoIterator<Item = String>) -> Self {
        self.private = codes.into_iter().collect();
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Harvests one source and applies what changed.
    pub async fn harvest_source(
        &self,
        source: &SourceConfig,
        cancel: CancellationToken,
        progress: &dyn Progress,
    ) -> Result<SourceOutcome, PipelineError> {
        self.harvest_reserved(source, None, None, cancel, progress)
            .await
    }

    /// Harvests one source under a run id reserved with [`Store::begin_run`] by whoever holds
    /// the source's lock (or a new one: the source is then taken here for the run, or the run
    /// refused if another node has it). A `permit` (of the harvests allowed at once) is given
    /// back when the run has read its source, before its changes are applied: waiting for the
    /// apply is not harvesting.
    pub async fn harvest_reserved(
        &self,
        source: &SourceConfig,
        run_id: Option<i64>,
        permit: Option<OwnedSemaphorePermit>,
        cancel: CancellationToken,
        progress: &dyn Progress,
    ) -> Result<SourceOutcome, PipelineError> {
        let _held = match run_id {
            Some(_) => None,
            None => {
                let (store, id) = (Arc::clone(&self.store), source.id.clone());
                let lock = tokio::task::spawn_blocking(move || store.lock_source(&id)).await??;
                Some(lock.ok_or_else(|| PipelineError::RunningElsewhere(source.id.clone()))?)
            }
        };
        progress.started(&source.id);
        let harvesting = Harvesting::new(self, permit);
        let store = Arc::clone(&self.store);
        let id = source.id.clone();
        let memos = tokio::task::spawn_blocking(move || {
            Ok::<_, PipelineError>(match store.page_memos(&id)? {
                Some(json) => serde_json::from_str::<PageMemos>(&json).unwrap_or_default(),
                None => PageMemos::new(),
            })
        })
        .await??;

        let (tx, mut rx) = mpsc::channel::<DatasetRecord>(RECORD_CHANNEL_CAPACITY);
        let run = self.harvester.run_with(source, &memos, tx, cancel);
        let private = self.private.contains(&source.organisation);
        let collect = async {
            let held = self.harvester.settings().held_records;
            let mut kept = Records::staged_in(&self.staging, held);
            let (mut unchanged, mut seen) = (0u64, Vec::new());
            // The stored hashes are read when the first record arrives: a run whose pages all
            // answer 304 sends none.
            let mut known: Option<HashMap<String, String>> = None;
            while let Some(record) = rx.recv().await {
                if known.is_none() {
                    let (store, id) = (Arc::clone(&self.store), source.id.clone());
                    known = Some(
                        tokio::task::spawn_blocking(move || store.hashes_for_source(&id)).await??,
                    );
                }
                seen.push(record.id.0.clone());
                if known.as_ref().and_then(|k| k.get(&record.id.0)) == Some(&record.hash) {
                    unchanged += 1;
                } else {
                    let r = rank(source, &record, private);
                    kept.push(record, r).map_err(StoreError::Staging)?;
                }
                if seen.len() % 100 == 0 {
                    progress.datasets(&source.id, seen.len() as u64);
                }
            }
            Ok::<_, PipelineError>((kept, unchanged, seen))
        };
        let (output, collected) = tokio::join!(run, collect);
        let (mut kept, unchanged, mut seen) = collected?;
        let RunOutput {
            mut report,
            pages,
            reused,
            memos_changed,
        } = output;
        let stopped = report.outcome.applies_nothing();
        if stopped {
            // Nothing of a stopped or failed run is applied: the source keeps what it had.
            kept.clear();
        }
        // Datasets on pages that answered 304 are unchanged without being read again.
        let unchanged = unchanged + reused.len() as u64;
        seen.extend(reused.into_iter().map(|id| id.0));
        if report.outcome.is_complete() && !report.incremental {
            self.check_share(source, run_id, seen.len() as u64, &mut report)
                .await?;
        }
        // Only a complete run can tell what the source no longer lists.
        let complete = report.outcome.is_complete() && !report.incremental;

        let row = RunRow {
            id: run_id,
            unchanged_elsewhere: unchanged,
            report: report.clone(),
        };
        let input = RunInput {
            records: kept,
            run: row,
            seen: complete.then_some(seen),
            // A run that learnt nothing new about its pages leaves the memos as they are.
            pages: if stopped || !memos_changed {
                None
            } else {
                Some(serde_json::to_string(&pages)?)
            },
        };
        drop(harvesting);
        let applied = self.apply(input).await?;
        let outcome = SourceOutcome { report, applied };
        progress.finished(&source.id, &outcome);
        Ok(outcome)
    }

    /// A complete run that read far fewer datasets than the source holds (under
    /// `fewer_datasets_share` of them) is taken as partial, so that it archives nothing,
    /// unless the run before it read as few: a municipality's server having a bad night must
    /// not empty its part of the region, but a catalog that really shrank is believed the
    /// second time.
    async fn check_share(
        &self,
        source: &SourceConfig,
        run_id: Option<i64>,
        read: u64,
        report: &mut RunReport,
    ) -> Result<(), PipelineError> {
        let share = self.harvester.settings().fewer_datasets_share;
        let (store, id) = (Arc::clone(&self.store), source.id.clone());
        let (held, previous) = tokio::task::spawn_blocking(move || {
            let held = store.active_count(&id)?;
            let previous = store
                .runs(&id, 3)?
                .into_iter()
                .find(|r| Some(r.id) != run_id && r.outcome != RunState::Running);
            Ok::<_, PipelineError>((held, previous))
        })
        .await??;
        if held == 0 || read as f64 >= share * held as f64 {
            return Ok(());
        }
        let url = report.url.clone();
        let seen_before =
            previous.is_some_and(|r| r.report.problem_count(Reason::FewerDatasets) > 0);
        if seen_before {
            report.problem(
                Reason::FewerDatasets,
                &url,
                None,
                format!(
                    "read {read} datasets of the {held} the source held, as few as the run \
                     before: taken as the catalog now"
                ),
            );
            return Ok(());
        }
        report.problem(
            Reason::FewerDatasets,
            &url,
            None,
            format!(
                "read {read} datasets of the {held} the source held: nothing is archived unless \
                 the next run reads as few"
            ),
        );
        report.downgrade(Outcome::Partial);
        Ok(())
    }

    /// Applies a finished run, grouped with whatever other runs finished meanwhile: the first
    /// run to get the apply lock applies every queued run in one store transaction and stages
    /// their index changes, and hands each its result. Each run's changes still become
    /// visible together; fewer commits make many small sources cheap. Returns once the run's
    /// changes are searchable (see [`PUBLISH_LINGER`]).
    async fn apply(&self, input: RunInput) -> Result<Applied, PipelineError> {
        let (applied, staged) = self.apply_grouped(input).await?;
        if let Some(seq) = staged {
            self.published(seq).await?;
        }
        Ok(applied)
    }

    async fn apply_grouped(
        &self,
        input: RunInput,
    ) -> Result<(Applied, Option<u64>), PipelineError> {
        let (tx, mut rx) = oneshot::channel();
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((input, tx));
        let _leader = self.apply.lock().await;
        if let Ok(result) = rx.try_recv() {
            return result; // applied by an earlier leader's group
        }
        let group = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
        let (store, index, directory, scoring) = (
            Arc::clone(&self.store),
            Arc::clone(&self.index),
            Arc::clone(&self.directory),
            self.scoring.clone(),
        );
        let applying = tokio::task::spawn_blocking(move || {
            let (runs, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
            let source_ids: Vec<String> = runs
                .iter()
                .map(|r| r.run.report.source_id.clone())
                .collect();
            let result = store
                .apply_runs(runs)
                .map_err(PipelineError::from)
                .and_then(|group| {
                    let staged =
                        index_group(&store, &index, &directory, &scoring, &group, &source_ids)?;
                    Ok(group
                        .runs
                        .into_iter()
                        .map(move |(a, written)| ((a, staged), written)))
                });
            match result {
                Ok(applied) => {
                    let mut written = Vec::new();
                    for (reply, (a, records)) in replies.into_iter().zip(applied) {
                        let _ = reply.send(Ok(a));
                        written.push(records);
                    }
                    // The group's records are freed once its runs have their answers: for a
                    // large source that takes a while, and the runs need not wait for it.
                    drop(written);
                }
                Err(e) => {
                    let message = e.to_string();
                    for reply in replies {
                        let _ = reply.send(Err(PipelineError::Apply(message.clone())));
                    }
                }
            }
        });
        // The answer comes before the blocking task ends (it then frees the group's records);
        // without one, the task stopped: its error says why.
        match rx.await {
            Ok(result) => result,
            Err(_) => {
                applying.await?;
                Err(PipelineError::ApplyStopped)
            }
        }
    }

    /// Waits until the index changes staged with `seq` are searchable, publishing them when
    /// no run is harvesting or the oldest staged change has waited [`PUBLISH_LINGER`].
    async fn published(&self, seq: u64) -> Result<(), PipelineError> {
        loop {
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.index.indexed_seq().is_some_and(|p| p >= seq) {
                return Ok(());
            }
            let waited = self.index.staged_since().map(|since| since.elapsed());
            let due = self.harvesting.load(Ordering::SeqCst) == 0
                || waited.is_none_or(|w| w >= PUBLISH_LINGER);
            if due {
                let index = Arc::clone(&self.index);
                let published = tokio::task::spawn_blocking(move || index.publish()).await??;
                self.wake.notify_waiters();
                if published.is_none() && self.index.indexed_seq().is_none_or(|p| p < seq) {
                    return Err(PipelineError::LostStaged(seq));
                }
                continue;
            }
            let left = PUBLISH_LINGER.saturating_sub(waited.unwrap_or_default());
            let _ = tokio::time::timeout(left, woken).await;
        }
    }

    /// Harvests these sources, `concurrency` at a time, each run on its own task. The
    /// sources that held the most datasets start first (the rest in the order given): a
    /// harvest lasts as long as its longest run, so that run should not wait for a turn.
    pub async fn harvest_all(
        self: &Arc<Self>,
        sources: &[SourceConfig],
        concurrency: usize,
        cancel: CancellationToken,
        progress: Arc<dyn Progress>,
    ) -> Vec<(String, Result<SourceOutcome, PipelineError>)> {
        let mut sources: Vec<SourceConfig> =
            sources.iter().filter(|s| s.enabled).cloned().collect();
        let store = Arc::clone(&self.store);
        let held = tokio::task::spawn_blocking(move || store.dataset_counts())
            .await
            .map_err(PipelineError::from)
            .and_then(|counts| counts.map_err(PipelineError::from));
        match held {
            Ok(held) => {
                sources.sort_by_key(|s| std::cmp::Reverse(held.get(&s.id).copied().unwrap_or(0)))
            }
            Err(error) => {
                tracing::warn!("dataset counts unread, sources start in order: {error:#}")
            }
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut runs = tokio::task::JoinSet::new();
        for source in sources {
            // Taken here, in order, so the runs start in that order.
            let permit = Arc::clone(&permits).acquire_owned().await.ok();
            let (this, cancel, progress) = (
                Arc::clone(self),
                cancel.child_token(),
                Arc::clone(&progress),
            );
            runs.spawn(async move {
                let result = this
                    .harvest_reserved(&source, None, permit, cancel, progress.as_ref())
                    .await;
                (source.id, result)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = runs.join_next().await {
            match joined {
                Ok(result) => results.push(result),
                Err(e) => results.push(("(unknown)".into(), Err(PipelineError::Task(e)))),
            }
        }
        results
    }

    /// Indexes these datasets again as the store holds them (what the index derives from
    /// other state, such as the quality band from link checks, changed); returns how many.
    pub async fn refresh(&self, ids: Vec<String>) -> Result<u64, PipelineError> {
        let _leader = self.apply.lock().await;
        let (store, index, directory, scoring) = (
            Arc::clone(&self.store),
            Arc::clone(&self.index),
            Arc::clone(&self.directory),
            self.scoring.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let seq = store.change_seq()?;
            index_as_stored(&store, &index, &directory, &scoring, &ids, seq)
        })
        .await?
    }

    /// Harvests the national portal `source` as any source is harvested, but keeps what it
    /// lists apart (store entries of kind [`samla_model::reference::NATIONAL`]): never indexed, shown
    /// or exported, only compared with the region's datasets. A run that did not read the
    /// portal whole adds to what the last one kept and removes nothing.
    pub async fn harvest_national(
        &self,
        source: &SourceConfig,
        cancel: CancellationToken,
    ) -> Result<(RunReport, usize), PipelineError> {
        use samla_model::reference::{self, ReferenceRecord};
        let (tx, mut rx) = mpsc::channel::<DatasetRecord>(RECORD_CHANNEL_CAPACITY);
        let run = self.harvester.run(source, tx, cancel);
        let collect = async {
            let mut listed = Vec::new();
            while let Some(r) = rx.recv().await {
                listed.push(ReferenceRecord::of(&r));
            }
            listed
        };
        let (report, listed) = tokio::join!(run, collect);
        let store = Arc::clone(&self.store);
        let kept = report.clone();
        let count = tokio::task::spawn_blocking(move || -> Result<usize, PipelineError> {
            let kept_before = || -> Result<Vec<ReferenceRecord>, PipelineError> {
                Ok(store
                    .entry(reference::NATIONAL, reference::RECORDS)?
                    .and_then(|b| serde_json::from_str(&b).ok())
                    .unwrap_or_default())
            };
            let count = if kept.outcome.applies_nothing() {
                kept_before()?.len()
            } else {
                let before = if kept.outcome.is_complete() {
                    Vec::new()
                } else {
                    kept_before()?
                };
                let mut records: HashMap<String, ReferenceRecord> =
                    before.into_iter().map(|r| (r.id.clone(), r)).collect();
                records.extend(listed.into_iter().map(|r| (r.id.clone(), r)));
                let mut records: Vec<ReferenceRecord> = records.into_values().collect();
                records.sort_by(|a, b| a.id.cmp(&b.id));
                let json = serde_json::to_string(&records)?;
                store.put_entry(reference::NATIONAL, reference::RECORDS, &json, true)?;
                records.len()
            };
            let json = serde_json::to_string(&kept)?;
            store.put_entry(reference::NATIONAL, reference::RUN, &json, true)?;
            Ok(count)
        })
        .await??;
        Ok((report, count))
    }

    /// Brings `index` (another node's, following this store) up to the change log: see
    /// [`follow`].
    pub fn follow(&self, index: &Indexer) -> Result<Followed, PipelineError> {
        follow(&self.store, index, &self.directory, &self.scoring)
    }

    /// Rebuilds the index from the store, without the network. Returns the datasets indexed.
    pub fn reindex(&self) -> Result<u64, PipelineError> {
        reindex(&self.store, &self.index, &self.directory, &self.scoring)
    }

    /// Rebuilds the index if it has not caught up with the store (after a crash).
    pub fn reconcile(&self) -> Result<Option<u64>, PipelineError> {
        if self.index.indexed_seq() == Some(self.store.change_seq()?) {
            return Ok(None);
        }
        self.reindex().map(Some)
    }
}

/// Brings the index up to an applied group: each written record that is its dataset's only
/// active record is indexed as it is; every contested, archived or restored id is indexed as
/// its winner (read back from the store), or removed when it has none. Staged, not
/// committed: returns the sequence number staged, `None` when the group changed nothing.
fn index_group(
    store: &Store,
    index: &Indexer,
    directory: &OrganisationDirectory,
    scoring: &Scoring,
    group: &GroupApplied,
    source_ids: &[String],
) -> Result<Option<u64>, PipelineError> {
    if !group.changed {
        return Ok(None);
    }
    let Some(seq) = group.runs.first().map(|(a, _)| a.seq) else {
        return Ok(None);
    };
    let lookups: HashSet<&str> = group.lookups.iter().map(String::as_str).collect();
    let mut direct: Vec<(&DatasetRecord, &str)> = Vec::new();
    let mut written: HashMap<(&str, &str), &DatasetRecord> = HashMap::new();
    for ((_, records), source_id) in group.runs.iter().zip(source_ids) {
        for r in records {
            if lookups.contains(r.id.0.as_str()) {
                written.insert((r.id.0.as_str(), source_id.as_str()), r);
            } else {
                direct.push((r, source_id.as_str()));
            }
        }
    }
    // What this group wrote changed now (the store stamps it with the same apply).
    let now = chrono::Utc::now().timestamp();
    let docs: Vec<Doc<'_>> = direct
        .iter()
        .map(|(r, s)| Doc::written(r, s, now))
        .collect();
    // Every part is staged before any can be published: the group shows whole or not at all.
    let mut staging = index.staging(seq);
    staging.stage(
        &[],
        inputs(store, directory, scoring, &docs)
            .iter()
            .map(Input::get),
    )?;
    // The ids to look up, a part at a time: a run staged on disk looks up all it wrote.
    for part in group.lookups.chunks(REBUILD_BATCH) {
        let (found, mut remove) = shown(store, part)?;
        let mut reused: Vec<(&DatasetRecord, String)> = Vec::new();
        let mut parse = Vec::new();
        for w in found {
            match written.get(&(w.id.as_str(), w.source_id.as_str())) {
                Some(r) if r.hash == w.hash => reused.push((r, w.source_id)),
                _ => parse.push(w),
            }
        }
        let read = read(&parse, &mut remove);
        let docs: Vec<Doc<'_>> = reused
            .iter()
            .map(|(r, s)| Doc::written(r, s, now))
            .chain(read.iter().map(Doc::read))
            .collect();
        staging.stage(
            &remove,
            inputs(store, directory, scoring, &docs)
                .iter()
                .map(Input::get),
        )?;
    }
    Ok(Some(seq))
}

/// A dataset's graph: its N-Triples, and the graph read from them when it was already.
#[derive(Clone, Copy)]
struct Graph<'a> {
    ntriples: &'a str,
    read: Option<&'a StoredGraph<'a>>,
}

/// A dataset to index, with what its index entry is made from.
struct Doc<'a> {
    view: &'a DatasetView,
    graph: Graph<'a>,
    source_id: &'a str,
    municipality_code: Option<&'a str>,
    changed: i64,
}

impl<'a> Doc<'a> {
    fn written(r: &'a DatasetRecord, source_id: &'a str, changed: i64) -> Self {
        Self {
            view: &r.view,
            graph: Graph {
                ntriples: &r.ntriples,
                read: None,
            },
            source_id,
            municipality_code: r.municipality_code.as_deref(),
            changed,
        }
    }

    /// A stored record with the graph its view was made from (the quality band's SHACL
    /// check reads it rather than reading the N-Triples again).
    fn read(read: &'a Read<'a>) -> Self {
        let d = read.dataset;
        Self {
            view: &read.view,
            graph: Graph {
                ntriples: &d.ntriples,
                read: Some(&read.graph),
            },
            source_id: &d.source_id,
            municipality_code: d.municipality_code.as_deref(),
            changed: d.last_changed.timestamp(),
        }
    }
}

/// What the index is given for a [`Doc`], owned: its municipality's names and its band.
struct Input<'a> {
    doc: &'a Doc<'a>,
    names: Vec<String>,
    band: Option<Band>,
}

impl Input<'_> {
    fn get(&self) -> IndexInput<'_> {
        IndexInput {
            view: self.doc.view,
            source_id: self.doc.source_id,
            municipality_names: &self.names,
            changed: self.doc.changed,
            quality: self.band.map(Band::key),
        }
    }
}

/// What the index is given for `docs`, their links' results looked up together.
fn inputs<'a>(
    store: &Store,
    directory: &OrganisationDirectory,
    scoring: &Scoring,
    docs: &'a [Doc<'a>],
) -> Vec<Input<'a>> {
    inputs_with(&links_of(store, docs), directory, scoring, docs)
}

/// The results of `docs`' links, one lookup for them all; none (every link unchecked) when no
/// link has been checked or they could not be read.
fn links_of(store: &Store, docs: &[Doc<'_>]) -> LinkTable {
    match store.any_link_checked() {
        Ok(true) => store
            .link_states(
                docs.iter()
                    .flat_map(|d| d.view.link_urls())
                    .map(String::as_str),
            )
            .unwrap_or_default(),
        Ok(false) | Err(_) => LinkTable::default(),
    }
}

/// What the index is given for `docs`, with the link results `links` holds.
fn inputs_with<'a>(
    links: &LinkTable,
    directory: &OrganisationDirectory,
    scoring: &Scoring,
    docs: &'a [Doc<'a>],
) -> Vec<Input<'a>> {
    par_map(docs, |doc| Input {
        doc,
        names: municipality_names(directory, doc.municipality_code),
        band: scoring.band(doc.view, doc.graph, links),
    })
}

/// A stored record read back: its view, and its graph (borrowed from its N-Triples).
struct Read<'a> {
    dataset: &'a StoredDataset,
    view: DatasetView,
    graph: StoredGraph<'a>,
}

/// A stored record read back, or `None` (logged) when its graph does not parse.
fn read_stored(dataset: &StoredDataset) -> Option<Read<'_>> {
    match record::read_stored(&dataset.ntriples) {
        Ok(graph) => Some(Read {
            view: dataset.view_from_refs(&graph.triples()),
            graph,
            dataset,
        }),
        Err(error) => {
            tracing::warn!(id = %dataset.id, %error, "stored graph does not parse; not indexed");
            None
        }
    }
}

/// The shown records of `ids` (one query per thousand), and the ids that have none.
fn shown(
    store: &Store,
    ids: &[String],
) -> Result<(Vec<StoredDataset>, Vec<String>), PipelineError> {
    let found = store.winners(ids)?;
    let have: HashSet<&str> = found.iter().map(|w| w.id.as_str()).collect();
    let none = ids
        .iter()
        .filter(|id| !have.contains(id.as_str()))
        .cloned()
        .collect();
    Ok((found, none))
}

/// `stored` read back on every core; the ids of those whose graph does not parse go to
/// `unparsed`.
fn read<'a>(stored: &'a [StoredDataset], unparsed: &mut Vec<String>) -> Vec<Read<'a>> {
    let read = par_map(stored, read_stored);
    let mut out = Vec::with_capacity(stored.len());
    for (read, d) in read.into_iter().zip(stored) {
        match read {
            Some(read) => out.push(read),
            None => unparsed.push(d.id.clone()),
        }
    }
    out
}

/// Rebuilds the index from the store.
pub fn reindex(
    store: &Store,
    index: &Indexer,
    directory: &OrganisationDirectory,
    scoring: &Scoring,
) -> Result<u64, PipelineError> {
    let seq = store.change_seq()?;
    let mut rebuild = Rebuild {
        // Every link's result, read once rather than looked up part by part.
        links: store.link_table(None)?,
        index,
        directory,
        scoring,
        seq,
        batch: Vec::with_capacity(REBUILD_BATCH),
        first: true,
        indexed: 0,
        bad: 0,
        failed: None,
    };
    store.for_each_dataset_any_order(|d| {
        if rebuild.failed.is_none() {
            rebuild.batch.push(d);
            if rebuild.batch.len() >= REBUILD_BATCH
                && let Err(e) = rebuild.flush()
            {
                rebuild.failed = Some(e);
            }
        }
    })?;
    if let Some(e) = rebuild.failed.take() {
        return Err(e);
    }
    // The last part (or, for an empty store, the only one: it empties the index).
    rebuild.flush()?;
    index.publish()?;
    if rebuild.bad > 0 {
        tracing::warn!(bad = rebuild.bad, "datasets left out of the index");
    }
    Ok(rebuild.indexed)
}

/// Datasets indexed at a time in a rebuild: it holds one part's views in memory, not the
/// corpus's.
const REBUILD_BATCH: usize = 2000;

/// A rebuild of the index from the store, a part at a time, published whole at the end.
struct Rebuild<'a> {
    links: LinkTable,
    index: &'a Indexer,
    directory: &'a OrganisationDirectory,
    scoring: &'a Scoring,
    seq: u64,
    batch: Vec<StoredDataset>,
    first: bool,
    indexed: u64,
    bad: u64,
    failed: Option<PipelineError>,
}

impl Rebuild<'_> {
    /// Stages the datasets read so far.
    fn flush(&mut self) -> Result<(), PipelineError> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(REBUILD_BATCH));
        let mut unparsed = Vec::new();
        let read = read(&batch, &mut unparsed);
        self.bad += unparsed.len() as u64;
        // The graph read for the view serves the quality band's SHACL check too.
        let docs: Vec<Doc<'_>> = read.iter().map(Doc::read).collect();
        self.indexed += self.index.stage_rebuild(
            self.first,
            inputs_with(&self.links, self.directory, self.scoring, &docs)
                .iter()
                .map(Input::get),
            self.seq,
        )?;
        self.first = false;
        drop(docs);
        par_drop(read);
        par_drop(batch);
        Ok(())
    }
}

/// Indexes `ids` as the store shows them now (removed when it shows none), a part at a time,
/// committed together with `seq`; returns how many were indexed.
fn index_as_stored(
    store: &Store,
    index: &Indexer,
    directory: &OrganisationDirectory,
    scoring: &Scoring,
    ids: &[String],
    seq: u64,
) -> Result<u64, PipelineError> {
    let mut indexed = 0;
    let mut staging = index.staging(seq);
    for part in ids.chunks(REBUILD_BATCH) {
        let (found, mut remove) = shown(store, part)?;
        let read = read(&found, &mut remove);
        let docs: Vec<Doc<'_>> = read.iter().map(Doc::read).collect();
        let inputs = inputs(store, directory, scoring, &docs);
        indexed += staging.stage(&remove, inputs.iter().map(Input::get))?;
    }
    drop(staging);
    index.update(&[], std::iter::empty(), seq)?;
    Ok(indexed)
}

/// What [`follow`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Followed {
    /// The sequence number the index had caught up with before (`None`: a new index).
    pub from: Option<u64>,
    /// The one it has caught up with now.
    pub to: u64,
    /// Datasets indexed again or removed, or, after a rebuild, indexed.
    pub datasets: u64,
    /// Whether the index was rebuilt from the store (new, or behind the change log's start).
    pub rebuilt: bool,
}

/// Changes read from the log at a time.
const FOLLOW_BATCH: usize = 10_000;

/// Brings an index that follows a store (a search node's own) up to the store's change log:
/// from the sequence number it last caught up with, each logged dataset is indexed as the
/// store shows it now, a batch of whole transactions per commit. A new index, or one behind
/// where the log starts, is rebuilt from the store.
pub fn follow(
    store: &Store,
    index: &Indexer,
    directory: &OrganisationDirectory,
    scoring: &Scoring,
) -> Result<Followed, PipelineError> {
    let from = index.indexed_seq();
    let log_start = store.change_log_start()?;
    let Some(mut at) = from.filter(|seq| *seq >= log_start) else {
        let to = store.change_seq()?;
        let datasets = reindex(store, index, directory, scoring)?;
        return Ok(Followed {
            from,
            to,
            datasets,
            rebuilt: true,
        });
    };
    // The sequence to reach is read before the changes: a transaction committed after this
    // read is either among the changes read below or left for the next follow, never taken
    // as applied without its changes.
    let target = store.change_seq()?;
    let mut datasets = 0;
    loop {
        let changes = store.changes_since(at, FOLLOW_BATCH)?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            break;
        };
        let ids: BTreeSet<String> = changes.into_iter().map(|c| c.id).collect();
        let ids: Vec<String> = ids.into_iter().collect();
        datasets += ids.len() as u64;
        index_as_stored(store, index, directory, scoring, &ids, last)?;
        at = last;
    }
    // Transactions that changed nothing shown (a removal of what was archived) log nothing;
    // the index has still caught up with them.
    let to = target.max(at);
    if index.indexed_seq() != Some(to) {
        index.update(&[], std::iter::empty(), to)?;
    }
    Ok(Followed {
        from,
        to,
        datasets,
        rebuilt: false,
    })
}

/// The names a dataset of the municipality `code` is found by (official and short).
pub fn municipality_names(directory: &OrganisationDirectory, code: Option<&str>) -> Vec<String> {
    code.and_then(|c| directory.by_code(c))
        .map(|o| vec![o.name.clone(), o.short_name.clone()])
        .unwrap_or_default()
}
