//! The store's own suite, run on both engines: SQLite in a state directory and PostgreSQL in a
//! throwaway cluster. Each test is written once and run twice (`<test>::sqlite`,
//! `<test>::postgres`).

use crate::pg::Cluster;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use samla_model::run::{Outcome, RunState};
use samla_model::{DatasetId, DatasetRecord};
use samla_store::{Access, LinkRow, LoggedSearch, Records, Retention, RunInput, RunRow, Store};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A new empty store on `engine`, with what keeps it alive.
pub struct Opened {
    pub store: Store,
    pub dir: tempfile::TempDir,
    pub url: Option<String>,
    _cluster: Option<Arc<Cluster>>,
}

impl Opened {
    /// Another store over the same data, for `access`.
    pub fn again(&self, access: Access) -> Store {
        match &self.url {
            Some(url) => Store::connect(url, access).expect("connect again"),
            None => Store::open_at(self.dir.path(), access).expect("open again"),
        }
    }
}

pub fn open(engine: Engine) -> Opened {
    let dir = tempfile::tempdir().expect("tempdir");
    match engine {
        Engine::Sqlite => Opened {
            store: Store::open(dir.path()).expect("store"),
            dir,
            url: None,
            _cluster: None,
        },
        Engine::Postgres => {
            let cluster = Cluster::shared();
            let url = cluster.database();
            Opened {
                store: Store::connect(&url, Access::Own).expect("store"),
                dir,
                url: Some(url),
                _cluster: Some(cluster),
            }
        }
    }
}

/// Runs each named test (a function taking the engine) on both engines.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(super::Engine::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name(super::Engine::Postgres)
                }
            }
        )*
    };
}

on_both_engines!(
    a_run_is_new_then_unchanged_then_changed,
    grace_period_then_archive_then_removal_with_restore_in_between,
    reads_go_on_beside_writes_and_see_one_commit,
    the_shown_record_is_the_best_ranked_source,
    the_change_log_gives_whole_transactions_and_removals,
    runs_are_reserved_recorded_and_ended,
    what_the_reports_keep_beside_the_records,
    a_read_only_store_refuses_writes,
    a_run_staged_on_disk_applies_as_one_held_in_memory,
    a_store_from_before_source_counts_is_given_them,
    a_large_run_applies_as_one_record_at_a_time_would,
);

