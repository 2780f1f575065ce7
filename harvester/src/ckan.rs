//! CKAN: `package_search` pages, and the package dict mapped into DCAT the way ckanext-dcat
//! does (core fields, scheming fields, legacy `extras`, resources as distributions), including
//! the DCAT-AP-SE fields of the Civity DataPlatform schema that Malmö runs.
//!
//! The mapping writes RDF in the publisher's terms; the model normalises it (licence ids,
//! themes, formats, frequencies) as it does every other source.

use crate::protocol::{Bounds, Decoded, Protocol};
use crate::{Fetched, Reason};
use oxrdf::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use samla_model::vocab::{dcat, dcatap, dcterms, foaf, rdf, vcard};
use serde_json::{Map, Value};
use url::Url;

/// The CKAN Action API protocol: `package_search` pages under a stable sort; fingerprinted by
/// the most recently modified package and the count; incremental by `metadata_modified`.
pub struct Ckan;

impl Protocol for Ckan {
    fn name(&self) -> &'static str {
        "ckan"
    }

    fn first_page(&self, source: &Url) -> Option<Url> {
        search_url(source, 0)
    }

    fn accept(&self) -> &'static str {
        "application/json"
    }

    fn decode(&self, page: &Fetched, _: &Bounds<'_>) -> Result<Decoded, (Reason, String)> {
        let read = read_search_page(&page.body, &page.url)?;
        Ok(Decoded {
            triples: read.triples,
            next: read.next.into_iter().map(String::from).collect(),
            ..Decoded::default()
        })
    }

    fn fingerprint_url(&self, source: &Url) -> Option<Url> {
        fingerprint_url(source)
    }

    fn fingerprint(&self, body: &[u8]) -> Option<String> {
        fingerprint(body)
    }

    fn since(&self, source: &Url, watermark: &str) -> Option<Url> {
        search_url_since(source, watermark)
    }

    fn watermark(&self, fingerprint: &str) -> Option<String> {
        fingerprint_stamp(fingerprint)
    }
}

/// Packages asked for per page: CKAN's own cap (`ckan.search.rows_max`, 1000 by default).
pub const ROWS: usize = 1000;

const ADMS: &str = "http://www.w3.org/ns/adms#";
const OWL_VERSION_INFO: &str = "http://www.w3.org/2002/07/owl#versionInfo";
const RDFS_LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";
const SPDX: &str = "http://spdx.org/rdf/terms#";

/// The `package_search` URL of a CKAN at `base`, one page under a stable sort.
pub fn search_url(base: &Url, start: usize) -> Option<Url> {
    let mut url = api_base(base).join("api/3/action/package_search").ok()?;
    url.query_pairs_mut()
        .append_pair("q", "*:*")
        .append_pair("rows", &ROWS.to_string())
        .append_pair("start", &start.to_string())
        .append_pair("sort", "id asc");
    Some(url)
}

/// The same search URL at another `start` (its other parameters, `fq` included, kept).
fn with_start(url: &Url, start: usize) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "start")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut next = url.clone();
    {
        let mut q = next.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        q.append_pair("start", &start.to_string());
    }
    next
}

/// The search URL for packages modified at or after `since` (an incremental run).
pub fn search_url_since(base: &Url, since: &str) -> Option<Url> {
    let mut url = search_url(base, 0)?;
    url.query_pairs_mut()
        .append_pair("fq", &format!("metadata_modified:[{since} TO *]"));
    Some(url)
}

/// The newest `metadata_modified` in a fingerprint, as a Solr date (`…Z`).
pub fn fingerprint_stamp(fingerprint: &str) -> Option<String> {
    let stamp = fingerprint.split('|').nth(1)?;
    Some(format!("{}Z", stamp.get(..19)?))
}

/// The URL that fingerprints a CKAN's packages: the most recently modified one, and the count.
pub fn fingerprint_url(base: &Url) -> Option<Url> {
    let mut url = api_base(base).join("api/3/action/package_search").ok()?;
    url.query_pairs_mut()
        .append_pair("q", "*:*")
        .append_pair("rows", "1")
        .append_pair("sort", "metadata_modified desc");
    Some(url)
}

/// The fingerprint in a [`fingerprint_url`] response: count, newest `metadata_modified` and its
/// package. Any created, changed or deleted package changes it (CKAN stamps every write).
pub fn fingerprint(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if v.get("success") != Some(&Value::Bool(true)) {
        return None;
    }
    let count = v.pointer("/result/count")?.as_u64()?;
    let newest = v.pointer("/result/results/0");
    let stamp = newest
        .and_then(|p| p.get("metadata_modified"))
        .and_then(Value::as_str);
    let id = newest.and_then(|p| p.get("id")).and_then(Value::as_str);
    match (count, stamp, id) {
        (0, _, _) => Some("0".into()),
        (n, Some(stamp), Some(id)) => Some(format!("{n}|{stamp}|{id}")),
        _ => None,
    }
}

