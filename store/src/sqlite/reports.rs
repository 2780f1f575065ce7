//! What the reports keep beside the records, in SQLite.

use super::Sqlite;
use crate::{LinkRow, LoggedSearch, StoreError, StoredRequest};
use chrono::{DateTime, Utc};
use rusqlite::params;

/// Counts a change to what the reports read besides the records and runs (link results,
/// searches, data requests, snapshots): see [`crate::StoreVersion::facts`].
fn bump_facts(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'facts_seq'",
        [],
    )
    .map(|_| ())
}

impl Sqlite {
    /// Stores link-check results, replacing earlier ones for the same URLs.
    pub(crate) fn record_links(&self, rows: &[LinkRow]) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO links (url, ok, status, error, elapsed_ms, checked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(|e| self.err(e))?;
            for r in rows {
                stmt.execute(params![
                    r.url,
                    r.ok,
                    r.status,
                    r.error,
                    r.elapsed_ms as i64,
                    r.checked_at
                ])
                .map_err(|e| self.err(e))?;
            }
        }
        bump_facts(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Whether any link has been checked.
    pub(crate) fn any_link_checked(&self) -> Result<bool, StoreError> {
        let conn = self.reader()?;
        conn.query_row("SELECT EXISTS (SELECT 1 FROM links)", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// The stored results of those of `urls` that were checked.
    pub(crate) fn link_rows(&self, urls: &[&str]) -> Result<Vec<LinkRow>, StoreError> {
        let conn = self.reader()?;
        // A statement per thousand URLs (given as a JSON array), not one per URL: a harvest
        // asks for every changed dataset's links.
        let mut stmt = conn
            .prepare_cached(
                "SELECT url, ok, status, error, elapsed_ms, checked_at FROM links
                 WHERE url IN (SELECT value FROM json_each(?1))",
            )
            .map_err(|e| self.err(e))?;
        let mut found = Vec::new();
        for chunk in urls.chunks(1000) {
            let list = serde_json::to_string(chunk).map_err(StoreError::Report)?;
            let rows = stmt
                .query_map([list], |r| {
                    Ok(LinkRow {
                        url: r.get(0)?,
                        ok: r.get(1)?,
                        status: r.get(2)?,
                        error: r.get(3)?,
                        elapsed_ms: r.get::<_, i64>(4)? as u64,
                        checked_at: r.get(5)?,
                    })
                })
                .map_err(|e| self.err(e))?;
            for row in rows {
                found.push(row.map_err(|e| self.err(e))?);
            }
        }
        Ok(found)
    }

    pub(crate) fn for_each_link_state(
        &self,
        mut f: impl FnMut(&str, bool, DateTime<Utc>),
    ) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare("SELECT url, ok, checked_at FROM links")
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        let mut n = 0;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let url = row
                .get_ref(0)
                .and_then(|v| Ok(v.as_str()?))
                .map_err(|e| self.err(e))?;
            f(
                url,
                row.get(1).map_err(|e| self.err(e))?,
                row.get(2).map_err(|e| self.err(e))?,
            );
            n += 1;
        }
        Ok(n)
    }

    /// Logs searches (a batch in one transaction).
    pub(crate) fn log_searches(&self, searches: &[LoggedSearch]) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO searches (at, query, filters, total, visitor, about)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(|e| self.err(e))?;
            for s in searches {
                let filters = serde_json::to_string(&s.filters).unwrap_or_else(|_| "[]".into());
                let about = serde_json::to_string(&s.about).unwrap_or_else(|_| "[]".into());
                stmt.execute(params![
                    s.at,
                    s.query,
                    filters,
                    s.total as i64,
                    s.visitor,
                    about
                ])
                .map_err(|e| self.err(e))?;
            }
        }
        bump_facts(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Logged searches since `since`, oldest first.
    pub(crate) fn searches_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<LoggedSearch>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT at, query, filters, total, visitor, about FROM searches WHERE at >= ?1
                 ORDER BY at, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([since], |r| {
                let filters: String = r.get(2)?;
                let about: String = r.get(5)?;
                Ok(LoggedSearch {
                    at: r.get(0)?,
                    query: r.get(1)?,
                    filters: serde_json::from_str(&filters).unwrap_or_default(),
                    total: r.get::<_, i64>(3)? as u64,
                    visitor: r.get(4)?,
                    about: serde_json::from_str(&about).unwrap_or_default(),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Drops logged searches older than `before`; returns how many.
    pub(crate) fn prune_searches(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let pruned = tx
            .execute("DELETE FROM searches WHERE at < ?1", [before])
            .map_err(|e| self.err(e))?;
        if pruned > 0 {
            bump_facts(&tx).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(pruned)
    }

    /// Stores a data request; returns its id.
    pub(crate) fn add_request(
        &self,
        at: DateTime<Utc>,
        request: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO requests (at, request) VALUES (?1, ?2)",
            params![at, request.to_string()],
        )
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        bump_facts(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(id)
    }

    /// Data requests since `since` (only `id`, if given), newest first.
    pub(crate) fn requests(
        &self,
        since: DateTime<Utc>,
        id: Option<i64>,
    ) -> Result<Vec<StoredRequest>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, at, request FROM requests WHERE at >= ?1 AND (?2 IS NULL OR id = ?2)
                 ORDER BY at DESC, id DESC",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![since, id], |r| {
                let body: String = r.get(2)?;
                Ok(StoredRequest {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    request: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Keeps `body` as the snapshot of `kind` for `day` (`YYYY-MM-DD`), replacing the day's
    /// earlier one.
    pub(crate) fn put_snapshot(&self, day: &str, kind: &str, body: &str) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        // The same day's snapshot taken again unchanged changes nothing the reports read.
        let written = tx
            .execute(
                "INSERT INTO snapshots (day, kind, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT(day, kind) DO UPDATE SET body = excluded.body
                 WHERE body <> excluded.body",
                params![day, kind, body],
            )
            .map_err(|e| self.err(e))?;
        if written > 0 {
            bump_facts(&tx).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// The snapshots of `kind`, oldest day first.
    pub(crate) fn snapshots(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT day, body FROM snapshots WHERE kind = ?1 ORDER BY day")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Writes the entry `(kind, key)`; with `replace` false, only if there is none yet.
    /// Returns whether it was written.
    pub(crate) fn put_entry(
        &self,
        kind: &str,
        key: &str,
        body: &str,
        replace: bool,
    ) -> Result<bool, StoreError> {
        let sql = if replace {
            "INSERT INTO entries (kind, key, body) VALUES (?1, ?2, ?3)
             ON CONFLICT(kind, key) DO UPDATE SET body = excluded.body"
        } else {
            "INSERT INTO entries (kind, key, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"
        };
        let conn = self.writer();
        let written = conn
            .execute(sql, params![kind, key, body])
            .map_err(|e| self.err(e))?;
        Ok(written > 0)
    }

    /// The entry `(kind, key)`.
    pub(crate) fn entry(&self, kind: &str, key: &str) -> Result<Option<String>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT body FROM entries WHERE kind = ?1 AND key = ?2")
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query_map([kind, key], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        rows.next().transpose().map_err(|e| self.err(e))
    }

    /// The entries of `kind` whose key starts with `prefix`, by key.
    pub(crate) fn entries(
        &self,
        kind: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, body FROM entries WHERE kind = ?1 AND substr(key, 1, length(?2)) = ?2
                 ORDER BY key",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([kind, prefix], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Replaces the entry `(kind, key)` by what `change` makes of it, in one transaction:
    /// `None` in, no entry; `None` out, nothing written. Returns whether it was written.
    pub(crate) fn update_entry(
        &self,
        kind: &str,
        key: &str,
        change: &mut dyn FnMut(Option<String>) -> Option<String>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let now: Option<String> = tx
            .query_row(
                "SELECT body FROM entries WHERE kind = ?1 AND key = ?2",
                [kind, key],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(|e| self.err(e))?;
        let Some(body) = change(now) else {
            return Ok(false);
        };
        tx.execute(
            "INSERT INTO entries (kind, key, body) VALUES (?1, ?2, ?3)
             ON CONFLICT(kind, key) DO UPDATE SET body = excluded.body",
            params![kind, key, body],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Removes the entry `(kind, key)`; returns whether there was one.
    pub(crate) fn remove_entry(&self, kind: &str, key: &str) -> Result<bool, StoreError> {
        let conn = self.writer();
        let removed = conn
            .execute(
                "DELETE FROM entries WHERE kind = ?1 AND key = ?2",
                [kind, key],
            )
            .map_err(|e| self.err(e))?;
        Ok(removed > 0)
    }
}