fn a_run_staged_on_disk_applies_as_one_held_in_memory(engine: Engine) {
    let (held, staged) = (open(engine), open(engine));
    let staging = tempfile::tempdir().expect("tempdir");
    let t = whole_seconds(Utc::now());
    let ids: Vec<String> = (0..50).map(|i| format!("d{i}")).collect();
    let seen: Vec<&str> = ids.iter().map(String::as_str).collect();
    let records = || {
        ids.iter()
            .map(|id| (record(id, &format!("Badplats {id}")), 0))
    };
    for opened in [&held, &staged] {
        // d3 is another source's too, and that one ranks lower: the index must look it up.
        let other = run_at("other", t, vec![(record("d3", "Annan"), 5)], &["d3"]);
        opened.store.apply_runs(vec![other]).expect("apply");
    }
    let mut on_disk = Records::staged_in(staging.path(), 10);
    for (r, rank) in records() {
        on_disk.push(r, rank).expect("staged");
    }
    assert!(on_disk.is_staged());
    assert_eq!(on_disk.len(), 50);

    let a = held
        .store
        .apply_runs(vec![run_at("s", t, records().collect(), &seen)])
        .expect("apply held");
    let mut run = run_at("s", t, Vec::new(), &seen);
    run.records = on_disk;
    let b = staged.store.apply_runs(vec![run]).expect("apply staged");
    assert_eq!((a.runs[0].0.new, b.runs[0].0.new), (50, 50));
    // Held records go to the index as written; staged ones, which carry no view, are read
    // back from the store by the index.
    assert_eq!(
        (a.runs[0].1.len(), a.lookups.clone()),
        (50, vec!["d3".to_string()])
    );
    let mut all = ids.clone();
    all.sort();
    assert_eq!((b.runs[0].1.len(), b.lookups.clone()), (0, all));
    for id in &ids {
        let shown = |o: &Opened| {
            o.store
                .winner(id)
                .expect("winner")
                .map(|w| (w.source_id, w.hash, w.ntriples, w.iri, w.source_url))
        };
        assert_eq!(shown(&held), shown(&staged), "{id}");
        assert!(shown(&staged).is_some());
    }
    let logged = |o: &Opened| -> Vec<String> {
        o.store
            .changes_since(0, 1000)
            .expect("log")
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(logged(&held), logged(&staged));
    // The staging file goes with its run.
    assert_eq!(std::fs::read_dir(staging.path()).expect("dir").count(), 0);

    // A changed record staged on disk replaces the stored one; an unchanged one is counted so.
    let mut again = Records::staged_in(staging.path(), 0);
    again
        .push(record("d1", "Badplats d1, ändrad"), 0)
        .expect("staged");
    again.push(record("d2", "Badplats d2"), 0).expect("staged");
    let mut run = run_at("s", t, Vec::new(), &seen);
    run.records = again;
    let c = staged.store.apply_runs(vec![run]).expect("apply again");
    assert_eq!((c.runs[0].0.changed, c.runs[0].0.unchanged), (1, 1));
    let d1 = staged.store.winner("d1").expect("winner").expect("d1");
    assert!(d1.ntriples.contains("ändrad"), "{}", d1.ntriples);
}

fn a_large_run_applies_as_one_record_at_a_time_would(engine: Engine) {
    let opened = open(engine);
    let store = &opened.store;
    let t0 = whole_seconds(Utc::now());
    let id = |i: usize| format!("d{i:04}");
    let first: Vec<String> = (0..1500).map(id).collect();
    let seen: Vec<&str> = first.iter().map(String::as_str).collect();
    let records = first
        .iter()
        .map(|i| (record(i, &format!("{i} v1")), 0))
        .collect();
    store
        .apply_runs(vec![run_at("s", t0, records, &seen)])
        .expect("apply");
    // d0800 (changed below) is another source's too: its winner is looked up.
    store
        .apply_runs(vec![run_at(
            "t",
            t0,
            vec![(record(&id(800), "t's"), 0)],
            &[&id(800)],
        )])
        .expect("apply");
    // 0..700 unchanged, 700..1500 changed, 1500..2600 new; d2000 three times (the last two
    // next to each other, the thousandth and the one after); d0010 twice.
    let mut next: Vec<(DatasetRecord, i64)> = (0..2600)
        .filter(|i| *i != 2000)
        .map(|i| {
            let version = if i < 700 { "v1" } else { "v2" };
            (record(&id(i), &format!("{} {version}", id(i))), 0)
        })
        .collect();
    next.insert(5, (record(&id(2000), "early"), 0));
    next.insert(999, (record(&id(2000), "middle"), 0));
    next.insert(1000, (record(&id(2000), "late"), 0));
    next.insert(1500, (record(&id(10), "d0010 again"), 0));
    let all: Vec<String> = (0..2600).map(id).collect();
    let seen: Vec<&str> = all.iter().map(String::as_str).collect();
    let t1 = t0 + Duration::hours(1);
    let group = store
        .apply_runs(vec![run_at("s", t1, next, &seen)])
        .expect("apply");
    let (applied, written) = &group.runs[0];
    // d2000: new, then changed twice; d0010 unchanged, then changed.
    assert_eq!(
        (applied.unchanged, applied.changed, applied.new),
        (700, 800 + 1 + 2, 1099 + 1),
        "{applied:?}"
    );
    assert_eq!(written.len(), 800 + 1 + 2 + 1099 + 1);
    assert_eq!(group.lookups, vec![id(800)]);
    let hash = |i: usize| store.winner(&id(i)).expect("winner").expect("shown").hash;
    assert_eq!(hash(2000), record(&id(2000), "late").hash);
    assert_eq!(hash(10), record(&id(10), "d0010 again").hash);
    assert_eq!(hash(699), record(&id(699), &format!("{} v1", id(699))).hash);
    assert_eq!(
        hash(1499),
        record(&id(1499), &format!("{} v2", id(1499))).hash
    );
    let kept = store.winner(&id(5)).expect("winner").expect("shown");
    assert_eq!((kept.first_seen, kept.last_changed), (t0, t0));
    let changed = store.winner(&id(900)).expect("winner").expect("shown");
    assert_eq!((changed.first_seen, changed.last_changed), (t0, t1));
    assert_eq!(store.dataset_counts().expect("counts")["s"], 2600);
    let logged = store.changes_since(2, 10_000).expect("log");
    assert_eq!(logged.len(), 800 + 1 + 1099 + 1, "each written id once");
}

fn a_store_from_before_source_counts_is_given_them(engine: Engine) {
    let opened = open(engine);
    let store = opened.store.with_retention(Retention {
        archive_after: Duration::zero(),
        remove_after: Duration::days(30),
    });
    let t0 = whole_seconds(Utc::now());
    store
        .apply_runs(vec![
            run_at(
                "s",
                t0,
                vec![(record("a", "A"), 0), (record("b", "B"), 0)],
                &["a", "b"],
            ),
            run_at("t", t0, vec![(record("c", "C"), 0)], &["c"]),
        ])
        .expect("apply");
    // b is no longer listed: archived at once.
    let later = t0 + Duration::hours(1);
    store
        .apply_runs(vec![run_at("s", later, vec![], &["a"])])
        .expect("apply");
    let counts: std::collections::HashMap<String, u64> =
        [("s".to_string(), 1), ("t".to_string(), 1)].into();
    assert_eq!(store.dataset_counts().expect("counts"), counts);
    // The store as an earlier samla left it: no counts.
    match (&opened.url, &opened._cluster) {
        (Some(url), Some(cluster)) => cluster.execute(
            url,
            "DROP TABLE source_counts; DELETE FROM samla_migrations WHERE version = 4",
        ),
        _ => rusqlite::Connection::open(opened.dir.path().join("samla.sqlite"))
            .and_then(|c| c.execute_batch("DROP TABLE source_counts"))
            .expect("drop the counts"),
    }
    let reopened = match &opened.url {
        Some(url) => Store::connect(url, Access::Own),
        None => Store::open_at(opened.dir.path(), Access::Own),
    }
    .expect("opened again");
    assert_eq!(reopened.dataset_counts().expect("counts"), counts);
}

/// A time PostgreSQL keeps exactly (it keeps microseconds).
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).expect("a time")
}

