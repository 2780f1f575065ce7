//! SVG charts drawn server-side with `plotters`: the coverage heat map, coverage over time,
//! quality bands per organisation, and demand against supply. Every label is text in the SVG
//! (escaped by the backend), so what a chart shows can be read back and checked.

use super::coverage::{Matrix, Snapshot};
use super::demand::Supply;
use super::quality::CatalogueQuality;
use crate::ReportError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use samla_model::quality::Band;

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(33, 37, 41);
const EMPTY: RGBColor = RGBColor(236, 238, 241);

fn band_colour(band: Option<Band>) -> RGBColor {
    match band {
        Some(Band::Excellent) => RGBColor(26, 127, 55),
        Some(Band::Good) => RGBColor(116, 196, 118),
        Some(Band::Enough) => RGBColor(253, 210, 90),
        Some(Band::Bad) => RGBColor(240, 120, 60),
        None => EMPTY,
    }
}

fn failed<E: std::fmt::Debug>(e: E) -> ReportError {
    ReportError::Render(format!("chart: {e:?}"))
}

fn text<'a>(size: u32, h: HPos) -> TextStyle<'a> {
    TextStyle::from((FONT, size).into_font())
        .color(&INK)
        .pos(Pos::new(h, VPos::Center))
}

fn cut(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// The coverage heat map: organisations by columns, each cell coloured by its best band and
/// labelled with its dataset count (empty cells grey, without a label).
pub fn coverage_heatmap(matrix: &Matrix, title: &str) -> Result<String, ReportError> {
    let (left, top, cw, ch) = (190i32, 150i32, 44i32, 20i32);
    let width = (left + cw * matrix.columns.len().max(1) as i32 + 20) as u32;
    let height = (top + ch * matrix.rows.len() as i32 + 50) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        root.draw(&Text::new(
            title.to_string(),
            (10, 16),
            text(18, HPos::Left),
        ))
        .map_err(failed)?;
        for (j, c) in matrix.columns.iter().enumerate() {
            let x = left + cw * j as i32 + cw / 2;
            let style = TextStyle::from((FONT, 13).into_font().transform(FontTransform::Rotate270))
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Center));
            root.draw(&Text::new(cut(&c.label, 24), (x, top - 6), style))
                .map_err(failed)?;
        }
        for (i, r) in matrix.rows.iter().enumerate() {
            let y = top + ch * i as i32;
            row_label(&root, &r.name, 28, left, y + ch / 2)?;
            for (j, cell) in r.cells.iter().enumerate() {
                let x = left + cw * j as i32;
                let colour = if cell.datasets == 0 {
                    EMPTY
                } else {
                    band_colour(cell.best_band)
                };
                root.draw(&Rectangle::new(
                    [(x + 1, y + 1), (x + cw - 1, y + ch - 1)],
                    colour.filled(),
                ))
                .map_err(failed)?;
                if cell.datasets > 0 {
                    // White on the darkest band, ink on the others: legible on each.
                    let ink = if cell.best_band == Some(Band::Excellent) {
                        WHITE
                    } else {
                        INK
                    };
                    root.draw(&Text::new(
                        cell.datasets.to_string(),
                        (x + cw / 2, y + ch / 2),
                        text(13, HPos::Center).color(&ink),
                    ))
                    .map_err(failed)?;
                }
            }
        }
        legend(&root, 10, height as i32 - 24)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// A row's label, right-aligned before `x`, cut to `max` characters.
fn row_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    label: &str,
    max: usize,
    x: i32,
    y: i32,
) -> Result<(), ReportError> {
    root.draw(&Text::new(
        cut(label, max),
        (x - 6, y),
        text(13, HPos::Right),
    ))
    .map_err(failed)
}

fn legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    x: i32,
    y: i32,
) -> Result<(), ReportError> {
    let mut x = x;
    for band in [Band::Excellent, Band::Good, Band::Enough, Band::Bad] {
        root.draw(&Rectangle::new(
            [(x, y), (x + 14, y + 14)],
            band_colour(Some(band)).filled(),
        ))
        .map_err(failed)?;
        root.draw(&Text::new(
            band.label("sv").to_string(),
            (x + 18, y + 7),
            text(13, HPos::Left),
        ))
        .map_err(failed)?;
        x += 100;
    }
    Ok(())
}

/// A line: its legend, its colour, its value on a day.
type Series<'a> = (&'a str, RGBColor, Box<dyn Fn(&Snapshot) -> u64 + 'a>);

