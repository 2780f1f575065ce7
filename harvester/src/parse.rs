//! RDF syntaxes: chosen by `Content-Type`, falling back to sniffing the bytes.

use crate::Reason;
use oxrdf::vocab::xsd;
use oxrdf::{NamedOrBlankNode, Term, Triple};
use rustc_hash::FxHashSet as HashSet;
use std::fmt;

/// An RDF syntax samla reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdfFormat {
    /// Turtle.
    Turtle,
    /// N-Triples.
    NTriples,
    /// RDF/XML.
    RdfXml,
    /// JSON-LD.
    JsonLd,
}

impl fmt::Display for RdfFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RdfFormat::Turtle => "Turtle",
            RdfFormat::NTriples => "N-Triples",
            RdfFormat::RdfXml => "RDF/XML",
            RdfFormat::JsonLd => "JSON-LD",
        })
    }
}

impl RdfFormat {
    /// The syntax a media type names, as `oxrdfio` reads media types; `None` for the generic
    /// types servers send for anything (`text/plain`, `application/xml`, `application/json`),
    /// whose bytes are sniffed instead, and for syntaxes samla does not read.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        let essence = media_type.split(';').next()?.trim().to_ascii_lowercase();
        if matches!(
            essence.as_str(),
            "text/plain" | "application/xml" | "text/xml" | "application/json"
        ) {
            return None;
        }
        match oxrdfio::RdfFormat::from_media_type(&essence)? {
            oxrdfio::RdfFormat::Turtle | oxrdfio::RdfFormat::N3 => Some(Self::Turtle),
            oxrdfio::RdfFormat::NTriples => Some(Self::NTriples),
            oxrdfio::RdfFormat::RdfXml => Some(Self::RdfXml),
            oxrdfio::RdfFormat::JsonLd { .. } => Some(Self::JsonLd),
            _ => None,
        }
    }

    /// The format by `Content-Type`, else by sniffing the first bytes.
    pub fn detect(content_type: Option<&str>, body: &[u8]) -> Self {
        content_type
            .and_then(Self::from_media_type)
            .unwrap_or_else(|| Self::sniff(body))
    }

    /// Guesses the format from the first non-blank bytes.
    pub fn sniff(body: &[u8]) -> Self {
        let start = body
            .iter()
            .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
        let head = &body[start.unwrap_or(0)..body.len().min(start.unwrap_or(0) + 512)];
        if head.starts_with(b"<?xml") || head.starts_with(b"<rdf:RDF") || head.starts_with(b"<!--")
        {
            Self::RdfXml
        } else if head.starts_with(b"{") || head.starts_with(b"[") {
            Self::JsonLd
        } else {
            Self::Turtle
        }
    }
}

/// What a document parsed to.
#[derive(Debug)]
pub struct Parsed {
    /// Triples of every graph.
    pub triples: Vec<Triple>,
    /// Terms that break their grammar (an IRI with spaces, such as a phone number; a
    /// malformed language tag), each distinct value once, kept as published; or, for JSON-LD
    /// only its lenient mode reads, the strict parser's complaint.
    pub invalid: Vec<InvalidTerm>,
}

/// A term that breaks the IRI or language-tag grammar (or a JSON-LD document that breaks
/// the strict reading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTerm {
    /// `invalid_iri`, `invalid_language_tag` or `invalid_json_ld`: the run report's reason.
    pub reason: Reason,
    /// The value and what is wrong with it.
    pub message: String,
}

/// Parses `body` in `format`, resolving relative IRIs against `base`. A syntax error fails
/// the whole document.
///
/// Turtle, N-Triples and RDF/XML are read by the parsers' lenient mode, which leaves out
/// checking every IRI and language tag each time it occurs; samla checks each distinct one
/// once afterwards instead, and names those that break their grammar in
/// [`Parsed::invalid`] (a strict parse would refuse the whole document). JSON-LD is read
/// strictly, as its rules drop keys that map to no IRI; a document only the lenient mode
/// reads (keys out of streaming order, say) is kept, with the strict parser's complaint.
pub fn parse_rdf(body: &[u8], format: RdfFormat, base: &str) -> Result<Parsed, String> {
    // A UTF-8 byte-order mark is legal at the start of a document; not every parser skips it.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if format != RdfFormat::JsonLd {
        let triples = parse_leniently(body, format, base)?;
        let invalid = invalid_terms(&triples);
        return Ok(Parsed { triples, invalid });
    }
    match parse_json_ld(body, base, false) {
        Ok(triples) => Ok(Parsed {
            triples,
            invalid: Vec::new(),
        }),
        Err(strict) => match parse_leniently(body, format, base) {
            Ok(triples) => Ok(Parsed {
                triples,
                invalid: vec![InvalidTerm {
                    reason: Reason::InvalidJsonLd,
                    message: strict,
                }],
            }),
            Err(_) => Err(strict),
        },
    }
}