pub fn record(id: &str, body: &str) -> DatasetRecord {
    let ntriples = format!("<https://x.se/{id}> <http://purl.org/dc/terms/title> \"{body}\" .\n");
    DatasetRecord {
        id: DatasetId(id.into()),
        iri: format!("https://x.se/{id}"),
        original_subject: format!("https://x.se/{id}"),
        source_url: "https://x.se/catalog".into(),
        municipality_code: None,
        hash: samla_model::record::hex(body.as_bytes()),
        ntriples,
        view: Default::default(),
    }
}

pub fn run_at(
    source: &str,
    at: DateTime<Utc>,
    records: Vec<(DatasetRecord, i64)>,
    seen: &[&str],
) -> RunInput {
    RunInput {
        records: records.into(),
        run: RunRow {
            id: None,
            unchanged_elsewhere: 0,
            report: {
                let mut report = samla_model::RunReport::start(source, "", at);
                report.finish(at);
                report
            },
        },
        seen: Some(seen.iter().map(|s| s.to_string()).collect()),
        pages: None,
    }
}

fn a_run_is_new_then_unchanged_then_changed(engine: Engine) {
    let opened = open(engine);
    let store = &opened.store;
    let t0 = whole_seconds(Utc::now());
    let first = store
        .apply_runs(vec![run_at(
            "s",
            t0,
            vec![(record("a", "A"), 0), (record("b", "B"), 0)],
            &["a", "b"],
        )])
        .expect("apply");
    let (applied, written) = &first.runs[0];
    assert_eq!((applied.new, applied.changed, applied.unchanged), (2, 0, 0));
    assert_eq!(written.len(), 2);
    assert!(first.changed);
    assert_eq!(applied.seq, 1);
    let a = store.winner("a").expect("winner").expect("a is shown");
    assert_eq!(
        a.ntriples,
        record("a", "A").ntriples,
        "the graph as written"
    );
    assert_eq!((a.first_seen, a.last_changed), (t0, t0));
    assert_eq!(
        a.last_harvested,
        Some(t0),
        "the source's last run that read"
    );
    assert_eq!(store.active_count("s").expect("count"), 2);
    assert_eq!(
        store.hashes_for_source("s").expect("hashes")["b"],
        record("b", "B").hash
    );

    // The same records again: nothing written, the sequence stays.
    let t1 = t0 + Duration::hours(1);
    let again = store
        .apply_runs(vec![run_at(
            "s",
            t1,
            vec![(record("a", "A"), 0), (record("b", "B"), 0)],
            &["a", "b"],
        )])
        .expect("apply");
    assert_eq!(again.runs[0].0.unchanged, 2);
    assert!(!again.changed);
    assert_eq!(store.change_seq().expect("seq"), 1);

    // One changed: written, first seen kept, the sequence moves once for the group.
    let t2 = t0 + Duration::hours(2);
    let changed = store
        .apply_runs(vec![
            run_at("s", t2, vec![(record("a", "A2"), 0)], &["a", "b"]),
            run_at("t", t2, vec![(record("c", "C"), 0)], &["c"]),
        ])
        .expect("apply");
    assert_eq!(changed.runs[0].0.changed, 1);
    assert_eq!(changed.runs[1].0.new, 1);
    assert_eq!(store.change_seq().expect("seq"), 2);
    let a = store.winner("a").expect("winner").expect("a");
    assert_eq!((a.first_seen, a.last_changed), (t0, t2));
    assert_eq!(a.hash, record("a", "A2").hash);
    let mut ids = Vec::new();
    assert_eq!(
        store
            .for_each_dataset(|d| ids.push(d.id))
            .expect("every dataset"),
        3
    );
    assert_eq!(ids, ["a", "b", "c"], "in id order");
    assert_eq!(
        store.dataset_counts().expect("counts"),
        [("s".to_string(), 2), ("t".to_string(), 1)]
            .into_iter()
            .collect()
    );
}

fn grace_period_then_archive_then_removal_with_restore_in_between(engine: Engine) {
    let opened = open(engine);
    let store = opened.store.with_retention(Retention {
        archive_after: Duration::hours(72),
        remove_after: Duration::days(30),
    });
    let t0 = whole_seconds(Utc::now());
    let day = |n: i64| t0 + Duration::days(n);
    let apply = |input| {
        store
            .apply_runs(vec![input])
            .expect("apply")
            .runs
            .remove(0)
            .0
    };
    apply(run_at(
        "s",
        day(0),
        vec![(record("a", "A"), 0), (record("b", "B"), 0)],
        &["a", "b"],
    ));
    let a = apply(run_at("s", day(1), vec![], &["a"]));
    assert_eq!(
        (a.missing, a.archived),
        (1, 0),
        "b is missing, within the grace period"
    );
    assert!(store.winner("b").expect("winner").is_some());
    let a = apply(run_at("s", day(2), vec![], &["a", "b"]));
    assert_eq!(a.archived, 0);
    assert!(
        store
            .winner("b")
            .expect("b")
            .expect("b")
            .missing_since
            .is_none(),
        "b is back"
    );
    apply(run_at("s", day(3), vec![], &["a"]));
    let a = apply(run_at("s", day(5), vec![], &["a"]));
    assert_eq!(a.archived, 0, "missing since day 3: two days");
    let a = apply(run_at("s", day(6), vec![], &["a"]));
    assert_eq!(a.archived, 1, "three days missing: archived");
    assert!(
        store.winner("b").expect("winner").is_none(),
        "out of search"
    );
    let archived = store.archived("s").expect("archived");
    assert_eq!(archived.len(), 1, "in the report");
    assert_eq!(
        (archived[0].missing_since, archived[0].archived_at),
        (Some(day(3)), Some(day(6)))
    );
    assert_eq!(store.active_count("s").expect("count"), 1);
    let a = apply(run_at("s", day(20), vec![], &["a"]));
    assert_eq!(a.removed, 0);
    let a = apply(run_at("s", day(37), vec![], &["a"]));
    assert_eq!(a.removed, 1, "thirty days archived: removed");
    assert!(store.provenance("b").expect("rows").is_empty());
}

