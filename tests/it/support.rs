//! Helpers: loopback servers on port 0, harvesters with test limits, fixtures.

use axum::Router;
use samla_config::{HarvestSettings, Protocol, SourceConfig};
use samla_harvester::{Harvester, HttpClient, RunReport};
use samla_model::{DatasetRecord, Organisation, OrganisationDirectory};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Serves `router` on 127.0.0.1 at a free port; returns `http://127.0.0.1:PORT`.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn directory() -> Arc<OrganisationDirectory> {
    let org =
        |code: &str, name: &str, short: &str, orgnr: Option<&str>, domain: &str| Organisation {
            code: code.into(),
            name: name.into(),
            short_name: short.into(),
            orgnr: orgnr.map(str::to_string),
            domain: Some(domain.into()),
        };
    Arc::new(OrganisationDirectory::new(vec![
        org(
            "1280",
            "Malmö stad",
            "Malmö",
            Some("2120001124"),
            "malmo.se",
        ),
        org("1281", "Lunds kommun", "Lund", None, "lund.se"),
        org("1286", "Ystads kommun", "Ystad", None, "ystad.se"),
        org("1260", "Bjuvs kommun", "Bjuv", None, "bjuv.se"),
    ]))
}

/// Test limits; the loopback servers the tests start are on 127.0.0.1, allowed as a region
/// file allows its sources' hosts.
pub fn settings(max_body_bytes: u64) -> HarvestSettings {
    HarvestSettings {
        allow_hosts: vec!["127.0.0.1".into()],
        max_body_bytes,
        retries: 2,
        request_timeout: Duration::from_secs(10),
        run_timeout: Duration::from_secs(60),
        ..HarvestSettings::default()
    }
}

pub fn harvester(max_body_bytes: u64) -> Harvester {
    harvester_with(settings(max_body_bytes))
}

/// A harvester with these settings and a short retry backoff.
pub fn harvester_with(settings: HarvestSettings) -> Harvester {
    let client = HttpClient::new(&settings)
        .expect("client")
        .with_retry_base(Duration::from_millis(10));
    Harvester::new(settings, directory())
        .expect("harvester")
        .with_client(client)
}

pub fn source(id: &str, url: &str) -> SourceConfig {
    SourceConfig {
        id: id.into(),
        organisation: "1280".into(),
        protocol: Protocol::Dcat,
        url: url::Url::parse(url).expect("url"),
        schedule: samla_config::Schedule::default(),
        verified: true,
        enabled: true,
        aggregate: false,
        follow_hosts: Vec::new(),
    }
}

/// Runs one source and collects its records.
pub async fn run(harvester: &Harvester, source: &SourceConfig) -> (RunReport, Vec<DatasetRecord>) {
    collected(|tx| harvester.run(source, tx, CancellationToken::new())).await
}

/// What a run started with a record channel gives, and every record it sent.
pub async fn collected<F: Future>(
    run: impl FnOnce(tokio::sync::mpsc::Sender<DatasetRecord>) -> F,
) -> (F::Output, Vec<DatasetRecord>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let collect = async {
        let mut records = Vec::new();
        while let Some(r) = rx.recv().await {
            records.push(r);
        }
        records
    };
    tokio::join!(run(tx), collect)
}

/// The embedded region's simulator, served on loopback, and a samla harvesting it into a
/// fresh state directory.
pub struct Region {
    pub simulator: Arc<samla_simulator::Simulator>,
    pub samla: samla::app::Samla,
    pub state: tempfile::TempDir,
    /// The PostgreSQL store's address, when the region's store is there.
    pub store_url: Option<String>,
    /// The cluster that holds it, kept running while the region is.
    pub _cluster: Option<Arc<crate::pg::Cluster>>,
}

pub async fn region(datasets: usize) -> Region {
    region_with(datasets, |_| {}).await
}

/// A region whose harvest settings `tune` adjusts.
pub async fn region_with(datasets: usize, tune: impl FnOnce(&mut HarvestSettings)) -> Region {
    region_on(crate::store::Engine::Sqlite, datasets, tune).await
}

/// A region whose store is on `engine` (PostgreSQL: a new database of the shared cluster).
pub async fn region_on(
    engine: crate::store::Engine,
    datasets: usize,
    tune: impl FnOnce(&mut HarvestSettings),
) -> Region {
    region_configured(engine, datasets, |c| tune(&mut c.harvest)).await
}

