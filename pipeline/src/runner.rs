//! Running harvests on demand and on schedule.
//!
//! [`Runner`] starts a source's run as a task: at most one per source at a time (on this node,
//! and with a shared PostgreSQL store on any node: it holds the source's lock), under a
//! watchdog that aborts a run stuck past the run timeout and records it as `timed_out`, and
//! with a shutdown that cancels running harvests and waits for them to record themselves
//! (a cancelled run applies nothing but its run record, so nothing is half-applied).
//!
//! [`Scheduler`] fires each source at its cron times in the region's time zone, each source
//! shifted by a fixed jitter so that sources sharing a schedule do not start at once. Its
//! clock follows tokio's, so tests drive it with paused time.

use crate::{Pipeline, Quiet};
use chrono::{DateTime, Utc};
use samla_config::SourceConfig;
use samla_model::Outcome;
use samla_model::run::{HarvestControl, StartRefusal};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Extra time the watchdog gives a run past the harvester's own run timeout (applying it).
const WATCHDOG_MARGIN: Duration = Duration::from_secs(30);

/// Starts and tracks source runs.
pub struct Runner {
    pipeline: Arc<Pipeline>,
    sources: HashMap<String, SourceConfig>,
    running: Mutex<HashMap<String, (i64, CancellationToken)>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    watchdog: Duration,
    permits: Arc<tokio::sync::Semaphore>,
}

impl Runner {
    /// A runner for these sources, `concurrency` runs at once (the others wait their turn);
    /// a run stuck longer than `run_timeout` (plus a margin for applying) is aborted.
    pub fn new(
        pipeline: Arc<Pipeline>,
        sources: &[SourceConfig],
        run_timeout: Duration,
        concurrency: usize,
    ) -> Self {
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))),
            pipeline,
            sources: sources.iter().map(|s| (s.id.clone(), s.clone())).collect(),
            running: Mutex::new(HashMap::new()),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            watchdog: run_timeout + WATCHDOG_MARGIN,
        }
    }

    /// The same runner with another watchdog limit (tests).
    pub fn with_watchdog(mut self, limit: Duration) -> Self {
        self.watchdog = limit;
        self
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, CancellationToken)>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a source has a run going, and its id.
    pub fn current(&self, source_id: &str) -> Option<i64> {
        self.running().get(source_id).map(|(id, _)| *id)
    }

    /// Starts a run of `source_id` now; returns its run id.
    pub fn start(self: &Arc<Self>, source_id: &str) -> Result<i64, StartRefusal> {
        if self.shutdown.is_cancelled() {
            return Err(StartRefusal::ShuttingDown);
        }
        let source = self
            .sources
            .get(source_id)
            .cloned()
            .ok_or(StartRefusal::UnknownSource)?;
        let mut running = self.running();
        if let Some((id, _)) = running.get(source_id) {
            return Err(StartRefusal::AlreadyRunning(*id));
        }
        // Held until the run is applied or recorded as ended: no other harvester node starts
        // the source meanwhile, and if this one dies, the lock goes with it.
        let lock = self
            .pipeline
            .store()
            .lock_source(source_id)
            .map_err(|e| StartRefusal::Internal(e.to_string()))?
            .ok_or(StartRefusal::RunningElsewhere)?;
        let run_id = self
            .pipeline
            .store()
            .begin_run(source_id, Utc::now())
            .map_err(|e| StartRefusal::Internal(e.to_string()))?;
        let cancel = self.shutdown.child_token();
        running.insert(source_id.to_string(), (run_id, cancel.clone()));
        drop(running);

        let this = Arc::clone(self);
        self.tasks.spawn(async move {
            let permit = Arc::clone(&this.permits).acquire_owned().await.ok();
            let run = this
                .pipeline
                .harvest_reserved(&source, Some(run_id), permit, cancel, &Quiet);
            match tokio::time::timeout(this.watchdog, run).await {
                Ok(Ok(outcome)) => tracing::info!(
                    source_id = %source.id, run_id, outcome = ?outcome.report.outcome,
                    datasets = outcome.report.datasets, "harvest finished"
                ),
                Ok(Err(error)) => {
                    tracing::error!(source_id = %source.id, run_id, error = %format!("{error:#}"), "harvest failed");
                    let _ = this.pipeline.store().end_run(run_id, &source.id, Outcome::Failed, &format!("{error:#}"));
                }
                Err(_) => {
                    let reason = format!("aborted by the watchdog after {:?}", this.watchdog);
                    tracing::warn!(source_id = %source.id, run_id, "{reason}");
                    let _ = this.pipeline.store().end_run(run_id, &source.id, Outcome::TimedOut, &reason);
                }
            }
            this.running().remove(&source.id);
            drop(lock);
        });
        Ok(run_id)
    }

    /// Cancels running harvests and waits for them to record themselves.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl HarvestControl for Runner {
    fn start_run(self: Arc<Self>, source_id: &str) -> Result<i64, StartRefusal> {
        self.start(source_id)
    }
}

/// One source's schedule.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Source id.
    pub source_id: String,
    /// Its cron schedule.
    pub schedule: cron::Schedule,
    /// How much later than the cron time it starts.
    pub jitter: Duration,
}

/// A fixed per-source delay in `[0, max)`, so sources sharing a schedule spread out.
pub fn jitter_for(source_id: &str, max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let h = source_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    Duration::from_millis(h % max.as_millis().max(1) as u64)
}

/// Fires sources at their cron times.
pub struct Scheduler {
    entries: Vec<Entry>,
    timezone: chrono_tz::Tz,
}

impl Scheduler {
    /// A scheduler for the enabled sources of a configuration, in the region's time zone.
    pub fn new(sources: &[SourceConfig], timezone: chrono_tz::Tz, max_jitter: Duration) -> Self {
        let entries = sources
            .iter()
            .filter(|s| s.enabled)
            .map(|s| Entry {
                source_id: s.id.clone(),
                schedule: s.schedule.cron().clone(),
                jitter: jitter_for(&s.id, max_jitter),
            })
            .collect();
        Self { entries, timezone }
    }

    /// The entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Runs until `stop`: calls `fire` with each source id at its times. The wall clock is
    /// read once; after that time is tokio's, so paused time drives it.
    pub async fn run(self, fire: impl Fn(&str) + Send + Sync + 'static, stop: CancellationToken) {
        self.run_from(Utc::now(), fire, stop).await;
    }

    /// [`Scheduler::run`], with the wall clock read as `wall`.
    pub async fn run_from(
        self,
        wall: DateTime<Utc>,
        fire: impl Fn(&str) + Send + Sync + 'static,
        stop: CancellationToken,
    ) {
        let start = tokio::time::Instant::now();
        let now = move || wall + (tokio::time::Instant::now() - start);
        let fire = Arc::new(fire);
        let tasks = TaskTracker::new();
        for entry in self.entries {
            let (fire, stop, tz) = (Arc::clone(&fire), stop.clone(), self.timezone);
            tasks.spawn(async move {
                loop {
                    // The next cron time whose jittered moment is still ahead: between a cron
                    // time and its jitter, that cron time's run is still to come.
                    let from = (now() - entry.jitter).with_timezone(&tz);
                    let at: DateTime<Utc> = match entry.schedule.after(&from).next() {
                        Some(t) => t.with_timezone(&Utc) + entry.jitter,
                        None => return,
                    };
                    let wait = (at - now()).to_std().unwrap_or_default();
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(wait) => fire(&entry.source_id),
                    }
                    // Past the jitter so the same cron time is not taken twice.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            });
        }
        tasks.close();
        tasks.wait().await;
    }
}
