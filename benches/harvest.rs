//! The harvest and search benchmark (on demand: `scripts/bench`, or `cargo bench --bench harvest`).
//!
//! For each size of the simulated region (10k and 100k datasets by default; set
//! `SAMLA_BENCH_SIZES=10000,100000,1000000`), side by side in one run and over the same served
//! bytes on loopback:
//! - raw parse: the oxigraph-family parsers alone over every page's bytes (one thread), as they
//!   come (strict: the target's reference) and in their lenient mode;
//! - samla: fetch → parse → normalise → store → index commit, end to end;
//! - samla again with nothing changed (hashes equal: no store or index write);
//! - the rdflib peer (`bench/rdflib_peer.py`): fetch, rdflib parse, map each dataset.
//!
//! Besides the rates, it prints the CPU time samla's harvest and the peer take per dataset:
//! samla uses every core and the peer one, so the rate ratio is the ratio per unit of CPU
//! times the cores kept busy.
//!
//! These four run over the region with every organisation on DCAT, so the peers parse the same
//! bytes. Then search latency p50/p99 for a fixed query mix with facets, in-process and over
//! HTTP. Then the real mix of platforms (CKAN, EntryScape, DCAT): the first harvest, an
//! unchanged re-harvest (every page answers 304), and a re-harvest after the municipalities
//! changed, added and removed a share of their datasets.
//! `SAMLA_BENCH_NO_PEER=1` leaves the (slow) rdflib peer out, for quick profiling runs;
//! `SAMLA_BENCH_ONLY_PLATFORMS=1` runs only the platform mix (first, unchanged, changed).
//! `SAMLA_BENCH_SEARCH_ROUNDS` sets how often the query mix is run (20), and
//! `SAMLA_BENCH_SEARCH_DETAIL=1` prints each query's in-process p50, p99 and hits.

// The benchmark reads whole bodies from the simulator it serves itself, on loopback.
#![allow(clippy::disallowed_methods)]

mod common;

use samla::app::{self, Samla};
use samla_harvester::{RdfFormat, parse_rdf};
use samla_simulator::Syntax;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    common::block_on(run())
}

