//! samla at scale, on both engines (on demand: `scripts/bench nodes`, or
//! `cargo bench --bench nodes`).
//!
//! The simulated region (`SAMLA_NODES_DATASETS`, 100 000; the figure is 1 000 000) is
//! served on loopback and harvested by a real `samla serve` process, once with the SQLite store
//! and once with PostgreSQL (a throwaway cluster on loopback; `SAMLA_NODES_ENGINES`,
//! `sqlite,postgres`). For each: the time until the region is harvested and searchable, the
//! harvester's peak resident memory, the store's and the index's size on disk, search p50 and
//! p99 in-process and over HTTP (the benchmark's query mix, `SAMLA_NODES_ROUNDS` rounds); then,
//! with a link result stored for every distribution link (as a link pass leaves them: a
//! rebuild scores quality bands with them), real `samla serve --role search` processes: how
//! fast a new one builds its index from the store (three nodes, one after the other: each
//! rate, its CPU time a dataset, the medians),
//! its resident memory while serving against its index's size, and the throughput of
//! one node against two (`SAMLA_NODES_CLIENTS` clients, 16, for `SAMLA_NODES_SECS`, 10,
//! alternating three times; medians, with the nodes' CPU time per search). With
//! `SAMLA_NODES_BASELINE` naming another build's `samla` binary, each rebuild alternates with
//! one by that build over the same store, and both medians are printed with their ratio: how a
//! change to the rebuild is measured side by side. All processes
//! share this machine's cores: on two cores a second node adds no CPU, so that figure says
//! what a second node costs, not what a second machine gives.

// The benchmark reads whole bodies from the nodes it starts itself, on loopback.
#![allow(clippy::disallowed_methods)]

mod common;
// The tests' throwaway PostgreSQL and free ports (the benchmark uses part of it).
#[allow(dead_code)]
#[path = "../tests/it/pg.rs"]
mod pg;

use samla::app;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    common::block_on(run())
}

/// A `samla serve` process, killed when dropped.
struct Node {
    child: Child,
    url: String,
    state: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the store is: SQLite in a directory, or PostgreSQL at an address.
#[derive(Clone)]
enum StoreAt {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Node {
    /// Starts `samla serve --role <role>` with `config`, its state in `state` (a new
    /// directory when `None`).
    fn spawn(
        binary: &Path,
        role: &str,
        config: &Path,
        store: &StoreAt,
        state: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let port = pg::free_port();
        let (dir, state) = match state {
            Some(state) => (None, state.to_path_buf()),
            None => {
                let dir = tempfile::tempdir()?;
                let state = dir.path().to_path_buf();
                (Some(dir), state)
            }
        };
        let bind = format!("127.0.0.1:{port}");
        let mut command = Command::new(binary);
        command
            .args(["serve", "--role", role, "--bind", &bind, "--config"])
            .arg(config)
            .arg("--state")
            .arg(&state)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match store {
            StoreAt::Sqlite(dir) => {
                command
                    .arg("--store")
                    .arg(dir)
                    .env_remove("SAMLA_STORE_URL");
            }
            StoreAt::Postgres(url) => {
                command.env("SAMLA_STORE_URL", url);
            }
        }
        Ok(Self {
            child: command.spawn()?,
            url: format!("http://{bind}"),
            state,
            _dir: dir,
        })
    }

    /// Waits until the node says it is ready (a search node: caught up with the store).
    async fn ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(3600);
        while reqwest::get(format!("{}/readyz", self.url))
            .await
            .map_or(true, |r| !r.status().is_success())
        {
            anyhow::ensure!(Instant::now() < deadline, "the node did not become ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }

    /// A memory figure of the process from `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
    fn memory(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with(field))?;
                let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
                Some(kb * 1024)
            })
            .unwrap_or(0)
    }

    /// Stops the process with SIGTERM and waits for it.
    fn stop(mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        self.child.wait()?;
        Ok(())
    }