/// The document by the parsers' lenient mode.
fn parse_leniently(body: &[u8], format: RdfFormat, base: &str) -> Result<Vec<Triple>, String> {
    // About one triple per 80 bytes (the simulated region's pages run at 77, in every
    // syntax): saves regrowing the vector as it fills.
    let capacity = body.len() / 80;
    match format {
        RdfFormat::Turtle => collect(
            oxttl::TurtleParser::new()
                .with_base_iri(base)
                .map_err(|e| e.to_string())?
                .lenient()
                .for_slice(body),
            capacity,
        ),
        RdfFormat::NTriples => collect(
            oxttl::NTriplesParser::new().lenient().for_slice(body),
            capacity,
        ),
        RdfFormat::RdfXml => collect(
            oxrdfxml::RdfXmlParser::new()
                .with_base_iri(base)
                .map_err(|e| e.to_string())?
                .lenient()
                .for_slice(body),
            capacity,
        ),
        RdfFormat::JsonLd => parse_json_ld(body, base, true),
    }
}

/// The triples, or the first error.
fn collect<E: fmt::Display>(
    triples: impl Iterator<Item = Result<Triple, E>>,
    capacity: usize,
) -> Result<Vec<Triple>, String> {
    let mut out = Vec::with_capacity(capacity);
    for t in triples {
        out.push(t.map_err(|e| e.to_string())?);
    }
    Ok(out)
}

fn parse_json_ld(body: &[u8], base: &str, lenient: bool) -> Result<Vec<Triple>, String> {
    let mut parser = oxjsonld::JsonLdParser::new()
        .with_base_iri(base)
        .map_err(|e| e.to_string())?;
    if lenient {
        parser = parser.lenient();
    }
    parser
        .for_slice(body)
        .map(|q| q.map(Triple::from))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            let message = e.to_string();
            if message.contains("LoadDocumentCallback") {
                format!(
                    "{message} (samla does not fetch remote JSON-LD contexts; inline the @context)"
                )
            } else {
                message
            }
        })
}

