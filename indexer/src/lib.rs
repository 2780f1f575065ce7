//! The search index: a tantivy index derived from the canonical store, with Swedish analysis
//! (stemming, accent-insensitive matching, a measured compound-word split) and facets.
//!
//! The index is never the truth: it can be rebuilt from the store at any time. Each commit
//! carries the store's change sequence number as its payload, so a caller can tell whether
//! the index has caught up with the store after a crash.
//!
//! All methods here block (tantivy does I/O and CPU work): async callers run them on a
//! blocking thread.
//!
//! Architecture invariant: this crate knows nothing of HTTP, RDF parsing or SQLite; it indexes
//! [`samla_model::DatasetView`]s and answers searches.

pub mod compound;
mod counts;
mod glossary;
pub mod suggest;
mod words;

use samla_model::par::par_map;
use samla_model::view::{DatasetView, LangMap};
use samla_model::{freshness, labels, normalize};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tantivy::collector::TopDocs;
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{
    FAST, FacetOptions, Field, IndexRecordOption, STORED, STRING, Schema, TantivyDocument,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{DateTime, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, Term, doc};

/// Why indexing or searching failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed.
    #[error("index {path}: {source}")]
    Tantivy {
        /// The index directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: tantivy::TantivyError,
    },
    /// The index directory could not be made or opened.
    #[error("index {path}: {message}")]
    Open {
        /// The index directory.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// The name of the Swedish analyzer (a new name when what it makes of words changes, so an
/// index written by the old one is rebuilt).
pub const SWEDISH: &str = "sv-2";
/// Largest page a search returns.
pub const MAX_PER_PAGE: usize = 100;
/// Values returned per facet.
pub const FACET_VALUES: usize = 50;
/// Longest query text considered.
pub const MAX_QUERY_CHARS: usize = 512;

/// A facet dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Kommunkod of the publisher's organisation.
    Municipality,
    /// Publisher IRI.
    Publisher,
    /// Theme IRI.
    Theme,
    /// File type IRI.
    Format,
    /// Licence IRI.
    License,
    /// Access-rights IRI.
    AccessRights,
    /// `dcterms:conformsTo` IRI.
    ConformsTo,
    /// HVD category IRI.
    HvdCategory,
    /// Whether the licence allows commercial use: `commercial`, `non_commercial`, or
    /// `unknown` (no licence, or one samla does not know).
    Reuse,
    /// Whether the licence is an open licence: `true` or `false`.
    OpenLicence,
    /// Whether the data can be read through an API: `true` or `false`.
    Api,
    /// Whether no fee is declared: `true` or `false`.
    Free,
    /// Whether the dataset is updated on time for its declared frequency, as of the search:
    /// `true` or `false` (datasets whose freshness cannot be told have neither).
    Fresh,
    /// The MQA quality band: `excellent`, `good`, `enough` or `bad`.
    Quality,
}

impl Dimension {
    /// Every dimension, in display order.
    pub const ALL: [Dimension; 14] = [
        Dimension::Municipality,
        Dimension::Publisher,
        Dimension::Theme,
        Dimension::Format,
        Dimension::License,
        Dimension::AccessRights,
        Dimension::ConformsTo,
        Dimension::HvdCategory,
        Dimension::Reuse,
        Dimension::OpenLicence,
        Dimension::Api,
        Dimension::Free,
        Dimension::Fresh,
        Dimension::Quality,
    ];

    /// The name used in the API and the schema.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Municipality => "municipality",
            Dimension::Publisher => "publisher",
            Dimension::Theme => "theme",
            Dimension::Format => "format",
            Dimension::License => "license",
            Dimension::AccessRights => "access_rights",
            Dimension::ConformsTo => "conforms_to",
            Dimension::HvdCategory => "hvd_category",
            Dimension::Reuse => "reuse",
            Dimension::OpenLicence => "open_licence",
            Dimension::Api => "api",
            Dimension::Free => "free",
            Dimension::Fresh => "fresh",
            Dimension::Quality => "quality",
        }
    }

    /// The values of a dimension counted from the packed `traits` fast field instead of the
    /// facet field (a few values each, on every dataset: counting them from one column per
    /// document costs a search far less than as facets), in the order they are packed.
    fn tallied(self) -> Option<&'static [&'static str]> {
        match self {
            Dimension::Reuse => Some(&["commercial", "non_commercial", "unknown"]),
            Dimension::OpenLicence | Dimension::Api | Dimension::Free => Some(&["true", "false"]),
            Dimension::Quality => Some(&["excellent", "good", "enough", "bad"]),
            _ => None,
        }
    }

    /// Its three bits in the `traits` field, for a tallied dimension.
    fn slot(self) -> Option<usize> {
        TALLIED.iter().position(|d| *d == self)
    }

    /// The dimension with this API name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The values a dataset has, as indexed (none for [`Dimension::Fresh`], which is told at
    /// search time from the `due` field).
    fn values(self, input: &IndexInput<'_>) -> Vec<String> {
        let view = input.view;
        let opt = |o: &Option<String>| o.iter().cloned().collect::<Vec<_>>();
        let yes_no = |b: bool| vec![b.to_string()];
        let licence = view.license.as_deref().and_then(labels::licence);
        match self {
            // A dataset without a publisher counts under its source's organisation.
            Dimension::Municipality => view.municipality_code.clone().into_iter().collect(),
            Dimension::Publisher => view
                .publisher
                .as_ref()
                .map(|p| p.uri.clone())
                .into_iter()
                .collect(),
            Dimension::Theme => view.themes.clone(),
            Dimension::Format => view.formats.clone(),
            Dimension::License => opt(&view.license),
            Dimension::AccessRights => opt(&view.access_rights),
            Dimension::ConformsTo => view.conforms_to.clone(),
            Dimension::HvdCategory => view.hvd_categories.clone(),
            Dimension::Reuse => vec![
                match licence {
                    Some(l) if l.commercial() => "commercial",
                    Some(_) => "non_commercial",
                    None => "unknown",
                }
                .to_string(),
            ],
            Dimension::OpenLicence => yes_no(licence.is_some_and(|l| l.open())),
            Dimension::Api => yes_no(view.offers_api()),
            Dimension::Free => yes_no(view.fee.is_none()),
            Dimension::Fresh => Vec::new(),
            Dimension::Quality => input.quality.iter().map(|b| b.to_string()).collect(),
        }
    }
}

