//! The aggregate as DCAT-AP-SE: the four RDF syntaxes samla serves (`oxrdfio`'s formats), and
//! the catalog and Hydra page that wrap a page of canonical dataset graphs. Which syntax a
//! client gets is the API's business.
//!
//! Every triple of a canonical graph is written as stored; the catalog, its publisher and the
//! page are named by absolute IRIs (no blank nodes), as dataportal.se's harvester expects.

use crate::vocab::{dcat, dcatap, dcterms, foaf, hydra, rdf, vcard};
use oxrdf::{Literal, NamedNode, Triple, vocab::xsd};

pub use oxrdfio::RdfFormat;

/// The four syntaxes samla writes, the default (Turtle) first. Their media types and file
/// extensions are `oxrdfio`'s.
pub fn formats() -> [RdfFormat; 4] {
    [
        RdfFormat::Turtle,
        RdfFormat::RdfXml,
        RdfFormat::JsonLd {
            profile: oxrdfio::JsonLdProfileSet::empty(),
        },
        RdfFormat::NTriples,
    ]
}

const PREFIXES: [(&str, &str); 8] = [
    ("dcat", dcat::NS),
    ("dcterms", dcterms::NS),
    ("foaf", foaf::NS),
    ("vcard", vcard::NS),
    ("dcatap", dcatap::NS),
    ("hydra", hydra::NS),
    ("rdf", rdf::NS),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
];

/// Writes `triples` in `format`, with the usual prefixes where the syntax has them.
pub fn serialize(triples: &[Triple], format: RdfFormat) -> Vec<u8> {
    let mut serializer = oxrdfio::RdfSerializer::from_format(format);
    for (prefix, iri) in PREFIXES {
        serializer = serializer
            .with_prefix(prefix, iri)
            .expect("prefix names and namespace IRIs are constants and valid");
    }
    let mut writer = serializer.for_writer(Vec::new());
    // Writing into a Vec cannot fail, and canonical graphs hold only triples every syntax
    // can write (absolute IRIs), so serializer errors are not expected; a triple that still
    // fails is left out rather than failing the whole export.
    for t in triples {
        let _ = writer.serialize_triple(t);
    }
    writer.finish().unwrap_or_default()
}

/// The catalog that wraps the exported datasets.
#[derive(Debug, Clone)]
pub struct CatalogDescription {
    /// Its IRI (`{base}/catalog`).
    pub iri: String,
    /// Titles per language.
    pub titles: Vec<(String, String)>,
    /// Descriptions per language.
    pub descriptions: Vec<(String, String)>,
    /// The publishing agent's IRI and name.
    pub publisher: (String, String),
    /// The site.
    pub homepage: Option<String>,
}

/// One Hydra page of the catalog.
#[derive(Debug, Clone)]
pub struct HydraPage {
    /// This page's IRI.
    pub iri: String,
    /// The first, previous, next and last pages' IRIs.
    pub first: String,
    /// Previous page.
    pub previous: Option<String>,
    /// Next page.
    pub next: Option<String>,
    /// Last page.
    pub last: String,
    /// Datasets in all pages.
    pub total: u64,
    /// Datasets per page.
    pub per_page: u64,
}

