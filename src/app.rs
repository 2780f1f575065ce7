//! Wiring: the embedded region, the state directory, the demo's configuration, serving.

use crate::pipeline::Pipeline;
use crate::runner::Runner;
use anyhow::Context;
use samla_api::{AppState, HarvestControl, SourceInfo};
use samla_config::{Config, Protocol, SourceConfig};
use samla_harvester::Harvester;
use samla_indexer::Indexer;
use samla_model::{Organisation, OrganisationDirectory};
use samla_simulator::{SimOrganisation, Simulator};
use samla_store::Store;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;

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
    config.sources = simulator
        .sources()
        .into_iter()
        .map(|s| {
            Ok(SourceConfig {
                id: s.id,
                organisation: s.organisation_code,
                protocol: match s.protocol {
                    "ckan" => Protocol::Ckan,
                    "entryscape" => Protocol::Entryscape,
                    _ => Protocol::Dcat,
                },
                url: url::Url::parse(&format!("{base}{}", s.path))?,
                schedule: samla_config::DEFAULT_SCHEDULE.into(),
                verified: true,
                enabled: true,
                aggregate: false,
            })
        })
        .collect::<anyhow::Result<_>>()?;
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
}

impl Samla {
    /// Opens the state directory (store and index) for a configuration, and brings the index
    /// up to date with the store if an earlier process stopped between the two.
    pub fn open(config: Config, state_dir: &Path) -> anyhow::Result<Self> {
        let retention = samla_store::Retention {
            archive_after: chrono::Duration::from_std(config.harvest.archive_after)?,
            remove_after: chrono::Duration::from_std(config.harvest.remove_after)?,
        };
        let store = Arc::new(Store::open(state_dir)?.with_retention(retention));
        let index = Arc::new(
            Indexer::open(&state_dir.join("index"))
                .with_context(|| format!("opening the index in {}", state_dir.display()))?,
        );
        let directory = Arc::new(directory_of(&config));
        let harvester = Harvester::new(config.harvest.clone(), Arc::clone(&directory))?;
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
            ),
        );
        if let Some(n) = pipeline.reconcile()? {
            tracing::info!(datasets = n, "index rebuilt from the store");
        }
        let runner = Arc::new(Runner::new(
            Arc::clone(&pipeline),
            &config.sources,
            config.harvest.run_timeout,
            config.harvest.concurrency,
        ));
        Ok(Self {
            config,
            store,
            index,
            directory,
            pipeline,
            runner,
        })
    }

    /// The API's state.
    pub fn api_state(&self) -> AppState {
        AppState {
            store: Arc::clone(&self.store),
            index: Arc::clone(&self.index),
            directory: Arc::clone(&self.directory),
            sources: Arc::new(
                self.config
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
            ),
            control: Some(Arc::clone(&self.runner) as Arc<dyn HarvestControl>),
            admin_token: self.config.admin_token.as_deref().map(Arc::from),
        }
    }

    /// Serves the API on `listener` until `shutdown`.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(listener, samla_api::router(self.api_state()))
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(())
    }
}

/// Binds 127.0.0.1:`port`, with an error that says what to do when it is taken.
pub async fn bind_loopback(port: u16) -> anyhow::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port} (is it in use? choose another with --port)")
        })
}
