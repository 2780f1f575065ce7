//! CKAN and EntryScape: fixtures written here (modelled on the Civity DataPlatform and
//! ckanext-dcat package dicts and on EntryStore's search responses) served over loopback, and
//! the simulated region's platforms.

use crate::support::{fixture, harvester, run, serve, source};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use samla_config::Protocol;
use samla_harvester::Outcome;
use samla_model::DatasetRecord;
use std::collections::BTreeMap;

fn static_json(name: &str, status: StatusCode) -> axum::routing::MethodRouter {
    let body = std::fs::read_to_string(fixture(name)).expect("fixture");
    get(move || async move { (status, [("content-type", "application/json")], body) })
}

fn by_title(records: &[DatasetRecord], title: &str) -> DatasetRecord {
    records
        .iter()
        .find(|r| r.view.title.values().any(|t| t == title))
        .cloned()
        .unwrap_or_else(|| panic!("no dataset titled {title}"))
}

#[tokio::test]
async fn ckan_package_dicts_map_to_dcat_ap_se() {
    let base = serve(Router::new().route(
        "/api/3/action/package_search",
        static_json("ckan/package_search.json", StatusCode::OK),
    ))
    .await;
    let mut src = source("malmo", &format!("{base}/"));
    src.protocol = Protocol::Ckan;
    let (report, records) = run(&harvester(1 << 20), &src).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!((report.datasets, report.distributions), (2, 3));

    // Civity DCAT-AP-SE fields.
    let toilets = by_title(&records, "Offentliga toaletter");
    assert_eq!(toilets.id.0, "0b6a6f0e-6a41-4d6c-9d61-3f0c1f7c2a11");
    let v = &toilets.view;
    let publisher = v.publisher.as_ref().expect("publisher");
    assert_eq!(
        publisher.uri,
        "http://dataportal.se/organisation/SE2120001124"
    );
    assert_eq!(publisher.municipality_code.as_deref(), Some("1280"));
    assert_eq!(
        v.themes,
        ["http://publications.europa.eu/resource/authority/data-theme/SOCI"]
    );
    assert_eq!(
        v.conforms_to,
        ["https://lankadedata.se/spec/public-toilets/"]
    );
    assert_eq!(
        v.accrual_periodicity.as_deref(),
        Some("http://publications.europa.eu/resource/authority/frequency/MONTHLY")
    );
    assert_eq!(
        v.access_rights.as_deref(),
        Some("http://publications.europa.eu/resource/authority/access-right/PUBLIC")
    );
    assert_eq!(
        v.landing_page.as_deref(),
        Some("https://malmo.se/oppna-data/toaletter")
    );
    assert_eq!(
        v.spatial,
        ["http://www.geonames.org/2692969/malmoe-kommun.html"]
    );
    let temporal = v.temporal.as_ref().expect("temporal");
    assert_eq!(temporal.start.as_deref(), Some("2021-01-01"));
    let contact = v.contact_point.as_ref().expect("contact");
    assert_eq!(contact.email.as_deref(), Some("oppnadata@malmo.se"));
    let keywords: Vec<&str> = v.keywords.iter().map(|(_, k)| k.as_str()).collect();
    assert!(keywords.contains(&"toaletter") && keywords.contains(&"Befolkning och samhälle"));
    // license_id → licence IRI on every distribution; the upload is a download URL.
    assert!(
        v.distributions
            .iter()
            .all(|d| d.license.as_deref()
                == Some("http://creativecommons.org/publicdomain/zero/1.0/"))
    );
    let csv = v
        .distributions
        .iter()
        .find(|d| d.format.as_deref().is_some_and(|f| f.ends_with("/CSV")))
        .expect("csv distribution");
    assert_eq!(csv.download_urls.len(), 1);
    assert_eq!(
        csv.media_type.as_deref(),
        Some("https://www.iana.org/assignments/media-types/text/csv")
    );
    let api = v
        .distributions
        .iter()
        .find(|d| d.download_urls.iter().any(|u| u.contains("format=json")))
        .expect("Civity downloadURL");
    assert_eq!(api.access_urls, ["https://api.kommun.example/v1/toaletter"]);
    for kept in [
        "http://www.w3.org/2002/07/owl#versionInfo> \"2.1\"",
        "http://purl.org/dc/terms/provenance>",
        "http://data.europa.eu/r5r/availability> <http://data.europa.eu/r5r/availability/stable>",
        "http://www.w3.org/ns/adms#status> <http://purl.org/adms/status/Completed>",
        "http://www.w3.org/2006/vcard/ns#hasTelephone> <tel:040-341000>",
    ] {
        assert!(toilets.ntriples.contains(kept), "{kept} kept");
    }

    // Legacy extras (JSON-encoded lists), `uri`, maintainer as contact.
    let air = by_title(&records, "Luftkvalitet");
    assert_eq!(air.iri, "https://malmo.se/data/luftkvalitet");
    assert_eq!(air.view.themes.len(), 2, "{:?}", air.view.themes);
    assert_eq!(
        air.view.hvd_categories,
        ["http://data.europa.eu/bna/c_dd313021"]
    );
    assert_eq!(
        air.view.distributions[0].license.as_deref(),
        Some("http://creativecommons.org/licenses/by/4.0/")
    );
    assert_eq!(
        air.view
            .contact_point
            .as_ref()
            .and_then(|c| c.email.as_deref()),
        Some("miljo@kommun.example")
    );
    assert_eq!(
        air.view
            .publisher
            .as_ref()
            .map(|p| p.municipality_code.as_deref()),
        Some(Some("1280")),
        "the CKAN organization names the publisher"
    );
}