/// The site root of a CKAN URL given with or without a trailing slash or `/api/3`.
fn api_base(base: &Url) -> Url {
    let mut base = base.clone();
    let path = base.path();
    let path = match path.find("/api/3") {
        Some(cut) => &path[..cut],
        None => path.trim_end_matches('/'),
    }
    .to_string();
    base.set_path(&format!("{path}/"));
    base.set_query(None);
    base
}

/// One `package_search` page: its triples, and where the next page is.
pub struct SearchPage {
    /// Every package as DCAT triples.
    pub triples: Vec<Triple>,
    /// The next page, if the count says there is one.
    pub next: Option<Url>,
    /// Packages on the page.
    pub packages: usize,
}

/// Reads a `package_search` response. `Err` carries a reason and a message (CKAN's own error
/// envelope, `success: false`, is reported with its message).
pub fn read_search_page(body: &[u8], url: &Url) -> Result<SearchPage, (Reason, String)> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        (
            Reason::MalformedJson,
            format!("not a CKAN API response: {e}"),
        )
    })?;
    if let Some(error) = envelope_error(&value) {
        return Err((Reason::CkanError, error));
    }
    let result = value.get("result").ok_or((
        Reason::MalformedJson,
        "no `result` in the response".to_string(),
    ))?;
    let packages = result.get("results").and_then(Value::as_array).ok_or((
        Reason::MalformedJson,
        "no `result.results` list".to_string(),
    ))?;
    let count = result.get("count").and_then(Value::as_u64).unwrap_or(0) as usize;
    let start: usize = url
        .query_pairs()
        .find(|(k, _)| k == "start")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let base = api_base(url);
    let mut triples = Vec::new();
    for package in packages {
        if let Some(object) = package.as_object() {
            package_to_triples(object, &base, &mut triples);
        }
    }
    if packages.is_empty() && start < count {
        return Err((
            Reason::InconsistentCount,
            format!("the count says {count} packages, but none are listed from {start}"),
        ));
    }
    let next_start = start + packages.len();
    let next = (!packages.is_empty() && next_start < count).then(|| with_start(url, next_start));
    Ok(SearchPage {
        triples,
        next,
        packages: packages.len(),
    })
}

/// CKAN's error envelope as one line, when the response is one.
pub fn envelope_error(value: &Value) -> Option<String> {
    if value.get("success") != Some(&Value::Bool(false)) {
        return None;
    }
    let error = value.get("error");
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("no message");
    let kind = error
        .and_then(|e| e.get("__type"))
        .and_then(Value::as_str)
        .unwrap_or("Error");
    Some(format!("CKAN answered success: false ({kind}): {message}"))
}

/// A package dict's fields: top-level ones first, then legacy `extras` (whose values may be
/// JSON-encoded lists).
struct Fields<'a> {
    top: &'a Map<String, Value>,
    extras: Vec<(&'a str, Value)>,
    /// The keys the mapping asked for: the extras it did not are kept apart.
    asked: std::cell::RefCell<std::collections::HashSet<String>>,
}

