//! The simulated region's other platforms: a CKAN Action API with the Civity DataPlatform's
//! DCAT-AP-SE fields (Malmö), and EntryScape's EntryStore (search and catalog export).
//!
//! Both are written from the same dataset descriptions as the DCAT catalogs, the way these
//! platforms hold them: CKAN as package dicts, EntryStore as one entry per resource with its
//! metadata in RDF/JSON.

use crate::{
    DCAT, DCT, Graph, Platform, RDF_TYPE, SimCatalog, Simulator, Syntax, VCARD, base_url,
    conditional, per_epoch, serialize,
};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oxrdf::{NamedNode, NamedOrBlankNode, Term, Triple};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Hex SHA-256 of bytes.
pub(crate) fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One dataset a catalog lists: one of its own, or one it republishes from another
/// organisation's catalog (`origin` is the index of the catalog that describes it).
#[derive(Debug, Clone, Copy)]
struct Item {
    origin: usize,
    i: usize,
    republished: bool,
}

/// A CKAN catalog at one epoch, as little as it takes to answer any page: each package's id,
/// `metadata_modified` and the dataset it is made from, in id order. Packages are written when
/// a page asks for them.
#[derive(Debug)]
pub(crate) struct CkanIndex {
    rows: Vec<(Box<str>, Box<str>, Item)>,
}

/// An EntryStore at one epoch, as little as it takes to answer any search page: each entry's
/// dataset, its place among that dataset's resources and its types, in creation order; the
/// shared entries (publishers, contact points) at the end, whole. Entries are written when a
/// page asks for them.
#[derive(Debug)]
pub(crate) struct EntryIndex {
    /// The datasets and when each was last written.
    items: Vec<(Item, Box<str>)>,
    /// (item, resource number within the item's graph, types as bits of `types`); an item
    /// of `u32::MAX` is shared entry `resource`.
    entries: Vec<(u32, u16, u16)>,
    /// The rdf:types met, for the bits.
    types: Vec<String>,
    /// The shared entries: subject, triples, modified.
    shared: Vec<(String, Vec<Triple>, String)>,
    /// Entries matching each search query seen, by position.
    matches: std::sync::Mutex<HashMap<String, Arc<Vec<u32>>>>,
}

impl EntryIndex {
    /// The entries a search query selects: public, of a type the query names.
    fn matching(&self, query: &str) -> Arc<Vec<u32>> {
        let mut cache = self.matches.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = cache.get(query) {
            return Arc::clone(hit);
        }
        let public = query.contains("public:true");
        let named: u16 = self
            .types
            .iter()
            .enumerate()
            .filter(|(_, t)| query.contains(&t.replace(':', "\\:").replace('/', "\\/")))
            .fold(0, |bits, (k, _)| bits | 1 << k);
        let list: Vec<u32> = (0..self.entries.len() as u32)
            .filter(|&n| public && self.entries[n as usize].2 & named != 0)
            .collect();
        let list = Arc::new(list);
        cache.insert(query.to_string(), Arc::clone(&list));
        list
    }

    fn modified(&self, n: u32) -> &str {
        match self.entries[n as usize] {
            (u32::MAX, k, _) => &self.shared[k as usize].2,
            (item, _, _) => &self.items[item as usize].1,
        }
    }
}

/// Datasets Region Skåne republishes from municipal catalogs: (kommunkod, how many).
const REPUBLISHED: &[(&str, usize)] = &[("1283", 3), ("1281", 2)];

/// The shared nodes of a catalog's datasets (publishers, contact points), each triple once,
/// by subject: every dataset's graph describes them again.
#[derive(Default)]
struct SharedNodes(BTreeMap<String, Vec<Triple>>);

impl SharedNodes {
    fn add(&mut self, triples: Vec<Triple>) {
        for t in triples {
            let list = self.0.entry(subject_str(&t.subject)).or_default();
            if !list.contains(&t) {
                list.push(t);
            }
        }
    }
}