/// Each distinct IRI and language tag of `triples` that breaks its grammar, in order of
/// first appearance.
fn invalid_terms<'a>(triples: &'a [Triple]) -> Vec<InvalidTerm> {
    let (mut iris, mut tags): (HashSet<&str>, HashSet<&str>) = Default::default();
    let mut invalid = Vec::new();
    let mut check = |value: &'a str, tag: bool| {
        if !(if tag { &mut tags } else { &mut iris }).insert(value) {
            return;
        }
        let (reason, what, complaint) = if tag {
            let complaint = oxilangtag::LanguageTag::parse(value).err();
            (
                Reason::InvalidLanguageTag,
                "language tag",
                complaint.map(|e| e.to_string()),
            )
        } else {
            let complaint = oxiri::Iri::parse(value).err();
            (Reason::InvalidIri, "IRI", complaint.map(|e| e.to_string()))
        };
        if let Some(e) = complaint {
            invalid.push(InvalidTerm {
                reason,
                message: format!("{value:?} is not a valid {what}: {e}"),
            });
        }
    };
    // Triples about one subject come together: its IRI is looked up once per run of them.
    let mut last_subject = None;
    for t in triples {
        if let NamedOrBlankNode::NamedNode(n) = &t.subject
            && last_subject != Some(n.as_str())
        {
            last_subject = Some(n.as_str());
            check(n.as_str(), false);
        }
        check(t.predicate.as_str(), false);
        match &t.object {
            Term::NamedNode(n) => check(n.as_str(), false),
            Term::Literal(l) => match l.language() {
                Some(tag) => check(tag, true),
                None if l.datatype() != xsd::STRING => check(l.datatype().as_str(), false),
                None => {}
            },
            _ => {}
        }
    }
    invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_starts_a_document_in_every_syntax() {
        let documents: [(RdfFormat, &str); 4] = [
            (RdfFormat::Turtle, "<http://a/d> <http://a/p> \"x\" ."),
            (RdfFormat::NTriples, "<http://a/d> <http://a/p> \"x\" .\n"),
            (
                RdfFormat::RdfXml,
                r#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:p="http://a/"><rdf:Description rdf:about="http://a/d"><p:p>x</p:p></rdf:Description></rdf:RDF>"#,
            ),
            (
                RdfFormat::JsonLd,
                r#"{"@id": "http://a/d", "http://a/p": "x"}"#,
            ),
        ];
        for (format, text) in documents {
            let body = [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat();
            let parsed = parse_rdf(&body, format, "http://a/").expect("parses");
            assert_eq!(parsed.triples.len(), 1, "{format}");
            assert_eq!(RdfFormat::sniff(&body), format_sniffed(format), "{format}");
        }
    }

    /// What sniffing takes each syntax for (N-Triples reads as Turtle, its superset).
    fn format_sniffed(format: RdfFormat) -> RdfFormat {
        if format == RdfFormat::NTriples {
            RdfFormat::Turtle
        } else {
            format
        }
    }

    #[test]
    fn sniffs_each_syntax() {
        assert_eq!(
            RdfFormat::sniff(b"  <?xml version='1.0'?><rdf:RDF/>"),
            RdfFormat::RdfXml
        );
        assert_eq!(RdfFormat::sniff(b"{\"@context\": {}}"), RdfFormat::JsonLd);
        assert_eq!(
            RdfFormat::sniff(b"@prefix dcat: <http://www.w3.org/ns/dcat#> ."),
            RdfFormat::Turtle
        );
        assert_eq!(
            RdfFormat::detect(Some("application/rdf+xml"), b"@prefix"),
            RdfFormat::RdfXml
        );
        assert_eq!(
            RdfFormat::detect(Some("text/plain"), b"<?xml"),
            RdfFormat::RdfXml
        );
    }

    #[test]
    fn a_syntax_error_names_its_position() {
        let e = parse_rdf(
            b"<http://a> <http://b> \"x\" .\n<http://a> <http://b> .",
            RdfFormat::Turtle,
            "http://base/",
        )
        .expect_err("malformed");
        assert!(e.contains("line 2") || e.contains("2:"), "{e}");
    }

    #[test]
    fn terms_that_break_their_grammar_are_kept_and_named_once() {
        let turtle = br#"@prefix dcat: <http://www.w3.org/ns/dcat#> .
            @prefix dcterms: <http://purl.org/dc/terms/> .
            <http://a/ds> a dcat:Dataset ; dcterms:title "Badplatser"@sv-kommunens ;
                dcat:contactPoint <tel:040 34 10 00> .
            <http://a/ds2> dcat:contactPoint <tel:040 34 10 00> ; dcterms:title "Ok"@sv ."#;
        let parsed = parse_rdf(turtle, RdfFormat::Turtle, "http://base/").expect("parses");
        assert_eq!(parsed.triples.len(), 5, "{:?}", parsed.triples);
        let reasons: Vec<&str> = parsed.invalid.iter().map(|i| i.reason.as_str()).collect();
        assert_eq!(
            reasons,
            ["invalid_language_tag", "invalid_iri"],
            "{:?}",
            parsed.invalid
        );
        assert!(parsed.invalid[1].message.contains("tel:040 34 10 00"));

        let rdfxml = br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
                xmlns:dcat="http://www.w3.org/ns/dcat#">
              <dcat:Dataset rdf:about="http://a/ds">
                <dcat:landingPage rdf:resource="http://kartor.example/?LAYER[id]=3"/>
              </dcat:Dataset></rdf:RDF>"#;
        let parsed = parse_rdf(rdfxml, RdfFormat::RdfXml, "http://base/").expect("parses");
        assert_eq!(parsed.triples.len(), 2, "{:?}", parsed.triples);
        assert_eq!(parsed.invalid.len(), 1, "{:?}", parsed.invalid);
        assert!(parsed.invalid[0].message.contains("LAYER[id]"));
    }

    #[test]
    fn valid_documents_parse_as_the_strict_parsers_read_them() {
        let turtle = br#"@base <http://kommun.example/data/> .
            @prefix dcat: <http://www.w3.org/ns/dcat#> .
            <ds/1> a dcat:Dataset ; <#title> "Lekplatser"@sv, "Playgrounds"@en ;
                dcat:distribution _:d . _:d dcat:accessURL <../api?x=1> ."#;
        let strict: Vec<Triple> = oxttl::TurtleParser::new()
            .with_base_iri("http://base/")
            .expect("base")
            .for_slice(turtle)
            .collect::<Result<_, _>>()
            .expect("strict");
        let parsed = parse_rdf(turtle, RdfFormat::Turtle, "http://base/").expect("parses");
        assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
        assert_eq!(parsed.triples, strict);
    }
}
