//! From a fetched graph to canonical dataset records: skolem IRIs for blank nodes, one graph
//! per dataset (its distributions, agents and contact points with it), normalised values, the
//! identity rule and an order-independent content hash.

use crate::normalize;
use crate::region::OrganisationDirectory;
use crate::view::DatasetView;
use crate::vocab::{dcat, dcatap, dcterms, foaf, rdf, xsd};
use oxrdf::{
    BlankNode, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Term,
    TermRef, Triple, TripleRef,
};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt::{self, Write as _};

/// The prefix of the skolem IRIs samla gives blank nodes.
pub const SKOLEM_PREFIX: &str = "urn:samla:genid:";

/// How deep the closure of a dataset follows links (dataset → distribution → service → …).
pub const CLOSURE_DEPTH: usize = 4;
/// How deep blank-node content is hashed before the rest counts as opaque.
const SKOLEM_DEPTH: usize = 32;

/// The identity of a dataset: its UUID `dcterms:identifier`, otherwise its IRI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct DatasetId(pub String);

impl fmt::Display for DatasetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a graph came from: used for skolem IRIs and for resolving publishers.
#[derive(Debug, Clone, Copy)]
pub struct SourceContext<'a> {
    /// The source's id in the configuration.
    pub source_id: &'a str,
    /// The code of the organisation that runs the source.
    pub organisation_code: &'a str,
    /// The region's organisations.
    pub directory: &'a OrganisationDirectory,
}

/// A canonical dataset record: the normalised graph and what is derived from it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRecord {
    /// The identity.
    pub id: DatasetId,
    /// The dataset IRI (a skolem IRI if it was published as a blank node).
    pub iri: String,
    /// The subject as published (`_:label` for a blank node).
    pub original_subject: String,
    /// The page the record was read from (set by the harvester; not part of the hash).
    pub source_url: String,
    /// Kommunkod of the publisher's organisation.
    pub municipality_code: Option<String>,
    /// The canonical graph as sorted, de-duplicated N-Triples lines.
    pub ntriples: String,
    /// SHA-256 of `ntriples`, hex.
    pub hash: String,
    /// The typed view for indexing and display.
    pub view: DatasetView,
}

/// A problem with one record: counted by reason in the run report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordProblem {
    /// Why.
    pub reason: crate::run::Reason,
    /// The offending subject.
    pub subject: String,
    /// What exactly is wrong.
    pub detail: String,
}

impl RecordProblem {
    fn new(reason: crate::run::Reason, subject: &str, detail: impl Into<String>) -> Self {
        Self {
            reason,
            subject: subject.into(),
            detail: detail.into(),
        }
    }
}

/// The records found in one graph, and the problems met.
#[derive(Debug, Default)]
pub struct Extraction {
    /// The records, ordered by id.
    pub records: Vec<DatasetRecord>,
    /// Record-level problems.
    pub problems: Vec<RecordProblem>,
}

/// Whether `t` is `?s rdf:type <class>` (compared without allocating: it runs per triple).
pub fn states_type(t: &Triple, class: oxrdf::NamedNodeRef<'_>) -> bool {
    t.predicate == rdf::TYPE && matches!(&t.object, Term::NamedNode(n) if n.as_ref() == class)
}

