//! Progress bars for harvests on a terminal.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use samla_harvester::Outcome;
use samla_pipeline::{Progress, SourceOutcome};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A bar for the whole harvest and a spinner per running source.
pub struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    running: Mutex<HashMap<String, ProgressBar>>,
    datasets: AtomicU64,
}

impl Bars {
    /// Bars for a harvest of `sources` sources, drawn on stderr (hidden when it is no terminal).
    pub fn new(sources: usize) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(sources as u64));
        total.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{bar:30}] {pos}/{len} sources, {msg} ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        total.set_prefix("harvest");
        total.set_message("0 datasets");
        Self {
            multi,
            total,
            running: Mutex::new(HashMap::new()),
            datasets: AtomicU64::new(0),
        }
    }

    /// Closes the bars.
    pub fn finish(&self) {
        self.total.finish();
    }
}

impl Progress for Bars {
    fn started(&self, source_id: &str) {
        let bar = self
            .multi
            .insert_before(&self.total, ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{prefix:>10} {spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(source_id.to_string());
        bar.set_message("fetching");
        bar.enable_steady_tick(Duration::from_millis(120));
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(source_id.to_string(), bar);
    }

    fn datasets(&self, source_id: &str, datasets: u64) {
        if let Some(bar) = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(source_id)
        {
            bar.set_message(format!("{datasets} datasets"));
        }
    }

    fn finished(&self, source_id: &str, outcome: &SourceOutcome) {
        if let Some(bar) = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(source_id)
        {
            bar.finish_and_clear();
        }
        let r = &outcome.report;
        let a = &outcome.applied;
        // Quiet when all is well, loud when not: `ok`, `unchanged`, `PARTIAL`, `TIMED OUT`.
        let mark = match r.outcome {
            Outcome::Success => "ok".to_string(),
            o @ Outcome::Unchanged => o.to_string(),
            o => o.as_str().replace('_', " ").to_uppercase(),
        };
        let problems: Vec<String> = r
            .problems
            .iter()
            .map(|p| format!("{} ×{}", p.reason, p.count))
            .collect();
        let line = format!(
            "{source_id:>14} {mark:<9} {:>6} datasets ({} new, {} changed, {} unchanged{}) in {} pages{}, {:.1}s{}",
            r.datasets,
            a.new,
            a.changed,
            a.unchanged,
            if a.archived > 0 {
                format!(", {} archived", a.archived)
            } else {
                String::new()
            },
            r.pages,
            if r.pages_not_modified > 0 {
                format!(" ({} not modified)", r.pages_not_modified)
            } else {
                String::new()
            },
            (r.finished - r.started).num_milliseconds() as f64 / 1000.0,
            if problems.is_empty() {
                String::new()
            } else {
                format!("; problems: {}", problems.join(", "))
            }
        );
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
        self.total.inc(1);
        let total = self.datasets.fetch_add(r.datasets, Ordering::Relaxed) + r.datasets;
        self.total.set_message(format!("{total} datasets"));
    }
}