    /// The CPU time the process has used (user and system).
    fn cpu(&self) -> Duration {
        let ticks = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .ok()
            .and_then(|s| {
                // Fields after the command name (which may hold spaces) in parentheses.
                let rest = s.rsplit_once(')')?.1.to_string();
                let fields: Vec<&str> = rest.split_whitespace().collect();
                Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0);
        // Linux reports these in clock ticks of 1/100 s.
        Duration::from_millis(ticks * 10)
    }
}

/// What one load run measured.
struct Load {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    cpu_per_search: Duration,
}

async fn load(nodes: &[&Node], clients: usize, length: Duration) -> anyhow::Result<Load> {
    let paths = Arc::new(common::search_paths(&common::query_mix()));
    let client = reqwest::Client::new();
    let cpu: Duration = nodes.iter().map(|n| n.cpu()).sum();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let url = nodes[c % nodes.len()].url.clone();
        let (client, paths) = (client.clone(), Arc::clone(&paths));
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut i = c;
            while start.elapsed() < length {
                let path = &paths[i % paths.len()];
                i += 1;
                let asked = Instant::now();
                let response = client.get(format!("{url}{path}")).send().await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "{path}: {}",
                    response.status()
                );
                std::hint::black_box(response.bytes().await?);
                times.push(asked.elapsed());
            }
            Ok(times)
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await??);
    }
    let elapsed = start.elapsed();
    let cpu = nodes
        .iter()
        .map(|n| n.cpu())
        .sum::<Duration>()
        .saturating_sub(cpu);
    times.sort();
    Ok(Load {
        per_second: times.len() as f64 / elapsed.as_secs_f64(),
        p50: common::percentile(&times, 0.5),
        p99: common::percentile(&times, 0.99),
        cpu_per_search: cpu / times.len().max(1) as u32,
    })
}