#[tokio::test]
async fn ckan_error_envelope_is_a_clear_problem() {
    let base = serve(Router::new().route(
        "/api/3/action/package_search",
        static_json("ckan/error.json", StatusCode::CONFLICT),
    ))
    .await;
    let mut src = source("malmo", &base);
    src.protocol = Protocol::Ckan;
    let (report, _) = run(&harvester(1 << 20), &src).await;
    assert_eq!(report.outcome, Outcome::Failed);
    // A 409 is an HTTP error first; the body says why.
    assert_eq!(report.problem_count("http_status"), 1, "{report:?}");

    // The same envelope with 200 (some proxies do that) is read as CKAN's error.
    let base = serve(Router::new().route(
        "/api/3/action/package_search",
        static_json("ckan/error.json", StatusCode::OK),
    ))
    .await;
    let mut src = source("malmo", &base);
    src.protocol = Protocol::Ckan;
    let (report, _) = run(&harvester(1 << 20), &src).await;
    assert_eq!(report.outcome, Outcome::Failed);
    let group = report
        .problems
        .iter()
        .find(|g| g.reason == "ckan_error")
        .expect("ckan_error");
    assert!(group.samples[0].detail.contains("Search Query Error"));
}

#[tokio::test]
async fn entryscape_search_entries_are_joined_into_datasets() {
    let base = serve(Router::new().route(
        "/store/search",
        static_json("entryscape/search.json", StatusCode::OK),
    ))
    .await;
    let mut src = source("lund", &base);
    src.protocol = Protocol::Entryscape;
    src.organisation = "1281".into();
    let (report, records) = run(&harvester(1 << 20), &src).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(report.datasets, 2);
    let play = by_title(&records, "Lekplatser");
    assert_eq!(play.id.0, "3f1d9a52-6b0e-4f5c-9a1d-2e7b8c9d0e1f");
    let v = &play.view;
    assert_eq!(v.title.get("en").map(String::as_str), Some("Playgrounds"));
    // The distribution, contact point and publisher are entries of their own.
    assert_eq!(v.distributions.len(), 1);
    assert_eq!(
        v.distributions[0].license.as_deref(),
        Some("http://creativecommons.org/licenses/by/4.0/")
    );
    assert_eq!(
        v.contact_point.as_ref().and_then(|c| c.email.as_deref()),
        Some("kundtjanst@lund.se")
    );
    assert_eq!(
        v.publisher
            .as_ref()
            .and_then(|p| p.municipality_code.as_deref()),
        Some("1281"),
        "publisher resolved by name"
    );
    // Blank nodes of different entries with the same label stay apart.
    assert_eq!(
        v.temporal.as_ref().and_then(|t| t.start.as_deref()),
        Some("2020-01-01")
    );
}

