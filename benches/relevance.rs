//! The relevance benchmark (on demand: `scripts/bench relevance`, or `cargo bench --bench
//! relevance`).
//!
//! The simulated region (`SAMLA_RELEVANCE_DATASETS`, 3000 datasets by default) is harvested
//! over loopback into samla. The judged queries of `bench/relevance/judged.tsv` (what a
//! business would type, in Swedish and English, with typos, compounds, municipality names and
//! formats in words) each name the datasets a person would expect: those of some topics,
//! of one municipality, in one format. The same queries then run, side by side in one run and
//! over the same documents (every dataset's titles, descriptions, keywords, publisher name,
//! municipality names, theme and format labels and specifications, as samla indexes them),
//! against samla's search and two baselines:
//! - tantivy with its default analyzer (`SimpleTokenizer`, lower case, long words removed) and
//!   its query parser's default (any word may match);
//! - SQLite FTS5 with the `unicode61` tokenizer, every word required, ordered by `bm25`.
//!
//! For each it prints recall@10 (the expected datasets among the first ten, of as many as
//! could be there), nDCG@10 (binary relevance) and the zero-result rate, then samla's queries
//! that miss (recall@10 under 0.5, or nothing found).

// The benchmark reads its judged set from the repository and serves the simulator itself.
#![allow(clippy::disallowed_methods)]

mod common;

use samla::app::{self, Samla};
use samla_indexer::{IndexInput, SearchRequest, SearchText};
use samla_model::record;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

fn main() -> anyhow::Result<()> {
    common::block_on(run())
}

/// A judged query.
struct Judged {
    q: String,
    topics: Vec<String>,
    municipality: Option<String>,
    format: Option<String>,
}

fn judged() -> anyhow::Result<Vec<Judged>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/relevance/judged.tsv");
    let text = std::fs::read_to_string(&path)?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        anyhow::ensure!(cells.len() == 4, "{}:{}: four cells", path.display(), n + 1);
        let given = |c: &str| (c != "-").then(|| c.to_string());
        out.push(Judged {
            q: cells[0].to_string(),
            topics: cells[1].split(',').map(str::to_string).collect(),
            municipality: given(cells[2]),
            format: given(cells[3]),
        });
    }
    Ok(out)
}

/// A dataset as judged, and the text every system indexes.
struct Doc {
    id: String,
    topic: String,
    municipality: Option<String>,
    formats: Vec<String>,
    text: SearchText,
}

