//! The canonical store: one row per dataset and source (its canonical graph as N-Triples,
//! with provenance), the run history, and each source's page memos, in SQLite in the state
//! directory.
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
//! Architecture invariant: this crate knows nothing of HTTP, tantivy or axum. Run reports
//! are opaque JSON to it.

use chrono::{DateTime, Utc};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use samla_model::DatasetRecord;
use samla_model::run::{Outcome, RunReport, RunState};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

mod reports;
pub use reports::{LinkRow, LoggedSearch, StoredRequest};

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

/// A counter kept in `meta` (0 when it is not there yet).
fn meta(conn: &Connection, key: &str) -> rusqlite::Result<u64> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .map(Option::unwrap_or_default)
}

fn row_to_change(r: &rusqlite::Row<'_>) -> rusqlite::Result<Change> {
    Ok(Change {
        seq: r.get(0)?,
        id: r.get(1)?,
        removed: r.get(2)?,
    })
}

/// Appends what a transaction did to the shown records to the change log: each touched
/// dataset, upserted if it still has an active row, else removed.
fn log_changes<'a>(
    tx: &rusqlite::Transaction<'_>,
    seq: u64,
    touched: impl Iterator<Item = &'a str>,
) -> rusqlite::Result<()> {
    let mut shown = tx.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM records WHERE id = ?1 AND archived_at IS NULL)",
    )?;
    let mut log =
        tx.prepare_cached("INSERT OR REPLACE INTO changes (seq, id, removed) VALUES (?1, ?2, ?3)")?;
    for id in touched {
        let shown: bool = shown.query_row([id], |r| r.get(0))?;
        log.execute(params![seq, id, !shown])?;
    }
    Ok(())
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
#[derive(Debug, Clone)]
pub struct RunInput {
    /// Records new or changed, each with its rank among the dataset's sources.
    pub records: Vec<(DatasetRecord, i64)>,
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
    /// Ids whose winner must be looked up (held by several sources, archived or restored):
    /// the index must show each one's [`Store::winner`], or nothing if it has none. A
    /// written record whose id is not here is its dataset's only active record: the winner.
    pub lookups: Vec<String>,
    /// Whether anything changed (the change sequence was bumped).
    pub changed: bool,
}

