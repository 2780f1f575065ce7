//! RDF syntaxes: chosen by `Content-Type`, falling back to sniffing the bytes.

use crate::Reason;
use oxrdf::vocab::xsd;
use oxrdf::{NamedOrBlankNode, Term, Triple};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
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

/// Bounds on what reading one document may cost, whatever it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Triples one page may hold (`page_too_large`).
    pub max_triples: usize,
    /// Bytes one literal may hold; a longer one is left out by [`keep_within`]
    /// (`literal_too_long`).
    pub max_literal_bytes: usize,
    /// Bytes one IRI may hold; a triple with a longer one is left out by [`keep_within`]
    /// (`iri_too_long`).
    pub max_iri_bytes: usize,
    /// How deep XML elements and JSON arrays and objects may nest (`too_deep`).
    pub max_depth: usize,
    /// Bytes an XML document's entities may expand to, each and all their uses together
    /// (`entity_expansion`).
    pub max_entity_bytes: usize,
    /// Stretches of statements that do not parse before the rest of the page is given up
    /// (`malformed_statement`).
    pub max_errors: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            max_triples: 2_000_000,
            max_literal_bytes: 1 << 20,
            max_iri_bytes: 16 << 10,
            max_depth: 128,
            max_entity_bytes: 1 << 20,
            max_errors: 100,
        }
    }
}

/// Why a document, or a page, could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The run report's reason (`malformed_rdf`, `entity_expansion`, `too_deep`,
    /// `page_too_large`, `cancelled`).
    pub reason: Reason,
    /// What is wrong, and where.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// What a document parsed to.
#[derive(Debug)]
pub struct Parsed {
    /// Triples of every graph.
    pub triples: Vec<Triple>,
    /// What was wrong but did not cost the document: terms that break their grammar (an IRI
    /// with spaces, such as a phone number; a malformed language tag), each distinct value
    /// once, kept as published; statements that do not parse, left out; invalid UTF-8,
    /// replaced; or, for JSON-LD only its lenient mode reads, the strict parser's complaint.
    /// (Terms over the limits are left out after reading, by [`keep_within`].)
    pub problems: Vec<ReadProblem>,
    /// Whether statements were left out (did not parse), or reading stopped before the end
    /// (too many did not parse): a dataset may be missing.
    pub incomplete: bool,
}

/// Something wrong in a document that did not cost the whole of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadProblem {
    /// The run report's reason (`invalid_iri`, `malformed_statement`, `invalid_utf8`, …).
    pub reason: Reason,
    /// The value and what is wrong with it, and what samla did about it.
    pub message: String,
}

/// Parses `body` in `format`, resolving relative IRIs against `base`, within the default
/// [`ParseLimits`] and without a way to stop it: see [`parse_bounded`].
pub fn parse_rdf(body: &[u8], format: RdfFormat, base: &str) -> Result<Parsed, ParseError> {
    parse_bounded(body, format, base, &ParseLimits::default(), &|| false)
}

