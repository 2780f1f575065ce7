//! The canonical store: one row per dataset (its canonical graph as N-Triples, with
//! provenance) and the run history, in SQLite in the state directory.
//!
//! A run's changes are applied in one transaction, together with its run record, so readers
//! never see half a run. Every applied run bumps a change sequence number; the index records
//! the number it has caught up to, so after a crash the two can be compared and the index
//! rebuilt from here.
//!
//! Architecture invariant: this crate knows nothing of HTTP, tantivy or axum. Run reports
//! are opaque JSON to it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use samla_model::DatasetRecord;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

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
    /// `success`, `partial`, `failed` or `cancelled`.
    pub outcome: String,
    /// Datasets new in this run.
    pub new: u64,
    /// Datasets changed.
    pub changed: u64,
    /// Datasets unchanged.
    pub unchanged: u64,
    /// The full run report as JSON.
    pub report: serde_json::Value,
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
    /// The change sequence number after the transaction that applied the run.
    pub seq: u64,
    /// The run id.
    pub run_id: i64,
}

/// The run to record with its records.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// Source id.
    pub source_id: String,
    /// Start.
    pub started: DateTime<Utc>,
    /// End.
    pub finished: DateTime<Utc>,
    /// Outcome.
    pub outcome: String,
    /// Records the run saw unchanged and did not pass on.
    pub unchanged_elsewhere: u64,
    /// The report, JSON.
    pub report_json: String,
}

/// The canonical store.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    iri TEXT NOT NULL,
    source_id TEXT NOT NULL,
    source_url TEXT NOT NULL,
    original_subject TEXT NOT NULL,
    municipality_code TEXT,
    hash TEXT NOT NULL,
    graph_lz4 BLOB NOT NULL,
    first_seen TEXT NOT NULL,
    last_changed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS datasets_source ON datasets(source_id);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    outcome TEXT NOT NULL,
    new INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_source ON runs(source_id, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('change_seq', 0);
";

const DATASET_COLUMNS: &str = "d.id, d.iri, d.source_id, d.source_url, d.original_subject, d.municipality_code, d.hash, d.graph_lz4, d.first_seen, d.last_changed,
    (SELECT max(r.finished) FROM runs r WHERE r.source_id = d.source_id AND r.outcome IN ('success', 'partial'))";

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
    })
}