/// A dataset's own triples by resource (subject), as an EntryStore makes entries of them.
type Resources = Vec<(String, Vec<Triple>)>;

/// A dataset's graph as a platform holds it: its node, its own triples, and the triples of
/// the publisher and contact point it shares with the catalog's other datasets.
struct ItemGraph {
    node: Term,
    own: Vec<Triple>,
    shared: Vec<Triple>,
}

impl ItemGraph {
    /// Its own triples by subject: the dataset first, then its other resources (its
    /// distributions), as they were created.
    /// A blank node (a fee, a period) is described in the metadata of the resource that
    /// refers to it, as an EntryStore keeps it, not as an entry of its own.
    fn resources(&self) -> Vec<(String, Vec<&Triple>)> {
        let holder = |t: &Triple| -> String {
            if let NamedOrBlankNode::BlankNode(b) = &t.subject
                && let Some(referrer) = self
                    .own
                    .iter()
                    .find(|r| matches!(&r.object, Term::BlankNode(o) if o == b))
                && !matches!(referrer.subject, NamedOrBlankNode::BlankNode(_))
            {
                return subject_str(&referrer.subject);
            }
            subject_str(&t.subject)
        };
        let mut by_subject: BTreeMap<String, Vec<&Triple>> = BTreeMap::new();
        for t in &self.own {
            by_subject.entry(holder(t)).or_default().push(t);
        }
        let first = term_str(&self.node);
        let mut resources: Vec<(String, Vec<&Triple>)> = by_subject.into_iter().collect();
        resources.sort_by_key(|(s, _)| (*s != first, s.clone()));
        resources
    }
}

impl Simulator {
    /// The datasets a catalog lists at `epoch`: its own, then those it republishes.
    fn items(&self, c: &SimCatalog, epoch: u64) -> Vec<Item> {
        let origin = self.position(c);
        let mut items: Vec<Item> = self
            .indices(c, epoch)
            .iter()
            .map(|&i| Item {
                origin,
                i,
                republished: false,
            })
            .collect();
        if c.organisation.code == "12" {
            for (code, n) in REPUBLISHED {
                if let Some(origin) = self
                    .catalogs
                    .iter()
                    .position(|o| o.organisation.code == *code)
                {
                    items.extend((0..(*n).min(self.catalogs[origin].datasets)).map(|i| Item {
                        origin,
                        i,
                        republished: true,
                    }));
                }
            }
        }
        items
    }

    fn position(&self, c: &SimCatalog) -> usize {
        self.catalogs
            .iter()
            .position(|o| o.organisation.code == c.organisation.code)
            .unwrap_or(0)
    }

    /// One listed dataset's graph at `epoch`.
    fn item_graph(&self, item: Item, epoch: u64) -> ItemGraph {
        let origin = &self.catalogs[item.origin];
        let mut g = Graph::default();
        let node = self.dataset(origin, item.i, self.version(origin, item.i, epoch), &mut g);
        if item.republished {
            g.lit(
                &as_subject(&node),
                &format!("{DCAT}keyword"),
                "regional samling",
                Some("sv"),
            );
        }
        let (own, shared) = g
            .triples
            .into_iter()
            .partition(|t| !is_shared(t, &origin.organisation.domain));
        ItemGraph { node, own, shared }
    }

    fn item_modified(&self, item: Item, epoch: u64) -> String {
        self.record_modified(&self.catalogs[item.origin], item.i, epoch)
    }

    /// The CKAN catalog's packages at the current epoch, in id order (built once an epoch).
    pub(crate) fn ckan_index(&self, c: &SimCatalog) -> Arc<CkanIndex> {
        let epoch = self.epoch();
        per_epoch(&self.ckan_cache, &c.organisation.code, epoch, || {
            let mut rows: Vec<(Box<str>, Box<str>, Item)> = self
                .items(c, epoch)
                .into_iter()
                .map(|item| {
                    let origin = &self.catalogs[item.origin];
                    (
                        self.identifier(origin, item.i).into_boxed_str(),
                        self.item_modified(item, epoch).into_boxed_str(),
                        item,
                    )
                })
                .collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            CkanIndex { rows }
        })
    }

