//! The `samla` command.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use samla::app::{self, Samla};
use samla::progress::Bars;
use samla_config::{Config, HarvestSettings, Protocol, SourceConfig};
use samla_harvester::{Harvester, RunReport};
use samla_pipeline::runner::Scheduler;
use samla_reports::Rendered;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// mimalloc: harvesting allocates many small, short-lived strings (RDF terms) across
/// threads, where it is markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "samla",
    version,
    about = "Harvests a region's municipal open-data catalogs into one DCAT-AP-SE index and serves regional search."
)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportName {
    Quality,
    Coverage,
    Freshness,
    Harvest,
    Demand,
}

#[derive(Clone, Copy, ValueEnum)]
enum TableFormat {
    Json,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Start a simulated region on loopback, harvest it over HTTP and serve the API.
    Demo {
        /// Port of the API.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// State directory (default: a temporary directory, removed on exit).
        #[arg(long)]
        state: Option<PathBuf>,
        /// Datasets in the simulated region.
        #[arg(long, default_value_t = samla_simulator::DEFAULT_DATASETS)]
        datasets: usize,
        /// Harvest rounds: between rounds the simulated municipalities change, add and remove
        /// datasets, so incremental harvesting shows (unchanged pages answer 304).
        #[arg(long, default_value_t = 1)]
        rounds: u32,
        /// Share of datasets changed, added and removed (a third each) between rounds.
        #[arg(long, default_value_t = samla_simulator::DEFAULT_CHURN)]
        churn: f64,
    },
    /// Serve the API for a region, harvesting every source once at start and then on each
    /// source's schedule.
    Serve {
        /// Region file.
        #[arg(long)]
        config: PathBuf,
        /// State directory (the store, unless `--store` names another, and the index).
        #[arg(long, default_value = "state")]
        state: PathBuf,
        /// What this process does: `all` (one machine), `harvester`, or `search` (a node
        /// that follows the store's change log into its own index in `--state`).
        #[arg(long, value_enum, default_value_t = app::Role::All)]
        role: app::Role,
        /// The directory of the store a search node follows (the harvester's state
        /// directory); `--state` when not given.
        #[arg(long)]
        store: Option<PathBuf>,
        /// Port on 127.0.0.1 (when neither `--bind` nor `[server] bind` is given).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The address to listen on (overrides `[server] bind`), `0.0.0.0:8080` for every
        /// interface.
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
        /// Do not harvest at start.
        #[arg(long)]
        no_initial_harvest: bool,
        /// The address the service is reached at (overrides `[server] public_url`): the
        /// exported catalog's IRIs are built on it.
        #[arg(long)]
        public_url: Option<url::Url>,
    },
    /// Harvest a region's sources once; the exit code is non-zero if a source failed.
    Harvest {
        /// Region file.
        #[arg(long)]
        config: PathBuf,
        /// State directory.
        #[arg(long, default_value = "state")]
        state: PathBuf,
        /// Harvest only this source.
        #[arg(long)]
        source: Option<String>,
    },
    /// Rebuild the search index from the store, without the network.
    Reindex {
        /// State directory.
        #[arg(long, default_value = "state")]
        state: PathBuf,
        /// Region file (for municipality names; default: the embedded region).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print a report from the store: `quality` (MQA scores and fix hints), `coverage`
    /// (organisations by specification, HVD category and theme), `freshness`, `harvest`
    /// (health per source) or `demand` (searches and data requests against supply).
    Report {
        /// The report.
        #[arg(value_enum)]
        name: ReportName,
        /// State directory.
        #[arg(long, default_value = "state")]
        state: PathBuf,
        /// Region file (default: the embedded region).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TableFormat::Json)]
        format: TableFormat,
        /// With --format csv: which table (each report lists its tables when asked for
        /// another).
        #[arg(long)]
        table: Option<String>,
        /// Only this organisation (kommunkod).
        #[arg(long)]
        municipality: Option<String>,
        /// demand: the period in days (default 90).
        #[arg(long)]
        days: Option<u32>,
        /// coverage with --format csv: the matrix's dimension (conforms_to, hvd_category, theme).
        #[arg(long)]
        by: Option<String>,
    },
    /// Serve the simulated region alone.
    Simulate {
        /// Port.
        #[arg(long, default_value_t = 8081)]
        port: u16,
        /// Datasets in the simulated region.
        #[arg(long, default_value_t = samla_simulator::DEFAULT_DATASETS)]
        datasets: usize,
        /// Share of datasets changed, added and removed (a third each) at every
        /// `POST /_simulator/advance`.
        #[arg(long, default_value_t = samla_simulator::DEFAULT_CHURN)]
        churn: f64,
    },
    /// Harvest one catalog without storing it and print its run report.
    Check {
        /// Protocol of the catalog (dcat, ckan or entryscape).
        #[arg(long, default_value = "dcat")]
        protocol: Protocol,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// The catalog URL.
        url: String,
        /// Do not check the distributions' links (their accessibility then scores nothing).
        /// Links are not checked by default for catalogs of more than 300 datasets.
        #[arg(long, conflicts_with = "links")]
        no_links: bool,
        /// Check the distributions' links whatever the catalog's size.
        #[arg(long)]
        links: bool,
        /// The longest the link checks may take, in seconds; links not checked by then
        /// score as unchecked.
        #[arg(long, default_value_t = 120)]
        links_budget_secs: u64,
    },
    /// Validate a region file; with --probe, also ask each source what platform answers.
    CheckConfig {
        /// Region file.
        #[arg(long)]
        config: PathBuf,
        /// Also ask each source's URL what platform answers (needs the network).
        #[arg(long)]
        probe: bool,
    },
}

/// Threads for blocking work, at most (tokio's default is 512).
const MAX_BLOCKING_THREADS: usize = 64;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format, matches!(cli.command, Command::Serve { .. }));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Blocking work is bounded where it starts (the API's work pool, the harvest's
        // concurrency); this caps what a mistake could grow to.
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat, serving: bool) {
    let default = if serving {
        "info,tower_http=warn"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Ctrl-C, or SIGTERM (what systemd and container runtimes send to stop a service).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "SIGTERM not handled");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("stopping: requests in flight and running harvests finish or are cancelled");
}

