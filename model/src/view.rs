//! The typed view of a canonical dataset graph: what the index and the API need, derived from
//! the graph and never stored as the truth.

use crate::normalize;
use crate::record::DatasetId;
use crate::vocab::{dcat, dcatap, dcterms, foaf, schema, vcard};
use oxrdf::{NamedNodeRef, NamedOrBlankNodeRef, TermRef, Triple, TripleRef};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Literals per language tag (`""` for untagged), in the order of their tags.
///
/// A few entries each, kept in a vector: a `BTreeMap` allocates a node of some 500 bytes for
/// its first entry, and every dataset carries several of these (title, description, each
/// distribution's title, the publisher's name). Serialised as a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LangMap(Vec<(String, String)>);

impl LangMap {
    /// An empty map.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    fn position(&self, lang: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(l, _)| l.as_str().cmp(lang))
    }

    /// The text in `lang`.
    pub fn get(&self, lang: &str) -> Option<&String> {
        self.position(lang).ok().map(|at| &self.0[at].1)
    }

    /// The text in `lang`, to change.
    pub fn get_mut(&mut self, lang: &str) -> Option<&mut String> {
        self.position(lang).ok().map(|at| &mut self.0[at].1)
    }

    /// Sets the text in `lang`; the one it replaces.
    pub fn insert(&mut self, lang: String, text: String) -> Option<String> {
        match self.position(&lang) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, text)),
            Err(at) => {
                self.0.insert(at, (lang, text));
                None
            }
        }
    }

    /// Whether there is text in `lang`.
    pub fn contains_key(&self, lang: &str) -> bool {
        self.position(lang).is_ok()
    }

    /// The languages and texts, in the order of the tags.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(l, t)| (l, t))
    }

    /// The language tags, in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(l, _)| l)
    }

    /// The texts, in the order of their tags.
    pub fn values(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(_, t)| t)
    }

    /// Languages with text.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, String)> for LangMap {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut map = Self::new();
        for (lang, text) in iter {
            map.insert(lang, text);
        }
        map
    }
}

impl<'a> IntoIterator for &'a LangMap {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a String, &'a String),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(l, t)| (l, t))
    }
}

impl Serialize for LangMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for LangMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = LangMap;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("texts by language tag")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<LangMap, A::Error> {
                let mut texts = LangMap::new();
                while let Some((lang, text)) = map.next_entry::<String, String>()? {
                    texts.insert(lang, text);
                }
                Ok(texts)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for LangMap {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <std::collections::BTreeMap<String, String> as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for LangMap {}

/// Picks the text for `lang`: that language, then untagged, Swedish, English, anything.
pub fn pick<'a>(map: &'a LangMap, lang: &str) -> Option<&'a str> {
    [lang, "", "sv", "en"]
        .iter()
        .find_map(|l| map.get(l))
        .or_else(|| map.values().next())
        .map(String::as_str)
}

/// The publisher of a dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentView {
    /// The agent IRI.
    pub uri: String,
    /// `foaf:name` per language.
    pub name: LangMap,
    /// Kommunkod of the organisation it resolves to.
    pub municipality_code: Option<String>,
}

/// A contact point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactView {
    /// `vcard:fn`.
    pub name: Option<String>,
    /// `vcard:hasEmail`, without `mailto:`.
    pub email: Option<String>,
}

/// A distribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DistributionView {
    /// The distribution IRI.
    pub uri: String,
    /// Title per language.
    pub title: LangMap,
    /// `dcat:accessURL`s.
    pub access_urls: Vec<String>,
    /// `dcat:downloadURL`s.
    pub download_urls: Vec<String>,
    /// `dcterms:format` (an EU file-type IRI when recognised).
    pub format: Option<String>,
    /// `dcat:mediaType`.
    pub media_type: Option<String>,
    /// `dcterms:license`.
    pub license: Option<String>,
    /// `dcterms:rights`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<String>,
    /// `dcat:byteSize` as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_size: Option<String>,
    /// `dcat:accessService`: the data service it is served through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_service: Option<String>,
}

/// The temporal coverage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemporalView {
    /// Start date as published.
    pub start: Option<String>,
    /// End date as published.
    pub end: Option<String>,
}

