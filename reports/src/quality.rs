//! Quality: every dataset's MQA score with its fix hints, and each catalogue's score (per
//! organisation and per source): the mean of its datasets' points, which is the share of
//! datasets meeting each indicator times the indicator's weight.

use super::{DatasetFacts, Reports, cell, json_cell, write_csv};
use crate::ReportError;
use crate::listing::Listing;
use chrono::{DateTime, Utc};
use samla_model::quality::{self, Band, Context, Dimension, Hint, INDICATORS, Score};
use samla_store::LinkTable;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One dataset's quality.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetQuality {
    /// Dataset id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kommunkod.
    pub municipality_code: Option<String>,
    /// Shown from.
    pub source_id: String,
    /// Points.
    pub points: i32,
    /// Band.
    pub band: Band,
    /// Whether it conforms to the DCAT-AP shapes.
    pub conforms: bool,
    /// The SHACL violations (a few).
    pub violations: Vec<String>,
    /// Points per dimension.
    pub dimensions: BTreeMap<Dimension, i32>,
    /// Fixes, most points first.
    pub hints: Vec<Hint>,
}

/// A catalogue's quality (an organisation or a source).
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueQuality {
    /// Kommunkod or source id.
    pub id: String,
    /// Name (organisation) or organisation code (source).
    pub name: String,
    /// Datasets scored.
    pub datasets: u64,
    /// Mean points (`None` without datasets).
    pub points: Option<f64>,
    /// Band of the mean.
    pub band: Option<Band>,
    /// Datasets per band.
    pub bands: BTreeMap<Band, u64>,
    /// Mean points per dimension.
    pub dimensions: BTreeMap<Dimension, f64>,
    /// Share of datasets meeting each indicator (0–1).
    pub indicators: BTreeMap<&'static str, f64>,
    /// The most common fixes: indicator, datasets that miss it, points the catalogue's mean
    /// would gain.
    pub top_fixes: Vec<Fix>,
}

/// A fix across a catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    /// Indicator.
    pub indicator: &'static str,
    /// Datasets missing it.
    pub datasets: u64,
    /// Points the mean would gain.
    pub gain: f64,
    /// The fix in Swedish.
    pub sv: &'static str,
    /// The fix in English.
    pub en: &'static str,
}

/// The quality report.
#[derive(Debug, Serialize)]
pub struct QualityReport {
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// Whether the Swedish deviations apply.
    pub swedish: bool,
    /// Most points a dataset can have.
    pub max_points: i32,
    /// Links checked so far.
    pub links_checked: u64,
    /// Every organisation of the region.
    pub municipalities: Vec<CatalogueQuality>,
    /// Every configured source.
    pub sources: Vec<CatalogueQuality>,
    /// Every dataset, lowest score first, then by id (none when the report was made without
    /// its list): a [`DatasetQuality`] each, kept on disk.
    pub datasets: Listing,
}

/// Scores one dataset's facts.
pub fn score(d: &DatasetFacts, links: &LinkTable, options: quality::Options) -> Score {
    let link = |u: &str| links.state(u);
    quality::score(
        &d.view,
        &Context {
            link: &link,
            conforms: Some(d.conforms),
            options,
        },
    )
}

/// A catalogue's quality from its datasets' scores.
pub fn catalogue<'a>(
    id: &str,
    name: &str,
    scored: impl Iterator<Item = &'a (DatasetQuality, Score)>,
) -> CatalogueQuality {
    let mut tally = Tally::default();
    for (d, s) in scored {
        tally.add(d, s);
    }
    tally.finish(id, name)
}

/// A catalogue's quality, summed as its datasets are scored: what [`catalogue`] needs, not
/// the datasets.
#[derive(Debug, Default)]
struct Tally {
    datasets: u64,
    points: f64,
    bands: BTreeMap<Band, u64>,
    dimensions: BTreeMap<Dimension, f64>,
    /// Per indicator: datasets meeting it.
    met: Vec<u64>,
    /// Per indicator: datasets with a hint for it, their gains, and the first hint's words.
    missing: Vec<Missing>,
}

/// Datasets with a hint for an indicator, their summed gain, and the first hint's words
/// (Swedish, English).
type Missing = (u64, f64, Option<(&'static str, &'static str)>);

