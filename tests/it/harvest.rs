//! The DCAT harvester over real loopback HTTP: syntaxes, paging, sub-catalogues, and every
//! kind of bad input giving a clear problem instead of a crash.

use crate::support::{fixture, harvester, run, serve, source};
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use samla_harvester::Outcome;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const TTL: &str = "text/turtle";

fn ttl_page(body: String) -> Response {
    ([(header::CONTENT_TYPE, TTL)], body).into_response()
}

fn dataset(base: &str, name: &str) -> String {
    format!(
        "<{base}/data/{name}> a <http://www.w3.org/ns/dcat#Dataset> ; <http://purl.org/dc/terms/title> \"{name}\"@sv ; \
         <http://purl.org/dc/terms/publisher> <http://dataportal.se/organisation/SE2120001124> .\n"
    )
}

fn host(headers: &HeaderMap) -> String {
    format!(
        "http://{}",
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
    )
}

fn test_router() -> Router {
    let flaky = Arc::new(AtomicUsize::new(0));
    Router::new()
        .route(
            "/files/{name}",
            get(|Path(name): Path<String>| async move {
                let Ok(body) = std::fs::read(fixture(&format!("dcat/{name}"))) else {
                    return StatusCode::NOT_FOUND.into_response();
                };
                // Deliberately no content type for JSON-LD, so the harvester has to sniff.
                let ct = match name.rsplit('.').next() {
                    Some("ttl") => TTL,
                    Some("rdf") => "application/rdf+xml",
                    Some("nt") => "application/n-triples",
                    _ => "application/octet-stream",
                };
                ([(header::CONTENT_TYPE, ct)], body).into_response()
            }),
        )
        .route(
            "/view",
            get(|Query(q): Query<HashMap<String, String>>, h: HeaderMap| async move {
                let base = host(&h);
                let page = q.get("page").map(String::as_str).unwrap_or("1");
                let body = match page {
                    "1" => format!(
                        "{}<{base}/view> a <http://www.w3.org/ns/hydra/core#PartialCollectionView> ; <http://www.w3.org/ns/hydra/core#next> <?page=2> .",
                        dataset(&base, "a")
                    ),
                    _ => dataset(&base, "b"),
                };
                ttl_page(body)
            }),
        )
        .route(
            "/literal",
            get(|Query(q): Query<HashMap<String, String>>, h: HeaderMap| async move {
                let base = host(&h);
                let body = match q.get("page").map(String::as_str) {
                    None => format!(
                        "{}<{base}/literal> a <http://www.w3.org/ns/hydra/core#PagedCollection> ; <http://www.w3.org/ns/hydra/core#nextPage> \"{base}/literal?page=2\" .",
                        dataset(&base, "c")
                    ),
                    Some(_) => format!(
                        "{}<{base}/literal?page=2> <http://www.w3.org/ns/hydra/core#next> \"{base}/literal?page=2\" ; <http://www.w3.org/ns/hydra/core#nextPage> \"{base}/literal?page=2\" .",
                        dataset(&base, "d")
                    ),
                };
                ttl_page(body)
            }),
        )
        .route(
            "/loop",
            get(|Query(q): Query<HashMap<String, String>>, h: HeaderMap| async move {
                let base = host(&h);
                let (name, next) = match q.get("page").map(String::as_str) {
                    Some("2") => ("y", format!("{base}/loop?page=1")),
                    Some(_) => ("x", format!("{base}/loop?page=2")),
                    None => ("x", format!("{base}/loop?page=2")),
                };
                ttl_page(format!("{}<{base}/loop> <http://www.w3.org/ns/hydra/core#next> <{next}> .", dataset(&base, name)))
            }),
        )
        .route(
            "/parent",
            get(|h: HeaderMap| async move {
                let base = host(&h);
                ttl_page(format!(
                    "<{base}/parent#c> a <http://www.w3.org/ns/dcat#Catalog> ; <http://purl.org/dc/terms/hasPart> <{base}/child> ; \
                     <http://www.w3.org/ns/dcat#dataset> <{base}/data/p> .\n{}",
                    dataset(&base, "p")
                ))
            }),
        )
        .route("/child", get(|h: HeaderMap| async move { ttl_page(dataset(&host(&h), "q")) }))
        .route(
            "/huge",
            get(|| async {
                let filler: String = (0..20_000).map(|i| format!("<http://x/{i}> <http://y/p> \"{i}\" .\n")).collect();
                ttl_page(filler)
            }),
        )
        .route("/broken", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response() }))
        .route(
            "/flaky",
            get(move |h: HeaderMap| {
                let flaky = Arc::clone(&flaky);
                async move {
                    if flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "0")], "slow down").into_response();
                    }
                    ttl_page(dataset(&host(&h), "f"))
                }
            }),
        )
}

