//! Reports for regional staff and cluster organisations, as JSON, as CSV (RFC 4180, UTF-8)
//! and as SVG charts: quality (MQA with fix hints), freshness, coverage (with daily
//! snapshots), harvest health and demand.
//!
//! The per-dataset facts every report reads (typed view, SHACL verdict) are derived from the
//! store once per change of the store (its change sequence number) and shared, kept in a file
//! on disk and read through a block at a time, so a report's memory is its own answer's, not
//! the corpus's; link states and the search log are read fresh for each report.

pub mod charts;
pub mod coverage;
pub mod demand;
pub mod digest;
pub mod freshness;
pub mod health;
pub mod hvd;
pub mod national;
pub mod quality;
pub mod requests;

pub use freshness::{FreshnessReport, freshness_csv, freshness_report};

mod error;
mod listing;

pub use error::ReportError;
pub use listing::Listing;
use samla_model::par::par_map;
use samla_model::quality::Options;
use samla_model::shacl::Shapes;
use samla_model::view::{DatasetView, pick};
use samla_model::{DatasetId, OrganisationDirectory, record};
use samla_store::{LinkTable, Store};
use std::sync::{Arc, Mutex};

/// A configured source, as the reports and the API show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceInfo {
    /// Id.
    pub id: String,
    /// Organisation code.
    pub organisation: String,
    /// Protocol.
    pub protocol: String,
    /// Start URL.
    pub url: String,
    /// Whether the URL is known to serve a catalog.
    pub verified: bool,
}

/// What the reports know of one searchable dataset.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatasetFacts {
    /// Dataset id.
    pub id: String,
    /// Title (Swedish, else any).
    pub title: String,
    /// Kommunkod of the publisher.
    pub municipality_code: Option<String>,
    /// The source it is shown from.
    pub source_id: String,
    /// The typed view.
    pub view: DatasetView,
    /// Whether the graph conforms to the DCAT-AP shapes.
    pub conforms: bool,
    /// The SHACL violations (at most a few), as "path: message".
    pub violations: Vec<String>,
}

impl DatasetFacts {
    /// Derives the facts of dataset `iri` from its canonical graph.
    pub fn new(
        id: String,
        iri: &str,
        triples: &[oxrdf::Triple],
        municipality_code: Option<String>,
        source_id: String,
        shapes: &Shapes,
    ) -> Self {
        let view = DatasetView::from_triples(
            &DatasetId(id.clone()),
            iri,
            triples,
            municipality_code.clone(),
        );
        let validation = shapes.validate(triples);
        DatasetFacts {
            title: pick(&view.title, "sv").unwrap_or_default().to_string(),
            conforms: validation.conforms,
            violations: validation
                .results
                .iter()
                .filter(|r| r.severity == samla_model::shacl::Severity::Violation)
                .take(5)
                .map(|r| {
                    format!(
                        "{} {}: {}",
                        r.focus,
                        r.path.as_deref().unwrap_or(""),
                        r.message
                    )
                })
                .collect(),
            view,
            id,
            municipality_code,
            source_id,
        }
    }
}

/// Facts of every searchable dataset, as of one store change, in id order: in an unnamed file
/// (gone with the process), 256 of them to a block, read through by each report.
#[derive(Debug)]
pub struct Facts {
    /// The store's change sequence number they were derived at.
    pub seq: u64,
    len: usize,
    file: std::fs::File,
}

/// Facts written and read at a time.
const FACTS_BLOCK: usize = 256;

/// Datasets whose facts are derived at a time, shared out between the cores.
const DERIVED_AT_ONCE: usize = 1024;

impl Facts {
    /// How many datasets there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `f` of each dataset's facts, where it gives something, in id order.
    pub fn filter_map<T>(
        &self,
        mut f: impl FnMut(DatasetFacts) -> Option<T>,
    ) -> Result<Vec<T>, ReportError> {
        let mut out = Vec::new();
        self.each(|d| out.extend(f(d)))?;
        Ok(out)
    }

    /// Calls `f` with each dataset's facts, in id order.
    pub fn each(&self, mut f: impl FnMut(DatasetFacts)) -> Result<(), ReportError> {
        self.try_each(|d| {
            f(d);
            Ok(())
        })
    }

