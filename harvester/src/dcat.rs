//! DCAT: an RDF document in any syntax, paged with Hydra (`hydra:next`, or the deprecated
//! `hydra:nextPage`), with sub-catalogues (`dcterms:hasPart`) one level deep.

use crate::protocol::{Bounds, Decoded, Protocol};
use crate::{Fetched, Parsed, RDF_ACCEPT, RdfFormat, Reason, entryscape, parse_bounded};
use oxrdf::{NamedOrBlankNode, Term, Triple};
use samla_model::record::states_type;
use samla_model::vocab::{dcat, dcterms, hydra};
use std::collections::HashSet;
use url::Url;

/// The DCAT protocol.
pub struct Dcat;

impl Protocol for Dcat {
    fn name(&self) -> &'static str {
        "dcat"
    }

    fn first_page(&self, source: &Url) -> Option<Url> {
        Some(source.clone())
    }

    fn accept(&self) -> &'static str {
        RDF_ACCEPT
    }

    fn decode(&self, fetched: &Fetched, bounds: &Bounds<'_>) -> Result<Decoded, (Reason, String)> {
        let format = RdfFormat::detect(fetched.content_type.as_deref(), &fetched.body);
        // EntryStore answers its metadata in RDF/JSON unless told otherwise.
        if format == RdfFormat::JsonLd
            && let Some(triples) = entryscape::read_rdf_json(&fetched.body)
        {
            let (next, parts) = links(&triples);
            return Ok(Decoded {
                triples,
                next,
                parts,
                ..Decoded::default()
            });
        }
        let Parsed {
            triples,
            problems,
            incomplete,
        } = parse_bounded(
            &fetched.body,
            format,
            fetched.url.as_str(),
            bounds.limits,
            bounds.stop,
        )
        .map_err(|e| match e.reason {
            Reason::MalformedRdf => (e.reason, format!("not valid {format}: {}", e.message)),
            _ => (e.reason, format!("{format}: {}", e.message)),
        })?;
        let (next, parts) = links(&triples);
        Ok(Decoded {
            triples,
            next,
            parts,
            problems,
            incomplete,
        })
    }
}

/// Hydra next links (`hydra:next` or the deprecated `hydra:nextPage`, as IRI or string) and
/// sub-catalogues (`dcterms:hasPart` of a catalog) that are not described in this page.
fn links(triples: &[Triple]) -> (Vec<String>, Vec<String>) {
    let value = |t: &Term| match t {
        Term::NamedNode(n) => Some(n.as_str().to_string()),
        Term::Literal(l) => Some(l.value().trim().to_string()),
        _ => None,
    };
    let mut next: Vec<String> = triples
        .iter()
        .filter(|t| t.predicate == hydra::NEXT || t.predicate == hydra::NEXT_PAGE)
        .filter_map(|t| value(&t.object))
        .collect();
    next.sort();
    next.dedup();
    let catalogs: HashSet<&NamedOrBlankNode> = triples
        .iter()
        .filter(|t| states_type(t, dcat::CATALOG))
        .map(|t| &t.subject)
        .collect();
    let described: HashSet<&str> = triples
        .iter()
        .filter(|t| t.predicate == dcat::DATASET_PROP)
        .filter_map(|t| match &t.subject {
            NamedOrBlankNode::NamedNode(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    let mut parts: Vec<String> = triples
        .iter()
        .filter(|t| t.predicate == dcterms::HAS_PART && catalogs.contains(&t.subject))
        .filter_map(|t| match &t.object {
            Term::NamedNode(n) if !described.contains(n.as_str()) => Some(n.as_str().to_string()),
            _ => None,
        })
        .collect();
    parts.sort();
    parts.dedup();
    (next, parts)
}