impl<'a> Fields<'a> {
    fn new(top: &'a Map<String, Value>) -> Self {
        let extras = top
            .get("extras")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|e| {
                        let key = e.get("key")?.as_str()?;
                        let value = match e.get("value")? {
                            Value::String(s) if s.trim_start().starts_with(['[', '{']) => {
                                serde_json::from_str(s).unwrap_or(Value::String(s.clone()))
                            }
                            other => other.clone(),
                        };
                        Some((key, value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            top,
            extras,
            asked: Default::default(),
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        if !self.asked.borrow().contains(key) {
            self.asked.borrow_mut().insert(key.to_string());
        }
        self.top.get(key).filter(|v| !is_blank(v)).or_else(|| {
            self.extras
                .iter()
                .find(|(k, v)| *k == key && !is_blank(v))
                .map(|(_, v)| v)
        })
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key).and_then(scalar)
    }

    fn texts(&self, key: &str) -> Vec<String> {
        self.get(key).map(strings).unwrap_or_default()
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A value as a list of strings: a list, a JSON-encoded list, or one string.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter_map(scalar).collect(),
        Value::String(s) if s.trim_start().starts_with('[') => serde_json::from_str::<Value>(s)
            .map(|v| strings(&v))
            .unwrap_or_else(|_| vec![s.clone()]),
        other => scalar(other).into_iter().collect(),
    }
}

/// A text field as published: one string, or (scheming's multilingual form) a map from
/// language to text.
fn texts_by_language(v: &Value) -> Vec<(Option<String>, String)> {
    match v {
        Value::Object(map) => map
            .iter()
            .filter_map(|(lang, t)| scalar(t).map(|t| (Some(lang.clone()), t)))
            .collect(),
        other => scalar(other).map(|t| vec![(None, t)]).unwrap_or_default(),
    }
}

fn is_iri(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://") || s.starts_with("urn:"))
        && !s.contains(char::is_whitespace)
}

/// Writes triples into a list, with one helper per kind of object.
struct Writer<'a> {
    out: &'a mut Vec<Triple>,
    blank: usize,
    scope: String,
}

impl Writer<'_> {
    fn push(&mut self, s: &NamedOrBlankNode, p: &str, o: impl Into<Term>) {
        self.out
            .push(Triple::new(s.clone(), NamedNode::new_unchecked(p), o));
    }
    fn iri(&mut self, s: &NamedOrBlankNode, p: &str, o: &str) {
        match NamedNode::new(o) {
            Ok(n) => self.push(s, p, n),
            Err(_) => self.literal(s, p, o),
        }
    }
    /// An IRI when the value is one, else a literal (the model normalises known codes).
    fn value(&mut self, s: &NamedOrBlankNode, p: &str, o: &str) {
        if is_iri(o) {
            self.iri(s, p, o);
        } else {
            self.literal(s, p, o);
        }
    }
    fn literal(&mut self, s: &NamedOrBlankNode, p: &str, o: &str) {
        self.push(s, p, Literal::new_simple_literal(o));
    }
    fn tagged(&mut self, s: &NamedOrBlankNode, p: &str, o: &str, lang: &str) {
        match Literal::new_language_tagged_literal(o, lang) {
            Ok(l) => self.push(s, p, l),
            Err(_) => self.literal(s, p, o),
        }
    }
    fn text_in(&mut self, s: &NamedOrBlankNode, p: &str, o: &str, lang: Option<&str>) {
        match lang {
            Some(lang) => self.tagged(s, p, o, lang),
            None => self.literal(s, p, o),
        }
    }
    fn typed(&mut self, s: &NamedOrBlankNode, p: &str, o: &str, datatype: &str) {
        self.push(
            s,
            p,
            Literal::new_typed_literal(o, NamedNode::new_unchecked(datatype)),
        );
    }
    fn blank(&mut self) -> NamedOrBlankNode {
        self.blank += 1;
        BlankNode::new_unchecked(format!("{}b{}", self.scope, self.blank)).into()
    }
    fn node(&mut self, iri: Option<&str>) -> NamedOrBlankNode {
        match iri
            .filter(|i| is_iri(i))
            .and_then(|i| NamedNode::new(i).ok())
        {
            Some(n) => n.into(),
            None => self.blank(),
        }
    }
    /// A date as `xsd:date` or `xsd:dateTime` when it looks like one, else as published.
    fn date(&mut self, s: &NamedOrBlankNode, p: &str, value: &str) {
        let datatype = if value.len() == 10 && value.as_bytes().get(4) == Some(&b'-') {
            "http://www.w3.org/2001/XMLSchema#date"
        } else if value.len() > 10 && value.as_bytes().get(10) == Some(&b'T') {
            "http://www.w3.org/2001/XMLSchema#dateTime"
        } else {
            return self.literal(s, p, value);
        };
        self.typed(s, p, value, datatype);
    }
    /// A text field, language-tagged per `<field>_translated` when the package has it.
    fn text(&mut self, s: &NamedOrBlankNode, p: &str, fields: &Fields<'_>, key: &str) {
        let translated = fields
            .get(&format!("{key}_translated"))
            .and_then(Value::as_object)
            .filter(|m| m.values().any(|v| !is_blank(v)));
        match translated {
            Some(map) => {
                for (lang, v) in map {
                    if let Some(text) = scalar(v) {
                        self.tagged(s, p, &text, lang);
                    }
                }
            }
            None => {
                if let Some(text) = fields.text(key) {
                    self.literal(s, p, &text);
                }
            }
        }
    }
}