#[tokio::test]
async fn reads_every_rdf_syntax_with_titles_publishers_and_distributions() {
    let base = serve(test_router()).await;
    let h = harvester(1 << 20);
    for (file, datasets, municipality) in [
        ("kommun.ttl", 2, "1280"),
        ("kommun.rdf", 1, "1281"),
        ("kommun.jsonld", 1, "1286"),
        ("kommun.nt", 1, "1260"),
    ] {
        let (report, records) = run(&h, &source("t", &format!("{base}/files/{file}"))).await;
        assert_eq!(report.outcome, Outcome::Success, "{file}: {report:?}");
        assert_eq!(records.len(), datasets, "{file}");
        for r in &records {
            assert!(!r.view.title.is_empty(), "{file}: title of {}", r.iri);
            assert!(
                !r.view.distributions.is_empty(),
                "{file}: distributions of {}",
                r.iri
            );
            assert_eq!(
                r.municipality_code.as_deref(),
                Some(municipality),
                "{file}: municipality of {}",
                r.iri
            );
        }
    }
}

#[tokio::test]
async fn normalises_the_turtle_catalog_and_keeps_unknown_properties() {
    let base = serve(test_router()).await;
    let (report, records) = run(
        &harvester(1 << 20),
        &source("t", &format!("{base}/files/kommun.ttl")),
    )
    .await;
    let bad = records
        .iter()
        .find(|r| r.view.title.get("sv").map(String::as_str) == Some("Badplatser"))
        .expect("badplatser");
    // Identity: the UUID identifier.
    assert_eq!(bad.id.0, "3f2b8a6e-1d4c-4e7a-9b0f-2c6d8e1a5b47");
    // sv-SE → sv, licence and theme canonical, format mapped to the EU table.
    assert_eq!(
        bad.view.license.as_deref(),
        Some("http://creativecommons.org/licenses/by/4.0/")
    );
    assert_eq!(
        bad.view.themes,
        vec!["http://publications.europa.eu/resource/authority/data-theme/ENVI".to_string()]
    );
    assert_eq!(
        bad.view.formats,
        vec!["http://publications.europa.eu/resource/authority/file-type/CSV".to_string()]
    );
    assert_eq!(
        bad.view
            .publisher
            .as_ref()
            .and_then(|p| p.name.get(""))
            .map(String::as_str),
        Some("Malmö stad")
    );
    assert!(
        bad.ntriples
            .contains("<https://exempelkommun.se/ns#internNotering> \"behålls\""),
        "unknown property kept"
    );
    assert!(
        bad.view
            .contact_point
            .as_ref()
            .and_then(|c| c.email.as_deref())
            == Some("info@exempelkommun.se")
    );
    // Without a UUID identifier the IRI is the identity; the bad date is reported, not fatal.
    let ladd = records
        .iter()
        .find(|r| r.iri.ends_with("laddplatser"))
        .expect("laddplatser");
    assert_eq!(ladd.id.0, "https://exempelkommun.se/data/laddplatser");
    assert_eq!(report.problem_count("invalid_date"), 1);
    assert!(
        ladd.view.distributions[0]
            .uri
            .starts_with("urn:samla:genid:"),
        "blank distribution skolemised"
    );
}

