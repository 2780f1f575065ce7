//! The PostgreSQL engine: the store any number of nodes share (`[store] url`).
//!
//! It is reached through the `postgres` crate (the blocking client of `tokio-postgres`) and
//! an r2d2 pool, because the store's interface is blocking: its callers already run it on
//! blocking threads, and the apply logic is shared with SQLite as plain calls. That client
//! runs each call on a small runtime of its own, which tokio refuses to start (or drop) on a
//! thread that is running async code; such a call is made on a thread of its own
//! ([`off_runtime`]).
//!
//! Every apply takes the change sequence's row lock first, so the transactions that apply
//! runs, on whichever node, commit one at a time and in the order of their sequence numbers:
//! a follower that has read sequence *n* will never see *n − 1* commit later.

use crate::apply::{self, DatasetRow, Marks, Writes};
use crate::{
    Access, Applied, Change, GroupApplied, LinkRow, LoggedSearch, RUN_COLUMNS, Retention, RunInput,
    RunRow, StoreError, StoreVersion, StoredDataset, StoredRequest, StoredRun, WINNERS,
    dataset_select,
};
use ::postgres::{Client, Row, Statement, Transaction};
use chrono::{DateTime, Utc};
use postgres_native_tls::MakeTlsConnector;
use r2d2_postgres::PostgresConnectionManager;
use samla_model::DatasetRecord;
use samla_model::run::{Outcome, RunState};
use std::collections::{BTreeSet, HashMap};

/// The schema's versions, in order: each is applied once, in one transaction, and recorded in
/// `samla_migrations`.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_schema.sql")),
    (2, include_str!("../migrations/postgres/0002_entries.sql")),
    (
        3,
        include_str!("../migrations/postgres/0003_search_visitors.sql"),
    ),
    (
        4,
        include_str!("../migrations/postgres/0004_source_counts.sql"),
    ),
];

/// The first key of samla's advisory locks (the second names the source or the migration).
const LOCK_SPACE: i32 = 0x5341_4d4c; // "SAML"

/// Connections at most per process.
const CONNECTIONS: u32 = 8;

/// Rows fetched at a time when every dataset is read (an index rebuild).
const BATCH: i32 = 1000;

/// Runs `f` where the blocking client may run: here, unless this thread is running async code,
/// else on a thread of its own for the call.
fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Drops `value` (which holds clients, and so their runtimes) where that is allowed.
fn drop_off_runtime<T: Send + 'static>(value: T) {
    if tokio::runtime::Handle::try_current().is_err() {
        drop(value);
    } else {
        std::thread::spawn(move || drop(value));
    }
}

/// The store in PostgreSQL.
pub(crate) struct Postgres {
    pool: Option<r2d2::Pool<PostgresConnectionManager<MakeTlsConnector>>>,
    config: ::postgres::Config,
    /// TLS as the address's `sslmode` and `sslrootcert` say.
    tls: MakeTlsConnector,
    /// The address without its password, for messages.
    at: String,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").field("at", &self.at).finish()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            drop_off_runtime(pool);
        }
    }
}

/// A source held by this node: the connection whose session holds its advisory lock.
pub(crate) struct Held {
    client: Option<Client>,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Held")
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Closing the session lets the lock go.
            drop_off_runtime(client);
        }
    }
}

/// `postgres://user@host:port/db` of a configuration, without its password.
fn describe(config: &::postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            ::postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            ::postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        config.get_user().unwrap_or_default(),
        config.get_dbname().unwrap_or_default()
    )
}