/// Turns a fetched graph into canonical dataset records.
///
/// The result does not depend on the order of `triples`, and the same input gives the same
/// records (skolem IRIs and hashes included) on every run.
pub fn extract_datasets(triples: Vec<Triple>, ctx: &SourceContext<'_>) -> Extraction {
    let (triples, blank_labels) = skolemise(triples, ctx.source_id);
    // Serialisers often repeat a shared node (the publisher, a contact point) once per
    // dataset: index each distinct triple once, or every dataset would carry every copy.
    let mut by_subject: HashMap<&str, Vec<usize>> = HashMap::default();
    let mut distinct: HashSet<&Triple> =
        HashSet::with_capacity_and_hasher(triples.len(), Default::default());
    for (i, t) in triples.iter().enumerate() {
        if let NamedOrBlankNode::NamedNode(s) = &t.subject
            && distinct.insert(t)
        {
            by_subject.entry(s.as_str()).or_default().push(i);
        }
    }
    let mut out = Extraction::default();
    for (subject, ids) in by_subject.iter_mut() {
        if ids.len() > MAX_VALUES_PER_PROPERTY {
            cap_values(subject, ids, &triples, &blank_labels, &mut out.problems);
        }
    }
    let is_typed = |subject: &str, class: oxrdf::NamedNodeRef<'_>| {
        by_subject
            .get(subject)
            .is_some_and(|ids| ids.iter().any(|&i| states_type(&triples[i], class)))
    };
    let datasets: BTreeSet<&str> = triples
        .iter()
        .filter(|t| states_type(t, dcat::DATASET))
        .filter_map(|t| match &t.subject {
            NamedOrBlankNode::NamedNode(s) => Some(s.as_str()),
            NamedOrBlankNode::BlankNode(_) => None,
        })
        .collect();

    let mut publishers = Publishers::default();
    for &dataset in &datasets {
        // The closure: what the dataset links to, but not other datasets or catalogs.
        let mut members: Vec<usize> = Vec::new();
        let mut seen_nodes: HashSet<&str> = HashSet::default();
        seen_nodes.insert(dataset);
        let mut frontier = vec![dataset];
        for _ in 0..CLOSURE_DEPTH {
            let mut next = Vec::new();
            for node in frontier {
                for &i in by_subject.get(node).map(Vec::as_slice).unwrap_or_default() {
                    members.push(i);
                    if let Term::NamedNode(o) = &triples[i].object {
                        let o = o.as_str();
                        if triples[i].predicate != rdf::TYPE
                            && by_subject.contains_key(o)
                            && !seen_nodes.contains(o)
                            && !is_typed(o, dcat::DATASET)
                            && !is_typed(o, dcat::CATALOG)
                            && !is_typed(o, dcat::DATASET_SERIES)
                        {
                            seen_nodes.insert(o);
                            next.push(o);
                        }
                    }
                }
            }
            frontier = next;
        }
        let original_subject = blank_labels
            .get(dataset)
            .map(|l| format!("_:{l}"))
            .unwrap_or_else(|| dataset.to_string());
        if members.len() > MAX_DATASET_TRIPLES {
            out.problems.push(RecordProblem::new(
                crate::run::Reason::DatasetTooLarge,
                &original_subject,
                format!(
                    "the dataset's description holds {} triples (limit {MAX_DATASET_TRIPLES}); \
                     not taken",
                    members.len()
                ),
            ));
            continue;
        }
        let graph: Vec<&Triple> = members.iter().map(|&i| &triples[i]).collect();
        let (record, problems) =
            build_record(dataset, original_subject, &graph, ctx, &mut publishers);
        out.records.push(record);
        out.problems.extend(problems);
    }
    out.records.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Values one property may have on one node; the rest are left out (`list_too_long`).
pub const MAX_VALUES_PER_PROPERTY: usize = 1000;

/// Triples a dataset's description may hold; a larger one is not taken (`dataset_too_large`).
pub const MAX_DATASET_TRIPLES: usize = 20_000;

/// Keeps at most [`MAX_VALUES_PER_PROPERTY`] values of each property of `subject` (the least,
/// by their N-Triples text, so the choice does not depend on the order of the input), and
/// names each property cut.
fn cap_values(
    subject: &str,
    ids: &mut Vec<usize>,
    triples: &[Triple],
    blank_labels: &HashMap<String, String>,
    problems: &mut Vec<RecordProblem>,
) {
    let mut by_predicate: HashMap<&str, Vec<usize>> = HashMap::default();
    for &i in ids.iter() {
        by_predicate
            .entry(triples[i].predicate.as_str())
            .or_default()
            .push(i);
    }
    if by_predicate
        .values()
        .all(|v| v.len() <= MAX_VALUES_PER_PROPERTY)
    {
        return;
    }
    let original_subject = blank_labels
        .get(subject)
        .map(|l| format!("_:{l}"))
        .unwrap_or_else(|| subject.to_string());
    let mut kept = Vec::with_capacity(ids.len());
    let mut predicates: Vec<(&str, Vec<usize>)> = by_predicate.into_iter().collect();
    predicates.sort_unstable_by_key(|(p, _)| *p);
    for (predicate, mut values) in predicates {
        if values.len() > MAX_VALUES_PER_PROPERTY {
            problems.push(RecordProblem::new(
                crate::run::Reason::ListTooLong,
                &original_subject,
                format!(
                    "{predicate} has {} values (limit {MAX_VALUES_PER_PROPERTY}); the rest are \
                     left out",
                    values.len()
                ),
            ));
            values.sort_unstable_by_key(|&i| triples[i].object.to_string());
            values.truncate(MAX_VALUES_PER_PROPERTY);
        }
        kept.extend(values);
    }
    kept.sort_unstable();
    *ids = kept;
}

