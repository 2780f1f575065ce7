//! The canonical store: one row per dataset and source (its canonical graph as N-Triples,
//! with provenance), the run history, and each source's page memos: in SQLite in the state
//! directory (the embedded default), or in PostgreSQL (`[store] url`), where any number of
//! nodes share it.
//!
//! A dataset reached through several sources has a row per source; the *winner* is the
//! active row of lowest rank (the pipeline ranks: the organisation's own source first, public
//! before private, aggregates last), ties broken by source id, so the result does not depend
//! on the order of harvests. A dataset missing from a complete run is marked missing, archived
//! after the grace period (it leaves search), and removed after the retention period.
//!
//! A run's changes are applied in one transaction, together with its run record, so readers
//! never see half a run. Every applied run bumps a change sequence number; the index records
//! the number it has caught up to, so after a crash the two can be compared and the index
//! rebuilt from here.
//!
//! Both engines run the same transactions: the rules of applying a run are written once
//! (`apply`), each engine giving its statements. Every transaction that changes the shown
//! records appends them to the change log (`changes`), which search nodes follow.
//!
//! Architecture invariant: this crate knows nothing of HTTP, tantivy or axum. Run reports
//! are opaque JSON to it.

use chrono::{DateTime, Utc};
use samla_model::DatasetRecord;
use samla_model::run::{Outcome, RunReport, RunState};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod apply;
mod links;
mod pg;
mod pg_tls;
mod sqlite;
mod staged;

pub use links::{LinkSet, LinkTable};
pub use staged::Records;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// PostgreSQL failed.
    #[error("store {url}: {}", pg_message(source))]
    Postgres {
        /// The database's address, without its password.
        url: String,
        /// The cause.
        #[source]
        source: ::postgres::Error,
    },
    /// No PostgreSQL connection could be had.
    #[error("store {url}: no connection: {source}")]
    PostgresPool {
        /// The database's address, without its password.
        url: String,
        /// The cause.
        #[source]
        source: r2d2::Error,
    },
    /// A stored value does not read as what it holds.
    #[error("store {at}: {what}")]
    Corrupt {
        /// The database.
        at: String,
        /// What does not read.
        what: String,
    },
    /// No read connection could be had.
    #[error("store {path}: no read connection: {source}")]
    Pool {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: r2d2::Error,
    },
    /// A run report could not be written as JSON.
    #[error("run report: {0}")]
    Report(#[source] serde_json::Error),
    /// The PostgreSQL address's TLS settings cannot be used.
    #[error("store {url}: {what}")]
    Tls {
        /// The database's address, without its password.
        url: String,
        /// What is wrong.
        what: String,
    },
    /// A run's records could not be staged on disk, or read back.
    #[error("staging a run's records on disk: {0}")]
    Staging(#[source] std::io::Error),
    /// The state directory could not be made.
    #[error("cannot create state directory {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// What PostgreSQL said (its own message, where the client's is only "db error"), or what
/// the client met, with its causes ("error performing TLS handshake: certificate verify
/// failed …").
fn pg_message(error: &::postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return db.to_string();
    }
    samla_model::run::error_chain(error)
}

/// How long a dataset missing from complete runs is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Missing this long, it is archived (out of search, still in the source's report).
    pub archive_after: chrono::Duration,
    /// Archived this long, it is removed.
    pub remove_after: chrono::Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            archive_after: chrono::Duration::hours(72),
            remove_after: chrono::Duration::days(30),
        }
    }
}

/// A stored dataset with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredDataset {
    /// Identity.
    pub id: String,
    /// Dataset IRI.
    pub iri: String,
    /// Source id.
    pub source_id: String,
    /// The page it was read from.
    pub source_url: String,
    /// The subject as published.
    pub original_subject: String,
    /// Kommunkod of the publisher's organisation.
    pub municipality_code: Option<String>,
    /// Content hash.
    pub hash: String,
    /// The canonical graph, N-Triples.
    #[serde(skip)]
    pub ntriples: String,
    /// First harvested.
    pub first_seen: DateTime<Utc>,
    /// Last changed.
    pub last_changed: DateTime<Utc>,
    /// End of the source's last run that read something.
    pub last_harvested: Option<DateTime<Utc>>,
    /// Precedence among the sources of the same dataset (lower wins).
    pub rank: i64,
    /// Since when complete runs of the source have not listed it.
    pub missing_since: Option<DateTime<Utc>>,
    /// When it was archived.
    pub archived_at: Option<DateTime<Utc>>,
}