/// Opens the state directory on a blocking thread (it may rebuild the index).
async fn open(config: Config, state: &Path) -> anyhow::Result<Samla> {
    let state = state.to_path_buf();
    tokio::task::spawn_blocking(move || Samla::open(config, &state)).await?
}

/// Serves the API until Ctrl-C or SIGTERM, then cancels `cancel` (running harvests, the simulator).
async fn serve_until_stopped(
    samla: &Samla,
    listener: tokio::net::TcpListener,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let on_stop = cancel.clone();
    samla
        .serve(listener, async move {
            shutdown_signal().await;
            on_stop.cancel();
        })
        .await?;
    cancel.cancel();
    // Running harvests are cancelled and record themselves; nothing is half-applied.
    samla.runner.shutdown().await;
    Ok(())
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo {
            port,
            state,
            datasets,
            rounds,
            churn,
        } => demo(port, state, datasets, rounds.max(1), churn).await,
        Command::Serve {
            config,
            state,
            role,
            store,
            port,
            bind,
            no_initial_harvest,
            public_url,
        } => {
            let node = Node {
                role,
                store: store.unwrap_or_else(|| state.clone()),
                state,
                listen: Listen { bind, port },
            };
            serve(&config, node, no_initial_harvest, public_url).await
        }
        Command::Harvest {
            config,
            state,
            source,
        } => harvest(&config, &state, source.as_deref()).await,
        Command::Reindex { state, config } => {
            let config = match config {
                Some(path) => Config::from_file(&path)?,
                None => app::embedded_region()?,
            };
            let samla = open(config, &state).await?;
            let pipeline = Arc::clone(&samla.pipeline);
            let n = tokio::task::spawn_blocking(move || pipeline.reindex()).await??;
            println!("reindexed {n} datasets");
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            name,
            state,
            config,
            format,
            table,
            municipality,
            days,
            by,
        } => {
            let config = match config {
                Some(path) => Config::from_file(&path)?,
                None => app::embedded_region()?,
            };
            // Read only, beside whatever else uses the state (a serving samla).
            let reports =
                tokio::task::spawn_blocking(move || app::open_reports(&config, &state)).await??;
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair(
                "format",
                match format {
                    TableFormat::Json => "json",
                    TableFormat::Csv => "csv",
                },
            );
            for (key, value) in [
                ("table", table),
                ("municipality", municipality),
                ("days", days.map(|d| d.to_string())),
                ("by", by),
            ] {
                if let Some(v) = value {
                    query.append_pair(key, &v);
                }
            }
            let name = name
                .to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default();
            let rendered =
                samla_reports::render(&reports, &name, &query.finish(), chrono::Utc::now())
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            // Written out as it is read: a report listing every dataset may be gigabytes.
            use std::io::Write;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match rendered {
                Rendered::Json(body) => {
                    let mut from =
                        serde_json::Deserializer::from_reader(std::io::BufReader::new(body));
                    serde_transcode::transcode(
                        &mut from,
                        &mut serde_json::Serializer::pretty(&mut out),
                    )?;
                    writeln!(out)?;
                }
                Rendered::Csv { mut body, .. } => {
                    std::io::copy(&mut body, &mut out)?;
                }
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate {
            port,
            datasets,
            churn,
        } => {
            let region = app::embedded_region()?;
            let simulator = Arc::new(app::simulator_for(&region, datasets).with_churn(churn));
            let listener = app::bind_loopback(port).await?;
            let base = format!("http://{}", listener.local_addr()?);
            println!(
                "simulated region: {} organisations, {} datasets",
                simulator.catalogs().len(),
                simulator.dataset_count()
            );
            for s in simulator.sources() {
                println!("  {:<14} {:<10} {base}{}", s.id, s.protocol, s.path);
            }
            println!(
                "  curl -X POST {base}/_simulator/advance   # the municipalities change, add and remove datasets"
            );
            app::serve_simulator(simulator, listener, shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            protocol,
            format,
            url,
            no_links,
            links,
            links_budget_secs,
        } => {
            let links = match (no_links, links) {
                (true, _) => LinkChoice::Never,
                (_, true) => LinkChoice::Always,
                _ => LinkChoice::UpTo(CHECK_LINKS_UP_TO),
            };
            let budget = std::time::Duration::from_secs(links_budget_secs);
            check(protocol, format, &url, links, budget).await
        }
        Command::CheckConfig { config, probe } => {
            let c = Config::from_file(&config)?;
            if probe {
                return probe_sources(&c).await;
            }
            let unverified = c.sources.iter().filter(|s| !s.verified).count();
            println!(
                "{}: region {}, {} organisations, {} sources ({} with unverified URLs)",
                config.display(),
                c.region_name,
                c.organisations.len(),
                c.sources.len(),
                unverified
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn demo(
    port: u16,
    state: Option<PathBuf>,
    datasets: usize,
    rounds: u32,
    churn: f64,
) -> anyhow::Result<ExitCode> {
    let region = app::embedded_region()?;
    let listener = app::bind_loopback(port).await?;
    let sim_listener = app::bind_loopback(0).await?;
    let sim_base = format!("http://{}", sim_listener.local_addr()?);
    // The simulated web answers the distribution links too (some broken), for link checks.
    let simulator = Arc::new(
        app::simulator_for(&region, datasets)
            .with_churn(churn)
            .with_files_at(&sim_base),
    );
    let cancel = CancellationToken::new();
    let sim_cancel = cancel.clone();
    tokio::spawn(app::serve_simulator(
        Arc::clone(&simulator),
        sim_listener,
        async move { sim_cancel.cancelled().await },
    ));
    eprintln!(
        "simulated region {} on {sim_base}: {} organisations, {} datasets",
        region.region_name,
        simulator.catalogs().len(),
        simulator.dataset_count()
    );

    let mut config = app::simulated_config(&region, &simulator, &sim_base)?;
    // The simulated municipalities remove datasets between rounds: archive them at once
    // rather than after the real region's grace period, so the demo shows it.
    config.harvest.archive_after = std::time::Duration::ZERO;
    // The demo's region is on loopback: its links may be checked there, and its one host
    // stands for 34 municipal sites, so it is not paced like one real site.
    config.links.allow_private = true;
    config.links.per_host = config.links.concurrency;
    config.links.per_host_delay = std::time::Duration::ZERO;
    let token = config.admin_token.clone().unwrap_or_else(demo_token);
    config.admin_token = Some(token.clone());
    let temp;
    let state_dir: &Path = match &state {
        Some(dir) => dir,
        None => {
            temp = tempfile::Builder::new().prefix("samla-demo-").tempdir()?;
            temp.path()
        }
    };
    let samla = open(config, state_dir).await?;
    let mut results = Vec::new();
    for round in 1..=rounds {
        if round > 1 {
            let epoch = simulator.advance();
            eprintln!(
                "\nround {round}: the simulated municipalities changed, added and removed datasets (epoch {epoch})"
            );
        }
        let bars = Arc::new(Bars::new(samla.config.sources.len()));
        results = samla
            .pipeline
            .harvest_all(
                &samla.config.sources,
                samla.config.harvest.concurrency,
                cancel.child_token(),
                bars.clone(),
            )
            .await;
        bars.finish();
        // Each round stands for a day of the simulated region: its coverage is kept as that
        // day's, so coverage over time has a point per round.
        let day = chrono::Utc::now() - chrono::Duration::days(i64::from(rounds - round));
        samla.snapshot_as_of(day).await?;
    }
    for (id, result) in &results {
        if let Err(e) = result {
            eprintln!("{id}: {e:#}");
        }
    }
    let pass = samla.check_links(&cancel).await?;
    eprintln!(
        "links: {} checked, {} broken (accessURL and downloadURL, HEAD then GET)",
        pass.checked, pass.broken
    );
    if let Some((report, listed)) = samla.harvest_national(cancel.child_token()).await? {
        eprintln!(
            "national portal (simulated): {listed} datasets listed, {}",
            report.outcome
        );
    }
    samla.snapshot_and_prune().await?;
    let url = format!("http://{}", listener.local_addr()?);
    // Simulated businesses search and file data requests through the real endpoints, for
    // the demand report, once the API is up.
    let replay_base = url.clone();
    tokio::spawn(async move {
        match app::replay_demand(&replay_base).await {
            Ok((searches, requests)) => eprintln!(
                "demand: replayed {searches} business searches and {requests} data requests"
            ),
            Err(e) => eprintln!("demand replay failed: {e:#}"),
        }
    });
    println!();
    println!(
        "samla is serving {} datasets from {} sources at {url}",
        samla.index.len(),
        results.len()
    );
    println!("  web UI:   {url}/   (Malmö's bathing sites: {url}/?q=badplatser&municipality=1280)");
    println!(
        "  coverage: {url}/coverage   (CSV: {url}/api/v1/reports/coverage?format=csv&table=matrix)"
    );
    println!("  curl '{url}/api/v1/datasets?q=badplatser'");
    println!("  curl '{url}/api/v1/datasets?q=laddstolpar&municipality=1280'");
    println!("  curl '{url}/api/v1/sources'");
    println!("  curl '{url}/api/v1/reports/quality?municipality=1280'");
    println!("  curl '{url}/api/v1/reports/coverage?format=csv&by=theme'");
    println!("  curl '{url}/api/v1/reports/demand'   # also freshness, harvest");
    println!("  open {url}/api/v1/reports/charts/coverage.svg");
    println!(
        "  curl '{url}/catalog.ttl?municipality=1280'   # DCAT-AP-SE; /datasets/dcat in one RDF/XML file"
    );
    println!("  curl '{url}/api/3/action/package_search?q=badplatser'   # CKAN-compatible");
    println!(
        "  curl '{url}/sparql' --data-urlencode 'query=SELECT (COUNT(*) AS ?n) WHERE {{ ?d a <http://www.w3.org/ns/dcat#Dataset> }}'"
    );
    println!(
        "  curl '{url}/api/v1/datasets.atom?q=laddplatser'   # Atom; also /metrics, /openapi.json"
    );
    println!(
        "  curl -X POST -H 'Authorization: Bearer {token}' '{url}/api/v1/sources/malmo/harvest'"
    );
    println!("state in {}; stop with Ctrl-C", state_dir.display());
    let samla = Arc::new(samla);
    samla.notifier.link_to_if_unset(&url);
    tokio::spawn(Arc::clone(&samla).notify_after_harvests(NOTIFY_EVERY, cancel.child_token()));
    serve_until_stopped(&samla, listener, cancel).await?;
    Ok(ExitCode::SUCCESS)
}

/// A token for the demo's admin endpoints, new in every run.
fn demo_token() -> String {
    use std::hash::{BuildHasher, RandomState};
    let seed = std::time::SystemTime::now();
    let (a, b) = (RandomState::new(), RandomState::new());
    format!(
        "{:016x}{:016x}",
        a.hash_one(seed),
        b.hash_one(std::process::id())
    )
}

/// How often a serving samla checks links and snapshots coverage.
const MAINTENANCE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Where `serve` listens: `--bind`, else `[server] bind`, else 127.0.0.1 and `--port`.
struct Listen {
    bind: Option<std::net::SocketAddr>,
    port: u16,
}

/// What a serving process is and where its state is.
struct Node {
    role: app::Role,
    store: PathBuf,
    state: PathBuf,
    listen: Listen,
}

/// How often a harvesting node looks for ended runs to notify of.
const NOTIFY_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// How often a search node reads the store's change log.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

async fn serve(
    config_path: &Path,
    node: Node,
    no_initial_harvest: bool,
    public_url: Option<url::Url>,
) -> anyhow::Result<ExitCode> {
    let Node {
        role,
        store,
        state,
        listen,
    } = node;
    let mut config = Config::from_file(config_path)?;
    config.public_url = public_url.or(config.public_url);
    let listener = match listen.bind.or(config.server.bind) {
        Some(addr) => tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?,
        None => app::bind_loopback(listen.port).await?,
    };
    let samla = Arc::new(
        tokio::task::spawn_blocking(move || app::Samla::open_as(config, &store, &state, role))
            .await??,
    );
    let here = listener.local_addr()?;
    if here.ip().is_unspecified() && samla.config.public_url.is_none() {
        tracing::warn!(
            "no [server] public_url: links in mails and webhook payloads are paths without a host"
        );
    } else {
        samla.notifier.link_to_if_unset(&format!("http://{here}"));
    }
    let cancel = CancellationToken::new();
    if role == app::Role::Search {
        tokio::spawn(follow(Arc::clone(&samla), cancel.child_token()));
        tracing::info!(url = %format!("http://{}", listener.local_addr()?), "serving searches");
        serve_until_stopped(&samla, listener, cancel).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let scheduler = Scheduler::new(
        &samla.config.sources,
        samla.config.timezone,
        samla.config.harvest.schedule_jitter,
    );
    let runner = Arc::clone(&samla.runner);
    tokio::spawn(scheduler.run(
        move |id| match runner.start(id) {
            Ok(run_id) => tracing::info!(source_id = %id, run_id, "scheduled harvest started"),
            Err(refusal) => {
                tracing::info!(source_id = %id, ?refusal, "scheduled harvest not started")
            }
        },
        cancel.child_token(),
    ));
    if let Some(national) = &samla.config.national {
        let scheduler = Scheduler::new(
            std::slice::from_ref(&national.source),
            samla.config.timezone,
            samla.config.harvest.schedule_jitter,
        );
        let (node, stop) = (Arc::clone(&samla), cancel.child_token());
        tokio::spawn(scheduler.run(
            move |_| {
                let (node, stop) = (Arc::clone(&node), stop.clone());
                tokio::spawn(async move { national_harvest(&node, stop).await });
            },
            cancel.child_token(),
        ));
        if !no_initial_harvest {
            let (node, stop) = (Arc::clone(&samla), cancel.child_token());
            tokio::spawn(async move { national_harvest(&node, stop).await });
        }
    }
    if !no_initial_harvest {
        for source in samla.config.sources.iter().filter(|s| s.enabled) {
            if let Err(refusal) = samla.runner.start(&source.id) {
                tracing::warn!(source_id = %source.id, ?refusal, "initial harvest not started");
            }
        }
    }
    tokio::spawn(Arc::clone(&samla).maintain(MAINTENANCE_EVERY, cancel.child_token()));
    tokio::spawn(Arc::clone(&samla).notify_after_harvests(NOTIFY_EVERY, cancel.child_token()));
    tracing::info!(url = %format!("http://{}", listener.local_addr()?), "serving");
    serve_until_stopped(&samla, listener, cancel).await?;
    Ok(ExitCode::SUCCESS)
}

/// Harvests the national portal and logs how it went.
async fn national_harvest(samla: &Samla, cancel: CancellationToken) {
    match samla.harvest_national(cancel).await {
        Ok(Some((report, listed))) => tracing::info!(
            outcome = %report.outcome,
            listed,
            "national portal harvested"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "national portal not harvested"),
    }
}

/// A search node's loop: the store's change log into its index, until `cancel`.
async fn follow(samla: Arc<Samla>, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = cancel.cancelled() => return,
        }
        let node = Arc::clone(&samla);
        match tokio::task::spawn_blocking(move || node.pipeline.follow(&node.index)).await {
            Ok(Ok(followed)) if followed.datasets > 0 || followed.rebuilt => {
                tracing::info!(?followed, "followed the store's change log")
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "following the store failed; trying again"),
            Err(e) => tracing::warn!(error = %e, "follower stopped; trying again"),
        }
    }
}

async fn harvest(config_path: &Path, state: &Path, only: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = Config::from_file(config_path)?;
    let sources: Vec<SourceConfig> = match only {
        Some(id) => vec![
            config
                .source(id)
                .cloned()
                .with_context(|| format!("{}: no source with id {id:?}", config_path.display()))?,
        ],
        None => config.sources.clone(),
    };
    let national = only.is_none();
    let samla = open(config, state).await?;
    let bars = Arc::new(Bars::new(sources.len()));
    let results = samla
        .pipeline
        .harvest_all(
            &sources,
            samla.config.harvest.concurrency,
            CancellationToken::new(),
            bars.clone(),
        )
        .await;
    bars.finish();
    let mut failed = 0;
    for (id, result) in &results {
        match result {
            // Failed, cancelled or timed out: the source kept what it had, and the exit says so.
            Ok(o) if o.report.outcome.applies_nothing() => failed += 1,
            Ok(_) => {}
            Err(e) => {
                failed += 1;
                eprintln!("{id}: {e:#}");
            }
        }
    }
    println!(
        "{} sources harvested, {failed} failed; {} datasets searchable",
        results.len(),
        samla.index.len()
    );
    if national
        && let Some((report, listed)) = samla.harvest_national(CancellationToken::new()).await?
    {
        println!(
            "national portal: {listed} datasets listed, {}",
            report.outcome
        );
    }
    match samla.notify().await {
        Ok(pass) if pass.alerts + pass.notices + pass.failed > 0 => println!(
            "notified: {} alerts ({} datasets), {} notices, {} deliveries failed",
            pass.alerts, pass.datasets, pass.notices, pass.failed
        ),
        Ok(_) => {}
        Err(e) => eprintln!("notification pass failed: {e:#}"),
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A checked catalog's quality: the catalogue's score and every dataset's, with fixes.
#[derive(serde::Serialize)]
struct CheckedQuality {
    catalogue: samla_reports::quality::CatalogueQuality,
    datasets: Vec<samla_reports::quality::DatasetQuality>,
    links_checked: usize,
}

fn score_records(
    records: Vec<samla_model::DatasetRecord>,
    links: &samla_store::LinkTable,
) -> CheckedQuality {
    let shapes = samla_model::shacl::Shapes::dcat_ap_core();
    let scored: Vec<_> = records
        .into_iter()
        .filter_map(|r| {
            let triples = samla_model::record::parse_canonical(&r.ntriples).ok()?;
            let facts = samla_reports::DatasetFacts::new(
                r.id.0,
                &r.iri,
                &triples,
                r.municipality_code,
                "check".into(),
                &shapes,
            );
            Some(samla_reports::quality::scored(
                &facts,
                links,
                samla_model::quality::Options::default(),
            ))
        })
        .collect();
    let catalogue = samla_reports::quality::catalogue("check", "", scored.iter());
    let mut datasets: Vec<_> = scored.into_iter().map(|(d, _)| d).collect();
    datasets.sort_by(|a, b| a.points.cmp(&b.points).then_with(|| a.id.cmp(&b.id)));
    CheckedQuality {
        catalogue,
        datasets,
        links_checked: links.len(),
    }
}

fn check_quality_offline(records: Vec<samla_model::DatasetRecord>) -> CheckedQuality {
    score_records(records, &samla_store::LinkTable::default())
}

/// Whether `samla check` checks a catalog's links.
#[derive(Debug, Clone, Copy)]
enum LinkChoice {
    Never,
    Always,
    /// For catalogs of at most this many datasets.
    UpTo(usize),
}

/// Catalogs larger than this are checked without their links unless `--links` is given.
const CHECK_LINKS_UP_TO: usize = 300;

/// Links `samla check` asks on one host at most; the rest count as unchecked.
const CHECK_LINKS_PER_HOST: usize = 100;

/// Checks the records' links (public addresses only, at most [`CHECK_LINKS_PER_HOST`] per
/// host, for at most `budget`, with progress on stderr) and scores them.
async fn check_quality(
    records: Vec<samla_model::DatasetRecord>,
    region: &Config,
    budget: std::time::Duration,
) -> anyhow::Result<CheckedQuality> {
    use futures::StreamExt;
    let all: std::collections::BTreeSet<String> = records
        .iter()
        .flat_map(|r| r.view.link_urls().cloned())
        .collect();
    let mut per_host: std::collections::HashMap<String, usize> = Default::default();
    let urls: Vec<String> = all
        .iter()
        .filter(|u| {
            let host = url::Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            let n = per_host.entry(host).or_default();
            *n += 1;
            *n <= CHECK_LINKS_PER_HOST
        })
        .cloned()
        .collect();
    if urls.len() < all.len() {
        eprintln!(
            "checking {} of {} links (at most {CHECK_LINKS_PER_HOST} per host)…",
            urls.len(),
            all.len()
        );
    } else if !urls.is_empty() {
        eprintln!("checking {} links…", urls.len());
    }
    let checker = app::link_checker(region)?;
    let total = urls.len();
    let deadline = tokio::time::sleep(budget);
    tokio::pin!(deadline);
    let mut checks = futures::stream::iter(urls)
        .map(|u| {
            let checker = &checker;
            async move { checker.check(&u).await }
        })
        .buffer_unordered(region.links.concurrency.max(1));
    let mut results = Vec::new();
    let mut shown = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = &mut deadline => {
                eprintln!(
                    "links: stopped after {budget:?} with {} of {total} checked; the rest score as unchecked",
                    results.len()
                );
                break;
            }
            next = checks.next() => match next {
                Some(check) => {
                    results.push(check);
                    if shown.elapsed() >= std::time::Duration::from_secs(2) {
                        eprintln!("links: {} of {total} checked", results.len());
                        shown = std::time::Instant::now();
                    }
                }
                None => break,
            }
        }
    }
    let links = results.into_iter().map(|r| (r.url, r.ok)).collect();
    Ok(score_records(records, &links))
}

fn print_quality(q: &CheckedQuality) {
    let c = &q.catalogue;
    let Some(points) = c.points else {
        return;
    };
    println!();
    println!(
        "quality: {points:.0} of 405 points on average ({}) over {} datasets; {} links checked",
        c.band.map(|b| b.label("en")).unwrap_or_default(),
        c.datasets,
        q.links_checked
    );
    for (band, n) in c.bands.iter().rev() {
        println!("  {:<10} {n}", band.label("en"));
    }
    if !c.top_fixes.is_empty() {
        println!("fixes, most points first:");
        for f in &c.top_fixes {
            println!(
                "  +{:.1} p  {} datasets: {} / {}",
                f.gain, f.datasets, f.sv, f.en
            );
        }
    }
    println!("lowest-scoring datasets:");
    for d in q.datasets.iter().take(5) {
        println!("  {} p  {}  {}", d.points, d.id, d.title);
        for h in d.hints.iter().take(3) {
            println!(
                "      {} ({} on {})",
                h.sv,
                h.property,
                h.subjects.first().map(String::as_str).unwrap_or("")
            );
        }
    }
}

async fn check(
    protocol: Protocol,
    format: ReportFormat,
    url: &str,
    links: LinkChoice,
    links_budget: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    let url = url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    let region = app::embedded_region()?;
    let directory = Arc::new(app::directory_of(&region));
    // The catalog named on the command line is the operator's choice, whatever its address.
    // A check is interactive: a source that does not answer is given up sooner than in a
    // harvest.
    let settings = HarvestSettings {
        allow_hosts: url.host_str().map(str::to_string).into_iter().collect(),
        header_timeout: std::time::Duration::from_secs(10),
        request_timeout: std::time::Duration::from_secs(60),
        run_timeout: std::time::Duration::from_secs(300),
        retries: 1,
        ..HarvestSettings::default()
    };
    let harvester = Harvester::new(settings, directory)?;
    let source = SourceConfig {
        id: "check".into(),
        organisation: String::new(),
        protocol,
        url,
        schedule: samla_config::Schedule::default(),
        verified: false,
        enabled: true,
        aggregate: false,
        follow_hosts: Vec::new(),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(samla_harvester::RECORD_CHANNEL_CAPACITY);
    eprintln!("reading {}…", source.url);
    let collect = tokio::spawn(async move {
        let mut records = Vec::new();
        while let Some(r) = rx.recv().await {
            records.push(r);
            if records.len() % 500 == 0 {
                eprintln!("  {} datasets read", records.len());
            }
        }
        records
    });
    let report = harvester.run(&source, tx, CancellationToken::new()).await;
    let records = collect.await?;
    let check_links = match links {
        LinkChoice::Never => false,
        LinkChoice::Always => true,
        LinkChoice::UpTo(n) if records.len() <= n => true,
        LinkChoice::UpTo(n) => {
            eprintln!(
                "links not checked: the catalog has {} datasets, over {n} (--links checks them)",
                records.len()
            );
            false
        }
    };
    let quality = if check_links {
        check_quality(records, &region, links_budget).await?
    } else {
        check_quality_offline(records)
    };
    match format {
        ReportFormat::Json => {
            let mut v = serde_json::to_value(&report)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("quality".into(), serde_json::to_value(&quality)?);
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        ReportFormat::Text => {
            print_report(&report);
            print_quality(&quality);
        }
    }
    // A catalog that could not be read whole in time fails the check, as one that fails.
    Ok(if report.outcome.applies_nothing() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Probes every source of a configuration and says what answers, next to what is configured.
async fn probe_sources(config: &Config) -> anyhow::Result<ExitCode> {
    let harvester = Harvester::new(
        HarvestSettings {
            retries: 0,
            request_timeout: std::time::Duration::from_secs(20),
            ..config.harvest.clone()
        },
        Arc::new(app::directory_of(config)),
    )?;
    let mut mismatches = 0;
    let probes = futures::future::join_all(config.sources.iter().map(|s| {
        let harvester = &harvester;
        async move { (s, harvester.probe(&s.url).await) }
    }))
    .await;
    for (source, probe) in probes {
        let verdict = match probe.platform {
            Some(p) if p == source.protocol => "ok",
            Some(_) => {
                mismatches += 1;
                "DIFFERENT PLATFORM"
            }
            None => {
                mismatches += 1;
                "NOTHING"
            }
        };
        println!(
            "{:>14}  configured {:<10} {verdict:<18} {}",
            source.id,
            source.protocol.to_string(),
            probe.detail
        );
    }
    println!(
        "{} sources probed; {mismatches} do not answer as configured",
        config.sources.len()
    );
    Ok(if mismatches > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(r: &RunReport) {
    println!("{}", r.url);
    println!("  outcome:       {:?}", r.outcome);
    println!("  pages:         {}", r.pages);
    println!("  datasets:      {}", r.datasets);
    println!("  distributions: {}", r.distributions);
    if r.problems.is_empty() {
        println!("  problems:      none");
    }
    for p in &r.problems {
        println!("  problem {} ×{}", p.reason, p.count);
        for s in &p.samples {
            match &s.subject {
                Some(subject) => println!("      {subject}: {}", s.detail),
                None => println!("      {}", s.detail),
            }
        }
    }
}
