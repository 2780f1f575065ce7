//! Wiring: the embedded region, the state directory, the demo's configuration, serving.

use anyhow::Context;
use samla_api::{AppState, HarvestControl, RequestLimiter};
use samla_config::{Config, SourceConfig};
use samla_harvester::Harvester;
use samla_harvester::links::LinkChecker;
use samla_indexer::Indexer;
use samla_model::shacl::Shapes;
use samla_model::{Organisation, OrganisationDirectory};
use samla_pipeline::Pipeline;
use samla_pipeline::runner::Runner;
use samla_reports::Reports;
use samla_reports::SourceInfo;
use samla_simulator::{SimOrganisation, Simulator};
use samla_store::{Access, LinkRow, LinkSet, Store};
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The embedded default region: Skåne.
pub const EMBEDDED_REGION: &str = include_str!("../config/skane.toml");

/// The embedded region, parsed.
pub fn embedded_region() -> anyhow::Result<Config> {
    Ok(Config::from_toml(
        EMBEDDED_REGION,
        Path::new("config/skane.toml (embedded)"),
    )?)
}

/// The organisations of a configuration, for resolving publishers.
pub fn directory_of(config: &Config) -> OrganisationDirectory {
    OrganisationDirectory::new(
        config
            .organisations
            .iter()
            .map(|o| Organisation {
                code: o.code.clone(),
                name: o.name.clone(),
                short_name: o.short_name.clone(),
                orgnr: o.orgnr.clone(),
                domain: o.domain.clone(),
            })
            .collect(),
    )
}

/// The simulated region for a configuration's organisations, with about `datasets` datasets.
pub fn simulator_for(config: &Config, datasets: usize) -> Simulator {
    let organisations: Vec<SimOrganisation> = config
        .organisations
        .iter()
        .map(|o| SimOrganisation {
            code: o.code.clone(),
            name: o.name.clone(),
            short_name: o.short_name.clone(),
            orgnr: o.orgnr.clone(),
            domain: o
                .domain
                .clone()
                .unwrap_or_else(|| format!("{}.se", samla_simulator::slug(&o.short_name))),
        })
        .collect();
    Simulator::new(&organisations, datasets)
}