impl StoredDataset {
    /// Its view, derived from `triples`: its canonical graph, read back.
    pub fn view_from(&self, triples: &[oxrdf::Triple]) -> samla_model::DatasetView {
        samla_model::DatasetView::from_triples(
            &samla_model::DatasetId(self.id.clone()),
            &self.iri,
            triples,
            self.municipality_code.clone(),
        )
    }

    /// [`StoredDataset::view_from`] over borrowed triples.
    pub fn view_from_refs(&self, triples: &[oxrdf::TripleRef<'_>]) -> samla_model::DatasetView {
        samla_model::DatasetView::from_triple_refs(
            &samla_model::DatasetId(self.id.clone()),
            &self.iri,
            triples,
            self.municipality_code.clone(),
        )
    }
}

/// A run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRun {
    /// Run id.
    pub id: i64,
    /// Source id.
    pub source_id: String,
    /// Start.
    pub started: DateTime<Utc>,
    /// End.
    pub finished: DateTime<Utc>,
    /// Running, or how it ended.
    pub outcome: RunState,
    /// Datasets new in this run.
    pub new: u64,
    /// Datasets changed.
    pub changed: u64,
    /// Datasets unchanged.
    pub unchanged: u64,
    /// Datasets archived by this run.
    pub archived: u64,
    /// The run report (empty while the run is going).
    pub report: RunReport,
}

/// What a run did to the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// New datasets.
    pub new: u64,
    /// Changed datasets.
    pub changed: u64,
    /// Unchanged datasets.
    pub unchanged: u64,
    /// Datasets newly missing from this complete run (archived after the grace period).
    pub missing: u64,
    /// Datasets archived.
    pub archived: u64,
    /// Archived datasets the run found again.
    pub restored: u64,
    /// Archived datasets removed after the retention period.
    pub removed: u64,
    /// The change sequence number after the transaction that applied the run.
    pub seq: u64,
    /// The run id.
    pub run_id: i64,
}

/// The run to record with its records.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// The id reserved with [`Store::begin_run`], if any (else a new one).
    pub id: Option<i64>,
    /// Records the run saw unchanged and did not pass on.
    pub unchanged_elsewhere: u64,
    /// The run's report: its source, start, end and outcome are the run's.
    pub report: RunReport,
}

/// One entry of the change log (see [`Store::changes_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The store's change sequence number of the transaction.
    pub seq: u64,
    /// The dataset.
    pub id: String,
    /// Whether the dataset is no longer shown (else its shown record was written).
    pub removed: bool,
}

/// What the store is at: see [`Store::version`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreVersion {
    /// The change sequence number.
    pub change_seq: u64,
    /// The newest run's id (0 before any).
    pub runs: u64,
    /// When the last run ended.
    pub last_run: Option<DateTime<Utc>>,
    /// Bumped by every change to link results, logged searches, data requests and
    /// snapshots (what the reports read besides records and runs).
    pub facts: u64,
}

/// A finished run to apply: its changed records with their rank, the run, what it saw and
/// what it learnt about its pages.
#[derive(Debug)]
pub struct RunInput {
    /// Records new or changed, each with its rank among the dataset's sources.
    pub records: Records,
    /// The run.
    pub run: RunRow,
    /// For a complete, successful run: every dataset id it listed (changed or not). Datasets
    /// of the source not in it are missing. `None` for any other run: nothing goes missing.
    pub seen: Option<Vec<String>>,
    /// The source's page memos (JSON) to keep for its next run; `None` keeps the old ones.
    pub pages: Option<String>,
}

