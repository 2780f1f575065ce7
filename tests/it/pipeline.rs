//! Harvest → store → index over the simulated region on loopback, with real files on disk.

use crate::support::region;
use samla_harvester::Outcome;
use samla_indexer::Dimension;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harvests_the_simulated_region_into_search() {
    let r = region(600).await;
    let outcomes = r.harvest().await;
    assert_eq!(outcomes.len(), 34);
    assert_eq!(
        outcomes["osby"].report.outcome,
        Outcome::Failed,
        "the broken source fails"
    );
    assert_eq!(outcomes["malmo"].report.outcome, Outcome::Success);
    assert!(outcomes["lund"].report.pages > 1, "EntryScape pages");
    assert!(
        outcomes["trelleborg"].report.pages > 1,
        "Trelleborg has a sub-catalogue"
    );
    assert!(outcomes["helsingborg"].report.pages > 1, "EntryScape pages");
    assert!(outcomes["svedala"].report.problem_count("invalid_date") > 0);
    assert_eq!(
        outcomes["eslov"].report.problem_count("blank_node_dataset"),
        1
    );

    let indexed = r.samla.index.len() as usize;
    let read: u64 = outcomes.values().map(|o| o.report.datasets).sum();
    // Region Skåne republishes five municipal datasets: each is searchable once.
    assert_eq!(
        indexed as u64,
        read - 5,
        "every dataset read is searchable once"
    );
    assert!(indexed > 500, "{indexed}");

    // Several municipalities publish bathing sites.
    let bad = r.search("badplatser", &[]);
    let municipalities = &bad.facets[&Dimension::Municipality];
    assert!(municipalities.len() >= 5, "{municipalities:?}");
    // Accent-insensitive: malmo finds Malmö.
    let malmo = r.search("malmo", &[]);
    assert!(malmo.total > 100, "{}", malmo.total);
    assert!(
        malmo.facets[&Dimension::Municipality]
            .iter()
            .any(|(v, _)| v == "1280")
    );
    // Filters AND across dimensions, OR within one.
    let both = r.search(
        "badplatser",
        &[
            (Dimension::Municipality, "1280"),
            (Dimension::Municipality, "1281"),
        ],
    );
    assert!(both.hits.iter().all(|h| {
        matches!(
            h.publisher
                .as_ref()
                .and_then(|p| p.municipality_code.as_deref()),
            Some("1280" | "1281")
        )
    }));
    assert!(both.total > 0);
}