impl Tally {
    fn add(&mut self, d: &DatasetQuality, s: &Score) {
        if self.met.is_empty() {
            self.met = vec![0; INDICATORS.len()];
            self.missing = vec![(0, 0.0, None); INDICATORS.len()];
        }
        self.datasets += 1;
        self.points += s.points as f64;
        *self.bands.entry(d.band).or_insert(0) += 1;
        for dim in DIMENSIONS {
            let p = s
                .dimensions
                .iter()
                .find(|(d, _)| *d == dim)
                .map_or(0.0, |(_, p)| *p as f64);
            *self.dimensions.entry(dim).or_insert(0.0) += p;
        }
        for (i, ind) in INDICATORS.iter().enumerate() {
            if s.indicators[i].met == Some(true) {
                self.met[i] += 1;
            }
            if let Some(h) = d.hints.iter().find(|h| h.indicator == ind.key) {
                let missing = &mut self.missing[i];
                missing.0 += 1;
                missing.1 += h.gain as f64;
                missing.2.get_or_insert((h.sv, h.en));
            }
        }
    }

    fn finish(self, id: &str, name: &str) -> CatalogueQuality {
        let n = self.datasets as f64;
        let (mut dimensions, mut indicators, mut top_fixes) =
            (BTreeMap::new(), BTreeMap::new(), Vec::new());
        if self.datasets > 0 {
            for (dim, sum) in self.dimensions {
                dimensions.insert(dim, round(sum / n));
            }
            for (i, ind) in INDICATORS.iter().enumerate() {
                indicators.insert(ind.key, round(self.met[i] as f64 / n));
                if let (count, gain, Some((sv, en))) = self.missing[i] {
                    top_fixes.push(Fix {
                        indicator: ind.key,
                        datasets: count,
                        gain: round(gain / n),
                        sv,
                        en,
                    });
                }
            }
            top_fixes.sort_by(|a, b| b.gain.total_cmp(&a.gain));
            top_fixes.truncate(5);
        }
        let points = (self.datasets > 0).then(|| round(self.points / n));
        CatalogueQuality {
            id: id.to_string(),
            name: name.to_string(),
            datasets: self.datasets,
            band: points.map(Band::of),
            points,
            bands: self.bands,
            dimensions,
            indicators,
            top_fixes,
        }
    }
}

/// The dimensions, in the order the report gives them.
const DIMENSIONS: [Dimension; 5] = [
    Dimension::Findability,
    Dimension::Accessibility,
    Dimension::Interoperability,
    Dimension::Reusability,
    Dimension::Contextuality,
];

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Scores one dataset and keeps what the report shows of it.
pub fn scored(
    d: &DatasetFacts,
    links: &LinkTable,
    options: quality::Options,
) -> (DatasetQuality, Score) {
    let s = score(d, links, options);
    (
        DatasetQuality {
            id: d.id.clone(),
            title: d.title.clone(),
            municipality_code: d.municipality_code.clone(),
            source_id: d.source_id.clone(),
            points: s.points,
            band: s.band,
            conforms: d.conforms,
            violations: d.violations.clone(),
            dimensions: s.dimensions.iter().copied().collect(),
            hints: s.hints.clone(),
        },
        s,
    )
}

/// Scores every searchable dataset (of one organisation, if given). The datasets are listed
/// only if `listed`, on disk (the per-dataset table is as long as the corpus); the
/// organisations' and sources' figures are summed as the datasets are read.
pub fn quality_report(
    reports: &Reports,
    now: DateTime<Utc>,
    municipality: Option<&str>,
    listed: bool,
) -> Result<QualityReport, ReportError> {
    let facts = reports.facts()?;
    let links = reports.links()?;
    let options = reports.options;
    let mut by_organisation: HashMap<String, Tally> = HashMap::new();
    let mut by_source: HashMap<String, Tally> = HashMap::new();
    let mut datasets = if listed {
        Listing::new(&reports.dir)?
    } else {
        Listing::none()
    };
    facts.try_each(|d| {
        if municipality.is_some_and(|m| d.municipality_code.as_deref() != Some(m)) {
            return Ok(());
        }
        let (q, s) = scored(&d, &links, options);
        if let Some(code) = &q.municipality_code {
            by_organisation.entry(code.clone()).or_default().add(&q, &s);
        }
        by_source
            .entry(q.source_id.clone())
            .or_default()
            .add(&q, &s);
        // The facts come in id order: rows of equal points stay in it.
        if listed {
            datasets.push(q.points, &q)?;
        }
        Ok(())
    })?;
    let municipalities = reports
        .directory()
        .organisations()
        .iter()
        .filter(|o| municipality.is_none_or(|m| m == o.code))
        .map(|o| {
            by_organisation
                .remove(&o.code)
                .unwrap_or_default()
                .finish(&o.code, &o.name)
        })
        .collect();
    let sources = reports
        .sources
        .iter()
        .filter(|s| municipality.is_none_or(|m| m == s.organisation))
        .map(|s| {
            // A source is named by its organisation's name (the id says which source).
            let name = reports
                .directory()
                .by_code(&s.organisation)
                .map_or(s.organisation.as_str(), |o| o.name.as_str());
            by_source
                .remove(&s.id)
                .unwrap_or_default()
                .finish(&s.id, name)
        })
        .collect();
    let datasets = datasets.finish()?;
    Ok(QualityReport {
        as_of: now,
        swedish: options.swedish,
        max_points: options.max_points(),
        links_checked: links.len() as u64,
        municipalities,
        sources,
        datasets,
    })
}