    /// [`Facts::each`] with an `f` that may fail, which stops the reading with its error.
    pub fn try_each(
        &self,
        mut f: impl FnMut(DatasetFacts) -> Result<(), ReportError>,
    ) -> Result<(), ReportError> {
        use std::os::unix::fs::FileExt;
        let failed = |e: std::io::Error| ReportError::Facts(e.to_string());
        let mut at = 0u64;
        let mut read = 0;
        while read < self.len {
            let mut len = [0u8; 4];
            self.file.read_exact_at(&mut len, at).map_err(failed)?;
            let mut block = vec![0u8; u32::from_le_bytes(len) as usize];
            self.file
                .read_exact_at(&mut block, at + 4)
                .map_err(failed)?;
            at += 4 + block.len() as u64;
            let json = lz4_flex::decompress_size_prepended(&block)
                .map_err(|e| ReportError::Facts(e.to_string()))?;
            let datasets: Vec<DatasetFacts> =
                serde_json::from_slice(&json).map_err(|e| ReportError::Facts(e.to_string()))?;
            read += datasets.len().max(1);
            datasets.into_iter().try_for_each(&mut f)?;
        }
        Ok(())
    }
}

/// Facts on their way to their file, a block at a time.
struct FactsWriter {
    file: std::fs::File,
    out: std::io::BufWriter<std::fs::File>,
    block: Vec<DatasetFacts>,
    len: usize,
}