fn row_to_run(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRun> {
    let report: String = row.get(8)?;
    Ok(StoredRun {
        id: row.get(0)?,
        source_id: row.get(1)?,
        started: row.get(2)?,
        finished: row.get(3)?,
        outcome: row.get(4)?,
        new: row.get(5)?,
        changed: row.get(6)?,
        unchanged: row.get(7)?,
        report: serde_json::from_str(&report).unwrap_or(serde_json::Value::Null),
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
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self {
            conn: Mutex::new(conn),
            path,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A poisoned lock only means another thread panicked mid-call; SQLite's own
        // transactions keep the data consistent, so the connection is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// The content hash of every dataset of a source, by id.
    pub fn hashes_for_source(
        &self,
        source_id: &str,
    ) -> Result<HashMap<String, String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT id, hash FROM datasets WHERE source_id = ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Applies runs in one transaction: inserts or updates the records whose hash changed,
    /// records each run, and bumps the change sequence once if anything changed. Returns,
    /// per run, what it did and the records that changed.
    pub fn apply_runs(
        &self,
        runs: Vec<(Vec<DatasetRecord>, RunRow)>,
    ) -> Result<Vec<(Applied, Vec<DatasetRecord>)>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let mut results = Vec::with_capacity(runs.len());
        {
            let mut get = tx
                .prepare_cached("SELECT hash FROM datasets WHERE id = ?1")
                .map_err(|e| self.err(e))?;
            let mut put = tx
                .prepare_cached(
                    "INSERT INTO datasets (id, iri, source_id, source_url, original_subject, municipality_code, hash, graph_lz4, first_seen, last_changed)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
                     ON CONFLICT(id) DO UPDATE SET iri = excluded.iri, source_id = excluded.source_id, source_url = excluded.source_url,
                       original_subject = excluded.original_subject, municipality_code = excluded.municipality_code,
                       hash = excluded.hash, graph_lz4 = excluded.graph_lz4, last_changed = excluded.last_changed",
                )
                .map_err(|e| self.err(e))?;
            let mut add_run = tx
                .prepare_cached(
                    "INSERT INTO runs (source_id, started, finished, outcome, new, changed, unchanged, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(|e| self.err(e))?;
            for (records, run) in runs {
                let mut applied = Applied {
                    unchanged: run.unchanged_elsewhere,
                    ..Applied::default()
                };
                let mut changed = Vec::new();
                for record in records {
                    let old: Option<String> = get
                        .query_row([&record.id.0], |r| r.get(0))
                        .optional()
                        .map_err(|e| self.err(e))?;
                    match old {
                        Some(hash) if hash == record.hash => {
                            applied.unchanged += 1;
                            continue;
                        }
                        Some(_) => applied.changed += 1,
                        None => applied.new += 1,
                    }
                    put.execute(params![
                        record.id.0,
                        record.iri,
                        run.source_id,
                        record.source_url,
                        record.original_subject,
                        record.municipality_code,
                        record.hash,
                        lz4_flex::compress_prepend_size(record.ntriples.as_bytes()),
                        run.finished,
                    ])
                    .map_err(|e| self.err(e))?;
                    changed.push(record);
                }
                add_run
                    .execute(params![
                        run.source_id,
                        run.started,
                        run.finished,
                        run.outcome,
                        applied.new,
                        applied.changed,
                        applied.unchanged,
                        run.report_json
                    ])
                    .map_err(|e| self.err(e))?;
                applied.run_id = tx.last_insert_rowid();
                results.push((applied, changed));
            }
        }
        if results.iter().any(|(_, changed)| !changed.is_empty()) {
            tx.execute(
                "UPDATE meta SET value = value + 1 WHERE key = 'change_seq'",
                [],
            )
            .map_err(|e| self.err(e))?;
        }
        let seq: u64 = tx
            .query_row("SELECT value FROM meta WHERE key = 'change_seq'", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        for (applied, _) in &mut results {
            applied.seq = seq;
        }
        Ok(results)
    }

    /// The change sequence number: bumped by every run that changed something.
    pub fn change_seq(&self) -> Result<u64, StoreError> {
        self.conn()
            .query_row("SELECT value FROM meta WHERE key = 'change_seq'", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))
    }

    /// One dataset by id.
    pub fn dataset(&self, id: &str) -> Result<Option<StoredDataset>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {DATASET_COLUMNS} FROM datasets d WHERE d.id = ?1"
            ))
            .map_err(|e| self.err(e))?;
        stmt.query_row([id], row_to_dataset)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Calls `f` with every dataset, in id order (for rebuilding the index).
    pub fn for_each_dataset(&self, mut f: impl FnMut(StoredDataset)) -> Result<u64, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {DATASET_COLUMNS} FROM datasets d ORDER BY d.id"
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

    /// Dataset counts by source.
    pub fn dataset_counts(&self) -> Result<HashMap<String, u64>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT source_id, count(*) FROM datasets GROUP BY source_id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The latest run of every source, by source id.
    pub fn last_runs(&self) -> Result<HashMap<String, StoredRun>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, source_id, started, finished, outcome, new, changed, unchanged, report FROM runs
                 WHERE id IN (SELECT max(id) FROM runs GROUP BY source_id)",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row_to_run).map_err(|e| self.err(e))?;
        rows.map(|r| r.map(|run| (run.source_id.clone(), run)))
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// The runs of a source, newest first.
    pub fn runs(&self, source_id: &str, limit: u32) -> Result<Vec<StoredRun>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, source_id, started, finished, outcome, new, changed, unchanged, report FROM runs
                 WHERE source_id = ?1 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![source_id, limit], row_to_run)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