    /// The package of a listed dataset at `epoch`.
    fn package_of(&self, c: &SimCatalog, item: Item, epoch: u64) -> Option<Value> {
        let graph = self.item_graph(item, epoch);
        package(&graph.node, &graph.own, c, &self.item_modified(item, epoch)).map(|p| p.2)
    }

    /// The EntryStore's entries at the current epoch (built once an epoch: every dataset's
    /// graph is made once to count its resources).
    pub(crate) fn entry_index(&self, c: &SimCatalog) -> Arc<EntryIndex> {
        let epoch = self.epoch();
        per_epoch(&self.entry_cache, &c.organisation.code, epoch, || {
            let mut index = EntryIndex {
                items: Vec::new(),
                entries: Vec::new(),
                types: Vec::new(),
                shared: Vec::new(),
                matches: std::sync::Mutex::new(HashMap::new()),
            };
            let type_bit = |index: &mut EntryIndex, t: String| -> u16 {
                let k = match index.types.iter().position(|known| *known == t) {
                    Some(k) => k,
                    None => {
                        index.types.push(t);
                        index.types.len() - 1
                    }
                };
                // Sixteen kinds of resource at most: more are not told apart by type.
                1u16.checked_shl(k as u32).unwrap_or(0)
            };
            let mut shared = SharedNodes::default();
            for item in self.items(c, epoch) {
                let graph = self.item_graph(item, epoch);
                let n = index.items.len() as u32;
                for (k, (_, triples)) in graph.resources().iter().enumerate() {
                    let types = triples
                        .iter()
                        .filter(|t| t.predicate.as_str() == RDF_TYPE)
                        .fold(0, |bits, t| bits | type_bit(&mut index, text(&t.object)));
                    index.entries.push((n, k as u16, types));
                }
                index
                    .items
                    .push((item, self.item_modified(item, epoch).into_boxed_str()));
                shared.add(graph.shared);
            }
            let modified = self.record_modified(c, 0, 0);
            for (k, (subject, triples)) in shared.0.into_iter().enumerate() {
                let types = triples
                    .iter()
                    .filter(|t| t.predicate.as_str() == RDF_TYPE)
                    .fold(0, |bits, t| bits | type_bit(&mut index, text(&t.object)));
                index.entries.push((u32::MAX, k as u16, types));
                index.shared.push((subject, triples, modified.clone()));
            }
            index
        })
    }

    /// Every triple of a catalog's datasets at the current epoch, for its export: each
    /// dataset's own, then the shared nodes once.
    fn catalog_triples(&self, c: &SimCatalog) -> Vec<Triple> {
        let epoch = self.epoch();
        let mut triples = Vec::new();
        let mut shared = SharedNodes::default();
        for item in self.items(c, epoch) {
            let graph = self.item_graph(item, epoch);
            triples.extend(graph.own);
            shared.add(graph.shared);
        }
        triples.extend(shared.0.into_values().flatten());
        triples
    }
}

fn as_subject(t: &Term) -> NamedOrBlankNode {
    match t {
        Term::NamedNode(n) => n.clone().into(),
        Term::BlankNode(b) => b.clone().into(),
        _ => NamedNode::new_unchecked("urn:invalid").into(),
    }
}

fn subject_str(s: &NamedOrBlankNode) -> String {
    match s {
        NamedOrBlankNode::NamedNode(n) => n.as_str().to_string(),
        NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
    }
}

fn term_str(t: &Term) -> String {
    match t {
        Term::NamedNode(n) => n.as_str().to_string(),
        Term::BlankNode(b) => format!("_:{}", b.as_str()),
        other => other.to_string(),
    }
}