/// Maps one package dict to DCAT triples, appended to `out`. `base` is the CKAN site root.
pub fn package_to_triples(package: &Map<String, Value>, base: &Url, out: &mut Vec<Triple>) {
    let f = Fields::new(package);
    let name = f.text("name");
    let id = f.text("id").or_else(|| name.clone()).unwrap_or_default();
    let name = name.unwrap_or_else(|| id.clone());
    let dataset_iri = f
        .text("uri")
        .filter(|u| is_iri(u))
        .unwrap_or_else(|| format!("{base}dataset/{id}"));
    let mut w = Writer {
        out,
        blank: 0,
        scope: format!("ckan{}", samla_model::record::hex(id.as_bytes())),
    };
    let ds = w.node(Some(&dataset_iri));
    w.iri(&ds, rdf::TYPE.as_str(), dcat::DATASET.as_str());

    let identifier = f
        .text("identifier")
        .or_else(|| f.text("guid"))
        .unwrap_or(id);
    w.literal(&ds, dcterms::IDENTIFIER.as_str(), &identifier);
    w.text(&ds, dcterms::TITLE.as_str(), &f, "title");
    w.text(&ds, dcterms::DESCRIPTION.as_str(), &f, "notes");
    if let Some(version) = f.text("version") {
        w.literal(&ds, OWL_VERSION_INFO, &version);
    }
    for (lang, notes) in f
        .get("version_notes")
        .map(texts_by_language)
        .unwrap_or_default()
    {
        w.text_in(&ds, &format!("{ADMS}versionNotes"), &notes, lang.as_deref());
    }

    // Keywords: tags (multilingual when `tags_translated`), else `keywords`.
    match f.get("tags_translated").and_then(Value::as_object) {
        Some(map) => {
            for (lang, tags) in map {
                for tag in strings(tags) {
                    w.tagged(&ds, dcat::KEYWORD.as_str(), &tag, lang);
                }
            }
        }
        None => {
            for tag in f
                .get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = tag
                    .get("display_name")
                    .or_else(|| tag.get("name"))
                    .and_then(scalar)
                {
                    w.literal(&ds, dcat::KEYWORD.as_str(), &name);
                }
            }
        }
    }
    for theme in f.texts("theme") {
        w.value(&ds, dcat::THEME.as_str(), &theme);
    }
    // Groups are CKAN's own categories: kept as keywords under their display name.
    for group in f
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(title) = group
            .get("display_name")
            .or_else(|| group.get("title"))
            .and_then(scalar)
        {
            w.literal(&ds, dcat::KEYWORD.as_str(), &title);
        }
    }

    let landing = f.text("landing_page").or_else(|| f.text("url"));
    if let Some(page) = landing.filter(|u| is_iri(u)) {
        w.iri(&ds, dcat::LANDING_PAGE.as_str(), &page);
    }
    let issued = f.text("issued").or_else(|| f.text("metadata_created"));
    if let Some(issued) = issued {
        w.date(&ds, dcterms::ISSUED.as_str(), &issued);
    }
    let modified = f.text("modified").or_else(|| f.text("metadata_modified"));
    if let Some(modified) = modified {
        w.date(&ds, dcterms::MODIFIED.as_str(), &modified);
    }
    for language in f.texts("language") {
        w.value(&ds, dcterms::LANGUAGE.as_str(), &language);
    }
    if let Some(frequency) = f.text("frequency") {
        w.value(&ds, dcterms::ACCRUAL_PERIODICITY.as_str(), &frequency);
    }
    if let Some(rights) = f.text("access_rights") {
        if is_iri(&rights) {
            w.iri(&ds, dcterms::ACCESS_RIGHTS.as_str(), &rights);
        } else {
            // A statement, as ckanext-dcat writes it: a RightsStatement with a label.
            let node = w.blank();
            w.push(&ds, dcterms::ACCESS_RIGHTS.as_str(), node_term(&node));
            w.iri(
                &node,
                rdf::TYPE.as_str(),
                "http://purl.org/dc/terms/RightsStatement",
            );
            w.literal(&node, RDFS_LABEL, &rights);
        }
    }
    for spec in f.texts("conforms_to") {
        w.value(&ds, dcterms::CONFORMS_TO.as_str(), &spec);
    }
    for hvd in f.texts("hvd_category") {
        w.value(&ds, dcatap::HVD_CATEGORY.as_str(), &hvd);
    }
    for law in f.texts("applicable_legislation") {
        w.value(&ds, dcatap::APPLICABLE_LEGISLATION.as_str(), &law);
    }
    for (key, predicate) in [
        ("source", "http://purl.org/dc/terms/source"),
        ("has_version", "http://purl.org/dc/terms/hasVersion"),
        ("is_version_of", "http://purl.org/dc/terms/isVersionOf"),
        ("related_resource", "http://purl.org/dc/terms/relation"),
        ("documentation", foaf::PAGE.as_str()),
        (
            "is_referenced_by",
            "http://purl.org/dc/terms/isReferencedBy",
        ),
    ] {
        for v in f.texts(key) {
            w.value(&ds, predicate, &v);
        }
    }
    for alt in f
        .texts("alternate_identifier")
        .into_iter()
        .chain(f.texts("alternative_id"))
    {
        let node = w.blank();
        w.push(&ds, &format!("{ADMS}identifier"), node_term(&node));
        w.iri(&node, rdf::TYPE.as_str(), &format!("{ADMS}Identifier"));
        w.literal(&node, "http://www.w3.org/2004/02/skos/core#notation", &alt);
    }
    let provenance = f
        .get("provenance")
        .map(texts_by_language)
        .unwrap_or_default();
    if !provenance.is_empty() {
        let node = w.blank();
        w.push(&ds, "http://purl.org/dc/terms/provenance", node_term(&node));
        w.iri(
            &node,
            rdf::TYPE.as_str(),
            "http://purl.org/dc/terms/ProvenanceStatement",
        );
        for (lang, text) in provenance {
            w.text_in(&node, RDFS_LABEL, &text, lang.as_deref());
        }
    }

    // Spatial: a URI (scheming `spatial_coverage`, legacy `spatial_uri`, Civity `spatial_scheme`).
    let mut spatial: Vec<String> = f
        .get("spatial_coverage")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("uri").and_then(scalar))
        .collect();
    spatial.extend(f.texts("spatial_uri"));
    spatial.extend(f.texts("spatial_scheme"));
    for s in spatial {
        w.value(&ds, dcterms::SPATIAL.as_str(), &s);
    }

    // Temporal: scheming `temporal_coverage`, legacy/Civity `temporal_start`/`temporal_end`.
    let mut periods: Vec<(Option<String>, Option<String>)> = f
        .get("temporal_coverage")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c.get("start").and_then(scalar),
                c.get("end").and_then(scalar),
            )
        })
        .collect();
    let (start, end) = (f.text("temporal_start"), f.text("temporal_end"));
    if start.is_some() || end.is_some() {
        periods.push((start, end));
    }
    for (start, end) in periods {
        let node = w.blank();
        w.push(&ds, dcterms::TEMPORAL.as_str(), node_term(&node));
        w.iri(
            &node,
            rdf::TYPE.as_str(),
            "http://purl.org/dc/terms/PeriodOfTime",
        );
        if let Some(s) = start {
            w.date(&node, dcat::START_DATE.as_str(), &s);
        }
        if let Some(e) = end {
            w.date(&node, dcat::END_DATE.as_str(), &e);
        }
    }

    publisher(&mut w, &ds, &f, base);
    contact_points(&mut w, &ds, &f);

    // Resources → distributions; the package licence applies where a resource has none.
    let package_licence = f.text("license_url").or_else(|| f.text("license_id"));
    for (i, resource) in f
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(resource) = resource.as_object() else {
            continue;
        };
        distribution(
            &mut w,
            &ds,
            resource,
            &format!("{base}dataset/{name}/resource/"),
            i,
            package_licence.as_deref(),
        );
    }
    unread_extras(&mut w, &ds, &f);
}