/// What applying a group of runs did.
#[derive(Debug, Default)]
pub struct GroupApplied {
    /// Per run: what it did, and its records that were written.
    pub runs: Vec<(Applied, Vec<DatasetRecord>)>,
    /// Ids whose winner must be looked up (held by several sources, archived or restored, or
    /// written from records staged on disk, which carry no view):
    /// the index must show each one's [`Store::winner`], or nothing if it has none. A
    /// written record whose id is not here is its dataset's only active record: the winner.
    pub lookups: Vec<String>,
    /// Whether anything changed (the change sequence was bumped).
    pub changed: bool,
}

/// The columns of a [`StoredDataset`] and the tables they come from (`d`: the row), for
/// both engines; last harvested is the end of the source's last run that read something,
/// aggregated once per query rather than looked up for each row.
pub(crate) fn dataset_select() -> &'static str {
    static SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT d.id, d.iri, d.source_id, d.source_url, d.original_subject, d.municipality_code, d.hash, d.graph_lz4, d.first_seen, d.last_changed,
                    h.last, d.rank, d.missing_since, d.archived_at
             FROM records d LEFT JOIN (SELECT source_id, max(finished) AS last FROM runs
                 WHERE outcome IN ({}) GROUP BY source_id) h ON h.source_id = d.source_id",
            sql_list(RunState::READ_SOMETHING)
        )
    });
    &SELECT
}

/// Run states as an SQL list: `'success', 'unchanged'`.
fn sql_list(states: &[RunState]) -> String {
    states
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rank of a record among the rows of its dataset (lower is shown first): the publisher's
/// own source first, public organisations before private ones, aggregates last. The row shown
/// is the active row of lowest rank, ties broken by source id (the store's winner query), so which row is
/// shown depends on the rows alone, never on the order runs were applied.
pub fn rank(aggregate: bool, own_publisher: bool, private: bool) -> i64 {
    i64::from(aggregate) * 4 + i64::from(!own_publisher) * 2 + i64::from(private)
}

/// Active rows that no other active row of the same id outranks.
pub(crate) const WINNERS: &str = "d.archived_at IS NULL AND NOT EXISTS (SELECT 1 FROM records o WHERE o.id = d.id AND o.archived_at IS NULL
    AND (o.rank < d.rank OR (o.rank = d.rank AND o.source_id < d.source_id)))";

pub(crate) const RUN_COLUMNS: &str =
    "id, source_id, started, finished, outcome, new, changed, unchanged, report, archived";

/// The canonical graph is stored LZ4-compressed (N-Triples repeat their IRIs: a third of the
/// bytes to write, and most rows fit a page).
pub(crate) fn compress(ntriples: &str) -> Vec<u8> {
    lz4_flex::compress_prepend_size(ntriples.as_bytes())
}

/// The stored graph as text.
pub(crate) fn decompress(bytes: &[u8]) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let raw = lz4_flex::decompress_size_prepended(bytes)?;
    Ok(String::from_utf8(raw)?)
}

/// A link-check result as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRow {
    /// The URL.
    pub url: String,
    /// 2xx or 3xx.
    pub ok: bool,
    /// Final status, if any.
    pub status: Option<u16>,
    /// Failure without a status.
    pub error: Option<String>,
    /// Duration of the check.
    pub elapsed_ms: u64,
    /// When.
    pub checked_at: DateTime<Utc>,
}

/// One logged search: the normalised query, the filters, the result count and the time; no
/// IP address or other personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedSearch {
    /// When.
    pub at: DateTime<Utc>,
    /// The normalised query text (`""` for a browse without text).
    pub query: String,
    /// The filters as (name, value) pairs.
    pub filters: Vec<(String, String)>,
    /// Hits.
    pub total: u64,
    /// Who searched, unlinkably: a hash of the client under a salt that changes every day
    /// and is then forgotten (`""` when not known). Counts a search once per client and day.
    #[serde(default)]
    pub visitor: String,
    /// What the results are mostly about, as (dimension, value): the themes and
    /// specifications of at least half the hits.
    #[serde(default)]
    pub about: Vec<(String, String)>,
}

/// A stored data request, as the validated JSON the API accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRequest {
    /// Its id.
    pub id: i64,
    /// When it was filed.
    pub at: DateTime<Utc>,
    /// The request as accepted.
    pub request: serde_json::Value,
}