fn reads_go_on_beside_writes_and_see_one_commit(engine: Engine) {
    // An iteration over the shown datasets (what the reports and a reindex do, for seconds at
    // scale) holds a read connection, not the writer: a run applies while it is paused in the
    // middle, and the iteration still sees the store as of the commit it started on.
    let opened = open(engine);
    let store = Arc::new(opened.again(Access::Own));
    let first: Vec<(DatasetRecord, i64)> = (0..2500)
        .map(|i| (record(&format!("a{i:04}"), "x"), 0))
        .collect();
    let seen: Vec<String> = (0..2500).map(|i| format!("a{i:04}")).collect();
    let seen: Vec<&str> = seen.iter().map(String::as_str).collect();
    store
        .apply_runs(vec![run_at("s", Utc::now(), first, &seen)])
        .expect("apply");
    let (paused, pause) = std::sync::mpsc::channel::<()>();
    let (resume, resumed) = std::sync::mpsc::channel::<()>();
    let reader = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            let mut n = 0;
            store
                .for_each_dataset(|_| {
                    n += 1;
                    if n == 10 {
                        let _ = paused.send(());
                        let _ = resumed.recv();
                    }
                })
                .expect("iteration")
        })
    };
    pause.recv().expect("the iteration pauses");
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            // Both before and after where the paused read is.
            let more = (0..20)
                .flat_map(|i| [format!("a{i:04}b"), format!("z{i}")])
                .map(|id| (record(&id, "y"), 0))
                .collect();
            store
                .apply_runs(vec![run_at("t", Utc::now(), more, &[])])
                .expect("apply beside the read")
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !writer.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "the write waits for the paused read"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    writer.join().expect("writer");
    resume.send(()).expect("resume");
    assert_eq!(
        reader.join().expect("reader"),
        2500,
        "the read's own commit"
    );
    assert_eq!(store.for_each_dataset(|_| {}).expect("count"), 2540);
}

fn the_shown_record_is_the_best_ranked_source(engine: Engine) {
    let opened = open(engine);
    let store = &opened.store;
    let now = Utc::now();
    // An aggregate (rank 4) and the publisher's own source "a" (rank 0) hold the same
    // dataset; a third source "B" of the same rank wins on its id: "B" sorts before "a" byte
    // by byte, on both engines, whatever order the database's language gives text.
    store
        .apply_runs(vec![run_at(
            "agg",
            now,
            vec![(record("d", "agg"), 4)],
            &["d"],
        )])
        .expect("apply");
    let own = store
        .apply_runs(vec![run_at(
            "a",
            now,
            vec![(record("d", "own"), 0)],
            &["d"],
        )])
        .expect("apply");
    assert_eq!(
        own.lookups,
        ["d"],
        "a contested dataset's winner is looked up"
    );
    let same = store
        .apply_runs(vec![run_at("B", now, vec![(record("d", "B"), 0)], &["d"])])
        .expect("apply");
    assert_eq!(same.lookups, ["d"]);
    assert_eq!(
        store.winner("d").expect("winner").expect("d").source_id,
        "B"
    );
    let rows: Vec<String> = store
        .provenance("d")
        .expect("rows")
        .into_iter()
        .map(|r| r.source_id)
        .collect();
    assert_eq!(rows, ["B", "a", "agg"], "winner first");
    // Many at once, as one at a time: an id without a record gives nothing.
    let many = store
        .winners(&["d".to_string(), "nothing".to_string()])
        .expect("winners");
    assert_eq!(
        many.iter()
            .map(|w| (w.id.as_str(), w.source_id.as_str()))
            .collect::<Vec<_>>(),
        [("d", "B")]
    );
    let mut shown = Vec::new();
    store
        .for_each_dataset(|d| shown.push(d.source_id))
        .expect("every dataset");
    assert_eq!(shown, ["B"], "one shown record per dataset");
    // A rebuild's read, in any order, shows the same winner.
    let mut any = Vec::new();
    store
        .for_each_dataset_any_order(|d| any.push((d.id, d.source_id)))
        .expect("every dataset");
    assert_eq!(any, [("d".to_string(), "B".to_string())]);
    assert_eq!(store.dataset_counts().expect("counts").len(), 3);
}

