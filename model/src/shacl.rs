//! A SHACL Core validator for the shape features the DCAT-AP 3 shapes use.
//!
//! Supported: targets by class (`sh:targetClass`, with `rdfs:subClassOf` in the data),
//! node and property shapes (`sh:property`, nested), paths that are a predicate or
//! `sh:inversePath`, `sh:minCount`, `sh:maxCount`, `sh:nodeKind`, `sh:datatype`, `sh:class`,
//! `sh:node`, `sh:or`, `sh:in`, `sh:hasValue`, `sh:pattern` (with `sh:flags`), `sh:closed`
//! (with `sh:ignoredProperties`), `sh:severity`, `sh:message` and `sh:deactivated`. Any
//! other `sh:` constraint found in a shapes graph is listed in [`Shapes::unsupported`] rather
//! than silently passed. Datatype checks compare the datatype IRI; lexical forms are not
//! validated.
//!
//! A graph *conforms* here when validation yields no result of severity `sh:Violation`
//! (warnings and infos are reported but do not fail it), which is how the DCAT-AP
//! compliance indicator of the MQA reads the SHACL report.

use oxrdf::{NamedNode, NamedNodeRef, NamedOrBlankNodeRef, Term, TermRef, Triple, TripleRef};
use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::BTreeSet;

const SH: &str = "http://www.w3.org/ns/shacl#";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";
const SUB_CLASS_OF: &str = "http://www.w3.org/2000/01/rdf-schema#subClassOf";

/// The shapes this validator knows how to check; anything else under `sh:` is unsupported.
const KNOWN: &[&str] = &[
    "NodeShape",
    "PropertyShape",
    "targetClass",
    "property",
    "path",
    "inversePath",
    "minCount",
    "maxCount",
    "nodeKind",
    "datatype",
    "class",
    "node",
    "or",
    "in",
    "hasValue",
    "pattern",
    "flags",
    "closed",
    "ignoredProperties",
    "severity",
    "message",
    "deactivated",
    "name",
    "description",
    "order",
    "group",
    "Violation",
    "Warning",
    "Info",
    "IRI",
    "Literal",
    "BlankNode",
    "BlankNodeOrIRI",
    "BlankNodeOrLiteral",
    "IRIOrLiteral",
    // Not SHACL Core (an old spelling in some DCAT-AP files): ignored as validators ignore it.
    "shape",
];

/// How serious a result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// `sh:Info`.
    Info,
    /// `sh:Warning`.
    Warning,
    /// `sh:Violation`.
    Violation,
}

/// One validation result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationResult {
    /// The focus node.
    pub focus: String,
    /// The property path, if a property shape.
    pub path: Option<String>,
    /// The offending value, if one.
    pub value: Option<String>,
    /// The constraint component (`minCount`, `nodeKind`, …).
    pub constraint: &'static str,
    /// How serious.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

/// The outcome of validating a graph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    /// No violation.
    pub conforms: bool,
    /// Every result.
    pub results: Vec<ValidationResult>,
}

/// A shapes-graph error.
#[derive(Debug, thiserror::Error)]
pub enum ShapesError {
    /// The Turtle does not parse.
    #[error("the shapes graph does not parse: {0}")]
    Syntax(String),
    /// A constraint is malformed.
    #[error("shape {shape}: {problem}")]
    Shape {
        /// The shape.
        shape: String,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Iri,
    Literal,
    Blank,
    BlankOrIri,
    BlankOrLiteral,
    IriOrLiteral,
}

#[derive(Debug, Clone)]
enum Path {
    Predicate(NamedNode),
    Inverse(NamedNode),
}

#[derive(Debug, Clone)]
enum Constraint {
    MinCount(usize),
    MaxCount(usize),
    NodeKind(NodeKind),
    Datatype(NamedNode),
    Class(NamedNode),
    Node(usize),
    Or(Vec<usize>),
    In(Vec<Term>),
    HasValue(Term),
    Pattern(Regex),
    /// The predicates allowed.
    Closed(FxHashSet<String>),
}

#[derive(Debug, Clone)]
struct Shape {
    id: String,
    path: Option<Path>,
    constraints: Vec<Constraint>,
    properties: Vec<usize>,
    severity: Severity,
    message: Option<String>,
    deactivated: bool,
}

/// A loaded shapes graph.
#[derive(Debug, Clone)]
pub struct Shapes {
    shapes: Vec<Shape>,
    targets: Vec<(NamedNode, usize)>,
    /// `sh:` terms found in the graph that this validator does not check.
    pub unsupported: BTreeSet<String>,
}

/// A graph's triples by subject. Its terms are borrowed (from the triples it was made from),
/// so neither building it nor looking a subject up copies a term.
struct Graph<'a> {
    out: FxHashMap<NamedOrBlankNodeRef<'a>, Vec<(NamedNodeRef<'a>, TermRef<'a>)>>,
}