/// Whether a triple describes an organisation's shared publisher or contact point.
fn is_shared(t: &Triple, domain: &str) -> bool {
    let s = subject_str(&t.subject);
    s.starts_with("http://dataportal.se/organisation/")
        || s == format!("https://{domain}/#organisation")
        || s == format!("https://{domain}/#kontakt")
}

/// The values of `p` on `s`.
fn values<'a>(triples: &'a [Triple], s: &str, p: &str) -> Vec<&'a Term> {
    triples
        .iter()
        .filter(|t| subject_str(&t.subject) == s && t.predicate.as_str() == p)
        .map(|t| &t.object)
        .collect()
}

fn text(t: &Term) -> String {
    match t {
        Term::NamedNode(n) => n.as_str().to_string(),
        Term::Literal(l) => l.value().to_string(),
        other => other.to_string(),
    }
}

fn lang_text(triples: &[Triple], s: &str, p: &str, lang: &str) -> Option<String> {
    values(triples, s, p).into_iter().find_map(|t| match t {
        Term::Literal(l) if l.language().is_some_and(|l| l.starts_with(lang)) => {
            Some(l.value().to_string())
        }
        _ => None,
    })
}

/// A dataset as a Civity DataPlatform package dict (CKAN 2.9 with the DCAT-AP-SE schema).
fn package(
    node: &Term,
    triples: &[Triple],
    c: &SimCatalog,
    record_modified: &str,
) -> Option<(String, String, Value)> {
    let s = term_str(node);
    if !values(triples, &s, RDF_TYPE)
        .iter()
        .any(|t| text(t) == format!("{DCAT}Dataset"))
    {
        return None;
    }
    let one = |p: &str| values(triples, &s, p).first().map(|t| text(t));
    let all = |p: &str| -> Vec<String> { values(triples, &s, p).iter().map(|t| text(t)).collect() };
    let id = one(&format!("{DCT}identifier"))?;
    let name = s.rsplit('/').next().unwrap_or(&id).to_string();
    let modified = one(&format!("{DCT}modified")).unwrap_or_default();
    let o = &c.organisation;

    let mut resources = Vec::new();
    let mut licence = None;
    for (k, dist) in all(&format!("{DCAT}distribution")).iter().enumerate() {
        let d = |p: &str| values(triples, dist, p).first().map(|t| text(t));
        licence = licence.or(d(&format!("{DCT}license")));
        let format =
            d(&format!("{DCT}format")).map(|f| f.rsplit('/').next().unwrap_or(&f).to_string());
        let media = d(&format!("{DCAT}mediaType")).map(|m| {
            m.trim_start_matches("https://www.iana.org/assignments/media-types/")
                .to_string()
        });
        let download = d(&format!("{DCAT}downloadURL"));
        resources.push(json!({
            "id": format!("{id}-r{k}"),
            "package_id": id,
            "uri": dist,
            "name": lang_text(triples, dist, &format!("{DCT}title"), "sv"),
            "url": download.clone().or(d(&format!("{DCAT}accessURL"))),
            "access_url": d(&format!("{DCAT}accessURL")),
            "downloadURL": download,
            "format": format,
            "mimetype": media,
            "position": k,
            "url_type": null,
            "resource_type": null,
            "language": "http://publications.europa.eu/resource/authority/language/SWE",
        }));
    }
    let licence_id = match licence.as_deref() {
        Some(l) if l.contains("publicdomain/zero") => Some("cc-zero"),
        Some(l) if l.contains("licenses/by/") || l.ends_with("licenses/by/4.0") => {
            Some("cc-by-4.0")
        }
        Some(_) => Some("other-open"),
        None => None,
    };
    let contact = one(&format!("{DCAT}contactPoint"));
    let contact_name = contact
        .as_ref()
        .and_then(|c| {
            values(triples, c, &format!("{VCARD}fn"))
                .first()
                .map(|t| text(t))
        })
        .unwrap_or_else(|| format!("{} kontaktcenter", o.short_name));
    let mut package = json!({
        "id": id,
        "name": name,
        "uri": s,
        "title": lang_text(triples, &s, &format!("{DCT}title"), "sv"),
        "notes": lang_text(triples, &s, &format!("{DCT}description"), "sv"),
        "type": "dataset",
        "state": "active",
        "private": false,
        "license_id": licence_id,
        "metadata_created": one(&format!("{DCT}issued")).map(|d| format!("{d}T08:00:00")),
        "metadata_modified": format!("{record_modified}.000000"),
        "modified": modified,
        "issued": one(&format!("{DCT}issued")),
        "tags": all(&format!("{DCAT}keyword")).iter().map(|k| json!({"name": k, "display_name": k})).collect::<Vec<_>>(),
        "theme": all(&format!("{DCAT}theme")),
        "publisher": one(&format!("{DCT}publisher")),
        "publisher_type": "http://purl.org/adms/publishertype/LocalAuthority",
        "language": "http://publications.europa.eu/resource/authority/language/SWE",
        "landing_page": one(&format!("{DCAT}landingPage")),
        "contact_point_type": "organization",
        "contact_point_name": contact_name,
        "contact_point_email": format!("oppnadata@{}", o.domain),
        "access_rights": one(&format!("{DCT}accessRights")),
        "frequency": one(&format!("{DCT}accrualPeriodicity")),
        "conforms_to": one(&format!("{DCT}conformsTo")),
        "hvd_category": one("http://data.europa.eu/r5r/hvdCategory"),
        "organization": {"name": format!("{}-stad", crate::slug(&o.short_name)), "title": o.name, "type": "organization"},
        "groups": [],
        "resources": resources,
        "num_resources": resources.len(),
        "extras": [
            {"key": "civity_metadataquality", "value": "{\"total\": {\"score\": 0.8}}"},
        ],
    });
    if let Some(internal) = one("https://malmo.se/ns/dataplattform#internt-id")
        && let Some(extras) = package.get_mut("extras").and_then(Value::as_array_mut)
    {
        extras.push(json!({"key": "internt_id", "value": internal}));
    }
    if let Some(map) = package.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    Some((id, record_modified.to_string(), package))
}

