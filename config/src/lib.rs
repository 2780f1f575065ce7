//! The region file: organisations, their sources and harvest limits, read from TOML in two
//! stages: `Raw*` is what serde read (unknown keys rejected), [`Config`] is validated.
//!
//! Architecture invariant: this crate knows nothing of HTTP, RDF, storage or the index; it
//! turns a file into a validated value, with errors that name the file, the key and the problem.

use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration problem: which key, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, as a path (`source[3].url`).
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

/// Why a configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped keys.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// The parser's message, naming the key and line.
        message: String,
    },
    /// The values are well-formed but invalid.
    #[error("{file}: {}", format_problems(.problems))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.key, p.problem))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The harvest protocol of a source, named as in the region file and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Protocol {
    /// A DCAT catalog as RDF.
    Dcat,
    /// A CKAN Action API.
    Ckan,
    /// An EntryScape / EntryStore catalog.
    Entryscape,
}

impl Protocol {
    /// Every protocol.
    pub const ALL: [Protocol; 3] = [Protocol::Dcat, Protocol::Ckan, Protocol::Entryscape];

    /// Its name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Dcat => "dcat",
            Protocol::Ckan => "ckan",
            Protocol::Entryscape => "entryscape",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| format!("{name:?} is not dcat, ckan or entryscape"))
    }
}

impl TryFrom<String> for Protocol {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        name.parse()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    region: RawRegion,
    #[serde(default)]
    harvest: RawHarvest,
    #[serde(default)]
    admin: RawAdmin,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    links: RawLinks,
    #[serde(default)]
    quality: RawQuality,
    #[serde(default)]
    demand: RawDemand,
    #[serde(default)]
    notify: RawNotify,
    national: Option<RawNational>,
    #[serde(default)]
    organisation: Vec<RawOrganisation>,
    #[serde(default)]
    source: Vec<RawSource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    name: String,
    #[serde(default = "default_timezone")]
    timezone: String,
}

fn default_timezone() -> String {
    "Europe/Stockholm".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHarvest {
    user_agent: Option<String>,
    connect_timeout_secs: Option<u64>,
    request_timeout_secs: Option<u64>,
    run_timeout_secs: Option<u64>,
    max_body_bytes: Option<u64>,
    max_pages: Option<usize>,
    max_triples_per_page: Option<usize>,
    max_literal_bytes: Option<usize>,
    header_timeout_secs: Option<u64>,
    fewer_datasets_share: Option<f64>,
    retries: Option<u32>,
    concurrency: Option<usize>,
    per_host: Option<usize>,
    archive_after_hours: Option<u64>,
    remove_after_days: Option<u64>,
    schedule_jitter_secs: Option<u64>,
    full_harvest_days: Option<u64>,
    allow_private: Option<bool>,
    allow_hosts: Option<Vec<String>>,
    held_records: Option<usize>,
    held_triples: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    public_url: Option<String>,
    bind: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    workers: Option<usize>,
    queue: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinks {
    enabled: Option<bool>,
    allow_private: Option<bool>,
    allow_hosts: Option<Vec<String>>,
    concurrency: Option<usize>,
    per_host: Option<usize>,
    per_host_delay_ms: Option<u64>,
    timeout_secs: Option<u64>,
    recheck_hours: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuality {
    swedish: Option<bool>,
    shapes: Option<Vec<PathBuf>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDemand {
    retention_days: Option<u64>,
    requests_per_hour: Option<u32>,
}

/// The background link checker (`[links]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSettings {
    /// Whether links are checked at all.
    pub enabled: bool,
    /// Whether private, loopback and link-local addresses may be asked (off by default; the
    /// demo's loopback region turns it on).
    pub allow_private: bool,
    /// Host names checked even when they resolve to a private address (an organisation's
    /// own intranet servers); a redirect from them to another private address is still
    /// refused.
    pub allow_hosts: Vec<String>,
    /// Links checked at once.
    pub concurrency: usize,
    /// Links checked at once on one host.
    pub per_host: usize,
    /// Pause between two requests to one host.
    pub per_host_delay: Duration,
    /// Timeout of one check.
    pub timeout: Duration,
    /// A link is checked again after this long.
    pub recheck: Duration,
}

impl Default for LinkSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            allow_private: false,
            allow_hosts: Vec::new(),
            concurrency: 8,
            per_host: 2,
            per_host_delay: Duration::from_millis(250),
            timeout: Duration::from_secs(15),
            recheck: Duration::from_secs(24 * 3600),
        }
    }
}

/// How quality is scored (`[quality]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QualitySettings {
    /// dataportal.se's deviations from the European MQA.
    pub swedish: bool,
    /// SHACL shapes files for the DCAT-AP compliance indicator, instead of the shipped core
    /// shapes (e.g. the official DCAT-AP 3 files).
    pub shapes: Vec<PathBuf>,
}

/// Search-demand logging and data requests (`[demand]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandSettings {
    /// Logged searches are kept this long.
    pub retention: Duration,
    /// Data requests accepted per hour from one client.
    pub requests_per_hour: u32,
}