/// The canonical store: one writer connection, and a pool of read connections that read
/// while it writes (SQLite's write-ahead log gives each read the last committed state).
pub struct Store {
    writer: Mutex<Connection>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    path: PathBuf,
    retention: Retention,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// Read connections at most: requests, reports and the harvest's lookups each take one for a
/// call; more wait for one to come back.
const READERS: u32 = 8;

/// The read pool of the database at `path`: read-only connections, opened as needed.
fn read_pool(path: &Path) -> Result<r2d2::Pool<SqliteConnectionManager>, r2d2::Error> {
    let manager = SqliteConnectionManager::file(path)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_init(|c| c.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA cache_size = -16384;"));
    r2d2::Pool::builder()
        .max_size(READERS)
        .min_idle(Some(1))
        .connection_timeout(std::time::Duration::from_secs(30))
        .build(manager)
}

/// The pause between a commit and the checkpoint after it: the commits meanwhile are
/// checkpointed together.
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// Checkpoints the write-ahead log of `conn`'s database after its commits, on a thread of its
/// own with a connection of its own: SQLite's automatic checkpoint runs in the connection that
/// commits, and copying a large transaction back into the database (tens of megabytes after a
/// big source) would hold up the harvest's apply. A passive checkpoint blocks neither writers
/// nor readers. The thread ends with `conn`.
fn checkpoint_in_background(conn: &Connection, path: &Path) -> Result<(), String> {
    let checkpointer = Connection::open(path).map_err(|e| e.to_string())?;
    // One wake-up waits at most: commits while a checkpoint runs ask for one more.
    let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("store-checkpoint".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                std::thread::sleep(CHECKPOINT_PAUSE);
                let checkpoint =
                    checkpointer
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
                if let Err(error) = checkpoint {
                    tracing::warn!(path = %path.display(), %error, "checkpoint failed");
                }
            }
        })
        .map_err(|e| e.to_string())?;
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")
        .map_err(|e| e.to_string())?;
    conn.commit_hook(Some(move || {
        let _ = wake.try_send(());
        false // go on with the commit
    }));
    Ok(())
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS records (
    id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    iri TEXT NOT NULL,
    source_url TEXT NOT NULL,
    original_subject TEXT NOT NULL,
    municipality_code TEXT,
    hash TEXT NOT NULL,
    graph_lz4 BLOB NOT NULL,
    first_seen TEXT NOT NULL,
    last_changed TEXT NOT NULL,
    rank INTEGER NOT NULL DEFAULT 0,
    missing_since TEXT,
    archived_at TEXT,
    PRIMARY KEY (id, source_id)
);
CREATE INDEX IF NOT EXISTS records_source ON records(source_id);
CREATE INDEX IF NOT EXISTS records_marked ON records(source_id)
    WHERE missing_since IS NOT NULL OR archived_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS pages (source_id TEXT PRIMARY KEY, memos TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    outcome TEXT NOT NULL,
    new INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_source ON runs(source_id, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('change_seq', 0);
INSERT OR IGNORE INTO meta(key, value) VALUES ('facts_seq', 0);
INSERT OR IGNORE INTO meta(key, value)
    SELECT 'log_start', value FROM meta WHERE key = 'change_seq';
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    removed INTEGER NOT NULL,
    PRIMARY KEY (seq, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS change_times (seq INTEGER PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS links (
    url TEXT PRIMARY KEY,
    ok INTEGER NOT NULL,
    status INTEGER,
    error TEXT,
    elapsed_ms INTEGER NOT NULL,
    checked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    query TEXT NOT NULL,
    filters TEXT NOT NULL,
    total INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS searches_at ON searches(at);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    request TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (day, kind)
);
";

/// The columns of a [`StoredDataset`]; last harvested is the end of the source's last run that
/// read something.
fn dataset_columns() -> &'static str {
    static COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "d.id, d.iri, d.source_id, d.source_url, d.original_subject, d.municipality_code, d.hash, d.graph_lz4, d.first_seen, d.last_changed,
    (SELECT max(r.finished) FROM runs r WHERE r.source_id = d.source_id AND r.outcome IN ({})),
    d.rank, d.missing_since, d.archived_at",
            sql_list(RunState::READ_SOMETHING)
        )
    });
    &COLUMNS
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
const WINNERS: &str = "d.archived_at IS NULL AND NOT EXISTS (SELECT 1 FROM records o WHERE o.id = d.id AND o.archived_at IS NULL
    AND (o.rank < d.rank OR (o.rank = d.rank AND o.source_id < d.source_id)))";

const RUN_COLUMNS: &str =
    "id, source_id, started, finished, outcome, new, changed, unchanged, report, archived";

/// The canonical graph is stored LZ4-compressed (N-Triples repeat their IRIs: a third of the
/// bytes to write, and most rows fit a page).
fn decompress(bytes: &[u8]) -> rusqlite::Result<String> {
    let conversion = |e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Blob, e)
    };
    let raw = lz4_flex::decompress_size_prepended(bytes).map_err(|e| conversion(Box::new(e)))?;
    String::from_utf8(raw).map_err(|e| conversion(Box::new(e)))
}

fn row_to_dataset(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredDataset> {
    Ok(StoredDataset {
        id: row.get(0)?,
        iri: row.get(1)?,
        source_id: row.get(2)?,
        source_url: row.get(3)?,
        original_subject: row.get(4)?,
        municipality_code: row.get(5)?,
        hash: row.get(6)?,
        ntriples: decompress(&row.get::<_, Vec<u8>>(7)?)?,
        first_seen: row.get(8)?,
        last_changed: row.get(9)?,
        last_harvested: row.get(10)?,
        rank: row.get(11)?,
        missing_since: row.get(12)?,
        archived_at: row.get(13)?,
    })
}

/// A text column that does not read as what it holds.
fn text_conversion(
    column: usize,
    e: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e))
}

