//! Reports over the harvested simulated region, read over real HTTP.

use crate::support::{region, serve};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshness_report_as_json_and_csv_for_every_organisation() {
    let r = region(600).await;
    r.harvest().await;
    let api = serve(samla_api::router(r.samla.api_state())).await;
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        async move {
            let response = client.get(path).send().await.expect("get");
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.text().await.expect("body"))
        }
    };

    let (status, _, body) = get(format!("{api}/api/v1/reports/freshness")).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).expect("json");
    let municipalities = report["municipalities"].as_array().expect("rollups");
    assert_eq!(
        municipalities.len(),
        34,
        "every organisation, publishing or not"
    );
    let datasets = report["datasets"].as_array().expect("rows");
    assert_eq!(
        datasets.len() as u64,
        r.samla.index.len(),
        "every searchable dataset"
    );
    let total = |key: &str| -> u64 {
        municipalities
            .iter()
            .map(|m| m[key].as_u64().unwrap_or(0))
            .sum()
    };
    assert_eq!(
        total("on_time") + total("overdue") + total("unknown"),
        total("datasets")
    );
    assert!(
        total("overdue") > 0 && total("on_time") > 0,
        "the region has both"
    );
    // Svedala publishes bad dates: some of its freshness cannot be told.
    let svedala = municipalities
        .iter()
        .find(|m| m["code"] == "1263")
        .expect("Svedala");
    assert!(svedala["unknown"].as_u64().unwrap_or(0) > 0, "{svedala}");
    // Most overdue first; an overdue row says by how many days.
    let first = &datasets[0];
    assert_eq!(first["status"], "overdue");
    assert!(first["days"].as_i64().unwrap_or(0) >= datasets[1]["days"].as_i64().unwrap_or(0));

    // CSV: RFC 4180, one row per organisation, or per dataset.
    let (status, headers, body) = get(format!("{api}/api/v1/reports/freshness?format=csv")).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let mut rows = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(
        rows.headers().expect("header").iter().collect::<Vec<_>>(),
        [
            "code",
            "name",
            "datasets",
            "on_time",
            "overdue",
            "unknown",
            "most_overdue_days"
        ]
    );
    let records: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    assert_eq!(records.len(), 34);
    assert!(
        records
            .iter()
            .any(|r| &r[1] == "Östra Göinge kommun" && &r[2] == "0")
    );
    let (_, _, body) = get(format!(
        "{api}/api/v1/reports/freshness?format=csv&table=datasets&municipality=1280"
    ))
    .await;
    let malmo: Vec<csv::StringRecord> = csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(|r| r.expect("row"))
        .collect();
    assert!(!malmo.is_empty() && malmo.iter().all(|r| &r[2] == "1280"));

    // Bad parameters are 400s naming the parameter.
    for (query, parameter) in [
        ("format=xml", "format"),
        ("municipality=9999", "municipality"),
        ("table=x", "table"),
        ("colour=blue", "colour"),
    ] {
        let (status, _, body) = get(format!("{api}/api/v1/reports/freshness?{query}")).await;
        assert_eq!(status, 400, "{query}");
        let v: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["error"]["parameter"], parameter);
    }
}
