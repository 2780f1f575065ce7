//! The real binary: `samla demo` comes up on loopback and answers searches over HTTP;
//! `samla check` reports on one catalog.

use crate::pg::free_port;
use crate::support::serve;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samla_demo_serves_searches_over_http() {
    let port = free_port();
    let state = tempfile::tempdir().expect("state dir");
    let state_dir = state.path().to_str().expect("utf-8 path").to_string();
    let child = Command::new(env!("CARGO_BIN_EXE_samla"))
        .args([
            "demo",
            "--port",
            &port.to_string(),
            "--state",
            &state_dir,
            "--rounds",
            "3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start samla demo");
    let mut child = Killed(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let stderr = child.0.stderr.take().expect("stderr");
    let progress = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    let url = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("demo prints its URL");
        if let Some(rest) = line.strip_prefix("samla is serving ") {
            break rest.rsplit(' ').next().expect("url").to_string();
        }
    };
    assert_eq!(url, format!("http://127.0.0.1:{port}"));

    let client = reqwest::Client::new();
    let body = client
        .get(format!("{url}/api/v1/datasets?q=badplatser"))
        .send()
        .await
        .expect("search answers")
        .bytes()
        .await
        .expect("body");
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert!(v["total"].as_u64().unwrap_or(0) >= 10, "{v}");
    let municipalities = v["facets"]["municipality"].as_array().expect("facet");
    assert!(
        municipalities.len() >= 5,
        "several municipalities: {municipalities:?}"
    );
    assert!(
        municipalities
            .iter()
            .all(|m| m["count"].as_u64().unwrap_or(0) > 0)
    );
    let status = client
        .get(format!("{url}/api/v1/datasets?per_page=500"))
        .send()
        .await
        .expect("answers")
        .status();
    assert_eq!(status.as_u16(), 400);

    // A report from the same state while the demo serves it (and keeps its store open).
    let report = {
        let state_dir = state_dir.clone();
        std::thread::spawn(move || {
            Command::new(env!("CARGO_BIN_EXE_samla"))
                .args(["report", "quality", "--state", &state_dir])
                .output()
                .expect("run samla report")
        })
        .join()
        .expect("thread")
    };
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let quality: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json");
    // Every searchable dataset is scored.
    let all: serde_json::Value = serde_json::from_slice(
        &client
            .get(format!("{url}/api/v1/datasets?per_page=1"))
            .send()
            .await
            .expect("search answers")
            .bytes()
            .await
            .expect("body"),
    )
    .expect("json");
    let scored = quality["datasets"].as_array().map_or(0, Vec::len) as u64;
    assert!(scored > 100, "{scored} datasets scored");
    assert_eq!(Some(scored), all["total"].as_u64());

    // Three rounds: coverage over time has a point for each, on its page.
    let history = client
        .get(format!("{url}/coverage/history"))
        .send()
        .await
        .expect("history answers")
        .text()
        .await
        .expect("body");
    let region_table = history
        .split("id=\"history-region\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("the region's history table");
    assert_eq!(
        region_table.matches("<tr><th scope=\"row\">").count(),
        3,
        "{region_table}"
    );
    // The simulated national portal was read: its report names what it lacks.
    let national: serde_json::Value = serde_json::from_slice(
        &client
            .get(format!("{url}/api/v1/reports/national"))
            .send()
            .await
            .expect("national answers")
            .bytes()
            .await
            .expect("body"),
    )
    .expect("json");
    assert!(
        national["missing"]
            .as_array()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        national["listed"]
    );

    drop(child);
    let progress = progress.join().expect("stderr");
    assert!(
        progress
            .iter()
            .any(|l| l.contains("malmo") && l.contains("datasets")),
        "progress per source: {progress:?}"
    );
    assert!(
        progress
            .iter()
            .any(|l| l.contains("osby") && l.contains("FAILED")),
        "the failing source is shown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samla_check_prints_the_run_report_and_fails_on_unreadable_catalogs() {
    let base = serve(
        axum::Router::new()
            .route_service(
                "/dcat.ttl",
                tower_http::services::ServeFile::new(crate::support::fixture("dcat/kommun.ttl")),
            )
            // A web server's error page where the catalog should be: nothing of it is RDF.
            .route(
                "/bad.ttl",
                axum::routing::get(|| async {
                    (
                        [(axum::http::header::CONTENT_TYPE, "text/turtle")],
                        "<!DOCTYPE html>\n<html><body><h1>Sidan kunde inte visas</h1></body></html>\n",
                    )
                }),
            ),
    )
    .await;
    let run = |path: &str| {
        let exe = env!("CARGO_BIN_EXE_samla");
        let url = format!("{base}{path}");
        std::thread::spawn(move || {
            Command::new(exe)
                .args(["check", "--format", "json", "--no-links", &url])
                .output()
                .expect("run samla check")
        })
        .join()
        .expect("thread")
    };
    let good = run("/dcat.ttl");
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&good.stdout).expect("json report");
    assert_eq!(report["datasets"], 2);
    assert_eq!(report["distributions"], 2);
    assert_eq!(report["problems"][0]["reason"], "invalid_date");
    assert_eq!(report["problems"][0]["count"], 1);
    // The quality a municipality sees before it publishes: scores and fixes per dataset.
    let quality = &report["quality"];
    assert_eq!(quality["catalogue"]["datasets"], 2);
    let datasets = quality["datasets"].as_array().expect("datasets");
    assert_eq!(datasets.len(), 2);
    assert!(datasets[0]["points"].as_i64() <= datasets[1]["points"].as_i64());
    let hint = &datasets[0]["hints"][0];
    assert!(hint["sv"].as_str().is_some_and(|t| !t.is_empty()), "{hint}");
    assert!(hint["en"].as_str().is_some_and(|t| !t.is_empty()), "{hint}");

    let bad = run("/bad.ttl");
    assert!(!bad.status.success());
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).expect("json report");
    assert_eq!(report["problems"][0]["reason"], "malformed_rdf");
}

/// `samla harvest` exits non-zero when a source times out (its server never answers within
/// the run timeout), as it does when one fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samla_harvest_fails_when_a_source_times_out() {
    let base = serve(axum::Router::new().route(
        "/dcat",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "too late"
        }),
    ))
    .await;
    let state = tempfile::tempdir().expect("state");
    let config = state.path().join("region.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[region]
name = "Test"

[harvest]
run_timeout_secs = 2
request_timeout_secs = 30

[[organisation]]
code = "1280"
name = "Malmö stad"
short_name = "Malmö"

[[source]]
id = "slow"
organisation = "1280"
protocol = "dcat"
url = "{base}/dcat"
"#
        ),
    )
    .expect("write config");
    let args = [
        "harvest".to_string(),
        "--config".into(),
        config.to_string_lossy().into_owned(),
        "--state".into(),
        state.path().join("state").to_string_lossy().into_owned(),
    ];
    let started = Instant::now();
    let out = std::thread::spawn(move || {
        Command::new(env!("CARGO_BIN_EXE_samla"))
            .args(args)
            .output()
            .expect("run samla harvest")
    })
    .join()
    .expect("thread");
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 failed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}