/// Every dataset of the index as a search shows it, and the counts of every facet (the
/// quality bands among them).
fn everything(r: &crate::support::Region) -> (Vec<samla_indexer::Hit>, String) {
    let page = |offset| {
        r.samla
            .index
            .search(&samla_indexer::SearchRequest {
                offset,
                limit: 100,
                ..Default::default()
            })
            .expect("search")
    };
    let first = page(0);
    let mut hits = first.hits;
    while hits.len() < first.total {
        hits.extend(page(hits.len()).hits);
    }
    hits.sort_by(|a, b| a.id.cmp(&b.id));
    (hits, format!("{:?}", first.facets))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_staged_on_disk_are_searchable_as_runs_held_in_memory() {
    let held = region(600).await;
    // Past five changed records, a run waits for its apply on disk; past ten triples, an
    // EntryScape catalog's triples wait there, and its records are made a batch at a time.
    let staged = crate::support::region_with(600, |h| {
        h.held_records = 5;
        h.held_triples = 10;
    })
    .await;
    for epoch in 0..2 {
        if epoch > 0 {
            // Changed, added and removed datasets.
            held.simulator.advance();
            staged.simulator.advance();
        }
        let (a, b) = (held.harvest().await, staged.harvest().await);
        // Each source's run reads and reports the same.
        let told = |o: &samla_pipeline::SourceOutcome| {
            let mut problems: Vec<(String, u64)> = o
                .report
                .problems
                .iter()
                .map(|p| (format!("{:?}", p.reason), p.count))
                .collect();
            problems.sort();
            (
                o.report.outcome,
                o.report.datasets,
                o.report.distributions,
                problems,
            )
        };
        for (id, outcome) in &a {
            assert_eq!(told(outcome), told(&b[id]), "{id}, epoch {epoch}");
        }
        assert!(
            a["lund"].report.datasets > 10,
            "an EntryScape catalog is read"
        );
        let shown = everything(&staged);
        assert!(shown.0.len() > 500, "{}", shown.0.len());
        assert_eq!(everything(&held), shown, "epoch {epoch}");
        let bad = |r: &crate::support::Region| {
            let found = r.search("badplatser", &[(Dimension::Municipality, "1280")]);
            (
                found.total,
                found.hits.into_iter().map(|h| h.id).collect::<Vec<_>>(),
            )
        };
        assert_eq!(bad(&held), bad(&staged));
    }
    let staging = staged.state.path().join("staging");
    assert!(staging.is_dir(), "the large runs were staged");
    assert_eq!(std::fs::read_dir(staging).expect("dir").count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compound_words_find_their_relatives_after_exact_matches() {
    let r = region(600).await;
    r.harvest().await;
    // Nothing is titled "laddstolpar"; the keyword is on some, the compound finds the rest.
    let hits = r.search("laddstolpar", &[]);
    assert!(hits.total > 0);
    assert!(
        hits.hits
            .iter()
            .all(|h| h.title.values().any(|t| t.to_lowercase().contains("ladd"))),
        "only charging datasets"
    );
    let infra = r.search("laddinfrastruktur", &[]);
    assert_eq!(
        infra.total,
        r.search("laddplatser", &[]).total,
        "every charging dataset, by either word"
    );
    // badminton is not a compound of bad.
    assert_eq!(r.search("badminton", &[]).total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_last_good_datasets_when_source_fails() {
    let r = region(400).await;
    r.harvest().await;
    let before = r.search("*", &[(Dimension::Municipality, "1281")]).total;
    assert!(before > 0);
    r.simulator.set_failing("lund", true);
    let lund = r.samla.config.source("lund").cloned().expect("lund");
    let outcome = r
        .samla
        .pipeline
        .harvest_source(
            &lund,
            tokio_util::sync::CancellationToken::new(),
            &samla_pipeline::Quiet,
        )
        .await
        .expect("run");
    assert_eq!(outcome.report.outcome, Outcome::Failed);
    assert_eq!(
        r.search("*", &[(Dimension::Municipality, "1281")]).total,
        before,
        "still searchable"
    );
    let runs = r.samla.store.runs("lund", 10).expect("runs");
    assert_eq!(runs[0].outcome, "failed", "the failure is visible");
    assert_eq!(runs[1].outcome, "success");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_reharvest_writes_nothing() {
    let r = region(400).await;
    r.harvest().await;
    let seq = r.samla.store.change_seq().expect("seq");
    let indexed_seq = r.samla.index.indexed_seq();
    let second = r.harvest().await;
    for (id, o) in &second {
        assert_eq!((o.applied.new, o.applied.changed), (0, 0), "{id}");
        assert_eq!(o.applied.unchanged, o.report.datasets, "{id}");
        if id != "osby" {
            // Every page answered 304: nothing was parsed.
            assert_eq!(o.report.outcome, Outcome::Unchanged, "{id}");
            assert_eq!(o.report.pages_not_modified, o.report.pages, "{id}");
        }
    }
    let runs = r.samla.store.runs("malmo", 1).expect("runs");
    assert_eq!(runs[0].outcome, "unchanged", "recorded as unchanged");
    assert_eq!(
        r.samla.store.change_seq().expect("seq"),
        seq,
        "no store change"
    );
    assert_eq!(r.samla.index.indexed_seq(), indexed_seq, "no index commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_that_held_the_most_datasets_start_first() {
    struct Starts(std::sync::Mutex<Vec<String>>);
    impl samla_pipeline::Progress for Starts {
        fn started(&self, source_id: &str) {
            self.0.lock().expect("lock").push(source_id.to_string());
        }
    }
    let r = region(400).await;
    let harvest = |starts: Arc<Starts>| {
        r.samla
            .pipeline
            .harvest_all(&r.samla.config.sources, 1, CancellationToken::new(), starts)
    };
    let first = Arc::new(Starts(Default::default()));
    harvest(Arc::clone(&first)).await;
    let enabled: Vec<&str> = r
        .samla
        .config
        .sources
        .iter()
        .filter(|s| s.enabled)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        *first.0.lock().expect("lock"),
        enabled,
        "nothing held yet: in order"
    );

    let held = r.samla.store.dataset_counts().expect("counts");
    let second = Arc::new(Starts(Default::default()));
    harvest(Arc::clone(&second)).await;
    let order = second.0.lock().expect("lock").clone();
    assert_eq!(order[0], "malmo", "{order:?}");
    let sizes: Vec<u64> = order
        .iter()
        .map(|id| held.get(id).copied().unwrap_or(0))
        .collect();
    assert!(sizes.is_sorted_by(|a, b| a >= b), "{order:?} {sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_bands_datasets_by_their_links_as_the_link_pass_did() {
    rebuild_bands_by_links(crate::store::Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_from_postgres_bands_datasets_by_their_links_as_the_link_pass_did() {
    rebuild_bands_by_links(crate::store::Engine::Postgres).await;
}

/// A rebuild reads every link's result at once; the index shows the quality bands the link
/// pass gave each dataset, a part at a time, before. The pass gathers its due links a few at
/// a time, and still checks each link once.
async fn rebuild_bands_by_links(engine: crate::store::Engine) {
    let r = crate::support::region_linked_on(engine, 400).await;
    r.harvest().await;
    let unchecked = everything(&r);
    let mut links = std::collections::HashSet::new();
    let (mut referenced, mut shared) = (0, 0);
    r.samla
        .reports
        .facts()
        .expect("facts")
        .each(|d| {
            for url in d.view.link_urls() {
                referenced += 1;
                shared += usize::from(!links.insert(url.clone()));
            }
        })
        .expect("facts");
    assert!(shared > 0, "some links are shared ({referenced} in all)");
    let cancel = tokio_util::sync::CancellationToken::new();
    let pass = r
        .samla
        .check_links_held(&cancel, 37)
        .await
        .expect("link pass");
    assert!(pass.checked > 500 && pass.broken > 0, "{pass:?}");
    assert_eq!(pass.checked, links.len(), "each link checked once");
    assert_eq!(
        r.samla.store.link_table(None).expect("links").len(),
        links.len()
    );
    let again = r
        .samla
        .check_links_held(&cancel, 37)
        .await
        .expect("second pass");
    assert_eq!((again.checked, again.fresh), (0, links.len()));
    let checked = everything(&r);
    assert_ne!(
        checked.1, unchecked.1,
        "the links' results move datasets' bands"
    );
    assert_eq!(
        r.samla.pipeline.reindex().expect("reindex") as usize,
        checked.0.len()
    );
    let rebuilt = everything(&r);
    assert_eq!(rebuilt.1, checked.1, "the bands among the facets");
    assert!(rebuilt.0 == checked.0, "the datasets as shown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_and_crash_recovery_rebuild_the_same_search_from_the_store() {
    rebuilds_the_same_search(crate::store::Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_and_crash_recovery_rebuild_the_same_search_from_postgres() {
    rebuilds_the_same_search(crate::store::Engine::Postgres).await;
}

async fn rebuilds_the_same_search(engine: crate::store::Engine) {
    // More datasets than a rebuild indexes at a time: it is given in parts, published whole.
    let r = crate::support::region_on(engine, 6000, |_| {}).await;
    r.harvest().await;
    assert!(r.samla.index.len() > 4000, "{}", r.samla.index.len());
    let before = r.search("parkering", &[]);
    assert_eq!(
        r.samla.pipeline.reindex().expect("reindex") as usize,
        r.samla.index.len() as usize
    );
    let after = r.search("parkering", &[]);
    assert_eq!(before.total, after.total);
    assert_eq!(before.facets, after.facets);

    // Lose the index entirely, as a crash before its first commit would: reopening rebuilds it.
    let count = r.samla.index.len();
    let config = r.samla.config.clone();
    let state = r.state.path().to_path_buf();
    let _kept = (r.state, r._cluster);
    drop(r.samla);
    std::fs::remove_dir_all(state.join("index")).expect("remove index");
    let parkering = |samla: &samla::app::Samla| {
        samla
            .index
            .search(&samla_indexer::SearchRequest {
                q: Some("parkering".into()),
                limit: 10,
                ..Default::default()
            })
            .expect("search")
    };
    let reopened = samla::app::Samla::open(config.clone(), &state).expect("reopen");
    assert_eq!(reopened.index.len(), count);
    let again = parkering(&reopened);
    assert_eq!(again.total, before.total);

    // An index another schema wrote (an earlier samla's) is rebuilt on opening, not an error.
    drop(reopened);
    std::fs::remove_dir_all(state.join("index")).expect("remove index");
    std::fs::create_dir_all(state.join("index")).expect("index dir");
    let mut old = tantivy::schema::Schema::builder();
    old.add_text_field("id", tantivy::schema::STRING | tantivy::schema::STORED);
    old.add_facet_field("municipality", tantivy::schema::FacetOptions::default());
    tantivy::Index::create_in_dir(state.join("index"), old.build()).expect("old index");
    let reopened = samla::app::Samla::open(config.clone(), &state).expect("reopen");
    assert_eq!(reopened.index.len(), count);
    let rebuilt = parkering(&reopened);
    assert_eq!(rebuilt.total, before.total);
    assert_eq!(rebuilt.facets, before.facets);

    // So is one whose segments this build cannot read (term dictionaries another build wrote,
    // or damaged ones): searches answer from the rebuilt index, not with an error.
    drop(reopened);
    let mut damaged = 0;
    for entry in std::fs::read_dir(state.join("index")).expect("index dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "term") {
            std::fs::write(&path, b"not a term dictionary").expect("damage");
            damaged += 1;
        }
    }
    assert!(damaged > 0, "the index has segments");
    let reopened = samla::app::Samla::open(config, &state).expect("reopen");
    assert_eq!(reopened.index.len(), count);
    let rebuilt = parkering(&reopened);
    assert_eq!(rebuilt.total, before.total);
    assert_eq!(rebuilt.facets, before.facets);
}

/// A source that held datasets and then answers with an empty body, a CKAN count with no
/// results, or EntryStore entries without metadata has a failed run with the reason named,
/// and keeps every dataset searchable: nothing is archived. The simulated region is served
/// through a proxy that turns hostile after the first harvest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_answering_empty_or_contradicting_itself_keeps_its_datasets() {
    use axum::http::{StatusCode, Uri, header};
    use axum::response::IntoResponse;
    use std::sync::atomic::{AtomicBool, Ordering};
    let region = samla::app::embedded_region().expect("region");
    let simulator = Arc::new(samla::app::simulator_for(&region, 400));
    let sim = crate::support::serve(Arc::clone(&simulator).router()).await;
    let hostile = Arc::new(AtomicBool::new(false));
    let proxy = {
        let hostile = Arc::clone(&hostile);
        axum::Router::new().fallback(move |uri: Uri| {
            let (hostile, sim) = (Arc::clone(&hostile), sim.clone());
            async move {
                let path = uri.path().to_string();
                if hostile.load(Ordering::SeqCst) {
                    let json = [(header::CONTENT_TYPE, "application/json")];
                    return if path.contains("package_search") {
                        (json, r#"{"success": true, "result": {"count": 1000000000, "results": []}}"#)
                            .into_response()
                    } else if path.ends_with("/store/search") {
                        let entry = r#"{"entryId": "1", "contextId": "1"}"#;
                        (json, format!(r#"{{"results": 2, "resource": {{"children": [{entry}, {entry}]}}}}"#))
                            .into_response()
                    } else {
                        ([(header::CONTENT_TYPE, "text/turtle")], "\n").into_response()
                    };
                }
                let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
                let Ok(answer) = reqwest::get(format!("{sim}{path}{query}")).await else {
                    return StatusCode::BAD_GATEWAY.into_response();
                };
                let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                let content_type = answer
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let body = answer.bytes().await.unwrap_or_default();
                (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
            }
        })
    };
    let base = crate::support::serve(proxy).await;
    let mut config = samla::app::simulated_config(&region, &simulator, &base).expect("config");
    config.harvest = crate::support::settings(1 << 26);
    let state = tempfile::tempdir().expect("tempdir");
    let samla = samla::app::Samla::open(config, state.path()).expect("open");
    let harvest = || samla.harvest_quietly(4);
    let first: std::collections::HashMap<_, _> = harvest()
        .await
        .into_iter()
        .map(|(id, o)| (id, o.expect("run")))
        .collect();
    let held = samla.index.len();
    assert!(held > 300, "{held}");
    for id in ["malmo", "helsingborg", "ystad"] {
        assert!(first[id].report.datasets > 0, "{id}");
    }

    hostile.store(true, Ordering::SeqCst);
    let second: std::collections::HashMap<_, _> = harvest()
        .await
        .into_iter()
        .map(|(id, o)| (id, o.expect("run")))
        .collect();
    for (id, reason) in [
        ("malmo", "inconsistent_count"),
        ("helsingborg", "no_metadata"),
        ("ystad", "empty_response"),
    ] {
        let report = &second[id].report;
        assert_eq!(report.outcome, Outcome::Failed, "{id}: {report:?}");
        assert_eq!(report.problem_count(reason), 1, "{id}: {report:?}");
        assert_eq!(
            second[id].applied.archived + second[id].applied.missing,
            0,
            "{id}"
        );
    }
    assert_eq!(samla.index.len(), held, "every dataset is still searchable");
}

/// A complete run that reads under half of what the source held is taken as partial: nothing
/// is archived or marked missing, and the reason is named. When the next run reads as few,
/// the catalog is believed: the datasets it no longer lists are marked missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_suddenly_lists_far_fewer_datasets_archives_nothing_until_seen_twice() {
    // (Its datasets have no publisher: they are also the case of a source's organisation
    // standing in for a missing publisher in the municipality facet.)
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listed = Arc::new(AtomicUsize::new(10));
    let router = {
        let listed = Arc::clone(&listed);
        axum::Router::new().route(
            "/catalog.ttl",
            axum::routing::get(move || {
                let n = listed.load(Ordering::SeqCst);
                async move {
                    let mut body = String::from(
                        "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n\
                         @prefix dcterms: <http://purl.org/dc/terms/> .\n",
                    );
                    for i in 0..n {
                        body.push_str(&format!(
                            "<https://k.example/d/{i}> a dcat:Dataset ; dcterms:title \"Dataset {i}\"@sv .\n"
                        ));
                    }
                    ([("content-type", "text/turtle")], body)
                }
            }),
        )
    };
    let base = crate::support::serve(router).await;
    let toml = crate::support::malmo_region(&format!("{base}/catalog.ttl"));
    let (samla, _state) = crate::support::harvested(&toml).await;
    assert_eq!(samla.index.len(), 10);
    // These datasets name no publisher: they count under the source's organisation.
    let malmo = samla
        .index
        .search(&samla_indexer::SearchRequest {
            filters: vec![(Dimension::Municipality, "1280".into())],
            limit: 20,
            ..Default::default()
        })
        .expect("search");
    assert_eq!(malmo.total, 10);
    let harvest = || async { samla.harvest_quietly(1).await.remove(0).1.expect("run") };
    listed.store(3, Ordering::SeqCst);
    let second = harvest().await;
    assert_eq!(
        second.report.outcome,
        Outcome::Partial,
        "{:?}",
        second.report
    );
    assert_eq!(second.report.problem_count("fewer_datasets"), 1);
    assert_eq!(second.applied.missing + second.applied.archived, 0);
    assert_eq!(samla.index.len(), 10, "every dataset is still searchable");

    let third = harvest().await;
    assert_eq!(third.report.outcome, Outcome::Success, "{:?}", third.report);
    assert_eq!(third.report.problem_count("fewer_datasets"), 1);
    assert_eq!(third.applied.missing + third.applied.archived, 7);
}

/// A search node keeps its own index and follows the store's change log: after each harvest
/// it answers as the harvester's own index does, having read only what changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_node_follows_the_change_log() {
    let r = crate::support::region_with(400, |h| h.archive_after = std::time::Duration::ZERO).await;
    r.harvest().await;
    let node_dir = tempfile::tempdir().expect("tempdir");
    let open = || samla_indexer::Indexer::open(&node_dir.path().join("index")).expect("open");
    let follow = |node: &samla_indexer::Indexer| r.samla.pipeline.follow(node).expect("follow");
    let same = |node: &samla_indexer::Indexer, when: &str| {
        assert_eq!(node.len(), r.samla.index.len(), "{when}: datasets");
        for q in ["badplatser", "laddstolpar malmö", "zoning plans", ""] {
            let request = samla_indexer::SearchRequest {
                q: (!q.is_empty()).then(|| q.to_string()),
                limit: 50,
                ..Default::default()
            };
            let ids = |index: &samla_indexer::Indexer| {
                let found = index.search(&request).expect("search");
                let mut ids: Vec<String> = found.hits.into_iter().map(|h| h.id).collect();
                ids.sort();
                (found.total, ids)
            };
            assert_eq!(ids(node), ids(&r.samla.index), "{when}: {q:?}");
        }
    };
    let node = open();
    let first = follow(&node);
    assert!(first.rebuilt && first.from.is_none(), "{first:?}");
    assert_eq!(first.to, r.samla.store.change_seq().expect("seq"));
    same(&node, "first harvest");

    // The region changes: datasets changed, added and removed (archived at once here).
    r.simulator.advance();
    r.harvest().await;
    let next = follow(&node);
    assert!(!next.rebuilt, "{next:?}");
    assert_eq!(next.from, Some(first.to));
    assert!(next.to > first.to);
    assert!(
        next.datasets > 0 && next.datasets < node.len() / 2,
        "only what changed is read: {next:?} of {}",
        node.len()
    );
    let removed = r
        .samla
        .store
        .changes_since(first.to, usize::MAX)
        .expect("changes")
        .iter()
        .filter(|c| c.removed)
        .count();
    assert!(removed > 0, "the log names removals");
    // A batch holds whole transactions: a limit inside one gives that one whole.
    let log = r.samla.store.changes_since(0, usize::MAX).expect("log");
    let first_seq = log[0].seq;
    let whole = log.iter().filter(|c| c.seq == first_seq).count();
    assert!(whole > 1, "{whole}");
    let cut = r.samla.store.changes_since(0, 1).expect("changes");
    assert_eq!(cut.len(), whole);
    let two = log.iter().filter(|c| c.seq <= log[whole].seq).count();
    let cut = r.samla.store.changes_since(0, whole + 1).expect("changes");
    assert_eq!(cut.len(), whole, "a transaction is not split");
    assert!(two > whole + 1);
    same(&node, "after a change");

    // A node restarted catches up from its own sequence, without a rebuild.
    drop(node);
    r.simulator.advance();
    r.harvest().await;
    let node = open();
    let restarted = follow(&node);
    assert!(!restarted.rebuilt, "{restarted:?}");
    assert_eq!(restarted.from, Some(next.to));
    same(&node, "after a restart");
    let idle = follow(&node);
    assert_eq!(
        (idle.from, idle.to, idle.datasets),
        (Some(restarted.to), restarted.to, 0)
    );
}

/// A search node that follows while harvests apply never takes a sequence number as applied
/// without its changes: after the harvests, one more follow gives the harvester's answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_node_following_during_harvests_misses_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let r = crate::support::region_with(400, |h| h.archive_after = std::time::Duration::ZERO).await;
    r.harvest().await;
    let node_dir = tempfile::tempdir().expect("tempdir");
    let node =
        Arc::new(samla_indexer::Indexer::open(&node_dir.path().join("index")).expect("open"));
    r.samla.pipeline.follow(&node).expect("follow");
    let stop = Arc::new(AtomicBool::new(false));
    let follower = {
        let (pipeline, node, stop) = (
            Arc::clone(&r.samla.pipeline),
            Arc::clone(&node),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || {
            let mut follows = 0u64;
            while !stop.load(Ordering::Acquire) {
                pipeline.follow(&node).expect("follow");
                follows += 1;
            }
            follows
        })
    };
    for _ in 0..4 {
        r.simulator.advance();
        r.harvest().await;
    }
    stop.store(true, Ordering::Release);
    let follows = follower.join().expect("follower");
    assert!(follows > 10, "{follows}");
    r.samla.pipeline.follow(&node).expect("follow");
    assert_eq!(node.len(), r.samla.index.len());
    let all = |index: &samla_indexer::Indexer| {
        let found = index
            .search(&samla_indexer::SearchRequest {
                limit: 10_000,
                ..Default::default()
            })
            .expect("search");
        let mut hits: Vec<(String, String)> = found
            .hits
            .into_iter()
            .map(|h| (h.id, format!("{:?}", h.title)))
            .collect();
        hits.sort();
        hits
    };
    assert_eq!(all(&node), all(&r.samla.index));
}