/// A stored count as a number.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// A number as PostgreSQL's `bigint`.
fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Postgres {
    /// Connects to the store at `url` for `access` (see [`crate::Store::connect`]).
    pub(crate) fn connect(url: &str, access: Access) -> Result<Self, StoreError> {
        let (url, tls) = crate::pg_tls::settings(url).map_err(|what| StoreError::Tls {
            url: "the [store] url".into(),
            what,
        })?;
        let mut config: ::postgres::Config =
            url.parse().map_err(|source| StoreError::Postgres {
                url: "the [store] url".into(),
                source,
            })?;
        if config.get_application_name().is_none() {
            config.application_name("samla");
        }
        // A database that does not answer is an error within seconds, not a hang (a source's
        // lock is taken on a connection of its own, outside the pool's timeout).
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        if access == Access::ReadOnly {
            config.options("-c default_transaction_read_only=on");
        }
        let at = describe(&config);
        // One connection first: a server that refuses (its TLS, its password) is told at once
        // with its reason, not after the pool's wait with only its last words.
        off_runtime(|| config.connect(tls.clone()).map(drop_off_runtime)).map_err(|source| {
            StoreError::Postgres {
                url: at.clone(),
                source,
            }
        })?;
        let manager = PostgresConnectionManager::new(config.clone(), tls.clone());
        let pool = off_runtime(|| {
            r2d2::Pool::builder()
                .max_size(CONNECTIONS)
                .min_idle(Some(1))
                .connection_timeout(std::time::Duration::from_secs(30))
                .build(manager)
        })
        .map_err(|source| StoreError::PostgresPool {
            url: at.clone(),
            source,
        })?;
        let store = Self {
            pool: Some(pool),
            config,
            tls,
            at,
        };
        match access {
            Access::Own => store.migrate()?,
            Access::Beside | Access::ReadOnly => store.check_schema()?,
        }
        Ok(store)
    }

    fn err(&self, source: ::postgres::Error) -> StoreError {
        StoreError::Postgres {
            url: self.at.clone(),
            source,
        }
    }

    fn corrupt(&self, what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            at: self.at.clone(),
            what: what.to_string(),
        }
    }

    /// Runs `f` with a pooled connection, where the blocking client may run.
    fn with<R: Send>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, StoreError> + Send,
    ) -> Result<R, StoreError> {
        off_runtime(|| {
            let pool = self.pool.as_ref().ok_or_else(|| self.corrupt("closed"))?;
            let mut client = pool.get().map_err(|source| StoreError::PostgresPool {
                url: self.at.clone(),
                source,
            })?;
            f(&mut client)
        })
    }

    /// Runs `f` in a transaction, committed if it returns `Ok`.
    fn in_tx<R: Send>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<R, StoreError> + Send,
    ) -> Result<R, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(|e| self.err(e))?;
            let out = f(&mut tx)?;
            tx.commit().map_err(|e| self.err(e))?;
            Ok(out)
        })
    }

    /// Brings the schema up to this version, one node at a time; then marks interrupted the
    /// runs left running whose source no node holds (their process stopped).
    fn migrate(&self) -> Result<(), StoreError> {
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_SPACE])
                .map_err(e)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS samla_migrations (
                     version INTEGER PRIMARY KEY,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )
            .map_err(e)?;
            let at: i32 = tx
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM samla_migrations",
                    &[],
                )
                .map_err(e)?
                .get(0);
            for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > at) {
                tracing::info!(store = %self.at, version, "migrating the store");
                tx.batch_execute(sql).map_err(e)?;
                tx.execute(
                    "INSERT INTO samla_migrations (version) VALUES ($1)",
                    &[version],
                )
                .map_err(e)?;
            }
            tx.execute(
                "UPDATE runs SET outcome = $1 WHERE outcome = $2
                 AND pg_try_advisory_xact_lock($3, hashtext(source_id))",
                &[
                    &RunState::Interrupted.as_str(),
                    &RunState::Running.as_str(),
                    &LOCK_SPACE,
                ],
            )
            .map_err(e)?;
            Ok(())
        })
    }

    /// Fails unless the schema is this version's (a search node never migrates).
    fn check_schema(&self) -> Result<(), StoreError> {
        let want = MIGRATIONS.last().map_or(0, |(v, _)| *v);
        let at: i32 = self.with(|c| {
            let e = |e| self.err(e);
            let made: bool = c
                .query_one("SELECT to_regclass('samla_migrations') IS NOT NULL", &[])
                .map_err(e)?
                .get(0);
            if !made {
                return Ok(0);
            }
            let row = c
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM samla_migrations",
                    &[],
                )
                .map_err(e)?;
            Ok(row.get(0))
        })?;
        match at {
            0 => Err(self.corrupt("no store here yet: start the harvester first")),
            at if at != want => Err(self.corrupt(format!(
                "the store's schema is version {at}, this samla reads version {want}: start a harvester of this version first"
            ))),
            _ => Ok(()),
        }
    }

    /// Takes a source's advisory lock on a connection of its own, if no other session has it.
    pub(crate) fn lock_source(&self, source_id: &str) -> Result<Option<Held>, StoreError> {
        off_runtime(|| {
            let mut client = self
                .config
                .connect(self.tls.clone())
                .map_err(|e| self.err(e))?;
            let took: bool = client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, hashtext($2))",
                    &[&LOCK_SPACE, &source_id],
                )
                .map_err(|e| self.err(e))?
                .get(0);
            if !took {
                return Ok(None);
            }
            // Whatever run of the source is still marked running belongs to a node that
            // stopped without letting the source go.
            client
                .execute(
                    "UPDATE runs SET outcome = $1 WHERE source_id = $2 AND outcome = $3",
                    &[
                        &RunState::Interrupted.as_str(),
                        &source_id,
                        &RunState::Running.as_str(),
                    ],
                )
                .map_err(|e| self.err(e))?;
            Ok(Some(Held {
                client: Some(client),
            }))
        })
    }

    /// A row's first two columns.
    fn pair<A, B>(&self, row: &Row) -> Result<(A, B), StoreError>
    where
        A: for<'a> ::postgres::types::FromSql<'a>,
        B: for<'a> ::postgres::types::FromSql<'a>,
    {
        let e = |e| self.err(e);
        Ok((row.try_get(0).map_err(e)?, row.try_get(1).map_err(e)?))
    }

    fn row_to_dataset(&self, row: &Row) -> Result<StoredDataset, StoreError> {
        let e = |e| self.err(e);
        let graph: Vec<u8> = row.try_get(7).map_err(e)?;
        Ok(StoredDataset {
            id: row.try_get(0).map_err(e)?,
            iri: row.try_get(1).map_err(e)?,
            source_id: row.try_get(2).map_err(e)?,
            source_url: row.try_get(3).map_err(e)?,
            original_subject: row.try_get(4).map_err(e)?,
            municipality_code: row.try_get(5).map_err(e)?,
            hash: row.try_get(6).map_err(e)?,
            ntriples: crate::decompress(&graph).map_err(|e| self.corrupt(e))?,
            first_seen: row.try_get(8).map_err(e)?,
            last_changed: row.try_get(9).map_err(e)?,
            last_harvested: row.try_get(10).map_err(e)?,
            rank: row.try_get(11).map_err(e)?,
            missing_since: row.try_get(12).map_err(e)?,
            archived_at: row.try_get(13).map_err(e)?,
        })
    }

    fn row_to_run(&self, row: &Row) -> Result<StoredRun, StoreError> {
        let e = |e| self.err(e);
        let outcome: String = row.try_get(4).map_err(e)?;
        let report: String = row.try_get(8).map_err(e)?;
        Ok(StoredRun {
            id: row.try_get(0).map_err(e)?,
            source_id: row.try_get(1).map_err(e)?,
            started: row.try_get(2).map_err(e)?,
            finished: row.try_get(3).map_err(e)?,
            outcome: outcome.parse().map_err(|e| self.corrupt(e))?,
            new: count(row.try_get(5).map_err(e)?),
            changed: count(row.try_get(6).map_err(e)?),
            unchanged: count(row.try_get(7).map_err(e)?),
            archived: count(row.try_get(9).map_err(e)?),
            report: serde_json::from_str(&report).map_err(|e| self.corrupt(e))?,
        })
    }

    /// The rows of a query, each read by `read`.
    fn rows<T: Send>(
        &self,
        sql: &str,
        params: &[&(dyn ::postgres::types::ToSql + Sync)],
        read: impl Fn(&Self, &Row) -> Result<T, StoreError> + Send + Sync,
    ) -> Result<Vec<T>, StoreError> {
        self.with(|c| {
            c.query(sql, params)
                .map_err(|e| self.err(e))?
                .iter()
                .map(|row| read(self, row))
                .collect()
        })
    }

    /// A query's one value (of its one row).
    fn value<T>(
        &self,
        sql: &str,
        params: &[&(dyn ::postgres::types::ToSql + Sync)],
    ) -> Result<T, StoreError>
    where
        T: for<'a> ::postgres::types::FromSql<'a> + Send,
    {
        self.with(|c| {
            c.query_one(sql, params)
                .map_err(|e| self.err(e))?
                .try_get(0)
                .map_err(|e| self.err(e))
        })
    }

    pub(crate) fn active_count(&self, source_id: &str) -> Result<u64, StoreError> {
        self.value::<i64>(
            "SELECT count(*) FROM records WHERE source_id = $1 AND archived_at IS NULL",
            &[&source_id],
        )
        .map(count)
    }

    pub(crate) fn hashes_for_source(
        &self,
        source_id: &str,
    ) -> Result<HashMap<String, String>, StoreError> {
        let rows = self.rows(
            "SELECT id, hash FROM records WHERE source_id = $1",
            &[&source_id],
            Self::pair,
        )?;
        Ok(rows.into_iter().collect())
    }

    pub(crate) fn apply_runs(
        &self,
        runs: Vec<RunInput>,
        retention: Retention,
    ) -> Result<GroupApplied, StoreError> {
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            // Appliers on every node queue here (see the module's note).
            tx.execute(
                "SELECT value FROM meta WHERE key = 'change_seq' FOR UPDATE",
                &[],
            )
            .map_err(e)?;
            let rows_of = tx
                .prepare(
                    "SELECT id, source_id, hash, archived_at IS NOT NULL FROM records
                     WHERE id = ANY($1::text[])",
                )
                .map_err(e)?;
            // A part of a run's records in one statement, as arrays (a round trip each
            // record took most of a large run's apply).
            let put = tx
                .prepare(
                    "INSERT INTO records (id, source_id, iri, source_url, original_subject, municipality_code, hash, graph_lz4, first_seen, last_changed, rank)
                     SELECT t.id, $2, t.iri, t.source_url, t.original_subject, t.municipality_code, t.hash, t.graph_lz4, $9, $9, t.rank
                     FROM unnest($1::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $10::bigint[])
                       AS t(id, iri, source_url, original_subject, municipality_code, hash, graph_lz4, rank)
                     ON CONFLICT (id, source_id) DO UPDATE SET iri = excluded.iri, source_url = excluded.source_url,
                       original_subject = excluded.original_subject, municipality_code = excluded.municipality_code,
                       hash = excluded.hash, graph_lz4 = excluded.graph_lz4, last_changed = excluded.last_changed,
                       rank = excluded.rank, missing_since = NULL, archived_at = NULL",
                )
                .map_err(e)?;
            let mut writes = PgWrites {
                tx,
                store: self,
                rows_of,
                put,
            };
            apply::apply_runs(&mut writes, runs, retention)
        })
    }

    pub(crate) fn begin_run(
        &self,
        source_id: &str,
        started: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.value(
            "INSERT INTO runs (source_id, started, finished, outcome, new, changed, unchanged, report)
             VALUES ($1, $2, $2, $3, 0, 0, 0, '{}') RETURNING id",
            &[&source_id, &started, &RunState::Running.as_str()],
        )
    }

    pub(crate) fn end_run(
        &self,
        id: i64,
        outcome: Outcome,
        finished: DateTime<Utc>,
        report: &str,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET outcome = $2, finished = $3, report = $4 WHERE id = $1 AND outcome = $5",
                &[&id, &outcome.as_str(), &finished, &report, &RunState::Running.as_str()],
            )
            .map_err(|e| self.err(e))
            .map(drop)
        })
    }

    pub(crate) fn page_memos(&self, source_id: &str) -> Result<Option<String>, StoreError> {
        let rows = self.rows(
            "SELECT memos FROM pages WHERE source_id = $1",
            &[&source_id],
            |s, r| r.try_get(0).map_err(|e| s.err(e)),
        )?;
        Ok(rows.into_iter().next())
    }

    pub(crate) fn version(&self) -> Result<StoreVersion, StoreError> {
        self.with(|c| {
            let e = |e| self.err(e);
            let row = c
                .query_one(
                    "SELECT (SELECT value FROM meta WHERE key = 'change_seq'), max(id), max(finished),
                            (SELECT value FROM meta WHERE key = 'facts_seq')
                     FROM runs",
                    &[],
                )
                .map_err(e)?;
            Ok(StoreVersion {
                change_seq: count(row.try_get(0).map_err(e)?),
                runs: count(row.try_get::<_, Option<i64>>(1).map_err(e)?.unwrap_or(0)),
                last_run: row.try_get(2).map_err(e)?,
                facts: count(row.try_get(3).map_err(e)?),
            })
        })
    }

    fn row_to_change(&self, r: &Row) -> Result<Change, StoreError> {
        let e = |e| self.err(e);
        Ok(Change {
            seq: count(r.try_get(0).map_err(e)?),
            id: r.try_get(1).map_err(e)?,
            removed: r.try_get(2).map_err(e)?,
        })
    }

    pub(crate) fn changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Change>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.rows(
            "SELECT seq, id, removed FROM changes WHERE seq > $1 ORDER BY seq, id LIMIT $2",
            &[&big(after), &limit],
            Self::row_to_change,
        )
    }

    pub(crate) fn changes_of(&self, seq: u64) -> Result<Vec<Change>, StoreError> {
        self.rows(
            "SELECT seq, id, removed FROM changes WHERE seq = $1 ORDER BY id",
            &[&big(seq)],
            Self::row_to_change,
        )
    }

    fn meta(&self, key: &str) -> Result<u64, StoreError> {
        self.value::<i64>("SELECT value FROM meta WHERE key = $1", &[&key])
            .map(count)
    }

    pub(crate) fn change_log_start(&self) -> Result<u64, StoreError> {
        self.meta("log_start")
    }

    pub(crate) fn change_seq(&self) -> Result<u64, StoreError> {
        self.meta("change_seq")
    }

    pub(crate) fn prune_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            let last: Option<i64> = tx
                .query_one(
                    "SELECT max(seq) FROM change_times WHERE at < $1",
                    &[&before],
                )
                .map_err(e)?
                .get(0);
            if let Some(last) = last {
                tx.execute("DELETE FROM changes WHERE seq <= $1", &[&last])
                    .map_err(e)?;
                tx.execute("DELETE FROM change_times WHERE seq <= $1", &[&last])
                    .map_err(e)?;
                tx.execute(
                    "UPDATE meta SET value = greatest(value, $1) WHERE key = 'log_start'",
                    &[&last],
                )
                .map_err(e)?;
            }
            let start: i64 = tx
                .query_one("SELECT value FROM meta WHERE key = 'log_start'", &[])
                .map_err(e)?
                .get(0);
            Ok(count(start))
        })
    }

    pub(crate) fn winner(&self, id: &str) -> Result<Option<StoredDataset>, StoreError> {
        let rows = self.rows(
            &format!(
                "{} WHERE d.id = $1 AND d.archived_at IS NULL ORDER BY d.rank, d.source_id LIMIT 1",
                dataset_select()
            ),
            &[&id],
            Self::row_to_dataset,
        )?;
        Ok(rows.into_iter().next())
    }

    /// The winners of `ids` that have one, a statement per thousand ids.
    pub(crate) fn winners(&self, ids: &[String]) -> Result<Vec<StoredDataset>, StoreError> {
        let sql = format!("{} WHERE d.id = ANY($1) AND {WINNERS}", dataset_select());
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            found.extend(self.rows(&sql, &[&chunk], Self::row_to_dataset)?);
        }
        Ok(found)
    }

    pub(crate) fn provenance(&self, id: &str) -> Result<Vec<StoredDataset>, StoreError> {
        self.rows(
            &format!(
                "{} WHERE d.id = $1 ORDER BY d.archived_at IS NOT NULL, d.rank, d.source_id",
                dataset_select()
            ),
            &[&id],
            Self::row_to_dataset,
        )
    }

    pub(crate) fn archived(&self, source_id: &str) -> Result<Vec<StoredDataset>, StoreError> {
        self.rows(
            &format!(
                "{} WHERE d.source_id = $1 AND d.archived_at IS NOT NULL
                 ORDER BY d.archived_at DESC, d.id",
                dataset_select()
            ),
            &[&source_id],
            Self::row_to_dataset,
        )
    }

    /// Every winner (in id order when `by_id`), read through a portal a thousand rows at a
    /// time.
    pub(crate) fn for_each_dataset(
        &self,
        by_id: bool,
        mut f: impl FnMut(StoredDataset) + Send,
    ) -> Result<u64, StoreError> {
        let order = if by_id { " ORDER BY d.id" } else { "" };
        let sql = format!("{} WHERE {WINNERS}{order}", dataset_select());
        self.for_each_row(&sql, |row| {
            f(self.row_to_dataset(row)?);
            Ok(())
        })
    }

    /// Calls `f` with each row of `sql`, read a part at a time (through a portal, in one
    /// transaction); returns how many.
    fn for_each_row(
        &self,
        sql: &str,
        mut f: impl FnMut(&Row) -> Result<(), StoreError> + Send,
    ) -> Result<u64, StoreError> {
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            let portal = tx.bind(sql, &[]).map_err(e)?;
            let mut n = 0;
            loop {
                let rows = tx.query_portal(&portal, BATCH).map_err(e)?;
                if rows.is_empty() {
                    return Ok(n);
                }
                for row in &rows {
                    f(row)?;
                    n += 1;
                }
            }
        })
    }

    pub(crate) fn dataset_counts(&self) -> Result<HashMap<String, u64>, StoreError> {
        let rows = self.rows(
            "SELECT source_id, active FROM source_counts WHERE active > 0",
            &[],
            |s, r| {
                Ok((
                    r.try_get(0).map_err(|e| s.err(e))?,
                    count(r.try_get(1).map_err(|e| s.err(e))?),
                ))
            },
        )?;
        Ok(rows.into_iter().collect())
    }

    pub(crate) fn run_counts(&self) -> Result<Vec<(String, RunState, u64)>, StoreError> {
        self.rows(
            "SELECT source_id, outcome, count(*) FROM runs GROUP BY source_id, outcome
             ORDER BY source_id, outcome COLLATE \"C\"",
            &[],
            |s, r| {
                let outcome: String = r.try_get(1).map_err(|e| s.err(e))?;
                Ok((
                    r.try_get(0).map_err(|e| s.err(e))?,
                    outcome.parse().map_err(|e| s.corrupt(e))?,
                    count(r.try_get(2).map_err(|e| s.err(e))?),
                ))
            },
        )
    }

    pub(crate) fn last_runs(&self) -> Result<HashMap<String, StoredRun>, StoreError> {
        let runs = self.rows(
            &format!(
                "SELECT {RUN_COLUMNS} FROM runs
                 WHERE id IN (SELECT max(id) FROM runs GROUP BY source_id)"
            ),
            &[],
            Self::row_to_run,
        )?;
        Ok(runs
            .into_iter()
            .map(|run| (run.report.source_id.clone(), run))
            .collect())
    }

    pub(crate) fn runs(&self, source_id: &str, limit: u32) -> Result<Vec<StoredRun>, StoreError> {
        self.rows(
            &format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE source_id = $1 ORDER BY id DESC LIMIT $2"
            ),
            &[&source_id, &i64::from(limit)],
            Self::row_to_run,
        )
    }

    /// Counts a change to what the reports read besides the records and runs: see
    /// [`crate::StoreVersion::facts`].
    fn bump_facts(&self, tx: &mut Transaction<'_>) -> Result<(), StoreError> {
        tx.execute(
            "UPDATE meta SET value = value + 1 WHERE key = 'facts_seq'",
            &[],
        )
        .map_err(|e| self.err(e))
        .map(drop)
    }

    pub(crate) fn record_links(&self, rows: &[LinkRow]) -> Result<(), StoreError> {
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            let stmt = tx
                .prepare(
                    "INSERT INTO links (url, ok, status, error, elapsed_ms, checked_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (url) DO UPDATE SET ok = excluded.ok, status = excluded.status,
                       error = excluded.error, elapsed_ms = excluded.elapsed_ms,
                       checked_at = excluded.checked_at",
                )
                .map_err(e)?;
            for r in rows {
                tx.execute(
                    &stmt,
                    &[
                        &r.url,
                        &r.ok,
                        &r.status.map(i32::from),
                        &r.error,
                        &big(r.elapsed_ms),
                        &r.checked_at,
                    ],
                )
                .map_err(e)?;
            }
            self.bump_facts(tx)
        })
    }

    fn row_to_link(&self, r: &Row) -> Result<LinkRow, StoreError> {
        let e = |e| self.err(e);
        Ok(LinkRow {
            url: r.try_get(0).map_err(e)?,
            ok: r.try_get(1).map_err(e)?,
            status: r
                .try_get::<_, Option<i32>>(2)
                .map_err(e)?
                .and_then(|s| u16::try_from(s).ok()),
            error: r.try_get(3).map_err(e)?,
            elapsed_ms: count(r.try_get(4).map_err(e)?),
            checked_at: r.try_get(5).map_err(e)?,
        })
    }

    pub(crate) fn any_link_checked(&self) -> Result<bool, StoreError> {
        self.value("SELECT EXISTS (SELECT 1 FROM links)", &[])
    }

    /// `urls` sorted and without duplicates.
    pub(crate) fn link_rows(&self, urls: &[&str]) -> Result<Vec<LinkRow>, StoreError> {
        // A lookup by the primary key per URL. Given `url = ANY($1)` with thousands of URLs,
        // PostgreSQL chose to scan every link instead (in parallel, hashing the list): 0.15 s
        // a part of a rebuild over 600 000 links, and more as links grow. The `LIMIT` keeps
        // the lookup a subquery of its own, which it cannot plan as a join.
        self.rows(
            "SELECT l.url, l.ok, l.status, l.error, l.elapsed_ms, l.checked_at
             FROM unnest($1::text[]) AS u(url)
             CROSS JOIN LATERAL (SELECT * FROM links WHERE links.url = u.url LIMIT 1) l",
            &[&urls],
            Self::row_to_link,
        )
    }

    pub(crate) fn for_each_link_state(
        &self,
        mut f: impl FnMut(&str, bool, DateTime<Utc>) + Send,
    ) -> Result<u64, StoreError> {
        self.for_each_row("SELECT url, ok, checked_at FROM links", |row| {
            let e = |e| self.err(e);
            let url: &str = row.try_get(0).map_err(e)?;
            f(url, row.try_get(1).map_err(e)?, row.try_get(2).map_err(e)?);
            Ok(())
        })
    }

    pub(crate) fn log_searches(&self, searches: &[LoggedSearch]) -> Result<(), StoreError> {
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            let stmt = tx
                .prepare(
                    "INSERT INTO searches (at, query, filters, total, visitor, about)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .map_err(e)?;
            for s in searches {
                let filters = serde_json::to_string(&s.filters).unwrap_or_else(|_| "[]".into());
                let about = serde_json::to_string(&s.about).unwrap_or_else(|_| "[]".into());
                tx.execute(
                    &stmt,
                    &[&s.at, &s.query, &filters, &big(s.total), &s.visitor, &about],
                )
                .map_err(e)?;
            }
            self.bump_facts(tx)
        })
    }

    pub(crate) fn searches_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<LoggedSearch>, StoreError> {
        self.rows(
            "SELECT at, query, filters, total, visitor, about FROM searches WHERE at >= $1
             ORDER BY at, id",
            &[&since],
            |s, r| {
                let e = |e| s.err(e);
                let filters: String = r.try_get(2).map_err(e)?;
                let about: String = r.try_get(5).map_err(e)?;
                Ok(LoggedSearch {
                    at: r.try_get(0).map_err(e)?,
                    query: r.try_get(1).map_err(e)?,
                    filters: serde_json::from_str(&filters).unwrap_or_default(),
                    total: count(r.try_get(3).map_err(e)?),
                    visitor: r.try_get(4).map_err(e)?,
                    about: serde_json::from_str(&about).unwrap_or_default(),
                })
            },
        )
    }

    pub(crate) fn prune_searches(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        self.in_tx(|tx| {
            let pruned = tx
                .execute("DELETE FROM searches WHERE at < $1", &[&before])
                .map_err(|e| self.err(e))?;
            if pruned > 0 {
                self.bump_facts(tx)?;
            }
            Ok(usize::try_from(pruned).unwrap_or(usize::MAX))
        })
    }

    pub(crate) fn add_request(
        &self,
        at: DateTime<Utc>,
        request: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        self.in_tx(|tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO requests (at, request) VALUES ($1, $2) RETURNING id",
                    &[&at, &request.to_string()],
                )
                .map_err(|e| self.err(e))?
                .get(0);
            self.bump_facts(tx)?;
            Ok(id)
        })
    }

    pub(crate) fn requests(
        &self,
        since: DateTime<Utc>,
        id: Option<i64>,
    ) -> Result<Vec<StoredRequest>, StoreError> {
        self.rows(
            "SELECT id, at, request FROM requests WHERE at >= $1 AND ($2::BIGINT IS NULL OR id = $2)
             ORDER BY at DESC, id DESC",
            &[&since, &id],
            |s, r| {
                let e = |e| s.err(e);
                let body: String = r.try_get(2).map_err(e)?;
                Ok(StoredRequest {
                    id: r.try_get(0).map_err(e)?,
                    at: r.try_get(1).map_err(e)?,
                    request: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
                })
            },
        )
    }

    pub(crate) fn put_snapshot(&self, day: &str, kind: &str, body: &str) -> Result<(), StoreError> {
        self.in_tx(|tx| {
            // The same day's snapshot taken again unchanged changes nothing the reports read.
            let written = tx
                .execute(
                    "INSERT INTO snapshots (day, kind, body) VALUES ($1, $2, $3)
                     ON CONFLICT (day, kind) DO UPDATE SET body = excluded.body
                     WHERE snapshots.body <> excluded.body",
                    &[&day, &kind, &body],
                )
                .map_err(|e| self.err(e))?;
            if written > 0 {
                self.bump_facts(tx)?;
            }
            Ok(())
        })
    }

    pub(crate) fn snapshots(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.rows(
            "SELECT day, body FROM snapshots WHERE kind = $1 ORDER BY day",
            &[&kind],
            Self::pair,
        )
    }

    pub(crate) fn put_entry(
        &self,
        kind: &str,
        key: &str,
        body: &str,
        replace: bool,
    ) -> Result<bool, StoreError> {
        let sql = if replace {
            "INSERT INTO entries (kind, key, body) VALUES ($1, $2, $3)
             ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body"
        } else {
            "INSERT INTO entries (kind, key, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        };
        self.with(|c| {
            c.execute(sql, &[&kind, &key, &body])
                .map(|n| n > 0)
                .map_err(|e| self.err(e))
        })
    }

    pub(crate) fn entry(&self, kind: &str, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .rows(
                "SELECT body FROM entries WHERE kind = $1 AND key = $2",
                &[&kind, &key],
                |s, r| r.try_get(0).map_err(|e| s.err(e)),
            )?
            .pop())
    }

    pub(crate) fn entries(
        &self,
        kind: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.rows(
            "SELECT key, body FROM entries WHERE kind = $1 AND starts_with(key, $2) ORDER BY key",
            &[&kind, &prefix],
            Self::pair,
        )
    }

    pub(crate) fn update_entry(
        &self,
        kind: &str,
        key: &str,
        change: &mut (dyn FnMut(Option<String>) -> Option<String> + Send),
    ) -> Result<bool, StoreError> {
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            // The row, locked until the transaction ends; a new key, locked by the insert.
            let now: Option<String> = tx
                .query_opt(
                    "SELECT body FROM entries WHERE kind = $1 AND key = $2 FOR UPDATE",
                    &[&kind, &key],
                )
                .map_err(e)?
                .map(|r| r.get(0));
            let Some(body) = change(now) else {
                return Ok(false);
            };
            tx.execute(
                "INSERT INTO entries (kind, key, body) VALUES ($1, $2, $3)
                 ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
                &[&kind, &key, &body],
            )
            .map_err(e)?;
            Ok(true)
        })
    }

    pub(crate) fn remove_entry(&self, kind: &str, key: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM entries WHERE kind = $1 AND key = $2",
                &[&kind, &key],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
        })
    }
}