/// One EntryStore entry: the resource's metadata graph in RDF/JSON.
fn entry(
    base: &str,
    slug: &str,
    n: usize,
    subject: &str,
    triples: &[Triple],
    modified: &str,
) -> Value {
    // By subject: the resource, and the blank nodes it describes (`_:label`, as RDF/JSON).
    let mut metadata: BTreeMap<String, BTreeMap<String, Vec<Value>>> = BTreeMap::new();
    for t in triples {
        let object = match &t.object {
            Term::NamedNode(n) => json!({"type": "uri", "value": n.as_str()}),
            Term::BlankNode(b) => json!({"type": "bnode", "value": format!("_:{}", b.as_str())}),
            Term::Literal(l) => {
                let mut o = Map::new();
                o.insert("type".into(), "literal".into());
                o.insert("value".into(), l.value().into());
                if let Some(lang) = l.language() {
                    o.insert("lang".into(), lang.into());
                } else if l.datatype().as_str() != "http://www.w3.org/2001/XMLSchema#string" {
                    o.insert("datatype".into(), l.datatype().as_str().into());
                }
                Value::Object(o)
            }
        };
        let described = match &t.subject {
            NamedOrBlankNode::BlankNode(_) => subject_str(&t.subject),
            NamedOrBlankNode::NamedNode(_) => subject.to_string(),
        };
        metadata
            .entry(described)
            .or_default()
            .entry(t.predicate.as_str().to_string())
            .or_default()
            .push(object);
    }
    let entry_uri = format!("{base}/{slug}/store/1/entry/{n}");
    json!({
        "entryId": n.to_string(),
        "contextId": "1",
        "rights": ["readmetadata", "readresource"],
        "info": {entry_uri: {
            "http://entrystore.org/terms/resource": [{"type": "uri", "value": subject}],
            "http://purl.org/dc/terms/modified": [{"type": "literal", "value": format!("{modified}Z"), "datatype": "http://www.w3.org/2001/XMLSchema#dateTime"}],
        }},
        "metadata": metadata,
    })
}

