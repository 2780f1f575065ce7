//! Incremental harvests: sources that change between runs, missing datasets archived after
//! the grace period and removed after retention, failed runs that delete nothing (the store's
//! own rules, on both engines, are in `store`).

use crate::store::{record, run_at};
use crate::support::{region, region_with};
use chrono::Utc;
use samla_harvester::Outcome;
use samla_indexer::Dimension;
use samla_store::Store;

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
