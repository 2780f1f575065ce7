//! The union of the shown records' graphs, kept in a SQLite file of this node and queried
//! where it lies: memory holds SQLite's page cache and a query's own work, not the corpus.
//!
//! - `terms`: every term once, in N-Triples syntax, numbered.
//! - `spo`: the triples as term numbers, with how many datasets hold each (a triple shared
//!   by two datasets, such as a publisher's name, stays until neither holds it); `pos` and
//!   `osp` order the same rows by predicate and by object, so every pattern of bound terms
//!   is a prefix of one of the three orders.
//! - `members`: each dataset's triples as numbers, to take them away when it changes.
//! - `meta.seq`: the store's change sequence the file holds.
//!
//! The file follows the store's change log as the index does; it is built anew, into a file
//! of the next generation, when it is new or behind the log's start. Queries read a
//! snapshot (WAL) and never wait for the catch-up's writes.

use oxrdf::{Term, Triple};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use samla_store::Store;
use spareval::{InternalQuad, QueryableDataset};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::str::FromStr;
use std::sync::Mutex;

/// Something failed in the graph file or the store.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GraphError(String);

impl From<rusqlite::Error> for GraphError {
    fn from(e: rusqlite::Error) -> Self {
        Self(format!("sparql graph: {e}"))
    }
}

impl From<samla_store::StoreError> for GraphError {
    fn from(e: samla_store::StoreError) -> Self {
        Self(format!("store: {e}"))
    }
}

impl From<std::io::Error> for GraphError {
    fn from(e: std::io::Error) -> Self {
        Self(format!("sparql graph: {e}"))
    }
}