fn ckan_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"help": "package_search", "success": false, "error": {"__type": kind, "message": message}}).to_string(),
    )
        .into_response()
}

/// Finds a catalog on a platform, or the response to give instead.
fn catalog_on<'a>(
    sim: &'a Simulator,
    org: &str,
    platform: Platform,
) -> Result<&'a SimCatalog, Box<Response>> {
    let Some(c) = sim.catalog(org).filter(|c| c.platform == platform) else {
        return Err(Box::new(
            (StatusCode::NOT_FOUND, "not found").into_response(),
        ));
    };
    if sim.is_failing(c) {
        return Err(Box::new(
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response(),
        ));
    }
    Ok(c)
}

/// `GET /{org}/api/3/action/package_search`: `rows` (≤ 1000), `start`, `sort`, and
/// `fq=metadata_modified:[X TO *]`. Results are always in id order (a stable sort).
pub(crate) async fn package_search(
    State(sim): State<Arc<Simulator>>,
    Path(org): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let c = match catalog_on(&sim, &org, Platform::Ckan) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let number = |key: &str, default: usize| match params.get(key) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| key.to_string()),
    };
    let (rows, start) = match (number("rows", 10), number("start", 0)) {
        (Ok(r), Ok(s)) => (r.min(1000), s),
        (Err(key), _) | (_, Err(key)) => {
            return ckan_error(
                StatusCode::CONFLICT,
                "Validation Error",
                &format!("{key}: Invalid integer"),
            );
        }
    };
    let since = match params.get("fq").map(|fq| fq.trim()) {
        None | Some("") => None,
        Some(fq) => match fq
            .strip_prefix("metadata_modified:[")
            .and_then(|r| r.split_once(" TO "))
        {
            Some((from, _)) => Some(from.trim().trim_end_matches('Z').to_string()),
            None => {
                return ckan_error(
                    StatusCode::CONFLICT,
                    "Search Query Error",
                    &format!("Search error: unsupported fq {fq:?}"),
                );
            }
        },
    };
    let base = base_url(&headers);
    let epoch = sim.epoch();
    let key = format!(
        "ckan|{base}|{org}|{epoch}|{rows}|{start}|{}|{:?}",
        since.as_deref().unwrap_or(""),
        params.get("sort")
    );
    let index = sim.ckan_index(c);
    let sort = params
        .get("sort")
        .cloned()
        .unwrap_or_else(|| "score desc, metadata_modified desc".into());
    let (sim2, c2) = (Arc::clone(&sim), c.clone());
    let rendered = sim
        .cached(key, move || {
            let mut matching: Vec<&(Box<str>, Box<str>, Item)> = index
                .rows
                .iter()
                .filter(|(_, modified, _)| since.as_deref().is_none_or(|s| &**modified >= s))
                .collect();
            if sort.trim_start().starts_with("metadata_modified desc") {
                matching.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            }
            // The envelope with an empty list, the packages written into it one at a time.
            let envelope = json!({
                "help": "http://127.0.0.1/api/3/action/help_show?name=package_search",
                "success": true,
                "result": {"count": matching.len(), "sort": sort, "facets": {}, "search_facets": {}, "results": []},
            })
            .to_string();
            let Some(cut) = envelope.find("\"results\":[]").map(|at| at + "\"results\":[".len()) else {
                return envelope.into_bytes();
            };
            let mut body = envelope.as_bytes()[..cut].to_vec();
            let packages = matching
                .iter()
                .skip(start)
                .take(rows)
                .filter_map(|(_, _, item)| sim2.package_of(&c2, *item, epoch));
            for (k, package) in packages.enumerate() {
                if k > 0 {
                    body.push(b',');
                }
                if serde_json::to_writer(&mut body, &package).is_err() {
                    return Vec::new();
                }
            }
            body.extend_from_slice(&envelope.as_bytes()[cut..]);
            body
        })
        .await;
    match rendered {
        Some((body, etag)) => conditional(
            &headers,
            "application/json;charset=utf-8",
            body,
            &etag,
            epoch,
        ),
        None => (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response(),
    }
}

