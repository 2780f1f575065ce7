//! The SQLite engine: the store in one file of the state directory, one writer connection
//! and a pool of readers (the embedded default).

use crate::apply::{self, DatasetRow, Marks, Writes};
use crate::{
    Applied, Change, GroupApplied, RUN_COLUMNS, Retention, RunInput, RunRow, StoreError,
    StoreVersion, StoredDataset, StoredRun, WINNERS, dataset_select,
};
use chrono::{DateTime, Utc};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use samla_model::DatasetRecord;
use samla_model::run::{Outcome, RunState};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

mod reports;

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

/// One SQLite write transaction, as the shared apply logic drives it.
struct SqliteWrites<'a, 't> {
    tx: &'a rusqlite::Transaction<'t>,
    store: &'a Sqlite,
}

impl SqliteWrites<'_, '_> {
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize, StoreError> {
        self.tx
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params))
            .map_err(|e| self.store.err(e))
    }
}

impl Writes for SqliteWrites<'_, '_> {
    fn rows_of(&mut self, ids: &[&str]) -> Result<Vec<DatasetRow>, StoreError> {
        let e = |e| self.store.err(e);
        let mut get = self
            .tx
            .prepare_cached(
                "SELECT id, source_id, hash, archived_at IS NOT NULL FROM records WHERE id = ?1",
            )
            .map_err(e)?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            for row in get
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(e)?
            {
                rows.push(row.map_err(e)?);
            }
        }
        Ok(rows)
    }

    fn put(
        &mut self,
        records: &[(&DatasetRecord, i64)],
        source: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for (record, rank) in records {
            self.run(
                "INSERT INTO records (id, source_id, iri, source_url, original_subject, municipality_code, hash, graph_lz4, first_seen, last_changed, rank)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)
                 ON CONFLICT(id, source_id) DO UPDATE SET iri = excluded.iri, source_url = excluded.source_url,
                   original_subject = excluded.original_subject, municipality_code = excluded.municipality_code,
                   hash = excluded.hash, graph_lz4 = excluded.graph_lz4, last_changed = excluded.last_changed,
                   rank = excluded.rank, missing_since = NULL, archived_at = NULL",
                params![
                    record.id.0,
                    source,
                    record.iri,
                    record.source_url,
                    record.original_subject,
                    record.municipality_code,
                    record.hash,
                    crate::compress(&record.ntriples),
                    at,
                    rank,
                ],
            )?;
        }
        Ok(())
    }

    fn counts(&mut self, source: &str) -> Result<(u64, u64), StoreError> {
        let count = |sql: &str| -> Result<u64, StoreError> {
            self.tx
                .query_row(sql, [source], |r| r.get(0))
                .map_err(|e| self.store.err(e))
        };
        Ok((
            count(
                "SELECT count(*) FROM records INDEXED BY records_marked WHERE source_id = ?1
                 AND (missing_since IS NOT NULL OR archived_at IS NOT NULL)",
            )?,
            count("SELECT count(*) FROM records WHERE source_id = ?1")?,
        ))
    }

    fn marks(&mut self, source: &str) -> Result<Vec<(String, Marks)>, StoreError> {
        let e = |e| self.store.err(e);
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT id, missing_since, archived_at FROM records WHERE source_id = ?1",
            )
            .map_err(e)?;
        stmt.query_map([source], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)
    }

    fn set_marks(&mut self, id: &str, source: &str, marks: Marks) -> Result<(), StoreError> {
        self.run(
            "UPDATE records SET missing_since = ?3, archived_at = ?4 WHERE id = ?1 AND source_id = ?2",
            params![id, source, marks.0, marks.1],
        )
        .map(drop)
    }

    fn remove(&mut self, id: &str, source: &str) -> Result<(), StoreError> {
        self.run(
            "DELETE FROM records WHERE id = ?1 AND source_id = ?2",
            params![id, source],
        )
        .map(drop)
    }

    fn add_active(&mut self, source: &str, delta: i64) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO source_counts (source_id, active) VALUES (?1, ?2)
             ON CONFLICT(source_id) DO UPDATE SET active = active + excluded.active",
            params![source, delta],
        )
        .map(drop)
    }

    fn keep_pages(&mut self, source: &str, memos: &str) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO pages (source_id, memos) VALUES (?1, ?2)
             ON CONFLICT(source_id) DO UPDATE SET memos = excluded.memos",
            params![source, memos],
        )
        .map(drop)
    }

    fn record_run(
        &mut self,
        run: &RunRow,
        applied: &Applied,
        report: &str,
    ) -> Result<i64, StoreError> {
        self.run(
            "INSERT INTO runs (source_id, started, finished, outcome, new, changed, unchanged, archived, report, id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT(id) DO UPDATE SET started = excluded.started, finished = excluded.finished,
               outcome = excluded.outcome, new = excluded.new, changed = excluded.changed,
               unchanged = excluded.unchanged, archived = excluded.archived, report = excluded.report",
            params![
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
            ],
        )?;
        Ok(run.id.unwrap_or_else(|| self.tx.last_insert_rowid()))
    }

    fn change_seq(&mut self, bump: bool) -> Result<u64, StoreError> {
        if bump {
            self.run(
                "UPDATE meta SET value = value + 1 WHERE key = 'change_seq'",
                [],
            )?;
        }
        meta(self.tx, "change_seq").map_err(|e| self.store.err(e))
    }

    fn log_changes(
        &mut self,
        seq: u64,
        touched: &BTreeSet<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let e = |e| self.store.err(e);
        let mut shown = self
            .tx
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM records WHERE id = ?1 AND archived_at IS NULL)",
            )
            .map_err(e)?;
        let mut log = self
            .tx
            .prepare_cached("INSERT OR REPLACE INTO changes (seq, id, removed) VALUES (?1, ?2, ?3)")
            .map_err(e)?;
        for id in touched {
            let shown: bool = shown.query_row([id], |r| r.get(0)).map_err(e)?;
            log.execute(params![seq, id, !shown]).map_err(e)?;
        }
        self.run(
            "INSERT OR REPLACE INTO change_times (seq, at) VALUES (?1, ?2)",
            params![seq, at],
        )
        .map(drop)
    }
}

