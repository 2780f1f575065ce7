//! A reader of the canonical N-Triples samla stores: one triple a line, each written as
//! oxrdf prints it (see `record::write_ntriples_line`). Reading a stored record back is
//! most of the CPU time of rebuilding the index from the store, and a general N-Triples
//! parser spends most of its own on what this form never holds (comments, other white
//! space, IRI escapes, upper-case language tags).
//!
//! It takes only that form: any line it does not know gives `None`, and the caller parses
//! the whole graph with the general parser (see `record::parse_canonical` and
//! [`read_stored`](crate::record::read_stored)). So what it does take it reads exactly as the
//! general parser does (a test checks it against oxttl line by line). A [`Graph`] it reads
//! borrows its terms from the text.

use oxrdf::{
    BlankNodeRef, Literal, LiteralRef, NamedNodeRef, NamedOrBlankNodeRef, TermRef, TripleRef,
};
use std::borrow::Cow;

/// A graph read from its canonical N-Triples without copying it: every term is a slice of
/// the text, but for the literals whose value had escapes (or whose language tag had
/// capitals), which it holds.
#[derive(Debug)]
pub struct Graph<'a> {
    lines: Vec<Line<'a>>,
    owned: Vec<Literal>,
}

#[derive(Debug)]
struct Line<'a> {
    subject: NamedOrBlankNodeRef<'a>,
    predicate: NamedNodeRef<'a>,
    object: Object<'a>,
}

#[derive(Debug)]
enum Object<'a> {
    Borrowed(TermRef<'a>),
    /// A literal [`Graph::owned`] holds, by its place there.
    Owned(usize),
}

impl Graph<'_> {
    /// Its triples, in the order of the text.
    pub fn triples(&self) -> Vec<TripleRef<'_>> {
        self.lines
            .iter()
            .map(|l| {
                let object = match l.object {
                    Object::Borrowed(term) => term,
                    Object::Owned(at) => self.owned[at].as_ref().into(),
                };
                TripleRef::new(l.subject, l.predicate, object)
            })
            .collect()
    }

    /// Its triples, copied out of the text.
    pub(crate) fn to_owned_triples(&self) -> Vec<oxrdf::Triple> {
        self.triples()
            .into_iter()
            .map(TripleRef::into_owned)
            .collect()
    }
}

/// The triples of `text`, or `None` when a line is not in the canonical form.
#[cfg(test)]
fn read(text: &str) -> Option<Vec<oxrdf::Triple>> {
    borrow(text).map(|graph| graph.to_owned_triples())
}

/// The graph of `text`, borrowed from it, or `None` when a line is not in the canonical
/// form.
pub(crate) fn borrow(text: &str) -> Option<Graph<'_>> {
    let mut graph = Graph {
        lines: Vec::with_capacity(text.len() / 96 + 1),
        owned: Vec::new(),
    };
    for line in text.split('\n') {
        if !line.is_empty() {
            let line = triple(line, &mut graph.owned)?;
            graph.lines.push(line);
        }
    }
    Some(graph)
}

/// `<s> <p> o .`, with a blank node as subject or object, nothing else between; a literal
/// that cannot be borrowed goes to `owned`.
fn triple<'a>(line: &'a str, owned: &mut Vec<Literal>) -> Option<Line<'a>> {
    let (subject, rest) = match line.as_bytes().first()? {
        b'<' => {
            let (iri, rest) = iri(line)?;
            (NamedOrBlankNodeRef::from(iri), rest)
        }
        _ => {
            let (node, rest) = blank(line)?;
            (NamedOrBlankNodeRef::from(node), rest)
        }
    };
    let (predicate, rest) = iri(rest.strip_prefix(' ')?)?;
    let rest = rest.strip_prefix(' ')?;
    let (object, rest) = match rest.as_bytes().first()? {
        b'<' => {
            let (iri, rest) = iri(rest)?;
            (Object::Borrowed(iri.into()), rest)
        }
        b'"' => literal(rest, owned)?,
        _ => {
            let (node, rest) = blank(rest)?;
            (Object::Borrowed(node.into()), rest)
        }
    };
    (rest == " .").then_some(Line {
        subject,
        predicate,
        object,
    })
}

/// `<iri>`: an absolute IRI without white space, escapes or the characters the IRI grammar
/// leaves out of every IRI.
fn iri(s: &str) -> Option<(NamedNodeRef<'_>, &str)> {
    let s = s.strip_prefix('<')?;
    let end = s.bytes().position(|b| !IRI_BYTE[usize::from(b)])?;
    let iri = &s[..end];
    (s.as_bytes()[end] == b'>' && iri.contains(':'))
        .then(|| (NamedNodeRef::new_unchecked(iri), &s[end + 1..]))
}

/// The bytes [`iri`] reads in an IRI (a table: a test of each byte is the most of its time).
const IRI_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x21;
    while b < 256 {
        table[b] = !matches!(
            b as u8,
            b'<' | b'>' | b'"' | b'{' | b'}' | b'|' | b'^' | b'`' | b'\\' | 0x7F
        );
        b += 1;
    }
    table
};

