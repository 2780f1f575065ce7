//! Content negotiation at the API's edge: which of the representations an endpoint offers an
//! `Accept` header prefers. The formats themselves (media types, extensions) are the format
//! crates' (`oxrdfio::RdfFormat`, `QueryResultsFormat`); the tables here say which media
//! ranges samla takes for each.

use samla_model::export::{RdfFormat, formats};
use samla_sparql::QueryResultsFormat;

/// The offer an `Accept` header prefers: the highest q-value, the first listed among equals;
/// ranges with `q=0` refused. No header (or a blank one) takes `default`; a header naming
/// nothing offered gives `None`.
pub(crate) fn negotiate<T: Copy>(
    accept: Option<&str>,
    offers: &[(&str, T)],
    default: T,
) -> Option<T> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(default);
    };
    let mut best: Option<(f32, T)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let Some(&(_, offer)) = offers.iter().find(|(m, _)| *m == media) else {
            continue;
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, offer));
        }
    }
    best.map(|(_, offer)| offer)
}

/// The media ranges samla serves each RDF syntax for: the syntax's own media type, the
/// common aliases, and wildcards (text to Turtle, application to RDF/XML).
pub(crate) fn rdf_offers() -> Vec<(&'static str, RdfFormat)> {
    let [turtle, rdf_xml, json_ld, n_triples] = formats();
    let mut offers: Vec<(&'static str, RdfFormat)> = formats()
        .iter()
        .map(|f| (essence(f.media_type()), *f))
        .collect();
    offers.extend([
        ("application/x-turtle", turtle),
        ("application/xml", rdf_xml),
        ("text/xml", rdf_xml),
        ("application/json", json_ld),
        ("text/plain", n_triples),
        ("*/*", turtle),
        ("text/*", turtle),
        ("application/*", rdf_xml),
    ]);
    offers
}

/// A media type without its parameters (`text/csv; charset=utf-8` → `text/csv`).
pub(crate) fn essence(media_type: &str) -> &str {
    media_type.split(';').next().unwrap_or(media_type).trim()
}

/// The media ranges samla serves each SPARQL results format for.
pub(crate) fn results_offers() -> Vec<(&'static str, QueryResultsFormat)> {
    let mut offers: Vec<(&'static str, QueryResultsFormat)> = [
        QueryResultsFormat::Json,
        QueryResultsFormat::Xml,
        QueryResultsFormat::Csv,
        QueryResultsFormat::Tsv,
    ]
    .into_iter()
    .map(|f| (essence(f.media_type()), f))
    .collect();
    offers.extend([
        ("application/json", QueryResultsFormat::Json),
        ("application/xml", QueryResultsFormat::Xml),
        ("text/xml", QueryResultsFormat::Xml),
    ]);
    offers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_pick_the_preferred_syntax() {
        let rdf = |accept| negotiate(accept, &rdf_offers(), RdfFormat::Turtle);
        let json_ld = formats()[2];
        assert_eq!(rdf(None), Some(RdfFormat::Turtle));
        assert_eq!(rdf(Some("application/rdf+xml")), Some(RdfFormat::RdfXml));
        assert_eq!(
            rdf(Some("text/turtle;q=0.5, application/ld+json")),
            Some(json_ld)
        );
        assert_eq!(
            rdf(Some("application/n-triples;q=0.9, */*;q=0.1")),
            Some(RdfFormat::NTriples)
        );
        assert_eq!(rdf(Some("image/png")), None);
        assert_eq!(rdf(Some("text/turtle;q=0")), None);
    }

    #[test]
    fn result_formats_by_accept_with_json_by_default() {
        let results = |accept| {
            negotiate(accept, &results_offers(), QueryResultsFormat::Json)
                .unwrap_or(QueryResultsFormat::Json)
        };
        assert_eq!(results(None), QueryResultsFormat::Json);
        assert_eq!(
            results(Some("text/csv;q=0.5, application/sparql-results+xml")),
            QueryResultsFormat::Xml
        );
        assert_eq!(
            results(Some("text/tab-separated-values")),
            QueryResultsFormat::Tsv
        );
        assert_eq!(results(Some("text/turtle")), QueryResultsFormat::Json);
    }
}