impl<'a> Graph<'a> {
    fn new(triples: &[TripleRef<'a>]) -> Self {
        let mut out: FxHashMap<NamedOrBlankNodeRef<'a>, Vec<(NamedNodeRef<'a>, TermRef<'a>)>> =
            FxHashMap::default();
        for t in triples {
            out.entry(t.subject)
                .or_default()
                .push((t.predicate, t.object));
        }
        Graph { out }
    }

    /// The objects of `s`'s triples with predicate `p`.
    fn objects<'g>(&'g self, s: TermRef<'a>, p: &'g str) -> impl Iterator<Item = TermRef<'a>> + 'g {
        subject(s)
            .and_then(|s| self.out.get(&s))
            .into_iter()
            .flatten()
            .filter(move |(q, _)| q.as_str() == p)
            .map(|(_, o)| *o)
    }

    fn one(&self, s: TermRef<'a>, p: &str) -> Option<TermRef<'a>> {
        self.objects(s, p).next()
    }

    fn list(&self, head: TermRef<'a>) -> Vec<TermRef<'a>> {
        let mut items = Vec::new();
        let mut node = head;
        let mut seen = FxHashSet::default();
        while !matches!(node, TermRef::NamedNode(n) if n.as_str() == RDF_NIL) && seen.insert(node) {
            if let Some(first) = self.one(node, RDF_FIRST) {
                items.push(first);
            }
            match self.one(node, RDF_REST) {
                Some(rest) => node = rest,
                None => break,
            }
        }
        items
    }
}

fn subject(t: TermRef<'_>) -> Option<NamedOrBlankNodeRef<'_>> {
    match t {
        TermRef::NamedNode(n) => Some(n.into()),
        TermRef::BlankNode(b) => Some(b.into()),
        _ => None,
    }
}

fn show(t: TermRef<'_>) -> String {
    match t {
        TermRef::NamedNode(n) => n.as_str().to_string(),
        TermRef::BlankNode(b) => format!("_:{}", b.as_str()),
        TermRef::Literal(l) => l.value().to_string(),
        #[allow(unreachable_patterns)]
        _ => t.to_string(),
    }
}

fn sh(local: &str) -> String {
    format!("{SH}{local}")
}

impl Shapes {
    /// Loads a shapes graph from Turtle (several documents may be given, e.g. the DCAT-AP
    /// shapes and its ranges).
    pub fn from_turtle(documents: &[&str]) -> Result<Self, ShapesError> {
        let mut triples = Vec::new();
        for doc in documents {
            for t in oxttl::TurtleParser::new().for_slice(doc.as_bytes()) {
                triples.push(t.map_err(|e| ShapesError::Syntax(e.to_string()))?);
            }
        }
        let refs: Vec<TripleRef<'_>> = triples.iter().map(Triple::as_ref).collect();
        let graph = Graph::new(&refs);
        let mut unsupported = BTreeSet::new();
        for t in &triples {
            for term in [
                Some(t.predicate.as_str()),
                match &t.object {
                    Term::NamedNode(n) => Some(n.as_str()),
                    _ => None,
                },
            ]
            .into_iter()
            .flatten()
            {
                if let Some(local) = term.strip_prefix(SH)
                    && !KNOWN.contains(&local)
                {
                    unsupported.insert(format!("sh:{local}"));
                }
            }
        }
        let mut loader = Loader {
            graph: &graph,
            shapes: Vec::new(),
            index: FxHashMap::default(),
        };
        let mut targets = Vec::new();
        for t in &triples {
            if t.predicate.as_str() == sh("targetClass")
                && let Term::NamedNode(class) = &t.object
            {
                let shape = loader.load(t.subject.as_ref().into())?;
                targets.push((class.clone(), shape));
            }
        }
        Ok(Shapes {
            shapes: loader.shapes,
            targets,
            unsupported,
        })
    }

    /// Validates a data graph.
    pub fn validate(&self, triples: &[Triple]) -> ValidationReport {
        let triples: Vec<TripleRef<'_>> = triples.iter().map(Triple::as_ref).collect();
        self.validate_refs(&triples)
    }

    /// [`Shapes::validate`] over borrowed triples.
    pub fn validate_refs(&self, triples: &[TripleRef<'_>]) -> ValidationReport {
        let graph = Graph::new(triples);
        let mut results = Vec::new();
        for (class, shape) in &self.targets {
            let mut focus: Vec<TermRef<'_>> = triples
                .iter()
                .filter(|t| t.predicate.as_str() == RDF_TYPE)
                .filter(|t| {
                    matches!(t.object, TermRef::NamedNode(c) if is_subclass(&graph, c, class.as_ref()))
                })
                .map(|t| t.subject.into())
                .collect();
            focus.sort_by_cached_key(|t| show(*t));
            focus.dedup();
            for f in &focus {
                self.check(&graph, *shape, *f, &mut results, 0);
            }
        }
        results.sort_by(|a, b| {
            (&a.focus, &a.path, a.constraint, &a.value).cmp(&(
                &b.focus,
                &b.path,
                b.constraint,
                &b.value,
            ))
        });
        results.dedup();
        ValidationReport {
            conforms: !results.iter().any(|r| r.severity == Severity::Violation),
            results,
        }
    }

    fn conforms<'a>(
        &self,
        graph: &Graph<'a>,
        shape: usize,
        node: TermRef<'a>,
        depth: usize,
    ) -> bool {
        let mut results = Vec::new();
        self.check(graph, shape, node, &mut results, depth + 1);
        results.is_empty()
    }

    fn check<'a>(
        &self,
        graph: &Graph<'a>,
        shape: usize,
        focus: TermRef<'a>,
        results: &mut Vec<ValidationResult>,
        depth: usize,
    ) {
        let s = &self.shapes[shape];
        if s.deactivated || depth > 32 {
            return;
        }
        let values: Vec<TermRef<'a>> = match &s.path {
            None => vec![focus],
            Some(Path::Predicate(p)) => graph.objects(focus, p.as_str()).collect(),
            Some(Path::Inverse(p)) => graph
                .out
                .iter()
                .flat_map(|(subj, pos)| {
                    pos.iter()
                        .filter(|(q, o)| *q == p.as_ref() && *o == focus)
                        .map(move |_| TermRef::from(*subj))
                })
                .collect(),
        };
        let path = s.path.as_ref().map(|p| match p {
            Path::Predicate(p) => p.as_str().to_string(),
            Path::Inverse(p) => format!("^{}", p.as_str()),
        });
        let mut fail = |constraint: &'static str, value: Option<TermRef<'_>>, what: String| {
            results.push(ValidationResult {
                focus: show(focus),
                path: path.clone(),
                value: value.map(show),
                constraint,
                severity: s.severity,
                message: s.message.clone().unwrap_or(what),
            });
        };
        for c in &s.constraints {
            match c {
                Constraint::MinCount(n) if values.len() < *n => fail(
                    "minCount",
                    None,
                    format!("fewer than {n} value(s): {}", values.len()),
                ),
                Constraint::MaxCount(n) if values.len() > *n => fail(
                    "maxCount",
                    None,
                    format!("more than {n} value(s): {}", values.len()),
                ),
                Constraint::HasValue(v) if !values.contains(&v.as_ref()) => fail(
                    "hasValue",
                    None,
                    format!("must have the value {}", show(v.as_ref())),
                ),
                Constraint::MinCount(_) | Constraint::MaxCount(_) | Constraint::HasValue(_) => {}
                _ => {
                    for v in &values {
                        if let Some(what) = self.value_fails(graph, c, *v, depth) {
                            fail(c.name(), Some(*v), what);
                        }
                    }
                }
            }
        }
        for v in &values {
            for p in &s.properties {
                self.check(graph, *p, *v, results, depth + 1);
            }
        }
    }

    fn value_fails<'a>(
        &self,
        graph: &Graph<'a>,
        c: &Constraint,
        v: TermRef<'a>,
        depth: usize,
    ) -> Option<String> {
        let ok = match c {
            Constraint::NodeKind(k) => matches!(
                (k, v),
                (
                    NodeKind::Iri | NodeKind::BlankOrIri | NodeKind::IriOrLiteral,
                    TermRef::NamedNode(_)
                ) | (
                    NodeKind::Blank | NodeKind::BlankOrIri | NodeKind::BlankOrLiteral,
                    TermRef::BlankNode(_)
                ) | (
                    NodeKind::Literal | NodeKind::BlankOrLiteral | NodeKind::IriOrLiteral,
                    TermRef::Literal(_)
                )
            ),
            Constraint::Datatype(d) => {
                matches!(v, TermRef::Literal(l) if l.datatype() == d.as_ref())
            }
            Constraint::Class(class) => graph.objects(v, RDF_TYPE).any(
                |t| matches!(t, TermRef::NamedNode(c) if is_subclass(graph, c, class.as_ref())),
            ),
            Constraint::Node(shape) => self.conforms(graph, *shape, v, depth),
            Constraint::Or(shapes) => shapes.iter().any(|s| self.conforms(graph, *s, v, depth)),
            Constraint::In(list) => list.iter().any(|t| t.as_ref() == v),
            Constraint::Pattern(re) => !matches!(v, TermRef::BlankNode(_)) && re.is_match(&show(v)),
            Constraint::Closed(allowed) => {
                let extra: Vec<String> = subject(v)
                    .and_then(|s| graph.out.get(&s))
                    .into_iter()
                    .flatten()
                    .filter(|(p, _)| !allowed.contains(p.as_str()))
                    .map(|(p, _)| p.as_str().to_string())
                    .collect();
                if !extra.is_empty() {
                    return Some(format!(
                        "properties outside the closed shape: {}",
                        extra.join(", ")
                    ));
                }
                true
            }
            Constraint::MinCount(_) | Constraint::MaxCount(_) | Constraint::HasValue(_) => true,
        };
        (!ok).then(|| match c {
            Constraint::NodeKind(k) => format!("must be a node of kind {k:?}"),
            Constraint::Datatype(d) => format!("must have datatype {}", d.as_str()),
            Constraint::Class(class) => format!("must be an instance of {}", class.as_str()),
            Constraint::Node(_) => "does not conform to the node shape".to_string(),
            Constraint::Or(_) => "conforms to none of the alternatives".to_string(),
            Constraint::In(_) => "is not one of the allowed values".to_string(),
            Constraint::Pattern(re) => format!("does not match {}", re.as_str()),
            _ => "does not conform".to_string(),
        })
    }
}