/// Parses `body` in `format`, resolving relative IRIs against `base`, within `limits`;
/// stops (with reason `cancelled`) soon after `stop` says so, so a run that ends frees what
/// its parse holds.
///
/// What can be read is kept. A leading byte-order mark is skipped; invalid UTF-8 is replaced
/// (U+FFFD) and reported. In every syntax the parsers resume after a statement that does not
/// parse (at the next `.` in Turtle, the next line in N-Triples, the next element in RDF/XML):
/// the statements before and after are kept and the bad ones reported, until
/// [`ParseLimits::max_errors`]; a document nothing of which parses fails. An RDF/XML
/// document whose entities expand past [`ParseLimits::max_entity_bytes`], or a document that
/// nests deeper than [`ParseLimits::max_depth`], fails before it is parsed.
///
/// Turtle, N-Triples and RDF/XML are read by the parsers' lenient mode, which leaves out
/// checking every IRI and language tag each time it occurs; samla checks each distinct one
/// once afterwards instead, and names those that break their grammar (a strict parse would
/// refuse the whole document). JSON-LD is read strictly, as its rules drop keys that map to
/// no IRI; a document only the lenient mode reads (keys out of streaming order, say) is kept,
/// with the strict parser's complaint.
pub fn parse_bounded(
    body: &[u8],
    format: RdfFormat,
    base: &str,
    limits: &ParseLimits,
    stop: &dyn Fn() -> bool,
) -> Result<Parsed, ParseError> {
    // A UTF-8 byte-order mark is legal at the start of a document; not every parser skips it.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if is_html(body) {
        // A web server's page (an error, a login) where the catalog should be: lenient
        // parsers would read its tags as IRIs.
        return Err(ParseError::new(
            Reason::MalformedRdf,
            "the answer is an HTML page, not RDF",
        ));
    }
    let mut problems = Vec::new();
    let body = match valid_utf8(body) {
        Ok(body) => std::borrow::Cow::Borrowed(body),
        Err((replaced, first)) => {
            problems.push(ReadProblem {
                reason: Reason::InvalidUtf8,
                message: format!(
                    "{replaced} byte sequence(s) that are not UTF-8 (the first at byte {first}) \
                     replaced with U+FFFD"
                ),
            });
            std::borrow::Cow::Owned(String::from_utf8_lossy(body).into_owned().into_bytes())
        }
    };
    match format {
        RdfFormat::RdfXml => guard_xml(&body, limits)?,
        RdfFormat::JsonLd => guard_json(&body, limits)?,
        RdfFormat::Turtle | RdfFormat::NTriples => {}
    }
    let mut read = Reading {
        limits,
        stop,
        triples: Vec::new(),
        problems,
        errors: 0,
        first_error: None,
        incomplete: false,
    };
    if format == RdfFormat::JsonLd {
        match parse_json_ld(&body, base) {
            Ok(triples) => read.triples = triples,
            Err(strict) => {
                read.parse(&body, format, base)?;
                if read.triples.is_empty() {
                    return Err(ParseError::new(Reason::MalformedRdf, strict));
                }
                read.problems.push(ReadProblem {
                    reason: Reason::InvalidJsonLd,
                    message: format!("read leniently: {strict}"),
                });
            }
        }
        return Ok(read.finish());
    }
    read.parse(&body, format, base)?;
    if read.triples.is_empty()
        && let Some(first) = read.first_error.take()
    {
        return Err(ParseError::new(Reason::MalformedRdf, first));
    }
    let invalid = invalid_terms(&read.triples);
    read.problems.extend(invalid);
    Ok(read.finish())
}

/// Whether a document starts as an HTML page does.
fn is_html(body: &[u8]) -> bool {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let head = body[start..body.len().min(start + 14)].to_ascii_lowercase();
    head.starts_with(b"<!doctype html") || head.starts_with(b"<html")
}

/// The document as UTF-8, or how many sequences are not and where the first starts.
fn valid_utf8(body: &[u8]) -> Result<&[u8], (usize, usize)> {
    match std::str::from_utf8(body) {
        Ok(_) => Ok(body),
        Err(e) => Err((
            body.utf8_chunks()
                .filter(|c| !c.invalid().is_empty())
                .count(),
            e.valid_up_to(),
        )),
    }
}

/// One document being read: its triples and what went wrong so far.
struct Reading<'a> {
    limits: &'a ParseLimits,
    stop: &'a dyn Fn() -> bool,
    triples: Vec<Triple>,
    problems: Vec<ReadProblem>,
    errors: usize,
    first_error: Option<String>,
    incomplete: bool,
}