/// The typed view of one dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetView {
    /// Identity.
    pub id: DatasetId,
    /// Dataset IRI.
    pub uri: String,
    /// Titles per language.
    pub title: LangMap,
    /// Descriptions per language.
    pub description: LangMap,
    /// Keywords as (language, keyword).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<String>>))]
    pub keywords: Vec<(String, String)>,
    /// EU theme IRIs (and any other theme IRIs as published).
    pub themes: Vec<String>,
    /// The publisher.
    pub publisher: Option<AgentView>,
    /// Kommunkod of the organisation the dataset is counted under: its publisher's, else (a
    /// dataset without a publisher the region knows) that of the source's organisation.
    #[serde(default)]
    pub municipality_code: Option<String>,
    /// File types of the distributions, de-duplicated.
    pub formats: Vec<String>,
    /// Media types of the distributions, de-duplicated.
    pub media_types: Vec<String>,
    /// The dataset's licence, else its distributions' first.
    pub license: Option<String>,
    /// Access rights.
    pub access_rights: Option<String>,
    /// National specifications and other standards.
    pub conforms_to: Vec<String>,
    /// HVD categories.
    pub hvd_categories: Vec<String>,
    /// Legislation it is published under (`dcatap:applicableLegislation`, ELI IRIs).
    #[serde(default)]
    pub applicable_legislation: Vec<String>,
    /// Spatial coverage (IRIs or literals).
    pub spatial: Vec<String>,
    /// Temporal coverage.
    pub temporal: Option<TemporalView>,
    /// `dcterms:issued` as published.
    pub issued: Option<String>,
    /// `dcterms:modified` as published.
    pub modified: Option<String>,
    /// Accrual periodicity IRI.
    pub accrual_periodicity: Option<String>,
    /// Landing page.
    pub landing_page: Option<String>,
    /// Contact point.
    pub contact_point: Option<ContactView>,
    /// Distributions, ordered by IRI.
    pub distributions: Vec<DistributionView>,
    /// The fee declared (`schema:offers`): its description, else the offer's IRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
}

/// Lookups by subject and predicate in one dataset's graph. The triples are taken in runs of
/// one subject (a canonical graph is sorted, so each subject is one run), and a lookup scans
/// only the runs of its subject.
struct Lookup<'a> {
    triples: &'a [TripleRef<'a>],
    /// `(subject, start, end)`: `triples[start..end]` all have that subject.
    runs: Vec<(&'a str, usize, usize)>,
}

impl<'a> Lookup<'a> {
    fn new(triples: &'a [TripleRef<'a>]) -> Self {
        let mut runs: Vec<(&'a str, usize, usize)> = Vec::new();
        for (i, t) in triples.iter().enumerate() {
            let NamedOrBlankNodeRef::NamedNode(subject) = t.subject else {
                continue;
            };
            match runs.last_mut() {
                Some((s, _, end)) if *end == i && *s == subject.as_str() => *end += 1,
                _ => runs.push((subject.as_str(), i, i + 1)),
            }
        }
        Self { triples, runs }
    }

    fn objects<'q>(
        &self,
        s: &'q str,
        p: NamedNodeRef<'q>,
    ) -> impl Iterator<Item = TermRef<'a>> + use<'a, 'q, '_> {
        let triples: &'a [TripleRef<'a>] = self.triples;
        self.runs
            .iter()
            .filter(move |(subject, _, _)| *subject == s)
            .flat_map(move |&(_, start, end)| &triples[start..end])
            .filter(move |t| t.predicate == p)
            .map(|t| t.object)
    }

    /// The distinct values, sorted.
    fn values(&self, s: &str, p: NamedNodeRef<'_>) -> Vec<String> {
        let mut v: Vec<Cow<'a, str>> = self.objects(s, p).map(term_value).collect();
        v.sort_unstable();
        v.dedup();
        v.into_iter().map(Cow::into_owned).collect()
    }

    /// The least value (the first of [`Lookup::values`]).
    fn first(&self, s: &str, p: NamedNodeRef<'_>) -> Option<String> {
        self.objects(s, p)
            .map(term_value)
            .min()
            .map(Cow::into_owned)
    }

    fn lang_map(&self, s: &str, p: NamedNodeRef<'_>) -> LangMap {
        let mut map = LangMap::new();
        for o in self.objects(s, p) {
            if let TermRef::Literal(l) = o {
                let lang = l.language().unwrap_or("");
                // Keep the first in a stable order when a language repeats.
                match map.get_mut(lang) {
                    Some(v) if l.value() < v.as_str() => *v = l.value().to_string(),
                    Some(_) => {}
                    None => {
                        map.insert(lang.to_string(), l.value().to_string());
                    }
                }
            }
        }
        map
    }
}