/// `_:label`, the label of ASCII letters, digits, `_` and `-`, not starting with `-`.
fn blank(s: &str) -> Option<(BlankNodeRef<'_>, &str)> {
    let s = s.strip_prefix("_:")?;
    let end = s
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .unwrap_or(s.len());
    let label = &s[..end];
    (!label.is_empty() && !label.starts_with('-'))
        .then(|| (BlankNodeRef::new_unchecked(label), &s[end..]))
}

/// A literal the text does not hold as it is read (its value unescaped, or its language tag
/// lower-cased), kept in `owned`.
fn keep<'a>(owned: &mut Vec<Literal>, literal: Literal) -> Object<'a> {
    owned.push(literal);
    Object::Owned(owned.len() - 1)
}

/// `"value"`, `"value"@lang` or `"value"^^<datatype>`: borrowed from the text, or kept in
/// `owned`.
fn literal<'a>(s: &'a str, owned: &mut Vec<Literal>) -> Option<(Object<'a>, &'a str)> {
    let (value, rest) = quoted(s.strip_prefix('"')?)?;
    if let Some(rest) = rest.strip_prefix('@') {
        let end = rest.find(' ').unwrap_or(rest.len());
        let language = &rest[..end];
        let well_formed = language.split('-').enumerate().all(|(i, part)| {
            !part.is_empty()
                && if i == 0 {
                    part.bytes().all(|b| b.is_ascii_alphabetic())
                } else {
                    part.bytes().all(|b| b.is_ascii_alphanumeric())
                }
        });
        if !well_formed {
            return None;
        }
        let literal = match value {
            Cow::Borrowed(value) if !language.bytes().any(|b| b.is_ascii_uppercase()) => {
                Object::Borrowed(
                    LiteralRef::new_language_tagged_literal_unchecked(value, language).into(),
                )
            }
            value => keep(
                owned,
                Literal::new_language_tagged_literal_unchecked(
                    value,
                    language.to_ascii_lowercase(),
                ),
            ),
        };
        return Some((literal, &rest[end..]));
    }
    if let Some(rest) = rest.strip_prefix("^^") {
        let (datatype, rest) = iri(rest)?;
        let literal = match value {
            Cow::Borrowed(value) => {
                Object::Borrowed(LiteralRef::new_typed_literal(value, datatype).into())
            }
            Cow::Owned(value) => keep(owned, Literal::new_typed_literal(value, datatype)),
        };
        return Some((literal, rest));
    }
    let literal = match value {
        Cow::Borrowed(value) => Object::Borrowed(LiteralRef::new_simple_literal(value).into()),
        Cow::Owned(value) => keep(owned, Literal::new_simple_literal(value)),
    };
    Some((literal, rest))
}