impl Reading<'_> {
    /// Reads the document by the parsers' lenient mode, past statements that do not parse.
    fn parse(&mut self, body: &[u8], format: RdfFormat, base: &str) -> Result<(), ParseError> {
        let malformed = |e: String| ParseError::new(Reason::MalformedRdf, e);
        // About one triple per 80 bytes (the simulated region's pages run at 77, in every
        // syntax): saves regrowing the vector as it fills.
        self.triples
            .reserve((body.len() / 80).min(self.limits.max_triples));
        match format {
            RdfFormat::Turtle => self.collect(
                oxttl::TurtleParser::new()
                    .with_base_iri(base)
                    .map_err(|e| malformed(e.to_string()))?
                    .lenient()
                    .for_slice(body),
            ),
            RdfFormat::NTriples => {
                let before = self.problems.len();
                self.collect(oxttl::NTriplesParser::new().lenient().for_slice(body))?;
                if self.errors == 0 {
                    return Ok(());
                }
                // N-Triples is a line-based format, but the lenient parser lets a literal run
                // past the end of its line: a page with errors is read again line by line.
                self.triples.clear();
                self.problems.truncate(before);
                self.errors = 0;
                self.first_error = None;
                self.incomplete = false;
                for (number, line) in body.split(|b| *b == b'\n').enumerate() {
                    self.collect(
                        oxttl::NTriplesParser::new()
                            .lenient()
                            .for_slice(line)
                            .map(|t| t.map_err(|e| format!("line {}: {e}", number + 1))),
                    )?;
                    if self.errors > self.limits.max_errors {
                        break;
                    }
                }
                Ok(())
            }
            RdfFormat::RdfXml => self.collect(
                oxrdfxml::RdfXmlParser::new()
                    .with_base_iri(base)
                    .map_err(|e| malformed(e.to_string()))?
                    .lenient()
                    .for_slice(body),
            ),
            RdfFormat::JsonLd => self.collect(
                oxjsonld::JsonLdParser::new()
                    .with_base_iri(base)
                    .map_err(|e| malformed(e.to_string()))?
                    .lenient()
                    .for_slice(body)
                    .map(|q| q.map(Triple::from)),
            ),
        }
    }

    /// Takes the triples, each within the limits, and counts the statements that do not
    /// parse; checks `stop` every few thousand statements.
    fn collect<E: fmt::Display>(
        &mut self,
        statements: impl Iterator<Item = Result<Triple, E>>,
    ) -> Result<(), ParseError> {
        // Errors with no triple between them are one bad stretch (a parser may complain
        // several times before it finds its feet again): one problem each.
        let mut in_error = false;
        for (i, statement) in statements.enumerate() {
            if i % 4096 == 4095 && (self.stop)() {
                return Err(ParseError::new(Reason::Cancelled, "reading was stopped"));
            }
            let triple = match statement {
                Ok(triple) => {
                    in_error = false;
                    triple
                }
                Err(_) if in_error => continue,
                Err(e) => {
                    in_error = true;
                    let message = e.to_string();
                    self.errors += 1;
                    if self.errors > self.limits.max_errors {
                        self.incomplete = true;
                        self.problems.push(ReadProblem {
                            reason: Reason::MalformedStatement,
                            message: format!(
                                "more than {} statements do not parse; the rest of the page \
                                 was not read",
                                self.limits.max_errors
                            ),
                        });
                        return Ok(());
                    }
                    self.incomplete = true;
                    self.problems.push(ReadProblem {
                        reason: Reason::MalformedStatement,
                        message: format!("left out: {message}"),
                    });
                    self.first_error.get_or_insert(message);
                    continue;
                }
            };
            if self.triples.len() == self.limits.max_triples {
                return Err(ParseError::new(
                    Reason::PageTooLarge,
                    format!(
                        "the page holds more than {} triples",
                        self.limits.max_triples
                    ),
                ));
            }
            self.triples.push(triple);
        }
        Ok(())
    }

    fn finish(self) -> Parsed {
        Parsed {
            triples: self.triples,
            problems: self.problems,
            incomplete: self.incomplete,
        }
    }
}

/// Leaves out the triples with a literal or an IRI over the limits, whatever read them (a
/// parser or a JSON mapping): what was left out, and whether a dataset may be missing for it
/// (a statement about a subject with a too-long IRI may be the one that made it a dataset).
pub fn keep_within(triples: &mut Vec<Triple>, limits: &ParseLimits) -> (Vec<ReadProblem>, bool) {
    let (mut problems, mut incomplete) = (Vec::new(), false);
    triples.retain(|t| match over_limits(t, limits) {
        None => true,
        Some(problem) => {
            incomplete |= problem.reason != Reason::LiteralTooLong;
            problems.push(problem);
            false
        }
    });
    (problems, incomplete)
}

/// Why `triple` is left out: a literal or an IRI over the limits.
fn over_limits(triple: &Triple, limits: &ParseLimits) -> Option<ReadProblem> {
    let head = |s: &str| s.chars().take(60).collect::<String>();
    let iris = [
        match &triple.subject {
            NamedOrBlankNode::NamedNode(n) => Some(n.as_str()),
            NamedOrBlankNode::BlankNode(_) => None,
        },
        Some(triple.predicate.as_str()),
        match &triple.object {
            Term::NamedNode(n) => Some(n.as_str()),
            Term::Literal(l) => Some(l.datatype().as_str()),
            _ => None,
        },
    ];
    if let Some(iri) = iris
        .into_iter()
        .flatten()
        .find(|iri| iri.len() > limits.max_iri_bytes)
    {
        return Some(ReadProblem {
            reason: Reason::IriTooLong,
            message: format!(
                "left out a statement with an IRI of {} bytes (limit {}): {}…",
                iri.len(),
                limits.max_iri_bytes,
                head(iri)
            ),
        });
    }
    if let Term::Literal(l) = &triple.object
        && l.value().len() > limits.max_literal_bytes
    {
        return Some(ReadProblem {
            reason: Reason::LiteralTooLong,
            message: format!(
                "left out a {} value of {} bytes (limit {}) on {}: {}…",
                triple.predicate.as_str(),
                l.value().len(),
                limits.max_literal_bytes,
                triple.subject,
                head(l.value())
            ),
        });
    }
    None
}