/// The IRI that names extras with no DCAT home: `urn:samla:ckan-extra:` and the key.
pub const EXTRA_PREFIX: &str = "urn:samla:ckan-extra:";

/// A licence: an IRI, or an id the model knows (it normalises both); else a CKAN licence id
/// with no URL (`other-open`), kept as a `dcterms:LicenseDocument` labelled with the id.
fn licence_to_triples(w: &mut Writer<'_>, dist: &NamedOrBlankNode, licence: &str) {
    if is_iri(licence) || samla_model::normalize::licence(licence).is_some() {
        w.value(dist, dcterms::LICENSE.as_str(), licence);
        return;
    }
    let document = w.blank();
    w.push(dist, dcterms::LICENSE.as_str(), node_term(&document));
    w.iri(
        &document,
        rdf::TYPE.as_str(),
        "http://purl.org/dc/terms/LicenseDocument",
    );
    w.literal(
        &document,
        "http://www.w3.org/2000/01/rdf-schema#label",
        licence,
    );
}

/// Legacy `extras` the mapping did not read, kept on the dataset as `urn:samla:ckan-extra:`
/// properties: nothing harvested is dropped.
fn unread_extras(w: &mut Writer<'_>, ds: &NamedOrBlankNode, f: &Fields<'_>) {
    let asked = f.asked.borrow();
    for (key, value) in &f.extras {
        if asked.contains(*key) || key.trim().is_empty() {
            continue;
        }
        let predicate = format!(
            "{EXTRA_PREFIX}{}",
            url::form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>()
        );
        let values = match value {
            Value::Array(_) => strings(value),
            Value::Object(_) => vec![value.to_string()],
            other => scalar(other).into_iter().collect(),
        };
        for v in values {
            w.literal(ds, &predicate, &v);
        }
    }
}