/// The tallied dimensions, in the order of their bits in the `traits` field.
const TALLIED: [Dimension; 5] = [
    Dimension::Reuse,
    Dimension::OpenLicence,
    Dimension::Api,
    Dimension::Free,
    Dimension::Quality,
];

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Best match first (newest first without a query).
    #[default]
    Relevance,
    /// Newest `dcterms:modified` first.
    Modified,
    /// Latest to appear or change in samla first (subscribers' feeds).
    Changed,
}

/// A search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// Free text.
    pub q: Option<String>,
    /// Filters: values of one dimension are OR-ed, dimensions AND-ed.
    pub filters: Vec<(Dimension, String)>,
    /// Order.
    pub sort: SortOrder,
    /// Hits to skip.
    pub offset: usize,
    /// Hits to return (at most [`MAX_PER_PAGE`]).
    pub limit: usize,
    /// Only datasets modified at or after this time (Unix seconds, UTC).
    pub modified_from: Option<i64>,
    /// Only datasets modified before this time (Unix seconds, UTC).
    pub modified_before: Option<i64>,
    /// Only datasets whose temporal coverage reaches to this time or later (Unix seconds).
    pub temporal_from: Option<i64>,
    /// Only datasets whose temporal coverage starts at this time or earlier (Unix seconds).
    pub temporal_until: Option<i64>,
    /// Only these datasets (by id), matched as typed: a saved search asking which of the
    /// datasets a harvest changed it finds. No misspelling is corrected then.
    pub only: Option<Vec<String>>,
}

/// The publisher as stored with a hit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HitPublisher {
    /// IRI.
    pub uri: String,
    /// Name per language.
    pub name: LangMap,
    /// Kommunkod.
    pub municipality_code: Option<String>,
}

/// What a hit shows, stored in the index so a search needs no other lookup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Identity.
    pub id: String,
    /// Dataset IRI.
    pub uri: String,
    /// Titles per language.
    pub title: LangMap,
    /// Descriptions per language.
    pub description: LangMap,
    /// Publisher.
    pub publisher: Option<HitPublisher>,
    /// Theme IRIs.
    pub themes: Vec<String>,
    /// File-type IRIs.
    pub formats: Vec<String>,
    /// Licence IRI.
    pub license: Option<String>,
    /// `dcterms:modified` as published.
    pub modified: Option<String>,
    /// Landing page.
    pub landing_page: Option<String>,
    /// Source id.
    pub source_id: String,
}

/// The answer to a search.
#[derive(Debug, Clone, Default)]
pub struct SearchResult {
    /// Hits matching in all.
    pub total: usize,
    /// This page of hits.
    pub hits: Vec<Hit>,
    /// Value counts per dimension, most frequent first.
    pub facets: BTreeMap<Dimension, Vec<(String, u64)>>,
    /// When the query as typed found nothing: the query searched instead, its misspelt
    /// words replaced by the closest words of the indexed titles and keywords.
    pub corrected: Option<String>,
}

/// A dataset to index.
#[derive(Debug, Clone, Copy)]
pub struct IndexInput<'a> {
    /// The typed view.
    pub view: &'a DatasetView,
    /// Its source.
    pub source_id: &'a str,
    /// Names of its municipality (official and short), so `malmö` finds Malmö's datasets.
    pub municipality_names: &'a [String],
    /// When it appeared or last changed in samla (Unix seconds).
    pub changed: i64,
    /// Its MQA quality band's key (`excellent`, `good`, `enough`, `bad`), when scored.
    pub quality: Option<&'a str>,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    doc: Field,
    title: Field,
    description: Field,
    keywords: Field,
    publisher: Field,
    extra: Field,
    parts: Field,
    /// Title and keyword words as written (lower case, accents folded, not stemmed): what a
    /// misspelt query word is corrected against.
    words: Field,
    modified: Field,
    /// When the dataset appeared or last changed in samla.
    changed: Field,
    /// Until when it is on time for its declared frequency (the earliest time the index
    /// holds when that cannot be told).
    due: Field,
    /// The tallied dimensions' values (see [`Dimension::tallied`]), packed three bits each
    /// (the value's place plus one), and as filter terms (`api/true`).
    traits: Field,
    /// A number fixed by the dataset's id: equal scores and dates are ordered by it, so every
    /// node (and every page after a merge) gives the same order.
    order: Field,
    flags: Field,
    /// The glossary's concepts its titles and keywords name (`c12`), so a query naming a
    /// concept finds what calls it by another term, in either language.
    concepts: Field,
    /// What a search box suggests: one term per title, keyword, name and label (see
    /// [`suggest::term`]), so a prefix is a range of the term dictionary.
    suggest: Field,
    /// Its temporal coverage (an open end as the farthest time the index holds).
    temporal_start: Field,
    temporal_end: Field,
    /// Every dimension's values in one facet field, as `/<dimension>/<value>`: one term
    /// dictionary per segment instead of eight (each costs a commit a fixed amount of work).
    facets: Field,
}

/// The text a dataset is found by, per field, as samla indexes it (the relevance benchmark
/// gives its baselines the same).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchText {
    /// Its titles, every language.
    pub title: String,
    /// Its descriptions.
    pub description: String,
    /// Its keywords.
    pub keywords: String,
    /// Its publisher's names.
    pub publisher: String,
    /// Its municipality's names, its themes', HVD categories' and file types' labels in both
    /// languages, and its specifications' IRIs as words.
    pub extra: String,
}