/// Refuses an XML document whose entities expand past the limit (each declared entity, and
/// every use of them together: the parser expands each where it is declared) or whose
/// elements nest deeper than the limit. Syntax errors are left to the parser.
fn guard_xml(body: &[u8], limits: &ParseLimits) -> Result<(), ParseError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().check_end_names = false;
    let mut depth = 0usize;
    let mut entities: HashMap<String, usize> = HashMap::default();
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(ParseError::new(
                        Reason::TooDeep,
                        format!(
                            "elements nest deeper than {} levels (at byte {})",
                            limits.max_depth,
                            reader.buffer_position()
                        ),
                    ));
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::DocType(doctype)) => {
                entities = entity_sizes(&String::from_utf8_lossy(&doctype), limits)?;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    if entities.is_empty() {
        return Ok(());
    }
    // Every use of an entity in the document, expanded.
    let mut total = 0usize;
    let text = String::from_utf8_lossy(body);
    for (i, _) in text.match_indices('&') {
        let rest = &text[i + 1..];
        if let Some(end) = rest.get(..rest.len().min(128)).and_then(|r| r.find(';'))
            && let Some(size) = entities.get(&rest[..end])
        {
            total = total.saturating_add(*size);
            if total > limits.max_entity_bytes {
                return Err(ParseError::new(
                    Reason::EntityExpansion,
                    format!(
                        "the document's entities expand past {} bytes",
                        limits.max_entity_bytes
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// What each `<!ENTITY name "value">` of a DTD expands to, in bytes, read as the RDF/XML
/// parser reads them (a value may use the entities declared before it); an error when one
/// expands past the limit.
fn entity_sizes(doctype: &str, limits: &ParseLimits) -> Result<HashMap<String, usize>, ParseError> {
    let mut sizes: HashMap<String, usize> = HashMap::default();
    for declaration in doctype.split('<').skip(1) {
        let Some(rest) = declaration.strip_prefix("!ENTITY") else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = rest.strip_prefix('%').unwrap_or(rest).trim_start();
        let Some((name, rest)) = rest.split_once(|c: char| c.is_ascii_whitespace()) else {
            continue;
        };
        let Some(value) = rest
            .trim_start()
            .strip_prefix('"')
            .and_then(|v| v.split_once('"'))
            .map(|(v, _)| v)
        else {
            continue;
        };
        let mut size = value.len();
        for (i, _) in value.match_indices('&') {
            if let Some(end) = value[i + 1..].find(';')
                && let Some(used) = sizes.get(&value[i + 1..i + 1 + end])
            {
                size = size.saturating_add(*used);
            }
        }
        if size > limits.max_entity_bytes {
            return Err(ParseError::new(
                Reason::EntityExpansion,
                format!(
                    "entity &{name}; expands to more than {} bytes",
                    limits.max_entity_bytes
                ),
            ));
        }
        sizes.insert(name.to_string(), size);
    }
    Ok(sizes)
}

/// Refuses a JSON document whose arrays and objects nest deeper than the limit.
fn guard_json(body: &[u8], limits: &ParseLimits) -> Result<(), ParseError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in body.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(ParseError::new(
                        Reason::TooDeep,
                        format!(
                            "arrays and objects nest deeper than {} levels (at byte {i})",
                            limits.max_depth
                        ),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The JSON-LD document by the strict parser, or its complaint.
fn parse_json_ld(body: &[u8], base: &str) -> Result<Vec<Triple>, String> {
    oxjsonld::JsonLdParser::new()
        .with_base_iri(base)
        .map_err(|e| e.to_string())?
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
fn invalid_terms<'a>(triples: &'a [Triple]) -> Vec<ReadProblem> {
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
            invalid.push(ReadProblem {
                reason,
                message: format!("kept as published: {value:?} is not a valid {what}: {e}"),
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
    fn a_document_nothing_of_which_parses_fails_with_its_position() {
        let e = parse_rdf(
            b"<http://a> <http://b> .\n<http://a> <http://b> .",
            RdfFormat::Turtle,
            "http://base/",
        )
        .expect_err("malformed");
        assert_eq!(e.reason, Reason::MalformedRdf);
        assert!(
            e.message.contains("line 1") || e.message.contains("1:"),
            "{e}"
        );
    }

    /// Each syntax's reading of a document with one bad statement between good ones.
    fn recovers(format: RdfFormat, body: &str, kept: usize) {
        let parsed = parse_rdf(body.as_bytes(), format, "http://base/").expect("recovers");
        assert_eq!(parsed.triples.len(), kept, "{format}: {:?}", parsed.triples);
        assert!(parsed.incomplete, "{format}");
        let reasons: Vec<Reason> = parsed.problems.iter().map(|p| p.reason).collect();
        assert_eq!(
            reasons,
            [Reason::MalformedStatement],
            "{format}: {:?}",
            parsed.problems
        );
    }

    #[test]
    fn statements_around_a_bad_one_are_kept_in_every_syntax() {
        recovers(
            RdfFormat::NTriples,
            "<http://a/1> <http://a/p> \"x\" .\n<http://a/2> <http://a/p> \"broken .\n\
             <http://a/3> <http://a/p> \"z\" .\n",
            2,
        );
        recovers(
            RdfFormat::Turtle,
            "<http://a/1> <http://a/p> \"x\" .\n<http://a/2> <http://a/p> <http://a/q> <http://a/r> .\n\
             <http://a/3> <http://a/p> \"z\" .\n",
            2,
        );
        // Text inside a node element, as one real catalog has it.
        recovers(
            RdfFormat::RdfXml,
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
                xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
              <dcat:Dataset rdf:about="http://a/1">stray text<dct:title>Ett</dct:title></dcat:Dataset>
              <dcat:Dataset rdf:about="http://a/2"><dct:title>Två</dct:title></dcat:Dataset>
            </rdf:RDF>"#,
            4,
        );
    }

    #[test]
    fn an_html_page_is_not_read_as_rdf() {
        for body in [
            "<!DOCTYPE html>\n<html><body>Not found</body></html>",
            "  <HTML><head><title>Logga in</title></head></HTML>",
        ] {
            for format in [RdfFormat::Turtle, RdfFormat::NTriples, RdfFormat::RdfXml] {
                let e = parse_rdf(body.as_bytes(), format, "http://b/").expect_err("html");
                assert_eq!(e.reason, Reason::MalformedRdf, "{format}: {e}");
            }
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_and_named() {
        let body = b"<http://a/1> <http://a/p> \"caf\xE9\" .\n<http://a/2> <http://a/p> \"ok\" .\n";
        let parsed = parse_rdf(body, RdfFormat::NTriples, "http://base/").expect("reads");
        assert_eq!(parsed.triples.len(), 2);
        assert!(!parsed.incomplete);
        assert_eq!(parsed.problems[0].reason, Reason::InvalidUtf8);
        assert!(
            parsed.problems[0].message.contains("byte 30"),
            "{:?}",
            parsed.problems
        );
        assert!(parsed.triples[0].to_string().contains("caf\u{FFFD}"));
    }

    #[test]
    fn entities_that_expand_without_bound_are_refused_before_parsing() {
        let mut dtd = String::from(r#"<!ENTITY lol0 "lollollollollollollollollollol">"#);
        for i in 1..10 {
            let refs = format!("&lol{};", i - 1).repeat(10);
            dtd.push_str(&format!(r#"<!ENTITY lol{i} "{refs}">"#));
        }
        let body = format!(
            r#"<?xml version="1.0"?><!DOCTYPE rdf:RDF [{dtd}]>
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/">
            <rdf:Description rdf:about="http://a/1"><dct:title>&lol9;</dct:title></rdf:Description></rdf:RDF>"#
        );
        let e = parse_rdf(body.as_bytes(), RdfFormat::RdfXml, "http://base/").expect_err("refused");
        assert_eq!(e.reason, Reason::EntityExpansion, "{e}");
        // Entities used so often that together they pass the limit.
        let many = format!(
            r#"<?xml version="1.0"?><!DOCTYPE rdf:RDF [<!ENTITY big "{}">]>
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/">
            <rdf:Description rdf:about="http://a/1"><dct:title>{}</dct:title></rdf:Description></rdf:RDF>"#,
            "x".repeat(60_000),
            "&big;".repeat(20)
        );
        let e = parse_rdf(many.as_bytes(), RdfFormat::RdfXml, "http://base/").expect_err("refused");
        assert_eq!(e.reason, Reason::EntityExpansion, "{e}");
        // A document's own small entities are read as before.
        let small = r#"<?xml version="1.0"?><!DOCTYPE rdf:RDF [<!ENTITY dct "http://purl.org/dc/terms/">]>
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
            <rdf:Description rdf:about="http://a/1"><rdf:type rdf:resource="&dct;Standard"/></rdf:Description></rdf:RDF>"#;
        let parsed = parse_rdf(small.as_bytes(), RdfFormat::RdfXml, "http://base/").expect("reads");
        assert_eq!(parsed.triples.len(), 1);
        assert!(
            parsed.triples[0]
                .to_string()
                .contains("http://purl.org/dc/terms/Standard")
        );
    }

    #[test]
    fn documents_nested_too_deep_are_refused() {
        let xml = format!(
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:p="http://a/">{}{}</rdf:RDF>"#,
            "<rdf:Description><p:p>".repeat(200),
            "</p:p></rdf:Description>".repeat(200)
        );
        let e = parse_rdf(xml.as_bytes(), RdfFormat::RdfXml, "http://base/").expect_err("deep");
        assert_eq!(e.reason, Reason::TooDeep, "{e}");
        let json = format!(
            r#"{{"@id": "http://a/1", "http://a/p": {}1{}}}"#,
            "[".repeat(500),
            "]".repeat(500)
        );
        let e = parse_rdf(json.as_bytes(), RdfFormat::JsonLd, "http://base/").expect_err("deep");
        assert_eq!(e.reason, Reason::TooDeep, "{e}");
        // Brackets inside strings are text.
        let text = format!(
            r#"{{"@id": "http://a/1", "http://a/p": "{}"}}"#,
            "[".repeat(500)
        );
        parse_rdf(text.as_bytes(), RdfFormat::JsonLd, "http://base/").expect("reads");
    }

    #[test]
    fn terms_over_the_limits_are_left_out_and_named() {
        let limits = ParseLimits {
            max_literal_bytes: 100,
            max_iri_bytes: 100,
            ..ParseLimits::default()
        };
        let body = format!(
            "<http://a/1> <http://a/p> \"{}\" .\n<http://a/{}> <http://a/p> \"x\" .\n<http://a/3> <http://a/p> \"y\" .\n",
            "x".repeat(101),
            "i".repeat(100)
        );
        let mut parsed = parse_bounded(
            body.as_bytes(),
            RdfFormat::NTriples,
            "http://b/",
            &limits,
            &|| false,
        )
        .expect("reads");
        let (problems, incomplete) = keep_within(&mut parsed.triples, &limits);
        assert_eq!(parsed.triples.len(), 1);
        let reasons: Vec<Reason> = problems.iter().map(|p| p.reason).collect();
        assert_eq!(reasons, [Reason::LiteralTooLong, Reason::IriTooLong]);
        assert!(incomplete, "a statement about a subject was left out");
        let few = ParseLimits {
            max_triples: 2,
            ..ParseLimits::default()
        };
        let e = parse_bounded(
            body.as_bytes(),
            RdfFormat::NTriples,
            "http://b/",
            &few,
            &|| false,
        )
        .expect_err("over");
        assert_eq!(e.reason, Reason::PageTooLarge);
    }

    #[test]
    fn a_stopped_parse_ends_early() {
        let body = "<http://a/1> <http://a/p> \"x\" .\n".repeat(10_000);
        let e = parse_bounded(
            body.as_bytes(),
            RdfFormat::NTriples,
            "http://b/",
            &ParseLimits::default(),
            &|| true,
        )
        .expect_err("stopped");
        assert_eq!(e.reason, Reason::Cancelled);
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
        let reasons: Vec<&str> = parsed.problems.iter().map(|i| i.reason.as_str()).collect();
        assert_eq!(
            reasons,
            ["invalid_language_tag", "invalid_iri"],
            "{:?}",
            parsed.problems
        );
        assert!(parsed.problems[1].message.contains("tel:040 34 10 00"));

        let rdfxml = br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
                xmlns:dcat="http://www.w3.org/ns/dcat#">
              <dcat:Dataset rdf:about="http://a/ds">
                <dcat:landingPage rdf:resource="http://kartor.example/?LAYER[id]=3"/>
              </dcat:Dataset></rdf:RDF>"#;
        let parsed = parse_rdf(rdfxml, RdfFormat::RdfXml, "http://base/").expect("parses");
        assert_eq!(parsed.triples.len(), 2, "{:?}", parsed.triples);
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
        assert!(parsed.problems[0].message.contains("LAYER[id]"));
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
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.triples, strict);
    }
}
