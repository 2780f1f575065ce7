//! Runs on demand and on schedule: the admin endpoint over real HTTP (authentication, one run
//! per source), the watchdog, shutdown, and the cron scheduler under paused time.

use crate::support::{fixture, serve, settings};
use axum::Router;
use axum::routing::get;
use samla_config::{Config, Protocol, SourceConfig};
use samla_pipeline::runner::{Runner, Scheduler};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A catalog that answers after `delay`.
async fn slow_catalog(delay: Duration) -> String {
    let body = std::fs::read_to_string(fixture("dcat/kommun.ttl")).expect("fixture");
    serve(Router::new().route(
        "/catalog",
        get(move || {
            let body = body.clone();
            async move {
                tokio::time::sleep(delay).await;
                ([("content-type", "text/turtle")], body)
            }
        }),
    ))
    .await
}

fn config_for(url: &str, token: Option<&str>) -> Config {
    let mut config = samla::app::embedded_region().expect("region");
    config.sources = vec![SourceConfig {
        id: "lund".into(),
        organisation: "1281".into(),
        protocol: Protocol::Dcat,
        url: url::Url::parse(url).expect("url"),
        schedule: samla_config::Schedule::default(),
        verified: true,
        enabled: true,
        aggregate: false,
        follow_hosts: Vec::new(),
    }];
    config.harvest = settings(1 << 24);
    config.admin_token = token.map(str::to_string);
    config
}