/// The catalog's own triples, `dcat:dataset` to every IRI in `datasets`, and the page's.
pub fn catalog_triples(
    catalog: &CatalogDescription,
    datasets: &[NamedNode],
    page: Option<&HydraPage>,
) -> Vec<Triple> {
    let iri = NamedNode::new_unchecked(&catalog.iri);
    let publisher = NamedNode::new_unchecked(&catalog.publisher.0);
    let mut out = vec![Triple::new(iri.clone(), rdf::TYPE, dcat::CATALOG)];
    for (lang, text) in &catalog.titles {
        out.push(Triple::new(
            iri.clone(),
            dcterms::TITLE,
            lang_literal(text, lang),
        ));
    }
    for (lang, text) in &catalog.descriptions {
        out.push(Triple::new(
            iri.clone(),
            dcterms::DESCRIPTION,
            lang_literal(text, lang),
        ));
    }
    out.push(Triple::new(
        iri.clone(),
        dcterms::PUBLISHER,
        publisher.clone(),
    ));
    out.push(Triple::new(publisher.clone(), rdf::TYPE, foaf::AGENT));
    out.push(Triple::new(
        publisher,
        foaf::NAME,
        Literal::new_simple_literal(&catalog.publisher.1),
    ));
    if let Some(home) = &catalog.homepage {
        let home = NamedNode::new_unchecked(home);
        out.push(Triple::new(iri.clone(), foaf::HOMEPAGE, home.clone()));
        out.push(Triple::new(home, rdf::TYPE, foaf::DOCUMENT));
    }
    for d in datasets {
        out.push(Triple::new(iri.clone(), dcat::DATASET_PROP, d.clone()));
    }
    if let Some(p) = page {
        let view = NamedNode::new_unchecked(&p.iri);
        out.push(Triple::new(iri.clone(), hydra::VIEW, view.clone()));
        out.push(Triple::new(
            iri,
            hydra::TOTAL_ITEMS,
            Literal::new_typed_literal(p.total.to_string(), xsd::INTEGER),
        ));
        out.push(Triple::new(
            view.clone(),
            rdf::TYPE,
            hydra::PARTIAL_COLLECTION_VIEW,
        ));
        out.push(Triple::new(
            view.clone(),
            hydra::ITEMS_PER_PAGE,
            Literal::new_typed_literal(p.per_page.to_string(), xsd::INTEGER),
        ));
        let links = [
            (hydra::FIRST, Some(&p.first)),
            (hydra::PREVIOUS, p.previous.as_ref()),
            (hydra::NEXT, p.next.as_ref()),
            (hydra::LAST, Some(&p.last)),
        ];
        for (predicate, target) in links {
            if let Some(target) = target {
                out.push(Triple::new(
                    view.clone(),
                    predicate,
                    NamedNode::new_unchecked(target),
                ));
            }
        }
    }
    out
}

fn lang_literal(text: &str, lang: &str) -> Literal {
    Literal::new_language_tagged_literal(text, lang)
        .unwrap_or_else(|_| Literal::new_simple_literal(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syntax_reads_back_to_the_same_triples() {
        let catalog = CatalogDescription {
            iri: "https://samla.example/catalog".into(),
            titles: vec![("sv".into(), "Skånes öppna data".into())],
            descriptions: vec![("en".into(), "Open data <of> Skåne & more".into())],
            publisher: ("https://samla.example/organisation".into(), "Skåne".into()),
            homepage: Some("https://samla.example/".into()),
        };
        let page = HydraPage {
            iri: "https://samla.example/catalog?page=2".into(),
            first: "https://samla.example/catalog?page=1".into(),
            previous: Some("https://samla.example/catalog?page=1".into()),
            next: None,
            last: "https://samla.example/catalog?page=2".into(),
            total: 3,
            per_page: 2,
        };
        let triples = catalog_triples(
            &catalog,
            &[NamedNode::new_unchecked("https://kommun.example/d/1")],
            Some(&page),
        );
        let mut expected: Vec<String> = triples.iter().map(|t| t.to_string()).collect();
        expected.sort();
        for format in formats() {
            let bytes = serialize(&triples, format);
            let mut read: Vec<String> = match format {
                RdfFormat::Turtle => oxttl::TurtleParser::new()
                    .for_slice(&bytes)
                    .map(|t| t.expect("valid").to_string())
                    .collect(),
                RdfFormat::NTriples => oxttl::NTriplesParser::new()
                    .for_slice(&bytes)
                    .map(|t| t.expect("valid").to_string())
                    .collect(),
                RdfFormat::RdfXml => oxrdfxml::RdfXmlParser::new()
                    .for_slice(&bytes)
                    .map(|t| t.expect("valid").to_string())
                    .collect(),
                RdfFormat::JsonLd { .. } => oxjsonld::JsonLdParser::new()
                    .for_slice(&bytes)
                    .map(|q| Triple::from(q.expect("valid")).to_string())
                    .collect(),
                other => panic!("samla does not write {other}"),
            };
            read.sort();
            assert_eq!(read, expected, "{format:?}");
        }
    }
}
