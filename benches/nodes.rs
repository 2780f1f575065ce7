//! Search throughput of one search node against two (on demand: `scripts/bench nodes`, or
//! `cargo bench --bench nodes`).
//!
//! The simulated region (`SAMLA_NODES_DATASETS`, 100 000) is harvested into a store on disk;
//! real `samla serve --role search` processes follow it, each with its own index. Clients
//! (`SAMLA_NODES_CLIENTS`, 16) run the benchmark's query mix over HTTP for
//! `SAMLA_NODES_SECS` (10) against one node, then against two (the clients split between
//! them), alternating three times; the medians of searches per second, p50 and p99, and the
//! nodes' CPU time per search. Both nodes share this machine's cores: on two cores a second
//! node adds no CPU, so the figure says what a second node costs, not what a second machine
//! gives.

// The benchmark reads whole bodies from the nodes it starts itself, on loopback.
#![allow(clippy::disallowed_methods)]

mod common;

use samla::app;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    common::block_on(run())
}

/// A search node process, killed when dropped.
struct Node {
    child: Child,
    url: String,
    _state: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    async fn start(store: &std::path::Path) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let state = tempfile::tempdir()?;
        let bind = format!("127.0.0.1:{port}");
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/skane.toml");
        let child = Command::new(env!("CARGO_BIN_EXE_samla"))
            .args([
                "serve", "--role", "search", "--bind", &bind, "--config", config,
            ])
            .arg("--store")
            .arg(store)
            .arg("--state")
            .arg(state.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let node = Self {
            child,
            url: format!("http://{bind}"),
            _state: state,
        };
        let deadline = Instant::now() + Duration::from_secs(600);
        while reqwest::get(format!("{}/readyz", node.url))
            .await
            .map_or(true, |r| !r.status().is_success())
        {
            anyhow::ensure!(Instant::now() < deadline, "the node did not become ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(node)
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

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn run() -> anyhow::Result<()> {
    let datasets = common::env_u64("SAMLA_NODES_DATASETS", 100_000) as usize;
    let clients = common::env_u64("SAMLA_NODES_CLIENTS", 16) as usize;
    let length = Duration::from_secs(common::env_u64("SAMLA_NODES_SECS", 10));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("samla search nodes benchmark ({cores} cores, {clients} clients, {length:?} a run)");
    let region = app::embedded_region()?;
    let simulator = Arc::new(app::simulator_for(&region, datasets));
    let (config, _, _served) = common::serve_simulated(&region, &simulator).await?;
    let store = tempfile::tempdir()?;
    let harvester = app::Samla::open(config, store.path())?;
    let started = Instant::now();
    harvester
        .harvest_quietly(harvester.config.harvest.concurrency)
        .await;
    println!(
        "harvested {} datasets in {:.1} s",
        harvester.index.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let one = Node::start(store.path()).await?;
    println!(
        "a new search node built its index from the store in {:.1} s ({:.0} datasets/s)",
        started.elapsed().as_secs_f64(),
        harvester.index.len() as f64 / started.elapsed().as_secs_f64()
    );
    let two = Node::start(store.path()).await?;
    // Warm both.
    load(&[&one, &two], clients, Duration::from_secs(2)).await?;
    let (mut single, mut double) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        single.push(load(&[&one], clients, length).await?);
        double.push(load(&[&one, &two], clients, length).await?);
    }
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
        "two nodes / one = {:.2}× on {cores} cores (the nodes, the clients and the harvester's store share them)",
        b / a
    );
    Ok(())
}