/// One PostgreSQL write transaction, as the shared apply logic drives it.
struct PgWrites<'a, 't> {
    tx: &'a mut Transaction<'t>,
    store: &'a Postgres,
    rows_of: Statement,
    put: Statement,
}

impl PgWrites<'_, '_> {
    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ::postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        self.tx.execute(sql, params).map_err(|e| self.store.err(e))
    }
}

impl Writes for PgWrites<'_, '_> {
    fn rows_of(&mut self, ids: &[&str]) -> Result<Vec<DatasetRow>, StoreError> {
        let e = |e| self.store.err(e);
        self.tx
            .query(&self.rows_of, &[&ids])
            .map_err(e)?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(e)?,
                    r.try_get(1).map_err(e)?,
                    r.try_get(2).map_err(e)?,
                    r.try_get(3).map_err(e)?,
                ))
            })
            .collect()
    }

    fn put(
        &mut self,
        records: &[(&DatasetRecord, i64)],
        source: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let column = |f: fn(&DatasetRecord) -> &str| -> Vec<&str> {
            records.iter().map(|(r, _)| f(r)).collect()
        };
        let municipalities: Vec<Option<&str>> = records
            .iter()
            .map(|(r, _)| r.municipality_code.as_deref())
            .collect();
        let graphs: Vec<Vec<u8>> = records
            .iter()
            .map(|(r, _)| crate::compress(&r.ntriples))
            .collect();
        let ranks: Vec<i64> = records.iter().map(|(_, rank)| *rank).collect();
        self.tx
            .execute(
                &self.put,
                &[
                    &column(|r| &r.id.0),
                    &source,
                    &column(|r| &r.iri),
                    &column(|r| &r.source_url),
                    &column(|r| &r.original_subject),
                    &municipalities,
                    &column(|r| &r.hash),
                    &graphs,
                    &at,
                    &ranks,
                ],
            )
            .map_err(|e| self.store.err(e))
            .map(drop)
    }

    fn counts(&mut self, source: &str) -> Result<(u64, u64), StoreError> {
        let row = self
            .tx
            .query_one(
                "SELECT count(*) FILTER (WHERE missing_since IS NOT NULL OR archived_at IS NOT NULL),
                        count(*)
                 FROM records WHERE source_id = $1",
                &[&source],
            )
            .map_err(|e| self.store.err(e))?;
        Ok((count(row.get(0)), count(row.get(1))))
    }

    fn marks(&mut self, source: &str) -> Result<Vec<(String, Marks)>, StoreError> {
        let e = |e| self.store.err(e);
        self.tx
            .query(
                "SELECT id, missing_since, archived_at FROM records WHERE source_id = $1",
                &[&source],
            )
            .map_err(e)?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(e)?,
                    (r.try_get(1).map_err(e)?, r.try_get(2).map_err(e)?),
                ))
            })
            .collect()
    }

    fn set_marks(&mut self, id: &str, source: &str, marks: Marks) -> Result<(), StoreError> {
        self.execute(
            "UPDATE records SET missing_since = $3, archived_at = $4 WHERE id = $1 AND source_id = $2",
            &[&id, &source, &marks.0, &marks.1],
        )
        .map(drop)
    }

    fn remove(&mut self, id: &str, source: &str) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM records WHERE id = $1 AND source_id = $2",
            &[&id, &source],
        )
        .map(drop)
    }

    fn add_active(&mut self, source: &str, delta: i64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO source_counts (source_id, active) VALUES ($1, $2)
             ON CONFLICT (source_id) DO UPDATE SET active = source_counts.active + excluded.active",
            &[&source, &delta],
        )
        .map(drop)
    }

    fn keep_pages(&mut self, source: &str, memos: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO pages (source_id, memos) VALUES ($1, $2)
             ON CONFLICT (source_id) DO UPDATE SET memos = excluded.memos",
            &[&source, &memos],
        )
        .map(drop)
    }

    fn record_run(
        &mut self,
        run: &RunRow,
        applied: &Applied,
        report: &str,
    ) -> Result<i64, StoreError> {
        let row = self
            .tx
            .query_one(
                "INSERT INTO runs (id, source_id, started, finished, outcome, new, changed, unchanged, archived, report)
                 VALUES (coalesce($1, nextval(pg_get_serial_sequence('runs', 'id'))), $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (id) DO UPDATE SET started = excluded.started, finished = excluded.finished,
                   outcome = excluded.outcome, new = excluded.new, changed = excluded.changed,
                   unchanged = excluded.unchanged, archived = excluded.archived, report = excluded.report
                 RETURNING id",
                &[
                    &run.id,
                    &run.report.source_id,
                    &run.report.started,
                    &run.report.finished,
                    &run.report.outcome.as_str(),
                    &big(applied.new),
                    &big(applied.changed),
                    &big(applied.unchanged),
                    &big(applied.archived),
                    &report,
                ],
            )
            .map_err(|e| self.store.err(e))?;
        Ok(row.get(0))
    }

    fn change_seq(&mut self, bump: bool) -> Result<u64, StoreError> {
        let sql = if bump {
            "UPDATE meta SET value = value + 1 WHERE key = 'change_seq' RETURNING value"
        } else {
            "SELECT value FROM meta WHERE key = 'change_seq'"
        };
        let row = self.tx.query_one(sql, &[]).map_err(|e| self.store.err(e))?;
        Ok(count(row.get(0)))
    }

    fn log_changes(
        &mut self,
        seq: u64,
        touched: &BTreeSet<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ids: Vec<&str> = touched.iter().copied().collect();
        let seq = big(seq);
        self.execute(
            "INSERT INTO changes (seq, id, removed)
             SELECT $1, t.id, NOT EXISTS (SELECT 1 FROM records r WHERE r.id = t.id AND r.archived_at IS NULL)
             FROM unnest($2::text[]) AS t(id)
             ON CONFLICT (seq, id) DO UPDATE SET removed = excluded.removed",
            &[&seq, &ids],
        )?;
        self.execute(
            "INSERT INTO change_times (seq, at) VALUES ($1, $2)
             ON CONFLICT (seq) DO UPDATE SET at = excluded.at",
            &[&seq, &at],
        )
        .map(drop)
    }
}
