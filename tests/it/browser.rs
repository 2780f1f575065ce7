//! The web UI in a real browser: headless Chromium driven over WebDriver (Debian's chromium
//! and chromium-driver, which scripts/test installs). Screenshots are kept under
//! `target/screenshots/` as test artifacts.

use crate::support::{fixture, get_json, serve, serve_api, settings, source};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// A chromedriver on a free loopback port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn driver() -> Driver {
    let port = crate::pg::free_port();
    let mut child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (apt-get install chromium chromium-driver; scripts/test does)");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Driver { child, url };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromedriver did not start");
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::native()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn screenshot_dir() -> std::path::PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshot_dir().join(name), png).expect("write screenshot");
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Waits for `css`, an element only the page navigated to has.
async fn arrived(client: &Client, css: &str) {
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("the page with {css} did not come: {e}"));
}

/// Submits a form with `button` and waits for the answer, the page with `css`.
async fn submit(client: &Client, button: &str, css: &str) {
    click(client, button).await;
    arrived(client, css).await;
}

/// Scripts on the page other than samla's own (the search box's suggestions).
async fn script_count(client: &Client) -> i64 {
    client
        .execute(
            "return document.querySelectorAll('script:not([src=\"/assets/suggest.js\"])').length",
            vec![],
        )
        .await
        .expect("execute")
        .as_i64()
        .unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_searches_filters_reads_a_dataset_and_the_coverage_and_files_a_request() {
    // The simulated region, plus a source whose text is hostile.
    let config = samla::app::embedded_region().expect("region");
    let simulator = Arc::new(samla::app::simulator_for(&config, 300));
    let base = serve(Arc::clone(&simulator).router()).await;
    let mut config = samla::app::simulated_config(&config, &simulator, &base).expect("config");
    let hostile = std::fs::read_to_string(fixture("export/hostile.ttl")).expect("fixture");
    let hostile_router = axum::Router::new().route(
        "/catalog.ttl",
        axum::routing::get(move || {
            let body = hostile.clone();
            async move { ([("content-type", "text/turtle")], body) }
        }),
    );
    let hostile_url = format!("{}/catalog.ttl", serve(hostile_router).await);
    config.sources.push(source("fientlig", &hostile_url));
    config.harvest = settings(1 << 26);
    let state = tempfile::tempdir().expect("tempdir");
    let samla = samla::app::Samla::open(config, state.path()).expect("open");
    samla.harvest_quietly(4).await;
    let site = serve_api(&samla).await;
    let driver = driver().await;
    let profile = tempfile::tempdir().expect("profile");
    let client = browser(&driver, profile.path()).await;

    // Search from the front page, by keyboard: the first Tab reaches the skip link.
    client.goto(&format!("{site}/")).await.expect("goto");
    assert_eq!(text(&client, "h1").await, "Öppna data i Skåne");
    let lang = client
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("attr");
    assert_eq!(lang.as_deref(), Some("sv"));
    client
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .send_keys("\u{E004}")
        .await
        .expect("tab");
    let focused = client
        .active_element()
        .await
        .expect("focus")
        .attr("class")
        .await
        .expect("class");
    assert_eq!(
        focused.as_deref(),
        Some("skip"),
        "Tab reaches the skip link"
    );
    // The search box has a label.
    let label = client
        .find(Locator::Css("label[for=q]"))
        .await
        .expect("label")
        .prop("textContent")
        .await
        .expect("text");
    assert_eq!(label.as_deref(), Some("Sök datamängder"));
    let q = client.find(Locator::Css("#q")).await.expect("search box");
    q.send_keys("badplatser").await.expect("type");
    submit(&client, "form.search button", "a[href*='q=badplatser']").await;
    let all = get_json(format!("{site}/api/v1/datasets?q=badplatser")).await;
    assert_eq!(text(&client, "#total").await, all["total"].to_string());

    // Filter by municipality: Malmö's bathing sites.
    let malmo_link = client
        .find(Locator::XPath(
            "//fieldset[@id='facet-municipality']//a[starts-with(normalize-space(.), 'Malmö stad')]",
        ))
        .await
        .expect("Malmö in the municipality facet");
    malmo_link.click().await.expect("filter");
    arrived(&client, ".active-filters").await;
    let url = client.current_url().await.expect("url");
    assert!(url.as_str().contains("municipality=1280"), "{url}");
    let malmo = get_json(format!(
        "{site}/api/v1/datasets?q=badplatser&municipality=1280"
    ))
    .await;
    assert_eq!(text(&client, "#total").await, malmo["total"].to_string());
    let publishers = client
        .find_all(Locator::Css(".hits .meta"))
        .await
        .expect("hits");
    assert!(!publishers.is_empty());
    for p in &publishers {
        assert!(p.text().await.expect("text").starts_with("Malmö stad"));
    }
    screenshot(&client, "search-badplatser-malmo.png").await;

    // Open the first dataset: its licence, distributions and quality with fixes.
    let first_title = malmo["hits"][0]["title"]
        .as_str()
        .expect("title")
        .to_string();
    click(&client, ".hits h2 a").await;
    arrived(&client, "#distributions").await;
    assert_eq!(text(&client, "h1").await, first_title);
    assert!(!text(&client, "#license").await.is_empty());
    let rows = client
        .find_all(Locator::Css(
            "table[aria-labelledby=distributions] tbody tr",
        ))
        .await
        .expect("distributions");
    assert!(!rows.is_empty());
    assert!(text(&client, "#quality + p").await.contains("/ 405"));
    screenshot(&client, "dataset.png").await;

    // The coverage matrix: its empty cells are the organisations publishing nothing there.
    client
        .goto(&format!("{site}/coverage?by=conforms_to"))
        .await
        .expect("coverage");
    let coverage = get_json(format!("{site}/api/v1/reports/coverage?by=conforms_to")).await;
    let matrix = &coverage["conforms_to"];
    let rows = client
        .find_all(Locator::Css("#matrix tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), matrix["rows"].as_array().map_or(0, Vec::len));
    let mut unknown_rows = Vec::new();
    for (row, expected) in rows.iter().zip(matrix["rows"].as_array().expect("rows")) {
        let name = row
            .find(Locator::Css("th"))
            .await
            .expect("th")
            .text()
            .await
            .expect("name");
        assert_eq!(name, expected["name"].as_str().unwrap_or(""));
        let shown = |class: &'static str| {
            let row = row.clone();
            async move {
                row.find_all(Locator::Css(&format!("td.{class}")))
                    .await
                    .expect("cells")
                    .len()
            }
        };
        let (empty, unknown) = (shown("empty").await, shown("unknown").await);
        let zero = expected["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .filter(|c| c["datasets"] == 0)
            .count();
        // An empty cell is "none" where the organisation's sources were read, else unknown.
        if expected["reading"]["state"] == "read" {
            assert_eq!((empty, unknown), (zero, 0), "{name}");
        } else {
            assert_eq!((empty, unknown), (0, zero), "{name}");
            unknown_rows.push(name.clone());
        }
    }
    assert_eq!(unknown_rows, ["Osby kommun"], "the source answering 500");
    let csv_href = client
        .find(Locator::Css("#coverage-csv"))
        .await
        .expect("csv link")
        .attr("href")
        .await
        .expect("href")
        .expect("href");
    let csv = reqwest::get(format!("{site}{csv_href}"))
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    screenshot(&client, "coverage.png").await;

    // Who publishes no EV-charging data: the organisations the search finds nothing for.
    let topic = client
        .find(Locator::Css("#topic"))
        .await
        .expect("topic box");
    topic.send_keys("laddplatser").await.expect("type");
    submit(&client, "main form.search button", "#publishers").await;
    let mut none_shown = Vec::new();
    for row in client
        .find_all(Locator::Css("#publishers tbody tr"))
        .await
        .expect("rows")
    {
        if !row
            .find_all(Locator::Css("td.empty"))
            .await
            .expect("cell")
            .is_empty()
        {
            none_shown.push(
                row.find(Locator::Css("th"))
                    .await
                    .expect("th")
                    .text()
                    .await
                    .expect("name"),
            );
        }
    }
    let charging = get_json(format!("{site}/api/v1/datasets?q=laddplatser&per_page=1")).await;
    let publishing: Vec<&str> = charging["facets"]["municipality"]
        .as_array()
        .expect("facet")
        .iter()
        .filter_map(|v| v["label"].as_str())
        .collect();
    let mut none_expected: Vec<String> = samla
        .directory
        .organisations()
        .iter()
        .map(|o| o.name.clone())
        .filter(|n| !publishing.contains(&n.as_str()) && !unknown_rows.contains(n))
        .collect();
    none_shown.sort();
    none_expected.sort();
    assert!(!none_expected.is_empty() && !publishing.is_empty());
    assert_eq!(none_shown, none_expected);
    screenshot(&client, "coverage-laddplatser.png").await;

    // The HVD page: each organisation's high-value datasets against the requirements.
    client.goto(&format!("{site}/hvd")).await.expect("hvd");
    arrived(&client, "#hvd").await;
    assert_eq!(text(&client, "h1").await, "Värdefulla datamängder (HVD)");
    screenshot(&client, "hvd.png").await;

    // File a data request.
    client
        .goto(&format!("{site}/request"))
        .await
        .expect("request");
    client
        .find(Locator::Css("#what"))
        .await
        .expect("what")
        .send_keys("Elsparkcyklarnas parkeringszoner i Malmö")
        .await
        .expect("type");
    click(&client, "#municipality option[value='1280']").await;
    click(&client, "#organisation_type option[value='cluster']").await;
    submit(&client, "main form button", "#request-done").await;
    assert!(text(&client, "#request-done").await.starts_with("Tack!"));
    let demand = get_json(format!("{site}/api/v1/reports/demand")).await;
    let filed = demand["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .find(|r| r["what"] == "Elsparkcyklarnas parkeringszoner i Malmö")
        .cloned()
        .expect("the request is in the demand report");
    assert_eq!(filed["municipality"], "1280");
    assert_eq!(filed["organisation_type"], "cluster");

    // Search as a company asks: the box suggests completions as one types, a typo is
    // corrected and said, English and compound words find Swedish titles, and the reuse
    // questions are filters.
    client.goto(&format!("{site}/")).await.expect("front");
    let q = client.find(Locator::Css("#q")).await.expect("search box");
    q.send_keys("badpl").await.expect("type");
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#suggestions option[value='Badplatser']"))
        .await
        .expect("Badplatser is suggested");
    q.clear().await.expect("clear");
    q.send_keys("badplaster").await.expect("type");
    submit(&client, "form.search button", "a[href*='q=badplaster']").await;
    assert!(text(&client, ".corrected").await.contains("badplatser"));
    let corrected = get_json(format!("{site}/api/v1/datasets?q=badplaster")).await;
    assert_eq!(corrected["corrected"], "badplatser");
    assert_eq!(
        text(&client, "#total").await,
        corrected["total"].to_string()
    );
    for (typed, expected) in [
        ("zoning+plans", "/detaljplaner-"),
        ("vattenkvalitet", "/badvattenkvalitet-"),
    ] {
        client
            .goto(&format!("{site}/?q={typed}"))
            .await
            .expect("search");
        arrived(&client, ".hits h2 a").await;
        let api = get_json(format!("{site}/api/v1/datasets?q={typed}&per_page=1")).await;
        let hit = &api["hits"][0];
        assert!(
            hit["landing_page"]
                .as_str()
                .unwrap_or("")
                .contains(expected),
            "{typed}: {hit}"
        );
        assert_eq!(
            text(&client, ".hits h2 a").await,
            hit["title"].as_str().unwrap_or("")
        );
    }
    let filters = "format=CSV&license=cc-by&reuse=commercial&api=true";
    client
        .goto(&format!("{site}/?{filters}&temporal_from=2015-01-01"))
        .await
        .expect("filters");
    arrived(&client, ".active-filters").await;
    let company = get_json(format!(
        "{site}/api/v1/datasets?{filters}&temporal_from=2015-01-01"
    ))
    .await;
    assert!(company["total"].as_u64().unwrap_or(0) > 0, "{company}");
    assert_eq!(text(&client, "#total").await, company["total"].to_string());
    let active = client
        .find_all(Locator::Css(".active-filters li"))
        .await
        .expect("filters");
    assert_eq!(active.len(), 4);
    let from = client
        .find(Locator::Css("#temporal_from"))
        .await
        .expect("the date field")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(from.as_deref(), Some("2015-01-01"));
    screenshot(&client, "search-company-filters.png").await;

    // Switch language.
    client.goto(&format!("{site}/")).await.expect("front");
    click(&client, "a.lang").await;
    arrived(&client, "html[lang=en]").await;
    assert_eq!(text(&client, "h1").await, "Open data in Skåne");
    let lang = client
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("attr");
    assert_eq!(lang.as_deref(), Some("en"));
    assert!(text(&client, "header nav").await.contains("Coverage"));
    screenshot(&client, "front-en.png").await;

    // A hostile title stays text, in the list and on its page; nothing runs.
    client
        .goto(&format!("{site}/?q=fientligt"))
        .await
        .expect("search");
    let title = text(&client, ".hits h2 a").await;
    assert_eq!(title, "<script>alert(1)</script> Fientligt dataset");
    assert_eq!(script_count(&client).await, 0);
    assert!(client.get_alert_text().await.is_err(), "no alert is open");
    click(&client, ".hits h2 a").await;
    arrived(&client, "#distributions").await;
    assert_eq!(
        text(&client, "h1").await,
        "<script>alert(1)</script> Fientligt dataset"
    );
    assert!(
        text(&client, ".description")
            .await
            .contains("<img src=x onerror=alert(2)>")
    );
    assert_eq!(script_count(&client).await, 0);
    let javascript_links = client
        .find_all(Locator::Css("a[href^='javascript']"))
        .await
        .expect("links");
    assert!(javascript_links.is_empty(), "no javascript: link is shown");
    assert!(client.get_alert_text().await.is_err(), "no alert is open");
    screenshot(&client, "hostile-dataset.png").await;
    client.close().await.expect("close");
}

async fn type_into(client: &Client, css: &str, keys: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(keys)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

async fn count(client: &Client, css: &str) -> usize {
    client
        .find_all(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_and_a_cluster_organisation_walk_through_the_reports_and_a_request() {
    let token = "malmo-svarar-0123456789";
    let region = crate::support::region_configured(crate::store::Engine::Sqlite, 600, |c| {
        c.organisations
            .iter_mut()
            .find(|o| o.code == "1280")
            .expect("Malmö")
            .token = Some(token.into());
    })
    .await;
    // Two harvests a day apart, as a serving samla keeps them.
    region.harvest().await;
    region
        .samla
        .snapshot_as_of(chrono::Utc::now() - chrono::Duration::days(1))
        .await
        .expect("snapshot");
    region.simulator.advance();
    region.harvest().await;
    region
        .samla
        .snapshot_as_of(chrono::Utc::now())
        .await
        .expect("snapshot");
    let site = serve_api(&region.samla).await;
    let driver = driver().await;
    let profile = tempfile::tempdir().expect("profile");
    let client = browser(&driver, profile.path()).await;

    // A member of staff: from the sources to Malmö's page.
    client
        .goto(&format!("{site}/sources"))
        .await
        .expect("sources");
    click(&client, "#sources a[href^='/organisation/1280']").await;
    arrived(&client, "#org-quality").await;
    assert_eq!(text(&client, "h1").await, "Malmö stad");
    assert!(count(&client, "#org-sources tbody tr").await >= 1);
    screenshot(&client, "organisation.png").await;
    // Its source's run history: both runs, outcomes in words.
    click(&client, "#org-sources a[href^='/sources/']").await;
    arrived(&client, "#runs").await;
    assert_eq!(count(&client, "#runs tbody tr").await, 2);
    // Malmö's CKAN is read whole: its last run succeeded, said in words.
    assert_eq!(text(&client, "#runs tbody tr td").await, "lyckad");
    screenshot(&client, "source-runs.png").await;
    // Freshness, from the navigation: an organisation per row, overdue first.
    click(&client, "nav a[href^='/freshness']").await;
    arrived(&client, "#freshness").await;
    assert_eq!(
        count(&client, "#freshness tbody tr").await,
        region.samla.config.organisations.len()
    );
    // Coverage over time: a point per day.
    click(&client, "nav a[href^='/coverage']").await;
    arrived(&client, "#coverage-history-link").await;
    click(&client, "#coverage-history-link").await;
    arrived(&client, "#history-region").await;
    assert_eq!(count(&client, "#history-region tbody tr").await, 2);
    assert_eq!(count(&client, "#history-organisations thead th").await, 3);
    screenshot(&client, "coverage-history.png").await;

    // A cluster organisation files a request and follows it.
    client
        .goto(&format!("{site}/request"))
        .await
        .expect("request");
    type_into(&client, "#what", "Laddplatser i Malmö med effekt").await;
    click(&client, "#municipality option[value='1280']").await;
    click(&client, "#organisation_type option[value='cluster']").await;
    submit(&client, "main form button", "#request-done").await;
    click(&client, "#request-follow").await;
    arrived(&client, "#request-status").await;
    assert_eq!(text(&client, "#request-status").await, "ny");
    // Malmö's contact answers it on its page.
    click(&client, "details.answer summary").await;
    click(&client, "#status option[value='planned']").await;
    type_into(
        &client,
        "#answer",
        "Publiceras i mars, med effekt per uttag.",
    )
    .await;
    type_into(&client, "#token", token).await;
    submit(&client, "details.answer button", "#answer-saved").await;
    assert!(
        text(&client, "#request-status")
            .await
            .starts_with("planerad")
    );
    assert_eq!(
        text(&client, "#request-answer").await,
        "Publiceras i mars, med effekt per uttag."
    );
    screenshot(&client, "request-answered.png").await;
    // The cluster organisation reads the demand trend and sees the answer.
    click(&client, "nav a[href^='/demand']").await;
    arrived(&client, "#demand-trend").await;
    assert!(count(&client, "#demand-trend tbody tr").await >= 1);
    assert!(text(&client, "#requests").await.contains("planerad"));
    assert!(
        text(&client, "#requests-answered")
            .await
            .contains("1 besvarade")
    );
    screenshot(&client, "demand-trend.png").await;
    client.close().await.expect("close");
}