impl FactsWriter {
    /// A new file in `dir`.
    fn new(dir: &std::path::Path) -> Result<Self, ReportError> {
        let failed = |e: std::io::Error| ReportError::Facts(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(failed)?;
        let file = tempfile::tempfile_in(dir).map_err(failed)?;
        let out = std::io::BufWriter::new(file.try_clone().map_err(failed)?);
        Ok(Self {
            file,
            out,
            block: Vec::with_capacity(FACTS_BLOCK),
            len: 0,
        })
    }

    fn push(&mut self, facts: DatasetFacts) -> Result<(), ReportError> {
        self.block.push(facts);
        self.len += 1;
        if self.block.len() == FACTS_BLOCK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ReportError> {
        use std::io::Write;
        let failed = |e: std::io::Error| ReportError::Facts(e.to_string());
        let json = serde_json::to_vec(&self.block).map_err(|e| failed(e.into()))?;
        let bytes = lz4_flex::compress_prepend_size(&json);
        let n = u32::try_from(bytes.len()).map_err(|e| failed(std::io::Error::other(e)))?;
        self.out.write_all(&n.to_le_bytes()).map_err(failed)?;
        self.out.write_all(&bytes).map_err(failed)?;
        self.block.clear();
        Ok(())
    }

    /// The facts written, derived at `seq`.
    fn finish(mut self, seq: u64) -> Result<Facts, ReportError> {
        use std::io::Write;
        if !self.block.is_empty() {
            self.flush()?;
        }
        self.out
            .flush()
            .map_err(|e| ReportError::Facts(e.to_string()))?;
        Ok(Facts {
            seq,
            len: self.len,
            file: self.file,
        })
    }
}

/// The reports of a region.
pub struct Reports {
    pub(crate) store: Arc<Store>,
    pub(crate) directory: Arc<OrganisationDirectory>,
    /// The configured sources.
    pub sources: Arc<Vec<SourceInfo>>,
    shapes: Arc<Shapes>,
    /// Quality options.
    pub options: Options,
    cache: Mutex<Option<Arc<Facts>>>,
    /// Where the facts' file is made.
    dir: std::path::PathBuf,
}

impl Reports {
    /// Reports over `store`, validating with `shapes` and scoring with `options`.
    pub fn new(
        store: Arc<Store>,
        directory: Arc<OrganisationDirectory>,
        sources: Arc<Vec<SourceInfo>>,
        shapes: Arc<Shapes>,
        options: Options,
    ) -> Self {
        Self {
            store,
            directory,
            sources,
            shapes,
            options,
            cache: Mutex::new(None),
            dir: std::env::temp_dir(),
        }
    }

    /// The same reports, keeping their facts in `dir` (the state directory's `reports`; by
    /// default the system's temporary directory).
    pub fn with_dir(mut self, dir: std::path::PathBuf) -> Self {
        self.dir = dir;
        self
    }

    /// One dataset's quality score, its SHACL verdict and link checks included.
    pub fn dataset_score(
        &self,
        stored: &samla_store::StoredDataset,
        triples: &[oxrdf::Triple],
    ) -> Result<samla_model::quality::Score, ReportError> {
        let facts = DatasetFacts::new(
            stored.id.clone(),
            &stored.iri,
            triples,
            stored.municipality_code.clone(),
            stored.source_id.clone(),
            &self.shapes,
        );
        Ok(quality::score(&facts, &self.links()?, self.options))
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The region's organisations.
    pub fn directory(&self) -> &OrganisationDirectory {
        &self.directory
    }

    /// The facts as of the store's latest change (derived again only after a change).
    pub fn facts(&self) -> Result<Arc<Facts>, ReportError> {
        let seq = self.store.change_seq()?;
        if let Some(f) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|f| f.seq == seq)
        {
            return Ok(Arc::clone(f));
        }
        let mut file = FactsWriter::new(&self.dir)?;
        // Derived a part at a time, on every core (parsing and SHACL are most of the work).
        let derive = |part: &mut Vec<samla_store::StoredDataset>, file: &mut FactsWriter| {
            let derived = par_map(part, |d| self.facts_of(d));
            part.clear();
            derived.into_iter().flatten().try_for_each(|f| file.push(f))
        };
        let mut part = Vec::with_capacity(DERIVED_AT_ONCE);
        let mut failed = None;
        self.store.for_each_dataset(|d| {
            if failed.is_some() {
                return;
            }
            part.push(d);
            if part.len() == DERIVED_AT_ONCE
                && let Err(e) = derive(&mut part, &mut file)
            {
                failed = Some(e);
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        derive(&mut part, &mut file)?;
        let facts = Arc::new(file.finish(seq)?);
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&facts));
        Ok(facts)
    }

    /// What the reports keep of a stored dataset (only what they read of its view), or
    /// `None` if its graph does not parse.
    pub fn facts_of(&self, d: &samla_store::StoredDataset) -> Option<DatasetFacts> {
        let triples = record::parse_canonical(&d.ntriples).ok()?;
        let mut facts = DatasetFacts::new(
            d.id.clone(),
            &d.iri,
            &triples,
            d.municipality_code.clone(),
            d.source_id.clone(),
            &self.shapes,
        );
        facts.view = facts.view.for_reports();
        Some(facts)
    }

    /// Every checked link's last result (16 bytes a link, not its row).
    pub fn links(&self) -> Result<LinkTable, ReportError> {
        Ok(self.store.link_table(None)?)
    }
}

/// The common query parameters of the report endpoints: `format` (json, csv, svg where there
/// is a chart), `municipality` (a kommunkod of the region), `table` (which CSV table),
/// `days` (the period, for demand), `by` (coverage dimension).
#[derive(Debug, Clone, Default)]
pub struct ReportParams {
    /// `json`, `csv` or `svg`.
    pub format: String,
    /// Kommunkod filter.
    pub municipality: Option<String>,
    /// CSV table.
    pub table: Option<String>,
    /// Period in days.
    pub days: Option<u32>,
    /// Coverage dimension.
    pub by: Option<String>,
}

/// What a report or chart takes besides `format` and `municipality`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Takes {
    /// Its CSV tables (none for a chart).
    pub tables: &'static [&'static str],
    /// Whether it takes a period (`days`).
    pub days: bool,
    /// The values `by` may take (none: no `by`).
    pub by: &'static [&'static str],
    /// Whether it is a chart (`format=svg` allowed).
    pub svg: bool,
}

/// `a, b or c`.
fn one_of(values: &[&str]) -> String {
    match values.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => values.join(""),
    }
}

