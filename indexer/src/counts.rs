//! What a search found, counted in one pass over the matching datasets: how many, each
//! faceted dimension's values, freshness (told at search time from `due`) and the tallied
//! dimensions (from the packed `traits` column).
//!
//! tantivy's `FacetCollector` finds, on every search and in every segment, which facet
//! ordinals sit under which dimension (a walk of the segment's facet dictionary), then looks
//! up the name of every value it counted and merges the segments' counts by name. Segments
//! never change, so here the values are numbered across the segments once per searcher
//! generation ([`Table`]); a search counts ordinals, a block of documents at a time, and adds
//! numbers.

use crate::{DUE, Dimension, FACETS, TALLIED, TRAITS, index_time};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::schema::Facet;
use tantivy::{DateTime, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

/// The facet values of a searcher's segments, numbered across them.
#[derive(Debug, Default)]
pub(crate) struct Table {
    /// Each value's dimension and name, by number.
    values: Vec<(Dimension, Arc<str>)>,
    /// Per segment (by ordinal), each facet ordinal's number (`None`: not a value of a known
    /// dimension).
    numbers: Vec<Vec<Option<u32>>>,
}

impl Table {
    /// One walk of each segment's facet dictionary: `/dimension/value` for each ordinal.
    fn read(searcher: &Searcher) -> tantivy::Result<Self> {
        let mut table = Table::default();
        let mut known: HashMap<(Dimension, Arc<str>), u32> = HashMap::new();
        for segment in searcher.segment_readers() {
            let Some(column) = segment.fast_fields().str(FACETS)? else {
                table.numbers.push(Vec::new());
                continue;
            };
            let dictionary = column.dictionary();
            let mut numbers = vec![None; dictionary.num_terms()];
            let mut terms = dictionary.stream()?;
            while terms.advance() {
                let Ok(facet) = Facet::from_encoded(terms.key().to_vec()) else {
                    continue;
                };
                if let [dim, value] = facet.to_path()[..]
                    && let Some(dim) = Dimension::from_name(dim)
                    && let Some(slot) = usize::try_from(terms.term_ord())
                        .ok()
                        .and_then(|ord| numbers.get_mut(ord))
                {
                    let value: Arc<str> = Arc::from(value);
                    let next = u32::try_from(table.values.len()).unwrap_or(u32::MAX);
                    let number = *known.entry((dim, value.clone())).or_insert_with(|| {
                        table.values.push((dim, value));
                        next
                    });
                    *slot = Some(number);
                }
            }
            table.numbers.push(numbers);
        }
        Ok(table)
    }
}

/// The table of the searcher generation searched last.
#[derive(Default)]
pub(crate) struct Names {
    latest: Mutex<Option<(u64, Arc<Table>)>>,
}

impl Names {
    /// The table of `searcher`'s segments: read once per generation (a commit or merge makes
    /// a new one); a search of an older generation than the one kept reads its own.
    fn of(&self, searcher: &Searcher) -> tantivy::Result<Arc<Table>> {
        let generation = searcher.generation().generation_id();
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        match latest.as_ref() {
            Some((kept, table)) if *kept == generation => return Ok(table.clone()),
            Some((kept, _)) if *kept > generation => return Table::read(searcher).map(Arc::new),
            _ => {}
        }
        let table = Arc::new(Table::read(searcher)?);
        *latest = Some((generation, table.clone()));
        Ok(table)
    }
}

/// What [`Counter`] counted.
#[derive(Debug, Default)]
pub(crate) struct Counted {
    /// Datasets found.
    pub total: usize,
    /// On time and overdue (datasets whose freshness cannot be told are neither).
    pub fresh: [u64; 2],
    /// Each tallied dimension's values, in their order.
    pub traits: [[u64; 4]; TALLIED.len()],
    /// Datasets found per faceted value, by its number in `table`.
    per_value: Vec<u64>,
    table: Arc<Table>,
}

impl Counted {
    /// Each faceted value found, with the datasets found that have it.
    pub fn values(&self) -> impl Iterator<Item = (Dimension, &str, u64)> {
        self.table
            .values
            .iter()
            .zip(&self.per_value)
            .filter(|(_, n)| **n > 0)
            .map(|((dim, value), n)| (*dim, &**value, *n))
    }
}

/// Counts every dataset found (see the module documentation).
pub(crate) struct Counter {
    now: DateTime,
    table: Arc<Table>,
}

impl Counter {
    /// A counter for a search of `searcher` at `now` (seconds since 1970).
    pub fn new(names: &Names, searcher: &Searcher, now: i64) -> tantivy::Result<Self> {
        Ok(Self {
            now: index_time(now),
            table: names.of(searcher)?,
        })
    }
}

/// Documents counted together: the columns are read a block at a time, which costs less per
/// document than one read each.
const BLOCK: usize = 512;

pub(crate) struct CounterSegment {
    /// The facet ordinals of each document (`None`: the segment has no facets).
    ords: Option<Column<u64>>,
    /// The table, and this segment's ordinal in it.
    table: Arc<Table>,
    segment: usize,
    /// Documents found and not yet counted.
    block: Vec<DocId>,
    /// Room for reading a block.
    rows: Vec<u32>,
    row_docs: Vec<DocId>,
    values: Vec<u64>,
    dues: Vec<Option<DateTime>>,
    traits_of: Vec<Option<u64>>,
    /// Datasets found per facet ordinal.
    per_ord: Vec<u32>,
    due: Column<DateTime>,
    /// The `due` of a dataset whose freshness cannot be told.
    unknown: DateTime,
    traits: Column<u64>,
    now: DateTime,
    counted: Counted,
}

impl Collector for Counter {
    type Fruit = Counted;
    type Child = CounterSegment;

    fn for_segment(
        &self,
        ordinal: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<CounterSegment> {
        let ords = self.table.numbers.get(ordinal as usize).map_or(0, Vec::len);
        Ok(CounterSegment {
            per_ord: vec![0; ords],
            ords: segment
                .fast_fields()
                .str(FACETS)?
                .map(|column| column.ords().clone()),
            table: self.table.clone(),
            segment: ordinal as usize,
            block: Vec::with_capacity(BLOCK),
            rows: Vec::new(),
            row_docs: Vec::new(),
            values: Vec::new(),
            dues: Vec::new(),
            traits_of: Vec::new(),
            due: segment.fast_fields().date(DUE)?,
            unknown: index_time(i64::MIN),
            traits: segment.fast_fields().u64(TRAITS)?,
            now: self.now,
            counted: Counted {
                per_value: vec![0; self.table.values.len()],
                table: self.table.clone(),
                ..Counted::default()
            },
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counted>) -> tantivy::Result<Counted> {
        let mut all = Counted {
            per_value: vec![0; self.table.values.len()],
            table: self.table.clone(),
            ..Counted::default()
        };
        for f in fruits {
            all.total += f.total;
            for (a, b) in all.per_value.iter_mut().zip(f.per_value) {
                *a += b;
            }
            for (a, b) in all.fresh.iter_mut().zip(f.fresh) {
                *a += b;
            }
            for (slot, counts) in all.traits.iter_mut().zip(f.traits) {
                for (a, b) in slot.iter_mut().zip(counts) {
                    *a += b;
                }
            }
        }
        Ok(all)
    }
}

impl CounterSegment {
    /// Counts the documents of the block.
    fn count(&mut self) {
        let docs = &self.block;
        self.counted.total += docs.len();
        self.rows.clear();
        self.row_docs.clear();
        if let Some(ords) = &self.ords {
            ords.index
                .docids_to_rowids(docs, &mut self.row_docs, &mut self.rows);
        }
        self.values.resize(self.rows.len(), 0);
        if let Some(ords) = &self.ords {
            ords.values.get_vals(&self.rows, &mut self.values);
        }
        // A document's ordinals are sorted: a value given twice counts once.
        let mut previous = (DocId::MAX, u64::MAX);
        for (doc, ord) in self.row_docs.iter().zip(&self.values) {
            if (*doc, *ord) != previous
                && let Some(n) = usize::try_from(*ord)
                    .ok()
                    .and_then(|ord| self.per_ord.get_mut(ord))
            {
                *n += 1;
            }
            previous = (*doc, *ord);
        }
        self.dues.resize(docs.len(), None);
        self.due.first_vals(docs, &mut self.dues);
        for due in &self.dues {
            match due {
                Some(due) if *due >= self.now => self.counted.fresh[0] += 1,
                Some(due) if *due > self.unknown => self.counted.fresh[1] += 1,
                _ => {}
            }
        }
        self.traits_of.resize(docs.len(), None);
        self.traits.first_vals(docs, &mut self.traits_of);
        for traits in &self.traits_of {
            let traits = traits.unwrap_or(0);
            for (slot, counts) in self.counted.traits.iter_mut().enumerate() {
                let value = (traits >> (3 * slot)) & 0b111;
                if let Some(n) = (value as usize)
                    .checked_sub(1)
                    .and_then(|at| counts.get_mut(at))
                {
                    *n += 1;
                }
            }
        }
        self.block.clear();
    }
}

impl SegmentCollector for CounterSegment {
    type Fruit = Counted;

    fn collect(&mut self, doc: DocId, _: Score) {
        self.block.push(doc);
        if self.block.len() == BLOCK {
            self.count();
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        for doc in docs {
            self.collect(*doc, 0.0);
        }
    }

    fn harvest(mut self) -> Counted {
        self.count();
        let numbers = self
            .table
            .numbers
            .get(self.segment)
            .map_or(&[][..], Vec::as_slice);
        for (number, n) in numbers.iter().zip(&self.per_ord) {
            if let Some(total) = number.and_then(|at| self.counted.per_value.get_mut(at as usize)) {
                *total += u64::from(*n);
            }
        }
        self.counted
    }
}