impl SearchText {
    /// The text of a dataset to index.
    pub fn of(input: &IndexInput<'_>) -> Self {
        let v = input.view;
        let join = |m: &LangMap| m.values().cloned().collect::<Vec<_>>().join(" \n ");
        let keywords: Vec<&str> = v.keywords.iter().map(|(_, k)| k.as_str()).collect();
        let mut extra: Vec<String> = input.municipality_names.to_vec();
        for iri in v.themes.iter().chain(&v.hvd_categories).chain(&v.formats) {
            for lang in ["sv", "en"] {
                if let Some(l) = labels::label_for(iri, lang) {
                    extra.push(l.to_string());
                }
            }
        }
        extra.extend(
            v.conforms_to
                .iter()
                .map(|c| c.replace(['/', '-', '_'], " ")),
        );
        Self {
            title: join(&v.title),
            description: join(&v.description),
            keywords: keywords.join(" \n "),
            publisher: v
                .publisher
                .as_ref()
                .map(|p| join(&p.name))
                .unwrap_or_default(),
            extra: extra.join(" \n "),
        }
    }
}

/// How [`Indexer::write`] writes its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Each replaces its dataset's document.
    Replace,
    /// The index is emptied first.
    All,
    /// Added: the index holds none of them (a rebuild's later parts).
    Add,
}

/// The writer and what it holds that searches do not see yet.
struct Writer {
    writer: IndexWriter,
    /// The store change sequence number the staged changes catch up with, and when the
    /// first of them was staged; `None` when everything written is published.
    staged: Option<(u64, Instant)>,
}

/// Parts staged together (see [`Indexer::staging`]).
pub struct Staging<'a> {
    index: &'a Indexer,
    writer: std::sync::MutexGuard<'a, Writer>,
    seq: u64,
}

impl Staging<'_> {
    /// Removes the datasets `remove` (by id) and replaces `inputs`; returns how many were
    /// added.
    pub fn stage<'a>(
        &mut self,
        remove: &[String],
        inputs: impl IntoIterator<Item = IndexInput<'a>>,
    ) -> Result<u64, IndexError> {
        self.index
            .write_held(&mut self.writer, Write::Replace, remove, inputs, self.seq)
    }
}

/// The index.
pub struct Indexer {
    index: Index,
    reader: IndexReader,
    writer: Mutex<Writer>,
    /// The sequence number searches have caught up with (the last commit's payload), kept
    /// here as this indexer's writer commits (it holds the index's only writer).
    published: Mutex<Option<u64>>,
    fields: Fields,
    path: PathBuf,
    /// The compound lexicon and the searcher generation it was learned from.
    lexicon: Mutex<Option<(u64, Arc<compound::Lexicon>)>>,
    /// The facet values of the segments searched, numbered (see [`counts`]).
    facet_names: counts::Names,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexer").field("path", &self.path).finish()
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(SWEDISH)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    // Whole values as terms (filters, concepts, suggestions), no positions.
    let raw = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        doc: b.add_text_field("doc", STORED),
        title: b.add_text_field("title", text.clone()),
        description: b.add_text_field("description", text.clone()),
        keywords: b.add_text_field("keywords", text.clone()),
        publisher: b.add_text_field("publisher_name", text.clone()),
        extra: b.add_text_field("extra", text.clone()),
        parts: b.add_text_field("parts", text),
        words: b.add_text_field(
            "words",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(FOLDED)
                    .set_index_option(IndexRecordOption::Basic),
            ),
        ),
        modified: b.add_date_field("modified", FAST),
        changed: b.add_date_field("changed", FAST),
        due: b.add_date_field(DUE, FAST),
        traits: b.add_u64_field(TRAITS, FAST),
        order: b.add_u64_field(ORDER, FAST),
        flags: b.add_text_field("flags", raw.clone()),
        concepts: b.add_text_field("concepts", raw.clone()),
        suggest: b.add_text_field("suggest", raw.clone()),
        temporal_start: b.add_date_field("temporal_start", FAST),
        temporal_end: b.add_date_field("temporal_end", FAST),
        facets: b.add_facet_field(FACETS, FacetOptions::default()),
    };
    (b.build(), fields)
}

/// Whether every indexed field of every segment `reader` sees can be read (its term
/// dictionary opened).
fn readable(reader: &IndexReader) -> tantivy::Result<()> {
    let searcher = reader.searcher();
    let schema = searcher.schema();
    for segment in searcher.segment_readers() {
        for (field, entry) in schema.fields() {
            if entry.is_indexed() {
                segment.inverted_index(field)?;
            }
        }
    }
    Ok(())
}

/// A time as the index keeps it (nanoseconds since 1970): a harvested or asked-for date
/// outside the years 1678–2261 is clamped to the nearest it can hold, not overflowed.
fn index_time(unix_secs: i64) -> DateTime {
    const LIMIT: i64 = i64::MAX / 1_000_000_000;
    DateTime::from_timestamp_secs(unix_secs.clamp(-LIMIT, LIMIT))
}

/// Words as written: lower case, accents folded, not stemmed.
fn folded_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(tantivy::tokenizer::LowerCaser)
        .filter(tantivy::tokenizer::AsciiFoldingFilter)
        .build()
}

/// The first token `analyzer` makes of `word`, or the word itself when it makes none.
fn first_token(analyzer: &mut TextAnalyzer, word: &str) -> String {
    let mut stream = analyzer.token_stream(word);
    if stream.advance() {
        stream.token().text.clone()
    } else {
        word.to_lowercase()
    }
}

/// Words too common to require: Swedish and English function words.
const LITTLE_WORDS: &[&str] = &[
    "i", "och", "for", "med", "pa", "av", "till", "fran", "om", "som", "en", "ett", "den", "det",
    "de", "att", "ar", "vid", "per", "samt", "inom", "the", "of", "in", "and", "on", "at", "to",
    "a", "an", "by", "with", "from",
];

/// Whether a query word is a little word (case and accents aside).
fn is_little(word: &str) -> bool {
    let folded = samla_model::normalize::fold(word);
    LITTLE_WORDS.contains(&folded.as_str())
}

/// How much more a match in a title, and in keywords, weighs than one in a description.
const TITLE_BOOST: f32 = 3.0;
const KEYWORDS_BOOST: f32 = 2.0;
/// How much more a match in the publisher's name counts than one in a description.
const PUBLISHER_BOOST: f32 = 1.5;