impl ReportParams {
    /// Parses and validates against what the report or chart takes.
    pub fn parse(
        query: &str,
        directory: &OrganisationDirectory,
        takes: Takes,
    ) -> Result<Self, ReportError> {
        let Takes {
            tables,
            days,
            by,
            svg,
        } = takes;
        let mut p = ReportParams {
            format: "json".into(),
            ..Default::default()
        };
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim().to_string();
            match key.as_ref() {
                "format" if value == "json" || value == "csv" || (svg && value == "svg") => {
                    p.format = value
                }
                "format" => {
                    return Err(ReportError::bad(
                        "format",
                        if svg {
                            "must be json, csv or svg"
                        } else {
                            "must be json or csv"
                        },
                    ));
                }
                "municipality" if directory.by_code(&value).is_some() => {
                    p.municipality = Some(value)
                }
                "municipality" => {
                    return Err(ReportError::bad(
                        "municipality",
                        format!("{value:?} is not the code of an organisation of the region"),
                    ));
                }
                "table" if tables.contains(&value.as_str()) => p.table = Some(value),
                "table" => {
                    return Err(ReportError::bad(
                        "table",
                        format!("must be one of {}", tables.join(", ")),
                    ));
                }
                "days" if days => match value.parse::<u32>() {
                    Ok(d) if (1..=3660).contains(&d) => p.days = Some(d),
                    _ => {
                        return Err(ReportError::bad(
                            "days",
                            "must be an integer from 1 to 3660",
                        ));
                    }
                },
                "by" if !by.is_empty() => {
                    if !by.contains(&value.as_str()) {
                        return Err(ReportError::bad("by", format!("must be {}", one_of(by))));
                    }
                    p.by = Some(value);
                }
                other => return Err(ReportError::bad(other, "unknown parameter")),
            }
        }
        Ok(p)
    }

    /// The CSV table asked for, else the first.
    pub fn table<'a>(&'a self, tables: &[&'a str]) -> &'a str {
        self.table.as_deref().unwrap_or(tables[0])
    }
}

/// Writes rows as CSV (RFC 4180: comma, CRLF-free quoting as needed, UTF-8), every cell
/// [`neutralised`]: harvested titles, search queries and data requests reach these tables.
pub fn to_csv<R, I>(header: &[&str], rows: I) -> Result<String, ReportError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    let mut out = Vec::new();
    write_csv(header, rows.into_iter().map(Ok), &mut out)?;
    String::from_utf8(out).map_err(ReportError::render)
}

/// [`to_csv`] written to `out` as the rows come (which may fail: rows read from disk).
pub fn write_csv<R, I>(
    header: &[&str],
    rows: I,
    out: &mut dyn std::io::Write,
) -> Result<(), ReportError>
where
    I: IntoIterator<Item = Result<R, ReportError>>,
    R: IntoIterator<Item = String>,
{
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header).map_err(ReportError::render)?;
    for row in rows {
        w.write_record(row?.into_iter().map(neutralised))
            .map_err(ReportError::render)?;
    }
    w.flush().map_err(ReportError::render)
}

/// A CSV cell no spreadsheet reads as a formula (OWASP's rule for CSV injection): control
/// characters other than tab and line breaks are removed, and a cell that starts with `=`,
/// `+`, `-`, `@`, tab or carriage return gets a leading `'`, unless it is a number (`-3`, a
/// count or a score, is data in every spreadsheet).
pub fn neutralised(cell: String) -> String {
    let cell = if cell
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        cell.chars()
            .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
            .collect()
    } else {
        cell
    };
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.trim().parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell
    }
}

/// A value of a row read back from a list as a CSV cell: text as it is, a number or
/// `true`/`false` as written, nothing for null.
pub(crate) fn json_cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// An optional value as a CSV cell.
pub(crate) fn cell<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The reports by name.
pub const NAMES: &[&str] = &[
    "quality",
    "coverage",
    "freshness",
    "harvest",
    "demand",
    "hvd",
    "national",
];

/// What each report takes.
fn takes(name: &str) -> Option<Takes> {
    let tables = match name {
        "quality" => quality::TABLES,
        "coverage" => coverage::TABLES,
        "freshness" => freshness::TABLES,
        "harvest" => health::TABLES,
        "demand" => demand::TABLES,
        "hvd" => hvd::TABLES,
        "national" => national::TABLES,
        _ => return None,
    };
    Some(Takes {
        tables,
        days: name == "demand",
        by: if name == "coverage" {
            coverage::DIMENSIONS
        } else {
            &[]
        },
        svg: false,
    })
}

/// The default period of the demand report, in days.
pub const DEMAND_DAYS: u32 = 90;