/// Coverage over time: organisations publishing, and filled cells by specification, HVD
/// category and theme, one point per day.
pub fn coverage_history(history: &[Snapshot]) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let days: Vec<&str> = history.iter().map(|s| s.day.as_str()).collect();
        let filled = |s: &Snapshot, k: &str| s.filled.get(k).copied().unwrap_or(0);
        let max = history
            .iter()
            .flat_map(|s| {
                [
                    s.publishing,
                    filled(s, "conforms_to"),
                    filled(s, "hvd_category"),
                    filled(s, "theme"),
                ]
            })
            .max()
            .unwrap_or(1)
            .max(1);
        let n = history.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption("Täckning över tid", (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(44)
            .build_cartesian_2d(0usize..n, 0u64..(max + max / 10 + 1))
            .map_err(failed)?;
        chart
            .configure_mesh()
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .x_labels(n.min(8))
            .x_label_formatter(&|i| days.get(*i).map(|d| d.to_string()).unwrap_or_default())
            .y_desc("antal")
            .draw()
            .map_err(failed)?;
        let series: [Series<'_>; 4] = [
            (
                "Organisationer som publicerar",
                RGBColor(31, 119, 180),
                Box::new(|s: &Snapshot| s.publishing),
            ),
            (
                "Specifikationsceller",
                RGBColor(214, 39, 40),
                Box::new(move |s: &Snapshot| filled(s, "conforms_to")),
            ),
            (
                "HVD-celler",
                RGBColor(148, 103, 189),
                Box::new(move |s: &Snapshot| filled(s, "hvd_category")),
            ),
            (
                "Temaceller",
                RGBColor(44, 160, 44),
                Box::new(move |s: &Snapshot| filled(s, "theme")),
            ),
        ];
        for (label, colour, value) in series {
            chart
                .draw_series(LineSeries::new(
                    history.iter().enumerate().map(|(i, s)| (i, value(s))),
                    colour.stroke_width(2),
                ))
                .map_err(failed)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    history
                        .iter()
                        .enumerate()
                        .map(|(i, s)| Circle::new((i, value(s)), 3, colour.filled())),
                )
                .map_err(failed)?;
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.9))
            .border_style(INK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// Quality per organisation: a bar per organisation split by band (datasets per band), with
/// the mean score at its end.
pub fn quality_bands(rows: &[CatalogueQuality]) -> Result<String, ReportError> {
    let (left, top, bar, gap, span) = (190i32, 40i32, 16i32, 4i32, 460i32);
    let height = (top + (bar + gap) * rows.len() as i32 + 50) as u32;
    let most = rows.iter().map(|r| r.datasets).max().unwrap_or(1).max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, ((left + span + 120) as u32, height))
            .into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        root.draw(&Text::new(
            "Kvalitet per organisation (datamängder per nivå)".to_string(),
            (10, 16),
            text(18, HPos::Left),
        ))
        .map_err(failed)?;
        for (i, r) in rows.iter().enumerate() {
            let y = top + (bar + gap) * i as i32;
            row_label(&root, &r.name, 28, left, y + bar / 2)?;
            let mut x = left;
            for band in [Band::Excellent, Band::Good, Band::Enough, Band::Bad] {
                let n = r.bands.get(&band).copied().unwrap_or(0);
                if n == 0 {
                    continue;
                }
                let w = ((n as f64 / most) * span as f64).round().max(1.0) as i32;
                root.draw(&Rectangle::new(
                    [(x, y), (x + w, y + bar)],
                    band_colour(Some(band)).filled(),
                ))
                .map_err(failed)?;
                x += w;
            }
            let label = match r.points {
                Some(p) => format!("{p:.0} p ({})", r.datasets),
                None => "–".to_string(),
            };
            root.draw(&Text::new(
                label,
                (x + 6, y + bar / 2),
                text(13, HPos::Left),
            ))
            .map_err(failed)?;
        }
        legend(&root, 10, height as i32 - 24)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// Demand against supply: per item, demand (searches and requests) to the left and the
/// organisations publishing it to the right.
pub fn demand_supply(items: &[Supply], title: &str) -> Result<String, ReportError> {
    let (label_w, half, top, bar, gap) = (200i32, 260i32, 56i32, 16i32, 6i32);
    let mid = label_w + half;
    let height = (top + (bar + gap) * items.len() as i32 + 20) as u32;
    let most_demand = items
        .iter()
        .map(|s| s.searches + s.requests)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let organisations = items.first().map_or(1, |s| s.organisations).max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, ((mid + half + 60) as u32, height))
            .into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        root.draw(&Text::new(
            title.to_string(),
            (10, 16),
            text(18, HPos::Left),
        ))
        .map_err(failed)?;
        root.draw(&Text::new(
            "Efterfrågan (sökningar + önskemål)".to_string(),
            (mid - 6, 40),
            text(13, HPos::Right),
        ))
        .map_err(failed)?;
        root.draw(&Text::new(
            "Utbud (organisationer som publicerar)".to_string(),
            (mid + 6, 40),
            text(13, HPos::Left),
        ))
        .map_err(failed)?;
        for (i, s) in items.iter().enumerate() {
            let y = top + (bar + gap) * i as i32;
            row_label(&root, &s.label, 30, label_w, y + bar / 2)?;
            let demand = s.searches + s.requests;
            let w = ((demand as f64 / most_demand) * (half - 40) as f64).round() as i32;
            root.draw(&Rectangle::new(
                [(mid - w, y), (mid, y + bar)],
                RGBColor(31, 119, 180).filled(),
            ))
            .map_err(failed)?;
            root.draw(&Text::new(
                demand.to_string(),
                (mid - w - 4, y + bar / 2),
                text(13, HPos::Right),
            ))
            .map_err(failed)?;
            let w = ((s.publishers as f64 / organisations) * (half - 40) as f64).round() as i32;
            root.draw(&Rectangle::new(
                [(mid, y), (mid + w, y + bar)],
                RGBColor(44, 160, 44).filled(),
            ))
            .map_err(failed)?;
            root.draw(&Text::new(
                s.publishers.to_string(),
                (mid + w + 4, y + bar / 2),
                text(13, HPos::Left),
            ))
            .map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}
