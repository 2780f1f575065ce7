//! The simulated region: a deterministic, realistic set of municipal DCAT catalogs served
//! over HTTP on loopback, for the demo, the tests and the benchmarks.
//!
//! Every organisation of the region gets a catalog sized as in reality (the largest city a
//! few hundred datasets, most a dozen or two, a few none), drawn from the topics Swedish
//! municipalities publish. The catalogs use every RDF syntax, Hydra paging in its variants, a
//! sub-catalogue, blank nodes, Swedish and English literals, and realistic defects: a missing
//! licence, bad dates, a source that answers 500. The same organisations and size always give
//! byte-identical catalogs.
//!
//! Architecture invariant: this crate knows nothing of samla's model, harvester, store or
//! index; it only writes RDF, as a municipality's server would.

pub mod demand;
mod platforms;
pub mod topics;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use oxrdf::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use topics::{OTHER_TITLES, TOPICS, Topic, VARIANTS};

/// An organisation of the simulated region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOrganisation {
    /// Kommunkod.
    pub code: String,
    /// Official name.
    pub name: String,
    /// Short name.
    pub short_name: String,
    /// Organisation number, when known.
    pub orgnr: Option<String>,
    /// Web domain.
    pub domain: String,
}

impl SimOrganisation {
    /// The slug of the organisation in URLs and source ids (`Östra Göinge` → `ostra-goinge`).
    pub fn slug(&self) -> String {
        slug(&self.short_name)
    }
}

/// A URL-safe slug of a name.
pub fn slug(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| match c {
            'å' | 'ä' => 'a',
            'ö' => 'o',
            'é' => 'e',
            c if c.is_ascii_alphanumeric() => c,
            _ => '-',
        })
        .collect()
}

/// The RDF syntax a catalog is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Turtle.
    Turtle,
    /// RDF/XML.
    RdfXml,
    /// JSON-LD.
    JsonLd,
    /// N-Triples.
    NTriples,
}

impl Syntax {
    fn content_type(self) -> &'static str {
        match self {
            Syntax::Turtle => "text/turtle; charset=utf-8",
            Syntax::RdfXml => "application/rdf+xml",
            Syntax::JsonLd => "application/ld+json",
            Syntax::NTriples => "application/n-triples",
        }
    }
}

/// How a catalog pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `hydra:PartialCollectionView` with `hydra:next` as an IRI.
    PartialCollectionView,
    /// `hydra:PagedCollection` with the deprecated `hydra:nextPage` as a string literal.
    PagedCollectionLiteral,
    /// Both `hydra:next` and `hydra:nextPage`.
    Both,
}

/// The platform a simulated organisation publishes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// A DCAT file, Hydra-paged.
    Dcat,
    /// CKAN's Action API with the Civity DataPlatform's DCAT-AP-SE fields.
    Ckan,
    /// EntryScape: the EntryStore Solr search and the catalog export.
    Entryscape,
}

impl Platform {
    /// The protocol name in samla's configuration.
    pub fn protocol(self) -> &'static str {
        match self {
            Platform::Dcat => "dcat",
            Platform::Ckan => "ckan",
            Platform::Entryscape => "entryscape",
        }
    }
}

/// One organisation's catalog in the simulated region.
#[derive(Debug, Clone)]
pub struct SimCatalog {
    /// The organisation.
    pub organisation: SimOrganisation,
    /// The platform it publishes on.
    pub platform: Platform,
    /// Datasets it publishes.
    pub datasets: usize,
    /// Syntax.
    pub syntax: Syntax,
    /// Paging style.
    pub paging: Paging,
    /// Whether the server answers 500.
    pub broken: bool,
    /// Whether distributions, publisher and one dataset are blank nodes.
    pub blank_nodes: bool,
    /// Whether dates are malformed.
    pub bad_dates: bool,
    /// Whether licences are missing.
    pub no_licence: bool,
    /// Whether a third of the datasets sit in a sub-catalogue.
    pub sub_catalogue: bool,
}

/// A source of the simulated region, for the harvest configuration.
#[derive(Debug, Clone)]
pub struct SimSource {
    /// Code of the organisation.
    pub organisation_code: String,
    /// Source id (the organisation's slug).
    pub id: String,
    /// Path of the catalog on the simulator (`/malmo/datasets/dcat`, the CKAN site
    /// `/malmo/`, the EntryStore `/helsingborg/store/`).
    pub path: String,
    /// The protocol to harvest it with (`dcat`, `ckan`, `entryscape`).
    pub protocol: &'static str,
}

/// The simulated region.
#[derive(Debug)]
pub struct Simulator {
    catalogs: Vec<SimCatalog>,
    page_size: usize,
    failing: RwLock<HashSet<String>>,
    /// Rendered pages, at most [`PAGE_CACHE_BYTES`] of them.
    cache: Option<Mutex<PageCache>>,
    /// What a CKAN catalog lists, per catalog, for the current epoch.
    ckan_cache: PerEpoch<platforms::CkanIndex>,
    /// What an EntryStore holds, per catalog, for the current epoch.
    entry_cache: PerEpoch<platforms::EntryIndex>,
    /// The datasets each catalog publishes, per catalog, for the current epoch.
    indices_cache: PerEpoch<Vec<usize>>,
    epoch: AtomicU64,
    churn: f64,
    /// Where distribution links point: `None` for the organisations' own (unreachable)
    /// domains, or this simulator's base URL, which serves them (some broken).
    files: Option<String>,
}

/// A cache that keeps one epoch's value per key (a catalog): what the region was at an
/// earlier epoch is never asked for again.
type PerEpoch<V> = Mutex<HashMap<String, (u64, Arc<V>)>>;

/// The value for `key` at `epoch` in a cache that keeps one epoch per key, made with `make`
/// (outside the lock) when the key has none, or one of another epoch.
pub(crate) fn per_epoch<V>(
    cache: &PerEpoch<V>,
    key: &str,
    epoch: u64,
    make: impl FnOnce() -> V,
) -> Arc<V> {
    if let Some((e, hit)) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(key)
        && *e == epoch
    {
        return Arc::clone(hit);
    }
    let value = Arc::new(make());
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key.to_string(), (epoch, Arc::clone(&value)));
    value
}

/// Datasets of the embedded default region.
pub const DEFAULT_DATASETS: usize = 1000;
/// Datasets per page.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Share of datasets changed, added and removed per epoch by default.
pub const DEFAULT_CHURN: f64 = 0.06;

