//! samla as a deployed service: behind a proxy, compressed and conditional answers, the
//! headers browsers act on, and a clean stop on SIGTERM.

use crate::support::{region, serve_api};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const JSON: &str = "application/json";
const REQUEST: &str = r#"{"what": "Träd i parker", "organisation_type": "research"}"#;

/// A samla whose data requests are limited to two an hour per client, behind `proxies`.
async fn behind(proxies: &[&str]) -> (samla::app::Samla, tempfile::TempDir, String) {
    let mut config = samla::app::embedded_region().expect("embedded region");
    config.demand.requests_per_hour = 2;
    config.server.trusted_proxies = proxies.iter().map(|p| p.parse().expect("net")).collect();
    let state = tempfile::tempdir().expect("tempdir");
    let samla = samla::app::Samla::open(config, state.path()).expect("open");
    let api = serve_api(&samla).await;
    (samla, state, api)
}

/// Files a data request as if forwarded for `client`; the status.
async fn file_request(api: &str, client: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{api}/api/v1/requests"))
        .header("content-type", JSON)
        .header("x-forwarded-for", format!("203.0.113.250, {client}"))
        .body(REQUEST)
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    // The test's connections come from 127.0.0.1: here that is the trusted proxy.
    let (_samla, _state, api) = behind(&["127.0.0.1/32"]).await;
    assert_eq!(file_request(&api, "192.0.2.1").await, 201);
    assert_eq!(file_request(&api, "192.0.2.1").await, 201);
    assert_eq!(file_request(&api, "192.0.2.1").await, 429);
    // Another client behind the same proxy has its own limit; what the first wrote left of
    // the proxy's own entry does not make it someone else.
    assert_eq!(file_request(&api, "192.0.2.2").await, 201);
    assert_eq!(file_request(&api, "192.0.2.1").await, 429);

    // A peer that is not a trusted proxy: its forwarded header is ignored, so every
    // "client" it names shares its limit.
    let (_samla, _state, api) = behind(&["10.0.0.0/8"]).await;
    assert_eq!(file_request(&api, "192.0.2.1").await, 201);
    assert_eq!(file_request(&api, "192.0.2.2").await, 201);
    assert_eq!(file_request(&api, "192.0.2.3").await, 429);
}

