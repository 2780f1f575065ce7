//! EntryScape (EntryStore): the Solr search API, paged with `limit`/`offset` under a stable
//! sort, whose hits carry their metadata as RDF/JSON; or the catalog export
//! (`/store/{ctx}/metadata/{id}?recursive=dcat`), which is plain RDF and read as `dcat`.
//!
//! In the search path a dataset's distributions, contact points and publisher are entries of
//! their own, so the run asks for every public entry of those types and normalises the union.

use crate::protocol::{Bounds, Decoded, Protocol};
use crate::{Fetched, Reason};
use oxrdf::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use serde_json::Value;
use url::Url;

/// The EntryStore search protocol: records span pages (a dataset's distributions and agents
/// are entries of their own), fingerprinted by the newest entry and the count.
pub struct EntryscapeSearch {
    /// The store root of the source.
    store: Url,
}

impl EntryscapeSearch {
    /// The search of the store at (or above) `source`.
    pub fn new(source: &Url) -> Self {
        Self {
            store: store_base(source),
        }
    }
}

impl Protocol for EntryscapeSearch {
    fn name(&self) -> &'static str {
        "entryscape"
    }

    fn first_page(&self, _source: &Url) -> Option<Url> {
        search_url(&self.store, 0)
    }

    fn accept(&self) -> &'static str {
        "application/json"
    }

    fn decode(&self, page: &Fetched, _: &Bounds<'_>) -> Result<Decoded, (Reason, String)> {
        let read = read_search_page(&page.body, &page.url, &self.store)?;
        Ok(Decoded {
            triples: read.triples,
            next: read.next.into_iter().map(String::from).collect(),
            ..Decoded::default()
        })
    }

    fn records_span_pages(&self) -> bool {
        true
    }

    fn fingerprint_url(&self, _source: &Url) -> Option<Url> {
        fingerprint_url(&self.store)
    }

    fn fingerprint(&self, body: &[u8]) -> Option<String> {
        fingerprint(body)
    }
}

/// The server's cap on hits per page.
pub const LIMIT: usize = 100;

/// The entry types a catalog's datasets are made of.
const TYPES: &[&str] = &[
    "http://www.w3.org/ns/dcat#Dataset",
    "http://www.w3.org/ns/dcat#DatasetSeries",
    "http://www.w3.org/ns/dcat#Distribution",
    "http://www.w3.org/ns/dcat#DataService",
    "http://xmlns.com/foaf/0.1/Agent",
    "http://xmlns.com/foaf/0.1/Organization",
    "http://www.w3.org/2006/vcard/ns#Kind",
    "http://www.w3.org/2006/vcard/ns#Individual",
    "http://www.w3.org/2006/vcard/ns#Organization",
];

/// Whether an `entryscape` source URL names a catalog export rather than the store root.
pub fn is_export(url: &Url) -> bool {
    url.path().contains("/metadata/")
}

/// The Solr query for the entry types above, public only, Lucene-escaped.
pub fn query() -> String {
    let types: Vec<String> = TYPES
        .iter()
        .map(|t| t.replace(':', "\\:").replace('/', "\\/"))
        .collect();
    format!("rdfType:({}) AND public:true", types.join(" OR "))
}

/// The store root (`…/store/`) of a source URL given as the host, or as the store.
pub fn store_base(url: &Url) -> Url {
    let mut base = url.clone();
    let path = base.path().trim_end_matches('/').to_string();
    let path = if path.ends_with("/store") {
        format!("{path}/")
    } else {
        format!("{path}/store/")
    };
    base.set_path(&path);
    base.set_query(None);
    base
}

/// The search URL of one page, oldest entries first so deep paging is stable.
pub fn search_url(store: &Url, offset: usize) -> Option<Url> {
    let mut url = store.join("search").ok()?;
    url.query_pairs_mut()
        .append_pair("type", "solr")
        .append_pair("query", &query())
        .append_pair("limit", &LIMIT.to_string())
        .append_pair("offset", &offset.to_string())
        .append_pair("sort", "created asc");
    Some(url)
}

/// The URL that fingerprints a store's public entries: the most recently modified one, and
/// the count.
pub fn fingerprint_url(store: &Url) -> Option<Url> {
    let mut url = store.join("search").ok()?;
    url.query_pairs_mut()
        .append_pair("type", "solr")
        .append_pair("query", &query())
        .append_pair("limit", "1")
        .append_pair("offset", "0")
        .append_pair("sort", "modified desc");
    Some(url)
}

/// The fingerprint in a [`fingerprint_url`] response: the number of hits and the newest
/// entry's id and `modified`. Any created, changed or removed entry changes it.
pub fn fingerprint(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let total = v.get("results")?.as_u64()?;
    let newest = v.pointer("/resource/children/0");
    let Some(newest) = newest else {
        return (total == 0).then(|| "0".into());
    };
    let id = newest.get("entryId").and_then(Value::as_str)?;
    let modified = newest
        .get("info")?
        .as_object()?
        .values()
        .find_map(|info| info.pointer("/http:~1~1purl.org~1dc~1terms~1modified/0/value"))
        .and_then(Value::as_str)?;
    Some(format!("{total}|{modified}|{id}"))
}

/// One search page: the triples of its hits, and the next page.
pub struct SearchPage {
    /// The metadata of every hit.
    pub triples: Vec<Triple>,
    /// The next page, while `offset + hits` is below the total.
    pub next: Option<Url>,
}

