//! What the benchmarks share: timing helpers and the search mix, in-process and as API paths.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use samla_indexer::{Dimension, SearchRequest, SortOrder};

/// The same allocator as the `samla` binary, so the benchmarks measure what it does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Duration;

/// Runs a benchmark's `run` on a multi-threaded tokio runtime.
pub fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(run: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run)
}

/// The `p` quantile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A whole number from the environment, or `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The CPU time this process has used so far, on every thread (the simulated server's
/// included: it serves from this process).
pub fn cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The benchmarks' fixed search mix: words, filters, facets, both sort orders.
pub fn query_mix() -> Vec<SearchRequest> {
    let q = |q: &str, filters: &[(Dimension, &str)], sort: SortOrder| SearchRequest {
        q: (!q.is_empty()).then(|| q.to_string()),
        filters: filters.iter().map(|(d, v)| (*d, v.to_string())).collect(),
        sort,
        offset: 0,
        limit: 20,
        ..SearchRequest::default()
    };
    let theme = "http://publications.europa.eu/resource/authority/data-theme/TRAN";
    vec![
        q("badplatser", &[], SortOrder::Relevance),
        q("laddstolpar", &[], SortOrder::Relevance),
        q("malmo parkering", &[], SortOrder::Relevance),
        q(
            "luftkvalitet",
            &[(Dimension::Municipality, "1280")],
            SortOrder::Relevance,
        ),
        q("", &[(Dimension::Theme, theme)], SortOrder::Modified),
        q(
            "cykel",
            &[
                (Dimension::Municipality, "1281"),
                (Dimension::Municipality, "1283"),
            ],
            SortOrder::Relevance,
        ),
        q("skolmat", &[], SortOrder::Modified),
        q(
            "detaljplaner",
            &[(
                Dimension::HvdCategory,
                "http://data.europa.eu/bna/c_ac64a52d",
            )],
            SortOrder::Relevance,
        ),
        q("", &[], SortOrder::Modified),
        q("befolkning statistik", &[], SortOrder::Relevance),
        q(
            "trafik",
            &[(
                Dimension::License,
                "http://creativecommons.org/licenses/by/4.0/",
            )],
            SortOrder::Relevance,
        ),
        q(
            "evenemang kultur",
            &[(
                Dimension::Format,
                "http://publications.europa.eu/resource/authority/file-type/CSV",
            )],
            SortOrder::Relevance,
        ),
    ]
}

/// The mix as `/api/v1/datasets` paths.
pub fn search_paths(mix: &[SearchRequest]) -> Vec<String> {
    mix.iter()
        .map(|r| {
            let mut p = format!(
                "/api/v1/datasets?per_page=20&sort={}",
                if r.sort == SortOrder::Modified {
                    "modified"
                } else {
                    "relevance"
                }
            );
            if let Some(q) = &r.q {
                p.push_str(&format!(
                    "&q={}",
                    url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
                ));
            }
            for (d, v) in &r.filters {
                p.push_str(&format!(
                    "&{}={}",
                    d.name(),
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                ));
            }
            p
        })
        .collect()
}

/// Serves the simulator on loopback until the returned guard is dropped; the region's
/// configuration pointing at it, and its address. The source that always answers 500 is left
/// out: its retry backoff is waiting, not work.
pub async fn serve_simulated(
    region: &samla_config::Config,
    simulator: &std::sync::Arc<samla_simulator::Simulator>,
) -> anyhow::Result<(samla_config::Config, String, tokio_util::sync::DropGuard)> {
    let listener = samla::app::bind_loopback(0).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let stop = tokio_util::sync::CancellationToken::new();
    let stopped = stop.clone();
    tokio::spawn(samla::app::serve_simulator(
        std::sync::Arc::clone(simulator),
        listener,
        async move { stopped.cancelled().await },
    ));
    let mut config = samla::app::simulated_config(region, simulator, &base)?;
    let broken: Vec<String> = simulator
        .catalogs()
        .iter()
        .filter(|c| c.broken)
        .map(|c| c.organisation.slug())
        .collect();
    config.sources.retain(|s| !broken.contains(&s.id));
    Ok((config, base, stop.drop_guard()))
}

/// The time of each search of `rounds` rounds of the query mix over HTTP at `url`, one at a
/// time, sorted.
pub async fn http_latency(url: &str, rounds: usize) -> anyhow::Result<Vec<Duration>> {
    let paths = search_paths(&query_mix());
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..rounds {
        for p in &paths {
            let start = std::time::Instant::now();
            let response = client.get(format!("{url}{p}")).send().await?;
            anyhow::ensure!(response.status().is_success(), "{p}: {}", response.status());
            std::hint::black_box(response.bytes().await?);
            times.push(start.elapsed());
        }
    }
    times.sort();
    Ok(times)
}