impl Default for DemandSettings {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(365 * 24 * 3600),
            requests_per_hour: 10,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    code: String,
    name: String,
    short_name: String,
    orgnr: Option<String>,
    domain: Option<String>,
    #[serde(default = "yes")]
    public: bool,
    #[serde(default)]
    notify: Vec<String>,
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNational {
    name: Option<String>,
    url: String,
    #[serde(default = "dcat")]
    protocol: Protocol,
    schedule: Option<String>,
    #[serde(default)]
    follow_hosts: Vec<String>,
}

fn dcat() -> Protocol {
    Protocol::Dcat
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    allow_private: Option<bool>,
    allow_hosts: Option<Vec<String>>,
    webhook_secret: Option<String>,
    retries: Option<u32>,
    retry_base_ms: Option<u64>,
    disable_after: Option<u32>,
    smtp: Option<RawSmtp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: Option<u16>,
    tls: Option<String>,
    from: String,
    username: Option<String>,
    password: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: String,
    organisation: String,
    protocol: Protocol,
    url: String,
    schedule: Option<String>,
    #[serde(default = "yes")]
    verified: bool,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    aggregate: bool,
    #[serde(default)]
    follow_hosts: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Limits and manners of the shared HTTP client and of each run.
#[derive(Debug, Clone, PartialEq)]
pub struct HarvestSettings {
    /// The honest User-Agent.
    pub user_agent: String,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Total timeout of one request, body included.
    pub request_timeout: Duration,
    /// Timeout of a whole source run.
    pub run_timeout: Duration,
    /// Cap on one response body after decompression.
    pub max_body_bytes: u64,
    /// Cap on pages followed in one run.
    pub max_pages: usize,
    /// Cap on the triples of one page (a page over it fails with `page_too_large`).
    pub max_triples_per_page: usize,
    /// Cap on one literal (a longer one is left out, `literal_too_long`).
    pub max_literal_bytes: usize,
    /// How long a server may take to send a response's status and headers.
    pub header_timeout: Duration,
    /// A complete run that reads fewer datasets than this share of what the source held
    /// archives nothing until a second run in a row reads as few (`fewer_datasets`).
    pub fewer_datasets_share: f64,
    /// Retries on 429 and 5xx.
    pub retries: u32,
    /// Sources harvested at once.
    pub concurrency: usize,
    /// Requests in flight to one host (host and port) at once, across every run: many
    /// sources can be harvested at once without pressing one server (several
    /// municipalities share a platform's host).
    pub per_host: usize,
    /// A dataset missing from complete runs this long is archived (out of search).
    pub archive_after: Duration,
    /// An archived dataset is removed after this long.
    pub remove_after: Duration,
    /// Scheduled runs start up to this much later than their cron time, spread per source.
    pub schedule_jitter: Duration,
    /// A CKAN source is read incrementally (packages modified since the last run) until its
    /// last full run is this old; then a full run catches deletions.
    pub full_harvest_every: Duration,
    /// Whether the harvest may reach private, loopback and other non-public addresses.
    pub allow_private: bool,
    /// Hosts the harvest may reach whatever their addresses: `[harvest] allow_hosts`, and the
    /// hosts of the region's own sources (the operator named them).
    pub allow_hosts: Vec<String>,
    /// Changed records a run holds in memory; past this many they are staged on disk until
    /// the run is applied, so a harvest's memory does not grow with its source.
    pub held_records: usize,
    /// Triples of a catalog whose records span pages (EntryScape) held in memory; past this
    /// many they wait on disk and its records are made a batch of datasets at a time.
    pub held_triples: usize,
}

impl Default for HarvestSettings {
    fn default() -> Self {
        Self {
            user_agent: concat!(
                "samla/",
                env!("CARGO_PKG_VERSION"),
                " (regional open-data harvester)"
            )
            .into(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            run_timeout: Duration::from_secs(1800),
            max_body_bytes: 256 * 1024 * 1024,
            max_pages: 10_000,
            max_triples_per_page: 2_000_000,
            max_literal_bytes: 1 << 20,
            header_timeout: Duration::from_secs(30),
            fewer_datasets_share: 0.5,
            retries: 3,
            concurrency: 16,
            per_host: 2,
            archive_after: Duration::from_secs(72 * 3600),
            remove_after: Duration::from_secs(30 * 24 * 3600),
            schedule_jitter: Duration::from_secs(600),
            full_harvest_every: Duration::from_secs(7 * 24 * 3600),
            allow_private: false,
            allow_hosts: Vec::new(),
            held_records: 1024,
            held_triples: 200_000,
        }
    }
}

/// An organisation of the region.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganisationConfig {
    /// Kommunkod, or another stable code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// Short name.
    pub short_name: String,
    /// Organisation number, ten digits.
    pub orgnr: Option<String>,
    /// Web domain.
    pub domain: Option<String>,
    /// Public sector (municipalities, regions, agencies) rather than private.
    pub public: bool,
    /// Where its harvest notices go.
    pub notify: Vec<Contact>,
    /// The token its contact answers data requests about it with.
    pub token: Option<String>,
}

/// Where a notice or an alert is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    /// An e-mail address (`mailto:` in the region file).
    Email(String),
    /// A webhook: JSON POSTed, signed with HMAC-SHA256.
    Webhook(url::Url),
}

impl Contact {
    /// Reads `mailto:addr` or an http(s) URL.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(address) = text.strip_prefix("mailto:") {
            return email_address(address).map(Contact::Email);
        }
        match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                if url.username() != "" || url.password().is_some() {
                    Err(format!("{text:?}: a webhook URL carries no credentials"))
                } else {
                    Ok(Contact::Webhook(url))
                }
            }
            _ => Err(format!(
                "{text:?} is neither mailto:address nor an http or https URL"
            )),
        }
    }
}