/// Reads a search response.
pub fn read_search_page(
    body: &[u8],
    url: &Url,
    store: &Url,
) -> Result<SearchPage, (Reason, String)> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        (
            Reason::MalformedJson,
            format!("not an EntryStore search response: {e}"),
        )
    })?;
    let children = value
        .pointer("/resource/children")
        .and_then(Value::as_array)
        .ok_or((
            Reason::MalformedJson,
            "no `resource.children` in the search response".to_string(),
        ))?;
    let total = value.get("results").and_then(Value::as_u64).unwrap_or(0) as usize;
    let offset: usize = url
        .query_pairs()
        .find(|(k, _)| k == "offset")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if children.is_empty() && offset < total {
        return Err((
            Reason::InconsistentCount,
            format!("the search says {total} entries, but none are listed from {offset}"),
        ));
    }
    let mut triples = Vec::new();
    for child in children {
        let scope = format!(
            "es{}x{}",
            child
                .get("contextId")
                .and_then(Value::as_str)
                .unwrap_or("0"),
            child.get("entryId").and_then(Value::as_str).unwrap_or("0")
        );
        if let Some(metadata) = child.get("metadata") {
            rdf_json(metadata, &scope, &mut triples);
        }
    }
    if !children.is_empty() && triples.is_empty() {
        return Err((
            Reason::NoMetadata,
            format!(
                "none of the {} entries carries readable metadata",
                children.len()
            ),
        ));
    }
    let next_offset = offset + children.len();
    let next = (!children.is_empty() && next_offset < total)
        .then(|| search_url(store, next_offset))
        .flatten();
    Ok(SearchPage { triples, next })
}

/// A document in RDF/JSON, as triples; `None` when the bytes are not RDF/JSON (JSON-LD, say).
pub fn read_rdf_json(body: &[u8]) -> Option<Vec<Triple>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let subjects = value.as_object()?;
    let is_rdf_json = !subjects.is_empty()
        && subjects.iter().all(|(s, predicates)| {
            !s.starts_with('@')
                && predicates.as_object().is_some_and(|p| {
                    p.values().all(|objects| {
                        objects.as_array().is_some_and(|list| {
                            list.iter()
                                .all(|o| o.get("type").is_some() && o.get("value").is_some())
                        })
                    })
                })
        });
    if !is_rdf_json {
        return None;
    }
    let mut triples = Vec::new();
    rdf_json(&value, "rj", &mut triples);
    Some(triples)
}

/// RDF/JSON (subject → predicate → [{type, value, lang?, datatype?}]) as triples. Blank-node
/// labels are scoped per entry: EntryStore reuses them across entries.
pub fn rdf_json(graph: &Value, scope: &str, out: &mut Vec<Triple>) {
    let Some(subjects) = graph.as_object() else {
        return;
    };
    let blank = |label: &str| {
        let clean: String = label
            .trim_start_matches("_:")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        BlankNode::new_unchecked(format!("{scope}{clean}"))
    };
    for (subject, predicates) in subjects {
        let s: NamedOrBlankNode = if subject.starts_with("_:") {
            blank(subject).into()
        } else {
            match NamedNode::new(subject) {
                Ok(n) => n.into(),
                Err(_) => continue,
            }
        };
        let Some(predicates) = predicates.as_object() else {
            continue;
        };
        for (predicate, objects) in predicates {
            let Ok(p) = NamedNode::new(predicate) else {
                continue;
            };
            for o in objects.as_array().into_iter().flatten() {
                let value = o.get("value").and_then(Value::as_str).unwrap_or_default();
                let term: Term = match o.get("type").and_then(Value::as_str) {
                    Some("uri") => match NamedNode::new(value) {
                        Ok(n) => n.into(),
                        Err(_) => continue,
                    },
                    Some("bnode") => blank(value).into(),
                    _ => {
                        if let Some(lang) = o.get("lang").and_then(Value::as_str) {
                            Literal::new_language_tagged_literal(value, lang)
                                .unwrap_or_else(|_| Literal::new_simple_literal(value))
                                .into()
                        } else if let Some(dt) = o
                            .get("datatype")
                            .and_then(Value::as_str)
                            .and_then(|d| NamedNode::new(d).ok())
                        {
                            Literal::new_typed_literal(value, dt).into()
                        } else {
                            Literal::new_simple_literal(value).into()
                        }
                    }
                };
                out.push(Triple::new(s.clone(), p.clone(), term));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_base_from_host_or_store() {
        for given in [
            "https://katalog.lund.se",
            "https://katalog.lund.se/",
            "https://katalog.lund.se/store",
            "https://katalog.lund.se/store/",
        ] {
            let url = Url::parse(given).expect("valid");
            assert_eq!(store_base(&url).as_str(), "https://katalog.lund.se/store/");
        }
    }

    #[test]
    fn rdf_json_scopes_blank_nodes_per_entry() {
        let graph = serde_json::json!({
            "https://x.se/store/1/resource/2": {
                "http://purl.org/dc/terms/temporal": [{"type": "bnode", "value": "_:b0"}],
                "http://purl.org/dc/terms/title": [{"type": "literal", "value": "Badplatser", "lang": "sv"}]
            },
            "_:b0": {"http://www.w3.org/ns/dcat#startDate": [{"type": "literal", "value": "2020-01-01", "datatype": "http://www.w3.org/2001/XMLSchema#date"}]}
        });
        let (mut a, mut b) = (Vec::new(), Vec::new());
        rdf_json(&graph, "e1", &mut a);
        rdf_json(&graph, "e2", &mut b);
        assert_eq!(a.len(), 3);
        let blank_of = |ts: &[Triple]| {
            ts.iter()
                .find_map(|t| match &t.subject {
                    NamedOrBlankNode::BlankNode(b) => Some(b.as_str().to_string()),
                    _ => None,
                })
                .expect("a blank subject")
        };
        assert_ne!(blank_of(&a), blank_of(&b));
    }
}