fn node_term(n: &NamedOrBlankNode) -> Term {
    match n {
        NamedOrBlankNode::NamedNode(n) => n.clone().into(),
        NamedOrBlankNode::BlankNode(b) => b.clone().into(),
    }
}

/// The publisher: scheming `publisher` dicts, Civity's `publisher` (a URI or a name) with
/// `publisher_type`, legacy `publisher_uri`/`publisher_name`, else the CKAN organization.
fn publisher(w: &mut Writer<'_>, ds: &NamedOrBlankNode, f: &Fields<'_>, base: &Url) {
    // (uri, name, homepage, type)
    type Agent = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let mut agents: Vec<Agent> = Vec::new();
    match f.get("publisher") {
        Some(Value::Array(list)) => {
            for p in list {
                agents.push((
                    p.get("uri")
                        .or_else(|| p.get("identifier"))
                        .and_then(scalar)
                        .filter(|u| is_iri(u)),
                    p.get("name").and_then(scalar),
                    p.get("url").and_then(scalar),
                    p.get("type").and_then(scalar),
                ));
            }
        }
        Some(Value::Object(p)) => agents.push((
            p.get("uri").and_then(scalar).filter(|u| is_iri(u)),
            p.get("name").and_then(scalar),
            p.get("url").and_then(scalar),
            p.get("type").and_then(scalar),
        )),
        Some(other) => {
            if let Some(v) = scalar(other) {
                let (uri, name) = if is_iri(&v) {
                    (Some(v), None)
                } else {
                    (None, Some(v))
                };
                agents.push((uri, name, None, f.text("publisher_type")));
            }
        }
        None => {
            if f.text("publisher_uri").is_some() || f.text("publisher_name").is_some() {
                agents.push((
                    f.text("publisher_uri").filter(|u| is_iri(u)),
                    f.text("publisher_name"),
                    f.text("publisher_url"),
                    f.text("publisher_type"),
                ));
            } else if let Some(org) = f.get("organization").and_then(Value::as_object) {
                let name = org.get("name").and_then(scalar);
                agents.push((
                    name.as_ref().map(|n| format!("{base}organization/{n}")),
                    org.get("title").and_then(scalar).or(name),
                    None,
                    None,
                ));
            }
        }
    }
    for (uri, name, homepage, kind) in agents {
        let agent = w.node(uri.as_deref());
        w.push(ds, dcterms::PUBLISHER.as_str(), node_term(&agent));
        w.iri(&agent, rdf::TYPE.as_str(), foaf::AGENT.as_str());
        if let Some(n) = name.or_else(|| {
            // An organisation's title names the agent when the publisher field has only a URI.
            f.get("organization")
                .and_then(|o| o.get("title"))
                .and_then(scalar)
        }) {
            w.literal(&agent, foaf::NAME.as_str(), &n);
        }
        if let Some(h) = homepage.filter(|h| is_iri(h)) {
            w.iri(&agent, foaf::HOMEPAGE.as_str(), &h);
        }
        if let Some(k) = kind {
            w.value(&agent, dcterms::TYPE.as_str(), &k);
        }
    }
}

