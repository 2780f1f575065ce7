//! Hostile and broken sources, each served by a loopback server written here: every run ends
//! within its timeout with its reason named, what can be read is kept, and the memory of the
//! process stays bounded (its peak resident size, from `/proc/self/status`, under 1 GB).

use crate::support::{collected, serve, settings, source};
use axum::Router;
use axum::extract::Query;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use samla_config::HarvestSettings;
use samla_harvester::{Harvester, Outcome, RunReport};
use samla_model::DatasetRecord;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const PREFIXES: &str = "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n\
    @prefix dcterms: <http://purl.org/dc/terms/> .\n\
    @prefix hydra: <http://www.w3.org/ns/hydra/core#> .\n";

const RDF_XML_HEAD: &str = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">"#;

/// The process's peak resident memory so far, in bytes.
fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb * 1024
}

fn assert_memory_bounded() {
    let peak = peak_resident_bytes();
    assert!(peak < 1 << 30, "peak resident memory {peak} bytes");
}

fn turtle(body: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/turtle")], body)
}

fn rdf_xml(body: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/rdf+xml")], body)
}

/// The "billion laughs": ten entities of ten uses each, nine deep (a few hundred bytes that
/// expand to gigabytes).
fn billion_laughs() -> String {
    let mut dtd = String::from(r#"<!ENTITY lol0 "lol">"#);
    for i in 1..10 {
        dtd.push_str(&format!(
            r#"<!ENTITY lol{i} "{}">"#,
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    format!(
        r#"<?xml version="1.0"?><!DOCTYPE rdf:RDF [{dtd}]>{RDF_XML_HEAD}<dcat:Dataset rdf:about="https://k.example/d/1"><dct:title>&lol9;</dct:title></dcat:Dataset></rdf:RDF>"#
    )
}

fn hostile_router() -> Router {
    Router::new()
        .route("/laughs.rdf", get(|| async { rdf_xml(billion_laughs()) }))
        .route(
            "/deep.rdf",
            get(|| async {
                let n = 100_000;
                rdf_xml(format!(
                    r#"{RDF_XML_HEAD}<dcat:Dataset rdf:about="https://k.example/d/1">{}x{}</dcat:Dataset></rdf:RDF>"#,
                    "<dct:relation><rdf:Description>".repeat(n),
                    "</rdf:Description></dct:relation>".repeat(n)
                ))
            }),
        )
        .route(
            "/literal.ttl",
            get(|| async {
                turtle(format!(
                    "{PREFIXES}<https://k.example/d/1> a dcat:Dataset ; dcterms:title \"Lång\"@sv ;\n\
                     dcterms:description \"{}\"@sv .\n\
                     <https://k.example/d/2> a dcat:Dataset ; dcterms:title \"Kort\"@sv .\n",
                    "x".repeat(50 << 20)
                ))
            }),
        )
        .route(
            "/keywords.nt",
            get(|| async {
                let d = "<https://k.example/d/1>";
                let mut body = format!(
                    "{d} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset> .\n\
                     {d} <http://purl.org/dc/terms/title> \"Ord\"@sv .\n"
                );
                for i in 0..100_000 {
                    body.push_str(&format!(
                        "{d} <http://www.w3.org/ns/dcat#keyword> \"ord{i}\"@sv .\n"
                    ));
                }
                ([(header::CONTENT_TYPE, "application/n-triples")], body)
            }),
        )
        // An endless Hydra chain: every page the same dataset and a next page.
        .route(
            "/chain",
            get(|Query(q): Query<HashMap<String, u64>>| async move {
                let page = q.get("page").copied().unwrap_or(1);
                turtle(format!(
                    "{PREFIXES}<https://k.example/d/1> a dcat:Dataset ; dcterms:title \"Samma\"@sv .\n\
                     <?page={page}> hydra:next <?page={}> .\n",
                    page + 1
                ))
            }),
        )
        // A page whose next page is on another host (the same server, named otherwise).
        .route(
            "/leave",
            get(|headers: axum::http::HeaderMap| async move {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default();
                let port = host.rsplit(':').next().unwrap_or_default();
                turtle(format!(
                    "{PREFIXES}<https://k.example/d/here> a dcat:Dataset ; dcterms:title \"Här\"@sv .\n\
                     <> hydra:next <http://localhost:{port}/elsewhere> .\n"
                ))
            }),
        )
        .route(
            "/elsewhere",
            get(|| async {
                turtle(format!(
                    "{PREFIXES}<https://k.example/d/there> a dcat:Dataset ; dcterms:title \"Där\"@sv .\n"
                ))
            }),
        )
        // Dates the index cannot hold as they are.
        .route(
            "/dates.ttl",
            get(|| async {
                turtle(format!(
                    "{PREFIXES}<https://k.example/d/far> a dcat:Dataset ; dcterms:title \"Framtid\"@sv ;\n\
                     dcterms:modified \"9999-12-31\"^^<http://www.w3.org/2001/XMLSchema#date> .\n\
                     <https://k.example/d/old> a dcat:Dataset ; dcterms:title \"Forntid\"@sv ;\n\
                     dcterms:modified \"1200-01-01\"^^<http://www.w3.org/2001/XMLSchema#date> .\n\
                     <https://k.example/d/now> a dcat:Dataset ; dcterms:title \"Nutid\"@sv ;\n\
                     dcterms:modified \"2024-05-01\"^^<http://www.w3.org/2001/XMLSchema#date> .\n"
                ))
            }),
        )
        // Sub-catalogues that lead back to the catalog.
        .route(
            "/cycle/a",
            get(|| async {
                turtle(format!(
                    "{PREFIXES}<> a dcat:Catalog ; dcterms:hasPart <b> ; dcat:dataset <https://k.example/d/a> .\n\
                     <https://k.example/d/a> a dcat:Dataset ; dcterms:title \"A\"@sv .\n"
                ))
            }),
        )
        .route(
            "/cycle/b",
            get(|| async {
                turtle(format!(
                    "{PREFIXES}<> a dcat:Catalog ; dcterms:hasPart <a> ; dcat:dataset <https://k.example/d/b> .\n\
                     <https://k.example/d/b> a dcat:Dataset ; dcterms:title \"B\"@sv .\n"
                ))
            }),
        )
        // A CKAN whose paging never ends: every page the same package, and a count of a
        // million.
        .route(
            "/ckan/api/3/action/package_search",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"success": true, "result": {"count": 1000000, "results": [
                        {"id": "8f7d1c8e-8d5e-4a4c-9a55-3d0b8f4c9a01", "name": "samma", "title": "Samma",
                         "metadata_modified": "2026-01-01T00:00:00", "resources": []}]}}"#,
                )
            }),
        )
        // A server that takes the request and never answers.
        .route("/silent", get(std::future::pending::<String>))
        .route(
            "/utf8.nt",
            get(|| async {
                let mut body = b"<https://k.example/d/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset> .\n\
                    <https://k.example/d/1> <http://purl.org/dc/terms/title> \"Caf\xE9\"@sv .\n".to_vec();
                body.extend_from_slice(b"<https://k.example/d/2> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset> .\n");
                ([(header::CONTENT_TYPE, "application/n-triples")], body)
            }),
        )
}

