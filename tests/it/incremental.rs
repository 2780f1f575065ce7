//! Incremental harvests: sources that change between runs, missing datasets archived after
//! the grace period and removed after retention, failed runs that delete nothing, and
//! duplicate precedence that does not depend on the order of harvests.

use crate::support::{region, region_with};
use chrono::{Duration, Utc};
use proptest::prelude::*;
use samla_harvester::Outcome;
use samla_indexer::Dimension;
use samla_model::{DatasetId, DatasetRecord};
use samla_store::{Retention, RunInput, RunRow, Store};
use std::collections::BTreeMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_between_runs_are_applied_and_missing_datasets_archived() {
    let r = region_with(1000, |h| h.archive_after = std::time::Duration::ZERO).await;
    r.harvest().await;
    let lund_before = r.search("*", &[(Dimension::Municipality, "1281")]).total;
    let held_before = r.samla.store.dataset_counts().expect("counts");
    r.simulator.advance();
    let second = r.harvest().await;
    let sum = |f: fn(&samla_store::Applied) -> u64| -> u64 {
        second.values().map(|o| f(&o.applied)).sum()
    };
    let (new, changed, archived) = (sum(|a| a.new), sum(|a| a.changed), sum(|a| a.archived));
    assert!(
        new > 0 && changed > 0 && archived > 0,
        "{new} {changed} {archived}"
    );
    // Most datasets are unchanged (Malmö's CKAN is read incrementally: its unchanged packages
    // are not even asked for).
    assert!(sum(|a| a.unchanged) > 500, "most datasets are unchanged");
    // Archived datasets leave search but stay visible in the source's report.
    let lund = &second["lund"].applied;
    let lund_after = r.search("*", &[(Dimension::Municipality, "1281")]).total;
    assert_eq!(
        lund_after as u64,
        lund_before as u64 + lund.new - lund.archived
    );
    let gone = r.samla.store.archived("lund").expect("archived");
    assert_eq!(gone.len() as u64, lund.archived);
    // Lund's count of datasets leaves the archived ones out.
    assert!(lund.archived > 0, "Lund dropped datasets");
    let held = r.samla.store.dataset_counts().expect("counts");
    assert_eq!(
        held["lund"],
        held_before["lund"] + lund.new + lund.restored - lund.archived
    );
    let shown = r.search("*", &[(Dimension::Municipality, "1281")]);
    assert!(shown.total <= 100, "all of Lund on one page");
    for d in &gone {
        assert!(
            shown.hits.iter().all(|h| h.id != d.id),
            "{} left search",
            d.id
        );
    }
    // Nothing changes twice: a third run against the same epoch is unchanged.
    let third = r.harvest().await;
    assert_eq!(third["lund"].report.outcome, Outcome::Unchanged);
    assert_eq!(third["lund"].applied.archived, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn within_the_grace_period_missing_datasets_stay_searchable() {
    let r = region(600).await; // the default grace period: 72 hours
    r.harvest().await;
    let before = r.search("*", &[]).total;
    r.simulator.advance();
    let second = r.harvest().await;
    let missing: u64 = second.values().map(|o| o.applied.missing).sum();
    let new: u64 = second.values().map(|o| o.applied.new).sum();
    assert!(missing > 0);
    assert_eq!(second.values().map(|o| o.applied.archived).sum::<u64>(), 0);
    assert_eq!(
        r.search("*", &[]).total as u64,
        before as u64 + new,
        "nothing left search"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_archives_nothing() {
    let r = region_with(600, |h| h.archive_after = std::time::Duration::ZERO).await;
    r.harvest().await;
    let before = r.search("*", &[(Dimension::Municipality, "1281")]).total;
    r.simulator.advance();
    r.simulator.set_failing("lund", true);
    let second = r.harvest().await;
    assert_eq!(second["lund"].report.outcome, Outcome::Failed);
    assert_eq!(second["lund"].applied.archived, 0);
    assert!(r.samla.store.archived("lund").expect("archived").is_empty());
    assert_eq!(
        r.search("*", &[(Dimension::Municipality, "1281")]).total,
        before
    );
}

fn record(id: &str, body: &str) -> DatasetRecord {
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

fn run_at(
    source: &str,
    at: chrono::DateTime<Utc>,
    records: Vec<(DatasetRecord, i64)>,
    seen: &[&str],
) -> RunInput {
    RunInput {
        records,
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

#[test]
fn reads_go_on_beside_writes_and_see_one_commit() {
    // An iteration over the shown datasets (what the reports and a reindex do, for seconds at
    // scale) holds a read connection, not the writer: a run applies while it is paused in the
    // middle, and the iteration still sees the store as of the commit it started on.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = std::sync::Arc::new(Store::open(dir.path()).expect("store"));
    let first: Vec<(DatasetRecord, i64)> = (0..50)
        .map(|i| (record(&format!("a{i}"), "x"), 0))
        .collect();
    let seen: Vec<String> = (0..50).map(|i| format!("a{i}")).collect();
    let seen: Vec<&str> = seen.iter().map(String::as_str).collect();
    store
        .apply_runs(vec![run_at("s", Utc::now(), first, &seen)])
        .expect("apply");
    let (paused, pause) = std::sync::mpsc::channel::<()>();
    let (resume, resumed) = std::sync::mpsc::channel::<()>();
    let reader = {
        let store = std::sync::Arc::clone(&store);
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
        let store = std::sync::Arc::clone(&store);
        std::thread::spawn(move || {
            let more = (0..20)
                .map(|i| (record(&format!("b{i}"), "y"), 0))
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
    assert_eq!(reader.join().expect("reader"), 50, "the read's own commit");
    assert_eq!(store.for_each_dataset(|_| {}).expect("count"), 70);
}

#[test]
fn writes_reach_the_database_file_without_waiting_for_a_big_write() {
    // The write-ahead log is checkpointed in the background after commits: the database file
    // alone (a copy without its log) soon holds what was written, though a few hundred
    // records are far from the size that would set off SQLite's own checkpoint.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let ids: Vec<String> = (0..300).map(|i| format!("d{i}")).collect();
    let seen: Vec<&str> = ids.iter().map(String::as_str).collect();
    let records = ids.iter().map(|id| (record(id, id), 0)).collect();
    store
        .apply_runs(vec![run_at("s", Utc::now(), records, &seen)])
        .expect("apply");
    let copy = tempfile::tempdir().expect("tempdir");
    let file = copy.path().join("samla.sqlite");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        std::fs::copy(dir.path().join("samla.sqlite"), &file).expect("copy");
        // A copy taken while the checkpoint writes may not open: try again.
        let held: i64 = rusqlite::Connection::open(&file)
            .and_then(|c| c.query_row("SELECT count(*) FROM records", [], |r| r.get(0)))
            .unwrap_or(0);
        if held == 300 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the database file holds {held} of 300 records"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn grace_period_then_archive_then_removal_with_restore_in_between() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path())
        .expect("store")
        .with_retention(Retention {
            archive_after: Duration::hours(72),
            remove_after: Duration::days(30),
        });
    let t0 = Utc::now();
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
    assert_eq!(
        store.archived("s").expect("archived").len(),
        1,
        "in the report"
    );
    let a = apply(run_at("s", day(20), vec![], &["a"]));
    assert_eq!(a.removed, 0);
    let a = apply(run_at("s", day(37), vec![], &["a"]));
    assert_eq!(a.removed, 1, "thirty days archived: removed");
    assert!(store.provenance("b").expect("rows").is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The same runs applied in any order leave the same record shown for every dataset.
    #[test]
    fn duplicate_precedence_does_not_depend_on_harvest_order(
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
        let runs: Vec<RunInput> = sources
            .iter()
            .enumerate()
            .map(|(s, (rank, ids))| {
                let name = format!("source-{s}");
                let records = ids
                    .iter()
                    .map(|i| (record(&format!("d{i}"), &format!("{name} {i}")), *rank))
                    .collect();
                let seen: Vec<String> = ids.iter().map(|i| format!("d{i}")).collect();
                let seen: Vec<&str> = seen.iter().map(String::as_str).collect();
                run_at(&name, Utc::now(), records, &seen)
            })
            .collect();
        let winners = |runs: Vec<RunInput>| -> BTreeMap<String, (String, usize)> {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(dir.path()).expect("store");
            for run in runs {
                store.apply_runs(vec![run]).expect("apply");
            }
            (0..5)
                .filter_map(|i| {
                    let id = format!("d{i}");
                    let w = store.winner(&id).expect("winner")?;
                    let sources = store.provenance(&id).expect("rows").len();
                    Some((id, (w.source_id, sources)))
                })
                .collect()
        };
        let forward = winners(runs.clone());
        let shuffled: Vec<RunInput> = order
            .iter()
            .filter(|i| **i < runs.len())
            .map(|i| runs[*i].clone())
            .collect();
        prop_assert_eq!(&forward, &winners(shuffled));
        // The winner is a source of lowest rank among those publishing the dataset.
        for (id, (source, _)) in &forward {
            let i: u8 = id[1..].parse().expect("index");
            let best = sources.iter().filter(|(_, ids)| ids.contains(&i)).map(|(r, _)| *r).min();
            let s: usize = source["source-".len()..].parse().expect("n");
            prop_assert_eq!(Some(sources[s].0), best);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ckan_reads_only_packages_modified_since_until_a_full_run_is_due() {
    let r = region_with(1000, |h| h.archive_after = std::time::Duration::ZERO).await;
    let first = r.harvest().await;
    let published = first["malmo"].report.datasets;
    let before = r.search("*", &[(Dimension::Municipality, "1280")]).total as u64;
    r.simulator.advance();
    let second = r.harvest().await;
    let malmo = &second["malmo"];
    assert!(malmo.report.incremental, "{:?}", malmo.report);
    assert_eq!(malmo.report.outcome, Outcome::Success);
    assert!(
        malmo.report.datasets > 0 && malmo.report.datasets < published / 5,
        "only the modified packages: {} of {published}",
        malmo.report.datasets
    );
    assert!(malmo.applied.new > 0 && malmo.applied.changed > 0);
    assert_eq!(
        (malmo.applied.missing, malmo.applied.archived),
        (0, 0),
        "an incremental run archives nothing"
    );
    let after = r.search("*", &[(Dimension::Municipality, "1280")]).total as u64;
    assert_eq!(after, before + malmo.applied.new);
    let runs = r.samla.store.runs("malmo", 1).expect("runs");
    assert!(runs[0].report.incremental);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_full_ckan_run_catches_deletions() {
    let r = region_with(1000, |h| {
        h.archive_after = std::time::Duration::ZERO;
        h.full_harvest_every = std::time::Duration::ZERO;
    })
    .await;
    r.harvest().await;
    r.simulator.advance();
    let second = r.harvest().await;
    let malmo = &second["malmo"];
    assert!(!malmo.report.incremental);
    assert!(malmo.applied.archived > 0, "{:?}", malmo.applied);
}
