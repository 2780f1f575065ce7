//! Applying runs: the one piece of logic both engines share. Each engine gives the statements
//! of one transaction ([`Writes`]); the rules (what is new, changed, unchanged, missing,
//! archived, restored or removed, which ids need their winner looked up, when the change
//! sequence moves and what the change log says) are written once, here.

use crate::{Applied, GroupApplied, Retention, RunInput, RunRow, StoreError, staged};
use chrono::{DateTime, Utc};
use samla_model::DatasetRecord;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A record's marks: since when complete runs have not listed it, and when it was archived.
pub(crate) type Marks = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A dataset's row as the apply reads it: (id, source id, hash, archived).
pub(crate) type DatasetRow = (String, String, String, bool);

/// Records looked up and written at a time: a statement each on PostgreSQL, not one a record.
const CHUNK: usize = 1000;

/// The statements of one write transaction, as an engine runs them.
pub(crate) trait Writes {
    /// The rows of these datasets, in any order: (id, source id, hash, archived).
    fn rows_of(&mut self, ids: &[&str]) -> Result<Vec<DatasetRow>, StoreError>;
    /// Writes records of `source`, each with its rank, no id twice (new rows, or replacing
    /// theirs, which are then neither missing nor archived); a new row is first seen `at`.
    fn put(
        &mut self,
        records: &[(&DatasetRecord, i64)],
        source: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// How many rows of `source` are marked (missing or archived), and how many it has.
    fn counts(&mut self, source: &str) -> Result<(u64, u64), StoreError>;
    /// Every row of `source` with its marks.
    fn marks(&mut self, source: &str) -> Result<Vec<(String, Marks)>, StoreError>;
    /// Sets (or clears, with `(None, None)`) a row's marks.
    fn set_marks(&mut self, id: &str, source: &str, marks: Marks) -> Result<(), StoreError>;
    /// Deletes a row.
    fn remove(&mut self, id: &str, source: &str) -> Result<(), StoreError>;
    /// Adds `delta` to the count of `source`'s active (not archived) rows.
    fn add_active(&mut self, source: &str, delta: i64) -> Result<(), StoreError>;
    /// Keeps a source's page memos.
    fn keep_pages(&mut self, source: &str, memos: &str) -> Result<(), StoreError>;
    /// Records a run (completing its reserved row if it has one); returns its id.
    fn record_run(
        &mut self,
        run: &RunRow,
        applied: &Applied,
        report: &str,
    ) -> Result<i64, StoreError>;
    /// Bumps the change sequence number if `bump`; returns it.
    fn change_seq(&mut self, bump: bool) -> Result<u64, StoreError>;
    /// Appends the changes of transaction `seq` to the change log: each of `touched`,
    /// upserted if it still has an active row, else removed; and when it was made.
    fn log_changes(
        &mut self,
        seq: u64,
        touched: &BTreeSet<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Applies runs through `tx` (the caller commits): writes the records whose hash changed,
/// marks, archives and removes what complete runs no longer list, keeps page memos, records
/// each run, and bumps the change sequence once if anything changed.
pub(crate) fn apply_runs(
    tx: &mut impl Writes,
    runs: Vec<RunInput>,
    retention: Retention,
) -> Result<GroupApplied, StoreError> {
    let mut out = GroupApplied::default();
    let mut lookups: HashSet<String> = HashSet::new();
    let mut changed = false;
    for input in runs {
        let RunInput {
            records,
            run,
            seen,
            pages,
        } = input;
        let source = run.report.source_id.as_str();
        let mut applied = Applied {
            unchanged: run.unchanged_elsewhere,
            ..Applied::default()
        };
        let mut written = Vec::new();
        let mut chunk = Chunk::default();
        for next in records.drain()? {
            let next = next?;
            // An id twice in one part would be written before it is read: a part of its own.
            if chunk.next.len() == CHUNK || chunk.ids.contains(&next.record.id.0) {
                changed |= chunk.apply(tx, &run, &mut applied, &mut lookups, &mut written)?;
            }
            chunk.ids.insert(next.record.id.0.clone());
            chunk.next.push(next);
        }
        changed |= chunk.apply(tx, &run, &mut applied, &mut lookups, &mut written)?;
        if let Some(seen) = seen {
            settle_missing(tx, &run, &seen, retention, &mut applied, &mut lookups)?;
            changed |= applied.archived + applied.restored + applied.removed > 0;
        }
        // Rows that became active (new, or archived and listed again) less those archived;
        // a removed row was archived already.
        let active = signed(applied.new) + signed(applied.restored) - signed(applied.archived);
        if active != 0 {
            tx.add_active(source, active)?;
        }
        if let Some(memos) = pages {
            tx.keep_pages(source, &memos)?;
        }
        let report = serde_json::to_string(&run.report).map_err(StoreError::Report)?;
        applied.run_id = tx.record_run(&run, &applied, &report)?;
        out.runs.push((applied, written));
    }
    let seq = tx.change_seq(changed)?;
    if changed {
        let touched: BTreeSet<&str> = out
            .runs
            .iter()
            .flat_map(|(_, written)| written.iter().map(|r| r.id.0.as_str()))
            .chain(lookups.iter().map(String::as_str))
            .collect();
        tx.log_changes(seq, &touched, Utc::now())?;
    }
    for (applied, _) in &mut out.runs {
        applied.seq = seq;
    }
    let mut lookups: Vec<String> = lookups.into_iter().collect();
    lookups.sort();
    out.lookups = lookups;
    out.changed = changed;
    Ok(out)
}

/// A part of a run's records, read and written together.
#[derive(Default)]
struct Chunk {
    next: Vec<staged::Next>,
    ids: HashSet<String>,
}

impl Chunk {
    /// Writes the records whose hash changed (or whose row was archived) and empties the
    /// part; whether any was written.
    fn apply(
        &mut self,
        tx: &mut impl Writes,
        run: &RunRow,
        applied: &mut Applied,
        lookups: &mut HashSet<String>,
        written: &mut Vec<DatasetRecord>,
    ) -> Result<bool, StoreError> {
        if self.next.is_empty() {
            return Ok(false);
        }
        let source = run.report.source_id.as_str();
        let ids: Vec<&str> = self.next.iter().map(|n| n.record.id.0.as_str()).collect();
        // Per id: its row of this source (hash, archived), and whether another source has
        // it active.
        let mut rows: HashMap<String, (Option<(String, bool)>, bool)> = HashMap::new();
        for (id, row_source, hash, archived) in tx.rows_of(&ids)? {
            let entry = rows.entry(id).or_default();
            if row_source == source {
                entry.0 = Some((hash, archived));
            } else if !archived {
                entry.1 = true;
            }
        }
        let mut put = Vec::with_capacity(self.next.len());
        // Per record: whether it goes to the caller as written (a record read back from disk
        // has no view: the index reads it from the store).
        let mut keep = Vec::with_capacity(self.next.len());
        for next in &self.next {
            let (old, contested) = rows.remove(&next.record.id.0).unwrap_or_default();
            match old {
                Some((hash, false)) if hash == next.record.hash => {
                    applied.unchanged += 1;
                    keep.push(false);
                    continue;
                }
                Some((_, true)) => applied.restored += 1,
                Some(_) => applied.changed += 1,
                None => applied.new += 1,
            }
            if contested || next.from_disk {
                lookups.insert(next.record.id.0.clone());
            }
            keep.push(!next.from_disk);
            put.push((&next.record, next.rank));
        }
        let wrote = !put.is_empty();
        if wrote {
            tx.put(&put, source, run.report.finished)?;
        }
        drop(put);
        for (next, keep) in self.next.drain(..).zip(keep) {
            if keep {
                written.push(next.record);
            }
        }
        self.ids.clear();
        Ok(wrote)
    }
}

/// A count as a difference's term.
fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// After a complete run: what the source no longer lists is marked missing, archived after
/// the grace period, removed after the retention period; what it lists again is restored.
fn settle_missing(
    tx: &mut impl Writes,
    run: &RunRow,
    seen: &[String],
    retention: Retention,
    applied: &mut Applied,
    lookups: &mut HashSet<String>,
) -> Result<(), StoreError> {
    let source = run.report.source_id.as_str();
    let now = run.report.finished;
    // The common case, checked on the indexes alone: nothing of the source is marked, and the
    // run listed as many datasets as the source has (every id a run lists is a row of the
    // source by now), so nothing is missing.
    let (marked, all) = tx.counts(source)?;
    if marked == 0 && all == seen.len() as u64 {
        return Ok(());
    }
    let seen: HashSet<&str> = seen.iter().map(String::as_str).collect();
    for (id, (missing_since, archived_at)) in tx.marks(source)? {
        if seen.contains(id.as_str()) {
            if missing_since.is_some() || archived_at.is_some() {
                tx.set_marks(&id, source, (None, None))?;
                if archived_at.is_some() {
                    applied.restored += 1;
                    lookups.insert(id);
                }
            }
            continue;
        }
        match (missing_since, archived_at) {
            (_, Some(archived)) => {
                if now - archived >= retention.remove_after {
                    tx.remove(&id, source)?;
                    applied.removed += 1;
                }
            }
            (since, None) => {
                let since = since.unwrap_or(now);
                if since == now {
                    applied.missing += 1;
                }
                if now - since >= retention.archive_after {
                    tx.set_marks(&id, source, (Some(since), Some(now)))?;
                    applied.archived += 1;
                    lookups.insert(id);
                } else if missing_since.is_none() {
                    tx.set_marks(&id, source, (Some(since), None))?;
                }
            }
        }
    }
    Ok(())
}