/// The CSV tables of the quality report.
pub const TABLES: &[&str] = &["municipalities", "sources", "datasets", "hints"];

/// Table `table` of the report as CSV, written to `out` (the datasets' tables a row at a time
/// from the list on disk).
pub fn quality_csv(
    report: &QualityReport,
    table: &str,
    out: &mut dyn std::io::Write,
) -> Result<(), ReportError> {
    let dims = [
        Dimension::Findability,
        Dimension::Accessibility,
        Dimension::Interoperability,
        Dimension::Reusability,
        Dimension::Contextuality,
    ];
    let dim_names = [
        "findability",
        "accessibility",
        "interoperability",
        "reusability",
        "contextuality",
    ];
    match table {
        "municipalities" | "sources" => {
            let rows = if table == "sources" {
                &report.sources
            } else {
                &report.municipalities
            };
            let mut header = vec!["id", "name", "datasets", "points", "band"];
            header.extend(dim_names);
            header.extend(["excellent", "good", "enough", "bad"]);
            write_csv(
                &header,
                rows.iter().map(|c| {
                    let mut row = vec![
                        c.id.clone(),
                        c.name.clone(),
                        c.datasets.to_string(),
                        cell(c.points),
                        cell(c.band.map(|b| b.key())),
                    ];
                    row.extend(dims.iter().map(|d| cell(c.dimensions.get(d))));
                    row.extend(
                        [Band::Excellent, Band::Good, Band::Enough, Band::Bad]
                            .iter()
                            .map(|b| c.bands.get(b).copied().unwrap_or(0).to_string()),
                    );
                    Ok(row)
                }),
                out,
            )
        }
        "hints" => write_csv(
            &[
                "id",
                "municipality_code",
                "indicator",
                "property",
                "subject",
                "gain",
                "hint_sv",
                "hint_en",
            ],
            report.datasets.values().flat_map(|d| {
                let rows: Vec<Result<Vec<String>, ReportError>> = match d {
                    Err(e) => vec![Err(e)],
                    Ok(d) => listed(&d["hints"])
                        .iter()
                        .flat_map(|h| {
                            listed(&h["subjects"]).iter().map(|s| {
                                Ok(vec![
                                    json_cell(&d["id"]),
                                    json_cell(&d["municipality_code"]),
                                    json_cell(&h["indicator"]),
                                    json_cell(&h["property"]),
                                    json_cell(s),
                                    json_cell(&h["gain"]),
                                    json_cell(&h["sv"]),
                                    json_cell(&h["en"]),
                                ])
                            })
                        })
                        .collect(),
                };
                rows
            }),
            out,
        ),
        _ => {
            // The columns named as a listed [`DatasetQuality`]'s keys, then its dimensions'
            // points and its number of hints.
            let fields = [
                "id",
                "title",
                "municipality_code",
                "source_id",
                "points",
                "band",
                "conforms",
            ];
            let mut header = fields.to_vec();
            header.extend(dim_names);
            header.push("hints");
            write_csv(
                &header,
                report.datasets.values().map(|d| {
                    let d = d?;
                    let mut row = fields.map(|k| json_cell(&d[k])).to_vec();
                    row.extend(dim_names.iter().map(|k| json_cell(&d["dimensions"][k])));
                    row.push(listed(&d["hints"]).len().to_string());
                    Ok(row)
                }),
                out,
            )
        }
    }
}

/// A listed row's array (none if it is not one).
fn listed(v: &serde_json::Value) -> &[serde_json::Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}