/// (id, hash) of every record.
fn fingerprint(records: &[DatasetRecord]) -> BTreeMap<String, String> {
    records
        .iter()
        .map(|r| (r.id.0.clone(), r.hash.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entryscape_search_and_catalog_export_give_the_same_records() {
    let r = crate::support::region(2000).await;
    let search = r
        .samla
        .config
        .source("helsingborg")
        .cloned()
        .expect("source");
    assert_eq!(search.protocol, Protocol::Entryscape);
    let mut export = search.clone();
    export.url = search
        .url
        .join("1/metadata/dcat?recursive=dcat")
        .expect("export url");
    let h = harvester(1 << 26);
    let (a, from_search) = run(&h, &search).await;
    let (b, from_export) = run(&h, &export).await;
    assert_eq!((a.outcome, b.outcome), (Outcome::Success, Outcome::Success));
    assert!(a.pages > 2, "the search pages ({} pages)", a.pages);
    assert_eq!(b.pages, 1, "the export is one document");
    assert!(from_search.len() > 150, "{}", from_search.len());
    assert_eq!(fingerprint(&from_search), fingerprint(&from_export));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_region_harvests_all_three_protocols_and_republished_datasets_once() {
    let r = crate::support::region(1000).await;
    let outcomes = r.harvest().await;
    for id in ["malmo", "helsingborg", "lund", "region-skane", "ystad"] {
        assert_eq!(outcomes[id].report.outcome, Outcome::Success, "{id}");
        assert!(outcomes[id].report.datasets > 0, "{id}");
    }
    let ckan = r.search("*", &[(samla_indexer::Dimension::Municipality, "1280")]);
    let entryscape = r.search("*", &[(samla_indexer::Dimension::Municipality, "1283")]);
    assert!(
        ckan.total > 300 && entryscape.total > 80,
        "{} {}",
        ckan.total,
        entryscape.total
    );

    // Region Skåne republishes Helsingborg's and Lund's datasets: each is one record, shown
    // from the municipality's own source, with both sources in its provenance.
    let store = &r.samla.store;
    let mut shown = Vec::new();
    store
        .for_each_dataset(|d| {
            if d.municipality_code
                .as_deref()
                .is_some_and(|c| c == "1283" || c == "1281")
            {
                shown.push(d);
            }
        })
        .expect("datasets");
    let mut republished = 0;
    for d in shown {
        let rows = store.provenance(&d.id).expect("provenance");
        if rows.len() > 1 {
            republished += 1;
            let sources: Vec<&str> = rows.iter().map(|r| r.source_id.as_str()).collect();
            assert!(sources.contains(&"region-skane"), "{sources:?}");
            assert_ne!(d.source_id, "region-skane", "the own source wins");
            assert!(!d.ntriples.contains("regional samling"), "the own version");
        }
    }
    assert_eq!(republished, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probing_sources_finds_the_platform_that_answers() {
    let r = crate::support::region(300).await;
    let h = harvester(1 << 24);
    for (id, expected) in [
        ("malmo", Some(Protocol::Ckan)),
        ("helsingborg", Some(Protocol::Entryscape)),
        ("ystad", Some(Protocol::Dcat)),
        ("osby", None),
    ] {
        let source = r.samla.config.source(id).expect("source");
        let probe = h.probe(&source.url).await;
        assert_eq!(probe.platform, expected, "{id}: {}", probe.detail);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ckan_pages_with_rows_and_start_until_the_count() {
    let r = crate::support::region(3200).await;
    let malmo = r.samla.config.source("malmo").cloned().expect("malmo");
    let published = r
        .simulator
        .catalogs()
        .iter()
        .find(|c| c.organisation.code == "1280")
        .map(|c| c.datasets)
        .expect("Malmö");
    assert!(published > 1000, "{published}");
    let (report, records) = run(&harvester(1 << 26), &malmo).await;
    assert_eq!(report.outcome, Outcome::Success);
    assert_eq!(report.pages, 2, "1000 rows a page");
    assert_eq!(records.len(), published, "every package once");
}

#[tokio::test]
async fn the_simulator_advances_over_http() {
    let region = samla::app::embedded_region().expect("region");
    let sim = std::sync::Arc::new(samla::app::simulator_for(&region, 200));
    let base = serve(std::sync::Arc::clone(&sim).router()).await;
    let client = reqwest::Client::new();
    let page = format!("{base}/ystad/datasets/dcat");
    let before = client.get(&page).send().await.expect("get");
    let etag = before.headers()["etag"].clone();
    let r = client
        .post(format!("{base}/_simulator/advance"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.text().await.expect("body").trim(), "epoch 1");
    assert_eq!(sim.epoch(), 1);
    // The same conditional request now gets the changed page, or a 304 if Ystad's page
    // happens not to change; either way the validators say which.
    let after = client
        .get(&page)
        .header("if-none-match", etag.clone())
        .send()
        .await
        .expect("get");
    match after.status().as_u16() {
        304 => assert_eq!(after.headers()["etag"], etag),
        200 => assert_ne!(after.headers()["etag"], etag),
        other => panic!("status {other}"),
    }
}

/// A UTF-8 byte-order mark before a CKAN answer (legal at the start of a document) is no
/// reason to lose the page: the packages are read as without it.
#[tokio::test]
async fn a_byte_order_mark_before_json_is_read_past() {
    let body = format!(
        "\u{feff}{}",
        std::fs::read_to_string(fixture("ckan/package_search.json")).expect("fixture")
    );
    let base = serve(Router::new().route(
        "/api/3/action/package_search",
        get(move || async move { ([("content-type", "application/json")], body) }),
    ))
    .await;
    let mut src = source("malmo", &format!("{base}/"));
    src.protocol = Protocol::Ckan;
    let (report, records) = run(&harvester(1 << 20), &src).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(records.len(), 2);
}
