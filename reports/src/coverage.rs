//! Coverage: which organisation publishes what. A matrix of every organisation of the region
//! (those that publish nothing too) by national specification (`conformsTo`), HVD category
//! and EU theme, each cell the number of datasets and the best quality band among them; and
//! a daily snapshot of the matrix and the per-organisation totals, for coverage over time.
//!
//! An empty cell means "publishes none" only when every source of the organisation was read
//! in its last run; otherwise it is unknown, and each row says why ([`Reading`]).

use super::{Reports, quality, to_csv};
use crate::ReportError;
use chrono::{DateTime, Utc};
use samla_model::labels;
use samla_model::labels::specification_label;
use samla_model::quality::Band;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Datasets.
    pub datasets: u64,
    /// The best band among them.
    pub best_band: Option<Band>,
}

/// A column of a matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The IRI.
    pub value: String,
    /// A label (Swedish).
    pub label: String,
    /// Organisations with at least one dataset here.
    pub publishers: u64,
    /// Organisations with none here whose sources were not all read: whether they publish
    /// here is unknown.
    #[serde(default)]
    pub unknown: u64,
}

/// A row: one organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Kommunkod.
    pub code: String,
    /// Name.
    pub name: String,
    /// Datasets in all.
    pub datasets: u64,
    /// Whether its sources were read, so that an empty cell means it publishes none.
    #[serde(default)]
    pub reading: Reading,
    /// One cell per column.
    pub cells: Vec<Cell>,
}

/// How an organisation's sources were last read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadState {
    /// Every source of it was read in its last run: a count of none means none.
    #[default]
    Read,
    /// A source of it has failed since its last good run (`since`): what samla holds of it
    /// is as of then.
    Failing,
    /// A source of it has never been read.
    NeverRead,
    /// It has no source: nothing is known of what it publishes.
    NoSource,
}

impl std::fmt::Display for ReadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReadState::Read => "read",
            ReadState::Failing => "failing",
            ReadState::NeverRead => "never_read",
            ReadState::NoSource => "no_source",
        })
    }
}

/// Whether an organisation's datasets are known in full, and since when they are not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// The state of its least-read source.
    pub state: ReadState,
    /// When failing: the last good run of the source failing longest.
    pub since: Option<DateTime<Utc>>,
}

impl Reading {
    /// Whether a count of none means it publishes none.
    pub fn known(&self) -> bool {
        self.state == ReadState::Read
    }
}

/// How each organisation's sources were last read, by kommunkod (from the harvest health of
/// its sources).
pub fn readings(
    reports: &Reports,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, Reading>, ReportError> {
    let health = super::health::health_report(reports, now, None)?;
    let mut out: BTreeMap<String, Reading> = reports
        .directory()
        .organisations()
        .iter()
        .map(|o| {
            let state = ReadState::NoSource;
            (o.code.clone(), Reading { state, since: None })
        })
        .collect();
    for s in &health.sources {
        let this = match (s.status.as_str(), s.last_success) {
            ("ok", _) => Reading::default(),
            ("failing", Some(since)) => Reading {
                state: ReadState::Failing,
                since: Some(since),
            },
            _ => Reading {
                state: ReadState::NeverRead,
                since: None,
            },
        };
        let Some(held) = out.get_mut(&s.organisation) else {
            continue;
        };
        // The least-read source decides; of two failing, the one failing longest.
        let rank = |r: &Reading| match r.state {
            ReadState::NoSource => 0,
            ReadState::Read => 1,
            ReadState::Failing => 2,
            ReadState::NeverRead => 3,
        };
        *held = match (rank(held), rank(&this)) {
            (0, _) => this,
            (a, b) if b > a => this,
            (2, 2) => Reading {
                state: ReadState::Failing,
                since: held.since.min(this.since),
            },
            _ => *held,
        };
    }
    Ok(out)
}

/// One dimension's matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    /// The columns.
    pub columns: Vec<Column>,
    /// Every organisation.
    pub rows: Vec<Row>,
}

/// One day of coverage history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Datasets per organisation.
    pub totals: BTreeMap<String, u64>,
    /// Organisations publishing anything.
    pub publishing: u64,
    /// Organisations whose sources were not all read (what they publish is unknown).
    #[serde(default)]
    pub unknown: u64,
    /// Filled cells per dimension.
    pub filled: BTreeMap<String, u64>,
    /// The matrix itself: per dimension, every filled cell as (kommunkod, value, datasets).
    #[serde(default)]
    pub cells: BTreeMap<String, Vec<(String, String, u64)>>,
}

/// The coverage report.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// By national specification.
    pub conforms_to: Matrix,
    /// By HVD category.
    pub hvd_category: Matrix,
    /// By EU theme.
    pub theme: Matrix,
    /// The daily snapshots, oldest first.
    pub history: Vec<Snapshot>,
}

