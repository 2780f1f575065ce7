//! The typed view of a canonical dataset graph: what the index and the API need, derived from
//! the graph and never stored as the truth.

use crate::normalize;
use crate::record::DatasetId;
use crate::vocab::{dcat, dcatap, dcterms, foaf, schema, vcard};
use oxrdf::{NamedNodeRef, NamedOrBlankNode, Term, Triple};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Literals per language tag (`""` for untagged).
pub type LangMap = BTreeMap<String, String>;

/// Picks the text for `lang`: that language, then untagged, Swedish, English, anything.
pub fn pick<'a>(map: &'a LangMap, lang: &str) -> Option<&'a str> {
    [lang, "", "sv", "en"]
        .iter()
        .find_map(|l| map.get(*l))
        .or_else(|| map.values().next())
        .map(String::as_str)
}

/// The publisher of a dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
pub struct ContactView {
    /// `vcard:fn`.
    pub name: Option<String>,
    /// `vcard:hasEmail`, without `mailto:`.
    pub email: Option<String>,
}

/// A distribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
}

/// The temporal coverage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemporalView {
    /// Start date as published.
    pub start: Option<String>,
    /// End date as published.
    pub end: Option<String>,
}

/// The typed view of one dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    pub keywords: Vec<(String, String)>,
    /// EU theme IRIs (and any other theme IRIs as published).
    pub themes: Vec<String>,
    /// The publisher.
    pub publisher: Option<AgentView>,
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
}

struct Lookup<'a> {
    triples: &'a [Triple],
}

impl<'a> Lookup<'a> {
    fn objects<'q>(
        &self,
        s: &'q str,
        p: NamedNodeRef<'q>,
    ) -> impl Iterator<Item = &'a Term> + use<'a, 'q> {
        let triples: &'a [Triple] = self.triples;
        triples
            .iter()
            .filter(move |t| {
                t.predicate == p
                    && matches!(&t.subject, NamedOrBlankNode::NamedNode(n) if n.as_str() == s)
            })
            .map(|t| &t.object)
    }

    fn values(&self, s: &str, p: NamedNodeRef<'_>) -> Vec<String> {
        let mut v: Vec<String> = self.objects(s, p).map(term_value).collect();
        v.sort();
        v.dedup();
        v
    }

    fn first(&self, s: &str, p: NamedNodeRef<'_>) -> Option<String> {
        self.values(s, p).into_iter().next()
    }

    fn lang_map(&self, s: &str, p: NamedNodeRef<'_>) -> LangMap {
        let mut map = LangMap::new();
        for o in self.objects(s, p) {
            if let Term::Literal(l) = o {
                let lang = l.language().unwrap_or("").to_string();
                // Keep the first in a stable order when a language repeats.
                map.entry(lang)
                    .and_modify(|v: &mut String| {
                        if l.value() < v.as_str() {
                            *v = l.value().to_string();
                        }
                    })
                    .or_insert_with(|| l.value().to_string());
            }
        }
        map
    }
}

fn term_value(t: &Term) -> String {
    match t {
        Term::NamedNode(n) => n.as_str().to_string(),
        Term::Literal(l) => l.value().to_string(),
        Term::BlankNode(b) => format!("_:{}", b.as_str()),
        #[allow(unreachable_patterns)]
        _ => String::new(),
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
        let g = Lookup { triples };
        let mut keywords: Vec<(String, String)> = g
            .objects(iri, dcat::KEYWORD)
            .filter_map(|o| match o {
                Term::Literal(l) => Some((
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
            formats,
            media_types,
            license,
            access_rights: g.first(iri, dcterms::ACCESS_RIGHTS),
            conforms_to: g.values(iri, dcterms::CONFORMS_TO),
            hvd_categories: g.values(iri, dcatap::HVD_CATEGORY),
            spatial: g.values(iri, dcterms::SPATIAL),
            temporal,
            issued: g.first(iri, dcterms::ISSUED),
            modified: g.first(iri, dcterms::MODIFIED),
            accrual_periodicity: g.first(iri, dcterms::ACCRUAL_PERIODICITY),
            landing_page: g.first(iri, dcat::LANDING_PAGE),
            contact_point,
            distributions,
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

    /// Every access and download URL of its distributions (what the link checker checks).
    pub fn link_urls(&self) -> impl Iterator<Item = &String> {
        self.distributions
            .iter()
            .flat_map(|d| d.access_urls.iter().chain(&d.download_urls))
    }

    /// When the dataset was last modified (else issued), parsed.
    pub fn modified_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.modified
            .as_deref()
            .and_then(normalize::date)
            .or_else(|| self.issued.as_deref().and_then(normalize::date))
    }
}