impl Constraint {
    fn name(&self) -> &'static str {
        match self {
            Constraint::MinCount(_) => "minCount",
            Constraint::MaxCount(_) => "maxCount",
            Constraint::NodeKind(_) => "nodeKind",
            Constraint::Datatype(_) => "datatype",
            Constraint::Class(_) => "class",
            Constraint::Node(_) => "node",
            Constraint::Or(_) => "or",
            Constraint::In(_) => "in",
            Constraint::HasValue(_) => "hasValue",
            Constraint::Pattern(_) => "pattern",
            Constraint::Closed(_) => "closed",
        }
    }
}

fn is_subclass<'a>(graph: &Graph<'a>, class: NamedNodeRef<'a>, of: NamedNodeRef<'_>) -> bool {
    if class == of {
        return true;
    }
    let mut todo = vec![class];
    let mut seen = FxHashSet::default();
    while let Some(c) = todo.pop() {
        if c == of {
            return true;
        }
        if seen.insert(c) {
            for sup in graph.objects(c.into(), SUB_CLASS_OF) {
                if let TermRef::NamedNode(n) = sup {
                    todo.push(n);
                }
            }
        }
    }
    false
}

struct Loader<'g, 'a> {
    graph: &'g Graph<'a>,
    shapes: Vec<Shape>,
    index: FxHashMap<Term, usize>,
}