/// `curl` with `args`: its exit status and output.
fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "60"])
        .args(args)
        .output()
        .expect("curl runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A header's value in curl's `-i`/`-I` output (the last response's).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    let last = head.rsplit("\r\n\r\n").find(|h| h.starts_with("HTTP/"))?;
    last.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

fn status(head: &str) -> &str {
    let last = head
        .rsplit("\r\n\r\n")
        .find(|h| h.starts_with("HTTP/"))
        .unwrap_or("");
    last.split_whitespace().nth(1).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_are_compressed_tagged_and_answer_304_until_the_region_changes() {
    let r = region(150).await;
    r.harvest().await;
    let api = serve_api(&r.samla).await;
    let export = format!("{api}/datasets/dcat");
    let (head, tag) = tokio::task::spawn_blocking({
        let export = export.clone();
        move || {
            let head = curl(&["-I", "--compressed", &export]);
            let tag = header(&head, "etag").map(str::to_string);
            (head, tag)
        }
    })
    .await
    .expect("curl");
    assert_eq!(status(&head), "200", "{head}");
    assert!(
        matches!(
            header(&head, "content-encoding"),
            Some("gzip" | "br" | "deflate" | "zstd")
        ),
        "{head}"
    );
    let tag = tag.unwrap_or_else(|| panic!("an ETag: {head}"));
    assert!(header(&head, "last-modified").is_some(), "{head}");

    // A client that has the export gets 304 and no body, by tag or by date.
    let client = reqwest::Client::new();
    let again = client
        .get(&export)
        .header("if-none-match", &tag)
        .send()
        .await
        .expect("get");
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.bytes().await.expect("body").is_empty());
    let modified = header(&head, "last-modified").expect("date").to_string();
    let since = client
        .get(&export)
        .header("if-modified-since", &modified)
        .send()
        .await
        .expect("get");
    assert_eq!(since.status().as_u16(), 304);
    // Another representation of the same URL has another tag.
    let turtle = client
        .get(format!("{api}/catalog"))
        .header("accept", "text/turtle")
        .send()
        .await
        .expect("get");
    let xml = client
        .get(format!("{api}/catalog"))
        .header("accept", "application/rdf+xml")
        .send()
        .await
        .expect("get");
    assert_ne!(turtle.headers().get("etag"), xml.headers().get("etag"));

    // The CKAN search and a report are conditional too.
    for path in [
        "/api/3/action/package_search?q=badplatser",
        "/api/v1/reports/quality",
    ] {
        let first = client
            .get(format!("{api}{path}"))
            .send()
            .await
            .expect("get");
        assert_eq!(first.status().as_u16(), 200, "{path}");
        let tag = first.headers().get("etag").cloned().expect("etag");
        let again = client
            .get(format!("{api}{path}"))
            .header("if-none-match", tag)
            .send()
            .await
            .expect("get");
        assert_eq!(again.status().as_u16(), 304, "{path}");
    }

    // The region changes: the old tag no longer matches, and the new export is sent.
    r.simulator.advance();
    r.harvest().await;
    let changed = client
        .get(&export)
        .header("if-none-match", &tag)
        .send()
        .await
        .expect("get");
    assert_eq!(changed.status().as_u16(), 200);
    assert_ne!(
        changed.headers().get("etag").and_then(|t| t.to_str().ok()),
        Some(tag.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_security_headers_and_the_api_is_open_to_other_sites() {
    let (_samla, _state, api) = behind(&[]).await;
    let client = reqwest::Client::new();
    for path in ["/", "/api/v1/datasets?q=x", "/no/such/page"] {
        let response = client
            .get(format!("{api}{path}"))
            .header("origin", "https://example.org")
            .send()
            .await
            .expect("get");
        let h = response.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path}: a content security policy"));
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        assert!(h.get("referrer-policy").is_some(), "{path}");
        assert_eq!(
            h.get("access-control-allow-origin").map(|v| v.as_bytes()),
            Some(&b"*"[..]),
            "{path}"
        );
    }
    // The page has no inline script or style for the policy to block.
    let page = client.get(format!("{api}/")).send().await.expect("get");
    let html = page.text().await.expect("html");
    assert!(
        !html.contains("<style") && !html.contains("style="),
        "inline style"
    );
    assert!(
        html.match_indices("<script")
            .all(|(at, _)| html[at..].starts_with("<script src=")),
        "inline script"
    );
}

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_binds_where_it_is_told_and_stops_cleanly_on_sigterm() {
    let port = crate::pg::free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let region = dir.path().join("region.toml");
    std::fs::write(
        &region,
        crate::support::malmo_region("http://127.0.0.1:9/catalog.ttl"),
    )
    .expect("region file");
    let state = dir.path().join("state");
    let bind = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_samla"))
        .args(["serve", "--no-initial-harvest", "--bind", &bind, "--config"])
        .arg(&region)
        .arg("--state")
        .arg(&state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start samla serve");
    let mut child = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let ready = loop {
        if let Ok(response) = reqwest::get(format!("http://{bind}/readyz")).await {
            break response;
        }
        assert!(Instant::now() < deadline, "samla serve did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ready.status().as_u16(), 200);
    let ready: serde_json::Value =
        serde_json::from_slice(&ready.bytes().await.expect("body")).expect("json");
    assert_eq!(ready["ready"], true, "{ready}");

    let terminated = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "samla serve did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(
        reqwest::get(format!("http://{bind}/healthz"))
            .await
            .is_err(),
        "still answering after SIGTERM"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_requests_waits_in_a_bounded_queue_and_the_rest_get_503() {
    let r = crate::support::region_with(300, |_| {}).await;
    r.harvest().await;
    // One worker and two waiting: 64 exports at once cannot all be taken.
    let mut state = r.samla.api_state();
    state.work = std::sync::Arc::new(samla_api::WorkPool::new(Some(1), Some(2)));
    let api = crate::support::serve(samla_api::router(state)).await;
    let client = reqwest::Client::new();
    let flood = (0..64).map(|_| {
        let (client, api) = (client.clone(), api.clone());
        async move {
            let response = client
                .get(format!("{api}/datasets/dcat"))
                .send()
                .await
                .expect("answer");
            let status = response.status().as_u16();
            let retry = response.headers().get("retry-after").is_some();
            let body = response.text().await.expect("body");
            (status, retry, body)
        }
    });
    let answers = futures::future::join_all(flood).await;
    let served = answers.iter().filter(|a| a.0 == 200).count();
    let refused: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert_eq!(served + refused.len(), 64, "only 200 or 503");
    assert!(served >= 3, "{served} served");
    assert!(!refused.is_empty(), "the queue is bounded");
    for (_, retry, body) in refused {
        assert!(*retry, "503 says when to try again");
        assert!(
            body.contains("unavailable") && body.contains("waiting"),
            "{body}"
        );
    }
    // Afterwards the service answers as before.
    let again = client
        .get(format!("{api}/datasets/dcat"))
        .send()
        .await
        .expect("answer");
    assert_eq!(again.status().as_u16(), 200);
}

/// A search node: `samla serve --role search` following `store` into its own index in
/// `state`; its stderr (the log) is collected.
struct SearchNode {
    child: Killed,
    url: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

/// A search node of the store in `store`, or at `store_url` (PostgreSQL) when given.
fn search_node(
    store: &std::path::Path,
    store_url: Option<&str>,
    state: &std::path::Path,
) -> SearchNode {
    use std::io::BufRead;
    let config = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/skane.toml"));
    let (mut command, url) = serve_command("search", config, state, store_url);
    let mut child = command
        .arg("--store")
        .arg(store)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a search node");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("stderr");
    let kept = std::sync::Arc::clone(&log);
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let mut log = kept.lock().unwrap_or_else(|p| p.into_inner());
            log.push_str(&line);
            log.push('\n');
        }
    });
    SearchNode {
        child: Killed(child),
        url,
        log,
    }
}

/// `samla serve --role <role>` of the region file `config` on a free loopback port, its state
/// in `state`, its store at `store_url` (PostgreSQL) when given, its output not kept; and the
/// address it will answer at.
fn serve_command(
    role: &str,
    config: &std::path::Path,
    state: &std::path::Path,
    store_url: Option<&str>,
) -> (Command, String) {
    let bind = format!("127.0.0.1:{}", crate::pg::free_port());
    let mut command = Command::new(env!("CARGO_BIN_EXE_samla"));
    command
        .args(["serve", "--role", role, "--bind", &bind, "--config"])
        .arg(config)
        .arg("--state")
        .arg(state)
        .env("SAMLA_STORE_URL", store_url.unwrap_or_default())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    (command, format!("http://{bind}"))
}

/// The total and the hit ids of a search, as a node answers it (`None` until it answers).
/// Hits by relevance are compared as a set: scores depend on each index's statistics
/// (deleted documents count until merged); by date, the order is the same everywhere.
async fn answer(url: &str, query: &str) -> Option<(u64, Vec<String>)> {
    let response = reqwest::get(format!("{url}/api/v1/datasets?{query}&per_page=50"))
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&response.bytes().await.ok()?).ok()?;
    let mut ids: Vec<String> = v["hits"]
        .as_array()?
        .iter()
        .filter_map(|h| h["id"].as_str().map(str::to_string))
        .collect();
    let total = v["total"].as_u64()?;
    if query.contains("q=") {
        assert!(total <= 50, "{query}: every hit on one page");
        ids.sort();
    }
    Some((total, ids))
}

/// Waits until every node answers `queries` as `expected` does, within `within`.
async fn converge(nodes: &[&SearchNode], expected: &str, within: Duration) {
    let queries = [
        "q=badplatser",
        "q=zoning+plans",
        "municipality=1280",
        "sort=modified",
    ];
    let deadline = Instant::now() + within;
    loop {
        let mut differ = Vec::new();
        for q in queries {
            let want = answer(expected, q).await.expect("the harvester answers");
            for node in nodes {
                let got = answer(&node.url, q).await;
                if got.as_ref() != Some(&want) {
                    differ.push(format!(
                        "{} {q}: {:?} against {:?}",
                        node.url,
                        got.map(|g| g.0),
                        want.0
                    ));
                }
            }
        }
        if differ.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            let logs: Vec<String> = nodes
                .iter()
                .map(|n| n.log.lock().unwrap_or_else(|p| p.into_inner()).clone())
                .collect();
            panic!(
                "the search nodes did not catch up within {within:?}: {differ:#?}\n{}",
                logs.join("\n---\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_search_nodes_follow_one_harvester() {
    search_nodes_follow_a_harvester(crate::store::Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_search_nodes_follow_one_harvester_through_postgres() {
    search_nodes_follow_a_harvester(crate::store::Engine::Postgres).await;
}

async fn search_nodes_follow_a_harvester(engine: crate::store::Engine) {
    let r = crate::support::region_on(engine, 400, |h| h.archive_after = Duration::ZERO).await;
    r.harvest().await;
    let harvester = serve_api(&r.samla).await;
    let dirs = [
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    ];
    let url = r.store_url.as_deref();
    let mut one = search_node(r.state.path(), url, dirs[0].path());
    let two = search_node(r.state.path(), url, dirs[1].path());
    // A new node builds its index from the store, then both answer as the harvester does.
    converge(&[&one, &two], &harvester, Duration::from_secs(60)).await;

    // A write on one node is read on every node: a data request filed with node two is in
    // node one's demand report, from the store they share.
    let what = "Laddplatser i Ystad";
    let filed = reqwest::Client::new()
        .post(format!("{}/api/v1/requests", two.url))
        .header("content-type", JSON)
        .body(format!(
            r#"{{"what": "{what}", "organisation_type": "research"}}"#
        ))
        .send()
        .await
        .expect("post");
    assert_eq!(filed.status().as_u16(), 201);
    let demand = reqwest::get(format!("{}/api/v1/reports/demand", one.url))
        .await
        .expect("demand")
        .bytes()
        .await
        .expect("body");
    let demand: serde_json::Value = serde_json::from_slice(&demand).expect("json");
    assert!(
        demand["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .any(|r| r["what"] == what),
        "{demand}"
    );

    // The next epoch changes, adds and removes datasets: both nodes have it within 5 s.
    r.simulator.advance();
    r.harvest().await;
    converge(&[&one, &two], &harvester, Duration::from_secs(5)).await;

    // A node killed and started again catches up from its own sequence number.
    let _ = one.child.0.kill();
    let _ = one.child.0.wait();
    r.simulator.advance();
    r.harvest().await;
    let restarted = search_node(r.state.path(), url, dirs[0].path());
    converge(&[&restarted, &two], &harvester, Duration::from_secs(30)).await;
    let log = restarted.log.lock().expect("log").clone();
    assert!(
        log.contains("rebuilt: false") && !log.contains("rebuilt: true"),
        "caught up without a rebuild:\n{log}"
    );
    // A search node takes no "run now": it harvests nothing.
    let refused = reqwest::Client::new()
        .post(format!("{}/api/v1/sources/malmo/harvest", restarted.url))
        .send()
        .await
        .expect("answer");
    assert!(refused.status().is_client_error(), "{}", refused.status());
}

/// `samla serve --role harvester` of `region` on the PostgreSQL store at `store_url`, with its
/// own state directory; the admin token is `secret`.
fn harvester_node(
    region: &std::path::Path,
    store_url: &str,
    state: &std::path::Path,
) -> (Killed, String) {
    let (mut command, url) = serve_command("harvester", region, state, Some(store_url));
    let child = command
        .env("SAMLA_ADMIN_TOKEN", "secret")
        .spawn()
        .expect("start a harvester node");
    (Killed(child), url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_harvester_killed_mid_run_leaves_nothing_half_applied_and_another_completes_the_source() {
    use axum::extract::Query;
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // A catalog of two pages: the second answers only once the gate opens, so a harvester
    // that has read the first is caught mid-run.
    let (gate, opened) = tokio::sync::watch::channel(false);
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&asked);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let page_base = base.clone();
    let catalog = axum::Router::new().route(
        "/catalog",
        axum::routing::get(move |Query(q): Query<HashMap<String, String>>| {
            let (mut opened, counter, base) = (opened.clone(), Arc::clone(&counter), page_base.clone());
            async move {
                let second = q.contains_key("page");
                if second {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ = opened.wait_for(|open| *open).await;
                }
                let names: Vec<String> = (1..=5)
                    .map(|i| format!("{}{i}", if second { "b" } else { "a" }))
                    .collect();
                let mut body: String = names
                    .iter()
                    .map(|n| format!(
                        "<{base}/data/{n}> a <http://www.w3.org/ns/dcat#Dataset> ; \
                         <http://purl.org/dc/terms/title> \"Dataset {n}\"@sv ; \
                         <http://purl.org/dc/terms/publisher> <http://dataportal.se/organisation/SE2120001124> .\n"
                    ))
                    .collect();
                if !second {
                    body.push_str(&format!(
                        "<{base}/catalog> a <http://www.w3.org/ns/hydra/core#PartialCollectionView> ; \
                         <http://www.w3.org/ns/hydra/core#next> <{base}/catalog?page=2> .\n"
                    ));
                }
                ([(axum::http::header::CONTENT_TYPE, "text/turtle")], body)
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, catalog).await });
    let dir = tempfile::tempdir().expect("tempdir");
    let region = dir.path().join("region.toml");
    std::fs::write(
        &region,
        crate::support::malmo_region(&format!("{base}/catalog")),
    )
    .expect("region file");
    let cluster = crate::pg::Cluster::shared();
    let url = cluster.database();

    // The first harvester starts the source at once, reads page one and waits on page two.
    let (mut first, _) = harvester_node(&region, &url, &dir.path().join("a"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while asked.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the first harvester never reached page two"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let search = search_node(dir.path(), Some(&url), &dir.path().join("s"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let shown = loop {
        if let Some(answer) = answer(&search.url, "sort=modified").await {
            break answer;
        }
        assert!(Instant::now() < deadline, "the search node did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(shown.0, 0, "nothing of a run that has not ended is shown");

    // Killed mid-run: nothing of its first page reaches the store or any node.
    let _ = first.0.kill();
    let _ = first.0.wait();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        answer(&search.url, "sort=modified").await.map(|a| a.0),
        Some(0),
        "no half-applied run"
    );

    // Another harvester node takes the source as soon as the dead one's lock is gone, and
    // completes it.
    gate.send_replace(true);
    let (_second, api) = harvester_node(&region, &url, &dir.path().join("b"));
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let started = client
            .post(format!("{api}/api/v1/sources/malmo/harvest"))
            .bearer_auth("secret")
            .send()
            .await;
        match started.map(|r| r.status().as_u16()) {
            Ok(202) => break,
            // Its own initial run has it (202 before), or the lock is still going away.
            Ok(409) | Err(_) => {}
            Ok(status) => panic!("run now answered {status}"),
        }
        if answer(&search.url, "sort=modified").await.map(|a| a.0) == Some(10) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second harvester never took the source"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown = answer(&search.url, "sort=modified").await.map(|a| a.0);
        if shown == Some(10) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the source was not completed: {shown:?} shown"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let runs = client
        .get(format!("{api}/api/v1/sources/malmo/runs"))
        .send()
        .await
        .expect("runs")
        .bytes()
        .await
        .expect("body");
    let runs: serde_json::Value = serde_json::from_slice(&runs).expect("json");
    let outcomes: Vec<&str> = runs["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|r| r["outcome"].as_str())
        .collect();
    assert!(outcomes.contains(&"success"), "{runs}");
    assert_eq!(
        outcomes.last(),
        Some(&"interrupted"),
        "the dead node's run is recorded as interrupted: {runs}"
    );
    assert!(!outcomes.contains(&"running"), "{runs}");
}