fn the_change_log_gives_whole_transactions_and_removals(engine: Engine) {
    let opened = open(engine);
    let store = opened.store.with_retention(Retention {
        archive_after: Duration::zero(),
        remove_after: Duration::days(30),
    });
    let t0 = whole_seconds(Utc::now());
    let ids: Vec<String> = (0..5).map(|i| format!("d{i}")).collect();
    let seen: Vec<&str> = ids.iter().map(String::as_str).collect();
    store
        .apply_runs(vec![run_at(
            "s",
            t0,
            ids.iter().map(|id| (record(id, "1"), 0)).collect(),
            &seen,
        )])
        .expect("apply");
    // d0 changes, d4 is no longer listed (archived at once here).
    store
        .apply_runs(vec![run_at(
            "s",
            t0 + Duration::hours(1),
            vec![(record("d0", "2"), 0)],
            &seen[..4],
        )])
        .expect("apply");
    let all = store.changes_since(0, 100).expect("log");
    let of = |seq: u64| -> Vec<(String, bool)> {
        all.iter()
            .filter(|c| c.seq == seq)
            .map(|c| (c.id.clone(), c.removed))
            .collect()
    };
    assert_eq!(of(1).len(), 5);
    assert!(of(1).iter().all(|(_, removed)| !removed));
    assert_eq!(
        of(2),
        [("d0".to_string(), false), ("d4".to_string(), true)],
        "the change and the removal"
    );
    // A limit inside a transaction gives the transactions before it whole...
    let some = store.changes_since(0, 6).expect("log");
    assert_eq!(some.len(), 5, "the first transaction, whole");
    // ...or the one transaction whole when it alone is over the limit.
    assert_eq!(store.changes_since(0, 2).expect("log").len(), 5);
    assert_eq!(store.changes_since(1, 100).expect("log").len(), 2);
    assert!(store.changes_since(2, 100).expect("log").is_empty());
    assert_eq!(store.change_log_start().expect("start"), 0);
    // Pruning what was logged before now leaves the log starting after the last sequence.
    assert_eq!(
        store
            .prune_changes(Utc::now() + Duration::seconds(1))
            .expect("prune"),
        2
    );
    assert!(store.changes_since(0, 100).expect("log").is_empty());
    assert_eq!(store.change_log_start().expect("start"), 2);
}

fn runs_are_reserved_recorded_and_ended(engine: Engine) {
    let opened = open(engine);
    let store = &opened.store;
    let t0 = whole_seconds(Utc::now());
    let before = store.version().expect("version");
    assert_eq!((before.runs, before.last_run), (0, None));
    let reserved = store.begin_run("s", t0).expect("reserve");
    assert_eq!(
        store.runs("s", 10).expect("runs")[0].outcome,
        RunState::Running
    );
    let mut input = run_at("s", t0, vec![(record("a", "A"), 0)], &["a"]);
    input.run.id = Some(reserved);
    input.pages = Some(r#"{"page":1}"#.into());
    let applied = store.apply_runs(vec![input]).expect("apply");
    assert_eq!(
        applied.runs[0].0.run_id, reserved,
        "the reserved row is completed"
    );
    let runs = store.runs("s", 10).expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].new, runs[0].outcome), (1, RunState::Success));
    assert_eq!(
        store.page_memos("s").expect("memos").as_deref(),
        Some(r#"{"page":1}"#)
    );
    assert_eq!(store.page_memos("t").expect("memos"), None);

    // A run the watchdog ended: recorded with its reason; ending it again changes nothing.
    let stuck = store.begin_run("t", t0).expect("reserve");
    store
        .end_run(stuck, "t", Outcome::TimedOut, "stuck")
        .expect("end");
    store
        .end_run(stuck, "t", Outcome::Failed, "again")
        .expect("end again");
    let last = store.last_runs().expect("last runs");
    assert_eq!(last["t"].outcome, RunState::TimedOut);
    assert_eq!(last["s"].id, reserved);
    let counts = store.run_counts().expect("counts");
    assert_eq!(
        counts,
        [
            ("s".to_string(), RunState::Success, 1),
            ("t".to_string(), RunState::TimedOut, 1)
        ]
    );
    let after = store.version().expect("version");
    assert_eq!(after.runs, u64::try_from(stuck).expect("id"));
    assert!(after.last_run.is_some());
    assert_eq!(after.change_seq, 1);
}