/// How a process uses a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// It harvests into it: the store is created or migrated, and runs a stopped process left
    /// running are marked interrupted.
    Own,
    /// It reads beside a harvester, and writes what a search node writes (searches, data
    /// requests): nothing is created or marked.
    Beside,
    /// It only reads (a `samla report` beside a serving samla): every write fails.
    ReadOnly,
}

/// Holds a source for one harvester: while it is held, no other node starts a run of the
/// source. It is let go when dropped, or when its process ends however it ends.
#[derive(Debug)]
pub struct SourceLock {
    _held: Option<pg::Held>,
}

enum Engine {
    Sqlite(sqlite::Sqlite),
    Postgres(pg::Postgres),
}

/// The canonical store, on either engine.
pub struct Store {
    engine: Engine,
    retention: Retention,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.engine {
            Engine::Sqlite(s) => s.fmt(f),
            Engine::Postgres(p) => p.fmt(f),
        }
    }
}

/// Records read at a time by [`Store::for_each_dataset`].
const READ_PART: usize = 1000;

/// Calls the same method on whichever engine the store has.
macro_rules! on_engine {
    ($self:ident, $e:ident => $call:expr) => {
        match &$self.engine {
            Engine::Sqlite($e) => $call,
            Engine::Postgres($e) => $call,
        }
    };
}