/// A region whose configuration `tune` adjusts (after the test harvest settings are set).
pub async fn region_configured(
    engine: crate::store::Engine,
    datasets: usize,
    tune: impl FnOnce(&mut samla_config::Config),
) -> Region {
    let config = samla::app::embedded_region().expect("embedded region");
    let simulator = Arc::new(samla::app::simulator_for(&config, datasets));
    let base = serve(Arc::clone(&simulator).router()).await;
    let mut config = samla::app::simulated_config(&config, &simulator, &base).expect("config");
    config.harvest = settings(1 << 26);
    tune(&mut config);
    open_region(engine, simulator, config)
}

/// samla opened with `config` over `simulator`'s region, its store on `engine`.
fn open_region(
    engine: crate::store::Engine,
    simulator: Arc<samla_simulator::Simulator>,
    mut config: samla_config::Config,
) -> Region {
    let cluster = match engine {
        crate::store::Engine::Sqlite => None,
        crate::store::Engine::Postgres => Some(crate::pg::Cluster::shared()),
    };
    config.store_url = cluster.as_ref().map(|c| c.database());
    let state = tempfile::tempdir().expect("tempdir");
    let samla = samla::app::Samla::open(config, state.path()).expect("open");
    Region {
        simulator,
        store_url: samla.config.store_url.clone(),
        samla,
        state,
        _cluster: cluster,
    }
}

impl Region {
    /// Harvests every source; returns the outcomes by source id.
    pub async fn harvest(
        &self,
    ) -> std::collections::HashMap<String, samla_pipeline::SourceOutcome> {
        self.samla
            .harvest_quietly(4)
            .await
            .into_iter()
            .map(|(id, r)| (id, r.expect("harvest runs")))
            .collect()
    }

    pub fn search(
        &self,
        q: &str,
        filters: &[(samla_indexer::Dimension, &str)],
    ) -> samla_indexer::SearchResult {
        self.samla
            .index
            .search(&samla_indexer::SearchRequest {
                q: Some(q.into()),
                filters: filters.iter().map(|(d, v)| (*d, v.to_string())).collect(),
                limit: 100,
                ..Default::default()
            })
            .expect("search")
    }
}

/// A region whose distribution links the simulator answers (some broken), with link checks
/// allowed on loopback and unpaced, as the demo runs it.
pub async fn region_linked(datasets: usize) -> Region {
    region_linked_on(crate::store::Engine::Sqlite, datasets).await
}

/// [`region_linked`] with its store on `engine`.
pub async fn region_linked_on(engine: crate::store::Engine, datasets: usize) -> Region {
    let config = samla::app::embedded_region().expect("embedded region");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let simulator = Arc::new(samla::app::simulator_for(&config, datasets).with_files_at(&base));
    let router = Arc::clone(&simulator).router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut config = samla::app::simulated_config(&config, &simulator, &base).expect("config");
    config.harvest = settings(1 << 26);
    config.links.allow_private = true;
    config.links.per_host = config.links.concurrency;
    config.links.per_host_delay = Duration::ZERO;
    open_region(engine, simulator, config)
}

/// Serves the API of `samla` as `samla serve` does (with client addresses).
pub async fn serve_api(samla: &samla::app::Samla) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let router = samla_api::router(samla.api_state());
    tokio::spawn(samla::app::serve_router(
        listener,
        router,
        std::future::pending(),
    ));
    format!("http://{addr}")
}

/// Percent-encodes an id for a path segment.
pub fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// GETs `url`: its status and body.
pub async fn get_text(url: String) -> (u16, String) {
    let response = reqwest::get(url).await.expect("get");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// GETs JSON from `url`, which must answer 200.
pub async fn get_json(url: String) -> serde_json::Value {
    let (status, body) = get_text(url.clone()).await;
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).expect("json")
}

/// A samla on a fresh state directory for a region file, its sources harvested once.
pub async fn harvested(toml: &str) -> (samla::app::Samla, tempfile::TempDir) {
    let config =
        samla_config::Config::from_toml(toml, std::path::Path::new("test.toml")).expect("config");
    let state = tempfile::tempdir().expect("tempdir");
    let samla = samla::app::Samla::open(config, state.path()).expect("open");
    samla.harvest_quietly(1).await;
    (samla, state)
}

/// A region file of Malmö alone, harvesting one DCAT catalog at `url`.
pub fn malmo_region(url: &str) -> String {
    format!(
        r#"
[region]
name = "Test"

[[organisation]]
code = "1280"
name = "Malmö stad"
short_name = "Malmö"
orgnr = "212000-1124"

[[source]]
id = "malmo"
organisation = "1280"
protocol = "dcat"
url = "{url}"
"#
    )
}