#[tokio::test]
async fn follows_hydra_paging_in_its_variants() {
    let base = serve(test_router()).await;
    let h = harvester(1 << 20);
    let (report, records) = run(&h, &source("t", &format!("{base}/view"))).await;
    assert_eq!(
        (report.outcome, report.pages, records.len()),
        (Outcome::Success, 2, 2),
        "{report:?}"
    );
    // Deprecated nextPage as a string literal; the last page points at itself with both.
    let (report, records) = run(&h, &source("t", &format!("{base}/literal"))).await;
    assert_eq!(report.pages, 2, "{report:?}");
    assert_eq!(records.len(), 2);
    assert_eq!(
        report.problem_count("hydra_loop"),
        1,
        "self-reference is a loop: {report:?}"
    );
}

#[tokio::test]
async fn a_hydra_loop_is_reported_and_stops_paging() {
    let base = serve(test_router()).await;
    let (report, records) = run(&harvester(1 << 20), &source("t", &format!("{base}/loop"))).await;
    assert_eq!(report.outcome, Outcome::Partial);
    assert_eq!(report.problem_count("hydra_loop"), 1, "{report:?}");
    assert!(report.pages <= 3, "{report:?}");
    assert_eq!(records.len(), 2);
}

#[tokio::test]
async fn follows_a_sub_catalogue_one_level() {
    let base = serve(test_router()).await;
    let (report, records) = run(&harvester(1 << 20), &source("t", &format!("{base}/parent"))).await;
    assert_eq!(report.outcome, Outcome::Success);
    let mut names: Vec<&str> = records
        .iter()
        .map(|r| r.iri.rsplit('/').next().unwrap_or_default())
        .collect();
    names.sort();
    assert_eq!(names, ["p", "q"]);
}

/// A statement missing its final `.` costs that statement, not the page: what parses is kept,
/// the bad statement is named with its line, and the run is partial (a dataset may be
/// missing, so nothing is archived).
#[tokio::test]
async fn malformed_rdf_is_a_clear_problem_not_a_crash() {
    let base = serve(test_router()).await;
    let (report, records) = run(
        &harvester(1 << 20),
        &source("t", &format!("{base}/files/malformed.ttl")),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Partial, "{report:?}");
    let iris: Vec<&str> = records.iter().map(|r| r.iri.as_str()).collect();
    assert_eq!(
        iris,
        [
            "https://trasig.example/data/a",
            "https://trasig.example/data/b"
        ],
        "{report:?}"
    );
    let group = report
        .problems
        .iter()
        .find(|p| p.reason == "malformed_statement")
        .expect("malformed_statement");
    assert!(
        group.samples[0].detail.contains("line 7"),
        "{:?}",
        group.samples
    );
    assert!(group.samples[0].url.ends_with("malformed.ttl"));
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let base = serve(test_router()).await;
    let (report, records) = run(&harvester(64 * 1024), &source("t", &format!("{base}/huge"))).await;
    assert_eq!(report.outcome, Outcome::Failed);
    assert!(records.is_empty());
    assert_eq!(report.problem_count("body_too_large"), 1, "{report:?}");
}

#[tokio::test]
async fn retries_429_honouring_retry_after_and_gives_up_on_persistent_500() {
    let base = serve(test_router()).await;
    let h = harvester(1 << 20);
    let (report, records) = run(&h, &source("t", &format!("{base}/flaky"))).await;
    assert_eq!(report.outcome, Outcome::Success);
    assert_eq!(records.len(), 1);
    assert_eq!(report.http_statuses.get(&429), Some(&1));
    let (report, _) = run(&h, &source("t", &format!("{base}/broken"))).await;
    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(
        report.http_statuses.get(&500),
        Some(&3),
        "first try and two retries: {report:?}"
    );
    assert_eq!(report.problem_count("http_status"), 1);
}