/// Change log entries read at a time while catching up.
const FOLLOW_BATCH: usize = 1000;
/// Datasets written per transaction while building.
const BUILD_PART: usize = 2000;
/// Term numbers remembered by a writer or a reader, at most (then forgotten together).
const TERM_CACHE: usize = 100_000;
/// Rows read from SQLite at a time for one pattern.
const SCAN_PART: usize = 1024;
/// SQLite's page cache per connection, in KiB.
const PAGE_CACHE_KIB: i64 = 16 * 1024;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
    CREATE TABLE IF NOT EXISTS spo (
        s INTEGER NOT NULL, p INTEGER NOT NULL, o INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (s, p, o)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS members (dataset TEXT PRIMARY KEY, quads BLOB NOT NULL) WITHOUT ROWID;
";
/// Made after a build's rows are in: sorting once is faster than keeping them up row by row.
const ORDERS: &str = "
    CREATE INDEX IF NOT EXISTS pos ON spo (p, o, s);
    CREATE INDEX IF NOT EXISTS osp ON spo (o, s, p);
";

/// The graph file of one node, and the connection that writes it.
pub(crate) struct DiskGraph {
    dir: PathBuf,
    writer: Mutex<Option<Writer>>,
}

struct Writer {
    path: PathBuf,
    generation: u64,
    conn: Connection,
}

impl DiskGraph {
    /// The graph kept in `dir` (created on the first catch-up).
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            writer: Mutex::new(None),
        }
    }

    /// Brings the file up to the store's change sequence; returns the file to read.
    pub(crate) fn catch_up(&self, store: &Store) -> Result<PathBuf, GraphError> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = self.open_newest()?;
        }
        let seq = store.change_seq()?;
        let log_start = store.change_log_start()?;
        let held = match guard.as_ref() {
            Some(w) => Some(held_seq(&w.conn)?),
            None => None,
        };
        if held == Some(seq) {
            return Ok(guard.as_ref().map(|w| w.path.clone()).unwrap_or_default());
        }
        let writer = match (guard.take(), held) {
            (Some(mut w), Some(at)) if at >= log_start => {
                follow(&mut w.conn, store, at, seq)?;
                w
            }
            (old, _) => {
                let generation = old.as_ref().map_or(0, |w| w.generation) + 1;
                let built = self.build(store, generation, seq)?;
                if let Some(old) = old {
                    drop(old.conn);
                    remove_file_set(&old.path);
                }
                built
            }
        };
        let path = writer.path.clone();
        *guard = Some(writer);
        Ok(path)
    }

    /// The newest complete generation in the directory (older ones and unfinished builds
    /// removed), or `None`.
    fn open_newest(&self) -> Result<Option<Writer>, GraphError> {
        std::fs::create_dir_all(&self.dir)?;
        let mut generations: Vec<(u64, PathBuf)> = std::fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let n = name
                    .strip_prefix("graph-")?
                    .strip_suffix(".db")?
                    .parse()
                    .ok()?;
                Some((n, e.path()))
            })
            .collect();
        generations.sort();
        let mut found = None;
        while let Some((generation, path)) = generations.pop() {
            if found.is_none() {
                let conn = open_writer(&path)?;
                if conn
                    .query_row("SELECT value FROM meta WHERE key = 'built'", [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .optional()?
                    .is_some()
                {
                    found = Some(Writer {
                        path,
                        generation,
                        conn,
                    });
                    continue;
                }
            }
            remove_file_set(&path);
        }
        Ok(found)
    }

    /// Writes every shown dataset into a new file of `generation`, holding `seq` (the store's
    /// sequence read before: what changes later the next catch-up follows).
    fn build(&self, store: &Store, generation: u64, seq: u64) -> Result<Writer, GraphError> {
        let path = self.dir.join(format!("graph-{generation:012}.db"));
        remove_file_set(&path);
        let mut conn = Connection::open(&path)?;
        // A file being built is nobody's yet: it needs no journal until it is done.
        conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")?;
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB * 4)?;
        conn.execute_batch(SCHEMA)?;
        let mut terms = Terms::default();
        let mut part: Vec<(String, Vec<Triple>)> = Vec::with_capacity(BUILD_PART);
        let mut failed = None;
        let mut write = |conn: &mut Connection, part: &mut Vec<(String, Vec<Triple>)>| {
            if failed.is_some() || part.is_empty() {
                part.clear();
                return;
            }
            let written = (|| -> Result<(), GraphError> {
                let tx = conn.transaction()?;
                for (id, triples) in part.drain(..) {
                    add(&tx, &mut terms, &id, &triples)?;
                }
                tx.commit()?;
                Ok(())
            })();
            if let Err(e) = written {
                failed = Some(e);
            }
        };
        let mut triples = 0usize;
        store.for_each_dataset(
            |d| match samla_model::record::parse_canonical(&d.ntriples) {
                Ok(t) => {
                    triples += t.len();
                    part.push((d.id, t));
                    if part.len() >= BUILD_PART {
                        write(&mut conn, &mut part);
                    }
                }
                Err(e) => {
                    tracing::error!(dataset = %d.id, error = %e, "stored graph left out of sparql")
                }
            },
        )?;
        write(&mut conn, &mut part);
        if let Some(e) = failed {
            return Err(e);
        }
        conn.execute_batch(ORDERS)?;
        set_seq(&conn, seq)?;
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('built', 1)",
            [],
        )?;
        drop(conn);
        tracing::info!(triples, seq, generation, "sparql graph built");
        Ok(Writer {
            conn: open_writer(&path)?,
            path,
            generation,
        })
    }
}

/// Opens a graph file for writing beside readers.
fn open_writer(path: &Path) -> Result<Connection, GraphError> {
    let conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
    conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(ORDERS)?;
    Ok(conn)
}

/// Removes a database file and its WAL and shared memory files (a reader that has one open
/// keeps reading it).
fn remove_file_set(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

fn held_seq(conn: &Connection) -> Result<u64, GraphError> {
    let seq: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| r.get(0))
        .optional()?;
    Ok(seq.unwrap_or(0).max(0) as u64)
}

fn set_seq(conn: &Connection, seq: u64) -> Result<(), GraphError> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?1)",
        params![seq as i64],
    )?;
    Ok(())
}