/// The value of a quoted string up to its closing quote (the opening one read), unescaped
/// (borrowed when it has no escapes), and what follows the closing quote.
fn quoted(s: &str) -> Option<(Cow<'_, str>, &str)> {
    let end = s.find(['"', '\\', '\r'])?;
    match s.as_bytes()[end] {
        b'"' => return Some((Cow::Borrowed(&s[..end]), &s[end + 1..])),
        b'\r' => return None,
        _ => {}
    }
    let mut value = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let rest = chars.as_str();
                return Some((Cow::Owned(value), rest));
            }
            '\\' => {
                let e = chars.next()?;
                value.push(match e {
                    't' => '\t',
                    'b' => '\u{8}',
                    'n' => '\n',
                    'r' => '\r',
                    'f' => '\u{C}',
                    '"' => '"',
                    '\'' => '\'',
                    '\\' => '\\',
                    'u' | 'U' => {
                        let digits = if e == 'u' { 4 } else { 8 };
                        let rest = chars.as_str();
                        let hex = rest.get(..digits)?;
                        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return None;
                        }
                        let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                        chars = rest[digits..].chars();
                        c
                    }
                    _ => return None,
                });
            }
            // A line break cannot be in a line; a raw one means the form is not ours.
            '\n' | '\r' => return None,
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::write_ntriples_line;
    use oxrdf::{BlankNode, NamedNode, NamedOrBlankNode, Term, Triple};
    use proptest::prelude::*;

    /// What oxttl reads of `text`, leniently, as `parse_canonical` falls back to.
    fn general(text: &str) -> Option<Vec<Triple>> {
        oxttl::NTriplesParser::new()
            .lenient()
            .for_slice(text.as_bytes())
            .collect::<Result<_, _>>()
            .ok()
    }

    /// Reads `text` as the general parser does, or leaves it to it.
    fn agrees(text: &str) -> bool {
        match read(text) {
            Some(triples) => general(text) == Some(triples),
            None => true,
        }
    }

    /// Characters a harvested literal may hold: every escape, controls, quotes, the
    /// non-characters oxrdf escapes, letters beyond the basic plane.
    const ALPHABET: &str =
        "aZ09 ÅäöéΩ漢😀\"\\\n\r\t\u{8}\u{C}\u{0}\u{1}\u{1F}\u{7F}\u{FFFE}\u{FFFF}'<>^@._-:/#?";

    /// A literal's value: any string, or one of [`ALPHABET`]'s characters.
    fn value() -> impl Strategy<Value = String> {
        let alphabet: Vec<char> = ALPHABET.chars().collect();
        prop_oneof![
            any::<String>(),
            prop::collection::vec(prop::sample::select(alphabet), 0..12)
                .prop_map(|chars| chars.into_iter().collect()),
        ]
    }

    /// An object of any kind samla writes: plain, language-tagged and typed literals (four
    /// datatypes, `xsd:string` and `rdf:langString` among them), IRIs and blank nodes.
    fn object() -> impl Strategy<Value = Term> {
        let datatypes = [
            "http://www.w3.org/2001/XMLSchema#date",
            "http://www.w3.org/2001/XMLSchema#string",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
            "https://example.org/ä/type",
        ];
        (
            0..6usize,
            value(),
            prop::sample::select(datatypes.to_vec()),
            0..1000u32,
        )
            .prop_map(|(kind, value, datatype, n)| match kind {
                0 => Literal::new_simple_literal(value).into(),
                1 => Literal::new_language_tagged_literal_unchecked(value, "sv").into(),
                2 => Literal::new_language_tagged_literal_unchecked(value, "en-gb").into(),
                3 => Literal::new_typed_literal(value, NamedNode::new_unchecked(datatype)).into(),
                4 => NamedNode::new_unchecked(format!("https://example.org/ä?x={n}#y")).into(),
                _ => BlankNode::new_unchecked(format!("b{n}")).into(),
            })
    }

    proptest! {
        #[test]
        fn reads_every_line_samla_writes_as_the_general_parser_does(
            objects in prop::collection::vec((any::<bool>(), object()), 1..40),
        ) {
            let p = NamedNode::new_unchecked("http://purl.org/dc/terms/title");
            let mut text = String::new();
            let mut triples = Vec::new();
            for (i, (blank_subject, object)) in objects.into_iter().enumerate() {
                let subject: NamedOrBlankNode = if blank_subject {
                    BlankNode::new_unchecked(format!("node-{i}")).into()
                } else {
                    NamedNode::new_unchecked("https://example.org/d/1").into()
                };
                let t = Triple::new(subject, p.clone(), object);
                write_ntriples_line(&mut text, t.as_ref());
                text.push('\n');
                triples.push(t);
            }
            // All of it is read here, not left to the general parser, and read as written.
            prop_assert_eq!(read(&text), Some(triples.clone()));
            prop_assert_eq!(general(&text), Some(triples));
        }
    }

    #[test]
    fn leaves_what_it_does_not_know_to_the_general_parser() {
        let ours = "<https://e.org/d> <http://purl.org/dc/terms/title> \"Bad\"@sv .";
        assert!(read(ours).is_some());
        let cases = [
            // Other white space, line ends and comments.
            "<https://e.org/d>  <http://purl.org/dc/terms/title> \"Bad\" .",
            "<https://e.org/d>\t<http://purl.org/dc/terms/title> \"Bad\" .",
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"Bad\" .\r\n",
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"Bad\".",
            "# a comment",
            // Escapes the general parser reads too: it must agree.
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"\\u00E5\\U0001F600\\'\" .",
            "<https://e.org/\\u00E5> <http://purl.org/dc/terms/title> \"x\" .",
            // Upper-case and malformed language tags, directions.
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"Bad\"@SV-se .",
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"Bad\"@sv- .",
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"Bad\"@ .",
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"Bad\"@ar--rtl .",
            // Broken or unusual terms.
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"\\uD800\" .",
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"\\q\" .",
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"open .",
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"a\rb\" .",
            "<relative> <http://purl.org/dc/terms/title> \"x\" .",
            "<https://e.org/a b> <http://purl.org/dc/terms/title> \"x\" .",
            "_:-b <http://purl.org/dc/terms/title> \"x\" .",
            "_:b.c <http://purl.org/dc/terms/title> \"x\" .",
            "<https://e.org/d> _:p \"x\" .",
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"x\" . extra",
            "<https://e.org/d> <http://purl.org/dc/terms/title> \"x\"^^<bad type> .",
        ];
        for case in cases {
            assert!(
                agrees(case),
                "{case:?} read otherwise than the general parser"
            );
            let with_ours = format!("{ours}\n{case}\n");
            assert!(agrees(&with_ours), "{with_ours:?}");
        }
        // The escapes it does read, it reads as the general parser.
        let escaped = cases[5];
        assert!(read(escaped).is_some());
        assert!(read(cases[1]).is_none() && read(cases[4]).is_none());
    }
}