fn term_value(t: TermRef<'_>) -> Cow<'_, str> {
    match t {
        TermRef::NamedNode(n) => Cow::Borrowed(n.as_str()),
        TermRef::Literal(l) => Cow::Borrowed(l.value()),
        TermRef::BlankNode(b) => Cow::Owned(format!("_:{}", b.as_str())),
        #[allow(unreachable_patterns)]
        _ => Cow::Borrowed(""),
    }
}

impl DatasetView {
    /// Derives the view of dataset `iri` from its canonical graph.
    pub fn from_triples(
        id: &DatasetId,
        iri: &str,
        triples: &[Triple],
        municipality_code: Option<String>,
    ) -> Self {
        let triples: Vec<TripleRef<'_>> = triples.iter().map(Triple::as_ref).collect();
        Self::from_triple_refs(id, iri, &triples, municipality_code)
    }

    /// [`DatasetView::from_triples`] over borrowed triples.
    pub fn from_triple_refs(
        id: &DatasetId,
        iri: &str,
        triples: &[TripleRef<'_>],
        municipality_code: Option<String>,
    ) -> Self {
        let g = Lookup::new(triples);
        let mut keywords: Vec<(String, String)> = g
            .objects(iri, dcat::KEYWORD)
            .filter_map(|o| match o {
                TermRef::Literal(l) => Some((
                    l.language().unwrap_or("").to_string(),
                    l.value().trim().to_string(),
                )),
                _ => None,
            })
            .filter(|(_, k)| !k.is_empty())
            .collect();
        keywords.sort();
        keywords.dedup();

        let publisher = g.first(iri, dcterms::PUBLISHER).map(|uri| AgentView {
            name: g.lang_map(&uri, foaf::NAME),
            uri,
            municipality_code: municipality_code.clone(),
        });
        let contact_point = g.first(iri, dcat::CONTACT_POINT).map(|cp| {
            let cp = cp.as_str();
            ContactView {
                name: g
                    .first(cp, vcard::FN)
                    .or_else(|| g.first(cp, vcard::ORGANIZATION_NAME)),
                email: g
                    .first(cp, vcard::HAS_EMAIL)
                    .map(|e| e.trim_start_matches("mailto:").to_string()),
            }
        });
        let temporal = g.first(iri, dcterms::TEMPORAL).map(|t| {
            let t = t.as_str();
            TemporalView {
                start: g
                    .first(t, dcat::START_DATE)
                    .or_else(|| g.first(t, schema::START_DATE)),
                end: g
                    .first(t, dcat::END_DATE)
                    .or_else(|| g.first(t, schema::END_DATE)),
            }
        });
        let mut distributions: Vec<DistributionView> = g
            .values(iri, dcat::DISTRIBUTION_PROP)
            .into_iter()
            .map(|d| {
                let ds = d.as_str();
                DistributionView {
                    title: g.lang_map(ds, dcterms::TITLE),
                    access_urls: g.values(ds, dcat::ACCESS_URL),
                    download_urls: g.values(ds, dcat::DOWNLOAD_URL),
                    format: g.first(ds, dcterms::FORMAT),
                    media_type: g.first(ds, dcat::MEDIA_TYPE),
                    license: g.first(ds, dcterms::LICENSE),
                    rights: g.first(ds, dcterms::RIGHTS),
                    byte_size: g.first(ds, dcat::BYTE_SIZE),
                    access_service: g.first(ds, dcat::ACCESS_SERVICE),
                    uri: d,
                }
            })
            .collect();
        distributions.sort_by(|a, b| a.uri.cmp(&b.uri));
        let mut formats: Vec<String> = distributions
            .iter()
            .filter_map(|d| {
                d.format
                    .clone()
                    .or_else(|| d.media_type.as_deref().and_then(normalize::file_type_iri))
            })
            .collect();
        formats.sort();
        formats.dedup();
        let mut media_types: Vec<String> = distributions
            .iter()
            .filter_map(|d| d.media_type.clone())
            .collect();
        media_types.sort();
        media_types.dedup();
        // schema.org is written with either scheme.
        let https_offers = NamedNodeRef::new_unchecked("https://schema.org/offers");
        let fee = g
            .first(iri, schema::OFFERS)
            .or_else(|| g.first(iri, https_offers))
            .map(|offer| {
                let https_description =
                    NamedNodeRef::new_unchecked("https://schema.org/description");
                let description = g.lang_map(&offer, schema::DESCRIPTION);
                let description = if description.is_empty() {
                    g.lang_map(&offer, https_description)
                } else {
                    description
                };
                pick(&description, "sv").map_or(offer.clone(), str::to_string)
            });
        let license = g
            .first(iri, dcterms::LICENSE)
            .or_else(|| distributions.iter().find_map(|d| d.license.clone()));

        DatasetView {
            id: id.clone(),
            uri: iri.to_string(),
            title: g.lang_map(iri, dcterms::TITLE),
            description: g.lang_map(iri, dcterms::DESCRIPTION),
            keywords,
            themes: g.values(iri, dcat::THEME),
            publisher,
            municipality_code,
            formats,
            media_types,
            license,
            access_rights: g.first(iri, dcterms::ACCESS_RIGHTS),
            conforms_to: g.values(iri, dcterms::CONFORMS_TO),
            hvd_categories: g.values(iri, dcatap::HVD_CATEGORY),
            applicable_legislation: g.values(iri, dcatap::APPLICABLE_LEGISLATION),
            spatial: g.values(iri, dcterms::SPATIAL),
            temporal,
            issued: g.first(iri, dcterms::ISSUED),
            modified: g.first(iri, dcterms::MODIFIED),
            accrual_periodicity: g.first(iri, dcterms::ACCRUAL_PERIODICITY),
            landing_page: g.first(iri, dcat::LANDING_PAGE),
            contact_point,
            distributions,
            fee,
        }
    }

    /// The title in `lang`, falling back sensibly.
    pub fn title_in(&self, lang: &str) -> Option<&str> {
        pick(&self.title, lang)
    }

    /// The description in `lang`, falling back sensibly.
    pub fn description_in(&self, lang: &str) -> Option<&str> {
        pick(&self.description, lang)
    }

    /// The view as the reports hold it for every dataset: the text they do not read (titles,
    /// descriptions, keywords and spatial values past the first, which only count as
    /// present, names and labels) left out, every list fitted to its length. Quality
    /// scores, freshness, coverage and link URLs are the same as the whole view's.
    pub fn for_reports(mut self) -> Self {
        fn fit<T>(list: &mut Vec<T>, keep: usize) {
            list.truncate(keep);
            list.shrink_to_fit();
        }
        fn fit_text(text: &mut Option<String>) {
            if let Some(t) = text {
                t.shrink_to_fit();
            }
        }
        self.title = LangMap::default();
        self.description = LangMap::default();
        fit(&mut self.keywords, 1);
        fit(&mut self.spatial, 1);
        fit(&mut self.formats, 0);
        fit(&mut self.media_types, 0);
        fit(&mut self.themes, usize::MAX);
        fit(&mut self.conforms_to, usize::MAX);
        fit(&mut self.hvd_categories, usize::MAX);
        fit(&mut self.applicable_legislation, usize::MAX);
        self.landing_page = None;
        self.fee = None;
        if let Some(p) = &mut self.publisher {
            p.name = LangMap::default();
        }
        for d in &mut self.distributions {
            d.title = LangMap::default();
            fit(&mut d.access_urls, usize::MAX);
            fit(&mut d.download_urls, usize::MAX);
            fit_text(&mut d.format);
            fit_text(&mut d.media_type);
        }
        fit(&mut self.distributions, usize::MAX);
        self
    }

    /// Every access and download URL of its distributions (what the link checker checks).
    pub fn link_urls(&self) -> impl Iterator<Item = &String> {
        self.distributions
            .iter()
            .flat_map(|d| d.access_urls.iter().chain(&d.download_urls))
    }

    /// Whether the dataset can be read through an API: a distribution served by a data
    /// service (`dcat:accessService`), of a service file type (WMS, WFS, …, SPARQL), or at
    /// the address of one (a host `api.…`, a path segment `api`, `sparql`, `wms`, `wfs`,
    /// `rest`, `graphql`, `odata`, an EntryStore `store` or `rowstore`, an OGC `service=`
    /// parameter).
    pub fn offers_api(&self) -> bool {
        const SERVICE_FORMATS: &[&str] = &["_SRVC", "/SPARQLQ", "/REST", "/GRAPHQL", "/OAPIF"];
        const SERVICE_SEGMENTS: &[&str] = &[
            "api", "sparql", "wms", "wfs", "wmts", "wcs", "rest", "graphql", "odata", "store",
            "rowstore", "ows", "arcgis",
        ];
        let service_url = |u: &String| {
            // An address that holds none of these words cannot name a service: told without
            // parsing it (most cannot). One the URL parser would change first (percent or
            // non-ASCII letters it maps, tabs and line breaks it drops) is parsed.
            let lower = u.to_ascii_lowercase();
            if lower.is_ascii()
                && !lower.contains(['%', '\t', '\n', '\r'])
                && !SERVICE_SEGMENTS
                    .iter()
                    .chain(&["service"])
                    .any(|w| lower.contains(w))
            {
                return false;
            }
            let Ok(url) = url::Url::parse(u) else {
                return false;
            };
            url.host_str().is_some_and(|h| h.starts_with("api."))
                || url.path_segments().is_some_and(|mut segments| {
                    segments.any(|s| SERVICE_SEGMENTS.contains(&s.to_ascii_lowercase().as_str()))
                })
                || url
                    .query_pairs()
                    .any(|(k, _)| k.eq_ignore_ascii_case("service"))
        };
        self.distributions.iter().any(|d| {
            d.access_service.is_some()
                || d.format.as_deref().is_some_and(|f| {
                    let f = f.to_ascii_uppercase();
                    SERVICE_FORMATS.iter().any(|s| f.ends_with(s))
                })
                || d.media_type
                    .as_deref()
                    .is_some_and(|m| m.contains("sparql"))
                || d.access_urls
                    .iter()
                    .chain(&d.download_urls)
                    .any(service_url)
        })
    }

    /// When the dataset was last modified (else issued), parsed.
    pub fn modified_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.modified
            .as_deref()
            .and_then(normalize::date)
            .or_else(|| self.issued.as_deref().and_then(normalize::date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_addresses_are_told_whether_or_not_they_are_parsed() {
        let offers = |url: &str| {
            DatasetView {
                distributions: vec![DistributionView {
                    access_urls: vec![url.into()],
                    ..DistributionView::default()
                }],
                ..DatasetView::default()
            }
            .offers_api()
        };
        for url in [
            "https://api.example.org/x",
            "https://API.Example.org/x",
            "https://example.org/rest/v1",
            "https://example.org/REST/v1",
            "https://example.org/geo?SERVICE=WMS&request=GetCapabilities",
            "https://example.org/geo?%73ervice=wms",
            "https://%61pi.example.org/",
            "https://\u{ff41}\u{ff50}\u{ff49}.example.org/",
            "https://example.org/re\tst/",
            "https://example.org/store/1/resource/2",
        ] {
            assert!(offers(url), "{url:?} names a service");
        }
        for url in [
            "https://example.org/data/file.csv",
            "https://example.org/restaurants.csv",
            "https://example.org/\u{e5}r/api-docs.pdf",
            "https://example.org/files?name=service.pdf",
            "not a url with api",
        ] {
            assert!(!offers(url), "{url:?} names no service");
        }
    }
}