/// What a publisher IRI resolved to, kept for the page: the organisation, if any.
type Publishers<'d> = HashMap<String, Option<&'d crate::region::Organisation>>;

fn build_record<'d>(
    dataset: &str,
    original_subject: String,
    graph: &[&Triple],
    ctx: &SourceContext<'d>,
    publishers: &mut Publishers<'d>,
) -> (DatasetRecord, Vec<RecordProblem>) {
    let mut problems = Vec::new();
    if original_subject.starts_with("_:") {
        problems.push(RecordProblem::new(
            crate::run::Reason::BlankNodeDataset,
            &original_subject,
            format!("dataset is a blank node; given the stable IRI {dataset}"),
        ));
    }
    // Publisher → organisation of the region; a skolemised publisher with a known
    // organisation number takes dataportal.se's publisher IRI. The least IRI is taken when
    // there are several, so the result does not depend on the order of the input.
    let publisher = objects_of(graph, dataset, dcterms::PUBLISHER)
        .filter_map(|o| match o {
            Term::NamedNode(n) => Some(n.as_str()),
            _ => None,
        })
        .min();
    let mut renames: HashMap<&str, String> = HashMap::default();
    let mut municipality_code = None;
    if let Some(publisher) = publisher {
        // A page names its publisher the same way for every dataset: resolve it once.
        let org = match publishers.get(publisher) {
            Some(org) => *org,
            None => {
                let names: Vec<&str> = objects_of(graph, publisher, foaf::NAME)
                    .filter_map(|o| match o {
                        Term::Literal(l) => Some(l.value()),
                        _ => None,
                    })
                    .collect();
                let iri = (!publisher.starts_with(SKOLEM_PREFIX)).then_some(publisher);
                let org = ctx.directory.resolve_publisher(iri, &names);
                publishers.insert(publisher.to_string(), org);
                org
            }
        };
        if let Some(org) = org {
            municipality_code = Some(org.code.clone());
            if publisher.starts_with(SKOLEM_PREFIX)
                && let Some(dataportal) = org.dataportal_iri()
            {
                renames.insert(publisher, dataportal);
            }
        }
    } else {
        problems.push(RecordProblem::new(
            crate::run::Reason::MissingPublisher,
            &original_subject,
            "dataset has no dcterms:publisher",
        ));
    }
    let municipality_code = municipality_code.or_else(|| {
        ctx.directory
            .by_code(ctx.organisation_code)
            .map(|o| o.code.clone())
    });

    fn renamed<'a>(renames: &'a HashMap<&str, String>, n: &'a NamedNode) -> NamedNodeRef<'a> {
        match renames.get(n.as_str()) {
            Some(r) => NamedNodeRef::new_unchecked(r),
            None => n.as_ref(),
        }
    }
    // The objects normalisation changed; the lines borrow them from here.
    let changed: Vec<Option<Term>> = graph
        .iter()
        .map(|t| normalise_object(&t.predicate, &t.object))
        .collect();
    // A node normalisation renamed (a licence published as https://creativecommons.org/…)
    // keeps its description: its statements move to the canonical IRI with it. Few objects
    // are renamed, so each looks for its statements in the graph directly.
    for (t, c) in graph.iter().zip(&changed) {
        if let (Term::NamedNode(from), Some(Term::NamedNode(to))) = (&t.object, c)
            && graph
                .iter()
                .any(|s| matches!(&s.subject, NamedOrBlankNode::NamedNode(n) if n == from))
        {
            renames
                .entry(from.as_str())
                .or_insert_with(|| to.as_str().to_string());
        }
    }
    if let Some(t) = graph
        .iter()
        .find(|t| matches!(&t.object, Term::Literal(l) if has_control(l.value())))
    {
        problems.push(RecordProblem::new(
            crate::run::Reason::ControlCharacters,
            &original_subject,
            format!(
                "control characters removed from {} (and any other value of the dataset)",
                t.predicate.as_str()
            ),
        ));
    }
    // Every line written into one buffer, then sorted by its text.
    let mut buffer = String::with_capacity(graph.len() * 160);
    let mut lines: Vec<(std::ops::Range<usize>, TripleRef<'_>)> = Vec::with_capacity(graph.len());
    for (t, changed) in graph.iter().zip(&changed) {
        let subject = match &t.subject {
            NamedOrBlankNode::NamedNode(n) => renamed(&renames, n),
            NamedOrBlankNode::BlankNode(_) => continue, // skolemised before; unreachable
        };
        let object = match (changed, &t.object) {
            (Some(changed), _) => changed.as_ref(),
            (None, Term::NamedNode(n)) => TermRef::NamedNode(renamed(&renames, n)),
            (None, object) => object.as_ref(),
        };
        if [
            dcterms::ISSUED,
            dcterms::MODIFIED,
            dcat::START_DATE,
            dcat::END_DATE,
        ]
        .iter()
        .any(|p| t.predicate == *p)
            && let TermRef::Literal(l) = object
            && normalize::date(l.value()).is_none()
        {
            problems.push(RecordProblem::new(
                crate::run::Reason::InvalidDate,
                &original_subject,
                format!("{} is not a date: {:?}", t.predicate.as_str(), l.value()),
            ));
        }
        let triple = TripleRef::new(subject, t.predicate.as_ref(), object);
        let start = buffer.len();
        write_ntriples_line(&mut buffer, triple);
        lines.push((start..buffer.len(), triple));
    }
    // Sorted and de-duplicated lines: the canonical N-Triples, and the triples in their order.
    lines.sort_unstable_by(|a, b| buffer[a.0.clone()].cmp(&buffer[b.0.clone()]));
    lines.dedup_by(|a, b| buffer[a.0.clone()] == buffer[b.0.clone()]);
    let mut ntriples = String::with_capacity(buffer.len() + lines.len());
    let mut normalised: Vec<TripleRef<'_>> = Vec::with_capacity(lines.len());
    for (range, triple) in lines {
        if !ntriples.is_empty() {
            ntriples.push('\n');
        }
        ntriples.push_str(&buffer[range]);
        normalised.push(triple);
    }
    let hash = hex(&Sha256::digest(ntriples.as_bytes()));

    let id = objects_of(graph, dataset, dcterms::IDENTIFIER)
        .find_map(|o| match o {
            Term::Literal(l) => uuid::Uuid::parse_str(l.value().trim()).ok(),
            _ => None,
        })
        .map(|u| DatasetId(u.hyphenated().to_string()))
        .unwrap_or_else(|| DatasetId(dataset.to_string()));
    let view = DatasetView::from_triple_refs(&id, dataset, &normalised, municipality_code.clone());
    if view.title.values().all(|t| t.trim().is_empty()) {
        problems.push(RecordProblem::new(
            crate::run::Reason::MissingTitle,
            &original_subject,
            if view.title.is_empty() {
                "dataset has no dcterms:title"
            } else {
                "dataset's dcterms:title is blank"
            },
        ));
    }
    // A title a spreadsheet would run (samla's CSV exports neutralise it; the publisher
    // should know).
    if let Some(title) = view
        .title
        .values()
        .find(|t| t.trim_start().starts_with(['=', '+', '-', '@']))
    {
        problems.push(RecordProblem::new(
            crate::run::Reason::FormulaLikeTitle,
            &original_subject,
            format!("title {title:?} starts like a spreadsheet formula"),
        ));
    }
    let record = DatasetRecord {
        id,
        iri: dataset.to_string(),
        original_subject,
        source_url: String::new(),
        municipality_code,
        ntriples,
        hash,
        view,
    };
    (record, problems)
}

/// Writes the triple as an N-Triples line, exactly as oxrdf writes it (`{triple} .`), with
/// the formatter skipped for the common case of IRIs and literals that need no escapes.
pub(crate) fn write_ntriples_line(line: &mut String, t: TripleRef<'_>) {
    let plain = |v: &str| {
        !v.bytes()
            .any(|b| b < 0x20 || b == b'"' || b == b'\\' || b == 0x7F)
            && !v.contains(['\u{FFFE}', '\u{FFFF}'])
    };
    let NamedOrBlankNodeRef::NamedNode(subject) = t.subject else {
        // Writing into a String cannot fail.
        let _ = write!(line, "{t} .");
        return;
    };
    let iri = |line: &mut String, iri: &str| {
        line.push('<');
        line.push_str(iri);
        line.push('>');
    };
    iri(line, subject.as_str());
    line.push(' ');
    iri(line, t.predicate.as_str());
    line.push(' ');
    match t.object {
        TermRef::NamedNode(n) => iri(line, n.as_str()),
        TermRef::Literal(l) if plain(l.value()) => {
            line.push('"');
            line.push_str(l.value());
            line.push('"');
            if let Some(language) = l.language() {
                line.push('@');
                line.push_str(language);
            } else if l.datatype() != xsd::STRING {
                line.push_str("^^");
                iri(line, l.datatype().as_str());
            }
        }
        other => {
            let _ = write!(line, "{other}");
        }
    }
    line.push_str(" .");
}

fn objects_of<'a, 'q>(
    graph: &'q [&'a Triple],
    s: &'q str,
    p: NamedNodeRef<'q>,
) -> impl Iterator<Item = &'a Term> + use<'a, 'q> {
    graph
        .iter()
        .filter(move |t| {
            t.predicate == p
                && matches!(&t.subject, NamedOrBlankNode::NamedNode(n) if n.as_str() == s)
        })
        .map(|t| &t.object)
}