fn what_the_reports_keep_beside_the_records(engine: Engine) {
    let opened = open(engine);
    let store = &opened.store;
    let t0 = whole_seconds(Utc::now());
    let facts = || store.version().expect("version").facts;
    let start = facts();
    assert!(!store.any_link_checked().expect("links"));
    let link = |url: &str, ok: bool| LinkRow {
        url: url.into(),
        ok,
        status: ok.then_some(200),
        error: (!ok).then(|| "refused".into()),
        elapsed_ms: 12,
        checked_at: t0,
    };
    store
        .record_links(&[link("https://a.se/x", true), link("https://b.se/'y", false)])
        .expect("links");
    store
        .record_links(&[link("https://a.se/x", false)])
        .expect("links again");
    assert_eq!(facts(), start + 2);
    let rows = store
        .link_rows([
            "https://b.se/'y",
            "https://c.se/",
            "https://a.se/x",
            "https://a.se/x",
        ])
        .expect("rows");
    assert_eq!(
        rows,
        [
            ("https://a.se/x".to_string(), link("https://a.se/x", false)),
            (
                "https://b.se/'y".to_string(),
                link("https://b.se/'y", false)
            ),
        ]
        .into_iter()
        .collect(),
        "the latest result replaced the earlier; unchecked links are absent"
    );
    let states = store
        .link_states(["https://b.se/'y", "https://c.se/", "https://a.se/x"])
        .expect("states");
    assert_eq!(
        (
            states.len(),
            states.get("https://a.se/x"),
            states.get("https://b.se/'y"),
            states.get("https://c.se/"),
        ),
        (2, Some(false), Some(false), None)
    );
    store
        .record_links(&[LinkRow {
            checked_at: t0 + Duration::hours(1),
            ..link("https://c.se/ä", true)
        }])
        .expect("a third link");
    let every = store.link_table(None).expect("every link");
    let recent = store
        .link_table(Some(t0 + Duration::minutes(30)))
        .expect("recent links");
    let read = |table: &samla_store::LinkTable| {
        [
            "https://a.se/x",
            "https://b.se/'y",
            "https://c.se/ä",
            "https://c.se/",
        ]
        .map(|url| table.get(url))
    };
    assert_eq!(
        (every.len(), read(&every)),
        (3, [Some(false), Some(false), Some(true), None])
    );
    assert_eq!(
        (recent.len(), read(&recent)),
        (1, [None, None, Some(true), None]),
        "only those checked since"
    );

    let search = |days: i64, query: &str| LoggedSearch {
        at: t0 - Duration::days(days),
        query: query.into(),
        filters: vec![("format".into(), "CSV".into())],
        total: 3,
        visitor: format!("v{days}"),
        about: vec![(
            "theme".into(),
            "http://publications.europa.eu/resource/authority/data-theme/ENVI".into(),
        )],
    };
    store
        .log_searches(&[search(10, "gammal"), search(1, "badplatser"), search(0, "")])
        .expect("searches");
    let since = store
        .searches_since(t0 - Duration::days(2))
        .expect("searches");
    assert_eq!(since, [search(1, "badplatser"), search(0, "")]);
    assert_eq!(
        store.prune_searches(t0 - Duration::days(5)).expect("prune"),
        1
    );
    let before = facts();
    assert_eq!(
        store.prune_searches(t0 - Duration::days(5)).expect("prune"),
        0
    );
    assert_eq!(facts(), before, "pruning nothing changes nothing");

    let first = store
        .add_request(
            t0 - Duration::hours(2),
            &serde_json::json!({"title": "Träd"}),
        )
        .expect("request");
    let second = store
        .add_request(t0, &serde_json::json!({"title": "<b>x</b>"}))
        .expect("request");
    let requests = store
        .requests_since(t0 - Duration::days(1))
        .expect("requests");
    assert_eq!(
        requests.iter().map(|r| r.id).collect::<Vec<_>>(),
        [second, first],
        "newest first"
    );
    assert_eq!(requests[0].request["title"], "<b>x</b>");
    assert_eq!(
        store.request(first).expect("request").map(|r| r.id),
        Some(first)
    );
    assert_eq!(store.request(second + 1000).expect("request"), None);

    store
        .put_snapshot("2026-11-02", "coverage", "{\"b\":1}")
        .expect("snapshot");
    store
        .put_snapshot("2026-11-01", "coverage", "{\"a\":1}")
        .expect("snapshot");
    let before = facts();
    store
        .put_snapshot("2026-11-01", "coverage", "{\"a\":1}")
        .expect("the same again");
    assert_eq!(
        facts(),
        before,
        "a snapshot taken again unchanged changes nothing"
    );
    store
        .put_snapshot("2026-11-01", "coverage", "{\"a\":2}")
        .expect("snapshot");
    assert_eq!(facts(), before + 1);
    assert_eq!(
        store.snapshots("coverage").expect("snapshots"),
        [
            ("2026-11-01".to_string(), "{\"a\":2}".to_string()),
            ("2026-11-02".to_string(), "{\"b\":1}".to_string())
        ]
    );
    assert!(store.snapshots("quality").expect("snapshots").is_empty());

    // Keyed entries: written once unless replaced, listed by prefix, removed.
    assert!(store.put_entry("alert", "a1", "one", false).expect("entry"));
    assert!(
        !store.put_entry("alert", "a1", "two", false).expect("entry"),
        "only if new"
    );
    assert_eq!(
        store.entry("alert", "a1").expect("entry").as_deref(),
        Some("one")
    );
    assert!(store.put_entry("alert", "a1", "two", true).expect("entry"));
    assert!(store.put_entry("alert", "a2", "x", false).expect("entry"));
    assert!(store.put_entry("alert", "b%_1", "y", false).expect("entry"));
    assert!(store.put_entry("notice", "a3", "z", false).expect("entry"));
    let keys = |prefix: &str| -> Vec<String> {
        store
            .entries("alert", prefix)
            .expect("entries")
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    };
    assert_eq!(keys(""), ["a1", "a2", "b%_1"]);
    assert_eq!(keys("a"), ["a1", "a2"]);
    assert_eq!(keys("b%"), ["b%_1"], "a prefix is text, not a pattern");
    assert_eq!(keys("%"), Vec::<String>::new());
    assert_eq!(
        store.entries("alert", "a1").expect("entries"),
        [("a1".to_string(), "two".to_string())]
    );
    // A change reads the entry as it is and writes in the same transaction.
    assert!(
        store
            .update_entry("alert", "a2", |now| now.map(|b| format!("{b}+1")))
            .expect("update")
    );
    assert_eq!(
        store.entry("alert", "a2").expect("entry").as_deref(),
        Some("x+1")
    );
    assert!(
        !store
            .update_entry("alert", "gone", |now| now.map(|b| format!("{b}+1")))
            .expect("update"),
        "nothing there, nothing written"
    );
    assert_eq!(store.entry("alert", "gone").expect("entry"), None);
    assert!(
        store
            .update_entry("alert", "new", |now| Some(now.unwrap_or_default() + "n"))
            .expect("update")
    );
    assert_eq!(
        store.entry("alert", "new").expect("entry").as_deref(),
        Some("n")
    );
    assert!(store.remove_entry("alert", "a1").expect("remove"));
    assert!(!store.remove_entry("alert", "a1").expect("remove"));
    assert_eq!(store.entry("alert", "a1").expect("entry"), None);
}