/// A report, rendered.
#[derive(Debug)]
pub enum Rendered {
    /// As JSON (written straight from the report's types: a `serde_json::Value` of a report
    /// listing every dataset would take many times the text's memory).
    Json(Body),
    /// One table as CSV.
    Csv {
        /// File name for downloads.
        filename: String,
        /// The CSV.
        body: Body,
    },
}

/// Rendered text held in memory up to this size, and past it in a file.
const IN_MEMORY: usize = 4 << 20;

/// Rendered text written (and sent, by the API) this much at a time.
pub const WRITTEN_AT_ONCE: usize = 256 << 10;

/// A rendered report's text: in memory up to 4 MiB, past that in a file of its own (removed
/// when dropped), so an answer that lists every dataset is read out, not held.
#[derive(Debug)]
pub struct Body {
    spool: tempfile::SpooledTempFile,
    len: u64,
}

impl Body {
    /// Writes the text with `write`, in a file in `dir` once it grows.
    fn write(
        dir: &std::path::Path,
        write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), ReportError>,
    ) -> Result<Self, ReportError> {
        use std::io::{Seek, Write};
        let failed = |e: std::io::Error| ReportError::Facts(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(failed)?;
        let mut spool = tempfile::spooled_tempfile_in(IN_MEMORY, dir);
        {
            let mut out = std::io::BufWriter::with_capacity(WRITTEN_AT_ONCE, &mut spool);
            write(&mut out)?;
            out.flush().map_err(failed)?;
        }
        let len = spool.stream_position().map_err(failed)?;
        spool.rewind().map_err(failed)?;
        Ok(Self { spool, len })
    }

    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The text in memory, or the file it is in (read from its start).
    pub fn into_inner(self) -> Text {
        match self.spool.into_inner() {
            tempfile::SpooledData::InMemory(text) => Text::InMemory(text.into_inner()),
            tempfile::SpooledData::OnDisk(file) => Text::InFile(file),
        }
    }
}

/// Where a rendered report's text is.
#[derive(Debug)]
pub enum Text {
    /// In memory.
    InMemory(Vec<u8>),
    /// In a file of its own (removed when it is closed), read from its start.
    InFile(std::fs::File),
}

/// The text, read from its start.
impl std::io::Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.spool.read(buf)
    }
}