/// Normalises an object by its predicate: canonical licence, EU authority IRIs, file types,
/// language tags. `None` when the object stays as it is (unknown values are kept).
fn normalise_object(predicate: &NamedNode, object: &Term) -> Option<Term> {
    let value = match object {
        Term::NamedNode(n) => n.as_str(),
        Term::Literal(l) => l.value(),
        _ => return None,
    };
    let canonical: Option<String> = if *predicate == dcterms::LICENSE {
        normalize::licence(value).map(str::to_string)
    } else if *predicate == dcat::THEME {
        normalize::theme(value)
    } else if *predicate == dcterms::FORMAT {
        normalize::file_type_iri(value)
    } else if *predicate == dcterms::ACCRUAL_PERIODICITY {
        normalize::frequency(value)
    } else if *predicate == dcterms::ACCESS_RIGHTS {
        normalize::access_right(value)
    } else if *predicate == dcatap::HVD_CATEGORY {
        normalize::hvd_category(value)
    } else {
        None
    };
    if let Some(iri) = canonical {
        return (!matches!(object, Term::NamedNode(n) if n.as_str() == iri))
            .then(|| Term::NamedNode(NamedNode::new_unchecked(iri)));
    }
    match object {
        // Control characters (other than tab and line breaks) are not text: they break XML
        // (the RDF/XML export, feeds) and spreadsheets, and no reader sees them. Removed.
        Term::Literal(l) if has_control(l.value()) => {
            let value = without_control(l.value());
            Some(Term::Literal(match l.language() {
                Some(lang) => Literal::new_language_tagged_literal_unchecked(
                    value,
                    normalize::language_tag(lang),
                ),
                None => Literal::new_typed_literal(value, l.datatype().into_owned()),
            }))
        }
        Term::Literal(l) => {
            let lang = l.language()?;
            // Already a lower-case primary subtag (the common case): nothing to build.
            if !lang.contains(['-', '_']) && !lang.bytes().any(|b| b.is_ascii_uppercase()) {
                return None;
            }
            let normal = normalize::language_tag(lang);
            (normal != lang).then(|| {
                Term::Literal(Literal::new_language_tagged_literal_unchecked(
                    l.value(),
                    normal,
                ))
            })
        }
        _ => None,
    }
}

