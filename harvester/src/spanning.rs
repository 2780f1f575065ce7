//! The triples of a catalog whose records span pages (EntryScape): a dataset's description
//! may be on any page, so its records are made once every page is read. Up to a limit the
//! triples are held in memory and normalised together; past it they are written to an
//! unnamed file on disk (N-Triples, with each subject's lines indexed), and the records are
//! made a batch of datasets at a time from their closures read back, so a run holds a batch,
//! not the catalog.
//!
//! A batch is given every triple of every node within the closure depth of its datasets
//! (other datasets, catalogs and series stop a closure, as they do in
//! [`samla_model::extract_datasets`]), so its records are those the whole graph gives.

use oxrdf::vocab::rdf;
use oxrdf::{Term, Triple};
use samla_model::record::{CLOSURE_DEPTH, states_type};
use samla_model::vocab::dcat;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

/// Datasets made into records at a time from triples on disk.
const BATCH: usize = 256;

/// A catalog's triples, in memory or on disk.
pub(crate) struct Spanning {
    held: Vec<Triple>,
    limit: usize,
    dir: Option<std::path::PathBuf>,
    disk: Option<Disk>,
}

/// Triples on disk.
struct Disk {
    file: File,
    out: BufWriter<File>,
    at: u64,
    /// Each subject's lines (offset, length), by its N-Triples term.
    lines: HashMap<String, Vec<(u64, u32)>>,
    /// Subjects typed as datasets, in order.
    datasets: BTreeSet<String>,
    /// Subjects where a closure stops: datasets, catalogs, dataset series.
    stops: HashSet<String>,
}

impl Spanning {
    /// Triples held in memory up to `limit`, then all on disk, in `dir` (none: the system's
    /// temporary directory).
    pub(crate) fn new(limit: usize, dir: Option<&std::path::Path>) -> Self {
        Self {
            held: Vec::new(),
            limit,
            dir: dir.map(std::path::Path::to_path_buf),
            disk: None,
        }
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.held.is_empty() && self.disk.as_ref().is_none_or(|d| d.at == 0)
    }

    /// Adds a page's triples. Fails only when the file cannot be written.
    pub(crate) fn extend(&mut self, triples: Vec<Triple>) -> std::io::Result<()> {
        if let Some(disk) = &mut self.disk {
            return triples.iter().try_for_each(|t| disk.write(t));
        }
        self.held.extend(triples);
        if self.held.len() > self.limit {
            let file = match &self.dir {
                Some(dir) => {
                    std::fs::create_dir_all(dir)?;
                    tempfile::tempfile_in(dir)?
                }
                None => tempfile::tempfile()?,
            };
            let mut disk = Disk {
                out: BufWriter::new(file.try_clone()?),
                file,
                at: 0,
                lines: HashMap::new(),
                datasets: BTreeSet::new(),
                stops: HashSet::new(),
            };
            for t in std::mem::take(&mut self.held) {
                disk.write(&t)?;
            }
            self.disk = Some(disk);
        }
        Ok(())
    }

    /// Gives `f` the triples to make records of: all of them when they are held; else each
    /// batch's closures. Stops when `f` says so.
    pub(crate) fn each_part(self, mut f: impl FnMut(Vec<Triple>) -> bool) -> std::io::Result<()> {
        let Some(mut disk) = self.disk else {
            f(self.held);
            return Ok(());
        };
        disk.out.flush()?;
        let datasets: Vec<String> = std::mem::take(&mut disk.datasets).into_iter().collect();
        for batch in datasets.chunks(BATCH) {
            if !f(disk.closures(batch)?) {
                break;
            }
        }
        Ok(())
    }
}

/// A node's N-Triples term, as a subject or object is keyed.
fn key(term: &Term) -> Option<String> {
    match term {
        Term::NamedNode(_) | Term::BlankNode(_) => Some(term.to_string()),
        _ => None,
    }
}

impl Disk {
    fn write(&mut self, t: &Triple) -> std::io::Result<()> {
        let line = format!("{t} .\n");
        let subject = t.subject.to_string();
        if states_type(t, dcat::DATASET) {
            self.datasets.insert(subject.clone());
            self.stops.insert(subject.clone());
        } else if states_type(t, dcat::CATALOG) || states_type(t, dcat::DATASET_SERIES) {
            self.stops.insert(subject.clone());
        }
        let len = u32::try_from(line.len()).map_err(std::io::Error::other)?;
        self.lines.entry(subject).or_default().push((self.at, len));
        self.out.write_all(line.as_bytes())?;
        self.at += u64::from(len);
        Ok(())
    }

    /// The triples of `node`, read back.
    fn triples_of(&self, node: &str) -> std::io::Result<Vec<Triple>> {
        let mut text = Vec::new();
        for &(at, len) in self.lines.get(node).map(Vec::as_slice).unwrap_or_default() {
            let start = text.len();
            text.resize(start + len as usize, 0);
            self.file.read_exact_at(&mut text[start..], at)?;
        }
        let text = String::from_utf8(text).map_err(std::io::Error::other)?;
        samla_model::record::parse_canonical(&text).map_err(std::io::Error::other)
    }

    /// Every triple of every node within the closure depth of `datasets`, each node's once.
    fn closures(&self, datasets: &[String]) -> std::io::Result<Vec<Triple>> {
        let mut nodes: HashMap<String, Vec<Triple>> = HashMap::new();
        for dataset in datasets {
            let mut seen: HashSet<String> = HashSet::from([dataset.clone()]);
            let mut frontier = vec![dataset.clone()];
            for _ in 0..CLOSURE_DEPTH {
                let mut next = Vec::new();
                for node in frontier {
                    if !nodes.contains_key(&node) {
                        let triples = self.triples_of(&node)?;
                        nodes.insert(node.clone(), triples);
                    }
                    for t in nodes.get(&node).map(Vec::as_slice).unwrap_or_default() {
                        if t.predicate == rdf::TYPE {
                            continue;
                        }
                        if let Some(o) = key(&t.object)
                            && self.lines.contains_key(&o)
                            && !self.stops.contains(&o)
                            && seen.insert(o.clone())
                        {
                            next.push(o);
                        }
                    }
                }
                frontier = next;
            }
        }
        Ok(nodes.into_values().flatten().collect())
    }
}

impl std::fmt::Debug for Spanning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spanning")
            .field("held", &self.held.len())
            .field("on_disk", &self.disk.as_ref().map(|d| d.at))
            .finish()
    }
}