/// A new search node by `binary`, ready once it has built its index from `store`: the node,
/// its datasets a second and its CPU time a dataset in µs.
async fn rebuild(
    binary: &Path,
    config: &Path,
    store: &StoreAt,
    total: u64,
) -> anyhow::Result<(Node, f64, f64)> {
    let started = Instant::now();
    let node = Node::spawn(binary, "search", config, store, None)?;
    node.ready().await?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = node.cpu().as_secs_f64();
    Ok((node, total as f64 / wall, cpu * 1e6 / total as f64))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Bytes under `path` (a file or a directory).
fn size_on_disk(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    if meta.is_file() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| size_on_disk(&e.path()))
        .sum()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// The region file of the simulated region served at `config`'s addresses: the embedded
/// region's organisations and settings, the simulator's sources.
fn region_file(config: &samla_config::Config, dir: &Path) -> anyhow::Result<PathBuf> {
    let embedded = app::EMBEDDED_REGION;
    let organisations = &embedded[..embedded.find("[[source]]").unwrap_or(embedded.len())];
    let mut toml = organisations.replace(
        "per_host = 2",
        &format!("per_host = {}", config.harvest.concurrency),
    );
    for s in &config.sources {
        toml.push_str(&format!(
            "\n[[source]]\nid = \"{}\"\norganisation = \"{}\"\nprotocol = \"{}\"\nurl = \"{}\"\n",
            s.id, s.organisation, s.protocol, s.url
        ));
    }
    let path = dir.join("region.toml");
    std::fs::write(&path, toml)?;
    Ok(path)
}

/// Stores a link-check result for every distribution link of the harvested datasets (one in
/// ten broken), as a link pass over the region would leave them; returns how many. The
/// benchmark's links name the simulated municipalities' hosts, which it does not ask.
fn record_link_results(store: &StoreAt) -> anyhow::Result<usize> {
    use samla_store::{Access, LinkRow, Store};
    let store = match store {
        StoreAt::Sqlite(dir) => Store::open_at(dir, Access::Beside)?,
        StoreAt::Postgres(url) => Store::connect(url, Access::Beside)?,
    };
    let checked_at = chrono::Utc::now();
    let mut urls = std::collections::HashSet::new();
    store.for_each_dataset_any_order(|d| {
        let Ok(graph) = samla_model::record::read_stored(&d.ntriples) else {
            return;
        };
        urls.extend(d.view_from_refs(&graph.triples()).link_urls().cloned());
    })?;
    let rows: Vec<LinkRow> = urls
        .into_iter()
        .enumerate()
        .map(|(i, url)| LinkRow {
            ok: i % 10 != 0,
            status: Some(if i % 10 != 0 { 200 } else { 404 }),
            error: None,
            elapsed_ms: 20,
            checked_at,
            url,
        })
        .collect();
    for part in rows.chunks(10_000) {
        store.record_links(part)?;
    }
    Ok(rows.len())
}

/// Waits until every source of the node's region has a finished run and the index has
/// caught up with the store; the searchable total.
async fn harvested(node: &Node, sources: usize) -> anyhow::Result<u64> {
    let client = reqwest::Client::new();
    loop {
        let ended = async {
            let body = client
                .get(format!("{}/api/v1/sources", node.url))
                .send()
                .await
                .ok()?
                .bytes()
                .await
                .ok()?;
            let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
            let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
            for s in v["sources"].as_array()? {
                if let Some(o) = s["last_run"]["outcome"]
                    .as_str()
                    .filter(|o| *o != "running")
                {
                    *outcomes.entry(o.to_string()).or_default() += 1;
                }
            }
            Some((outcomes.values().sum::<usize>(), outcomes))
        }
        .await;
        if let Some((n, outcomes)) = ended
            && n == sources
        {
            println!("runs: {outcomes:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Searchable once the index has published what the store holds.
    node.ready().await?;
    let body = client
        .get(format!("{}/api/v1/datasets?per_page=1", node.url))
        .send()
        .await?
        .bytes()
        .await?;
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    v["total"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no total in {v}"))
}

/// p50, p99 and CPU per search of `rounds` rounds of the query mix in this process, over the
/// index in `dir`.
fn in_process_latency(dir: &Path, rounds: usize) -> anyhow::Result<(Duration, Duration, Duration)> {
    let index = samla_indexer::Indexer::open(dir)?;
    println!("the index holds {} datasets", index.len());
    let mix = common::query_mix();
    for req in &mix {
        index.search(req)?;
    }
    let cpu = common::cpu_time();
    let mut times = Vec::new();
    for _ in 0..rounds {
        for req in &mix {
            let start = Instant::now();
            std::hint::black_box(index.search(req)?.total);
            times.push(start.elapsed());
        }
    }
    let cpu = (common::cpu_time() - cpu) / times.len().max(1) as u32;
    times.sort();
    Ok((
        common::percentile(&times, 0.5),
        common::percentile(&times, 0.99),
        cpu,
    ))
}

/// One answer of `node`: how long it took, and its body.
async fn timed_get(
    client: &reqwest::Client,
    node: &Node,
    path: &str,
    query: &[(&str, &str)],
) -> anyhow::Result<(Duration, String)> {
    let url = reqwest::Url::parse_with_params(&format!("{}{path}", node.url), query)?;
    let started = Instant::now();
    let response = client
        .get(url)
        .header(
            "accept",
            "application/sparql-results+json, application/json",
        )
        .timeout(Duration::from_secs(3600))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    let body = response.text().await?;
    Ok((started.elapsed(), body))
}

/// The SPARQL endpoint's figures on a search node: its first query (which builds the graph
/// file), queries on the built file, the file's size, and the node's resident memory after
/// them; then the same after two reports (the first derives the facts and keeps them on disk).
async fn sparql_figures(node: &Node, total: u64) -> anyhow::Result<()> {
    const COUNT: &str =
        "SELECT (COUNT(?d) AS ?n) WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> }";
    const ONE_PUBLISHER: &str = "PREFIX dcat: <http://www.w3.org/ns/dcat#> \
        PREFIX dcterms: <http://purl.org/dc/terms/> \
        SELECT ?d ?title WHERE { ?d a dcat:Dataset ; dcterms:title ?title ; \
        dcterms:publisher <https://lund.se/#organisation> } LIMIT 20";
    let client = reqwest::Client::new();
    let before = node.memory("VmRSS");
    let cpu = node.cpu();
    let (first, body) = timed_get(&client, node, "/sparql", &[("query", COUNT)]).await?;
    let cpu_first = node.cpu().saturating_sub(cpu);
    anyhow::ensure!(body.contains(&format!("\"{total}\"")), "count: {body}");
    let graph_size = size_on_disk(&node.state.join("sparql"));
    let (mut counts, mut selective, mut trivial) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        trivial.push(
            timed_get(&client, node, "/sparql", &[("query", "ASK {}")])
                .await?
                .0,
        );
        counts.push(
            timed_get(&client, node, "/sparql", &[("query", COUNT)])
                .await?
                .0,
        );
        let (took, body) = timed_get(&client, node, "/sparql", &[("query", ONE_PUBLISHER)]).await?;
        anyhow::ensure!(
            body.matches("\"title\"").count() > 1,
            "Lund's datasets: {body}"
        );
        selective.push(took);
    }
    let after = node.memory("VmRSS");
    let ms = |times: &[Duration]| median(times.iter().map(|d| common::ms(*d)).collect());
    println!(
        "sparql: first query (builds the graph file) {:.1} s ({:.0} datasets/s, CPU {:.0} µs a dataset); \
         the file {:.0} MB; count of every dataset {:.1} ms, one publisher's datasets {:.1} ms, \
         ASK {{}} {:.1} ms (medians of 5); resident {:.0} MB before, {:.0} MB after",
        first.as_secs_f64(),
        total as f64 / first.as_secs_f64(),
        cpu_first.as_secs_f64() * 1e6 / total.max(1) as f64,
        mb(graph_size),
        ms(&counts),
        ms(&selective),
        ms(&trivial),
        mb(before),
        mb(after),
    );
    // Coverage: an answer of the region's size, whatever the corpus's.
    let (report, _) = timed_get(&client, node, "/api/v1/reports/coverage", &[]).await?;
    let (again, _) = timed_get(
        &client,
        node,
        "/api/v1/reports/quality",
        &[("format", "csv"), ("table", "municipalities")],
    )
    .await?;
    println!(
        "a first report (derives the facts, kept on disk): {:.1} s; a second (reads them through): {:.1} s; \
         resident {:.0} MB after them, {:.0} MB at most",
        report.as_secs_f64(),
        again.as_secs_f64(),
        mb(node.memory("VmRSS")),
        mb(node.memory("VmHWM")),
    );
    // The quality report with its list of every dataset, counted as it arrives (it is
    // gigabytes at a million datasets), asked for uncompressed.
    let plain = reqwest::Client::builder().no_gzip().no_brotli().build()?;
    let cpu = node.cpu();
    let started = Instant::now();
    let mut response = plain
        .get(format!("{}/api/v1/reports/quality", node.url))
        .timeout(Duration::from_secs(3600))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "quality: {}",
        response.status()
    );
    let mut bytes = 0u64;
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len() as u64;
    }
    let took = started.elapsed();
    println!(
        "the quality report listing every dataset (uncompressed): {:.0} MB in {:.1} s (CPU {:.0} µs a dataset); \
         resident {:.0} MB after it, {:.0} MB at most",
        mb(bytes),
        took.as_secs_f64(),
        node.cpu().saturating_sub(cpu).as_secs_f64() * 1e6 / total.max(1) as f64,
        mb(node.memory("VmRSS")),
        mb(node.memory("VmHWM")),
    );
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let datasets = common::env_u64("SAMLA_NODES_DATASETS", 100_000) as usize;
    let clients = common::env_u64("SAMLA_NODES_CLIENTS", 16) as usize;
    let rounds = common::env_u64("SAMLA_NODES_ROUNDS", 20) as usize;
    let length = Duration::from_secs(common::env_u64("SAMLA_NODES_SECS", 10));
    let engines = std::env::var("SAMLA_NODES_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let own = Path::new(env!("CARGO_BIN_EXE_samla"));
    let baseline = std::env::var_os("SAMLA_NODES_BASELINE").map(PathBuf::from);
    println!(
        "samla at scale: {datasets} simulated datasets ({cores} cores, {clients} clients, {length:?} a load run)"
    );
    let region = app::embedded_region()?;
    let simulator = Arc::new(app::simulator_for(&region, datasets));
    let (config, _, _served) = common::serve_simulated(&region, &simulator).await?;
    let work = tempfile::tempdir()?;
    let region_path = region_file(&config, work.path())?;
    for engine in engines.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let state = work.path().join(format!("{engine}-state"));
        let (store, cluster) = match engine {
            "sqlite" => (StoreAt::Sqlite(state.clone()), None),
            "postgres" => {
                let cluster = Arc::new(pg::Cluster::start());
                (StoreAt::Postgres(cluster.database()), Some(cluster))
            }
            other => anyhow::bail!("SAMLA_NODES_ENGINES: no engine {other:?}"),
        };
        println!("\n== {engine} ==");
        let started = Instant::now();
        let harvester = Node::spawn(own, "all", &region_path, &store, Some(&state))?;
        harvester.ready().await?;
        let total = harvested(&harvester, config.sources.len()).await?;
        let took = started.elapsed();
        println!(
            "harvested and searchable: {total} datasets in {:.1} s ({:.0} datasets/s); harvester peak resident memory {:.0} MB",
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64(),
            mb(harvester.memory("VmHWM")),
        );
        let over_http = common::http_latency(&harvester.url, rounds).await?;
        let (p50, p99) = (
            common::percentile(&over_http, 0.5),
            common::percentile(&over_http, 0.99),
        );
        let index_dir = harvester.state.join("index");
        harvester.stop()?;
        let store_size = match (&store, &cluster) {
            (StoreAt::Postgres(url), Some(cluster)) => cluster.database_size(url),
            _ => {
                size_on_disk(&state.join("samla.sqlite"))
                    + size_on_disk(&state.join("samla.sqlite-wal"))
            }
        };
        let index_size = size_on_disk(&index_dir);
        println!(
            "on disk: store {:.0} MB, index {:.0} MB",
            mb(store_size),
            mb(index_size)
        );
        let (ip50, ip99, cpu) = in_process_latency(&index_dir, rounds)?;
        println!(
            "search ({} queries a round, {rounds} rounds): in-process p50 {:.2} ms p99 {:.2} ms (CPU {:.2} ms per search); over HTTP p50 {:.2} ms p99 {:.2} ms",
            common::query_mix().len(),
            common::ms(ip50),
            common::ms(ip99),
            common::ms(cpu),
            common::ms(p50),
            common::ms(p99),
        );

        let links = record_link_results(&store)?;
        println!("link results stored: {links} distribution links, one in ten broken");

        // A new search node's rebuild, three times (each a node of its own): the last two
        // serve the load below. With a baseline build, each is preceded by one of its own.
        let mut rebuilt = Vec::new();
        let (mut rates, mut cpu_per_dataset) = (Vec::new(), Vec::new());
        let (mut baseline_rates, mut baseline_cpu) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            if let Some(binary) = &baseline {
                let (node, rate, cpu) = rebuild(binary, &region_path, &store, total).await?;
                println!("  (the baseline build: {rate:.0} datasets/s, {cpu:.0} µs CPU a dataset)");
                baseline_rates.push(rate);
                baseline_cpu.push(cpu);
                node.stop()?;
            }
            let (node, rate, cpu) = rebuild(own, &region_path, &store, total).await?;
            println!(
                "a new search node built its index from the store at {rate:.0} datasets/s, {cpu:.0} µs CPU a dataset (the node's own, besides the store's)"
            );
            rates.push(rate);
            cpu_per_dataset.push(cpu);
            rebuilt.push(node);
            if rebuilt.len() > 2 {
                rebuilt.remove(0).stop()?;
            }
        }
        let (rate, cpu) = (median(rates), median(cpu_per_dataset));
        println!("rebuild, median of 3: {rate:.0} datasets/s, {cpu:.0} µs CPU a dataset");
        if baseline.is_some() {
            let (base_rate, base_cpu) = (median(baseline_rates), median(baseline_cpu));
            println!(
                "the baseline build, median of 3: {base_rate:.0} datasets/s, {base_cpu:.0} µs CPU a dataset; this build / baseline: {:.3}× the rate, {:.3}× the CPU",
                rate / base_rate,
                cpu / base_cpu
            );
        }
        let two = rebuilt.pop().expect("rebuilt");
        let one = rebuilt.pop().expect("rebuilt");
        // Warm both.
        load(&[&one, &two], clients, Duration::from_secs(2)).await?;
        let (mut single, mut double) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            single.push(load(&[&one], clients, length).await?);
            double.push(load(&[&one, &two], clients, length).await?);
        }
        let serving = one.memory("VmRSS");
        let node_index = size_on_disk(&one.state.join("index"));
        println!(
            "a search node serving: resident {:.0} MB against its index's {:.0} MB on disk ({:.1}×)",
            mb(serving),
            mb(node_index),
            serving as f64 / node_index.max(1) as f64
        );
        sparql_figures(&one, total).await?;
        let show = |name: &str, runs: &[Load]| {
            let per_second = median(runs.iter().map(|l| l.per_second).collect());
            println!(
                "{name}: {per_second:.0} searches/s (runs {}), p50 {:.2} ms, p99 {:.2} ms, {:.2} ms CPU per search",
                runs.iter()
                    .map(|l| format!("{:.0}", l.per_second))
                    .collect::<Vec<_>>()
                    .join(" / "),
                median(runs.iter().map(|l| common::ms(l.p50)).collect()),
                median(runs.iter().map(|l| common::ms(l.p99)).collect()),
                median(runs.iter().map(|l| common::ms(l.cpu_per_search)).collect()),
            );
            per_second
        };
        let a = show("one search node ", &single);
        let b = show("two search nodes", &double);
        println!(
            "two nodes / one = {b_a:.2}× on {cores} cores (the nodes, the clients and the store share them)",
            b_a = b / a
        );
    }
    Ok(())
}