/// Every shown dataset of the store, with its topic (its landing page names it:
/// `…/oppna-data/badplatser-12`).
fn documents(samla: &Samla) -> anyhow::Result<Vec<Doc>> {
    let mut docs = Vec::new();
    samla.store.for_each_dataset(|d| {
        let Ok(triples) = record::parse_canonical(&d.ntriples) else {
            return;
        };
        let v = d.view_from(&triples);
        let topic = v
            .landing_page
            .as_deref()
            .and_then(|l| l.rsplit('/').next())
            .map(|l| l.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-'))
            .unwrap_or("")
            .to_string();
        let names =
            samla_pipeline::municipality_names(&samla.directory, d.municipality_code.as_deref());
        let text = SearchText::of(&IndexInput {
            view: &v,
            source_id: &d.source_id,
            municipality_names: &names,
            changed: 0,
            quality: None,
        });
        docs.push(Doc {
            id: d.id.clone(),
            topic,
            municipality: d.municipality_code.clone(),
            formats: v
                .formats
                .iter()
                .map(|f| f.rsplit('/').next().unwrap_or(f).to_string())
                .collect(),
            text,
        });
    })?;
    Ok(docs)
}

/// The ids a person expects for a query.
fn expected(q: &Judged, docs: &[Doc]) -> HashSet<String> {
    docs.iter()
        .filter(|d| q.topics.contains(&d.topic))
        .filter(|d| q.municipality.is_none() || d.municipality == q.municipality)
        .filter(|d| q.format.as_ref().is_none_or(|f| d.formats.contains(f)))
        .map(|d| d.id.clone())
        .collect()
}

/// What a system answered: the first ten ids and how many it found.
type Answer = (Vec<String>, usize);

/// recall@10 and nDCG@10 of an answer.
fn scores(answer: &Answer, relevant: &HashSet<String>) -> (f64, f64) {
    let ideal = relevant.len().min(10);
    let found = answer.0.iter().filter(|id| relevant.contains(*id)).count();
    let dcg: f64 = answer
        .0
        .iter()
        .enumerate()
        .filter(|(_, id)| relevant.contains(*id))
        .map(|(rank, _)| 1.0 / ((rank + 2) as f64).log2())
        .sum();
    let idcg: f64 = (0..ideal)
        .map(|rank| 1.0 / ((rank + 2) as f64).log2())
        .sum();
    (found as f64 / ideal as f64, dcg / idcg)
}

/// tantivy with its default analyzer over the same documents.
struct TantivyDefault {
    index: tantivy::Index,
    reader: tantivy::IndexReader,
    id: tantivy::schema::Field,
    fields: Vec<tantivy::schema::Field>,
    _dir: tempfile::TempDir,
}

impl TantivyDefault {
    fn build(docs: &[Doc]) -> anyhow::Result<Self> {
        use tantivy::schema::{STORED, STRING, Schema, TEXT};
        let mut b = Schema::builder();
        let id = b.add_text_field("id", STRING | STORED);
        let names = ["title", "description", "keywords", "publisher", "extra"];
        let fields: Vec<_> = names.iter().map(|n| b.add_text_field(n, TEXT)).collect();
        let dir = tempfile::tempdir()?;
        let index = tantivy::Index::create_in_dir(dir.path(), b.build())?;
        let mut writer: tantivy::IndexWriter = index.writer(64 << 20)?;
        for d in docs {
            let mut doc = tantivy::TantivyDocument::default();
            doc.add_text(id, &d.id);
            let t = &d.text;
            for (field, text) in fields.iter().zip([
                &t.title,
                &t.description,
                &t.keywords,
                &t.publisher,
                &t.extra,
            ]) {
                doc.add_text(*field, text);
            }
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        Ok(Self {
            index,
            reader,
            id,
            fields,
            _dir: dir,
        })
    }

    fn search(&self, q: &str) -> anyhow::Result<Answer> {
        use tantivy::collector::{Count, TopDocs};
        use tantivy::schema::Value;
        let parser = tantivy::query::QueryParser::for_index(&self.index, self.fields.clone());
        let (query, _) = parser.parse_query_lenient(q);
        let searcher = self.reader.searcher();
        let (top, total) =
            searcher.search(&query, &(TopDocs::with_limit(10).order_by_score(), Count))?;
        let mut ids = Vec::new();
        for (_, address) in top {
            let doc: tantivy::TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.id).and_then(|v| v.as_str()) {
                ids.push(id.to_string());
            }
        }
        Ok((ids, total))
    }
}

/// SQLite FTS5 with the unicode61 tokenizer over the same documents.
struct Fts5 {
    conn: rusqlite::Connection,
}

impl Fts5 {
    fn build(docs: &[Doc]) -> anyhow::Result<Self> {
        let mut conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE VIRTUAL TABLE docs USING fts5(
                id UNINDEXED, title, description, keywords, publisher, extra,
                tokenize = 'unicode61'
            );",
        )?;
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO docs (id, title, description, keywords, publisher, extra)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for d in docs {
                let t = &d.text;
                insert.execute(rusqlite::params![
                    d.id,
                    t.title,
                    t.description,
                    t.keywords,
                    t.publisher,
                    t.extra
                ])?;
            }
        }
        tx.commit()?;
        Ok(Self { conn })
    }

    fn search(&self, q: &str) -> anyhow::Result<Answer> {
        // Each word quoted: FTS5 query syntax in the text is not interpreted.
        let expression = q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(" ");
        if expression.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let mut top = self
            .conn
            .prepare_cached("SELECT id FROM docs WHERE docs MATCH ?1 ORDER BY rank LIMIT 10")?;
        let ids = top
            .query_map([&expression], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let total: i64 = self.conn.query_row(
            "SELECT count(*) FROM docs WHERE docs MATCH ?1",
            [&expression],
            |r| r.get(0),
        )?;
        Ok((ids, total as usize))
    }
}