fn base_size(code: &str) -> usize {
    match code {
        "1280" => 320,
        "1283" => 90,
        "1281" => 75,
        "12" => 45,
        "1290" => 35,
        "1282" => 28,
        "1287" => 24,
        "1286" => 22,
        "1292" | "1293" => 20,
        "1275" | "1256" | "1272" => 0,
        other => 6 + (seed(other, 0, "size") % 15) as usize,
    }
}

/// How carefully an organisation describes its datasets: the platform municipalities and the
/// region carefully; of the others some leave out keywords, contact points and access
/// rights, and some publish the bare minimum (no keywords, themes, media types or licence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Care {
    Careful,
    Sloppy,
    Minimal,
}

fn care(code: &str) -> Care {
    if matches!(
        code,
        "12" | "1280" | "1281" | "1282" | "1283" | "1270" | "1290"
    ) {
        return Care::Careful;
    }
    match seed(code, 0, "care") % 3 {
        0 => Care::Careful,
        1 => Care::Sloppy,
        _ => Care::Minimal,
    }
}

fn seed(a: &str, i: usize, salt: &str) -> u64 {
    let d = Sha256::digest(format!("{a}\u{1}{i}\u{1}{salt}").as_bytes());
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

impl Simulator {
    /// A region of these organisations with about `datasets` datasets in all (the default
    /// region has [`DEFAULT_DATASETS`]); organisations that publish nothing stay empty.
    pub fn new(organisations: &[SimOrganisation], datasets: usize) -> Self {
        let total: usize = organisations
            .iter()
            .map(|o| base_size(&o.code))
            .sum::<usize>()
            .max(1);
        let catalogs = organisations
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let size = (base_size(&o.code) * datasets + total / 2) / total;
                SimCatalog {
                    organisation: o.clone(),
                    platform: match o.code.as_str() {
                        "1280" => Platform::Ckan,
                        "1283" | "1281" | "1270" | "12" | "1282" | "1290" => Platform::Entryscape,
                        _ => Platform::Dcat,
                    },
                    datasets: size,
                    syntax: match (o.code.as_str(), i % 7) {
                        ("1280", _) | ("12", _) => Syntax::Turtle,
                        ("1287", _) => Syntax::RdfXml,
                        (_, 4) => Syntax::RdfXml,
                        (_, 5) => Syntax::JsonLd,
                        (_, 6) => Syntax::NTriples,
                        _ => Syntax::Turtle,
                    },
                    paging: match i % 3 {
                        0 => Paging::PartialCollectionView,
                        1 => Paging::PagedCollectionLiteral,
                        _ => Paging::Both,
                    },
                    broken: o.code == "1273",
                    blank_nodes: o.code == "1285",
                    bad_dates: o.code == "1263",
                    no_licence: o.code == "1233",
                    sub_catalogue: o.code == "1287",
                }
            })
            .collect();
        Self {
            catalogs,
            page_size: DEFAULT_PAGE_SIZE,
            failing: RwLock::new(HashSet::new()),
            cache: Some(Mutex::new(PageCache::default())),
            ckan_cache: Mutex::new(HashMap::new()),
            entry_cache: Mutex::new(HashMap::new()),
            indices_cache: Mutex::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            churn: DEFAULT_CHURN,
            files: None,
        }
    }

    /// The same region with another share of datasets changed, added and removed (a third
    /// each) at every [`Simulator::advance`].
    pub fn with_churn(mut self, churn: f64) -> Self {
        self.churn = churn.clamp(0.0, 1.0);
        self
    }

    /// Points every distribution's access and download URL at this simulator (`base`, e.g.
    /// `http://127.0.0.1:8081`), which answers them: most with 200, about one in ten with
    /// 404, and every link of Bjuv's with 410 (a site that moved), so link checks have
    /// something to find.
    pub fn with_files_at(mut self, base: &str) -> Self {
        self.files = Some(base.trim_end_matches('/').to_string());
        self
    }

    /// The status the simulated web answers a distribution link with.
    pub fn link_status(org: &str, path: &str) -> u16 {
        if org == "bjuv" {
            410
        } else if seed(path, 0, "link").is_multiple_of(10) {
            404
        } else {
            200
        }
    }

    /// Moves the region on by one harvest interval: some datasets change, some are added,
    /// some removed, deterministically. Returns the new epoch.
    pub fn advance(&self) -> u64 {
        self.epoch.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The current epoch (0 at start).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// The datasets a catalog publishes at `epoch`, by index (computed once per epoch).
    pub fn indices(&self, c: &SimCatalog, epoch: u64) -> Arc<Vec<usize>> {
        per_epoch(&self.indices_cache, &c.organisation.code, epoch, || {
            self.compute_indices(c, epoch)
        })
    }

    fn compute_indices(&self, c: &SimCatalog, epoch: u64) -> Vec<usize> {
        let third = self.churn / 3.0;
        let code = &c.organisation.code;
        let removed = |i: usize| {
            let draw = (seed(code, i, "removed") % 10_000) as f64;
            draw < epoch as f64 * third * 10_000.0
        };
        let added = (c.datasets as f64 * third * epoch as f64).round() as usize;
        (0..c.datasets + added).filter(|&i| !removed(i)).collect()
    }

    /// When the platform last wrote dataset `i`'s record, as of `epoch`: its creation (an
    /// addition of a later epoch) or its last change, else a fixed time before the simulation
    /// (CKAN's `metadata_modified`, EntryStore's entry `modified`).
    pub fn record_modified(&self, c: &SimCatalog, i: usize, epoch: u64) -> String {
        let third = self.churn / 3.0;
        let added_at = if i < c.datasets {
            0
        } else {
            let j = (i - c.datasets) as f64;
            (1..=epoch)
                .find(|e| (c.datasets as f64 * third * *e as f64).round() > j)
                .unwrap_or(0)
        };
        let changed_at = (1..=epoch)
            .rev()
            .find(|k| {
                let draw = (seed(&c.organisation.code, i, &format!("changed{k}")) % 10_000) as f64;
                draw < third * 10_000.0
            })
            .unwrap_or(0);
        let start = chrono::NaiveDate::from_ymd_opt(2026, 10, 31)
            .unwrap_or_default()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        let at = match added_at.max(changed_at) {
            // Written some time in the two years before the simulation started.
            0 => {
                start
                    - chrono::Duration::minutes(
                        (seed(&c.organisation.code, i, "written") % 1_000_000) as i64 + 1,
                    )
            }
            k => start + chrono::Duration::days(k as i64),
        };
        at.format("%Y-%m-%dT%H:%M:%S").to_string()
    }

    /// How many times a dataset has changed by `epoch`.
    pub fn version(&self, c: &SimCatalog, i: usize, epoch: u64) -> u64 {
        let third = self.churn / 3.0;
        (1..=epoch)
            .filter(|k| {
                let draw = (seed(&c.organisation.code, i, &format!("changed{k}")) % 10_000) as f64;
                draw < third * 10_000.0
            })
            .count() as u64
    }

    /// The same region with another page size.
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// The same region keeping up to `bytes` of rendered pages (by default
    /// [`PAGE_CACHE_BYTES`]).
    pub fn with_page_cache(mut self, bytes: usize) -> Self {
        self.cache = Some(Mutex::new(PageCache {
            budget: bytes,
            ..PageCache::default()
        }));
        self
    }

    /// The same region without the page cache (pages are generated on every request).
    /// Pages are made on demand either way; the cache keeps recently served ones, up to
    /// [`PAGE_CACHE_BYTES`].
    pub fn without_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// The catalogs.
    pub fn catalogs(&self) -> &[SimCatalog] {
        &self.catalogs
    }

    /// Datasets in the whole region.
    pub fn dataset_count(&self) -> usize {
        self.catalogs.iter().map(|c| c.datasets).sum()
    }

    /// The harvest sources: one DCAT catalog per organisation.
    pub fn sources(&self) -> Vec<SimSource> {
        self.catalogs
            .iter()
            .map(|c| {
                let id = c.organisation.slug();
                SimSource {
                    organisation_code: c.organisation.code.clone(),
                    path: match c.platform {
                        Platform::Dcat => format!("/{id}/datasets/dcat"),
                        Platform::Ckan => format!("/{id}/"),
                        Platform::Entryscape => format!("/{id}/store/"),
                    },
                    protocol: c.platform.protocol(),
                    id,
                }
            })
            .collect()
    }

    /// The same region with every organisation on DCAT (benchmarks compare RDF parsers on
    /// the same bytes).
    pub fn dcat_only(mut self) -> Self {
        for c in &mut self.catalogs {
            c.platform = Platform::Dcat;
        }
        self
    }

    /// Every DCAT page the region serves now (paths with query, and their syntax), for
    /// benchmarks that fetch the same bytes as the harvester.
    pub fn page_paths(&self) -> Vec<(String, Syntax)> {
        let epoch = self.epoch();
        let mut paths = Vec::new();
        for c in self
            .catalogs
            .iter()
            .filter(|c| !c.broken && c.platform == Platform::Dcat)
        {
            let slug = c.organisation.slug();
            let (root, part) = self.split(c, epoch);
            for (len, path) in [
                (root.len(), format!("/{slug}/datasets/dcat")),
                (part.len(), format!("/{slug}/sub/miljo")),
            ] {
                if len == 0 && path.contains("/sub/") {
                    continue;
                }
                for page in 1..=len.div_ceil(self.page_size).max(1) {
                    paths.push((
                        if page == 1 {
                            path.clone()
                        } else {
                            format!("{path}?page={page}")
                        },
                        c.syntax,
                    ));
                }
            }
        }
        paths
    }

    /// Makes an organisation's server fail with 500 (or recover).
    pub fn set_failing(&self, slug: &str, failing: bool) {
        let mut set = self.failing.write().unwrap_or_else(|p| p.into_inner());
        if failing {
            set.insert(slug.to_string());
        } else {
            set.remove(slug);
        }
    }

    /// The datasets the simulated national portal lists at `epoch`: most of each catalog's
    /// (all of a failing catalog's, from before it broke), not one described as a blank node
    /// (the portal refuses them), one in ten of them stale (modified earlier than in the
    /// region); plus two of its own per publishing organisation that no regional catalog
    /// lists.
    pub fn national_listing(&self, epoch: u64) -> Vec<NationalEntry> {
        let mut listed = Vec::new();
        for (k, c) in self.catalogs.iter().enumerate() {
            if c.datasets == 0 {
                continue;
            }
            let code = &c.organisation.code;
            for &i in self.indices(c, epoch).iter() {
                let blank = c.blank_nodes && i == 0;
                let draw = seed(code, i, "national") % 100;
                if blank || (!c.broken && draw < NATIONAL_LACKS_PERCENT) {
                    continue;
                }
                listed.push(NationalEntry {
                    catalog: k,
                    i,
                    stale: draw >= 100 - NATIONAL_STALE_PERCENT,
                });
            }
            for extra in 0..2 {
                listed.push(NationalEntry {
                    catalog: k,
                    i: NATIONAL_ONLY_FROM + extra,
                    stale: false,
                });
            }
        }
        listed
    }

    /// The region's datasets at the current epoch that the national portal lacks, as
    /// (organisation code, `dcterms:identifier`, IRI — `None` for a blank node).
    pub fn national_lacks(&self) -> Vec<SimDataset> {
        let epoch = self.epoch();
        let listed: HashSet<(usize, usize)> = self
            .national_listing(epoch)
            .iter()
            .map(|e| (e.catalog, e.i))
            .collect();
        let mut lacks = Vec::new();
        for (k, c) in self.catalogs.iter().enumerate() {
            for &i in self.indices(c, epoch).iter() {
                if !listed.contains(&(k, i)) {
                    lacks.push(self.sim_dataset(c, i));
                }
            }
        }
        lacks
    }

    /// The datasets the national portal lists that a harvest of the region cannot find (its
    /// own, and those of a catalog that fails), and those it lists stale.
    pub fn national_only_and_stale(&self) -> (Vec<SimDataset>, Vec<SimDataset>) {
        let (mut only, mut stale) = (Vec::new(), Vec::new());
        for e in self.national_listing(self.epoch()) {
            let c = &self.catalogs[e.catalog];
            if e.i >= NATIONAL_ONLY_FROM || c.broken {
                only.push(self.sim_dataset(c, e.i));
            } else if e.stale {
                stale.push(self.sim_dataset(c, e.i));
            }
        }
        (only, stale)
    }

    fn sim_dataset(&self, c: &SimCatalog, i: usize) -> SimDataset {
        SimDataset {
            organisation_code: c.organisation.code.clone(),
            identifier: self.identifier(c, i),
            iri: (!(c.blank_nodes && i == 0)).then(|| {
                format!(
                    "https://{}/data/{}",
                    c.organisation.domain,
                    self.local_name(c, i)
                )
            }),
        }
    }

    /// One page of the national portal's DCAT catalog (Turtle, PartialCollectionView paging).
    pub fn render_national_page(&self, base: &str, page: usize) -> Option<Vec<u8>> {
        let listed = self.national_listing(self.epoch());
        let pages = listed.len().div_ceil(self.page_size).max(1);
        if page == 0 || page > pages {
            return None;
        }
        let path = format!("{base}/national/datasets/dcat");
        let catalog = NamedNode::new_unchecked("https://nationell.example/katalog#catalog");
        let mut triples = Vec::new();
        let mut g = Graph::default();
        g.iri(&catalog, RDF_TYPE, &format!("{DCAT}Catalog"));
        g.lit(
            &catalog,
            &format!("{DCT}title"),
            "Nationella dataportalen",
            Some("sv"),
        );
        if page < pages {
            let view = NamedNode::new_unchecked(if page == 1 {
                path.clone()
            } else {
                format!("{path}?page={page}")
            });
            g.iri(&view, RDF_TYPE, &format!("{HYDRA}PartialCollectionView"));
            g.iri(
                &view,
                &format!("{HYDRA}next"),
                &format!("{path}?page={}", page + 1),
            );
        }
        triples.append(&mut g.triples);
        let start = (page - 1) * self.page_size;
        for e in &listed[start..(start + self.page_size).min(listed.len())] {
            let c = &self.catalogs[e.catalog];
            // A graph per dataset: each describes its publisher, as a portal's export does.
            let mut g = Graph::default();
            let version = self.version(c, e.i, self.epoch());
            let dataset = self.dataset(c, e.i, version, &mut g);
            if e.stale {
                let modified = NamedNode::new_unchecked(format!("{DCT}modified"));
                for t in &mut g.triples {
                    if Term::from(t.subject.clone()) == dataset && t.predicate == modified {
                        t.object = Literal::new_typed_literal(
                            "2023-03-01T08:00:00",
                            NamedNode::new_unchecked(format!("{XSD}dateTime")),
                        )
                        .into();
                    }
                }
            }
            triples.append(&mut g.triples);
            triples.push(Triple::new(
                catalog.clone(),
                NamedNode::new_unchecked(format!("{DCAT}dataset")),
                dataset,
            ));
        }
        Some(serialize(&triples, Syntax::Turtle))
    }

    /// The HTTP routes.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/national/datasets/dcat", get(national_page))
            .route("/{org}/datasets/dcat", get(catalog_page))
            .route("/{org}/sub/{name}", get(sub_catalogue_page))
            .route(
                "/{org}/api/3/action/package_search",
                get(platforms::package_search),
            )
            .route(
                "/{org}/api/3/action/package_show",
                get(platforms::package_show),
            )
            .route("/{org}/store/search", get(platforms::entrystore_search))
            .route("/{org}/files/{name}", get(link))
            .route("/{org}/oppna-data/{name}", get(link))
            .route("/{org}/api/v1/{name}", get(link))
            .route(
                "/_simulator/advance",
                axum::routing::post(|State(sim): State<Arc<Simulator>>| async move {
                    format!("epoch {}\n", sim.advance())
                }),
            )
            .route(
                "/{org}/store/{context}/metadata/{entry}",
                get(platforms::entrystore_metadata),
            )
            .with_state(self)
    }

    fn catalog(&self, slug: &str) -> Option<&SimCatalog> {
        self.catalogs.iter().find(|c| c.organisation.slug() == slug)
    }

    fn is_failing(&self, catalog: &SimCatalog) -> bool {
        catalog.broken
            || self
                .failing
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&catalog.organisation.slug())
    }

    /// The datasets (indices) in the root catalog and in the sub-catalogue at `epoch`.
    fn split(&self, c: &SimCatalog, epoch: u64) -> (Vec<usize>, Vec<usize>) {
        let mut all = self.indices(c, epoch).as_ref().clone();
        if c.sub_catalogue {
            let part = all.split_off(all.len() * 2 / 3);
            (all, part)
        } else {
            (all, Vec::new())
        }
    }

    /// Renders one page of a catalog (`sub` for the sub-catalogue) at the current epoch.
    pub fn render_page(&self, c: &SimCatalog, base: &str, sub: bool, page: usize) -> Vec<u8> {
        let epoch = self.epoch();
        let (root, part) = self.split(c, epoch);
        let range = if sub { part } else { root };
        let slug = c.organisation.slug();
        let path = if sub {
            format!("{base}/{slug}/sub/miljo")
        } else {
            format!("{base}/{slug}/datasets/dcat")
        };
        let pages = range.len().div_ceil(self.page_size).max(1);
        let start = ((page - 1) * self.page_size).min(range.len());
        let end = (start + self.page_size).min(range.len());
        let page_url = if page == 1 {
            path.clone()
        } else {
            format!("{path}?page={page}")
        };

        let mut g = Graph::default();
        let catalog = NamedNode::new_unchecked(if sub {
            path.clone()
        } else {
            format!("https://{}/datasets/dcat#catalog", c.organisation.domain)
        });
        g.iri(&catalog, RDF_TYPE, &format!("{DCAT}Catalog"));
        g.lit(
            &catalog,
            &format!("{DCT}title"),
            &format!("{} – öppna data", c.organisation.name),
            Some("sv"),
        );
        g.lit(
            &catalog,
            &format!("{DCT}title"),
            &format!("{} – open data", c.organisation.short_name),
            Some("en"),
        );
        g.iri(
            &catalog,
            &format!("{DCT}publisher"),
            &publisher_iri(&c.organisation),
        );
        if c.sub_catalogue && !sub && page == 1 {
            g.iri(
                &catalog,
                &format!("{DCT}hasPart"),
                &format!("{base}/{slug}/sub/miljo"),
            );
        }
        for &i in &range[start..end] {
            let dataset = self.dataset(c, i, self.version(c, i, epoch), &mut g);
            g.push(Triple::new(
                catalog.clone(),
                NamedNode::new_unchecked(format!("{DCAT}dataset")),
                dataset,
            ));
        }
        if pages > 1 {
            let view = NamedNode::new_unchecked(page_url);
            let next = (page < pages).then(|| format!("{path}?page={}", page + 1));
            match c.paging {
                Paging::PartialCollectionView => {
                    g.iri(&view, RDF_TYPE, &format!("{HYDRA}PartialCollectionView"));
                    if let Some(n) = &next {
                        g.iri(&view, &format!("{HYDRA}next"), n);
                    }
                }
                Paging::PagedCollectionLiteral => {
                    g.iri(&view, RDF_TYPE, &format!("{HYDRA}PagedCollection"));
                    g.lit(
                        &view,
                        &format!("{HYDRA}totalItems"),
                        &range.len().to_string(),
                        None,
                    );
                    if let Some(n) = &next {
                        g.lit(&view, &format!("{HYDRA}nextPage"), n, None);
                    }
                }
                Paging::Both => {
                    g.iri(&view, RDF_TYPE, &format!("{HYDRA}PagedCollection"));
                    if let Some(n) = &next {
                        g.lit(&view, &format!("{HYDRA}next"), n, None);
                        g.lit(&view, &format!("{HYDRA}nextPage"), n, None);
                    }
                }
            }
        }
        serialize(&g.triples, c.syntax)
    }

    /// The topic dataset `i` of a catalog is about.
    fn topic(&self, c: &SimCatalog, i: usize) -> &'static Topic {
        &TOPICS[(i + seed(&c.organisation.code, 0, "offset") as usize) % TOPICS.len()]
    }

    /// The last segment of dataset `i`'s IRI (`badplatser-12`; a CKAN package's name).
    fn local_name(&self, c: &SimCatalog, i: usize) -> String {
        format!("{}-{i}", self.topic(c, i).slug)
    }

    /// Dataset `i`'s `dcterms:identifier`: a UUID on the platforms, else its local name.
    fn identifier(&self, c: &SimCatalog, i: usize) -> String {
        let code = c.organisation.code.as_str();
        if matches!(code, "1280" | "1283" | "1281" | "12") {
            uuid(code, i)
        } else {
            self.local_name(c, i)
        }
    }

    /// Writes dataset `i` of a catalog (at `version`) into `g`; returns its node.
    fn dataset(&self, c: &SimCatalog, i: usize, version: u64, g: &mut Graph) -> Term {
        let o = &c.organisation;
        let code = o.code.as_str();
        let topic: &Topic = self.topic(c, i);
        let round = i / TOPICS.len();
        let variant = (round > 0).then(|| VARIANTS[(round - 1) % VARIANTS.len()]);
        let serial = if round > VARIANTS.len() {
            format!(" {}", round / VARIANTS.len())
        } else {
            String::new()
        };
        let r = |salt: &str| seed(code, i, salt);
        let sv_tag = if r("lang") % 3 == 0 { "sv-SE" } else { "sv" };
        let https = r("https") % 4 == 0;
        let eu = |table: &str, code: &str| {
            let scheme = if https { "https" } else { "http" };
            format!("{scheme}://publications.europa.eu/resource/authority/{table}/{code}")
        };

        let local = self.local_name(c, i);
        let dataset: NamedOrBlankNode = if c.blank_nodes && i == 0 {
            BlankNode::new_unchecked(format!("ds{i}")).into()
        } else {
            NamedNode::new_unchecked(format!("https://{}/data/{local}", o.domain)).into()
        };
        let ds = &dataset;
        g.iri(ds, RDF_TYPE, &format!("{DCAT}Dataset"));
        g.lit(
            ds,
            &format!("{DCT}identifier"),
            &self.identifier(c, i),
            None,
        );
        let region_suffix = if code == "12" { " i Skåne" } else { "" };
        // Two datasets in five carry another title for the same data.
        let others = OTHER_TITLES
            .iter()
            .find(|(slug, _)| *slug == topic.slug)
            .map_or(&[][..], |(_, titles)| *titles);
        let base_title = match r("title") % 5 {
            n @ 0..=1 if !others.is_empty() => others[(n as usize + i) % others.len()],
            _ => topic.sv,
        };
        let title_sv = match variant {
            Some(v) => format!("{base_title}{region_suffix} – {v}{serial}"),
            None => format!("{base_title}{region_suffix}"),
        };
        g.lit(ds, &format!("{DCT}title"), &title_sv, Some(sv_tag));
        let revised = if version > 0 {
            format!(" Reviderad {version} gång(er).")
        } else {
            String::new()
        };
        g.lit(
            ds,
            &format!("{DCT}description"),
            &format!("{} Publicerad av {}.{revised}", topic.desc_sv, o.name),
            Some(sv_tag),
        );
        if i.is_multiple_of(2) {
            let title_en = match variant {
                Some(v) => format!("{} – {v}{serial}", topic.en),
                None => topic.en.to_string(),
            };
            g.lit(ds, &format!("{DCT}title"), &title_en, Some("en"));
            g.lit(
                ds,
                &format!("{DCT}description"),
                &format!("{} Published by {}.", topic.desc_en, o.short_name),
                Some("en"),
            );
        }
        let care = care(code);
        if care == Care::Careful || (care == Care::Sloppy && i.is_multiple_of(2)) {
            for k in topic.keywords {
                g.lit(ds, &format!("{DCAT}keyword"), k, Some(sv_tag));
            }
        }
        if care != Care::Minimal {
            for t in topic.themes {
                g.iri(ds, &format!("{DCAT}theme"), &eu("data-theme", t));
            }
        }
        if let Some(spec) = topic.spec {
            g.iri(ds, &format!("{DCT}conformsTo"), spec);
        }
        if let Some(hvd) = topic.hvd {
            g.iri(
                ds,
                "http://data.europa.eu/r5r/hvdCategory",
                &format!("http://data.europa.eu/bna/{hvd}"),
            );
            // The HVD regulation as applicable legislation: most careful publishers name
            // it, half the sloppy ones, none of the minimal.
            let names_it = match care {
                Care::Careful => i % 5 != 3,
                Care::Sloppy => i.is_multiple_of(2),
                Care::Minimal => false,
            };
            if names_it {
                g.iri(
                    ds,
                    "http://data.europa.eu/r5r/applicableLegislation",
                    "http://data.europa.eu/eli/reg_impl/2023/138/oj",
                );
            }
        }
        g.iri(
            ds,
            &format!("{DCT}accrualPeriodicity"),
            &eu("frequency", topic.frequency),
        );
        if care == Care::Careful {
            g.iri(
                ds,
                &format!("{DCT}accessRights"),
                &eu("access-right", "PUBLIC"),
            );
        }
        g.iri(
            ds,
            &format!("{DCAT}landingPage"),
            &format!("https://{}/oppna-data/{local}", o.domain),
        );
        if code == "12" {
            g.iri(
                ds,
                &format!("{DCT}spatial"),
                "http://publications.europa.eu/resource/authority/atu/SWE_SE044",
            );
        }
        if code == "1280" {
            // A property samla's model does not know: kept and re-exported.
            g.lit(
                ds,
                "https://malmo.se/ns/dataplattform#internt-id",
                &format!("MS-{i:05}"),
                None,
            );
        }

        // Dates: 2019–2023 issued, modified within the last three years.
        let year = 2019 + (r("issued") % 5);
        let issued = format!("{year}-{:02}-{:02}", 1 + r("im") % 12, 1 + r("id") % 28);
        let modified = if version > 0 {
            // A revision is newer than anything published before the simulation started.
            format!("2026-12-{:02}T{:02}:00:00", version.min(28), r("mh") % 24)
        } else {
            format!(
                "{}-{:02}-{:02}T{:02}:00:00",
                2024 + r("my") % 3,
                1 + r("mm") % 11,
                1 + r("md") % 28,
                r("mh") % 24
            )
        };
        if c.bad_dates && i.is_multiple_of(3) {
            g.lit(ds, &format!("{DCT}issued"), "igår", None);
            g.lit(ds, &format!("{DCT}modified"), "2021-13-45", None);
        } else {
            g.typed(ds, &format!("{DCT}issued"), &issued, &format!("{XSD}date"));
            g.typed(
                ds,
                &format!("{DCT}modified"),
                &modified,
                &format!("{XSD}dateTime"),
            );
        }

        // Publisher and contact point.
        let publisher: NamedOrBlankNode = if c.blank_nodes {
            BlankNode::new_unchecked("publisher").into()
        } else {
            NamedNode::new_unchecked(publisher_iri(o)).into()
        };
        g.push(Triple::new(
            ds.clone(),
            NamedNode::new_unchecked(format!("{DCT}publisher")),
            publisher.clone(),
        ));
        let contact = NamedNode::new_unchecked(format!("https://{}/#kontakt", o.domain));
        if care == Care::Careful {
            g.iri(ds, &format!("{DCAT}contactPoint"), contact.as_str());
        }
        // The shared nodes are described once per page, as a serialiser would.
        if !g.described_shared {
            g.described_shared = true;
            g.iri(&publisher, RDF_TYPE, &format!("{FOAF}Organization"));
            g.lit(&publisher, &format!("{FOAF}name"), &o.name, None);
            g.iri(&contact, RDF_TYPE, &format!("{VCARD}Organization"));
            let name = format!("{} kontaktcenter", o.short_name);
            g.lit(&contact, &format!("{VCARD}fn"), &name, Some("sv"));
            let email = format!("mailto:oppnadata@{}", o.domain);
            g.iri(&contact, &format!("{VCARD}hasEmail"), &email);
        }

        // Distributions.
        let licence = match (c.no_licence || i % 9 == 4, r("lic") % 10) {
            (true, _) => None,
            (false, 0..=2) => Some("http://creativecommons.org/publicdomain/zero/1.0/"),
            (false, 3 | 4) => Some("https://creativecommons.org/licenses/by/4.0"),
            // Some publishers keep commercial reuse to themselves.
            (false, 5) => Some("http://creativecommons.org/licenses/by-nc/4.0/"),
            _ => Some("http://creativecommons.org/licenses/by/4.0/"),
        };
        // A few datasets are sold: a fee declared as DCAT-AP-SE does (schema:offers).
        if i % 13 == 6 {
            let offer = BlankNode::new_unchecked(format!("offer{i}"));
            g.push(Triple::new(
                ds.clone(),
                NamedNode::new_unchecked("http://schema.org/offers"),
                offer.clone(),
            ));
            g.iri(&offer, RDF_TYPE, "http://schema.org/Offer");
            g.lit(
                &offer,
                "http://schema.org/description",
                "Avgift enligt kommunens taxa för utlämnande av data.",
                Some("sv"),
            );
        }
        // A dataset of one year, or of the years before, covers that period.
        // Some datasets cover a year, some run on from a start, the historic ones the years
        // before.
        let period: Option<(String, Option<String>)> = match (variant, i % 8) {
            (Some("historik"), _) => Some(("2000-01-01".into(), Some("2018-12-31".into()))),
            (_, 1 | 5) => {
                let year = 2019 + r("period") % 7;
                Some((format!("{year}-01-01"), Some(format!("{year}-12-31"))))
            }
            (_, 3) => Some(("2015-01-01".into(), None)),
            _ => None,
        };
        if let Some((start, end)) = period {
            let t = BlankNode::new_unchecked(format!("period{i}"));
            g.push(Triple::new(
                ds.clone(),
                NamedNode::new_unchecked(format!("{DCT}temporal")),
                t.clone(),
            ));
            g.iri(&t, RDF_TYPE, &format!("{DCT}PeriodOfTime"));
            g.typed(
                &t,
                &format!("{DCAT}startDate"),
                &start,
                &format!("{XSD}date"),
            );
            if let Some(end) = end {
                g.typed(&t, &format!("{DCAT}endDate"), &end, &format!("{XSD}date"));
            }
        }
        let kinds: &[(&str, &str, &str)] = match r("dist") % 3 {
            0 => &[(
                "csv",
                "http://publications.europa.eu/resource/authority/file-type/CSV",
                "text/csv",
            )],
            1 => &[
                (
                    "csv",
                    "http://publications.europa.eu/resource/authority/file-type/CSV",
                    "text/csv",
                ),
                ("geojson", "GeoJSON", "application/geo+json"),
            ],
            _ => &[
                (
                    "csv",
                    "http://publications.europa.eu/resource/authority/file-type/CSV",
                    "text/csv",
                ),
                (
                    "json",
                    "http://publications.europa.eu/resource/authority/file-type/JSON",
                    "application/json",
                ),
                (
                    "xlsx",
                    "XLSX",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                ("api", "JSON", "application/json"),
            ],
        };
        for (j, (ext, format, media)) in kinds.iter().enumerate() {
            let dist: NamedOrBlankNode = if c.blank_nodes {
                BlankNode::new_unchecked(format!("d{i}x{j}")).into()
            } else {
                NamedNode::new_unchecked(format!(
                    "https://{}/data/{local}/distribution/{ext}",
                    o.domain
                ))
                .into()
            };
            g.push(Triple::new(
                ds.clone(),
                NamedNode::new_unchecked(format!("{DCAT}distribution")),
                dist.clone(),
            ));
            g.iri(&dist, RDF_TYPE, &format!("{DCAT}Distribution"));
            g.lit(
                &dist,
                &format!("{DCT}title"),
                &format!("{} ({})", topic.sv, ext.to_uppercase()),
                Some("sv"),
            );
            let site = match &self.files {
                Some(base) => format!("{base}/{}", o.slug()),
                None => format!("https://{}", o.domain),
            };
            let file = format!("{site}/files/{local}.{ext}");
            if *ext == "api" {
                let api = match &self.files {
                    Some(_) => format!("{site}/api/v1/{}", topic.slug),
                    None => format!("https://api.{}/v1/{}", o.domain, topic.slug),
                };
                g.iri(&dist, &format!("{DCAT}accessURL"), &api);
            } else {
                g.iri(
                    &dist,
                    &format!("{DCAT}accessURL"),
                    &format!("{site}/oppna-data/{local}"),
                );
                g.iri(&dist, &format!("{DCAT}downloadURL"), &file);
            }
            if format.starts_with("http") {
                g.iri(&dist, &format!("{DCT}format"), format);
            } else {
                g.lit(&dist, &format!("{DCT}format"), format, None);
            }
            if care != Care::Minimal {
                g.iri(
                    &dist,
                    &format!("{DCAT}mediaType"),
                    &format!("https://www.iana.org/assignments/media-types/{media}"),
                );
            }
            if let Some(l) = licence.filter(|_| care != Care::Minimal) {
                g.iri(&dist, &format!("{DCT}license"), l);
            }
        }
        match dataset {
            NamedOrBlankNode::NamedNode(n) => n.into(),
            NamedOrBlankNode::BlankNode(b) => b.into(),
        }
    }
}

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const DCAT: &str = "http://www.w3.org/ns/dcat#";
const DCT: &str = "http://purl.org/dc/terms/";
const FOAF: &str = "http://xmlns.com/foaf/0.1/";
const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";
const XSD: &str = "http://www.w3.org/2001/XMLSchema#";