/// Applies the change log after `at`: each logged dataset's triples replaced by those of
/// its shown record now, or taken away when it has none; a transaction per batch. `target`
/// is the store's sequence read before the changes: a transaction committed meanwhile is
/// either among the changes read or left for the next catch-up, never taken as held without
/// its changes.
fn follow(
    conn: &mut Connection,
    store: &Store,
    mut at: u64,
    target: u64,
) -> Result<(), GraphError> {
    let mut terms = Terms::default();
    loop {
        let changes = store.changes_since(at, FOLLOW_BATCH)?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            break;
        };
        let ids: HashSet<String> = changes.into_iter().map(|c| c.id).collect();
        let tx = conn.transaction()?;
        for id in ids {
            remove(&tx, &id)?;
            let Some(shown) = store.winner(&id)? else {
                continue;
            };
            match samla_model::record::parse_canonical(&shown.ntriples) {
                Ok(triples) => add(&tx, &mut terms, &id, &triples)?,
                Err(e) => {
                    tracing::error!(dataset = %id, error = %e, "stored graph left out of sparql")
                }
            }
        }
        set_seq(&tx, last)?;
        tx.commit()?;
        at = last;
    }
    // Transactions that changed nothing shown log nothing; the file has still caught up.
    set_seq(conn, target.max(at))
}

/// Term numbers a writer has looked up or given.
#[derive(Default)]
struct Terms(HashMap<String, i64>);

impl Terms {
    fn id(&mut self, conn: &Connection, term: String) -> Result<i64, GraphError> {
        if let Some(id) = self.0.get(&term) {
            return Ok(*id);
        }
        let found: Option<i64> = conn
            .prepare_cached("SELECT id FROM terms WHERE term = ?1")?
            .query_row([&term], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                conn.prepare_cached("INSERT INTO terms (term) VALUES (?1)")?
                    .execute([&term])?;
                conn.last_insert_rowid()
            }
        };
        if self.0.len() >= TERM_CACHE {
            self.0.clear();
        }
        self.0.insert(term, id);
        Ok(id)
    }
}

/// Adds dataset `id`'s triples (each held once more) and remembers them as its members.
fn add(
    conn: &Connection,
    terms: &mut Terms,
    id: &str,
    triples: &[Triple],
) -> Result<(), GraphError> {
    let mut members = Vec::with_capacity(triples.len() * 24);
    let mut upsert = conn.prepare_cached(
        "INSERT INTO spo (s, p, o, n) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT (s, p, o) DO UPDATE SET n = n + 1",
    )?;
    let mut seen = HashSet::with_capacity(triples.len());
    for t in triples {
        let s = terms.id(conn, t.subject.to_string())?;
        let p = terms.id(conn, t.predicate.to_string())?;
        let o = terms.id(conn, t.object.to_string())?;
        // A dataset holds a triple once, whatever its graph repeats.
        if !seen.insert((s, p, o)) {
            continue;
        }
        upsert.execute(params![s, p, o])?;
        for n in [s, p, o] {
            members.extend_from_slice(&n.to_le_bytes());
        }
    }
    conn.prepare_cached("INSERT OR REPLACE INTO members (dataset, quads) VALUES (?1, ?2)")?
        .execute(params![
            id,
            lz4_flex::block::compress_prepend_size(&members)
        ])?;
    Ok(())
}

/// Takes dataset `id`'s triples away (each held once less; gone when nobody holds it).
fn remove(conn: &Connection, id: &str) -> Result<(), GraphError> {
    let packed: Option<Vec<u8>> = conn
        .prepare_cached("SELECT quads FROM members WHERE dataset = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let Some(packed) = packed else {
        return Ok(());
    };
    let members = lz4_flex::block::decompress_size_prepended(&packed)
        .map_err(|e| GraphError(format!("sparql graph: members of {id}: {e}")))?;
    let mut release = conn.prepare_cached(
        "UPDATE spo SET n = n - 1 WHERE s = ?1 AND p = ?2 AND o = ?3 RETURNING n",
    )?;
    let mut drop_row = conn.prepare_cached("DELETE FROM spo WHERE s = ?1 AND p = ?2 AND o = ?3")?;
    for quad in members.chunks_exact(24) {
        let n = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&quad[i * 8..i * 8 + 8]);
            i64::from_le_bytes(bytes)
        };
        let (s, p, o) = (n(0), n(1), n(2));
        let left: Option<i64> = release
            .query_row(params![s, p, o], |r| r.get(0))
            .optional()?;
        if left.is_some_and(|left| left <= 0) {
            drop_row.execute(params![s, p, o])?;
        }
    }
    conn.prepare_cached("DELETE FROM members WHERE dataset = ?1")?
        .execute([id])?;
    Ok(())
}

/// A term as a query holds it: its number in the file, or the term itself when the file
/// does not hold it (a constant of the query, a computed value), which no triple matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Node {
    Held(i64),
    Absent(Term),
}

