//! RDF syntaxes: chosen by `Content-Type`, falling back to sniffing the bytes.

use oxrdf::Triple;
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
    /// The format a media type names, if any.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            "text/turtle" | "application/x-turtle" | "text/n3" => Some(Self::Turtle),
            "application/n-triples" => Some(Self::NTriples),
            "application/rdf+xml" => Some(Self::RdfXml),
            "application/ld+json" => Some(Self::JsonLd),
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
    /// Set when the document only parsed leniently (invalid IRIs, such as a phone number
    /// with spaces): the strict parser's complaint, to report.
    pub lenient: Option<String>,
}

/// Parses `body` in `format`, resolving relative IRIs against `base`. A syntax error fails
/// the whole document; IRIs that break the IRI grammar are kept, and said so in
/// [`Parsed::lenient`].
pub fn parse_rdf(body: &[u8], format: RdfFormat, base: &str) -> Result<Parsed, String> {
    match parse_strictly(body, format, base, false) {
        Ok(triples) => Ok(Parsed {
            triples,
            lenient: None,
        }),
        Err(strict) => match parse_strictly(body, format, base, true) {
            Ok(triples) => Ok(Parsed {
                triples,
                lenient: Some(strict),
            }),
            Err(_) => Err(strict),
        },
    }
}

fn parse_strictly(
    body: &[u8],
    format: RdfFormat,
    base: &str,
    lenient: bool,
) -> Result<Vec<Triple>, String> {
    match format {
        RdfFormat::Turtle => {
            let mut parser = oxttl::TurtleParser::new()
                .with_base_iri(base)
                .map_err(|e| e.to_string())?;
            if lenient {
                parser = parser.lenient();
            }
            parser
                .for_slice(body)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())
        }
        RdfFormat::NTriples => {
            let mut parser = oxttl::NTriplesParser::new();
            if lenient {
                parser = parser.lenient();
            }
            parser
                .for_slice(body)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())
        }
        RdfFormat::RdfXml => {
            let mut parser = oxrdfxml::RdfXmlParser::new()
                .with_base_iri(base)
                .map_err(|e| e.to_string())?;
            if lenient {
                parser = parser.lenient();
            }
            parser
                .for_slice(body)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())
        }
        RdfFormat::JsonLd => {
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
                        format!("{message} (samla does not fetch remote JSON-LD contexts; inline the @context)")
                    } else {
                        message
                    }
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