/// An e-mail address as a mail header may carry it: one `local@domain`, no spaces, no line
/// breaks, no angle brackets.
pub fn email_address(text: &str) -> Result<String, String> {
    let text = text.trim();
    let ok = text.len() <= 254
        && text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && text.matches('@').count() == 1
        && !text.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>' | ',' | ';' | '"' | '(' | ')' | '[' | ']' | '\\'
                )
        });
    if ok {
        Ok(text.to_string())
    } else {
        Err(format!("{text:?} is not an e-mail address"))
    }
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain (a relay on the same host or network).
    None,
    /// STARTTLS on the submission port.
    StartTls,
    /// TLS from the first byte.
    Tls,
}

/// The mail server notices and alerts are sent through (`[notify.smtp]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// Host name.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Security.
    pub tls: SmtpTls,
    /// The sender, `name <address>` or an address.
    pub from: String,
    /// Login, if the server asks for one.
    pub username: Option<String>,
    /// Its password (`SAMLA_SMTP_PASSWORD` if not in the file).
    pub password: Option<String>,
}

/// Alerts and publisher notices (`[notify]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySettings {
    /// Webhooks may reach private, loopback and link-local addresses.
    pub allow_private: bool,
    /// Webhook hosts reached whatever their addresses.
    pub allow_hosts: Vec<String>,
    /// The key publisher notices are signed with (`SAMLA_WEBHOOK_SECRET` if not in the file).
    pub webhook_secret: Option<String>,
    /// Retries of a failed delivery.
    pub retries: u32,
    /// The first retry's wait; each next one waits twice as long.
    pub retry_base: Duration,
    /// A saved search is disabled after this many deliveries failed in a row.
    pub disable_after: u32,
    /// The mail server, if mail is sent.
    pub smtp: Option<SmtpSettings>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            allow_hosts: Vec::new(),
            webhook_secret: None,
            retries: 3,
            retry_base: Duration::from_secs(2),
            disable_after: 5,
            smtp: None,
        }
    }
}

/// A harvest source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    /// Unique id (`[a-z0-9-]`).
    pub id: String,
    /// Code of the organisation that runs it.
    pub organisation: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Where to start.
    pub url: url::Url,
    /// When it is harvested, in the region's time zone.
    pub schedule: Schedule,
    /// Whether the URL is known to serve the catalog (false for conventional guesses).
    pub verified: bool,
    /// Whether the source is harvested.
    pub enabled: bool,
    /// Whether it aggregates other organisations' catalogs (lowest precedence for duplicates).
    pub aggregate: bool,
    /// Hosts that links found in the source (next pages, sub-catalogues) may lead to besides
    /// its own (where its first page answers from) and those `[harvest] allow_hosts` names;
    /// `"*"` for any.
    pub follow_hosts: Vec<String>,
}

/// The national portal the region's datasets should reach (`[national]`): harvested like a
/// source, never shown in search, compared with what the region publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct NationalConfig {
    /// What people call it (`dataportal.se`).
    pub name: String,
    /// The harvest: id [`NATIONAL_SOURCE`], no organisation.
    pub source: SourceConfig,
}

/// The source id of the national portal's harvest.
pub const NATIONAL_SOURCE: &str = "national";

/// A validated region configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The region's name.
    pub region_name: String,
    /// Time zone of schedules.
    pub timezone: chrono_tz::Tz,
    /// The address the service is reached at (`[server] public_url`, or `--public-url`):
    /// the exported catalog's IRIs are built on it rather than on the request's `Host`.
    pub public_url: Option<url::Url>,
    /// Where and behind what the service runs (`[server]`).
    pub server: ServerSettings,
    /// Harvest limits.
    pub harvest: HarvestSettings,
    /// Organisations, in file order.
    pub organisations: Vec<OrganisationConfig>,
    /// Sources, in file order.
    pub sources: Vec<SourceConfig>,
    /// The PostgreSQL store (`[store] url`, or `SAMLA_STORE_URL` when unset:
    /// `postgres://user:password@host/db`); without one, the store is SQLite in the state
    /// directory.
    pub store_url: Option<String>,
    /// The admin bearer token (`[admin] token`, or `SAMLA_ADMIN_TOKEN` when unset); without
    /// one, the admin endpoints answer 403.
    pub admin_token: Option<String>,
    /// The link checker.
    pub links: LinkSettings,
    /// Quality scoring.
    pub quality: QualitySettings,
    /// Demand logging.
    pub demand: DemandSettings,
    /// Alerts and publisher notices.
    pub notify: NotifySettings,
    /// The national portal, if the region is compared with one.
    pub national: Option<NationalConfig>,
}

/// Where the service listens and whom it believes about clients' addresses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerSettings {
    /// The address to listen on (`[server] bind`, or `--bind`); 127.0.0.1 with the command's
    /// port when unset.
    pub bind: Option<std::net::SocketAddr>,
    /// Proxies whose `X-Forwarded-For` and `Forwarded` headers give the client's address
    /// (`[server] trusted_proxies`: addresses or networks, `10.0.0.0/8`); nobody else's are
    /// read.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Threads for a request's blocking work (searches, store reads, reports) at once
    /// (`[server] workers`; two per core when unset).
    pub workers: Option<usize>,
    /// Requests that may wait for a worker (`[server] queue`; 256 when unset); past that a
    /// request is answered 503.
    pub queue: Option<usize>,
}