/// Of each catalog's datasets, the share in hundredths the national portal lacks.
const NATIONAL_LACKS_PERCENT: u64 = 8;
/// Of those it lists, the share it lists stale.
const NATIONAL_STALE_PERCENT: u64 = 10;
/// Dataset numbers from here on are the national portal's own.
const NATIONAL_ONLY_FROM: usize = 900_000;

/// A dataset the national portal lists: which catalog's, which one, whether stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NationalEntry {
    /// The catalog (its place in [`Simulator::catalogs`]).
    pub catalog: usize,
    /// The dataset's number.
    pub i: usize,
    /// Listed with an older modification date than the region's.
    pub stale: bool,
}

/// A simulated dataset as a harvester identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimDataset {
    /// Its organisation.
    pub organisation_code: String,
    /// Its `dcterms:identifier`.
    pub identifier: String,
    /// Its IRI (`None`: a blank node).
    pub iri: Option<String>,
}

fn publisher_iri(o: &SimOrganisation) -> String {
    match &o.orgnr {
        Some(nr) => format!("http://dataportal.se/organisation/SE{nr}"),
        None => format!("https://{}/#organisation", o.domain),
    }
}

fn uuid(code: &str, i: usize) -> String {
    let h = format!(
        "{:016x}{:016x}",
        seed(code, i, "uuid-a"),
        seed(code, i, "uuid-b")
    );
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

#[derive(Default)]
struct Graph {
    triples: Vec<Triple>,
    described_shared: bool,
}

impl Graph {
    fn push(&mut self, t: Triple) {
        self.triples.push(t);
    }
    fn iri(&mut self, s: &(impl Clone + Into<NamedOrBlankNode>), p: &str, o: &str) {
        self.triples.push(Triple::new(
            s.clone(),
            NamedNode::new_unchecked(p),
            NamedNode::new_unchecked(o),
        ));
    }
    fn lit(
        &mut self,
        s: &(impl Clone + Into<NamedOrBlankNode>),
        p: &str,
        o: &str,
        lang: Option<&str>,
    ) {
        let literal = match lang {
            Some(l) => Literal::new_language_tagged_literal_unchecked(o, l.to_ascii_lowercase()),
            None => Literal::new_simple_literal(o),
        };
        self.triples
            .push(Triple::new(s.clone(), NamedNode::new_unchecked(p), literal));
    }
    fn typed(
        &mut self,
        s: &(impl Clone + Into<NamedOrBlankNode>),
        p: &str,
        o: &str,
        datatype: &str,
    ) {
        self.triples.push(Triple::new(
            s.clone(),
            NamedNode::new_unchecked(p),
            Literal::new_typed_literal(o, NamedNode::new_unchecked(datatype)),
        ));
    }
}

fn serialize(triples: &[Triple], syntax: Syntax) -> Vec<u8> {
    let prefixes = [
        ("dcat", DCAT),
        ("dcterms", DCT),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("hydra", HYDRA),
    ];
    // Writing into a Vec cannot fail; the prefixes are valid IRIs.
    match syntax {
        Syntax::Turtle => {
            let mut s = oxttl::TurtleSerializer::new();
            for (p, iri) in prefixes {
                s = s
                    .with_prefix(p, iri)
                    .expect("prefix names and namespace IRIs are constants and valid");
            }
            let mut w = s.for_writer(Vec::new());
            triples.iter().for_each(|t| drop(w.serialize_triple(t)));
            w.finish().unwrap_or_default()
        }
        Syntax::NTriples => {
            let mut w = oxttl::NTriplesSerializer::new().for_writer(Vec::new());
            triples.iter().for_each(|t| drop(w.serialize_triple(t)));
            w.finish()
        }
        Syntax::RdfXml => {
            let mut s = oxrdfxml::RdfXmlSerializer::new();
            for (p, iri) in prefixes {
                s = s
                    .with_prefix(p, iri)
                    .expect("prefix names and namespace IRIs are constants and valid");
            }
            let mut w = s.for_writer(Vec::new());
            triples.iter().for_each(|t| drop(w.serialize_triple(t)));
            w.finish().unwrap_or_default()
        }
        Syntax::JsonLd => {
            let mut s = oxjsonld::JsonLdSerializer::new();
            for (p, iri) in prefixes {
                s = s
                    .with_prefix(p, iri)
                    .expect("prefix names and namespace IRIs are constants and valid");
            }
            let mut w = s.for_writer(Vec::new());
            triples.iter().for_each(|t| {
                drop(w.serialize_quad(t.as_ref().in_graph(oxrdf::GraphNameRef::DefaultGraph)))
            });
            w.finish().unwrap_or_default()
        }
    }
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<usize>,
}

fn base_url(headers: &axum::http::HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// A distribution link: a small body with the status [`Simulator::link_status`] gives.
async fn link(
    Path((org, _)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> (StatusCode, &'static str) {
    let status = Simulator::link_status(&org, uri.path());
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        if status == 200 { "data\n" } else { "gone\n" },
    )
}

async fn national_page(
    State(sim): State<Arc<Simulator>>,
    Query(q): Query<PageQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let base = base_url(&headers);
    let page = q.page.unwrap_or(1);
    let sim2 = Arc::clone(&sim);
    match tokio::task::spawn_blocking(move || sim2.render_national_page(&base, page)).await {
        Ok(Some(body)) => (
            [(
                axum::http::header::CONTENT_TYPE,
                Syntax::Turtle.content_type(),
            )],
            body,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such page").into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response(),
    }
}

async fn catalog_page(
    State(sim): State<Arc<Simulator>>,
    Path(org): Path<String>,
    Query(q): Query<PageQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    serve_page(
        &sim,
        &org,
        false,
        q.page.unwrap_or(1),
        &base_url(&headers),
        &headers,
    )
    .await
}

async fn sub_catalogue_page(
    State(sim): State<Arc<Simulator>>,
    Path((org, name)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    if name != "miljo" {
        return (StatusCode::NOT_FOUND, "no such sub-catalogue").into_response();
    }
    serve_page(
        &sim,
        &org,
        true,
        q.page.unwrap_or(1),
        &base_url(&headers),
        &headers,
    )
    .await
}

async fn serve_page(
    sim: &Arc<Simulator>,
    org: &str,
    sub: bool,
    page: usize,
    base: &str,
    request: &axum::http::HeaderMap,
) -> Response {
    let Some(catalog) = sim.catalog(org).filter(|c| c.platform == Platform::Dcat) else {
        return (StatusCode::NOT_FOUND, "no such catalog").into_response();
    };
    if sim.is_failing(catalog) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    let epoch = sim.epoch();
    let (root, part) = sim.split(catalog, epoch);
    let len = if sub { part.len() } else { root.len() };
    if (sub && len == 0) || page == 0 || page > len.div_ceil(sim.page_size).max(1) {
        return (StatusCode::NOT_FOUND, "no such page").into_response();
    }
    let content_type = catalog.syntax.content_type();
    let key = format!("{base}|{org}|{sub}|{page}|{epoch}");
    let (sim2, catalog, base2) = (Arc::clone(sim), catalog.clone(), base.to_string());
    let rendered = sim
        .cached(key, move || sim2.render_page(&catalog, &base2, sub, page))
        .await;
    match rendered {
        Some((body, etag)) => conditional(request, content_type, body, &etag, epoch),
        None => (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response(),
    }
}

impl Simulator {
    /// A rendered body and its ETag from the page cache, rendering it on a blocking thread
    /// when it is not there.
    async fn cached(
        &self,
        key: String,
        render: impl FnOnce() -> Vec<u8> + Send + 'static,
    ) -> Option<(Bytes, String)> {
        if let Some(cache) = &self.cache
            && let Some(hit) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
        {
            return Some(hit);
        }
        let body = Bytes::from(tokio::task::spawn_blocking(render).await.ok()?);
        let etag = format!("\"{}\"", &platforms::hex_digest(&body)[..20]);
        if let Some(cache) = &self.cache {
            cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, (body.clone(), etag.clone()));
        }
        Some((body, etag))
    }
}

/// Bytes of rendered pages the simulator keeps by default: a page is made again when asked
/// for after this much else was served (the region is deterministic, so it comes out the
/// same), so a region of millions stays small. Benchmarks keep every page
/// ([`Simulator::with_page_cache`]): making pages is the server's work, not the harvest's.
pub const PAGE_CACHE_BYTES: usize = 64 << 20;

/// Rendered pages and their ETags, the oldest dropped first past `budget` bytes.
#[derive(Debug)]
struct PageCache {
    pages: HashMap<String, (Bytes, String)>,
    order: std::collections::VecDeque<String>,
    bytes: usize,
    budget: usize,
}

impl Default for PageCache {
    fn default() -> Self {
        Self {
            pages: HashMap::new(),
            order: std::collections::VecDeque::new(),
            bytes: 0,
            budget: PAGE_CACHE_BYTES,
        }
    }
}

impl PageCache {
    fn get(&self, key: &str) -> Option<(Bytes, String)> {
        self.pages.get(key).cloned()
    }

    fn insert(&mut self, key: String, page: (Bytes, String)) {
        if page.0.len() > self.budget {
            return;
        }
        self.bytes += page.0.len();
        if let Some(old) = self.pages.insert(key.clone(), page) {
            self.bytes -= old.0.len();
        } else {
            self.order.push_back(key);
        }
        while self.bytes > self.budget {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(old) = self.pages.remove(&oldest) {
                self.bytes -= old.0.len();
            }
        }
    }
}

/// The HTTP date the region last changed at `epoch`.
fn last_modified(epoch: u64) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
        .unwrap_or_default()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    (start + chrono::Duration::days(epoch as i64))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// A 200 with `ETag` and `Last-Modified`, or a 304 when the request's validators match.
fn conditional(
    request: &axum::http::HeaderMap,
    content_type: &'static str,
    body: Bytes,
    etag: &str,
    epoch: u64,
) -> Response {
    let modified = last_modified(epoch);
    let header_is = |name, value: &str| {
        request
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').any(|t| t.trim() == value || t.trim() == "*"))
    };
    let not_modified = match header_is(header::IF_NONE_MATCH, etag) {
        Some(matches) => matches,
        None => header_is(header::IF_MODIFIED_SINCE, &modified).unwrap_or(false),
    };
    let validators = [
        (header::ETAG, etag.to_string()),
        (header::LAST_MODIFIED, modified),
    ];
    if not_modified {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    (
        validators,
        [(header::CONTENT_TYPE, content_type.to_string())],
        body,
    )
        .into_response()
}