/// A read snapshot of the graph file, for one query on one thread.
#[derive(Clone)]
pub(crate) struct Reader(Rc<ReaderInner>);

struct ReaderInner {
    conn: Connection,
    names: RefCell<HashMap<i64, Term>>,
    numbers: RefCell<HashMap<Term, Node>>,
}

impl Reader {
    /// Opens the file at `path` read-only; the snapshot starts with the first read.
    pub(crate) fn open(path: &Path) -> Result<Self, GraphError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
        // Two statements for each of the eight shapes of pattern, and the term lookups.
        conn.set_prepared_statement_cache_capacity(32);
        // One read transaction for the whole query: every pattern sees the same commit.
        conn.execute_batch("BEGIN")?;
        Ok(Self(Rc::new(ReaderInner {
            conn,
            names: RefCell::default(),
            numbers: RefCell::default(),
        })))
    }

    fn name(&self, id: i64) -> Result<Term, GraphError> {
        if let Some(t) = self.0.names.borrow().get(&id) {
            return Ok(t.clone());
        }
        let text: String = self
            .0
            .conn
            .prepare_cached("SELECT term FROM terms WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        let term = Term::from_str(&text)
            .map_err(|e| GraphError(format!("sparql graph: term {id} ({text}): {e}")))?;
        let mut names = self.0.names.borrow_mut();
        if names.len() >= TERM_CACHE {
            names.clear();
        }
        names.insert(id, term.clone());
        Ok(term)
    }

    fn number(&self, term: Term) -> Result<Node, GraphError> {
        if let Some(n) = self.0.numbers.borrow().get(&term) {
            return Ok(n.clone());
        }
        let found: Option<i64> = self
            .0
            .conn
            .prepare_cached("SELECT id FROM terms WHERE term = ?1")?
            .query_row([term.to_string()], |r| r.get(0))
            .optional()?;
        let node = found.map_or_else(|| Node::Absent(term.clone()), Node::Held);
        let mut numbers = self.0.numbers.borrow_mut();
        if numbers.len() >= TERM_CACHE {
            numbers.clear();
        }
        numbers.insert(term, node.clone());
        Ok(node)
    }
}

/// One of the three orders of the triples, and its columns in order.
struct Order {
    table: &'static str,
    columns: [&'static str; 3],
}

const SPO: Order = Order {
    table: "spo",
    columns: ["s", "p", "o"],
};
const POS: Order = Order {
    table: "spo INDEXED BY pos",
    columns: ["p", "o", "s"],
};
const OSP: Order = Order {
    table: "spo INDEXED BY osp",
    columns: ["o", "s", "p"],
};

/// The statements that read a pattern, by which of s, p and o it binds (bit 0: s, bit 1:
/// p, bit 2: o): the first part, the parts after it, and where s, p and o are in the row.
struct Statements {
    first: String,
    next: String,
    places: [usize; 3],
}

static STATEMENTS: std::sync::LazyLock<Vec<Statements>> = std::sync::LazyLock::new(|| {
    (0..8)
        .map(|bound: usize| {
            let (s, p, o) = (bound & 1 != 0, bound & 2 != 0, bound & 4 != 0);
            // The order whose prefix the bound terms are.
            let order = match (s, p, o) {
                (true, false, true) | (false, false, true) => OSP,
                (false, true, _) => POS,
                _ => SPO,
            };
            let fixed = usize::from(s) + usize::from(p) + usize::from(o);
            let place = |c: &str| order.columns.iter().position(|x| *x == c).unwrap_or(0);
            let conditions: Vec<String> = order.columns[..fixed]
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ?{}", i + 1))
                .collect();
            let rest = &order.columns[fixed..];
            let select = format!("SELECT {} FROM {}", order.columns.join(", "), order.table);
            let ordered = if rest.is_empty() {
                String::new()
            } else {
                format!(" ORDER BY {}", rest.join(", "))
            };
            let statement = |extra: Option<String>| {
                let all: Vec<String> = conditions.iter().cloned().chain(extra).collect();
                let filter = if all.is_empty() {
                    String::new()
                } else {
                    format!(" WHERE {}", all.join(" AND "))
                };
                format!("{select}{filter}{ordered} LIMIT {SCAN_PART}")
            };
            let after = (!rest.is_empty()).then(|| {
                let params: Vec<String> = (0..rest.len())
                    .map(|i| format!("?{}", fixed + i + 1))
                    .collect();
                format!("({}) > ({})", rest.join(", "), params.join(", "))
            });
            Statements {
                first: statement(None),
                next: statement(after),
                places: [place("s"), place("p"), place("o")],
            }
        })
        .collect()
});

/// The rows matching a pattern, read a part at a time in the order whose prefix the bound
/// terms are (the next part starts after the last row read).
struct Scan {
    reader: Reader,
    statements: &'static Statements,
    /// The bound terms, in the order's columns.
    bound: Vec<i64>,
    buffered: std::vec::IntoIter<[i64; 3]>,
    after: Option<Vec<i64>>,
    done: bool,
}

impl Scan {
    fn new(reader: Reader, s: Option<i64>, p: Option<i64>, o: Option<i64>) -> Self {
        let shape = usize::from(s.is_some())
            | usize::from(p.is_some()) << 1
            | usize::from(o.is_some()) << 2;
        let statements = &STATEMENTS[shape];
        let mut bound = [None; 3];
        for (term, place) in [s, p, o].into_iter().zip(statements.places) {
            bound[place] = term;
        }
        Self {
            reader,
            statements,
            bound: bound.into_iter().flatten().collect(),
            buffered: Vec::new().into_iter(),
            after: None,
            done: false,
        }
    }