/// The region's configuration with its sources replaced by the simulator's, at `base`
/// (`http://127.0.0.1:PORT`).
pub fn simulated_config(
    region: &Config,
    simulator: &Simulator,
    base: &str,
) -> anyhow::Result<Config> {
    let mut config = region.clone();
    // The simulator answers for every organisation's host from one loopback address: the
    // per-host limit, which spares real servers, would make them all one host.
    config.harvest.per_host = config.harvest.per_host.max(config.harvest.concurrency);
    // The sources are the simulator's now: its host is the one they name.
    if let Some(host) = url::Url::parse(base)?.host_str() {
        config.harvest.allow_hosts.push(host.to_string());
    }
    config.sources = simulator
        .sources()
        .into_iter()
        .map(|s| {
            let protocol = s
                .protocol
                .parse()
                .map_err(|e: String| anyhow::anyhow!("simulated source {}: {e}", s.id))?;
            Ok(SourceConfig {
                id: s.id,
                organisation: s.organisation_code,
                protocol,
                url: url::Url::parse(&format!("{base}{}", s.path))?,
                schedule: samla_config::Schedule::default(),
                verified: true,
                enabled: true,
                aggregate: false,
                follow_hosts: Vec::new(),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    // The simulated national portal stands in for dataportal.se.
    config.national = Some(samla_config::NationalConfig {
        name: "dataportal.se (simulerad)".into(),
        source: SourceConfig {
            id: samla_config::NATIONAL_SOURCE.into(),
            organisation: String::new(),
            protocol: samla_config::Protocol::Dcat,
            url: url::Url::parse(&format!("{base}/national/datasets/dcat"))?,
            schedule: samla_config::Schedule::default(),
            verified: true,
            enabled: true,
            aggregate: true,
            follow_hosts: Vec::new(),
        },
    });
    Ok(config)
}

/// Serves the simulated region on `listener` until `shutdown`.
pub async fn serve_simulator(
    simulator: Arc<Simulator>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(listener, simulator.router())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Everything a running samla holds.
pub struct Samla {
    /// The configuration.
    pub config: Config,
    /// The store.
    pub store: Arc<Store>,
    /// The index.
    pub index: Arc<Indexer>,
    /// The region's organisations.
    pub directory: Arc<OrganisationDirectory>,
    /// The harvest pipeline.
    pub pipeline: Arc<Pipeline>,
    /// Starts runs on demand and on schedule, one per source at a time.
    pub runner: Arc<Runner>,
    /// The reports (quality, coverage, freshness, harvest health, demand).
    pub reports: Arc<Reports>,
    /// Data requests per client and hour.
    pub requests: Arc<RequestLimiter>,
    /// Searches on their way to the store.
    pub searches: Arc<samla_api::SearchLog>,
    /// The SPARQL endpoint over the store.
    pub sparql: Arc<samla_sparql::SparqlEndpoint>,
    /// The serving process's metrics.
    pub metrics: Arc<samla_api::metrics::Metrics>,
    /// Where the API's blocking work runs.
    pub work: Arc<samla_api::WorkPool>,
    /// Saved searches and publisher notices.
    pub notifier: Arc<samla_notify::Notifier>,
    /// What this process does.
    pub role: Role,
}

/// Which part of the work a process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Role {
    /// Harvests, keeps the store and serves everything (one machine).
    #[default]
    All,
    /// Harvests and keeps the store; serves the service endpoints only (health, metrics,
    /// sources, "run now").
    Harvester,
    /// Follows the store's change log into its own index and serves every read interface;
    /// harvests nothing.
    Search,
}

/// How quality is scored, the same for the report and the index.
fn quality_options(config: &Config) -> samla_model::quality::Options {
    samla_model::quality::Options {
        swedish: config.quality.swedish,
    }
}

/// The SHACL shapes of the compliance indicator: the configured files, else the shipped
/// DCAT-AP 3 core shapes.
fn shapes_for(config: &Config) -> anyhow::Result<Shapes> {
    if config.quality.shapes.is_empty() {
        return Ok(Shapes::dcat_ap_core());
    }
    let texts = config
        .quality
        .shapes
        .iter()
        .map(|p| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())))
        .collect::<anyhow::Result<Vec<String>>>()?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let shapes = Shapes::from_turtle(&refs)?;
    if !shapes.unsupported.is_empty() {
        tracing::warn!(unsupported = ?shapes.unsupported, "shape constraints samla does not check");
    }
    Ok(shapes)
}

/// The reports of a configuration's region over `store`.
fn reports_for(
    config: &Config,
    store: Arc<Store>,
    directory: Arc<OrganisationDirectory>,
    shapes: Arc<Shapes>,
) -> anyhow::Result<Reports> {
    let sources = Arc::new(
        config
            .sources
            .iter()
            .map(|s| SourceInfo {
                id: s.id.clone(),
                organisation: s.organisation.clone(),
                protocol: s.protocol.to_string(),
                url: s.url.to_string(),
                verified: s.verified,
            })
            .collect(),
    );
    Ok(Reports::new(
        store,
        directory,
        sources,
        shapes,
        quality_options(config),
    ))
}

/// The store of a configuration for `access`: PostgreSQL at `[store] url`, else SQLite in
/// `state_dir`.
pub fn open_store(config: &Config, state_dir: &Path, access: Access) -> anyhow::Result<Store> {
    match &config.store_url {
        Some(url) => Store::connect(url, access).context("connecting to the store"),
        None => Store::open_at(state_dir, access)
            .with_context(|| format!("opening the store in {}", state_dir.display())),
    }
}

/// The reports over a state directory that another process may be writing (a serving
/// samla): the store is opened to read only, the index not at all.
pub fn open_reports(config: &Config, state_dir: &Path) -> anyhow::Result<Reports> {
    let store = Arc::new(open_store(config, state_dir, Access::ReadOnly)?);
    reports_for(
        config,
        store,
        Arc::new(directory_of(config)),
        Arc::new(shapes_for(config)?),
    )
}

impl Samla {
    /// Opens the state directory (store and index) for a configuration, and brings the index
    /// up to date with the store if an earlier process stopped between the two.
    pub fn open(config: Config, state_dir: &Path) -> anyhow::Result<Self> {
        Self::open_as(config, state_dir, state_dir, Role::All)
    }

    /// Opens a node of `role`: the store in `store_dir` (a search node's is the harvester's,
    /// opened beside it), the index in `state_dir`. A search node's index follows the store's
    /// change log; the others' is rebuilt if it has not caught up.
    pub fn open_as(
        config: Config,
        store_dir: &Path,
        state_dir: &Path,
        role: Role,
    ) -> anyhow::Result<Self> {
        let retention = samla_store::Retention {
            archive_after: chrono::Duration::from_std(config.harvest.archive_after)?,
            remove_after: chrono::Duration::from_std(config.harvest.remove_after)?,
        };
        let access = match role {
            Role::Search => Access::Beside,
            Role::All | Role::Harvester => Access::Own,
        };
        let store = open_store(&config, store_dir, access)?;
        let store = Arc::new(store.with_retention(retention));
        let index = Arc::new(
            Indexer::open(&state_dir.join("index"))
                .with_context(|| format!("opening the index in {}", state_dir.display()))?,
        );
        let directory = Arc::new(directory_of(&config));
        let shapes = Arc::new(shapes_for(&config)?);
        let harvester = Harvester::new(config.harvest.clone(), Arc::clone(&directory))?
            .with_staging(state_dir.join("staging"));
        let pipeline = Arc::new(
            Pipeline::new(
                Arc::clone(&store),
                Arc::clone(&index),
                harvester,
                Arc::clone(&directory),
            )
            .with_private_organisations(
                config
                    .organisations
                    .iter()
                    .filter(|o| !o.public)
                    .map(|o| o.code.clone()),
            )
            .with_scoring(samla_pipeline::Scoring::new(
                Arc::clone(&shapes),
                quality_options(&config),
            ))
            .with_staging(state_dir.join("staging")),
        );
        if role == Role::Search {
            let followed = pipeline.follow(&index)?;
            tracing::info!(?followed, "index caught up with the store's change log");
        } else if let Some(n) = pipeline.reconcile()? {
            tracing::info!(datasets = n, "index rebuilt from the store");
        }
        let runner = Arc::new(Runner::new(
            Arc::clone(&pipeline),
            &config.sources,
            config.harvest.run_timeout,
            config.harvest.concurrency,
        ));
        let reports = Arc::new(
            reports_for(&config, Arc::clone(&store), Arc::clone(&directory), shapes)?
                .with_dir(state_dir.join("reports")),
        );
        let requests = Arc::new(RequestLimiter::new(config.demand.requests_per_hour));
        let sparql = Arc::new(samla_sparql::SparqlEndpoint::new(
            Arc::clone(&store),
            &state_dir.join("sparql"),
            samla_sparql::Limits::default(),
        ));
        let notifier = Arc::new(
            samla_notify::Notifier::new(
                &config,
                Arc::clone(&store),
                Arc::clone(&index),
                Arc::clone(&reports),
                Arc::new(samla_api::Mails),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        let (workers, queue) = (config.server.workers, config.server.queue);
        Ok(Self {
            notifier,
            role,
            config,
            store,
            index,
            directory,
            pipeline,
            runner,
            reports,
            requests,
            searches: Arc::default(),
            sparql,
            metrics: Arc::new(samla_api::metrics::Metrics::new()),
            work: Arc::new(samla_api::WorkPool::new(workers, queue)),
        })
    }

    /// Harvests every enabled source once, `concurrency` at a time, without progress or a
    /// way to cancel (tests, benchmarks).
    pub async fn harvest_quietly(
        &self,
        concurrency: usize,
    ) -> Vec<(
        String,
        Result<samla_pipeline::SourceOutcome, samla_pipeline::PipelineError>,
    )> {
        self.pipeline
            .harvest_all(
                &self.config.sources,
                concurrency,
                CancellationToken::new(),
                Arc::new(samla_pipeline::Quiet),
            )
            .await
    }

    /// The API's state.
    pub fn api_state(&self) -> AppState {
        AppState {
            store: Arc::clone(&self.store),
            index: Arc::clone(&self.index),
            directory: Arc::clone(&self.directory),
            sources: Arc::clone(&self.reports.sources),
            control: (self.role != Role::Search)
                .then(|| Arc::clone(&self.runner) as Arc<dyn HarvestControl>),
            admin_token: self.config.admin_token.as_deref().map(Arc::from),
            reports: Arc::clone(&self.reports),
            requests: Arc::clone(&self.requests),
            searches: Arc::clone(&self.searches),
            region_name: Arc::from(self.config.region_name.as_str()),
            public_url: self
                .config
                .public_url
                .as_ref()
                .map(|u| Arc::from(u.as_str())),
            sparql: Arc::clone(&self.sparql),
            metrics: Arc::clone(&self.metrics),
            trusted_proxies: samla_api::client::TrustedProxies(
                self.config.server.trusted_proxies.clone().into(),
            ),
            work: Arc::clone(&self.work),
            notifier: Some(Arc::clone(&self.notifier)),
            organisation_tokens: Arc::new(
                self.config
                    .organisations
                    .iter()
                    .filter_map(|o| Some((o.code.clone(), Arc::from(o.token.as_deref()?))))
                    .collect(),
            ),
        }
    }

    /// Serves the API on `listener` until `shutdown`.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = match self.role {
            Role::Harvester => samla_api::service_router(self.api_state()),
            Role::All | Role::Search => samla_api::router(self.api_state()),
        };
        serve_router(listener, router, shutdown).await
    }
}

/// The longest a client may take to send a request's headers (the body has its own
/// deadline, `samla_api`'s `BODY_DEADLINE`).
pub const HEADER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Connections served at once; the next ones wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 1024;

/// Serves `router` on `listener` until `shutdown`, with what `axum::serve` does not bound: a
/// deadline for each request's headers (a client that drips them, or opens a connection and
/// sends nothing, is closed) and a cap on connections. Each request carries the client's
/// address (`ConnectInfo`). On shutdown, requests in flight are finished.
pub async fn serve_router(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_DEADLINE);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(HEADER_DEADLINE));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot?,
            _ = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was taken.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(remote));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %remote, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The link checker a configuration asks for (its `[links]` limits, the harvest's
/// User-Agent).
pub fn link_checker(config: &Config) -> anyhow::Result<LinkChecker> {
    Ok(LinkChecker::new(
        config.links.clone(),
        &config.harvest.user_agent,
    )?)
}

/// Checks `urls` and gives the results as the store keeps them.
pub async fn check_urls(checker: &LinkChecker, urls: Vec<String>) -> Vec<LinkRow> {
    let results = checker.check_all(urls).await;
    let checked_at = chrono::Utc::now();
    results
        .into_iter()
        .map(|r| LinkRow {
            url: r.url,
            ok: r.ok,
            status: r.status,
            error: r.error,
            elapsed_ms: r.elapsed_ms,
            checked_at,
        })
        .collect()
}

/// Due links a link pass holds the URLs of at a time.
const LINKS_HELD: usize = 10_000;

/// What one pass of the link checker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkPass {
    /// Links checked in this pass.
    pub checked: usize,
    /// Of which broken.
    pub broken: usize,
    /// Links still fresh from an earlier pass.
    pub fresh: usize,
}