/// Builds report `name` for a query string (`format`, `municipality`, `table`, and `days` or
/// `by` where the report takes them), validating every parameter.
pub fn render(
    reports: &Reports,
    name: &str,
    query: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Rendered, ReportError> {
    let takes = takes(name).ok_or_else(|| {
        ReportError::NotFound(format!(
            "no report {name:?} (there are {})",
            NAMES.join(", ")
        ))
    })?;
    let tables = takes.tables;
    let p = ReportParams::parse(query, reports.directory(), takes)?;
    let m = p.municipality.as_deref();
    let dir = &reports.dir;
    fn out<R: serde::Serialize>(
        dir: &std::path::Path,
        p: &ReportParams,
        name: &str,
        tables: &[&str],
        report: R,
        csv: impl FnOnce(&R, &str, &mut dyn std::io::Write) -> Result<(), ReportError>,
    ) -> Result<Rendered, ReportError> {
        if p.format == "csv" {
            let table = p.table(tables);
            return Ok(Rendered::Csv {
                filename: format!("{name}-{table}.csv"),
                body: Body::write(dir, |w| csv(&report, table, w))?,
            });
        }
        Body::write(dir, |w| {
            serde_json::to_writer(w, &report).map_err(ReportError::render)
        })
        .map(Rendered::Json)
    }
    /// A CSV made as text, written out.
    fn text<R>(
        csv: impl FnOnce(&R, &str) -> Result<String, ReportError>,
    ) -> impl FnOnce(&R, &str, &mut dyn std::io::Write) -> Result<(), ReportError> {
        move |r, table, w| {
            w.write_all(csv(r, table)?.as_bytes())
                .map_err(ReportError::render)
        }
    }
    match name {
        "quality" => {
            // The per-dataset list is as long as the corpus: made only where it is shown.
            let listed = p.format != "csv" || matches!(p.table(tables), "datasets" | "hints");
            out(
                dir,
                &p,
                name,
                tables,
                quality::quality_report(reports, now, m, listed)?,
                quality::quality_csv,
            )
        }
        "coverage" => {
            let by = p.by.clone().unwrap_or_else(|| "conforms_to".into());
            out(
                dir,
                &p,
                name,
                tables,
                coverage::coverage_report(reports, now, m)?,
                text(|r, t| coverage::coverage_csv(r, t, &by)),
            )
        }
        "freshness" => {
            let listed = p.format != "csv" || p.table(tables) == "datasets";
            out(
                dir,
                &p,
                name,
                tables,
                freshness_report(reports, now, m, listed)?,
                freshness_csv,
            )
        }
        "harvest" => out(
            dir,
            &p,
            name,
            tables,
            health::health_report(reports, now, m)?,
            text(|r, _| health::health_csv(r)),
        ),
        "hvd" => out(
            dir,
            &p,
            name,
            tables,
            hvd::hvd_report(reports, now, m)?,
            text(hvd::hvd_csv),
        ),
        "national" => out(
            dir,
            &p,
            name,
            tables,
            national::national_report(reports, now, m)?,
            text(national::national_csv),
        ),
        _ => out(
            dir,
            &p,
            name,
            tables,
            demand::demand_report(reports, now, p.days.unwrap_or(DEMAND_DAYS), m)?,
            text(demand::demand_csv),
        ),
    }
}

/// The charts by name (served as `…/charts/{name}.svg`).
pub const CHARTS: &[&str] = &["coverage", "coverage-history", "quality", "demand"];

/// Draws chart `name` for a query string, validating every parameter: `coverage` (`by`, the
/// heat map's dimension, default `theme`), `coverage-history`, `quality` (bands per
/// organisation), `demand` (`by=themes|specifications`, `days`).
pub fn chart(
    reports: &Reports,
    name: &str,
    query: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, ReportError> {
    let takes = match name {
        "coverage" => Takes {
            by: coverage::DIMENSIONS,
            ..Takes::default()
        },
        "coverage-history" | "quality" => Takes::default(),
        "demand" => Takes {
            days: true,
            by: &["themes", "specifications"],
            ..Takes::default()
        },
        _ => {
            return Err(ReportError::NotFound(format!(
                "no chart {name:?} (there are {})",
                CHARTS.join(", ")
            )));
        }
    };
    let p = ReportParams::parse(query, reports.directory(), Takes { svg: true, ..takes })?;
    let m = p.municipality.as_deref();
    match name {
        "coverage" => {
            let by = p.by.as_deref().unwrap_or("theme");
            let report = coverage::coverage_report(reports, now, m)?;
            let title = match by {
                "conforms_to" => "Täckning: nationella specifikationer",
                "hvd_category" => "Täckning: värdefulla datamängder (HVD)",
                _ => "Täckning: teman",
            };
            charts::coverage_heatmap(report.matrix(by), title)
        }
        "coverage-history" => charts::coverage_history(&coverage::history(reports)?),
        "quality" => {
            charts::quality_bands(&quality::quality_report(reports, now, m, false)?.municipalities)
        }
        _ => {
            let report = demand::demand_report(reports, now, p.days.unwrap_or(DEMAND_DAYS), m)?;
            let (items, title) = if p.by.as_deref() == Some("specifications") {
                (
                    &report.specifications,
                    "Efterfrågan och utbud: nationella specifikationer",
                )
            } else {
                (&report.themes, "Efterfrågan och utbud: teman")
            };
            charts::demand_supply(&items[..items.len().min(20)], title)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
        let csv = to_csv(
            &["title", "points"],
            [
                vec!["=HYPERLINK(\"http://x\",\"y\")".to_string(), "-3".into()],
                vec!["+cmd|' /C calc'!A0".into(), "12".into()],
                vec!["-2+3".into(), "@SUM(A1)".into()],
                vec!["\tTab\u{0}och NUL".into(), "Badplatser\u{7}".into()],
            ],
        )
        .expect("csv");
        let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_bytes())
            .records()
            .map(|r| r.expect("row").iter().map(str::to_string).collect())
            .collect();
        assert_eq!(
            rows,
            [
                ["'=HYPERLINK(\"http://x\",\"y\")", "-3"],
                ["'+cmd|' /C calc'!A0", "12"],
                ["'-2+3", "'@SUM(A1)"],
                ["'\tTaboch NUL", "Badplatser"],
            ]
        );
    }
}