async fn runs(client: &reqwest::Client, api: &str) -> Vec<Value> {
    let v: Value = client
        .get(format!("{api}/api/v1/sources/lund/runs"))
        .send()
        .await
        .expect("runs")
        .text()
        .await
        .map(|t| serde_json::from_str(&t).expect("json"))
        .expect("body");
    v["runs"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_harvest_needs_the_token_and_runs_once_per_source() {
    let catalog = slow_catalog(Duration::from_millis(1500)).await;
    let state = tempfile::tempdir().expect("tempdir");
    let samla = samla::app::Samla::open(
        config_for(&format!("{catalog}/catalog"), Some("s3cret")),
        state.path(),
    )
    .expect("open");
    let api = serve(samla_api::router(samla.api_state())).await;
    let client = reqwest::Client::new();
    let post = |token: Option<&str>| {
        let mut req = client.post(format!("{api}/api/v1/sources/lund/harvest"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let r = post(None).await.expect("post");
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_eq!(post(Some("guess")).await.expect("post").status(), 403);
    let r = post(Some("s3cret")).await.expect("post");
    assert_eq!(r.status(), 202);
    let started: Value = serde_json::from_str(&r.text().await.expect("body")).expect("json");
    let run_id = started["run_id"].as_i64().expect("run id");
    // A second request while the first runs says so.
    let r = post(Some("s3cret")).await.expect("post");
    assert_eq!(r.status(), 409);
    let conflict: Value = serde_json::from_str(&r.text().await.expect("body")).expect("json");
    assert_eq!(conflict["error"]["detail"]["run_id"].as_i64(), Some(run_id));
    assert_eq!(runs(&client, &api).await[0]["outcome"], "running");
    // Unknown sources are 404 (after authentication).
    let r = client
        .post(format!("{api}/api/v1/sources/nowhere/harvest"))
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404);

    let mut finished = None;
    for _ in 0..100 {
        let list = runs(&client, &api).await;
        if list[0]["outcome"] != "running" {
            finished = Some(list[0].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run = finished.expect("the run finished");
    assert_eq!(
        run["id"].as_i64(),
        Some(run_id),
        "the run id given at the start"
    );
    assert_eq!(run["outcome"], "success");
    assert!(run["new"].as_u64().is_some_and(|n| n > 0));
    assert_eq!(runs(&client, &api).await.len(), 1, "one run recorded");
    // Bad parameters of the history are 400s.
    let r = client
        .get(format!("{api}/api/v1/sources/lund/runs?limit=lots"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_configured_token_admin_endpoints_are_forbidden() {
    let catalog = slow_catalog(Duration::ZERO).await;
    let state = tempfile::tempdir().expect("tempdir");
    let samla = samla::app::Samla::open(
        config_for(&format!("{catalog}/catalog"), None),
        state.path(),
    )
    .expect("open");
    let api = serve(samla_api::router(samla.api_state())).await;
    let r = reqwest::Client::new()
        .post(format!("{api}/api/v1/sources/lund/harvest"))
        .bearer_auth("anything")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_aborts_a_stuck_run_and_shutdown_cancels_cleanly() {
    let catalog = slow_catalog(Duration::from_secs(3600)).await;
    let state = tempfile::tempdir().expect("tempdir");
    let samla = samla::app::Samla::open(
        config_for(&format!("{catalog}/catalog"), None),
        state.path(),
    )
    .expect("open");
    let runner = Arc::new(
        Runner::new(
            Arc::clone(&samla.pipeline),
            &samla.config.sources,
            Duration::from_secs(60),
            2,
        )
        .with_watchdog(Duration::from_millis(700)),
    );
    let id = runner.start("lund").expect("start");
    for _ in 0..50 {
        if runner.current("lund").is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run = &samla.store.runs("lund", 1).expect("runs")[0];
    assert_eq!((run.id, run.outcome.as_str()), (id, "timed_out"));
    assert!(samla.store.dataset_counts().expect("counts").is_empty());

    // Shutdown: a running harvest is cancelled and records itself; nothing is applied.
    let runner = Arc::new(Runner::new(
        Arc::clone(&samla.pipeline),
        &samla.config.sources,
        Duration::from_secs(60),
        2,
    ));
    let id = runner.start("lund").expect("start");
    tokio::time::sleep(Duration::from_millis(300)).await;
    runner.shutdown().await;
    let run = &samla.store.runs("lund", 1).expect("runs")[0];
    assert_eq!((run.id, run.outcome.as_str()), (id, "cancelled"));
    assert!(samla.store.dataset_counts().expect("counts").is_empty());
    assert!(runner.start("lund").is_err(), "no new runs after shutdown");
}

/// Started between a cron time and its jittered moment, the scheduler still fires that run.
#[tokio::test(start_paused = true)]
async fn a_scheduler_started_inside_the_jitter_fires_the_run_still_to_come() {
    let config = config_for("http://127.0.0.1:9/catalog", None);
    let scheduler = Scheduler::new(
        &config.sources,
        chrono_tz::Europe::Stockholm,
        Duration::from_secs(600),
    );
    let jitter = scheduler.entries()[0].jitter;
    assert!(jitter > Duration::from_secs(2), "{jitter:?}");
    // Nightly at 02:00 Stockholm (01:00 UTC in winter): start a second after 02:00.
    let wall = chrono::DateTime::parse_from_rfc3339("2026-12-01T01:00:01Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    let fired: Arc<Mutex<Vec<tokio::time::Instant>>> = Arc::default();
    let (log, stop) = (
        Arc::clone(&fired),
        tokio_util::sync::CancellationToken::new(),
    );
    let start = tokio::time::Instant::now();
    let task = tokio::spawn(scheduler.run_from(
        wall,
        move |_| log.lock().expect("log").push(tokio::time::Instant::now()),
        stop.clone(),
    ));
    tokio::time::sleep(jitter).await;
    stop.cancel();
    task.await.expect("scheduler");
    let fired = fired.lock().expect("log").clone();
    assert_eq!(fired.len(), 1, "today's run, at 02:00 plus its jitter");
    // 02:00 plus the jitter is the jitter less the second already past 02:00 at the start.
    let due = jitter - Duration::from_secs(1);
    let at = fired[0] - start;
    assert!(
        at >= due && at <= due + Duration::from_millis(10),
        "{at:?} against {due:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_scheduler_fires_each_source_at_its_cron_times_with_jitter() {
    let mut config = config_for("http://127.0.0.1:9/catalog", None);
    let mut other = config.sources[0].clone();
    other.id = "ystad".into();
    other.schedule = "30 */6 * * *".parse().expect("schedule"); // every six hours at half past
    config.sources.push(other);
    let scheduler = Scheduler::new(
        &config.sources,
        chrono_tz::Europe::Stockholm,
        Duration::from_secs(600),
    );
    for e in scheduler.entries() {
        assert!(e.jitter < Duration::from_secs(600));
    }
    let jitter = scheduler.entries()[0].jitter;
    let (wall, start) = (chrono::Utc::now(), tokio::time::Instant::now());
    let fired: Arc<Mutex<Vec<(String, tokio::time::Instant)>>> = Arc::default();
    let (log, stop) = (
        Arc::clone(&fired),
        tokio_util::sync::CancellationToken::new(),
    );
    let task = tokio::spawn(scheduler.run(
        move |id| {
            log.lock()
                .expect("log")
                .push((id.to_string(), tokio::time::Instant::now()))
        },
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(3 * 24 * 3600)).await;
    stop.cancel();
    task.await.expect("scheduler");
    let fired = fired.lock().expect("log").clone();
    let times = |id: &str| -> Vec<tokio::time::Instant> {
        fired
            .iter()
            .filter(|(s, _)| s == id)
            .map(|(_, t)| *t)
            .collect()
    };
    let hours = |d: Duration| d.as_secs_f64() / 3600.0;
    let nightly = times("lund");
    assert_eq!(nightly.len(), 3, "nightly for three days");
    for t in &nightly {
        // At 02:00 in Stockholm, shifted by the source's jitter (give or take the moment the
        // scheduler read the wall clock, a little after this test did).
        let at = (wall + (*t - start) - jitter).with_timezone(&chrono_tz::Europe::Stockholm);
        let Some(two) = at.date_naive().and_hms_opt(2, 0, 0).and_then(|t| {
            t.and_local_timezone(chrono_tz::Europe::Stockholm)
                .earliest()
        }) else {
            continue; // the night summer time starts, 02:00 does not exist
        };
        let off = (at - two).num_milliseconds().abs();
        assert!(off < 5_000, "{at} is 02:00 ({off} ms off)");
    }
    for pair in nightly.windows(2) {
        // 24 hours, or 23/25 across a change to or from summer time.
        assert!((23.0..=25.0).contains(&hours(pair[1] - pair[0])));
    }
    let six_hourly = times("ystad");
    assert!(
        (11..=12).contains(&six_hourly.len()),
        "{}",
        six_hourly.len()
    );
    for pair in six_hourly.windows(2) {
        assert!((5.0..=7.0).contains(&hours(pair[1] - pair[0])));
    }
}