/// `GET /{org}/api/3/action/package_show?id=`.
pub(crate) async fn package_show(
    State(sim): State<Arc<Simulator>>,
    Path(org): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let c = match catalog_on(&sim, &org, Platform::Ckan) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Some(id) = params.get("id") else {
        return ckan_error(
            StatusCode::CONFLICT,
            "Validation Error",
            "id: Missing value",
        );
    };
    let index = sim.ckan_index(c);
    let epoch = sim.epoch();
    // By id, else by name (the last segment of the dataset's IRI).
    let found = index
        .rows
        .binary_search_by(|(pid, _, _)| (**pid).cmp(id.as_str()))
        .ok()
        .map(|k| index.rows[k].2)
        .or_else(|| {
            index
                .rows
                .iter()
                .map(|r| r.2)
                .find(|item| sim.local_name(&sim.catalogs[item.origin], item.i) == *id)
        });
    match found.and_then(|item| sim.package_of(c, item, epoch)) {
        Some(p) => (
            [(header::CONTENT_TYPE, "application/json")],
            json!({"help": "package_show", "success": true, "result": p}).to_string(),
        )
            .into_response(),
        None => ckan_error(StatusCode::NOT_FOUND, "Not Found Error", "Not found"),
    }
}

#[derive(Deserialize)]
pub(crate) struct SearchParams {
    #[serde(rename = "type")]
    kind: Option<String>,
    query: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    sort: Option<String>,
}