fn a_read_only_store_refuses_writes(engine: Engine) {
    let opened = open(engine);
    opened
        .store
        .apply_runs(vec![run_at(
            "s",
            Utc::now(),
            vec![(record("a", "A"), 0)],
            &["a"],
        )])
        .expect("apply");
    let reader = opened.again(Access::ReadOnly);
    assert!(reader.winner("a").expect("reads").is_some());
    assert!(reader.begin_run("s", Utc::now()).is_err(), "writes fail");
    assert!(
        reader
            .add_request(Utc::now(), &serde_json::json!({}))
            .is_err()
    );
    // A search node's store writes what a search node writes.
    let beside = opened.again(Access::Beside);
    beside
        .log_searches(&[LoggedSearch {
            at: Utc::now(),
            query: "träd".into(),
            filters: vec![],
            total: 1,
            visitor: String::new(),
            about: vec![],
        }])
        .expect("a search node logs searches");
}

#[test]
fn a_source_is_held_by_one_harvester_node_at_a_time() {
    let opened = open(Engine::Postgres);
    let other = opened.again(Access::Own);
    let held = opened.store.lock_source("s").expect("lock").expect("free");
    assert!(
        other.lock_source("s").expect("lock").is_none(),
        "held by the first node"
    );
    assert!(
        other.lock_source("t").expect("lock").is_some(),
        "another source is free"
    );
    // The first node's run is left running; the node that takes the source next finds it
    // interrupted.
    let run = opened.store.begin_run("s", Utc::now()).expect("reserve");
    drop(held);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let taken = loop {
        if let Some(lock) = other.lock_source("s").expect("lock") {
            break lock;
        }
        assert!(std::time::Instant::now() < deadline, "the source is let go");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let runs = other.runs("s", 1).expect("runs");
    assert_eq!((runs[0].id, runs[0].outcome), (run, RunState::Interrupted));
    drop(taken);
}

#[test]
fn a_search_node_waits_for_a_harvester_to_make_the_store() {
    let cluster = Cluster::shared();
    let url = cluster.database();
    let error = Store::connect(&url, Access::Beside).expect_err("nothing to read yet");
    assert!(
        error.to_string().contains("start the harvester first"),
        "{error}"
    );
    assert!(
        !error.to_string().contains("password"),
        "the address is shown without secrets: {error}"
    );
    Store::connect(&url, Access::Own).expect("the harvester makes it");
    Store::connect(&url, Access::Beside).expect("then it reads");
}

#[test]
fn postgresql_over_tls_checks_whose_certificate_it_is() {
    let cluster = Cluster::shared();
    // `samla_tls` is refused without TLS by the server, so a store that works as it is
    // encrypted.
    let url = cluster.database().replacen("postgres@", "samla_tls@", 1);
    let ca = cluster.ca();
    let with = |url: &str, settings: &str| format!("{url}?{settings}");

    let error = Store::connect(&with(&url, "sslmode=disable"), Access::Own)
        .expect_err("the server wants TLS");
    assert!(error.to_string().contains("no encryption"), "{error}");

    let verified = with(
        &url,
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    );
    let store = Store::connect(&verified, Access::Own).expect("verified TLS");
    store
        .apply_runs(vec![run_at(
            "s",
            Utc::now(),
            vec![(record("d1", "Badplatser"), 0)],
            &["d1"],
        )])
        .expect("apply over TLS");
    assert_eq!(
        store.winner("d1").expect("read").map(|d| d.source_id),
        Some("s".to_string())
    );
    // As libpq: the default (`prefer`) and `require` encrypt where the server can.
    Store::connect(&url, Access::Beside).expect("prefer");
    Store::connect(&with(&url, "sslmode=require"), Access::Beside).expect("require");

    // A certificate for 127.0.0.1 is not one for localhost: the chain is good, the name not.
    let localhost = verified.replacen("127.0.0.1", "localhost", 1);
    let error = Store::connect(&localhost, Access::Beside).expect_err("another host's name");
    assert!(error.to_string().contains("TLS"), "{error}");
    Store::connect(
        &localhost.replacen("verify-full", "verify-ca", 1),
        Access::Beside,
    )
    .expect("verify-ca checks the chain only");

    // Trusting the system's roots, the test authority is nobody's.
    let error = Store::connect(
        &with(&url, "sslmode=verify-full&sslrootcert=system"),
        Access::Beside,
    )
    .expect_err("an unknown authority");
    assert!(error.to_string().contains("certificate"), "{error}");
    let error = Store::connect(&with(&url, "sslrootcert=/no/such/ca.pem"), Access::Beside)
        .expect_err("no root file");
    assert!(
        error.to_string().contains("sslrootcert /no/such/ca.pem"),
        "{error}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The same runs applied in any order leave the same record shown for every dataset, on
    /// either engine, and both engines show the same one.
    #[test]
    fn duplicate_precedence_does_not_depend_on_harvest_order_or_engine(
        // Per source (rank, the dataset ids it publishes out of five).
        sources in proptest::collection::vec((0i64..8, proptest::collection::btree_set(0u8..5, 1..5)), 2..5),
        order in Just(()).prop_perturb(|_, mut rng| {
            let mut o: Vec<usize> = (0..5).collect();
            for i in (1..o.len()).rev() {
                o.swap(i, (rng.next_u32() as usize) % (i + 1));
            }
            o
        }),
    ) {
        // Source names whose byte order differs from a natural language's.
        let names = ["Zeta", "alpha", "Ärla", "beta", "_x"];
        let runs = || -> Vec<RunInput> { sources
            .iter()
            .enumerate()
            .map(|(s, (rank, ids))| {
                let name = names[s];
                let records = ids
                    .iter()
                    .map(|i| (record(&format!("d{i}"), &format!("{name} {i}")), *rank))
                    .collect();
                let seen: Vec<String> = ids.iter().map(|i| format!("d{i}")).collect();
                let seen: Vec<&str> = seen.iter().map(String::as_str).collect();
                run_at(name, Utc::now(), records, &seen)
            })
            .collect() };
        let winners = |engine: Engine, runs: Vec<RunInput>| -> BTreeMap<String, (String, usize)> {
            let opened = open(engine);
            for run in runs {
                opened.store.apply_runs(vec![run]).expect("apply");
            }
            let shown: BTreeMap<String, (String, usize)> = (0..5)
                .filter_map(|i| {
                    let id = format!("d{i}");
                    let w = opened.store.winner(&id).expect("winner")?;
                    let sources = opened.store.provenance(&id).expect("rows").len();
                    Some((id, (w.source_id, sources)))
                })
                .collect();
            // A rebuild's read (in any order) shows each dataset once, by the same winner.
            let mut read = Vec::new();
            opened
                .store
                .for_each_dataset_any_order(|d| read.push((d.id, d.source_id)))
                .expect("every dataset");
            read.sort();
            let expected: Vec<(String, String)> =
                shown.iter().map(|(id, (s, _))| (id.clone(), s.clone())).collect();
            assert_eq!(read, expected);
            shown
        };
        let forward = winners(Engine::Sqlite, runs());
        let shuffled = || -> Vec<RunInput> {
            let mut all: Vec<Option<RunInput>> = runs().into_iter().map(Some).collect();
            order.iter().filter_map(|i| all.get_mut(*i).and_then(Option::take)).collect()
        };
        prop_assert_eq!(&forward, &winners(Engine::Sqlite, shuffled()));
        prop_assert_eq!(&forward, &winners(Engine::Postgres, shuffled()));
        // The winner is a source of lowest rank among those publishing the dataset, the
        // first by bytes among equals.
        for (id, (source, _)) in &forward {
            let i: u8 = id[1..].parse().expect("index");
            let best = sources
                .iter()
                .enumerate()
                .filter(|(_, (_, ids))| ids.contains(&i))
                .map(|(s, (r, _))| (*r, names[s].as_bytes()))
                .min()
                .map(|(_, name)| name);
            prop_assert_eq!(Some(source.as_bytes()), best);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Each source's count of active datasets, which every apply keeps, is the count of its
    /// records not archived, after any runs (new, changed, missing, archived, listed again,
    /// removed; complete or not; one or two applied together), on either engine.
    #[test]
    fn each_sources_count_is_its_records_not_archived(
        // Per run: (source, which of six ids it lists, their version, complete, days after
        // the run before, applied with the run before).
        steps in proptest::collection::vec(
            (0usize..2, 0u8..64, 0u8..2, proptest::bool::weighted(0.8), 1i64..3, proptest::bool::weighted(0.2)),
            1..16,
        ),
    ) {
        for engine in [Engine::Sqlite, Engine::Postgres] {
            let opened = open(engine);
            let store = opened.store.with_retention(Retention {
                archive_after: Duration::days(2),
                remove_after: Duration::days(3),
            });
            let names = ["s", "t"];
            let mut at = whole_seconds(Utc::now());
            let mut group: Vec<RunInput> = Vec::new();
            for (i, (source, listed, version, complete, days, _)) in steps.iter().enumerate() {
                at += Duration::days(*days);
                let ids: Vec<String> = (0..6).filter(|b| listed & (1 << b) != 0).map(|b| format!("d{b}")).collect();
                let records = ids
                    .iter()
                    .map(|id| (record(id, &format!("{id} {version}")), 0))
                    .collect();
                let seen: Vec<&str> = ids.iter().map(String::as_str).collect();
                let mut run = run_at(names[*source], at, records, &seen);
                if !complete {
                    run.seen = None;
                }
                group.push(run);
                if i + 1 == steps.len() || !steps[i + 1].5 {
                    store.apply_runs(std::mem::take(&mut group)).expect("apply");
                }
                let expected: std::collections::HashMap<String, u64> = names
                    .iter()
                    .map(|s| (s.to_string(), store.active_count(s).expect("count")))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                prop_assert_eq!(store.dataset_counts().expect("counts"), expected, "{:?} after run {}", engine, i);
            }
        }
    }
}