impl Samla {
    /// Checks every distribution link not checked within the recheck interval, and stores
    /// the results. A no-op when link checks are disabled.
    pub async fn check_links(&self, cancel: &CancellationToken) -> anyhow::Result<LinkPass> {
        self.check_links_held(cancel, LINKS_HELD).await
    }

    /// [`Samla::check_links`], holding the URLs of at most `held` due links at a time (and of
    /// every link, only a keyed hash): the due links are gathered from the reports' facts,
    /// `held` at a time, while the ones before are checked.
    pub async fn check_links_held(
        &self,
        cancel: &CancellationToken,
        held: usize,
    ) -> anyhow::Result<LinkPass> {
        if !self.config.links.enabled {
            return Ok(LinkPass::default());
        }
        let held = held.max(1);
        let reports = Arc::clone(&self.reports);
        let store = Arc::clone(&self.store);
        let recheck = chrono::Duration::from_std(self.config.links.recheck)?;
        // Each due link with the state it had, to tell which results change a dataset's
        // quality; one part waits while another is checked.
        let (due_tx, mut due_rx) = tokio::sync::mpsc::channel::<Vec<(String, Option<bool>)>>(1);
        let gather = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let facts = reports.facts().map_err(|e| anyhow::anyhow!("{e}"))?;
            // Every link's last result, and those checked within the interval, 16 bytes a link.
            let known = store.link_table(None)?;
            let recent = store.link_table(Some(chrono::Utc::now() - recheck))?;
            let mut seen = LinkSet::default();
            let (mut fresh, mut stopped) = (0, false);
            let mut due = Vec::new();
            let read = facts.try_each(|d| {
                for url in d.view.link_urls() {
                    if !seen.insert(url) {
                        continue;
                    }
                    if recent.get(url).is_some() {
                        fresh += 1;
                        continue;
                    }
                    due.push((url.clone(), known.get(url)));
                    if due.len() == held && due_tx.blocking_send(std::mem::take(&mut due)).is_err()
                    {
                        // Nobody receives: the pass stopped (cancelled or failed), so the
                        // reading stops too.
                        stopped = true;
                        return Err(samla_reports::ReportError::Facts(
                            "the link pass stopped".into(),
                        ));
                    }
                }
                Ok(())
            });
            if !stopped {
                read.map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            if !due.is_empty() {
                // Nobody receiving only means the pass stopped.
                let _ = due_tx.blocking_send(due);
            }
            Ok((facts, fresh))
        });
        let checker = link_checker(&self.config)?;
        let mut pass = LinkPass::default();
        let mut changed = LinkSet::default();
        'pass: while let Some(due) = due_rx.recv().await {
            // In batches, so a stop loses little and results show up as they come.
            for batch in due.chunks(200) {
                if cancel.is_cancelled() {
                    break 'pass;
                }
                let rows =
                    check_urls(&checker, batch.iter().map(|(u, _)| u.clone()).collect()).await;
                pass.checked += rows.len();
                pass.broken += rows.iter().filter(|r| !r.ok).count();
                for row in &rows {
                    let before = batch
                        .iter()
                        .find(|(u, _)| *u == row.url)
                        .and_then(|(_, b)| *b);
                    if before != Some(row.ok) {
                        changed.insert(&row.url);
                    }
                }
                let store = Arc::clone(&self.store);
                tokio::task::spawn_blocking(move || store.record_links(&rows)).await??;
            }
        }
        drop(due_rx);
        let (facts, fresh) = gather.await??;
        pass.fresh = fresh;
        if !changed.is_empty() {
            // A link's state is part of a dataset's quality band, which the index filters on.
            let ids = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
                facts
                    .filter_map(|d| {
                        d.view
                            .link_urls()
                            .any(|u| changed.contains(u))
                            .then_some(d.id)
                    })
                    .map_err(|e| anyhow::anyhow!("{e}"))
            })
            .await??;
            self.pipeline.refresh(ids).await?;
        }
        Ok(pass)
    }

    /// Keeps the coverage snapshot of the day of `at` (the demo's rounds stand for the days
    /// before today, one each).
    pub async fn snapshot_as_of(&self, at: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
        let reports = Arc::clone(&self.reports);
        tokio::task::spawn_blocking(move || {
            samla_reports::coverage::take_snapshot(&reports, at).map_err(|e| anyhow::anyhow!("{e}"))
        })
        .await?
    }

    /// Keeps today's coverage snapshot, drops logged searches past their retention and the
    /// change log older than the retention of removed datasets (a search node away longer
    /// rebuilds its index).
    pub async fn snapshot_and_prune(&self) -> anyhow::Result<()> {
        let reports = Arc::clone(&self.reports);
        let retention = chrono::Duration::from_std(self.config.demand.retention)?;
        let log_retention = chrono::Duration::from_std(self.config.harvest.remove_after)?;
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let now = chrono::Utc::now();
            samla_reports::coverage::take_snapshot(&reports, now)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            reports.store().prune_searches(now - retention)?;
            reports.store().prune_changes(now - log_retention)?;
            Ok(())
        })
        .await?
    }

    /// Harvests the national portal, if the configuration names one: what it lists is kept
    /// apart and compared with the region's datasets (the `national` report). `None` without
    /// one.
    pub async fn harvest_national(
        &self,
        cancel: CancellationToken,
    ) -> anyhow::Result<Option<(samla_harvester::RunReport, usize)>> {
        let Some(national) = &self.config.national else {
            return Ok(None);
        };
        Ok(Some(
            self.pipeline
                .harvest_national(&national.source, cancel)
                .await?,
        ))
    }

    /// Matches saved searches against what the harvests since the last pass changed, and
    /// sends each organisation with a contact its digest if it changed.
    pub async fn notify(&self) -> anyhow::Result<samla_notify::Pass> {
        Ok(self.notifier.pass(chrono::Utc::now()).await?)
    }

    /// A harvesting node's loop: a notification pass whenever runs have ended or the index
    /// has published changes since the last pass, looked at every `every`, until `cancel`.
    pub async fn notify_after_harvests(
        self: Arc<Self>,
        every: std::time::Duration,
        cancel: CancellationToken,
    ) {
        let mut seen = None;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            let store = Arc::clone(&self.store);
            let version = match tokio::task::spawn_blocking(move || store.version()).await {
                Ok(Ok(v)) => (v.runs, v.last_run, self.index.indexed_seq()),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "store version unread; no notification pass");
                    continue;
                }
                Err(_) => continue,
            };
            if seen.as_ref() == Some(&version) {
                continue;
            }
            match self.notify().await {
                Ok(pass) => {
                    seen = Some(version);
                    if pass != samla_notify::Pass::default() {
                        tracing::info!(?pass, "notification pass");
                    }
                }
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "notification pass failed"),
            }
        }
    }

    /// The background upkeep of a serving samla: link checks, the daily coverage snapshot
    /// and the search log's retention, every `every`, until `cancel`.
    pub async fn maintain(self: Arc<Self>, every: std::time::Duration, cancel: CancellationToken) {
        loop {
            match self.check_links(&cancel).await {
                Ok(pass) => tracing::info!(
                    checked = pass.checked,
                    broken = pass.broken,
                    fresh = pass.fresh,
                    "link check pass"
                ),
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "link check pass failed"),
            }
            if let Err(e) = self.snapshot_and_prune().await {
                tracing::warn!(error = %format!("{e:#}"), "coverage snapshot failed");
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}

/// Replays the simulated businesses' searches and data requests against a running samla at
/// `base`, through the real endpoints; returns (searches, requests) made.
pub async fn replay_demand(base: &str) -> anyhow::Result<(usize, usize)> {
    let client = reqwest::Client::new();
    let (mut searches, mut requests) = (0, 0);
    for s in samla_simulator::demand::SEARCHES {
        let mut url = url::Url::parse(&format!("{base}/api/v1/datasets"))?;
        {
            let mut q = url.query_pairs_mut();
            if !s.q.is_empty() {
                q.append_pair("q", s.q);
            }
            for (k, v) in s.filters {
                q.append_pair(k, v);
            }
        }
        // Each time is another business: its own User-Agent, so the demand report, which
        // counts a client's repeats of a search once a day, counts each.
        for _ in 0..s.times {
            client
                .get(url.clone())
                .header(
                    reqwest::header::USER_AGENT,
                    format!("samla-demo-business/{searches}"),
                )
                .send()
                .await?
                .error_for_status()?;
            searches += 1;
        }
    }
    for body in samla_simulator::demand::REQUESTS {
        client
            .post(format!("{base}/api/v1/requests"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(*body)
            .send()
            .await?
            .error_for_status()?;
        requests += 1;
    }
    Ok((searches, requests))
}

/// Binds 127.0.0.1:`port`, with an error that says what to do when it is taken.
pub async fn bind_loopback(port: u16) -> anyhow::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port} (is it in use? choose another with --port)")
        })
}