fn sizes() -> Vec<usize> {
    std::env::var("SAMLA_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

fn median(runs: &[Duration]) -> Duration {
    let mut sorted = runs.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// Each repeat's figures in seconds: `raw / lenient / samla`, comma-separated.
fn runs(series: &[&[Duration]]) -> String {
    (0..series[0].len())
        .map(|i| {
            series
                .iter()
                .map(|s| format!("{:.2}", s[i].as_secs_f64()))
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The simulator keeps every page it serves in a benchmark (a few GB at 1M datasets): making
/// pages is the simulated servers' work, and the harvests timed here should not pay for it.
const BENCH_PAGE_CACHE: usize = 16 << 30;

async fn run() -> anyhow::Result<()> {
    let region = app::embedded_region()?;
    println!(
        "samla harvest & search benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for n in sizes() {
        println!("\n== simulated region, {n} datasets ==");
        if std::env::var("SAMLA_BENCH_ONLY_PLATFORMS").is_ok() {
            incremental(&region, n).await?;
            continue;
        }
        let simulator = Arc::new(
            app::simulator_for(&region, n)
                .dcat_only()
                .with_page_cache(BENCH_PAGE_CACHE),
        );
        let (config, base, server) = common::serve_simulated(&region, &simulator).await?;
        let client = reqwest::Client::new();

        // Fetch every page once: warms the simulator's cache and gives the bytes to parse.
        let mut pages = Vec::new();
        for (path, syntax) in simulator.page_paths() {
            let url = format!("{base}{path}");
            let body = client.get(&url).send().await?.bytes().await?;
            let format = match syntax {
                Syntax::Turtle => RdfFormat::Turtle,
                Syntax::RdfXml => RdfFormat::RdfXml,
                Syntax::JsonLd => RdfFormat::JsonLd,
                Syntax::NTriples => RdfFormat::NTriples,
            };
            pages.push((url, format, body));
        }
        let bytes: usize = pages.iter().map(|p| p.2.len()).sum();

        // Raw parse of the same bytes, the parsers as they come (strict) and in their lenient
        // mode (samla reads Turtle, N-Triples and RDF/XML leniently and then checks each
        // distinct IRI and language tag), alternating with samla end to end from an empty
        // state: the machine's speed drifts, so each figure is the median of the repeats.
        let repeats = std::env::var("SAMLA_BENCH_REPEATS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(3usize)
            .max(1);
        let (mut raws, mut lenients, mut firsts, mut cpus) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut triples = 0;
        let mut last = None;
        for _ in 0..repeats {
            let (raw, count) = raw_parse(&pages, false)?;
            triples = count;
            raws.push(raw);
            lenients.push(raw_parse(&pages, true)?.0);
            let state = tempfile::tempdir()?;
            let samla = Samla::open(config.clone(), state.path())?;
            let cpu = common::cpu_time();
            let (first, results) = harvest(&samla).await;
            cpus.push(common::cpu_time() - cpu);
            firsts.push(first);
            last = Some((state, samla, results));
        }
        let (state, samla, results) = last.expect("at least one repeat");
        let (raw, raw_lenient, first, cpu) = (
            median(&raws),
            median(&lenients),
            median(&firsts),
            median(&cpus),
        );
        let datasets = simulator.dataset_count()
            - simulator
                .catalogs()
                .iter()
                .filter(|c| c.broken)
                .map(|c| c.datasets)
                .sum::<usize>();
        let raw_rate = datasets as f64 / raw.as_secs_f64();
        let raw_lenient_rate = datasets as f64 / raw_lenient.as_secs_f64();
        println!(
            "medians of {repeats} alternating repeats (s, raw / lenient / samla: {})",
            runs(&[&raws, &lenients, &firsts])
        );
        println!(
            "raw parse          {:>8.2} s  {:>9.0} datasets/s  ({} pages, {:.1} MB, {} triples; one thread)",
            raw.as_secs_f64(),
            raw_rate,
            pages.len(),
            bytes as f64 / 1e6,
            triples
        );
        println!(
            "raw parse, lenient {:>8.2} s  {:>9.0} datasets/s",
            raw_lenient.as_secs_f64(),
            raw_lenient_rate,
        );
        let harvested: u64 = results
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .map(|o| o.report.datasets)
            .sum();
        let samla_rate = harvested as f64 / first.as_secs_f64();
        println!(
            "samla end to end   {:>8.2} s  {:>9.0} datasets/s  ({harvested} datasets indexed: {})",
            first.as_secs_f64(),
            samla_rate,
            samla.index.len()
        );
        let samla_cpu = cpu.as_secs_f64() / harvested as f64;
        println!(
            "samla CPU          {:>8.2} s  {:>9.1} µs/dataset  (median of the repeats; {:.2} cores busy on average)",
            cpu.as_secs_f64(),
            samla_cpu * 1e6,
            cpu.as_secs_f64() / first.as_secs_f64()
        );

        // Parse and normalise alone (the model's share), one thread.
        let directory = app::directory_of(&config);
        let start = Instant::now();
        let mut extracted = 0usize;
        for (url, format, body) in &pages {
            let parsed = parse_rdf(body, *format, url).map_err(anyhow::Error::msg)?;
            let ctx = samla_model::SourceContext {
                source_id: "bench",
                organisation_code: "1280",
                directory: &directory,
            };
            extracted += samla_model::extract_datasets(parsed.triples, &ctx)
                .records
                .len();
        }
        let normalise = start.elapsed();
        println!(
            "parse + normalise  {:>8.2} s  {:>9.0} datasets/s  (one thread, {extracted} records)",
            normalise.as_secs_f64(),
            extracted as f64 / normalise.as_secs_f64()
        );

        let seq = samla.store.change_seq()?;
        let (unchanged, again) = harvest(&samla).await;
        let writes: u64 = again
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .map(|o| o.applied.new + o.applied.changed)
            .sum();
        let not_modified: u64 = again
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .map(|o| o.report.pages_not_modified)
            .sum();
        let slowest = again
            .iter()
            .filter_map(|(id, r)| {
                r.as_ref()
                    .ok()
                    .map(|o| (id, o.report.finished - o.report.started))
            })
            .max_by_key(|(_, d)| *d);
        println!(
            "samla unchanged    {:>8.2} s  ({not_modified} pages not modified, slowest source {slowest:?}; {writes} writes, store seq {} → {}; {:.1}× cheaper than the first harvest)",
            unchanged.as_secs_f64(),
            seq,
            samla.store.change_seq()?,
            first.as_secs_f64() / unchanged.as_secs_f64()
        );

        // The rdflib peer over the same URLs.
        let list = state.path().join("urls.txt");
        std::fs::write(
            &list,
            pages
                .iter()
                .map(|p| p.0.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        )?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/rdflib_peer.py");
        let peer = tokio::process::Command::new(if std::env::var("SAMLA_BENCH_NO_PEER").is_ok() {
            "false"
        } else {
            "python3"
        })
        .arg(script)
        .arg(&list)
        .output()
        .await;
        let rdflib = match peer {
            Ok(out) if out.status.success() => {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
                let secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
                let datasets = v["datasets"].as_f64().unwrap_or(0.0);
                let rate = datasets / secs;
                let peer_cpu = v["cpu_seconds"].as_f64().unwrap_or(f64::NAN) / datasets;
                println!(
                    "rdflib peer        {:>8.2} s  {:>9.0} datasets/s  ({} datasets; {:.0} µs of CPU per dataset, one thread)",
                    secs,
                    rate,
                    v["datasets"],
                    peer_cpu * 1e6
                );
                Some((rate, peer_cpu))
            }
            Ok(out) => {
                println!(
                    "rdflib peer        not run: {}",
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .last()
                        .unwrap_or("failed")
                );
                None
            }
            Err(e) => {
                println!("rdflib peer        not run: {e}");
                None
            }
        };
        println!(
            "ratios: samla / raw parse = {:.2}× (target ≥ 0.5×; {:.2}× the lenient raw parse)",
            samla_rate / raw_rate,
            samla_rate / raw_lenient_rate
        );
        if let Some((rate, peer_cpu)) = rdflib {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            println!(
                "        samla / rdflib    = {:.1}× (target ≥ 30×); per unit of CPU {:.1}× (30× on {cores} cores needs {:.1}× per unit of CPU, all cores busy)",
                samla_rate / rate,
                peer_cpu / samla_cpu,
                30.0 / cores as f64
            );
        }

        search_latency(&samla).await?;
        // What the platform mix does not need is freed first: at a million datasets the
        // fetched pages and the DCAT simulator's kept pages are several GB.
        drop(samla);
        drop(pages);
        drop(server);
        drop(simulator);
        incremental(&region, n).await?;
    }
    Ok(())
}

/// The oxigraph-family parsers alone over every page, one thread, collecting the triples:
/// the time and the number of triples.
fn raw_parse<B: AsRef<[u8]>>(
    pages: &[(String, RdfFormat, B)],
    lenient: bool,
) -> anyhow::Result<(Duration, usize)> {
    let start = Instant::now();
    let mut triples = 0;
    for (url, format, body) in pages {
        let body = body.as_ref();
        triples += match format {
            RdfFormat::Turtle => {
                let mut parser = oxttl::TurtleParser::new().with_base_iri(url.as_str())?;
                if lenient {
                    parser = parser.lenient();
                }
                parser.for_slice(body).collect::<Result<Vec<_>, _>>()?.len()
            }
            RdfFormat::NTriples => {
                let mut parser = oxttl::NTriplesParser::new();
                if lenient {
                    parser = parser.lenient();
                }
                parser.for_slice(body).collect::<Result<Vec<_>, _>>()?.len()
            }
            RdfFormat::RdfXml => {
                let mut parser = oxrdfxml::RdfXmlParser::new().with_base_iri(url.as_str())?;
                if lenient {
                    parser = parser.lenient();
                }
                parser.for_slice(body).collect::<Result<Vec<_>, _>>()?.len()
            }
            RdfFormat::JsonLd => {
                let mut parser = oxjsonld::JsonLdParser::new().with_base_iri(url.as_str())?;
                if lenient {
                    parser = parser.lenient();
                }
                parser.for_slice(body).collect::<Result<Vec<_>, _>>()?.len()
            }
        };
    }
    Ok((start.elapsed(), triples))
}

/// The region on its real platforms: first harvest, unchanged re-harvest, changed re-harvest.
async fn incremental(region: &samla_config::Config, n: usize) -> anyhow::Result<()> {
    let simulator = Arc::new(app::simulator_for(region, n).with_page_cache(BENCH_PAGE_CACHE));
    let (config, _, _server) = common::serve_simulated(region, &simulator).await?;
    // Warm the simulator: its platforms build their listings on the first request, which is
    // the simulated server's work, not the harvest's.
    let client = reqwest::Client::new();
    for s in &config.sources {
        let url = match s.protocol {
            samla_config::Protocol::Ckan => samla_harvester::ckan::search_url(&s.url, 0),
            samla_config::Protocol::Entryscape => samla_harvester::entryscape::search_url(
                &samla_harvester::entryscape::store_base(&s.url),
                0,
            ),
            samla_config::Protocol::Dcat => Some(s.url.clone()),
        };
        if let Some(url) = url {
            client.get(url).send().await?.bytes().await?;
        }
    }
    let state = tempfile::tempdir()?;
    let samla = Samla::open(config, state.path())?;
    let total = |results: &[(
        String,
        Result<samla_pipeline::SourceOutcome, samla_pipeline::PipelineError>,
    )],
                 f: fn(&samla_pipeline::SourceOutcome) -> u64| {
        results
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .map(f)
            .sum::<u64>()
    };
    let (first, results) = harvest(&samla).await;
    println!(
        "platforms (CKAN, EntryScape, DCAT): first harvest {:.2} s, {} datasets",
        first.as_secs_f64(),
        total(&results, |o| o.report.datasets)
    );
    let seq = samla.store.change_seq()?;
    if std::env::var("SAMLA_BENCH_PROFILE_UNCHANGED").is_ok() {
        for _ in 0..30 {
            harvest(&samla).await;
        }
    }
    let (unchanged, results) = harvest(&samla).await;
    if std::env::var("SAMLA_BENCH_PROFILE_UNCHANGED").is_ok() {
        let mut runs: Vec<(String, i64)> = results
            .iter()
            .filter_map(|(id, r)| {
                let o = r.as_ref().ok()?;
                Some((
                    id.clone(),
                    (o.report.finished - o.report.started).num_microseconds()?,
                ))
            })
            .collect();
        runs.sort_by_key(|r| -r.1);
        println!("  slowest runs (µs): {:?}", &runs[..runs.len().min(8)]);
        println!(
            "  sum of runs: {} µs",
            runs.iter().map(|r| r.1).sum::<i64>()
        );
    }
    println!(
        "  unchanged re-harvest {:.3} s: {} of {} pages not modified, {} writes, store seq {} → {}; {:.0}× cheaper than the first harvest (target ≥ 100×)",
        unchanged.as_secs_f64(),
        total(&results, |o| o.report.pages_not_modified),
        total(&results, |o| o.report.pages),
        total(&results, |o| o.applied.new + o.applied.changed),
        seq,
        samla.store.change_seq()?,
        first.as_secs_f64() / unchanged.as_secs_f64()
    );
    simulator.advance();
    let (changed, results) = harvest(&samla).await;
    println!(
        "  after {:.0}% churn {:.2} s: {} new, {} changed, {} missing (archived after the grace period), {} unchanged; {} of {} pages not modified",
        samla_simulator::DEFAULT_CHURN * 100.0,
        changed.as_secs_f64(),
        total(&results, |o| o.applied.new),
        total(&results, |o| o.applied.changed),
        total(&results, |o| o.applied.missing),
        total(&results, |o| o.applied.unchanged),
        total(&results, |o| o.report.pages_not_modified),
        total(&results, |o| o.report.pages),
    );
    Ok(())
}

/// Harvests every configured source once; returns the time taken and the outcomes.
async fn harvest(
    samla: &Samla,
) -> (
    Duration,
    Vec<(
        String,
        Result<samla_pipeline::SourceOutcome, samla_pipeline::PipelineError>,
    )>,
) {
    let start = Instant::now();
    let results = samla
        .harvest_quietly(samla.config.harvest.concurrency)
        .await;
    (start.elapsed(), results)
}

async fn search_latency(samla: &Samla) -> anyhow::Result<()> {
    let mix = common::query_mix();
    let rounds = std::env::var("SAMLA_BENCH_SEARCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20usize);
    let mut in_process = Vec::new();
    let mut each = vec![Vec::new(); mix.len()];
    let mut totals = vec![0; mix.len()];
    let cpu = common::cpu_time();
    for _ in 0..rounds {
        for (i, req) in mix.iter().enumerate() {
            let start = Instant::now();
            let result = samla.index.search(req)?;
            in_process.push(start.elapsed());
            each[i].push(start.elapsed());
            totals[i] = std::hint::black_box(result.total);
        }
    }
    let cpu = common::cpu_time() - cpu;
    in_process.sort();
    if std::env::var("SAMLA_BENCH_SEARCH_DETAIL").is_ok() {
        for ((req, times), total) in mix.iter().zip(&mut each).zip(totals) {
            times.sort();
            println!(
                "  {:>8.3} ms p50 {:>8.3} ms p99 {total:>6} hits  q={:?} filters={:?} sort={:?}",
                common::ms(common::percentile(times, 0.5)),
                common::ms(common::percentile(times, 0.99)),
                req.q.as_deref().unwrap_or(""),
                req.filters
                    .iter()
                    .map(|(d, v)| (d.name(), v.rsplit('/').next().unwrap_or(v)))
                    .collect::<Vec<_>>(),
                req.sort,
            );
        }
    }

    let listener = app::bind_loopback(0).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = samla_api::router(samla.api_state());
    tokio::spawn(app::serve_router(listener, router, std::future::pending()));
    let over_http = common::http_latency(&url, rounds).await?;
    println!(
        "search ({} queries with facets, {} datasets): in-process p50 {:.2} ms p99 {:.2} ms (CPU {:.2} ms per query); over HTTP p50 {:.2} ms p99 {:.2} ms",
        in_process.len(),
        samla.index.len(),
        common::ms(common::percentile(&in_process, 0.5)),
        common::ms(common::percentile(&in_process, 0.99)),
        common::ms(cpu) / in_process.len() as f64,
        common::ms(common::percentile(&over_http, 0.5)),
        common::ms(common::percentile(&over_http, 0.99)),
    );
    Ok(())
}