/// The run state in `column`.
fn run_state(row: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<RunState> {
    row.get::<_, String>(column)?
        .parse()
        .map_err(|e| text_conversion(column, e))
}

fn row_to_run(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRun> {
    let report: String = row.get(8)?;
    Ok(StoredRun {
        id: row.get(0)?,
        source_id: row.get(1)?,
        started: row.get(2)?,
        finished: row.get(3)?,
        outcome: run_state(row, 4)?,
        new: row.get(5)?,
        changed: row.get(6)?,
        unchanged: row.get(7)?,
        archived: row.get(9)?,
        report: serde_json::from_str(&report).map_err(|e| text_conversion(8, e))?,
    })
}

impl Store {
    /// Opens (or creates) the store in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(state_dir).map_err(|source| StoreError::Dir {
            path: state_dir.into(),
            source,
        })?;
        let path = state_dir.join("samla.sqlite");
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 16384; PRAGMA temp_store = MEMORY;",
        )
        .map_err(err)?;
        if let Err(error) = checkpoint_in_background(&conn, &path) {
            tracing::warn!(path = %path.display(), %error, "no checkpoint thread; checkpoints run on commit");
        }
        conn.execute_batch(SCHEMA).map_err(err)?;
        migrate(&conn).map_err(err)?;
        // Runs still marked running were cut short by a stop of the process.
        conn.execute(
            "UPDATE runs SET outcome = ?1 WHERE outcome = ?2",
            [RunState::Interrupted.as_str(), RunState::Running.as_str()],
        )
        .map_err(err)?;
        Self::with_writer(conn, path)
    }

    /// Opens the store in `state_dir` that another process (the harvester) opened and keeps:
    /// reads and the small writes of a search node (searches, data requests) only; nothing is
    /// created, migrated or marked as interrupted.
    pub fn open_beside(state_dir: &Path) -> Result<Self, StoreError> {
        Self::open_existing(state_dir, true)
    }

    /// Opens the store in `state_dir` to read only, beside a process that writes it (a
    /// `samla report` beside a serving samla): nothing is created, migrated or marked, and
    /// every write fails.
    pub fn open_read_only(state_dir: &Path) -> Result<Self, StoreError> {
        Self::open_existing(state_dir, false)
    }

    fn open_existing(state_dir: &Path, writable: bool) -> Result<Self, StoreError> {
        let path = state_dir.join("samla.sqlite");
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        if !path.exists() {
            return Err(StoreError::Dir {
                path: state_dir.into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no store here yet: start the harvester first",
                ),
            });
        }
        let mode = if writable {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        };
        let conn = Connection::open_with_flags(&path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(err)?;
        conn.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;")
            .map_err(err)?;
        Self::with_writer(conn, path)
    }

    /// The store of the database at `path`, written through `writer`.
    fn with_writer(writer: Connection, path: PathBuf) -> Result<Self, StoreError> {
        let readers = read_pool(&path).map_err(|source| StoreError::Pool {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            writer: Mutex::new(writer),
            readers,
            path,
            retention: Retention::default(),
        })
    }

    /// The same store with another retention policy.
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The one writer connection: writes queue for it, reads never wait for it.
    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A poisoned lock only means another thread panicked mid-call; SQLite's own
        // transactions keep the data consistent, so the connection is still usable.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A read connection from the pool: it reads the last committed state (WAL), beside the
    /// writer and the other readers.
    fn reader(&self) -> Result<r2d2::PooledConnection<SqliteConnectionManager>, StoreError> {
        self.readers.get().map_err(|source| StoreError::Pool {
            path: self.path.clone(),
            source,
        })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// How many datasets a source holds that are not archived.
    pub fn active_count(&self, source_id: &str) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT count(*) FROM records WHERE source_id = ?1 AND archived_at IS NULL",
        )
        .and_then(|mut stmt| stmt.query_row([source_id], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .map_err(|e| self.err(e))
    }

    /// The content hash of every dataset of a source, by id.
    pub fn hashes_for_source(
        &self,
        source_id: &str,
    ) -> Result<HashMap<String, String>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT id, hash FROM records WHERE source_id = ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Applies runs in one transaction: writes the records whose hash changed, marks,
    /// archives and removes what complete runs no longer list, keeps page memos, records each
    /// run, and bumps the change sequence once if anything changed.
    pub fn apply_runs(&self, runs: Vec<RunInput>) -> Result<GroupApplied, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let mut out = GroupApplied::default();
        let mut lookups: HashSet<String> = HashSet::new();
        let mut changed = false;
        {
            let e = |e| self.err(e);
            let mut get = tx
                .prepare_cached("SELECT source_id, hash, archived_at FROM records WHERE id = ?1")
                .map_err(e)?;
            let mut put = tx
                .prepare_cached(
                    "INSERT INTO records (id, source_id, iri, source_url, original_subject, municipality_code, hash, graph_lz4, first_seen, last_changed, rank)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)
                     ON CONFLICT(id, source_id) DO UPDATE SET iri = excluded.iri, source_url = excluded.source_url,
                       original_subject = excluded.original_subject, municipality_code = excluded.municipality_code,
                       hash = excluded.hash, graph_lz4 = excluded.graph_lz4, last_changed = excluded.last_changed,
                       rank = excluded.rank, missing_since = NULL, archived_at = NULL",
                )
                .map_err(e)?;
            let mut add_run = tx
                .prepare_cached(
                    "INSERT INTO runs (source_id, started, finished, outcome, new, changed, unchanged, archived, report, id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT(id) DO UPDATE SET started = excluded.started, finished = excluded.finished,
                       outcome = excluded.outcome, new = excluded.new, changed = excluded.changed,
                       unchanged = excluded.unchanged, archived = excluded.archived, report = excluded.report",
                )
                .map_err(e)?;
            for input in runs {
                let RunInput {
                    records,
                    run,
                    seen,
                    pages,
                } = input;
                let mut applied = Applied {
                    unchanged: run.unchanged_elsewhere,
                    ..Applied::default()
                };
                let mut written = Vec::new();
                for (record, rank) in records {
                    let rows: Vec<(String, String, Option<String>)> = get
                        .query_map([&record.id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                        .map_err(e)?
                        .collect::<Result<_, _>>()
                        .map_err(e)?;
                    let mut old = None;
                    let mut contested = false;
                    for (source, hash, archived) in rows {
                        if source == run.report.source_id {
                            old = Some((hash, archived));
                        } else if archived.is_none() {
                            contested = true;
                        }
                    }
                    match old {
                        Some((hash, None)) if hash == record.hash => {
                            applied.unchanged += 1;
                            continue;
                        }
                        Some((_, Some(_))) => applied.restored += 1,
                        Some(_) => applied.changed += 1,
                        None => applied.new += 1,
                    }
                    put.execute(params![
                        record.id.0,
                        run.report.source_id,
                        record.iri,
                        record.source_url,
                        record.original_subject,
                        record.municipality_code,
                        record.hash,
                        lz4_flex::compress_prepend_size(record.ntriples.as_bytes()),
                        run.report.finished,
                        rank,
                    ])
                    .map_err(e)?;
                    changed = true;
                    if contested {
                        lookups.insert(record.id.0.clone());
                    }
                    written.push(record);
                }
                if let Some(seen) = seen {
                    self.settle_missing(&tx, &run, &seen, &mut applied, &mut lookups)?;
                    changed |= applied.archived + applied.restored + applied.removed > 0;
                }
                if let Some(memos) = pages {
                    tx.execute(
                        "INSERT INTO pages (source_id, memos) VALUES (?1, ?2)
                         ON CONFLICT(source_id) DO UPDATE SET memos = excluded.memos",
                        params![run.report.source_id, memos],
                    )
                    .map_err(e)?;
                }
                let report = serde_json::to_string(&run.report).map_err(StoreError::Report)?;
                add_run
                    .execute(params![
                        run.report.source_id,
                        run.report.started,
                        run.report.finished,
                        run.report.outcome.as_str(),
                        applied.new,
                        applied.changed,
                        applied.unchanged,
                        applied.archived,
                        report,
                        run.id,
                    ])
                    .map_err(e)?;
                applied.run_id = run.id.unwrap_or_else(|| tx.last_insert_rowid());
                out.runs.push((applied, written));
            }
        }
        if changed {
            tx.execute(
                "UPDATE meta SET value = value + 1 WHERE key = 'change_seq'",
                [],
            )
            .map_err(|e| self.err(e))?;
        }
        let seq = meta(&tx, "change_seq").map_err(|e| self.err(e))?;
        if changed {
            let touched = out
                .runs
                .iter()
                .flat_map(|(_, written)| written.iter().map(|r| r.id.0.as_str()))
                .chain(lookups.iter().map(String::as_str));
            log_changes(&tx, seq, touched).map_err(|e| self.err(e))?;
            tx.execute(
                "INSERT OR REPLACE INTO change_times (seq, at) VALUES (?1, ?2)",
                params![seq, Utc::now()],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        for (applied, _) in &mut out.runs {
            applied.seq = seq;
        }
        let mut lookups: Vec<String> = lookups.into_iter().collect();
        lookups.sort();
        out.lookups = lookups;
        out.changed = changed;
        Ok(out)
    }

    /// After a complete run: what the source no longer lists is marked missing, archived
    /// after the grace period, removed after the retention period; what it lists again is
    /// restored.
    fn settle_missing(
        &self,
        tx: &rusqlite::Transaction<'_>,
        run: &RunRow,
        seen: &[String],
        applied: &mut Applied,
        lookups: &mut HashSet<String>,
    ) -> Result<(), StoreError> {
        let e = |e| self.err(e);
        let now = run.report.finished;
        let seen: HashSet<&str> = seen.iter().map(String::as_str).collect();
        // The common case, checked on the indexes alone: nothing of the source is marked, and
        // the run listed as many datasets as the source has (every id a run lists is a row of
        // the source by now), so nothing is missing.
        let count = |sql: &str| -> Result<u64, StoreError> {
            tx.query_row(sql, [&run.report.source_id], |r| r.get(0))
                .map_err(e)
        };
        let marked = count(
            "SELECT count(*) FROM records INDEXED BY records_marked WHERE source_id = ?1
             AND (missing_since IS NOT NULL OR archived_at IS NOT NULL)",
        )?;
        if marked == 0
            && count("SELECT count(*) FROM records WHERE source_id = ?1")? == seen.len() as u64
        {
            return Ok(());
        }
        type Row = (String, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let rows: Vec<Row> = {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id, missing_since, archived_at FROM records WHERE source_id = ?1",
                )
                .map_err(e)?;
            let rows = stmt
                .query_map([&run.report.source_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(e)?;
            rows.collect::<Result<_, _>>().map_err(e)?
        };
        for (id, missing_since, archived_at) in rows {
            let key = params![id, run.report.source_id];
            if seen.contains(id.as_str()) {
                if missing_since.is_some() || archived_at.is_some() {
                    tx.execute(
                        "UPDATE records SET missing_since = NULL, archived_at = NULL WHERE id = ?1 AND source_id = ?2",
                        key,
                    )
                    .map_err(e)?;
                    if archived_at.is_some() {
                        applied.restored += 1;
                        lookups.insert(id);
                    }
                }
                continue;
            }
            match (missing_since, archived_at) {
                (_, Some(archived)) => {
                    if now - archived >= self.retention.remove_after {
                        tx.execute("DELETE FROM records WHERE id = ?1 AND source_id = ?2", key)
                            .map_err(e)?;
                        applied.removed += 1;
                    }
                }
                (since, None) => {
                    let since = since.unwrap_or(now);
                    if since == now {
                        applied.missing += 1;
                    }
                    if now - since >= self.retention.archive_after {
                        tx.execute(
                            "UPDATE records SET missing_since = ?3, archived_at = ?4 WHERE id = ?1 AND source_id = ?2",
                            params![id, run.report.source_id, since, now],
                        )
                        .map_err(e)?;
                        applied.archived += 1;
                        lookups.insert(id);
                    } else {
                        tx.execute(
                            "UPDATE records SET missing_since = ?3 WHERE id = ?1 AND source_id = ?2",
                            params![id, run.report.source_id, since],
                        )
                        .map_err(e)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Records a run as started (outcome `running`) and returns its id; the run's
    /// [`RunRow::id`] then completes the same row.
    pub fn begin_run(&self, source_id: &str, started: DateTime<Utc>) -> Result<i64, StoreError> {
        let conn = self.writer();
        conn.execute(
            "INSERT INTO runs (source_id, started, finished, outcome, new, changed, unchanged, report)
             VALUES (?1, ?2, ?2, ?3, 0, 0, 0, '{}')",
            params![source_id, started, RunState::Running.as_str()],
        )
        .map_err(|e| self.err(e))?;
        Ok(conn.last_insert_rowid())
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
        let now = Utc::now();
        let report = RunReport::ended(source_id, outcome, reason, now);
        let report = serde_json::to_string(&report).map_err(StoreError::Report)?;
        self.writer()
            .execute(
                "UPDATE runs SET outcome = ?2, finished = ?3, report = ?4 WHERE id = ?1 AND outcome = ?5",
                params![id, outcome.as_str(), now, report, RunState::Running.as_str()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The page memos (JSON) the source's last run kept.
    pub fn page_memos(&self, source_id: &str) -> Result<Option<String>, StoreError> {
        self.reader()?
            .query_row(
                "SELECT memos FROM pages WHERE source_id = ?1",
                [source_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// What the shown records, the runs and the reports' other facts are at: anything an
    /// export, a CKAN answer or a report shows changes it.
    pub fn version(&self) -> Result<StoreVersion, StoreError> {
        self.reader()?
            .query_row(
                "SELECT (SELECT value FROM meta WHERE key = 'change_seq'), max(id), max(finished),
                        (SELECT value FROM meta WHERE key = 'facts_seq')
                 FROM runs",
                [],
                |r| {
                    Ok(StoreVersion {
                        change_seq: r.get(0)?,
                        runs: r.get::<_, Option<u64>>(1)?.unwrap_or(0),
                        last_run: r.get(2)?,
                        facts: r.get::<_, Option<u64>>(3)?.unwrap_or(0),
                    })
                },
            )
            .map_err(|e| self.err(e))
    }

    /// The change log after sequence number `after`, oldest first, at most `limit` entries
    /// (whole transactions: the last sequence number given is complete). Each names a dataset
    /// whose shown record was written (or, `removed`, is no longer shown) by the transaction
    /// that made that sequence number; a follower applies them in order.
    pub fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, id, removed FROM changes WHERE seq > ?1 ORDER BY seq, id LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        // One more than asked, to tell whether the last transaction is whole (no limit past
        // what SQLite counts: -1).
        let asked = i64::try_from(limit.saturating_add(1)).unwrap_or(-1);
        let mut changes: Vec<Change> = stmt
            .query_map(params![after, asked], row_to_change)
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        if changes.len() > limit
            && let Some(last) = changes.pop()
        {
            // A transaction is given whole or not at all, unless it alone is over the limit.
            let complete = changes.iter().rposition(|c| c.seq != last.seq);
            match complete {
                Some(at) => changes.truncate(at + 1),
                None => {
                    let seq = last.seq;
                    drop(stmt);
                    return self.changes_of(&conn, seq);
                }
            }
        }
        Ok(changes)
    }

    /// The sequence number the change log starts after: a store written before it was kept
    /// has changes only after this one (0 for a store that always kept it).
    pub fn change_log_start(&self) -> Result<u64, StoreError> {
        meta(&*self.reader()?, "log_start").map_err(|e| self.err(e))
    }

    /// Drops the change log of transactions made before `before`: a search node behind them
    /// rebuilds its index from the store. Returns the sequence number the log now starts
    /// after.
    pub fn prune_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let last: Option<u64> = tx
            .query_row(
                "SELECT max(seq) FROM change_times WHERE at < ?1",
                [before],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if let Some(last) = last {
            tx.execute("DELETE FROM changes WHERE seq <= ?1", [last])
                .map_err(|e| self.err(e))?;
            tx.execute("DELETE FROM change_times WHERE seq <= ?1", [last])
                .map_err(|e| self.err(e))?;
            tx.execute(
                "UPDATE meta SET value = max(value, ?1) WHERE key = 'log_start'",
                [last],
            )
            .map_err(|e| self.err(e))?;
        }
        let start = meta(&tx, "log_start").map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(start)
    }

    /// Every change of one transaction.
    fn changes_of(&self, conn: &rusqlite::Connection, seq: u64) -> Result<Vec<Change>, StoreError> {
        let mut stmt = conn
            .prepare_cached("SELECT seq, id, removed FROM changes WHERE seq = ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        stmt.query_map([seq], row_to_change)
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// The change sequence number: bumped by every run that changed something.
    pub fn change_seq(&self) -> Result<u64, StoreError> {
        meta(&*self.reader()?, "change_seq").map_err(|e| self.err(e))
    }

    /// The record a dataset is shown as: its winning active row, if it has one.
    pub fn winner(&self, id: &str) -> Result<Option<StoredDataset>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {} FROM records d WHERE d.id = ?1 AND d.archived_at IS NULL
                 ORDER BY d.rank, d.source_id LIMIT 1",
                dataset_columns()
            ))
            .map_err(|e| self.err(e))?;
        stmt.query_row([id], row_to_dataset)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every row of a dataset, one per source, the winner first, archived rows last.
    pub fn provenance(&self, id: &str) -> Result<Vec<StoredDataset>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {} FROM records d WHERE d.id = ?1
                 ORDER BY d.archived_at IS NOT NULL, d.rank, d.source_id",
                dataset_columns()
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id], row_to_dataset)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A source's archived datasets, most recently archived first.
    pub fn archived(&self, source_id: &str) -> Result<Vec<StoredDataset>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {} FROM records d WHERE d.source_id = ?1 AND d.archived_at IS NOT NULL
                 ORDER BY d.archived_at DESC, d.id",
                dataset_columns()
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source_id], row_to_dataset)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Calls `f` with every dataset's winning record, in id order (for rebuilding the index).
    pub fn for_each_dataset(&self, mut f: impl FnMut(StoredDataset)) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {} FROM records d WHERE {} ORDER BY d.id",
                dataset_columns(),
                WINNERS
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], row_to_dataset)
            .map_err(|e| self.err(e))?;
        let mut n = 0;
        for row in rows {
            f(row.map_err(|e| self.err(e))?);
            n += 1;
        }
        Ok(n)
    }

    /// Active (not archived) dataset counts by source, duplicates counted at every source.
    /// Read from the indexes alone (every record, less the archived ones), not the rows:
    /// milliseconds at 100k datasets where a scan of the rows takes a fifth of a second.
    pub fn dataset_counts(&self) -> Result<HashMap<String, u64>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT source_id, count(*) - (SELECT count(*) FROM records m
                   WHERE m.source_id = r.source_id AND m.archived_at IS NOT NULL) AS active
                 FROM records r GROUP BY source_id HAVING active > 0",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Runs in the kept history by source and state.
    pub fn run_counts(&self) -> Result<Vec<(String, RunState, u64)>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT source_id, outcome, count(*) FROM runs GROUP BY source_id, outcome
                 ORDER BY source_id, outcome",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, run_state(r, 1)?, r.get::<_, i64>(2)? as u64))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The latest run of every source, by source id.
    pub fn last_runs(&self) -> Result<HashMap<String, StoredRun>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM runs
                 WHERE id IN (SELECT max(id) FROM runs GROUP BY source_id)"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row_to_run).map_err(|e| self.err(e))?;
        rows.map(|r| r.map(|run| (run.report.source_id.clone(), run)))
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// The runs of a source, newest first.
    pub fn runs(&self, source_id: &str, limit: u32) -> Result<Vec<StoredRun>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM runs
                 WHERE source_id = ?1 ORDER BY id DESC LIMIT ?2"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![source_id, limit], row_to_run)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

/// Brings a store written by an earlier version up to this schema: one row per dataset
/// (`datasets`) becomes one row per dataset and source (`records`); runs gain `archived`.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has = |sql: &str| -> rusqlite::Result<bool> {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n > 0)
    };
    if has("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'datasets'")? {
        conn.execute_batch(
            "BEGIN;
             INSERT OR IGNORE INTO records (id, source_id, iri, source_url, original_subject, municipality_code, hash, graph_lz4, first_seen, last_changed)
               SELECT id, source_id, iri, source_url, original_subject, municipality_code, hash, graph_lz4, first_seen, last_changed FROM datasets;
             DROP TABLE datasets;
             COMMIT;",
        )?;
    }
    if !has("SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'archived'")? {
        conn.execute_batch("ALTER TABLE runs ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;")?;
    }
    Ok(())
}