/// Contact points: scheming `contact` dicts, Civity `contact_point_*`, legacy
/// `contact_name`/`contact_email`, else the maintainer or author.
fn contact_points(w: &mut Writer<'_>, ds: &NamedOrBlankNode, f: &Fields<'_>) {
    struct Contact {
        uri: Option<String>,
        name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        address: Option<String>,
        individual: bool,
    }
    let mut contacts = Vec::new();
    if let Some(list) = f.get("contact").and_then(Value::as_array) {
        for c in list {
            contacts.push(Contact {
                uri: c
                    .get("uri")
                    .or_else(|| c.get("identifier"))
                    .and_then(scalar)
                    .filter(|u| is_iri(u)),
                name: c.get("name").and_then(scalar),
                email: c.get("email").and_then(scalar),
                phone: None,
                address: None,
                individual: false,
            });
        }
    } else if f.text("contact_point_name").is_some() || f.text("contact_point_email").is_some() {
        contacts.push(Contact {
            uri: None,
            name: f.text("contact_point_name"),
            email: f.text("contact_point_email"),
            phone: f.text("contact_point_phone"),
            address: f.text("contact_point_address"),
            individual: f.text("contact_point_type").as_deref() == Some("individual"),
        });
    } else if f.text("contact_name").is_some() || f.text("contact_email").is_some() {
        contacts.push(Contact {
            uri: f.text("contact_uri").filter(|u| is_iri(u)),
            name: f.text("contact_name"),
            email: f.text("contact_email"),
            phone: None,
            address: None,
            individual: false,
        });
    } else if let Some(name) = f.text("maintainer").or_else(|| f.text("author")) {
        let email = f
            .text("maintainer_email")
            .or_else(|| f.text("author_email"));
        contacts.push(Contact {
            uri: None,
            name: Some(name),
            email,
            phone: None,
            address: None,
            individual: false,
        });
    }
    for c in contacts {
        let node = w.node(c.uri.as_deref());
        w.push(ds, dcat::CONTACT_POINT.as_str(), node_term(&node));
        let kind = if c.individual {
            "http://www.w3.org/2006/vcard/ns#Individual"
        } else {
            "http://www.w3.org/2006/vcard/ns#Organization"
        };
        w.iri(&node, rdf::TYPE.as_str(), kind);
        if let Some(n) = c.name {
            w.literal(&node, vcard::FN.as_str(), &n);
        }
        if let Some(e) = c.email {
            let mailto = if e.starts_with("mailto:") {
                e
            } else {
                format!("mailto:{e}")
            };
            w.iri(&node, vcard::HAS_EMAIL.as_str(), &mailto);
        }
        if let Some(p) = c.phone {
            w.iri(
                &node,
                "http://www.w3.org/2006/vcard/ns#hasTelephone",
                &format!("tel:{}", p.replace(' ', "")),
            );
        }
        if let Some(a) = c.address {
            w.literal(&node, "http://www.w3.org/2006/vcard/ns#hasAddress", &a);
        }
    }
}