/// A cron schedule, parsed: five fields (minute hour day month weekday) as in crontab, or six
/// with seconds first. Shown as written.
#[derive(Clone)]
pub struct Schedule {
    expression: String,
    cron: cron::Schedule,
}

impl Schedule {
    /// The parsed schedule.
    pub fn cron(&self) -> &cron::Schedule {
        &self.cron
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.expression
    }
}

impl std::str::FromStr for Schedule {
    type Err = String;

    fn from_str(expression: &str) -> Result<Self, String> {
        let full = match expression.split_whitespace().count() {
            5 => format!("0 {expression}"),
            6 => expression.to_string(),
            _ => {
                return Err(format!(
                    "{expression:?} is not a cron expression (5 fields, or 6 with seconds)"
                ));
            }
        };
        let cron = full
            .parse::<cron::Schedule>()
            .map_err(|e| format!("{expression:?} is not a valid cron expression: {e}"))?;
        Ok(Self {
            expression: expression.to_string(),
            cron,
        })
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.expression)
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.expression == other.expression
    }
}

impl PartialEq<&str> for Schedule {
    fn eq(&self, other: &&str) -> bool {
        self.expression == *other
    }
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Schedule({:?})", self.expression)
    }
}

impl Default for Schedule {
    fn default() -> Self {
        DEFAULT_SCHEDULE
            .parse()
            .expect("the default schedule parses")
    }
}

/// The default schedule: nightly at 02:00.
pub const DEFAULT_SCHEDULE: &str = "0 2 * * *";

impl Config {
    /// Reads and validates a region file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: path.into(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses and validates region TOML; `file` names it in errors.
    pub fn from_toml(text: &str, file: &Path) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: file.into(),
            message: e.to_string().trim().replace('\n', " | "),
        })?;
        raw.validate().map_err(|problems| ConfigError::Invalid {
            file: file.into(),
            problems,
        })
    }

    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.id == id)
    }
}

