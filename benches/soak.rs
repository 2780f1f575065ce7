//! The soak benchmark (on demand: `scripts/bench soak`, or `cargo bench --bench soak`): samla
//! serving searches while the simulated region changes and is harvested again, over and over.
//!
//! Every `SAMLA_SOAK_CHANGE_SECS` (15) the municipalities change, add and remove a share of
//! their datasets and every source is harvested; meanwhile four clients search over HTTP
//! without pause. Every half minute it prints the process's resident memory and the search
//! p99 of that half minute; at the end, resident memory after the first minute and at the end,
//! and their ratio. `SAMLA_SOAK_SECS` (600) sets the length, `SAMLA_SOAK_DATASETS` (20 000)
//! the region's size. Removed datasets are archived at the next harvest, so the region holds
//! steady in size; `SAMLA_SOAK_KEEP_REMOVED=1` keeps them searchable for the usual three days
//! (the region searched then grows with every change).

// The benchmark reads whole bodies from the samla it serves itself, on loopback.
#![allow(clippy::disallowed_methods)]

mod common;

use samla::app;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A field of `/proc/self/status` in bytes (`VmRSS`, `RssAnon`, `RssFile`).
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn main() -> anyhow::Result<()> {
    common::block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let length = Duration::from_secs(common::env_u64("SAMLA_SOAK_SECS", 600));
    let every = Duration::from_secs(common::env_u64("SAMLA_SOAK_CHANGE_SECS", 15));
    let datasets = common::env_u64("SAMLA_SOAK_DATASETS", 20_000) as usize;
    let region = app::embedded_region()?;
    let simulator = Arc::new(app::simulator_for(&region, datasets));
    let listener = app::bind_loopback(0).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = Arc::clone(&simulator).router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut config = app::simulated_config(&region, &simulator, &base)?;
    // What the municipalities remove is archived at the next harvest (not after three days),
    // so the region searched holds steady in size and memory can be compared over time.
    if std::env::var("SAMLA_SOAK_KEEP_REMOVED").is_err() {
        config.harvest.archive_after = Duration::ZERO;
    }
    let state = tempfile::tempdir()?;
    let samla = Arc::new(app::Samla::open(config, state.path())?);
    let harvest = {
        let samla = Arc::clone(&samla);
        move || {
            let samla = Arc::clone(&samla);
            async move {
                samla
                    .harvest_quietly(samla.config.harvest.concurrency)
                    .await
            }
        }
    };
    harvest().await;
    println!(
        "soak: {} datasets, a change and harvest every {every:?}, 4 search clients, {length:?}",
        samla.index.len()
    );

    let listener = app::bind_loopback(0).await?;
    let api = format!("http://{}", listener.local_addr()?);
    tokio::spawn(app::serve_router(
        listener,
        samla_api::router(samla.api_state()),
        std::future::pending(),
    ));
    let started = Instant::now();
    let stop = CancellationToken::new();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let paths = common::search_paths(&common::query_mix());
    for client in 0..4 {
        let (api, paths, latencies, stop) = (
            api.clone(),
            paths.clone(),
            Arc::clone(&latencies),
            stop.clone(),
        );
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = client;
            while !stop.is_cancelled() {
                let asked = Instant::now();
                let answer = http
                    .get(format!("{api}{}", paths[i % paths.len()]))
                    .send()
                    .await;
                if let Ok(answer) = answer {
                    let _ = answer.bytes().await;
                    latencies.lock().expect("lock").push(asked.elapsed());
                }
                i += 1;
            }
        });
    }
    let rounds = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let harvests = {
        let (simulator, rounds) = (Arc::clone(&simulator), Arc::clone(&rounds));
        tokio::spawn(async move {
            let mut next = Instant::now() + every;
            loop {
                tokio::time::sleep_until(next.into()).await;
                next += every;
                simulator.advance();
                harvest().await;
                rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };

    let (mut at_first_minute, mut first_p99, mut last_p99, mut last_rss) = (None, None, None, 0);
    let sample = Duration::from_secs(30);
    println!("     t   resident MB (heap, files)   search p99 ms   searches   datasets");
    while started.elapsed() < length {
        tokio::time::sleep(sample.min(length.saturating_sub(started.elapsed()))).await;
        let mut window = std::mem::take(&mut *latencies.lock().expect("lock"));
        window.sort();
        let p99 = (!window.is_empty()).then(|| common::percentile(&window, 0.99));
        let rss = status_bytes("VmRSS");
        let t = started.elapsed();
        println!(
            "{:>5.0}s   {:>11.0} ({:>5.0}, {:>5.0})   {:>13.2}   {:>8}   {:>8}",
            t.as_secs_f64(),
            mb(rss),
            mb(status_bytes("RssAnon")),
            mb(status_bytes("RssFile")),
            p99.map_or(f64::NAN, common::ms),
            window.len(),
            samla.index.len()
        );
        if t >= Duration::from_secs(60) && at_first_minute.is_none() {
            at_first_minute = Some(rss);
            first_p99 = p99;
        }
        last_p99 = p99;
        last_rss = rss;
    }
    stop.cancel();
    harvests.abort();
    let (end, rounds) = (last_rss, rounds.load(std::sync::atomic::Ordering::Relaxed));
    if let Some(first) = at_first_minute {
        println!(
            "soak: {rounds} changes harvested; resident {:.0} MB after the first minute, {:.0} MB at the end: {:.2}×; search p99 {:.2} ms after the first minute, {:.2} ms at the end",
            mb(first),
            mb(end),
            end as f64 / first as f64,
            first_p99.map_or(f64::NAN, common::ms),
            last_p99.map_or(f64::NAN, common::ms),
        );
    }
    Ok(())
}