#[tokio::test]
async fn an_unreachable_host_is_a_failed_run() {
    // Bind and drop a listener so the port is closed.
    let port = crate::pg::free_port();
    let (report, _) = run(
        &harvester(1 << 20),
        &source("t", &format!("http://127.0.0.1:{port}/none")),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(report.problem_count("request_failed"), 1, "{report:?}");
}

/// A catalog of five pages linked `?page=1` → … → `?page=5`, each answering after a pause; it
/// counts the requests for each page and remembers the most it had in flight at once.
fn paged_router(asked: Arc<std::sync::Mutex<Vec<String>>>, most: [Arc<AtomicUsize>; 2]) -> Router {
    Router::new().route(
        "/paged",
        get(move |Query(q): Query<HashMap<String, String>>, h: HeaderMap| {
            let (asked, most) = (asked.clone(), most.clone());
            async move {
                let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
                asked.lock().expect("log").push(page.to_string());
                let [now, most] = &most;
                most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(40)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                if !(1..=5).contains(&page) {
                    return StatusCode::NOT_FOUND.into_response();
                }
                let base = host(&h);
                let next = if page < 5 {
                    format!(
                        "<{base}/paged?page={page}> <http://www.w3.org/ns/hydra/core#next> <{base}/paged?page={}> .",
                        page + 1
                    )
                } else {
                    String::new()
                };
                ttl_page(format!("{}{next}", dataset(&base, &format!("p{page}"))))
            }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbered_pages_are_read_ahead_and_a_wrong_guess_leaves_no_trace() {
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let most = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    let base = serve(paged_router(asked.clone(), most.clone())).await;
    let (report, records) = run(
        &harvester(1 << 20),
        &source("t", &format!("{base}/paged?page=1")),
    )
    .await;
    // Every page read once, every dataset, and nothing of a guess past the last page (page
    // 6, which does not exist) in the report.
    assert_eq!(
        (report.outcome, report.pages, records.len()),
        (Outcome::Success, 5, 5),
        "{report:?}"
    );
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(report.http_statuses.get(&404), None, "{report:?}");
    let asked = asked.lock().expect("log").clone();
    for page in ["1", "2", "3", "4", "5"] {
        assert_eq!(
            asked.iter().filter(|p| *p == page).count(),
            1,
            "{page}: {asked:?}"
        );
    }
    // From the second page on, the link pattern is known: the page after the one being read
    // is asked for at the same time, and never more than that one.
    assert_eq!(most[1].load(Ordering::SeqCst), 2, "{asked:?}");
}

/// A server that answers after a pause and remembers the most requests it had in flight, and
/// the most that it and its siblings (sharing `all`) had.
fn slow_router(mine: [Arc<AtomicUsize>; 2], all: [Arc<AtomicUsize>; 2]) -> Router {
    Router::new().route(
        "/slow",
        get(move || {
            let (mine, all) = (mine.clone(), all.clone());
            async move {
                for [now, most] in [&mine, &all] {
                    most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                }
                tokio::time::sleep(std::time::Duration::from_millis(60)).await;
                for [now, _] in [&mine, &all] {
                    now.fetch_sub(1, Ordering::SeqCst);
                }
                ttl_page(String::new())
            }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_to_one_host_are_limited_and_hosts_are_asked_side_by_side() {
    let counters = || [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    let (a_count, b_count, all) = (counters(), counters(), counters());
    let a = serve(slow_router(a_count.clone(), all.clone())).await;
    let b = serve(slow_router(b_count.clone(), all.clone())).await;
    let settings = samla_config::HarvestSettings {
        per_host: 2,
        ..crate::support::settings(1 << 20)
    };
    let client = samla_harvester::HttpClient::new(&settings).expect("client");
    let urls: Vec<url::Url> = (0..6)
        .flat_map(|_| [format!("{a}/slow"), format!("{b}/slow")])
        .map(|u| url::Url::parse(&u).expect("url"))
        .collect();
    let fetched = futures::future::join_all(
        urls.iter()
            .map(|u| client.get(u, samla_harvester::RDF_ACCEPT)),
    )
    .await;
    assert!(fetched.iter().all(Result::is_ok), "{fetched:?}");
    // Twelve requests at once: each server sees two at a time at most, and both servers
    // are asked at the same time.
    assert_eq!(a_count[1].load(Ordering::SeqCst), 2);
    assert_eq!(b_count[1].load(Ordering::SeqCst), 2);
    assert_eq!(all[1].load(Ordering::SeqCst), 4);
}

/// A catalog whose `hydra:next` and `dcterms:hasPart` point at a loopback listener that is not
/// the source, and a source that redirects there: the listener receives no connection, and
/// the runs name `host_not_allowed` (links leaving the source's host) or `address_refused`
/// (the source may follow that host, but its address is not public). With the listener's host
/// allowed, it is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_and_redirects_to_addresses_not_allowed_are_not_followed() {
    let hits = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0")
        .await
        .expect("bind 127.0.0.2");
    let elsewhere = format!("http://{}", listener.local_addr().expect("addr"));
    {
        let hits = Arc::clone(&hits);
        let inner = Router::new().fallback(move || {
            let hits = Arc::clone(&hits);
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                ttl_page(String::from(
                    "<https://x.se/data/inner> a <http://www.w3.org/ns/dcat#Dataset> ; \
                     <http://purl.org/dc/terms/title> \"Inifrån\"@sv .\n",
                ))
            }
        });
        tokio::spawn(async move { axum::serve(listener, inner).await });
    }
    let target = elsewhere.clone();
    let base = serve(
        Router::new()
            .route(
                "/catalog",
                get(move |h: HeaderMap| {
                    let target = target.clone();
                    async move {
                        let base = host(&h);
                        ttl_page(format!(
                            "<{base}/catalog> a <http://www.w3.org/ns/dcat#Catalog> ; \
                             <http://purl.org/dc/terms/hasPart> <{target}/part> .\n\
                             <{base}/catalog> <http://www.w3.org/ns/hydra/core#view> <{base}/catalog#view> .\n\
                             <{base}/catalog#view> <http://www.w3.org/ns/hydra/core#next> <{target}/next> .\n{}",
                            dataset(&base, "egen")
                        ))
                    }
                }),
            )
            .route(
                "/moved",
                get(move || {
                    let to = format!("{elsewhere}/redirected");
                    async move { (StatusCode::FOUND, [(header::LOCATION, to)]).into_response() }
                }),
            ),
    )
    .await;

    // Links that leave the source's host are not followed at all; where the source allows
    // that host, its address is still refused.
    let mut catalog = source("catalog", &format!("{base}/catalog"));
    let (report, records) = run(&harvester(1 << 20), &catalog).await;
    assert_eq!(records.len(), 1, "{report:?}");
    assert_eq!(report.outcome, Outcome::Partial, "{report:?}");
    assert_eq!(report.problem_count("host_not_allowed"), 2, "{report:?}");
    catalog.follow_hosts = vec!["127.0.0.2".into()];
    let moved = source("moved", &format!("{base}/moved"));
    let (report, records) = run(&harvester(1 << 20), &catalog).await;
    assert_eq!(records.len(), 1, "{report:?}");
    assert_eq!(report.outcome, Outcome::Partial, "{report:?}");
    assert_eq!(report.problem_count("address_refused"), 2, "{report:?}");
    let (report, _) = run(&harvester(1 << 20), &moved).await;
    assert_eq!(report.outcome, Outcome::Failed, "{report:?}");
    assert_eq!(report.problem_count("address_refused"), 1, "{report:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the listener was reached");

    // Allowed by the operator, the same links are followed.
    let mut settings = crate::support::settings(1 << 20);
    settings.allow_hosts.push("127.0.0.2".into());
    let allowed =
        samla_harvester::Harvester::new(settings, crate::support::directory()).expect("harvester");
    let (report, records) = run(&allowed, &catalog).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(records.len(), 2, "{report:?}");
    let (report, _) = run(&allowed, &moved).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}