    fn read_part(&mut self) -> Result<(), GraphError> {
        let conn = &self.reader.0.conn;
        let (sql, params): (&str, Vec<i64>) = match &self.after {
            None => (&self.statements.first, self.bound.clone()),
            Some(after) => (
                &self.statements.next,
                self.bound.iter().chain(after).copied().collect(),
            ),
        };
        let mut statement = conn.prepare_cached(sql)?;
        let rows: Vec<[i64; 3]> = statement
            .query_map(rusqlite::params_from_iter(params), |r| {
                Ok([r.get(0)?, r.get(1)?, r.get(2)?])
            })?
            .collect::<Result<_, _>>()?;
        self.done = rows.len() < SCAN_PART || self.bound.len() == 3;
        if let Some(last) = rows.last() {
            self.after = Some(last[self.bound.len()..].to_vec());
        }
        self.buffered = rows.into_iter();
        Ok(())
    }
}

impl Iterator for Scan {
    type Item = Result<InternalQuad<Node>, GraphError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.buffered.next() {
                let [s, p, o] = self.statements.places.map(|i| Node::Held(row[i]));
                return Some(Ok(InternalQuad {
                    subject: s,
                    predicate: p,
                    object: o,
                    graph_name: None,
                }));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.read_part() {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

impl<'a> QueryableDataset<'a> for Reader {
    type InternalTerm = Node;
    type Error = GraphError;

    fn internal_quads_for_pattern(
        &self,
        subject: Option<&Node>,
        predicate: Option<&Node>,
        object: Option<&Node>,
        graph_name: Option<Option<&Node>>,
    ) -> impl Iterator<Item = Result<InternalQuad<Node>, GraphError>> + use<'a> {
        // Everything is in the default graph; a term the file does not hold matches nothing.
        let held = |n: Option<&Node>| match n {
            None => Some(None),
            Some(Node::Held(id)) => Some(Some(*id)),
            Some(Node::Absent(_)) => None,
        };
        let pattern = match (held(subject), held(predicate), held(object), graph_name) {
            (Some(s), Some(p), Some(o), Some(None)) => Some((s, p, o)),
            _ => None,
        };
        pattern
            .map(|(s, p, o)| Scan::new(self.clone(), s, p, o))
            .into_iter()
            .flatten()
    }

    fn internal_named_graphs(&self) -> impl Iterator<Item = Result<Node, GraphError>> + use<'a> {
        std::iter::empty()
    }

    fn contains_internal_graph_name(&self, _: &Node) -> Result<bool, GraphError> {
        Ok(false)
    }

    fn internalize_term(&self, term: Term) -> Result<Node, GraphError> {
        self.number(term)
    }

    fn externalize_term(&self, term: Node) -> Result<Term, GraphError> {
        match term {
            Node::Held(id) => self.name(id),
            Node::Absent(term) => Ok(term),
        }
    }
}