impl CoverageReport {
    /// The matrix of a dimension (`conforms_to`, `hvd_category`, `theme`).
    pub fn matrix(&self, by: &str) -> &Matrix {
        match by {
            "hvd_category" => &self.hvd_category,
            "theme" => &self.theme,
            _ => &self.conforms_to,
        }
    }
}

/// Builds the matrices (specifications, HVD categories, themes) as of now, without history.
pub(crate) fn matrices(
    reports: &Reports,
    now: DateTime<Utc>,
    municipality: Option<&str>,
) -> Result<[Matrix; 3], ReportError> {
    let readings = readings(reports, now)?;
    let facts = reports.facts()?;
    let links = reports.links()?;
    // Per organisation: its datasets; per dimension, organisation and value: how many of its
    // datasets have the value, and their best band. Read through once.
    let mut totals: HashMap<String, u64> = HashMap::new();
    let mut cells: [HashMap<(String, String), (u64, Band)>; 3] = Default::default();
    let mut specs: BTreeSet<String> = BTreeSet::new();
    let values: [fn(&super::DatasetFacts) -> &Vec<String>; 3] = [
        |d| &d.view.conforms_to,
        |d| &d.view.hvd_categories,
        |d| &d.view.themes,
    ];
    facts.each(|d| {
        specs.extend(d.view.conforms_to.iter().cloned());
        let Some(code) = d.municipality_code.clone() else {
            return;
        };
        let band = quality::score(&d, &links, reports.options).band;
        *totals.entry(code.clone()).or_default() += 1;
        for (cells, values_of) in cells.iter_mut().zip(values) {
            let mut mine: Vec<&String> = values_of(&d).iter().collect();
            mine.sort();
            mine.dedup();
            for value in mine {
                let cell = cells
                    .entry((code.clone(), value.clone()))
                    .or_insert((0, band));
                cell.0 += 1;
                cell.1 = cell.1.max(band);
            }
        }
    })?;
    let organisations: Vec<_> = reports
        .directory()
        .organisations()
        .iter()
        .filter(|o| municipality.is_none_or(|m| m == o.code))
        .collect();
    let dims: [Vec<(String, String)>; 3] = [
        specs
            .into_iter()
            .map(|s| {
                let label = specification_label(&s);
                (s, label)
            })
            .collect(),
        labels::HVD_CATEGORIES
            .iter()
            .map(|c| {
                (
                    format!("{}{}", samla_model::vocab::eu::HVD, c.code),
                    c.sv.to_string(),
                )
            })
            .collect(),
        labels::THEMES
            .iter()
            .map(|c| {
                (
                    format!("{}{}", samla_model::vocab::eu::DATA_THEME, c.code),
                    c.sv.to_string(),
                )
            })
            .collect(),
    ];
    let ([a, b, c], [x, y, z]) = (dims, cells);
    Ok([(a, x), (b, y), (c, z)].map(|(cols, cells)| {
        let rows: Vec<Row> = organisations
            .iter()
            .map(|o| {
                let cells = cols
                    .iter()
                    .map(|(value, _)| {
                        let here = cells.get(&(o.code.clone(), value.clone()));
                        Cell {
                            datasets: here.map_or(0, |c| c.0),
                            best_band: here.map(|c| c.1),
                        }
                    })
                    .collect();
                Row {
                    code: o.code.clone(),
                    name: o.name.clone(),
                    datasets: totals.get(&o.code).copied().unwrap_or_default(),
                    reading: readings.get(&o.code).copied().unwrap_or_default(),
                    cells,
                }
            })
            .collect();
        let columns = cols
            .into_iter()
            .enumerate()
            .map(|(i, (value, label))| Column {
                publishers: rows.iter().filter(|r| r.cells[i].datasets > 0).count() as u64,
                unknown: rows
                    .iter()
                    .filter(|r| r.cells[i].datasets == 0 && !r.reading.known())
                    .count() as u64,
                value,
                label,
            })
            .collect();
        Matrix { columns, rows }
    }))
}