/// `GET /{org}/store/search?type=solr&query=…&limit=…&offset=…`: public entries whose
/// `rdfType` the query names, oldest first; `limit` capped at 100 as EntryStore does.
pub(crate) async fn entrystore_search(
    State(sim): State<Arc<Simulator>>,
    Path(org): Path<String>,
    Query(params): Query<SearchParams>,
    headers: HeaderMap,
) -> Response {
    let c = match catalog_on(&sim, &org, Platform::Entryscape) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    if params.kind.as_deref() != Some("solr") {
        return (StatusCode::BAD_REQUEST, "type must be solr").into_response();
    }
    let parse = |v: &Option<String>, default: usize| match v {
        None => Some(default),
        Some(v) => v.parse::<usize>().ok(),
    };
    let (Some(limit), Some(offset)) = (parse(&params.limit, 50), parse(&params.offset, 0)) else {
        return (StatusCode::BAD_REQUEST, "limit and offset must be numbers").into_response();
    };
    let limit = limit.min(100);
    let query = params.query.unwrap_or_default();
    let base = base_url(&headers);
    let epoch = sim.epoch();
    let newest_first = params
        .sort
        .as_deref()
        .is_some_and(|s| s.trim() == "modified desc");
    let key = format!("es|{base}|{org}|{epoch}|{limit}|{offset}|{query}|{newest_first}");
    let index = sim.entry_index(c);
    let (sim2, slug) = (Arc::clone(&sim), c.organisation.slug());
    let rendered = sim
        .cached(key, move || {
            let matching = index.matching(&query);
            let mut order: Vec<u32> = matching.as_ref().clone();
            if newest_first {
                order.sort_by(|a, b| index.modified(*b).cmp(index.modified(*a)).then(a.cmp(b)));
            }
            // Consecutive entries are mostly one dataset's: its graph is made and grouped by
            // resource once for them.
            let mut graph: Option<(u32, Resources)> = None;
            let children: Vec<Value> = order
                .iter()
                .skip(offset)
                .take(limit)
                .map(|&n| {
                    let number = n as usize + 1;
                    match index.entries[n as usize] {
                        (u32::MAX, k, _) => {
                            let (subject, triples, modified) = &index.shared[k as usize];
                            entry(&base, &slug, number, subject, triples, modified)
                        }
                        (item, k, _) => {
                            if graph.as_ref().is_none_or(|(i, _)| *i != item) {
                                let g = sim2.item_graph(index.items[item as usize].0, epoch);
                                let resources = g
                                    .resources()
                                    .into_iter()
                                    .map(|(s, ts)| (s, ts.into_iter().cloned().collect()))
                                    .collect();
                                graph = Some((item, resources));
                            }
                            let Some((_, resources)) = graph.as_ref() else {
                                return Value::Null;
                            };
                            let (subject, triples) = &resources[k as usize];
                            let modified = &index.items[item as usize].1;
                            entry(&base, &slug, number, subject, triples, modified)
                        }
                    }
                })
                .collect();
            json!({"offset": offset, "limit": limit, "results": matching.len(), "resource": {"children": children}})
                .to_string()
                .into_bytes()
        })
        .await;
    match rendered {
        Some((body, etag)) => conditional(&headers, "application/json", body, &etag, epoch),
        None => (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct MetadataParams {
    recursive: Option<String>,
    format: Option<String>,
}

/// `GET /{org}/store/1/metadata/dcat?recursive=dcat[&format=…]`: the catalog export, the
/// catalog with everything its datasets reach, in Turtle or RDF/XML.
pub(crate) async fn entrystore_metadata(
    State(sim): State<Arc<Simulator>>,
    Path((org, context, entry)): Path<(String, String, String)>,
    Query(params): Query<MetadataParams>,
    headers: HeaderMap,
) -> Response {
    let c = match catalog_on(&sim, &org, Platform::Entryscape) {
        Ok(c) => c.clone(),
        Err(r) => return *r,
    };
    if context != "1" || entry != "dcat" {
        return (StatusCode::NOT_FOUND, "no such entry").into_response();
    }
    let syntax = match params.format.as_deref() {
        Some("application/rdf+xml") => Syntax::RdfXml,
        None | Some("text/turtle") => Syntax::Turtle,
        Some(other) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("unsupported format {other}"),
            )
                .into_response();
        }
    };
    let recursive = params.recursive.as_deref() == Some("dcat");
    let base = base_url(&headers);
    let epoch = sim.epoch();
    let key = format!("export|{base}|{org}|{epoch}|{recursive}|{syntax:?}");
    let slug = c.organisation.slug();
    let sim2 = Arc::clone(&sim);
    let rendered = sim
        .cached(key, move || {
            let triples = sim2.catalog_triples(&c);
            let catalog = NamedNode::new_unchecked(format!("{base}/{slug}/store/1/resource/dcat"));
            let mut g = Graph::default();
            g.iri(&catalog, RDF_TYPE, &format!("{DCAT}Catalog"));
            g.lit(
                &catalog,
                &format!("{DCT}title"),
                &format!("{} – öppna data", c.organisation.name),
                Some("sv"),
            );
            for t in &triples {
                if t.predicate.as_str() == RDF_TYPE && text(&t.object) == format!("{DCAT}Dataset") {
                    g.push(Triple::new(
                        catalog.clone(),
                        NamedNode::new_unchecked(format!("{DCAT}dataset")),
                        match &t.subject {
                            NamedOrBlankNode::NamedNode(n) => Term::from(n.clone()),
                            NamedOrBlankNode::BlankNode(b) => Term::from(b.clone()),
                        },
                    ));
                }
            }
            if recursive {
                g.triples.extend(triples);
            }
            serialize(&g.triples, syntax)
        })
        .await;
    match rendered {
        Some((body, etag)) => conditional(&headers, syntax.content_type(), body, &etag, epoch),
        None => (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response(),
    }
}