/// How a match through a word's compounds, its parts, the fixed modifier list and the
/// glossary weighs against a match as typed (1).
const SPLIT_BOOST: f32 = 0.5;
const COMPOUND_BOOST: f32 = 0.4;
/// The score of a match through the glossary alone (a match as typed in a title scores
/// several times more).
const GLOSSARY_SCORE: f32 = 1.0;
const COMPOUND_PART_BOOST: f32 = 0.3;

/// The tokenizer of the `words` field.
const FOLDED: &str = "folded";

fn swedish_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(words::SwedishWords)
        .build()
}

/// The writer's memory budget, shared by its threads: past its share, an indexing thread
/// finishes a segment.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// The writer's indexing threads.
const INDEXING_THREADS: usize = 2;

/// Inputs made into documents at a time (on every core) before they are added.
const DOCUMENTS_AT_ONCE: usize = 1024;

/// The facet field's name.
const FACETS: &str = "facets";

/// The `due` field's name.
const DUE: &str = "due";

/// The `traits` field's name.
const TRAITS: &str = "traits";

/// The `order` field's name.
const ORDER: &str = "order";

/// A dataset's place among equals (FNV-1a of its id: the same in every process and build).
fn order_of(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A tallied dimension's value as a filter term.
fn flag(dim: Dimension, value: &str) -> String {
    format!("{}/{value}", dim.name())
}

fn facet_value(dim: Dimension, value: &str) -> tantivy::schema::Facet {
    tantivy::schema::Facet::from_path([dim.name(), &value.replace('\0', "")])
}

impl Indexer {
    /// Opens the index in `dir`, creating it if needed. An index this build cannot use
    /// (another schema, or term dictionaries another build wrote) is started afresh: the
    /// index is derived from the store, and the caller's reconcile rebuilds it (it has no
    /// change sequence yet).
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        Self::open_in(dir, true)
    }

    /// [`Indexer::open`]; an index it cannot use is started afresh once when `may_restart`.
    fn open_in(dir: &Path, may_restart: bool) -> Result<Self, IndexError> {
        let open_err = |message: String| IndexError::Open {
            path: dir.into(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        let (schema, fields) = schema();
        let directory =
            tantivy::directory::MmapDirectory::open(dir).map_err(|e| open_err(e.to_string()))?;
        let t = |source| IndexError::Tantivy {
            path: dir.into(),
            source,
        };
        let restart = |why: &str, error: &dyn std::fmt::Display| {
            tracing::warn!(path = %dir.display(), %error, "{why}; rebuilding the index");
            std::fs::remove_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
            Self::open_in(dir, false)
        };
        let index = match Index::open_or_create(directory, schema) {
            // An index written by an earlier samla with another schema.
            Err(tantivy::TantivyError::SchemaError(message)) if may_restart => {
                return restart("index schema changed", &message);
            }
            other => other.map_err(t)?,
        };
        index.tokenizers().register(SWEDISH, swedish_analyzer());
        index.tokenizers().register(FOLDED, folded_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .and_then(|reader: IndexReader| readable(&reader).map(|()| reader));
        let reader = match reader {
            // Segments this build cannot read: written by an earlier samla with another term
            // dictionary (an FST, where this one writes sorted tables), or damaged.
            Err(error) if may_restart => {
                drop(index);
                return restart("index unreadable", &error);
            }
            other => other.map_err(t)?,
        };
        // Two indexing threads: the last source of a harvest is indexed after it has been read,
        // with nothing else left to do, so both cores index it. (Each commit finishes a
        // segment per thread that got documents; the merge policy folds them together.)
        let writer = index
            .writer_with_num_threads(INDEXING_THREADS, WRITER_MEMORY)
            .map_err(t)?;
        // The store change sequence number the last commit carries.
        let published = index
            .load_metas()
            .ok()
            .and_then(|m| m.payload?.parse().ok());
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(Writer {
                writer,
                staged: None,
            }),
            published: Mutex::new(published),
            fields,
            path: dir.into(),
            lexicon: Mutex::new(None),
            facet_names: counts::Names::default(),
        })
    }

    fn err(&self, source: tantivy::TantivyError) -> IndexError {
        IndexError::Tantivy {
            path: self.path.clone(),
            source,
        }
    }

    /// The store change sequence number the last commit caught up with: what searches see.
    pub fn indexed_seq(&self) -> Option<u64> {
        *self.published.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Datasets in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn document(&self, input: &IndexInput<'_>) -> TantivyDocument {
        let f = &self.fields;
        let v = input.view;
        let hit = Hit {
            id: v.id.0.clone(),
            uri: v.uri.clone(),
            title: v.title.clone(),
            description: v.description.clone(),
            publisher: v.publisher.as_ref().map(|p| HitPublisher {
                uri: p.uri.clone(),
                name: p.name.clone(),
                municipality_code: p.municipality_code.clone(),
            }),
            themes: v.themes.clone(),
            formats: v.formats.clone(),
            license: v.license.clone(),
            modified: v.modified.clone(),
            landing_page: v.landing_page.clone(),
            source_id: input.source_id.to_string(),
        };
        let mut d =
            doc!(f.id => v.id.0.clone(), f.doc => serde_json::to_string(&hit).unwrap_or_default());
        let text = SearchText::of(input);
        d.add_text(f.title, &text.title);
        d.add_text(f.description, &text.description);
        d.add_text(f.keywords, &text.keywords);
        d.add_text(f.words, format!("{} \n {}", text.title, text.keywords));
        if v.publisher.is_some() {
            d.add_text(f.publisher, &text.publisher);
        }
        d.add_text(f.extra, &text.extra);
        d.add_text(
            f.parts,
            compound::modifiers_of(&format!("{} {}", text.title, text.keywords)),
        );
        let glossary = glossary::Glossary::get();
        let names = v.title.values().chain(v.keywords.iter().map(|(_, k)| k));
        let mut concepts: Vec<usize> = names.flat_map(|n| glossary.concepts_of(n)).collect();
        concepts.sort_unstable();
        concepts.dedup();
        for id in concepts {
            d.add_text(f.concepts, glossary::Glossary::concept_token(id));
        }
        if let Some(m) = v.modified_at() {
            d.add_date(f.modified, index_time(m.timestamp()));
        }
        d.add_date(f.changed, index_time(input.changed));
        match freshness::due(v.modified_at(), v.accrual_periodicity.as_deref()) {
            Ok(Some(due)) => d.add_date(f.due, index_time(due.until.timestamp())),
            Ok(None) => d.add_date(f.due, index_time(i64::MAX)),
            // Every document has a `due` (a dense column is read fastest): the earliest time
            // the index holds says that freshness cannot be told.
            Err(_) => d.add_date(f.due, index_time(i64::MIN)),
        }
        if let Some(t) = &v.temporal {
            let at = |s: &Option<String>| {
                s.as_deref()
                    .and_then(normalize::date)
                    .map(|d| d.timestamp())
            };
            let (start, end) = (at(&t.start), at(&t.end));
            if start.is_some() || end.is_some() {
                d.add_date(f.temporal_start, index_time(start.unwrap_or(i64::MIN)));
                d.add_date(f.temporal_end, index_time(end.unwrap_or(i64::MAX)));
            }
        }
        for term in suggest::terms(input) {
            d.add_text(f.suggest, term);
        }
        let mut traits = 0u64;
        for dim in Dimension::ALL {
            for value in dim.values(input) {
                match (dim.tallied(), dim.slot()) {
                    (Some(values), Some(slot)) => {
                        if let Some(at) = values.iter().position(|v| *v == value) {
                            traits |= (at as u64 + 1) << (3 * slot);
                        }
                        d.add_text(f.flags, flag(dim, &value));
                    }
                    _ => d.add_facet(f.facets, facet_value(dim, &value)),
                }
            }
        }
        d.add_u64(f.traits, traits);
        d.add_u64(f.order, order_of(&v.id.0));
        d
    }

    /// Replaces the given datasets (by id) and commits with the store's sequence number,
    /// so searches see all of them at once or none.
    pub fn upsert<'a>(
        &self,
        inputs: impl IntoIterator<Item = IndexInput<'a>>,
        seq: u64,
    ) -> Result<u64, IndexError> {
        self.update(&[], inputs, seq)
    }

    /// Removes the datasets `remove` (by id) and replaces `inputs`, in one commit with `seq`
    /// (which publishes anything staged before, too).
    pub fn update<'a>(
        &self,
        remove: &[String],
        inputs: impl IntoIterator<Item = IndexInput<'a>>,
        seq: u64,
    ) -> Result<u64, IndexError> {
        let n = self.write(Write::Replace, remove, inputs, seq)?;
        self.publish()?;
        Ok(n)
    }

    /// Replaces the whole index with `inputs` (for `samla reindex`).
    pub fn rebuild<'a>(
        &self,
        inputs: impl IntoIterator<Item = IndexInput<'a>>,
        seq: u64,
    ) -> Result<u64, IndexError> {
        let n = self.stage_rebuild(true, inputs, seq)?;
        self.publish()?;
        Ok(n)
    }

    /// Stages a part of a rebuild, without committing: the `first` part empties the index,
    /// the others add to it, and [`Indexer::publish`] makes the whole searchable at once. A
    /// rebuild given in parts holds one part in memory, not the corpus.
    pub fn stage_rebuild<'a>(
        &self,
        first: bool,
        inputs: impl IntoIterator<Item = IndexInput<'a>>,
        seq: u64,
    ) -> Result<u64, IndexError> {
        let how = if first { Write::All } else { Write::Add };
        self.write(how, &[], inputs, seq)
    }

    /// Stages changes in parts that become searchable together, with `seq`, without
    /// committing: they are indexed now and become searchable, with everything else staged,
    /// at the next [`Indexer::publish`]. While the [`Staging`] is held nothing is published,
    /// so no commit shows some parts without the others. Stage changes in the order of their
    /// `seq`.
    pub fn staging(&self, seq: u64) -> Staging<'_> {
        Staging {
            index: self,
            writer: self.writer.lock().unwrap_or_else(|p| p.into_inner()),
            seq,
        }
    }

    /// When the oldest change not yet searchable was staged, if any is.
    pub fn staged_since(&self) -> Option<Instant> {
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .staged
            .map(|(_, since)| since)
    }

    /// Makes every staged change searchable in one commit carrying the sequence number of
    /// the last; returns that number, or `None` when nothing was staged.
    pub fn publish(&self) -> Result<Option<u64>, IndexError> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let Some((seq, _)) = w.staged else {
            return Ok(None);
        };
        let mut prepared = w.writer.prepare_commit().map_err(|e| self.err(e))?;
        prepared.set_payload(&seq.to_string());
        prepared.commit().map_err(|e| self.err(e))?;
        w.staged = None;
        *self.published.lock().unwrap_or_else(|p| p.into_inner()) = Some(seq);
        self.reader.reload().map_err(|e| self.err(e))?;
        Ok(Some(seq))
    }

    /// Adds `inputs` (each replacing any document with its id, or everything first when
    /// `replace_all`), staged with `seq`.
    fn write<'a>(
        &self,
        how: Write,
        remove: &[String],
        inputs: impl IntoIterator<Item = IndexInput<'a>>,
        seq: u64,
    ) -> Result<u64, IndexError> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.write_held(&mut w, how, remove, inputs, seq)
    }

    /// [`Indexer::write`] with the writer held.
    fn write_held<'a>(
        &self,
        w: &mut Writer,
        how: Write,
        remove: &[String],
        inputs: impl IntoIterator<Item = IndexInput<'a>>,
        seq: u64,
    ) -> Result<u64, IndexError> {
        let writer = &mut w.writer;
        if how == Write::All {
            writer.delete_all_documents().map_err(|e| self.err(e))?;
        }
        for id in remove {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
        }
        let mut n = 0;
        let mut inputs = inputs.into_iter().peekable();
        // Documents are made on every core, a part at a time, and added in order.
        while inputs.peek().is_some() {
            let part: Vec<IndexInput<'a>> = inputs.by_ref().take(DOCUMENTS_AT_ONCE).collect();
            let documents = par_map(&part, |input| self.document(input));
            for (input, document) in part.iter().zip(documents) {
                if how == Write::Replace {
                    writer.delete_term(Term::from_field_text(self.fields.id, &input.view.id.0));
                }
                writer.add_document(document).map_err(|e| self.err(e))?;
                n += 1;
            }
        }
        let since = w.staged.map_or_else(Instant::now, |(_, since)| since);
        w.staged = Some((seq, since));
        Ok(n)
    }

    /// The compound lexicon of `searcher`'s index, learned once per commit.
    fn lexicon(&self, searcher: &Searcher) -> Arc<compound::Lexicon> {
        let generation = searcher.generation().generation_id();
        let mut cached = self.lexicon.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((learned_at, lexicon)) = cached.as_ref()
            && *learned_at == generation
        {
            return lexicon.clone();
        }
        let mut words: HashMap<String, u64> = HashMap::new();
        for segment in searcher.segment_readers() {
            let Ok(inverted) = segment.inverted_index(self.fields.words) else {
                continue;
            };
            let Ok(mut terms) = inverted.terms().stream() else {
                continue;
            };
            while terms.advance() {
                if let Ok(word) = std::str::from_utf8(terms.key()) {
                    *words.entry(word.to_string()).or_default() +=
                        u64::from(terms.value().doc_freq);
                }
            }
        }
        let mut analyzer = swedish_analyzer();
        let lexicon = Arc::new(compound::Lexicon::learn(words, |w| {
            first_token(&mut analyzer, w)
        }));
        *cached = Some((generation, lexicon.clone()));
        lexicon
    }

    /// The query for free text: every word (or a stretch of words the glossary names) must
    /// match. A word matches as typed, stemmed, in any text field; ranked below that, it
    /// also matches the compounds it is part of, its own parts when it is a compound, and
    /// through the glossary the concept's other terms in either language.
    ///
    /// The ways a word matches are one flat union of weighted terms, not nested queries: a
    /// union of terms is tantivy's fastest, and each level of nesting costs every document
    /// found. (A weight multiplies into each term's score, so the scores are those of the
    /// nested form.)
    fn text_query(&self, q: &str, searcher: &Searcher) -> Box<dyn Query> {
        let f = &self.fields;
        let q: String = q.chars().take(MAX_QUERY_CHARS).collect();
        let words: Vec<&str> = q
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .map(|w| w.trim_matches('-'))
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .take(32)
            .collect();
        if words.is_empty() {
            return Box::new(AllQuery);
        }
        let text_fields = [
            (f.title, TITLE_BOOST),
            (f.keywords, KEYWORDS_BOOST),
            (f.description, 1.0),
            (f.publisher, PUBLISHER_BOOST),
            (f.extra, 1.0),
        ];
        // Titles and keywords (and the labels of themes and formats): where compounds are
        // looked for.
        let name_fields = [text_fields[0], text_fields[1], text_fields[4]];
        let weighted = |term: Term, boost: f32, options: IndexRecordOption| -> Box<dyn Query> {
            let query = Box::new(TermQuery::new(term, options));
            if boost == 1.0 {
                query
            } else {
                Box::new(BoostQuery::new(query, boost))
            }
        };
        // Any (or all) of `queries`; one query stands as it is.
        let combine = |occur: Occur, mut queries: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            if queries.len() == 1
                && let Some(only) = queries.pop()
            {
                return only;
            }
            Box::new(BooleanQuery::new(
                queries.into_iter().map(|q| (occur, q)).collect(),
            ))
        };
        let any = |queries: Vec<Box<dyn Query>>| combine(Occur::Should, queries);
        let all = |queries: Vec<Box<dyn Query>>| combine(Occur::Must, queries);
        let lexicon = self.lexicon(searcher);
        let mut stemmer = swedish_analyzer();
        let mut folder = folded_analyzer();
        // A word as typed, in every text field: one term each when the word is one token; a
        // phrase (as the query parser makes it, quoted so no syntax is read) when it is more
        // (`covid-19`).
        let as_typed =
            |stemmer: &mut TextAnalyzer, word: &str, boost: f32| -> Vec<Box<dyn Query>> {
                let mut tokens = Vec::new();
                let mut stream = stemmer.token_stream(word);
                while stream.advance() {
                    tokens.push(stream.token().text.clone());
                }
                match &tokens[..] {
                    [] => Vec::new(),
                    [token] => text_fields
                        .iter()
                        .map(|(field, field_boost)| {
                            weighted(
                                Term::from_field_text(*field, token),
                                field_boost * boost,
                                IndexRecordOption::WithFreqs,
                            )
                        })
                        .collect(),
                    _ => {
                        let fields = text_fields.iter().map(|(field, _)| *field).collect();
                        let mut phrase = QueryParser::for_index(&self.index, fields);
                        for (field, field_boost) in text_fields {
                            phrase.set_field_boost(field, field_boost * boost);
                        }
                        vec![phrase.parse_query_lenient(&format!("\"{word}\"")).0]
                    }
                }
            };
        let part_term = |modifier: &str, boost: f32| -> Box<dyn Query> {
            weighted(
                Term::from_field_text(f.parts, modifier),
                boost,
                IndexRecordOption::Basic,
            )
        };
        // Every way a word matches, to be united.
        let mut word_clauses = |word: &str| -> Vec<Box<dyn Query>> {
            let mut should = as_typed(&mut stemmer, word, 1.0);
            if let Some(m) = compound::modifier(word) {
                should.push(part_term(m, COMPOUND_PART_BOOST));
            }
            let folded = first_token(&mut folder, word);
            let stem = first_token(&mut stemmer, word);
            // The compounds are words of titles and keywords; only terms the index holds
            // become clauses.
            for compound in lexicon.compounds_with(&folded, &stem) {
                let compound = first_token(&mut stemmer, compound);
                for (field, boost) in name_fields {
                    let term = Term::from_field_text(field, &compound);
                    if searcher.doc_freq(&term).unwrap_or(0) > 0 {
                        should.push(weighted(
                            term,
                            boost * COMPOUND_BOOST,
                            IndexRecordOption::WithFreqs,
                        ));
                    }
                }
            }
            // A compound no title or keyword holds whole is searched as its parts; one they
            // hold is found as it stands.
            let stands = searcher
                .doc_freq(&Term::from_field_text(f.words, &folded))
                .unwrap_or(0)
                > 0;
            let split = (!stands)
                .then(|| lexicon.split(&folded, |w| first_token(&mut stemmer, w)))
                .flatten();
            if let Some(split) = split {
                let mut modifier = as_typed(&mut stemmer, &split.modifier, SPLIT_BOOST);
                modifier.push(part_term(&split.modifier, SPLIT_BOOST));
                let head = any(as_typed(&mut stemmer, &split.head, SPLIT_BOOST));
                should.push(all(vec![any(modifier), head]));
            }
            should
        };
        let mut matches = glossary::Glossary::get()
            .matches(&words)
            .into_iter()
            .peekable();
        // Little words (`i`, `och`, `the`) count where they are found but are not required:
        // "badplatser i malmö" is about bathing sites and Malmö, wherever an `i` stands.
        let all_little = words.iter().all(|w| is_little(w));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut at = 0;
        while at < words.len() {
            let Some(m) = matches.next_if(|m| m.start == at) else {
                let occur = if is_little(words[at]) && !all_little {
                    Occur::Should
                } else {
                    Occur::Must
                };
                clauses.push((occur, any(word_clauses(words[at]))));
                at += 1;
                continue;
            };
            let mut should = match &words[at..at + m.len] {
                [word] => word_clauses(word),
                stretch => vec![all(stretch.iter().map(|w| any(word_clauses(w))).collect())],
            };
            let translated: Vec<Box<dyn Query>> = m
                .concepts
                .iter()
                .map(|id| {
                    let term =
                        Term::from_field_text(f.concepts, &glossary::Glossary::concept_token(*id));
                    weighted(term, 1.0, IndexRecordOption::Basic)
                })
                .collect();
            if !translated.is_empty() {
                // One score for every match through the glossary: it ranks below a match as
                // typed.
                should.push(Box::new(tantivy::query::ConstScoreQuery::new(
                    any(translated),
                    GLOSSARY_SCORE,
                )));
            }
            clauses.push((Occur::Must, any(should)));
            at += m.len;
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Up to `limit` completions of `q` in `lang` from the indexed titles, keywords,
    /// organisations, municipalities, themes and specifications (see [`suggest`]).
    pub fn suggest(&self, q: &str, lang: &str, limit: usize) -> Vec<suggest::Suggestion> {
        let searcher = self.reader.searcher();
        let dictionaries: Vec<_> = searcher
            .segment_readers()
            .iter()
            .filter_map(|s| s.inverted_index(self.fields.suggest).ok())
            .collect();
        suggest::complete(
            dictionaries.iter().map(|i| i.terms()),
            q,
            lang,
            limit.clamp(1, suggest::MAX_SUGGESTIONS),
        )
    }

    /// Searches. A query that finds nothing as typed is tried again with its misspelt words
    /// corrected (see [`SearchResult::corrected`]).
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResult, IndexError> {
        let result = self.search_as_typed(req)?;
        if result.total > 0 || req.only.is_some() {
            return Ok(result);
        }
        let Some(corrected) = req.q.as_deref().and_then(|q| self.correct(q)) else {
            return Ok(result);
        };
        let mut again = self.search_as_typed(&SearchRequest {
            q: Some(corrected.clone()),
            ..req.clone()
        })?;
        if again.total == 0 {
            return Ok(result);
        }
        again.corrected = Some(corrected);
        Ok(again)
    }

    /// The query with each word that no title or keyword holds replaced by the closest one
    /// that does (edit distance 1 for words of 4 to 7 letters, 2 from 8; the most frequent of
    /// the closest); `None` when no word changed.
    fn correct(&self, q: &str) -> Option<String> {
        let searcher = self.reader.searcher();
        let field = self.fields.words;
        let mut analyzer = folded_analyzer();
        let mut changed = false;
        let mut words = Vec::new();
        let q: String = q.chars().take(MAX_QUERY_CHARS).collect();
        let mut stream = analyzer.token_stream(&q);
        while let Some(token) = stream.next() {
            let word = token.text.clone();
            let length = word.chars().count();
            let known = searcher
                .doc_freq(&Term::from_field_text(field, &word))
                .unwrap_or(0)
                > 0;
            if known || length < 4 || words.len() >= 32 {
                words.push(word);
                continue;
            }
            let limit = if length >= 8 { 2 } else { 1 };
            let mut best: Option<(usize, u64, String)> = None;
            for segment in searcher.segment_readers() {
                let Ok(inverted) = segment.inverted_index(field) else {
                    continue;
                };
                let Ok(mut terms) = inverted.terms().stream() else {
                    continue;
                };
                while terms.advance() {
                    let Ok(candidate) = std::str::from_utf8(terms.key()) else {
                        continue;
                    };
                    if candidate.chars().count().abs_diff(length) > limit {
                        continue;
                    }
                    let distance = strsim::osa_distance(candidate, &word);
                    if distance > limit {
                        continue;
                    }
                    let frequency = u64::from(terms.value().doc_freq);
                    let better = best.as_ref().is_none_or(|(d, f, c)| {
                        (distance, std::cmp::Reverse(frequency), candidate)
                            < (*d, std::cmp::Reverse(*f), c.as_str())
                    });
                    if better {
                        best = Some((distance, frequency, candidate.to_string()));
                    }
                }
            }
            match best {
                Some((_, _, candidate)) => {
                    changed = true;
                    words.push(candidate);
                }
                None => words.push(word),
            }
        }
        changed.then(|| words.join(" "))
    }

    fn search_as_typed(&self, req: &SearchRequest) -> Result<SearchResult, IndexError> {
        let f = &self.fields;
        let searcher = self.reader.searcher();
        let text = req.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            text.map_or_else(
                || Box::new(AllQuery) as Box<dyn Query>,
                |q| self.text_query(q, &searcher),
            ),
        )];
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let date_range = |field: Field, from: Bound<i64>, to: Bound<i64>| -> Box<dyn Query> {
            let at = |secs: i64| Term::from_field_date(field, index_time(secs));
            Box::new(tantivy::query::RangeQuery::new(from.map(at), to.map(at)))
        };
        for dim in Dimension::ALL {
            let values: Vec<(Occur, Box<dyn Query>)> = req
                .filters
                .iter()
                .filter(|(d, _)| *d == dim)
                .map(|(_, v)| {
                    let query: Box<dyn Query> = if dim == Dimension::Fresh {
                        // On time until `due`: due now or later is fresh, before now is not.
                        if v == "true" {
                            date_range(f.due, Bound::Included(now), Bound::Unbounded)
                        } else {
                            date_range(f.due, Bound::Excluded(i64::MIN), Bound::Excluded(now))
                        }
                    } else if dim.tallied().is_some() {
                        let term = Term::from_field_text(f.flags, &flag(dim, v));
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic))
                    } else {
                        let term = Term::from_facet(f.facets, &facet_value(dim, v));
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic))
                    };
                    (Occur::Should, query)
                })
                .collect();
            if !values.is_empty() {
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(values))));
            }
        }
        if req.modified_from.is_some() || req.modified_before.is_some() {
            clauses.push((
                Occur::Must,
                date_range(
                    f.modified,
                    req.modified_from.map_or(Bound::Unbounded, Bound::Included),
                    req.modified_before
                        .map_or(Bound::Unbounded, Bound::Excluded),
                ),
            ));
        }
        // Coverage that overlaps the asked period: it starts before the period ends and ends
        // after it starts.
        if let Some(until) = req.temporal_until {
            clauses.push((
                Occur::Must,
                date_range(f.temporal_start, Bound::Unbounded, Bound::Included(until)),
            ));
        }
        if let Some(from) = req.temporal_from {
            clauses.push((
                Occur::Must,
                date_range(f.temporal_end, Bound::Included(from), Bound::Unbounded),
            ));
        }
        if let Some(ids) = &req.only {
            let terms = ids.iter().map(|id| Term::from_field_text(f.id, id));
            clauses.push((
                Occur::Must,
                Box::new(tantivy::query::TermSetQuery::new(terms)),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let limit = req.limit.clamp(1, MAX_PER_PAGE);
        // The collector keeps offset + limit candidates: an offset past every document is
        // bounded to the index size, so no page number can make it allocate more.
        let offset = req.offset.min(searcher.num_docs() as usize);
        let top = TopDocs::with_limit(limit).and_offset(offset);

        let counter =
            counts::Counter::new(&self.facet_names, &searcher, now).map_err(|e| self.err(e))?;
        // Newest first by a date: samla's change time for feeds, else the published one (also
        // without a query, where no score orders anything).
        let by_date = match req.sort {
            SortOrder::Changed => Some("changed"),
            SortOrder::Modified => Some("modified"),
            SortOrder::Relevance => text.is_none().then_some("modified"),
        };
        // Equals (the same score, the same date) in the order of their `order`: the same on
        // every node, and before and after a merge. (A pair of sort keys reads the second only
        // for a document the first does not already rule out.)
        let order = || SortByStaticFastValue::<u64>::for_field(ORDER);
        let (addresses, counted) = if let Some(date) = by_date {
            let newest =
                top.order_by((SortByStaticFastValue::<DateTime>::for_field(date), order()));
            let (docs, counted) = searcher
                .search(&query, &(newest, counter))
                .map_err(|e| self.err(e))?;
            (
                docs.into_iter().map(|(_, a)| a).collect::<Vec<_>>(),
                counted,
            )
        } else {
            let best = top.order_by((SortBySimilarityScore, order()));
            let (docs, counted) = searcher
                .search(&query, &(best, counter))
                .map_err(|e| self.err(e))?;
            (
                docs.into_iter().map(|(_, a)| a).collect::<Vec<_>>(),
                counted,
            )
        };
        let mut facets = BTreeMap::new();
        let counted_values = |values: &[&str], counts: &[u64]| -> Vec<(String, u64)> {
            let mut out: Vec<(String, u64)> = values
                .iter()
                .zip(counts)
                .filter(|(_, n)| **n > 0)
                .map(|(v, n)| (v.to_string(), *n))
                .collect();
            out.sort_by_key(|v| std::cmp::Reverse(v.1));
            out
        };
        facets.insert(
            Dimension::Fresh,
            counted_values(&["true", "false"], &counted.fresh),
        );
        for dim in TALLIED {
            if let (Some(values), Some(slot)) = (dim.tallied(), dim.slot()) {
                facets.insert(dim, counted_values(values, &counted.traits[slot]));
            }
        }
        for dim in Dimension::ALL
            .into_iter()
            .filter(|d| *d != Dimension::Fresh && d.tallied().is_none())
        {
            facets.insert(dim, Vec::new());
        }
        for (dim, value, n) in counted.values() {
            facets.entry(dim).or_default().push((value.to_string(), n));
        }
        for (_, values) in facets
            .iter_mut()
            .filter(|(d, _)| **d != Dimension::Fresh && d.tallied().is_none())
        {
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            values.truncate(FACET_VALUES);
        }
        let total = counted.total;
        let mut hits = Vec::with_capacity(addresses.len());
        for address in addresses {
            let doc: TantivyDocument = searcher.doc(address).map_err(|e| self.err(e))?;
            if let Some(json) = doc.get_first(f.doc).and_then(|v| v.as_str())
                && let Ok(hit) = serde_json::from_str::<Hit>(json)
            {
                hits.push(hit);
            }
        }
        Ok(SearchResult {
            total,
            hits,
            facets,
            corrected: None,
        })
    }
}

/// The Swedish analyzer's terms for `text` (lower-cased, stemmed, accents folded): what the
/// index matches on, for grouping query texts the way search sees them.
pub fn stem_terms(text: &str) -> Vec<String> {
    let mut analyzer = swedish_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while stream.advance() {
        terms.push(stream.token().text.clone());
    }
    terms
}