fn snapshot_of(day: &str, [spec, hvd, theme]: &[Matrix; 3]) -> Snapshot {
    let filled = |m: &Matrix| {
        m.rows
            .iter()
            .flat_map(|r| &r.cells)
            .filter(|c| c.datasets > 0)
            .count() as u64
    };
    Snapshot {
        day: day.to_string(),
        totals: theme
            .rows
            .iter()
            .map(|r| (r.code.clone(), r.datasets))
            .collect(),
        publishing: theme.rows.iter().filter(|r| r.datasets > 0).count() as u64,
        unknown: theme.rows.iter().filter(|r| !r.reading.known()).count() as u64,
        filled: [
            ("conforms_to".to_string(), filled(spec)),
            ("hvd_category".to_string(), filled(hvd)),
            ("theme".to_string(), filled(theme)),
        ]
        .into(),
        cells: [
            ("conforms_to", spec),
            ("hvd_category", hvd),
            ("theme", theme),
        ]
        .into_iter()
        .map(|(dim, m)| {
            let cells = m
                .rows
                .iter()
                .flat_map(|r| {
                    m.columns
                        .iter()
                        .zip(&r.cells)
                        .filter(|(_, c)| c.datasets > 0)
                        .map(|(col, c)| (r.code.clone(), col.value.clone(), c.datasets))
                })
                .collect();
            (dim.to_string(), cells)
        })
        .collect(),
    }
}

/// Keeps today's snapshot of the whole region's coverage (replacing an earlier one of today).
pub fn take_snapshot(reports: &Reports, now: DateTime<Utc>) -> Result<(), ReportError> {
    let day = now.format("%Y-%m-%d").to_string();
    let snapshot = snapshot_of(&day, &matrices(reports, now, None)?);
    let body = serde_json::to_string(&snapshot).map_err(ReportError::render)?;
    reports.store().put_snapshot(&day, "coverage", &body)?;
    Ok(())
}

/// The daily snapshots, oldest first.
pub fn history(reports: &Reports) -> Result<Vec<Snapshot>, ReportError> {
    Ok(reports
        .store()
        .snapshots("coverage")?
        .into_iter()
        .filter_map(|(_, body)| serde_json::from_str::<Snapshot>(&body).ok())
        .collect())
}

/// The coverage report (of one organisation, if given), with the history.
pub fn coverage_report(
    reports: &Reports,
    now: DateTime<Utc>,
    municipality: Option<&str>,
) -> Result<CoverageReport, ReportError> {
    let [conforms_to, hvd_category, theme] = matrices(reports, now, municipality)?;
    let history = history(reports)?
        .into_iter()
        .map(|mut s| {
            if let Some(m) = municipality {
                s.totals.retain(|code, _| code == m);
                for cells in s.cells.values_mut() {
                    cells.retain(|(code, _, _)| code == m);
                }
            }
            s
        })
        .collect();
    Ok(CoverageReport {
        as_of: now,
        conforms_to,
        hvd_category,
        theme,
        history,
    })
}

/// The dimensions of the matrix (`by`).
pub const DIMENSIONS: &[&str] = &["conforms_to", "hvd_category", "theme"];

/// The CSV tables of the coverage report.
pub const TABLES: &[&str] = &["matrix", "cells", "history"];

/// `matrix`: one row per organisation (whether its sources were read, and since when not),
/// one column per value of `by` (dataset counts);
/// `cells`: one row per cell of every dimension with its best band; `history`: one row per
/// day and organisation.
pub fn coverage_csv(report: &CoverageReport, table: &str, by: &str) -> Result<String, ReportError> {
    match table {
        "cells" => {
            let mut rows = Vec::new();
            for (dim, m) in [
                ("conforms_to", &report.conforms_to),
                ("hvd_category", &report.hvd_category),
                ("theme", &report.theme),
            ] {
                for r in &m.rows {
                    for (c, cell) in m.columns.iter().zip(&r.cells) {
                        rows.push(vec![
                            dim.to_string(),
                            c.value.clone(),
                            c.label.clone(),
                            r.code.clone(),
                            r.name.clone(),
                            cell.datasets.to_string(),
                            super::cell(cell.best_band.map(|b| b.key())),
                        ]);
                    }
                }
            }
            to_csv(
                &[
                    "dimension",
                    "value",
                    "label",
                    "code",
                    "name",
                    "datasets",
                    "best_band",
                ],
                rows,
            )
        }
        "history" => to_csv(
            &["day", "code", "datasets"],
            report.history.iter().flat_map(|s| {
                s.totals
                    .iter()
                    .map(|(code, n)| vec![s.day.clone(), code.clone(), n.to_string()])
            }),
        ),
        _ => {
            let m = report.matrix(by);
            let mut header = vec![
                "code".to_string(),
                "name".to_string(),
                "datasets".to_string(),
                "read".to_string(),
                "unread_since".to_string(),
            ];
            header.extend(m.columns.iter().map(|c| c.label.clone()));
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            to_csv(
                &header,
                m.rows.iter().map(|r| {
                    let mut row = vec![
                        r.code.clone(),
                        r.name.clone(),
                        r.datasets.to_string(),
                        super::cell(Some(r.reading.state)),
                        super::cell(r.reading.since.map(|t| t.format("%Y-%m-%d").to_string())),
                    ];
                    row.extend(r.cells.iter().map(|c| c.datasets.to_string()));
                    row
                }),
            )
        }
    }
}