impl RawConfig {
    fn validate(self) -> Result<Config, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut problem = |key: String, text: String| problems.push(Problem { key, problem: text });
        if self.region.name.trim().is_empty() {
            problem("region.name".into(), "must not be empty".into());
        }
        let timezone = self
            .region
            .timezone
            .parse::<chrono_tz::Tz>()
            .unwrap_or_else(|_| {
                problem(
                    "region.timezone".into(),
                    format!("{:?} is not an IANA time zone", self.region.timezone),
                );
                chrono_tz::Tz::UTC
            });
        let public_url = self
            .server
            .public_url
            .as_deref()
            .and_then(|u| match url::Url::parse(u) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.query().is_none() => {
                    Some(url)
                }
                Ok(_) => {
                    problem(
                        "server.public_url".into(),
                        format!("{u:?} must be an http or https URL without a query"),
                    );
                    None
                }
                Err(e) => {
                    problem(
                        "server.public_url".into(),
                        format!("{u:?} is not a URL: {e}"),
                    );
                    None
                }
            });
        if self.server.workers == Some(0) {
            problem("server.workers".into(), "must be greater than 0".into());
        }
        let bind = self.server.bind.as_deref().and_then(|b| {
            b.parse::<std::net::SocketAddr>()
                .map_err(|_| {
                    problem(
                        "server.bind".into(),
                        format!("{b:?} is not an address and port (`0.0.0.0:8080`, `[::]:8080`)"),
                    )
                })
                .ok()
        });
        let trusted_proxies = self
            .server
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .filter_map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        problem(
                            "server.trusted_proxies".into(),
                            format!("{p:?} is not an address or a network (`10.0.0.0/8`)"),
                        )
                    })
                    .ok()
            })
            .collect();
        let defaults = HarvestSettings::default();
        let h = self.harvest;
        let positive = |v: Option<u64>, key: &str, problem: &mut dyn FnMut(String, String)| {
            if v == Some(0) {
                problem(key.to_string(), "must be greater than 0".into());
            }
        };
        positive(
            h.connect_timeout_secs,
            "harvest.connect_timeout_secs",
            &mut problem,
        );
        positive(
            h.request_timeout_secs,
            "harvest.request_timeout_secs",
            &mut problem,
        );
        positive(h.run_timeout_secs, "harvest.run_timeout_secs", &mut problem);
        positive(h.max_body_bytes, "harvest.max_body_bytes", &mut problem);
        positive(
            h.max_pages.map(|v| v as u64),
            "harvest.max_pages",
            &mut problem,
        );
        positive(
            h.max_triples_per_page.map(|v| v as u64),
            "harvest.max_triples_per_page",
            &mut problem,
        );
        positive(
            h.max_literal_bytes.map(|v| v as u64),
            "harvest.max_literal_bytes",
            &mut problem,
        );
        positive(
            h.header_timeout_secs,
            "harvest.header_timeout_secs",
            &mut problem,
        );
        if let Some(share) = h.fewer_datasets_share
            && !(0.0..=1.0).contains(&share)
        {
            problem(
                "harvest.fewer_datasets_share".into(),
                format!("must be between 0 and 1, not {share}"),
            );
        }
        positive(
            h.concurrency.map(|v| v as u64),
            "harvest.concurrency",
            &mut problem,
        );
        positive(
            h.per_host.map(|v| v as u64),
            "harvest.per_host",
            &mut problem,
        );
        let mut harvest = HarvestSettings {
            user_agent: h.user_agent.unwrap_or(defaults.user_agent),
            connect_timeout: h
                .connect_timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.connect_timeout),
            request_timeout: h
                .request_timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.request_timeout),
            run_timeout: h
                .run_timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.run_timeout),
            max_body_bytes: h.max_body_bytes.unwrap_or(defaults.max_body_bytes),
            max_pages: h.max_pages.unwrap_or(defaults.max_pages),
            max_triples_per_page: h
                .max_triples_per_page
                .unwrap_or(defaults.max_triples_per_page),
            max_literal_bytes: h.max_literal_bytes.unwrap_or(defaults.max_literal_bytes),
            header_timeout: h
                .header_timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.header_timeout),
            fewer_datasets_share: h
                .fewer_datasets_share
                .unwrap_or(defaults.fewer_datasets_share),
            retries: h.retries.unwrap_or(defaults.retries),
            concurrency: h.concurrency.unwrap_or(defaults.concurrency),
            per_host: h.per_host.unwrap_or(defaults.per_host),
            archive_after: h
                .archive_after_hours
                .map(|v| Duration::from_secs(v * 3600))
                .unwrap_or(defaults.archive_after),
            remove_after: h
                .remove_after_days
                .map(|v| Duration::from_secs(v * 24 * 3600))
                .unwrap_or(defaults.remove_after),
            schedule_jitter: h
                .schedule_jitter_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.schedule_jitter),
            full_harvest_every: h
                .full_harvest_days
                .map(|v| Duration::from_secs(v * 24 * 3600))
                .unwrap_or(defaults.full_harvest_every),
            allow_private: h.allow_private.unwrap_or(defaults.allow_private),
            held_records: h.held_records.unwrap_or(defaults.held_records),
            held_triples: h.held_triples.unwrap_or(defaults.held_triples),
            allow_hosts: h
                .allow_hosts
                .unwrap_or_default()
                .into_iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
        };

        let mut codes = HashSet::new();
        let mut organisations = Vec::new();
        for (i, o) in self.organisation.into_iter().enumerate() {
            if o.code.trim().is_empty() {
                problem(
                    format!("organisation[{i}].code"),
                    "must not be empty".into(),
                );
            } else if !codes.insert(o.code.clone()) {
                problem(
                    format!("organisation[{i}].code"),
                    format!("duplicate code {:?}", o.code),
                );
            }
            let orgnr = match o.orgnr {
                Some(nr) => {
                    let digits: String = nr.chars().filter(char::is_ascii_digit).collect();
                    if digits.len() != 10 {
                        problem(
                            format!("organisation[{i}].orgnr"),
                            format!("{nr:?} is not a ten-digit organisation number"),
                        );
                    }
                    Some(digits)
                }
                None => None,
            };
            let notify = o
                .notify
                .iter()
                .enumerate()
                .filter_map(|(j, c)| {
                    Contact::parse(c)
                        .map_err(|e| problem(format!("organisation[{i}].notify[{j}]"), e))
                        .ok()
                })
                .collect();
            let token = o.token.filter(|t| !t.trim().is_empty());
            if token
                .as_ref()
                .is_some_and(|t| t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()))
            {
                problem(
                    format!("organisation[{i}].token"),
                    "at least 16 characters, ASCII letters, digits and punctuation (it is sent in a header)".into(),
                );
            }
            organisations.push(OrganisationConfig {
                code: o.code,
                name: o.name,
                short_name: o.short_name,
                orgnr,
                domain: o.domain,
                public: o.public,
                notify,
                token,
            });
        }

        let mut ids = HashSet::new();
        let mut sources = Vec::new();
        for (i, s) in self.source.into_iter().enumerate() {
            if s.id.is_empty()
                || !s
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                problem(
                    format!("source[{i}].id"),
                    format!("{:?} must be lower-case letters, digits and '-'", s.id),
                );
            } else if !ids.insert(s.id.clone()) {
                problem(
                    format!("source[{i}].id"),
                    format!("duplicate id {:?}", s.id),
                );
            }
            if !codes.contains(&s.organisation) {
                problem(
                    format!("source[{i}].organisation"),
                    format!("no organisation with code {:?}", s.organisation),
                );
            }
            let schedule = match s.schedule.as_deref().map(str::parse::<Schedule>) {
                None => Schedule::default(),
                Some(Ok(schedule)) => schedule,
                Some(Err(e)) => {
                    problem(format!("source[{i}].schedule"), e);
                    Schedule::default()
                }
            };
            match url::Url::parse(&s.url) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => sources.push(SourceConfig {
                    id: s.id,
                    organisation: s.organisation,
                    protocol: s.protocol,
                    url,
                    schedule,
                    verified: s.verified,
                    enabled: s.enabled,
                    aggregate: s.aggregate,
                    follow_hosts: s
                        .follow_hosts
                        .iter()
                        .map(|h| h.trim().to_ascii_lowercase())
                        .collect(),
                }),
                Ok(url) => problem(
                    format!("source[{i}].url"),
                    format!("scheme {:?} is not http or https", url.scheme()),
                ),
                Err(e) => problem(
                    format!("source[{i}].url"),
                    format!("{:?} is not a URL: {e}", s.url),
                ),
            }
        }
        let national = self.national.and_then(|n| {
            if ids.contains(NATIONAL_SOURCE) {
                problem(
                    "source".into(),
                    format!("the id {NATIONAL_SOURCE:?} is the national portal's"),
                );
            }
            let schedule = match n.schedule.as_deref().map(str::parse::<Schedule>) {
                None => Schedule::default(),
                Some(Ok(schedule)) => schedule,
                Some(Err(e)) => {
                    problem("national.schedule".into(), e);
                    Schedule::default()
                }
            };
            match url::Url::parse(&n.url) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => Some(NationalConfig {
                    name: n
                        .name
                        .filter(|n| !n.trim().is_empty())
                        .or_else(|| url.host_str().map(str::to_string))
                        .unwrap_or_default(),
                    source: SourceConfig {
                        id: NATIONAL_SOURCE.into(),
                        organisation: String::new(),
                        protocol: n.protocol,
                        url,
                        schedule,
                        verified: true,
                        enabled: true,
                        aggregate: true,
                        follow_hosts: n
                            .follow_hosts
                            .iter()
                            .map(|h| h.trim().to_ascii_lowercase())
                            .collect(),
                    },
                }),
                Ok(url) => {
                    problem(
                        "national.url".into(),
                        format!("scheme {:?} is not http or https", url.scheme()),
                    );
                    None
                }
                Err(e) => {
                    problem(
                        "national.url".into(),
                        format!("{:?} is not a URL: {e}", n.url),
                    );
                    None
                }
            }
        });
        let link_defaults = LinkSettings::default();
        let l = self.links;
        positive(
            l.concurrency.map(|v| v as u64),
            "links.concurrency",
            &mut problem,
        );
        positive(l.per_host.map(|v| v as u64), "links.per_host", &mut problem);
        positive(l.timeout_secs, "links.timeout_secs", &mut problem);
        positive(l.recheck_hours, "links.recheck_hours", &mut problem);
        let links = LinkSettings {
            enabled: l.enabled.unwrap_or(link_defaults.enabled),
            allow_private: l.allow_private.unwrap_or(link_defaults.allow_private),
            allow_hosts: l
                .allow_hosts
                .unwrap_or_default()
                .into_iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            concurrency: l.concurrency.unwrap_or(link_defaults.concurrency),
            per_host: l.per_host.unwrap_or(link_defaults.per_host),
            per_host_delay: l
                .per_host_delay_ms
                .map(Duration::from_millis)
                .unwrap_or(link_defaults.per_host_delay),
            timeout: l
                .timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(link_defaults.timeout),
            recheck: l
                .recheck_hours
                .map(|h| Duration::from_secs(h * 3600))
                .unwrap_or(link_defaults.recheck),
        };
        let quality = QualitySettings {
            swedish: self.quality.swedish.unwrap_or(false),
            shapes: self.quality.shapes.unwrap_or_default(),
        };
        for (i, path) in quality.shapes.iter().enumerate() {
            if !path.is_file() {
                problem(
                    format!("quality.shapes[{i}]"),
                    format!("{} is not a readable file", path.display()),
                );
            }
        }
        let demand_defaults = DemandSettings::default();
        positive(
            self.demand.retention_days,
            "demand.retention_days",
            &mut problem,
        );
        let demand = DemandSettings {
            retention: self
                .demand
                .retention_days
                .map(|d| Duration::from_secs(d * 24 * 3600))
                .unwrap_or(demand_defaults.retention),
            requests_per_hour: self
                .demand
                .requests_per_hour
                .unwrap_or(demand_defaults.requests_per_hour),
        };
        let notify = self.notify;
        let notify_defaults = NotifySettings::default();
        positive(
            notify.disable_after.map(u64::from),
            "notify.disable_after",
            &mut problem,
        );
        let smtp = notify.smtp.map(|m| {
            let tls = match m.tls.as_deref().unwrap_or("starttls") {
                "none" => SmtpTls::None,
                "starttls" => SmtpTls::StartTls,
                "tls" => SmtpTls::Tls,
                other => {
                    problem(
                        "notify.smtp.tls".into(),
                        format!("{other:?} is not none, starttls or tls"),
                    );
                    SmtpTls::StartTls
                }
            };
            if m.host.trim().is_empty() {
                problem("notify.smtp.host".into(), "must not be empty".into());
            }
            let address = match m.from.rsplit_once('<') {
                Some((_, rest)) => rest.strip_suffix('>').unwrap_or("<"),
                None => m.from.as_str(),
            };
            if let Err(e) = email_address(address) {
                problem("notify.smtp.from".into(), e);
            }
            if m.from.chars().any(char::is_control) {
                problem("notify.smtp.from".into(), "holds a line break".into());
            }
            SmtpSettings {
                port: m.port.unwrap_or(match tls {
                    SmtpTls::None => 25,
                    SmtpTls::StartTls => 587,
                    SmtpTls::Tls => 465,
                }),
                host: m.host.trim().to_string(),
                tls,
                from: m.from.trim().to_string(),
                username: m.username.filter(|u| !u.is_empty()),
                password: m
                    .password
                    .or_else(|| std::env::var("SAMLA_SMTP_PASSWORD").ok())
                    .filter(|p| !p.is_empty()),
            }
        });
        if smtp.is_none() {
            for (i, o) in organisations.iter().enumerate() {
                if o.notify.iter().any(|c| matches!(c, Contact::Email(_))) {
                    problem(
                        format!("organisation[{i}].notify"),
                        "names an e-mail address, but [notify.smtp] sets no mail server".into(),
                    );
                }
            }
        }
        let webhook_secret = notify
            .webhook_secret
            .or_else(|| std::env::var("SAMLA_WEBHOOK_SECRET").ok())
            .filter(|s| !s.trim().is_empty());
        if webhook_secret.is_none() {
            for (i, o) in organisations.iter().enumerate() {
                if o.notify.iter().any(|c| matches!(c, Contact::Webhook(_))) {
                    problem(
                        format!("organisation[{i}].notify"),
                        "names a webhook, but no [notify] webhook_secret (or SAMLA_WEBHOOK_SECRET) signs it".into(),
                    );
                }
            }
        }
        let notify = NotifySettings {
            allow_private: notify.allow_private.unwrap_or(false),
            allow_hosts: notify
                .allow_hosts
                .unwrap_or_default()
                .into_iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            webhook_secret,
            retries: notify.retries.unwrap_or(notify_defaults.retries),
            retry_base: notify
                .retry_base_ms
                .map(Duration::from_millis)
                .unwrap_or(notify_defaults.retry_base),
            disable_after: notify
                .disable_after
                .unwrap_or(notify_defaults.disable_after),
            smtp,
        };
        let store_url = self
            .store
            .url
            .or_else(|| std::env::var("SAMLA_STORE_URL").ok())
            .filter(|u| !u.trim().is_empty());
        if let Some(url) = &store_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            problems.push(Problem {
                key: "store.url".into(),
                problem: "a PostgreSQL address (postgres://user:password@host/db) is expected"
                    .into(),
            });
        }
        if problems.is_empty() {
            // The region's own sources are the operator's choice, whatever their addresses; links
            // found in what they answer are not.
            harvest.allow_hosts.extend(
                sources
                    .iter()
                    .chain(national.as_ref().map(|n| &n.source))
                    .filter_map(|s| s.url.host_str())
                    .map(str::to_ascii_lowercase),
            );
            harvest.allow_hosts.sort();
            harvest.allow_hosts.dedup();
            Ok(Config {
                links,
                quality,
                demand,
                notify,
                national,
                store_url,
                admin_token: self
                    .admin
                    .token
                    .filter(|t| !t.trim().is_empty())
                    .or_else(|| std::env::var("SAMLA_ADMIN_TOKEN").ok())
                    .filter(|t| !t.trim().is_empty()),
                region_name: self.region.name,
                timezone,
                public_url,
                server: ServerSettings {
                    bind,
                    trusted_proxies,
                    workers: self.server.workers,
                    queue: self.server.queue,
                },
                harvest,
                organisations,
                sources,
            })
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[region]
name = "Skåne"

[[organisation]]
code = "1280"
name = "Malmö stad"
short_name = "Malmö"
orgnr = "212000-1124"

[[source]]
id = "malmo"
organisation = "1280"
protocol = "ckan"
url = "https://ckan-malmo.dataplatform.se"
"#;

    #[test]
    fn reads_a_valid_region() {
        let c = Config::from_toml(GOOD, Path::new("r.toml")).expect("valid");
        assert_eq!(c.organisations[0].orgnr.as_deref(), Some("2120001124"));
        assert_eq!(c.sources[0].protocol, Protocol::Ckan);
        assert_eq!(c.sources[0].schedule, DEFAULT_SCHEDULE);
    }

    #[test]
    fn the_store_is_postgresql_when_an_address_is_given() {
        let with = |url: &str| {
            Config::from_toml(
                &format!("{GOOD}\n[store]\nurl = \"{url}\"\n"),
                Path::new("r.toml"),
            )
        };
        let c = with("postgres://samla@db/samla").expect("valid");
        assert_eq!(c.store_url.as_deref(), Some("postgres://samla@db/samla"));
        let e = with("mysql://db/samla")
            .expect_err("not PostgreSQL")
            .to_string();
        assert!(e.contains("store.url"), "{e}");
    }

    #[test]
    fn contacts_and_the_mail_server_are_checked_at_configuration() {
        let with = |contacts: &str, notify: &str| {
            Config::from_toml(
                &(GOOD.replace(
                    "orgnr = \"212000-1124\"",
                    &format!("orgnr = \"212000-1124\"\nnotify = [{contacts}]"),
                ) + notify),
                Path::new("r.toml"),
            )
        };
        let smtp = "\n[notify]\nwebhook_secret = \"a key of enough length\"\n[notify.smtp]\nhost = \"mail.example\"\nfrom = \"samla <samla@region.example>\"\n";
        let c = with(
            r#""mailto:gis@malmo.se", "https://hooks.malmo.se/samla""#,
            smtp,
        )
        .expect("valid");
        assert_eq!(
            c.organisations[0].notify,
            [
                Contact::Email("gis@malmo.se".into()),
                Contact::Webhook(url::Url::parse("https://hooks.malmo.se/samla").expect("url"))
            ]
        );
        let smtp_settings = c.notify.smtp.expect("smtp");
        assert_eq!(
            (smtp_settings.port, smtp_settings.tls),
            (587, SmtpTls::StartTls)
        );
        for (contacts, notify, key, why) in [
            (
                r#""mailto:gis@malmo.se""#,
                "",
                "organisation[0].notify",
                "no mail server",
            ),
            (
                r#""https://hooks.malmo.se/x""#,
                "",
                "organisation[0].notify",
                "webhook_secret",
            ),
            (
                r#""ftp://x.se/""#,
                smtp,
                "organisation[0].notify[0]",
                "neither",
            ),
            (
                r#""mailto:a b@x.se""#,
                smtp,
                "organisation[0].notify[0]",
                "not an e-mail address",
            ),
            (
                r#""mailto:gis@malmo.se\r\nBcc: x@y.se""#,
                smtp,
                "organisation[0].notify[0]",
                "not an e-mail address",
            ),
            (
                r#""https://user:pw@hooks.malmo.se/""#,
                smtp,
                "organisation[0].notify[0]",
                "credentials",
            ),
            (
                "",
                &smtp.replace("samla <samla@region.example>", "samla"),
                "notify.smtp.from",
                "not an e-mail address",
            ),
            (
                "",
                &format!("{smtp}tls = \"ssl\"\n"),
                "notify.smtp.tls",
                "none, starttls or tls",
            ),
        ] {
            let e = with(contacts, notify).expect_err(contacts).to_string();
            assert!(
                e.contains(key) && e.contains(why),
                "{contacts} {notify}: {e}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_rejected_with_file_and_key() {
        let text = GOOD.replace("protocol = \"ckan\"", "protocol = \"ckan\"\nurll = \"x\"");
        let e = Config::from_toml(&text, Path::new("r.toml"))
            .expect_err("unknown key")
            .to_string();
        assert!(e.starts_with("r.toml:"), "{e}");
        assert!(e.contains("urll"), "{e}");
    }

    #[test]
    fn invalid_values_name_their_key() {
        let text = GOOD
            .replace("https://ckan-malmo.dataplatform.se", "ftp://x")
            .replace("\"1280\"\nprotocol", "\"9999\"\nprotocol");
        let e = Config::from_toml(&text, Path::new("r.toml"))
            .expect_err("invalid")
            .to_string();
        assert!(e.contains("source[0].url: scheme \"ftp\""), "{e}");
        assert!(
            e.contains("source[0].organisation: no organisation with code \"9999\""),
            "{e}"
        );
    }

    #[test]
    fn schedules_time_zone_and_public_url_are_parsed_once() {
        let text = GOOD.replace(
            "name = \"Skåne\"",
            "name = \"Skåne\"\ntimezone = \"Europe/Helsinki\"\n\n[server]\npublic_url = \"https://data.skane.se/\"",
        ) + "schedule = \"15 3 * * 1-5\"\n";
        let c = Config::from_toml(&text, Path::new("r.toml")).expect("valid");
        assert_eq!(c.timezone, chrono_tz::Europe::Helsinki);
        assert_eq!(
            c.public_url.as_ref().map(url::Url::as_str),
            Some("https://data.skane.se/")
        );
        let schedule = &c.sources[0].schedule;
        assert_eq!(schedule.to_string(), "15 3 * * 1-5");
        // Five fields are crontab's: minute 15, hour 3, weekdays.
        let next = schedule
            .cron()
            .after(&chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).expect("epoch"))
            .next()
            .expect("a next time");
        assert_eq!(next.to_rfc3339(), "1970-01-01T03:15:00+00:00");

        let bad = text
            .replace("https://data.skane.se/", "ftp://data.skane.se")
            .replace("Europe/Helsinki", "Mars/Olympus")
            .replace("15 3 * * 1-5", "every night");
        let e = Config::from_toml(&bad, Path::new("r.toml"))
            .expect_err("invalid")
            .to_string();
        assert!(e.contains("server.public_url"), "{e}");
        assert!(e.contains("region.timezone"), "{e}");
        assert!(e.contains("source[0].schedule"), "{e}");
    }

    #[test]
    fn the_listening_address_and_trusted_proxies_are_parsed() {
        let with = |server: &str| {
            let text = GOOD.replacen(
                "[[organisation]]",
                &format!("[server]\n{server}\n\n[[organisation]]"),
                1,
            );
            Config::from_toml(&text, Path::new("r.toml"))
        };
        let c = with(
            "bind = \"0.0.0.0:8080\"\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\", \"::1\"]",
        )
        .expect("valid");
        assert_eq!(c.server.bind, Some("0.0.0.0:8080".parse().expect("addr")));
        let proxies: Vec<String> = c
            .server
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(proxies, ["10.0.0.0/8", "192.0.2.1/32", "::1/128"]);
        let e = with("bind = \"localhost\"\ntrusted_proxies = [\"10.0.0.0/33\"]")
            .expect_err("invalid")
            .to_string();
        assert!(
            e.contains("server.bind") && e.contains("server.trusted_proxies"),
            "{e}"
        );
    }
}