/// Whether text holds a C0 control character other than tab, line feed and carriage return
/// (the characters XML 1.0 refuses).
fn has_control(text: &str) -> bool {
    text.bytes()
        .any(|b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
}

/// The text without those characters.
fn without_control(text: &str) -> String {
    text.chars()
        .filter(|c| (*c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// Replaces every blank node with a stable IRI derived from the source and the node's content
/// (or its `dcterms:identifier` when it has one). Returns the new triples and, for each new
/// IRI, the blank-node label it replaced.
pub fn skolemise(triples: Vec<Triple>, source_id: &str) -> (Vec<Triple>, HashMap<String, String>) {
    let has_blank = triples.iter().any(|t| {
        matches!(t.subject, NamedOrBlankNode::BlankNode(_))
            || matches!(t.object, Term::BlankNode(_))
    });
    if !has_blank {
        return (triples, HashMap::default());
    }
    let mut outgoing: HashMap<&BlankNode, Vec<usize>> = HashMap::default();
    for (i, t) in triples.iter().enumerate() {
        if let NamedOrBlankNode::BlankNode(b) = &t.subject {
            outgoing.entry(b).or_default().push(i);
        }
    }
    let source_key: String = source_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    // An identifier names a blank node only when no other blank node in the document has it.
    let mut identifier_counts: HashMap<&str, usize> = HashMap::default();
    for t in &triples {
        if let (NamedOrBlankNode::BlankNode(_), Term::Literal(l)) = (&t.subject, &t.object)
            && t.predicate == dcterms::IDENTIFIER
        {
            *identifier_counts.entry(l.value()).or_default() += 1;
        }
    }
    let mut hasher = SkolemHasher {
        identifier_counts: &identifier_counts,
        triples: &triples,
        outgoing: &outgoing,
        memo: HashMap::default(),
        source: source_id,
    };
    let mut iris: HashMap<BlankNode, NamedNode> = HashMap::default();
    let blanks: Vec<&BlankNode> = triples
        .iter()
        .flat_map(|t| {
            let s = match &t.subject {
                NamedOrBlankNode::BlankNode(b) => Some(b),
                _ => None,
            };
            let o = match &t.object {
                Term::BlankNode(b) => Some(b),
                _ => None,
            };
            s.into_iter().chain(o)
        })
        .collect();
    let mut labels = HashMap::default();
    for b in blanks {
        if iris.contains_key(b) {
            continue;
        }
        let digest = hasher.hash(b, 0);
        let iri = format!("{SKOLEM_PREFIX}{source_key}:{}", &hex(&digest)[..32]);
        labels.insert(iri.clone(), b.as_str().to_string());
        iris.insert(b.clone(), NamedNode::new_unchecked(iri));
    }
    let out = triples
        .iter()
        .map(|t| {
            let subject = match &t.subject {
                NamedOrBlankNode::BlankNode(b) => NamedOrBlankNode::NamedNode(iris[b].clone()),
                s => s.clone(),
            };
            let object = match &t.object {
                Term::BlankNode(b) => Term::NamedNode(iris[b].clone()),
                o => o.clone(),
            };
            Triple::new(subject, t.predicate.clone(), object)
        })
        .collect();
    (out, labels)
}

struct SkolemHasher<'a> {
    identifier_counts: &'a HashMap<&'a str, usize>,
    triples: &'a [Triple],
    outgoing: &'a HashMap<&'a BlankNode, Vec<usize>>,
    memo: HashMap<BlankNode, [u8; 32]>,
    source: &'a str,
}

impl SkolemHasher<'_> {
    fn hash(&mut self, node: &BlankNode, depth: usize) -> [u8; 32] {
        if let Some(h) = self.memo.get(node) {
            return *h;
        }
        let out: &[usize] = self
            .outgoing
            .get(node)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let identifier = out.iter().find_map(|&i| {
            let t = &self.triples[i];
            match (&t.object, t.predicate == dcterms::IDENTIFIER) {
                (Term::Literal(l), true) if self.identifier_counts.get(l.value()) == Some(&1) => {
                    Some(l.value().to_string())
                }
                _ => None,
            }
        });
        let mut lines: Vec<String> = Vec::new();
        if let Some(identifier) = identifier {
            lines.push(format!("identifier {identifier}"));
        } else if out.is_empty() {
            // No content of its own: identified by where it is used.
            for t in self
                .triples
                .iter()
                .filter(|t| matches!(&t.object, Term::BlankNode(b) if b == node))
            {
                let subject = match &t.subject {
                    NamedOrBlankNode::NamedNode(n) => n.to_string(),
                    NamedOrBlankNode::BlankNode(_) => "[]".into(),
                };
                lines.push(format!("used-by {subject} {}", t.predicate));
            }
        } else {
            for &i in out {
                let t = &self.triples[i];
                let object = match &t.object {
                    Term::BlankNode(b) if b == node => "self".to_string(),
                    Term::BlankNode(_) if depth >= SKOLEM_DEPTH => "[]".to_string(),
                    Term::BlankNode(b) => hex(&self.hash(b, depth + 1)),
                    other => other.to_string(),
                };
                lines.push(format!("{} {object}", t.predicate));
            }
        }
        lines.sort_unstable();
        let mut digest = Sha256::new();
        digest.update(self.source.as_bytes());
        for line in &lines {
            digest.update(b"\n");
            digest.update(line.as_bytes());
        }
        let h: [u8; 32] = digest.finalize().into();
        self.memo.insert(node.clone(), h);
        h
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    s
}

/// Parses the canonical N-Triples of a stored record back into triples (leniently: IRIs
/// that break the IRI grammar are kept as published).
pub fn parse_canonical(ntriples: &str) -> Result<Vec<Triple>, oxttl::TurtleSyntaxError> {
    Ok(match read_stored(ntriples)? {
        StoredGraph::Canonical(graph) => graph.to_owned_triples(),
        StoredGraph::Parsed(triples) => triples,
    })
}

/// A stored record's graph read back: borrowed from its N-Triples when they are in the
/// canonical form samla writes (no term is copied), parsed by the general parser otherwise.
#[derive(Debug)]
pub enum StoredGraph<'a> {
    /// Read in place.
    Canonical(crate::canonical::Graph<'a>),
    /// Parsed by the general parser.
    Parsed(Vec<Triple>),
}

impl StoredGraph<'_> {
    /// Its triples.
    pub fn triples(&self) -> Vec<TripleRef<'_>> {
        match self {
            StoredGraph::Canonical(graph) => graph.triples(),
            StoredGraph::Parsed(triples) => triples.iter().map(Triple::as_ref).collect(),
        }
    }
}

/// [`parse_canonical`] without copying what it can borrow: for reading many records
/// through once (a rebuild of the index).
pub fn read_stored(ntriples: &str) -> Result<StoredGraph<'_>, oxttl::TurtleSyntaxError> {
    // Read as written (the form samla stores); anything else by the general parser.
    if let Some(graph) = crate::canonical::borrow(ntriples) {
        return Ok(StoredGraph::Canonical(graph));
    }
    oxttl::NTriplesParser::new()
        .lenient()
        .for_slice(ntriples.as_bytes())
        .collect::<Result<_, _>>()
        .map(StoredGraph::Parsed)
}