fn distribution(
    w: &mut Writer<'_>,
    ds: &NamedOrBlankNode,
    r: &Map<String, Value>,
    resource_base: &str,
    position: usize,
    package_licence: Option<&str>,
) {
    let f = Fields::new(r);
    let id = f.text("id").unwrap_or_else(|| position.to_string());
    let uri = f
        .text("uri")
        .filter(|u| is_iri(u))
        .unwrap_or_else(|| format!("{resource_base}{id}"));
    let dist = w.node(Some(&uri));
    w.push(ds, dcat::DISTRIBUTION_PROP.as_str(), node_term(&dist));
    w.iri(&dist, rdf::TYPE.as_str(), dcat::DISTRIBUTION.as_str());
    w.text(&dist, dcterms::TITLE.as_str(), &f, "name");
    w.text(&dist, dcterms::DESCRIPTION.as_str(), &f, "description");
    let url = f.text("url");
    let access = f.text("access_url").or(url.clone());
    if let Some(a) = access.filter(|u| is_iri(u)) {
        w.iri(&dist, dcat::ACCESS_URL.as_str(), &a);
    }
    let download = f
        .text("download_url")
        .or_else(|| f.text("downloadURL"))
        .or_else(|| {
            // An uploaded file is a download; a link may be a web page or an API.
            (f.text("url_type").as_deref() == Some("upload"))
                .then_some(url)
                .flatten()
        });
    if let Some(d) = download.filter(|u| is_iri(u)) {
        w.iri(&dist, dcat::DOWNLOAD_URL.as_str(), &d);
    }
    if let Some(format) = f.text("format") {
        w.value(&dist, dcterms::FORMAT.as_str(), &format);
    }
    if let Some(media) = f.text("mimetype").or_else(|| f.text("media_type")) {
        let iri = if is_iri(&media) {
            media
        } else {
            format!("https://www.iana.org/assignments/media-types/{media}")
        };
        w.iri(&dist, dcat::MEDIA_TYPE.as_str(), &iri);
    }
    if let Some(size) = f.get("size").and_then(Value::as_u64) {
        w.typed(
            &dist,
            dcat::BYTE_SIZE.as_str(),
            &size.to_string(),
            "http://www.w3.org/2001/XMLSchema#nonNegativeInteger",
        );
    }
    if let Some(issued) = f.text("issued").or_else(|| f.text("created")) {
        w.date(&dist, dcterms::ISSUED.as_str(), &issued);
    }
    if let Some(modified) = f.text("modified").or_else(|| f.text("last_modified")) {
        w.date(&dist, dcterms::MODIFIED.as_str(), &modified);
    }
    if let Some(licence) = f
        .text("license")
        .or_else(|| package_licence.map(str::to_string))
    {
        licence_to_triples(w, &dist, &licence);
    }
    for (lang, rights) in f.get("rights").map(texts_by_language).unwrap_or_default() {
        match lang {
            None => w.value(&dist, dcterms::RIGHTS.as_str(), &rights),
            Some(lang) => w.tagged(&dist, dcterms::RIGHTS.as_str(), &rights, &lang),
        }
    }
    for language in f.texts("language") {
        w.value(&dist, dcterms::LANGUAGE.as_str(), &language);
    }
    for (key, predicate) in [
        ("status", format!("{ADMS}status")),
        ("availability", dcatap::AVAILABILITY.as_str().to_string()),
        ("documentation", foaf::PAGE.as_str().to_string()),
        ("conforms_to", dcterms::CONFORMS_TO.as_str().to_string()),
        (
            "standard_version",
            dcterms::CONFORMS_TO.as_str().to_string(),
        ),
        (
            "compress_format",
            "http://www.w3.org/ns/dcat#compressFormat".to_string(),
        ),
        (
            "package_format",
            "http://www.w3.org/ns/dcat#packageFormat".to_string(),
        ),
    ] {
        for v in f.texts(key) {
            w.value(&dist, &predicate, &v);
        }
    }
    if let Some(hash) = f.text("hash") {
        let node = w.blank();
        w.push(&dist, &format!("{SPDX}checksum"), node_term(&node));
        w.iri(&node, rdf::TYPE.as_str(), &format!("{SPDX}Checksum"));
        w.literal(&node, &format!("{SPDX}checksumValue"), &hash);
        if let Some(algorithm) = f.text("hash_algorithm") {
            w.value(&node, &format!("{SPDX}algorithm"), &algorithm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_urls_page_under_a_stable_sort() {
        let base = Url::parse("https://ckan.example.se/api/3").expect("valid");
        let url = search_url(&base, 200).expect("url");
        assert_eq!(
            url.as_str(),
            "https://ckan.example.se/api/3/action/package_search?q=*%3A*&rows=1000&start=200&sort=id+asc"
        );
    }

    /// A licence id with no URL that names no known licence is a licence document labelled
    /// with the id; a known id stays for the model to normalise; extras the mapping does not
    /// read are kept under `urn:samla:ckan-extra:`, those it reads are not repeated.
    #[test]
    fn licences_without_a_url_and_unread_extras_are_kept() {
        let package: Value = serde_json::json!({
            "id": "p1", "name": "p1", "title": "Paket",
            "license_id": "other-open",
            "extras": [
                {"key": "spatial_text", "value": "Malmö"},
                {"key": "frequency", "value": "monthly"},
                {"key": "kvalitet", "value": "[\"hög\", \"granskad\"]"}
            ],
            "resources": [
                {"id": "r1", "url": "https://k.example/a.csv"},
                {"id": "r2", "url": "https://k.example/b.csv", "license": "cc-by"}
            ]
        });
        let mut out = Vec::new();
        let base = Url::parse("https://ckan.example.se/").expect("url");
        package_to_triples(package.as_object().expect("object"), &base, &mut out);
        let lines: Vec<String> = out.iter().map(|t| t.to_string()).collect();
        let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
        assert!(
            has("<http://www.w3.org/2000/01/rdf-schema#label> \"other-open\""),
            "{lines:#?}"
        );
        assert!(has("<http://purl.org/dc/terms/LicenseDocument>"));
        assert!(has("<http://purl.org/dc/terms/license> \"cc-by\""));
        assert!(has("<urn:samla:ckan-extra:spatial_text> \"Malmö\""));
        assert!(has("<urn:samla:ckan-extra:kvalitet> \"hög\""));
        assert!(has("<urn:samla:ckan-extra:kvalitet> \"granskad\""));
        assert!(!has("urn:samla:ckan-extra:frequency"), "{lines:#?}");
    }

    #[test]
    fn error_envelope_is_read() {
        let v: Value = serde_json::json!({"success": false, "error": {"message": "Not found", "__type": "Not Found Error"}});
        assert_eq!(
            envelope_error(&v).as_deref(),
            Some("CKAN answered success: false (Not Found Error): Not found")
        );
    }
}