fn hostile_harvester(tune: impl FnOnce(&mut HarvestSettings)) -> Harvester {
    let mut settings = HarvestSettings {
        header_timeout: Duration::from_secs(1),
        run_timeout: Duration::from_secs(30),
        ..settings(1 << 27)
    };
    tune(&mut settings);
    crate::support::harvester_with(settings)
}

async fn harvest(
    harvester: &Harvester,
    source: &samla_config::SourceConfig,
) -> (RunReport, Vec<DatasetRecord>, Duration) {
    let started = Instant::now();
    let (report, records) =
        collected(|tx| harvester.run(source, tx, CancellationToken::new())).await;
    (report, records, started.elapsed())
}

fn titles(records: &[DatasetRecord]) -> Vec<String> {
    let mut t: Vec<String> = records
        .iter()
        .flat_map(|r| r.view.title.values().cloned())
        .collect();
    t.sort();
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_expansion_and_deep_nesting_fail_at_once_in_bounded_memory() {
    let base = serve(hostile_router()).await;
    let harvester = hostile_harvester(|_| {});
    for (path, reason) in [
        ("/laughs.rdf", "entity_expansion"),
        ("/deep.rdf", "too_deep"),
    ] {
        let (report, records, took) =
            harvest(&harvester, &source("h", &format!("{base}{path}"))).await;
        assert_eq!(report.outcome, Outcome::Failed, "{path}: {report:?}");
        assert_eq!(report.problem_count(reason), 1, "{path}: {report:?}");
        assert!(records.is_empty());
        assert!(took < Duration::from_secs(10), "{path} took {took:?}");
    }
    assert_memory_bounded();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_literal_and_a_huge_list_are_cut_and_named() {
    let base = serve(hostile_router()).await;
    let harvester = hostile_harvester(|_| {});
    let (report, records, _) =
        harvest(&harvester, &source("h", &format!("{base}/literal.ttl"))).await;
    assert_eq!(report.problem_count("literal_too_long"), 1, "{report:?}");
    // The value is left out; the dataset it describes stays, as does the rest of the page.
    assert_eq!(titles(&records), ["Kort", "Lång"]);
    assert!(records.iter().all(|r| r.ntriples.len() < 10_000));
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");

    let (report, records, _) =
        harvest(&harvester, &source("h", &format!("{base}/keywords.nt"))).await;
    assert_eq!(report.problem_count("list_too_long"), 1, "{report:?}");
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].view.keywords.len(),
        samla_model::record::MAX_VALUES_PER_PROPERTY
    );
    assert_memory_bounded();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_paging_stops_when_it_brings_nothing_new() {
    let base = serve(hostile_router()).await;
    let harvester = hostile_harvester(|_| {});
    let (report, records, took) =
        harvest(&harvester, &source("h", &format!("{base}/chain?page=1"))).await;
    assert_eq!(report.outcome, Outcome::Partial, "{report:?}");
    assert_eq!(report.problem_count("no_progress"), 1, "{report:?}");
    assert_eq!(records.len(), 1);
    assert!(report.pages <= 8, "{report:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");

    let mut ckan = source("h", &format!("{base}/ckan/"));
    ckan.protocol = samla_config::Protocol::Ckan;
    let (report, records, _) = harvest(&harvester, &ckan).await;
    assert_eq!(report.outcome, Outcome::Partial, "{report:?}");
    assert_eq!(report.problem_count("no_progress"), 1, "{report:?}");
    assert_eq!(records.len(), 1);
    assert!(report.pages <= 8, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_has_part_cycle_is_named() {
    let base = serve(hostile_router()).await;
    let harvester = hostile_harvester(|_| {});
    let (report, records, _) = harvest(&harvester, &source("h", &format!("{base}/cycle/a"))).await;
    assert_eq!(report.problem_count("has_part_cycle"), 1, "{report:?}");
    assert_eq!(titles(&records), ["A", "B"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_costs_one_character_not_the_page() {
    let base = serve(hostile_router()).await;
    let harvester = hostile_harvester(|_| {});
    let (report, records, _) = harvest(&harvester, &source("h", &format!("{base}/utf8.nt"))).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(report.problem_count("invalid_utf8"), 1, "{report:?}");
    assert_eq!(records.len(), 2);
    assert!(titles(&records).contains(&"Caf\u{FFFD}".to_string()));
}

/// A server that never answers, and one that drips its headers a byte at a time, are given
/// up after the header deadline (tried twice), not the request timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_dripping_servers_are_given_up_at_the_header_deadline() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let base = serve(hostile_router()).await;
    let harvester = hostile_harvester(|s| s.request_timeout = Duration::from_secs(120));
    let (report, _, took) = harvest(&harvester, &source("h", &format!("{base}/silent"))).await;
    assert_eq!(report.outcome, Outcome::Failed, "{report:?}");
    assert_eq!(report.problem_count("timeout"), 1, "{report:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                // The request first, then a status line and a header that never ends.
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nX-Slow: ").await;
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if socket.write_all(b"a").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let (report, _, took) = harvest(
        &harvester,
        &source("h", &format!("http://{addr}/catalog.ttl")),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Failed, "{report:?}");
    assert_eq!(report.problem_count("timeout"), 1, "{report:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");
}

/// Twenty clients hold connections to the API, half dripping a request's headers and half its
/// body a byte a second: every one is closed within 30 s (the body ones answered 408 in the
/// API's error shape) while normal requests are served; a body over the limit is answered
/// 413 in the same shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_closed_while_others_are_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let base = serve(hostile_router()).await;
    let toml = crate::support::malmo_region(&format!("{base}/utf8.nt"));
    let (samla, _state) = crate::support::harvested(&toml).await;
    let api = crate::support::serve_api(&samla).await;
    let addr = api.trim_start_matches("http://").to_string();
    let started = Instant::now();
    let mut slow = Vec::new();
    for i in 0..20 {
        let mut socket = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let start: &[u8] = if i % 2 == 0 {
            b"GET /healthz HTTP/1.1\r\nHost: samla\r\nX-Slow: "
        } else {
            b"POST /api/v1/requests HTTP/1.1\r\nHost: samla\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        };
        socket.write_all(start).await.expect("write");
        slow.push(tokio::spawn(async move {
            let mut answer = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                tokio::select! {
                    read = socket.read(&mut buf) => match read {
                        Ok(0) | Err(_) => break,
                        Ok(n) => answer.extend_from_slice(&buf[..n]),
                    },
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {
                        if socket.write_all(b"a").await.is_err() {
                            break;
                        }
                    }
                }
                if started.elapsed() > Duration::from_secs(60) {
                    break;
                }
            }
            (
                started.elapsed(),
                String::from_utf8_lossy(&answer).into_owned(),
            )
        }));
    }
    for _ in 0..10 {
        let asked = Instant::now();
        let (status, _) = crate::support::get_text(format!("{api}/healthz")).await;
        assert_eq!(status, 200);
        assert!(asked.elapsed() < Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for (i, client) in slow.into_iter().enumerate() {
        let (closed, answer) = client.await.expect("client");
        assert!(closed < Duration::from_secs(30), "client {i}: {closed:?}");
        if i % 2 == 1 {
            assert!(answer.starts_with("HTTP/1.1 408"), "client {i}: {answer}");
            assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
        }
    }

    let too_large = reqwest::Client::new()
        .post(format!("{api}/api/v1/requests"))
        .header("content-type", "application/json")
        .body(vec![b' '; 2 << 20])
        .send()
        .await
        .expect("answer");
    assert_eq!(too_large.status(), 413);
    let body: serde_json::Value =
        serde_json::from_slice(&too_large.bytes().await.expect("body")).expect("json");
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
}

/// A next page on another host than the source's is not followed (named, run partial) unless
/// the source's `follow_hosts` names that host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_leaving_the_source_host_are_followed_only_where_allowed() {
    let base = serve(hostile_router()).await;
    // Loopback is allowed by address here: the rule under test is the source's host alone.
    let harvester = hostile_harvester(|s| {
        s.allow_private = true;
        s.allow_hosts.clear();
    });
    let mut src = source("h", &format!("{base}/leave"));
    let (report, records, _) = harvest(&harvester, &src).await;
    assert_eq!(report.outcome, Outcome::Partial, "{report:?}");
    assert_eq!(report.problem_count("host_not_allowed"), 1, "{report:?}");
    assert_eq!(titles(&records), ["Här"]);

    src.follow_hosts = vec!["localhost".into()];
    let (report, records, _) = harvest(&harvester, &src).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(titles(&records), ["Där", "Här"]);
}

/// Modification dates far outside what the index's clock holds (year 9999, year 1200) are
/// indexed at its ends, not overflowed: the datasets are found, sorted newest first, and a
/// date range still means what it says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_outside_the_index_clock_are_clamped() {
    let base = serve(hostile_router()).await;
    let toml = crate::support::malmo_region(&format!("{base}/dates.ttl"));
    let (samla, _state) = crate::support::harvested(&toml).await;
    let search = |from: Option<i64>| {
        samla
            .index
            .search(&samla_indexer::SearchRequest {
                sort: samla_indexer::SortOrder::Modified,
                limit: 10,
                modified_from: from,
                ..Default::default()
            })
            .expect("search")
    };
    let all = search(None);
    let order: Vec<String> = all
        .hits
        .iter()
        .flat_map(|h| h.title.values().cloned())
        .collect();
    assert_eq!(order, ["Framtid", "Nutid", "Forntid"]);
    // Since 2000-01-01.
    assert_eq!(search(Some(946_684_800)).total, 2);
}