/// The canonical graph of a record as Turtle, with the usual prefixes.
pub fn to_turtle(triples: &[Triple]) -> String {
    String::from_utf8(crate::export::serialize(
        triples,
        crate::export::RdfFormat::Turtle,
    ))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_leave_literals_and_the_rest_stays() {
        let title =
            Literal::new_language_tagged_literal_unchecked("Bad\u{1}platser\u{0}\ti Malmö\n", "SV");
        let normal =
            normalise_object(&dcterms::TITLE.into_owned(), &Term::Literal(title)).expect("changed");
        assert_eq!(
            normal,
            Term::Literal(Literal::new_language_tagged_literal_unchecked(
                "Badplatser\ti Malmö\n",
                "sv"
            ))
        );
        let clean = Literal::new_simple_literal("Badplatser i Malmö");
        assert_eq!(
            normalise_object(&dcterms::TITLE.into_owned(), &Term::Literal(clean)),
            None
        );
    }

    #[test]
    fn ntriples_lines_are_oxrdfs_own() {
        let s = NamedNode::new_unchecked("https://example.org/d/1");
        let p = NamedNode::new_unchecked("http://purl.org/dc/terms/title");
        let objects = [
            Term::NamedNode(NamedNode::new_unchecked("https://example.org/ä?x=1#y")),
            Term::Literal(Literal::new_simple_literal("Badplatser i Malmö")),
            Term::Literal(Literal::new_language_tagged_literal_unchecked(
                "Badplatser",
                "sv",
            )),
            Term::Literal(Literal::new_typed_literal(
                "2025-01-02",
                NamedNode::new_unchecked("http://www.w3.org/2001/XMLSchema#date"),
            )),
            Term::Literal(Literal::new_simple_literal(
                "a \"quote\", a \\ and\na line\tbreak",
            )),
            Term::Literal(Literal::new_language_tagged_literal_unchecked(
                "ctl \u{1} \u{7F} \u{FFFF}",
                "en",
            )),
            Term::Literal(Literal::new_simple_literal("")),
            Term::BlankNode(BlankNode::new_unchecked("b0")),
        ];
        for object in objects {
            let t = Triple::new(s.clone(), p.clone(), object);
            let mut line = String::new();
            write_ntriples_line(&mut line, t.as_ref());
            assert_eq!(line, format!("{t} ."));
        }
        let blank = Triple::new(BlankNode::new_unchecked("b1"), p, s);
        let mut line = String::new();
        write_ntriples_line(&mut line, blank.as_ref());
        assert_eq!(line, format!("{blank} ."));
    }
}