impl Store {
    /// Opens (or creates) the SQLite store in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        Self::open_at(state_dir, Access::Own)
    }

    /// Opens the SQLite store in `state_dir` for `access`.
    pub fn open_at(state_dir: &Path, access: Access) -> Result<Self, StoreError> {
        let engine = match access {
            Access::Own => sqlite::Sqlite::open(state_dir)?,
            Access::Beside => sqlite::Sqlite::open_existing(state_dir, true)?,
            Access::ReadOnly => sqlite::Sqlite::open_existing(state_dir, false)?,
        };
        Ok(Self {
            engine: Engine::Sqlite(engine),
            retention: Retention::default(),
        })
    }

    /// Connects to the PostgreSQL store at `url` (`postgres://user:password@host/db`) for
    /// `access`; with [`Access::Own`] its schema is brought up to this version (the
    /// migrations in `store/migrations`, one node at a time).
    pub fn connect(url: &str, access: Access) -> Result<Self, StoreError> {
        Ok(Self {
            engine: Engine::Postgres(pg::Postgres::connect(url, access)?),
            retention: Retention::default(),
        })
    }

    /// The same store with another retention policy.
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Which engine holds the store: `"sqlite"` or `"postgres"`.
    pub fn engine(&self) -> &'static str {
        match &self.engine {
            Engine::Sqlite(_) => "sqlite",
            Engine::Postgres(_) => "postgres",
        }
    }

    /// Takes `source_id` for a run of this node if no other node holds it (`None` if one
    /// does). With PostgreSQL it is an advisory lock on a connection of its own, let go when
    /// the lock is dropped or the process ends; runs of the source a crashed node left running
    /// are then marked interrupted. SQLite has one harvester: it always has the source.
    pub fn lock_source(&self, source_id: &str) -> Result<Option<SourceLock>, StoreError> {
        match &self.engine {
            Engine::Sqlite(_) => Ok(Some(SourceLock { _held: None })),
            Engine::Postgres(p) => Ok(p
                .lock_source(source_id)?
                .map(|held| SourceLock { _held: Some(held) })),
        }
    }

    /// How many datasets a source holds that are not archived.
    pub fn active_count(&self, source_id: &str) -> Result<u64, StoreError> {
        on_engine!(self, e => e.active_count(source_id))
    }

    /// The content hash of every dataset of a source, by id.
    pub fn hashes_for_source(
        &self,
        source_id: &str,
    ) -> Result<HashMap<String, String>, StoreError> {
        on_engine!(self, e => e.hashes_for_source(source_id))
    }

    /// Applies runs in one transaction: writes the records whose hash changed, marks,
    /// archives and removes what complete runs no longer list, keeps page memos, records each
    /// run, and bumps the change sequence once if anything changed.
    pub fn apply_runs(&self, runs: Vec<RunInput>) -> Result<GroupApplied, StoreError> {
        on_engine!(self, e => e.apply_runs(runs, self.retention))
    }

    /// Records a run as started (outcome `running`) and returns its id; the run's
    /// [`RunRow::id`] then completes the same row.
    pub fn begin_run(&self, source_id: &str, started: DateTime<Utc>) -> Result<i64, StoreError> {
        on_engine!(self, e => e.begin_run(source_id, started))
    }

    /// Closes a reserved run that ended without being applied (a stuck run the watchdog
    /// aborted, or one the pipeline failed to apply), with `outcome` and a one-line reason.
    pub fn end_run(
        &self,
        id: i64,
        source_id: &str,
        outcome: Outcome,
        reason: &str,
    ) -> Result<(), StoreError> {
        let report = RunReport::ended(source_id, outcome, reason, Utc::now());
        let report_json = serde_json::to_string(&report).map_err(StoreError::Report)?;
        on_engine!(self, e => e.end_run(id, outcome, report.finished, &report_json))
    }

    /// The page memos (JSON) the source's last run kept.
    pub fn page_memos(&self, source_id: &str) -> Result<Option<String>, StoreError> {
        on_engine!(self, e => e.page_memos(source_id))
    }

    /// What the shown records, the runs and the reports' other facts are at: anything an
    /// export, a CKAN answer or a report shows changes it.
    pub fn version(&self) -> Result<StoreVersion, StoreError> {
        on_engine!(self, e => e.version())
    }

    /// The change log after sequence number `after`, oldest first, at most `limit` entries
    /// (whole transactions: the last sequence number given is complete, unless one
    /// transaction alone is over the limit: it is then given whole). Each names a dataset
    /// whose shown record was written (or, `removed`, is no longer shown) by the transaction
    /// that made that sequence number; a follower applies them in order.
    pub fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        // One more than asked, to tell whether the last transaction is whole.
        let mut changes = on_engine!(self, e => e.changes_after(after, limit.saturating_add(1)))?;
        if changes.len() > limit
            && let Some(last) = changes.pop()
        {
            match changes.iter().rposition(|c| c.seq != last.seq) {
                Some(at) => changes.truncate(at + 1),
                None => return on_engine!(self, e => e.changes_of(last.seq)),
            }
        }
        Ok(changes)
    }

    /// The sequence number the change log starts after: a store written before it was kept
    /// has changes only after this one (0 for a store that always kept it).
    pub fn change_log_start(&self) -> Result<u64, StoreError> {
        on_engine!(self, e => e.change_log_start())
    }

    /// Drops the change log of transactions made before `before`: a search node behind them
    /// rebuilds its index from the store. Returns the sequence number the log now starts
    /// after.
    pub fn prune_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        on_engine!(self, e => e.prune_changes(before))
    }

    /// The change sequence number: bumped by every run that changed something.
    pub fn change_seq(&self) -> Result<u64, StoreError> {
        on_engine!(self, e => e.change_seq())
    }

    /// The record a dataset is shown as: its winning active row, if it has one.
    pub fn winner(&self, id: &str) -> Result<Option<StoredDataset>, StoreError> {
        on_engine!(self, e => e.winner(id))
    }

    /// The shown record of each of `ids` that has one, in no particular order: what
    /// [`Store::winner`] gives, for many ids at once.
    pub fn winners(&self, ids: &[String]) -> Result<Vec<StoredDataset>, StoreError> {
        on_engine!(self, e => e.winners(ids))
    }

    /// Every row of a dataset, one per source, the winner first, archived rows last.
    pub fn provenance(&self, id: &str) -> Result<Vec<StoredDataset>, StoreError> {
        on_engine!(self, e => e.provenance(id))
    }

    /// A source's archived datasets, most recently archived first.
    pub fn archived(&self, source_id: &str) -> Result<Vec<StoredDataset>, StoreError> {
        on_engine!(self, e => e.archived(source_id))
    }

    /// Calls `f` with every dataset's winning record, in id order. The records are read a
    /// part at a time on a thread of their own while `f` takes the part before: reading and
    /// what `f` does overlap, and memory holds two parts whatever the number of datasets.
    pub fn for_each_dataset(&self, f: impl FnMut(StoredDataset)) -> Result<u64, StoreError> {
        self.each_dataset(true, f)
    }

    /// [`Store::for_each_dataset`] in the order the engine reads fastest (for rebuilding the
    /// index, whose searches order nothing by the order documents were added). PostgreSQL
    /// then gives the winners as its join finds them, after hashing the records' keys; in id
    /// order it also sorted every row, graphs and all, on disk past `work_mem`, before the
    /// first (2 s at 200 000 datasets, while a new search node had nothing to index). SQLite
    /// reads id order either way, from its primary key.
    pub fn for_each_dataset_any_order(
        &self,
        f: impl FnMut(StoredDataset),
    ) -> Result<u64, StoreError> {
        self.each_dataset(false, f)
    }

    fn each_dataset(
        &self,
        by_id: bool,
        mut f: impl FnMut(StoredDataset),
    ) -> Result<u64, StoreError> {
        let (send, parts) = std::sync::mpsc::sync_channel::<Vec<StoredDataset>>(2);
        std::thread::scope(|s| {
            let reader = s.spawn(move || {
                let mut part = Vec::with_capacity(READ_PART);
                let read = on_engine!(self, e => e.for_each_dataset(by_id, |d| {
                    part.push(d);
                    if part.len() == READ_PART {
                        let full = std::mem::replace(&mut part, Vec::with_capacity(READ_PART));
                        // A receiver gone has stopped taking them: the rest is not wanted.
                        let _ = send.send(full);
                    }
                }));
                if !part.is_empty() {
                    let _ = send.send(part);
                }
                read
            });
            let mut n = 0;
            for part in parts {
                for dataset in part {
                    f(dataset);
                    n += 1;
                }
            }
            match reader.join() {
                Ok(read) => read.map(|_| n),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Active (not archived) dataset counts by source, duplicates counted at every source.
    pub fn dataset_counts(&self) -> Result<HashMap<String, u64>, StoreError> {
        on_engine!(self, e => e.dataset_counts())
    }

    /// Runs in the kept history by source and state.
    pub fn run_counts(&self) -> Result<Vec<(String, RunState, u64)>, StoreError> {
        on_engine!(self, e => e.run_counts())
    }

    /// The latest run of every source, by source id.
    pub fn last_runs(&self) -> Result<HashMap<String, StoredRun>, StoreError> {
        on_engine!(self, e => e.last_runs())
    }

    /// The runs of a source, newest first.
    pub fn runs(&self, source_id: &str, limit: u32) -> Result<Vec<StoredRun>, StoreError> {
        on_engine!(self, e => e.runs(source_id, limit))
    }

    /// Stores link-check results, replacing earlier ones for the same URLs.
    pub fn record_links(&self, rows: &[LinkRow]) -> Result<(), StoreError> {
        on_engine!(self, e => e.record_links(rows))
    }

    /// Whether any link has been checked.
    pub fn any_link_checked(&self) -> Result<bool, StoreError> {
        on_engine!(self, e => e.any_link_checked())
    }

    /// The stored results of those of `urls` that were checked, by URL.
    pub fn link_rows<'a>(
        &self,
        urls: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, LinkRow>, StoreError> {
        Ok(self
            .looked_up(urls)?
            .into_iter()
            .map(|r| (r.url.clone(), r))
            .collect())
    }

    /// Whether each of `urls` answered at its last check, failed, or was not checked yet: one
    /// lookup for them all (a part's links).
    pub fn link_states<'a>(
        &self,
        urls: impl IntoIterator<Item = &'a str>,
    ) -> Result<LinkTable, StoreError> {
        Ok(self
            .looked_up(urls)?
            .into_iter()
            .map(|r| (r.url, r.ok))
            .collect())
    }

    /// The rows of those of `urls` that were checked, each URL looked up once.
    fn looked_up<'a>(
        &self,
        urls: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<LinkRow>, StoreError> {
        let mut urls: Vec<&str> = urls.into_iter().collect();
        urls.sort_unstable();
        urls.dedup();
        on_engine!(self, e => e.link_rows(&urls))
    }

    /// Every link checked at or after `since` (every checked link if `None`) with whether it
    /// answered, read a part at a time into 16 bytes a link: what scoring every dataset's
    /// quality needs, in memory that stays small beside the links' rows.
    pub fn link_table(&self, since: Option<DateTime<Utc>>) -> Result<LinkTable, StoreError> {
        let mut table = LinkTable::default();
        on_engine!(self, e => e.for_each_link_state(|url, ok, checked_at| {
            if since.is_none_or(|since| checked_at >= since) {
                table.push(url, ok);
            }
        }))?;
        Ok(table.sorted())
    }

    /// Logs searches (a batch in one transaction).
    pub fn log_searches(&self, searches: &[LoggedSearch]) -> Result<(), StoreError> {
        on_engine!(self, e => e.log_searches(searches))
    }

    /// Logged searches since `since`, oldest first.
    pub fn searches_since(&self, since: DateTime<Utc>) -> Result<Vec<LoggedSearch>, StoreError> {
        on_engine!(self, e => e.searches_since(since))
    }

    /// Drops logged searches older than `before`; returns how many.
    pub fn prune_searches(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        on_engine!(self, e => e.prune_searches(before))
    }

    /// Stores a data request; returns its id.
    pub fn add_request(
        &self,
        at: DateTime<Utc>,
        request: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        on_engine!(self, e => e.add_request(at, request))
    }

    /// Data requests since `since`, newest first.
    pub fn requests_since(&self, since: DateTime<Utc>) -> Result<Vec<StoredRequest>, StoreError> {
        on_engine!(self, e => e.requests(since, None))
    }

    /// The data request numbered `id`, if filed.
    pub fn request(&self, id: i64) -> Result<Option<StoredRequest>, StoreError> {
        let found = on_engine!(self, e => e.requests(DateTime::<Utc>::UNIX_EPOCH, Some(id)))?;
        Ok(found.into_iter().next())
    }

    /// Keeps `body` as the snapshot of `kind` for `day` (`YYYY-MM-DD`), replacing the day's
    /// earlier one.
    pub fn put_snapshot(&self, day: &str, kind: &str, body: &str) -> Result<(), StoreError> {
        on_engine!(self, e => e.put_snapshot(day, kind, body))
    }

    /// The snapshots of `kind`, oldest day first.
    pub fn snapshots(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        on_engine!(self, e => e.snapshots(kind))
    }

    /// Writes the entry `(kind, key)`: a small keyed document (a saved search, a delivery
    /// made). With `replace` false it is written only if there is none yet, so two writers
    /// racing for one key write it once. Returns whether it was written.
    pub fn put_entry(
        &self,
        kind: &str,
        key: &str,
        body: &str,
        replace: bool,
    ) -> Result<bool, StoreError> {
        on_engine!(self, e => e.put_entry(kind, key, body, replace))
    }

    /// The entry `(kind, key)`, if any.
    pub fn entry(&self, kind: &str, key: &str) -> Result<Option<String>, StoreError> {
        on_engine!(self, e => e.entry(kind, key))
    }

    /// The entries of `kind` whose key starts with `prefix` (`""` for all), by key.
    pub fn entries(&self, kind: &str, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        on_engine!(self, e => e.entries(kind, prefix))
    }

    /// Replaces the entry `(kind, key)` by what `change` makes of the one there (`None`: no
    /// entry), in one transaction, so two writers of one entry do not undo each other;
    /// `change` returning `None` writes nothing. Returns whether it was written.
    pub fn update_entry(
        &self,
        kind: &str,
        key: &str,
        mut change: impl FnMut(Option<String>) -> Option<String> + Send,
    ) -> Result<bool, StoreError> {
        on_engine!(self, e => e.update_entry(kind, key, &mut change))
    }

    /// Removes the entry `(kind, key)`; returns whether there was one.
    pub fn remove_entry(&self, kind: &str, key: &str) -> Result<bool, StoreError> {
        on_engine!(self, e => e.remove_entry(kind, key))
    }
}