impl<'a> Loader<'_, 'a> {
    fn load(&mut self, id: TermRef<'a>) -> Result<usize, ShapesError> {
        if let Some(i) = self.index.get(&id.into_owned()) {
            return Ok(*i);
        }
        let at = self.shapes.len();
        self.index.insert(id.into_owned(), at);
        let g = self.graph;
        let bad = |problem: &str| ShapesError::Shape {
            shape: show(id),
            problem: problem.to_string(),
        };
        self.shapes.push(Shape {
            id: show(id),
            path: None,
            constraints: Vec::new(),
            properties: Vec::new(),
            severity: Severity::Violation,
            message: None,
            deactivated: false,
        });
        let path = match g.one(id, &sh("path")) {
            None => None,
            Some(TermRef::NamedNode(p)) => Some(Path::Predicate(p.into_owned())),
            Some(blank) => match g.one(blank, &sh("inversePath")) {
                Some(TermRef::NamedNode(p)) => Some(Path::Inverse(p.into_owned())),
                _ => return Err(bad("only predicate and inverse paths are supported")),
            },
        };
        let count = |t: TermRef<'_>| match t {
            TermRef::Literal(l) => l
                .value()
                .parse::<usize>()
                .map_err(|_| bad("count is not a number")),
            _ => Err(bad("count is not a literal")),
        };
        let mut constraints = Vec::new();
        for v in g.objects(id, &sh("minCount")) {
            constraints.push(Constraint::MinCount(count(v)?));
        }
        for v in g.objects(id, &sh("maxCount")) {
            constraints.push(Constraint::MaxCount(count(v)?));
        }
        for v in g.objects(id, &sh("nodeKind")) {
            let kind = match show(v).strip_prefix(SH) {
                Some("IRI") => NodeKind::Iri,
                Some("Literal") => NodeKind::Literal,
                Some("BlankNode") => NodeKind::Blank,
                Some("BlankNodeOrIRI") => NodeKind::BlankOrIri,
                Some("BlankNodeOrLiteral") => NodeKind::BlankOrLiteral,
                Some("IRIOrLiteral") => NodeKind::IriOrLiteral,
                _ => return Err(bad("unknown node kind")),
            };
            constraints.push(Constraint::NodeKind(kind));
        }
        for v in g.objects(id, &sh("datatype")) {
            match v {
                TermRef::NamedNode(d) => constraints.push(Constraint::Datatype(d.into_owned())),
                _ => return Err(bad("datatype is not an IRI")),
            }
        }
        for v in g.objects(id, &sh("class")) {
            match v {
                TermRef::NamedNode(c) => constraints.push(Constraint::Class(c.into_owned())),
                _ => return Err(bad("class is not an IRI")),
            }
        }
        for v in g.objects(id, &sh("hasValue")) {
            constraints.push(Constraint::HasValue(v.into_owned()));
        }
        for v in g.objects(id, &sh("in")) {
            let list = g.list(v).into_iter().map(TermRef::into_owned).collect();
            constraints.push(Constraint::In(list));
        }
        for v in g.objects(id, &sh("pattern")) {
            let flags = g.one(id, &sh("flags")).map(show).unwrap_or_default();
            let pattern = if flags.contains('i') {
                format!("(?i){}", show(v))
            } else {
                show(v)
            };
            let re = Regex::new(&pattern).map_err(|e| bad(&format!("pattern: {e}")))?;
            constraints.push(Constraint::Pattern(re));
        }
        for v in g.objects(id, &sh("node")) {
            let shape = self.load(v)?;
            constraints.push(Constraint::Node(shape));
        }
        for v in g.objects(id, &sh("or")) {
            let mut alternatives = Vec::new();
            for alt in g.list(v) {
                alternatives.push(self.load(alt)?);
            }
            constraints.push(Constraint::Or(alternatives));
        }
        let mut properties = Vec::new();
        for v in g.objects(id, &sh("property")) {
            properties.push(self.load(v)?);
        }
        if g.one(id, &sh("closed")).is_some_and(|t| show(t) == "true") {
            let mut allowed: FxHashSet<String> = FxHashSet::default();
            for p in &properties {
                if let Some(Path::Predicate(p)) = &self.shapes[*p].path {
                    allowed.insert(p.as_str().to_string());
                }
            }
            for list in g.objects(id, &sh("ignoredProperties")) {
                for t in g.list(list) {
                    if let TermRef::NamedNode(n) = t {
                        allowed.insert(n.as_str().to_string());
                    }
                }
            }
            constraints.push(Constraint::Closed(allowed));
        }
        let severity = match g
            .one(id, &sh("severity"))
            .map(show)
            .as_deref()
            .and_then(|s| s.strip_prefix(SH))
        {
            Some("Warning") => Severity::Warning,
            Some("Info") => Severity::Info,
            _ => Severity::Violation,
        };
        let shape = &mut self.shapes[at];
        shape.path = path;
        shape.constraints = constraints;
        shape.properties = properties;
        shape.severity = severity;
        shape.message = g.one(id, &sh("message")).map(show);
        shape.deactivated = g
            .one(id, &sh("deactivated"))
            .is_some_and(|t| show(t) == "true");
        Ok(at)
    }
}

impl Shapes {
    /// How many shapes were loaded (targeted and referenced).
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Whether no shape was loaded.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    /// The identifiers of the shapes with targets.
    pub fn targeted(&self) -> Vec<&str> {
        self.targets
            .iter()
            .map(|(_, s)| self.shapes[*s].id.as_str())
            .collect()
    }
}

/// samla's own DCAT-AP 3 core shapes (`model/shapes/dcat-ap-core.ttl`).
pub const DCAT_AP_CORE: &str = include_str!("../shapes/dcat-ap-core.ttl");

impl Shapes {
    /// The DCAT-AP 3 core shapes samla ships.
    pub fn dcat_ap_core() -> Self {
        Shapes::from_turtle(&[DCAT_AP_CORE]).expect("the shipped shapes load")
    }
}