/// One system's figures over the judged set.
#[derive(Default)]
struct Figures {
    recall: Vec<f64>,
    ndcg: Vec<f64>,
    zero: usize,
}

impl Figures {
    fn add(&mut self, answer: &Answer, relevant: &HashSet<String>) {
        let (recall, ndcg) = scores(answer, relevant);
        self.recall.push(recall);
        self.ndcg.push(ndcg);
        self.zero += usize::from(answer.1 == 0);
    }

    fn line(&self, name: &str) -> String {
        let n = self.recall.len() as f64;
        format!(
            "{name:<28} recall@10 {:.3}   nDCG@10 {:.3}   zero results {:.1} %",
            self.recall.iter().sum::<f64>() / n,
            self.ndcg.iter().sum::<f64>() / n,
            100.0 * self.zero as f64 / n
        )
    }
}

async fn run() -> anyhow::Result<()> {
    let datasets: usize = std::env::var("SAMLA_RELEVANCE_DATASETS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let region = app::embedded_region()?;
    let simulator = Arc::new(app::simulator_for(&region, datasets));
    let (config, _, _served) = common::serve_simulated(&region, &simulator).await?;
    let state = tempfile::tempdir()?;
    let samla = Samla::open(config, state.path())?;
    samla
        .harvest_quietly(samla.config.harvest.concurrency)
        .await;
    let docs = documents(&samla)?;
    let queries = judged()?;
    let tantivy_default = TantivyDefault::build(&docs)?;
    let fts5 = Fts5::build(&docs)?;

    let mut by_system: BTreeMap<&str, Figures> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut unjudged = 0;
    for q in &queries {
        let relevant = expected(q, &docs);
        if relevant.is_empty() {
            unjudged += 1;
            continue;
        }
        let result = samla.index.search(&SearchRequest {
            q: Some(q.q.clone()),
            limit: 10,
            ..SearchRequest::default()
        })?;
        let ours: Answer = (
            result.hits.iter().map(|h| h.id.clone()).collect(),
            result.total,
        );
        let (recall, _) = scores(&ours, &relevant);
        if recall < 0.5 || ours.1 == 0 {
            misses.push(format!(
                "  {:<32} recall@10 {:.2}, {} found, {} expected",
                q.q,
                recall,
                ours.1,
                relevant.len()
            ));
        }
        by_system.entry("samla").or_default().add(&ours, &relevant);
        by_system
            .entry("tantivy default analyzer")
            .or_default()
            .add(&tantivy_default.search(&q.q)?, &relevant);
        by_system
            .entry("SQLite FTS5 unicode61")
            .or_default()
            .add(&fts5.search(&q.q)?, &relevant);
    }
    println!(
        "samla relevance benchmark: {} judged queries ({} naming nothing in this region left out), {} datasets",
        queries.len() - unjudged,
        unjudged,
        docs.len()
    );
    for name in ["samla", "tantivy default analyzer", "SQLite FTS5 unicode61"] {
        if let Some(f) = by_system.get(name) {
            println!("{}", f.line(name));
        }
    }
    println!("targets: recall@10 ≥ 0.9, zero results ≤ 2 %");
    if misses.is_empty() {
        println!("samla misses no query");
    } else {
        println!("samla's misses (recall@10 < 0.5 or nothing found):");
        for m in misses {
            println!("{m}");
        }
    }
    Ok(())
}