/// The SQLite store: one writer connection, and a pool of read connections that read
/// while it writes (SQLite's write-ahead log gives each read the last committed state).
pub(crate) struct Sqlite {
    writer: Mutex<Connection>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    path: PathBuf,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.path).finish()
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
CREATE TABLE IF NOT EXISTS source_counts (source_id TEXT PRIMARY KEY, active INTEGER NOT NULL);
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
    total INTEGER NOT NULL,
    visitor TEXT NOT NULL DEFAULT '',
    about TEXT NOT NULL DEFAULT '[]'
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
CREATE TABLE IF NOT EXISTS entries (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
";

/// The stored graph as text.
fn decompress(bytes: &[u8]) -> rusqlite::Result<String> {
    crate::decompress(bytes)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Blob, e))
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

impl Sqlite {
    /// Opens (or creates) the store in `state_dir`.
    pub(crate) fn open(state_dir: &Path) -> Result<Self, StoreError> {
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

    /// Opens the store in `state_dir` that another process created, to write (`writable`) or
    /// only read.
    pub(crate) fn open_existing(state_dir: &Path, writable: bool) -> Result<Self, StoreError> {
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
        })
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
    pub(crate) fn active_count(&self, source_id: &str) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT count(*) FROM records WHERE source_id = ?1 AND archived_at IS NULL",
        )
        .and_then(|mut stmt| stmt.query_row([source_id], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .map_err(|e| self.err(e))
    }

    /// The content hash of every dataset of a source, by id.
    pub(crate) fn hashes_for_source(
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

    /// Applies runs in one transaction (see [`crate::Store::apply_runs`]).
    pub(crate) fn apply_runs(
        &self,
        runs: Vec<RunInput>,
        retention: Retention,
    ) -> Result<GroupApplied, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let out = apply::apply_runs(
            &mut SqliteWrites {
                tx: &tx,
                store: self,
            },
            runs,
            retention,
        )?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Records a run as started (outcome `running`) and returns its id; the run's
    /// [`RunRow::id`] then completes the same row.
    pub(crate) fn begin_run(
        &self,
        source_id: &str,
        started: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
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
    pub(crate) fn end_run(
        &self,
        id: i64,
        outcome: Outcome,
        finished: DateTime<Utc>,
        report: &str,
    ) -> Result<(), StoreError> {
        self.writer()
            .execute(
                "UPDATE runs SET outcome = ?2, finished = ?3, report = ?4 WHERE id = ?1 AND outcome = ?5",
                params![id, outcome.as_str(), finished, report, RunState::Running.as_str()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The page memos (JSON) the source's last run kept.
    pub(crate) fn page_memos(&self, source_id: &str) -> Result<Option<String>, StoreError> {
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
    pub(crate) fn version(&self) -> Result<StoreVersion, StoreError> {
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
    pub(crate) fn changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Change>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, id, removed FROM changes WHERE seq > ?1 ORDER BY seq, id LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        // No limit past what SQLite counts: -1.
        let limit = i64::try_from(limit).unwrap_or(-1);
        stmt.query_map(params![after, limit], row_to_change)
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// The sequence number the change log starts after: a store written before it was kept
    /// has changes only after this one (0 for a store that always kept it).
    pub(crate) fn change_log_start(&self) -> Result<u64, StoreError> {
        meta(&*self.reader()?, "log_start").map_err(|e| self.err(e))
    }

    /// Drops the change log of transactions made before `before`: a search node behind them
    /// rebuilds its index from the store. Returns the sequence number the log now starts
    /// after.
    pub(crate) fn prune_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
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
    pub(crate) fn changes_of(&self, seq: u64) -> Result<Vec<Change>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT seq, id, removed FROM changes WHERE seq = ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        stmt.query_map([seq], row_to_change)
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// The change sequence number: bumped by every run that changed something.
    pub(crate) fn change_seq(&self) -> Result<u64, StoreError> {
        meta(&*self.reader()?, "change_seq").map_err(|e| self.err(e))
    }

    /// The record a dataset is shown as: its winning active row, if it has one.
    pub(crate) fn winner(&self, id: &str) -> Result<Option<StoredDataset>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "{} WHERE d.id = ?1 AND d.archived_at IS NULL
                 ORDER BY d.rank, d.source_id LIMIT 1",
                dataset_select()
            ))
            .map_err(|e| self.err(e))?;
        stmt.query_row([id], row_to_dataset)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The winners of `ids` that have one, a statement per thousand ids (given as a JSON
    /// array).
    pub(crate) fn winners(&self, ids: &[String]) -> Result<Vec<StoredDataset>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "{} WHERE d.id IN (SELECT value FROM json_each(?1)) AND {WINNERS}",
                dataset_select()
            ))
            .map_err(|e| self.err(e))?;
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let list = serde_json::to_string(chunk).map_err(StoreError::Report)?;
            let rows = stmt
                .query_map([list], row_to_dataset)
                .map_err(|e| self.err(e))?;
            for row in rows {
                found.push(row.map_err(|e| self.err(e))?);
            }
        }
        Ok(found)
    }

    /// Every row of a dataset, one per source, the winner first, archived rows last.
    pub(crate) fn provenance(&self, id: &str) -> Result<Vec<StoredDataset>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "{} WHERE d.id = ?1
                 ORDER BY d.archived_at IS NOT NULL, d.rank, d.source_id",
                dataset_select()
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id], row_to_dataset)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A source's archived datasets, most recently archived first.
    pub(crate) fn archived(&self, source_id: &str) -> Result<Vec<StoredDataset>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "{} WHERE d.source_id = ?1 AND d.archived_at IS NOT NULL
                 ORDER BY d.archived_at DESC, d.id",
                dataset_select()
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source_id], row_to_dataset)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Calls `f` with every dataset's winning record, in id order (the primary key's, which
    /// costs no sort: `_by_id` changes nothing here).
    pub(crate) fn for_each_dataset(
        &self,
        _by_id: bool,
        mut f: impl FnMut(StoredDataset),
    ) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(&format!(
                "{} WHERE {} ORDER BY d.id",
                dataset_select(),
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

    /// Active (not archived) dataset counts by source, duplicates counted at every source:
    /// kept by every apply (`source_counts`), not counted from the records.
    pub(crate) fn dataset_counts(&self) -> Result<HashMap<String, u64>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT source_id, active FROM source_counts WHERE active > 0")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Runs in the kept history by source and state.
    pub(crate) fn run_counts(&self) -> Result<Vec<(String, RunState, u64)>, StoreError> {
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
    pub(crate) fn last_runs(&self) -> Result<HashMap<String, StoredRun>, StoreError> {
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
    pub(crate) fn runs(&self, source_id: &str, limit: u32) -> Result<Vec<StoredRun>, StoreError> {
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
/// (`datasets`) becomes one row per dataset and source (`records`); runs gain `archived`;
/// sources gain their counts.
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
    // A store from before `source_counts`: its counts, once (every source with records gets
    // a row, so a store that has records and no counts has never had them).
    if has("SELECT EXISTS (SELECT 1 FROM records)")?
        && !has("SELECT EXISTS (SELECT 1 FROM source_counts)")?
    {
        conn.execute_batch(
            "INSERT INTO source_counts (source_id, active)
               SELECT source_id, sum(archived_at IS NULL) FROM records GROUP BY source_id;",
        )?;
    }
    if !has("SELECT count(*) FROM pragma_table_info('searches') WHERE name = 'visitor'")? {
        conn.execute_batch(
            "ALTER TABLE searches ADD COLUMN visitor TEXT NOT NULL DEFAULT '';
             ALTER TABLE searches ADD COLUMN about TEXT NOT NULL DEFAULT '[]';",
        )?;
    }
    Ok(())
}
