//! Reports over the harvested simulated region, read over real HTTP.

use crate::support::{get_json, get_text, region, serve};
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
    // The whole list: overdue first, most days first, and by id where they are equal.
    let order = |d: &Value| {
        (
            std::cmp::Reverse(d["days"].as_i64()),
            d["id"].as_str().expect("id").to_string(),
        )
    };
    let listed: Vec<_> = datasets.iter().map(order).collect();
    let mut ordered = listed.clone();
    ordered.sort();
    assert!(listed == ordered, "most overdue first, then by id");

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
    // The same rows as the JSON's, in its order: id, status, due (RFC 3339) and days.
    let cell = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let from_json: Vec<[String; 4]> = datasets
        .iter()
        .filter(|d| d["municipality_code"] == "1280")
        .map(|d| {
            let due = d["due"].as_str().map_or(String::new(), |due| {
                chrono::DateTime::parse_from_rfc3339(due)
                    .expect("due")
                    .with_timezone(&chrono::Utc)
                    .to_rfc3339()
            });
            [cell(&d["id"]), cell(&d["status"]), due, cell(&d["days"])]
        })
        .collect();
    let from_csv: Vec<[String; 4]> = malmo
        .iter()
        .map(|r| [&r[0], &r[6], &r[8], &r[9]].map(str::to_string))
        .collect();
    assert_eq!(from_csv.len(), from_json.len());
    assert!(
        from_csv == from_json,
        "{:?} vs {:?}",
        from_csv[0],
        from_json[0]
    );
    assert!(
        from_csv
            .iter()
            .any(|r| r[1] == "overdue" && !r[2].is_empty())
    );

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

/// A report that lists every dataset, past what a report keeps in memory: the whole list
/// arrives over HTTP with its length, lowest score first and then by id, the same in JSON as
/// in the CSV tables.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_listing_every_dataset_arrives_whole_and_in_order() {
    let r = region(3000).await;
    r.harvest().await;
    let api = crate::support::serve_api(&r.samla).await;
    // Asking for it as it is, not compressed: what is sent is what was rendered.
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .expect("client");
    let res = client
        .get(format!("{api}/api/v1/reports/quality"))
        .send()
        .await
        .expect("quality");
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    let body = res.bytes().await.expect("body");
    let len: u64 = headers[reqwest::header::CONTENT_LENGTH]
        .to_str()
        .expect("length")
        .parse()
        .expect("a number");
    assert_eq!(body.len() as u64, len);
    assert!(len > 4 << 20, "more than a report holds in memory: {len}");
    let v: Value = serde_json::from_slice(&body).expect("json");
    let datasets = v["datasets"].as_array().expect("datasets");
    assert_eq!(datasets.len() as u64, r.samla.index.len());
    let listed: Vec<(i64, String)> = datasets
        .iter()
        .map(|d| {
            let points = d["points"].as_i64().expect("points");
            (points, d["id"].as_str().expect("id").to_string())
        })
        .collect();
    let mut ordered = listed.clone();
    ordered.sort();
    let first_out_of_order = listed.iter().zip(&ordered).position(|(a, b)| a != b);
    assert_eq!(first_out_of_order, None, "lowest score first, then by id");
    ordered.dedup_by_key(|(points, _)| *points);
    assert!(ordered.len() > 3, "scores differ: {ordered:?}");
    let csv = |table: &str| {
        let client = client.clone();
        let url = format!("{api}/api/v1/reports/quality?format=csv&table={table}");
        async move {
            let text = client
                .get(url)
                .send()
                .await
                .expect("csv")
                .text()
                .await
                .expect("text");
            csv_rows(&text)
        }
    };
    let (header, rows) = csv("datasets").await;
    let at = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (id, points, hints) = (at("id"), at("points"), at("hints"));
    let in_csv: Vec<(i64, String)> = rows
        .iter()
        .map(|r| (r[points].parse().expect("points"), r[id].to_string()))
        .collect();
    assert!(
        in_csv == listed,
        "the CSV lists the same datasets in the same order"
    );
    for (row, d) in rows.iter().zip(datasets) {
        let n = d["hints"].as_array().expect("hints").len();
        assert_eq!(row[hints], n.to_string());
    }
    let subjects: usize = datasets
        .iter()
        .flat_map(|d| d["hints"].as_array().expect("hints"))
        .map(|h| h["subjects"].as_array().expect("subjects").len())
        .sum();
    let (header, rows) = csv("hints").await;
    assert_eq!(header[0], "id");
    assert_eq!(rows.len(), subjects, "a row per hint and subject");
    let first = &datasets[0];
    let hint = &first["hints"][0];
    assert_eq!(
        (&rows[0][0], &rows[0][2], &rows[0][4]),
        (
            first["id"].as_str().expect("id"),
            hint["indicator"].as_str().expect("indicator"),
            hint["subjects"][0].as_str().expect("subject"),
        )
    );
}

fn csv_rows(body: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader.records().map(|r| r.expect("RFC 4180 row")).collect();
    (header, rows)
}

/// Every text node of an SVG, parsed as XML.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG parses as XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.tag_name().name() == "text")
        .map(|n| n.text().unwrap_or_default().trim().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_coverage_health_and_demand_over_the_simulated_region() {
    let r = crate::support::region_linked(400).await;
    r.harvest().await;
    let cancel = tokio_util::sync::CancellationToken::new();
    let pass = r.samla.check_links(&cancel).await.expect("link pass");
    assert!(pass.checked > 500 && pass.broken > 0, "{pass:?}");
    let again = r.samla.check_links(&cancel).await.expect("second pass");
    assert_eq!(
        (again.checked, again.fresh),
        (0, pass.checked),
        "rechecked only when due"
    );
    r.samla.snapshot_and_prune().await.expect("snapshot");
    let api = crate::support::serve_api(&r.samla).await;
    let reports = format!("{api}/api/v1/reports");

    // Quality: every organisation, scores that differ, hints on the datasets.
    let q = get_json(format!("{reports}/quality")).await;
    assert_eq!(q["max_points"], 405);
    let municipalities = q["municipalities"].as_array().expect("organisations");
    assert_eq!(municipalities.len(), 34);
    let means: Vec<f64> = municipalities
        .iter()
        .filter_map(|m| m["points"].as_f64())
        .collect();
    let (lo, hi) = means
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
    assert!(
        hi - lo > 100.0,
        "quality varies across the region: {lo}..{hi}"
    );
    // Every link of Bjuv's is gone: none of its access URLs answers.
    let bjuv = municipalities
        .iter()
        .find(|m| m["id"] == "1260")
        .expect("Bjuv");
    assert_eq!(bjuv["indicators"]["access_url_status"], 0.0, "{bjuv}");
    let datasets = q["datasets"].as_array().expect("datasets");
    assert_eq!(datasets.len() as u64, r.samla.index.len());
    let broken = datasets
        .iter()
        .flat_map(|d| d["hints"].as_array().cloned().unwrap_or_default())
        .find(|h| h["indicator"] == "access_url_status")
        .expect("a broken-link hint");
    assert_eq!(
        broken["sv"],
        "Rätta distributionens åtkomstadress: den svarar inte"
    );
    assert!(broken["subjects"][0].as_str().is_some());
    // The digests list an organisation's broken links, with what they answered: all of
    // Bjuv's, and those of Malmö's that failed.
    let facts = r.samla.reports.facts().expect("facts");
    let mut links_of: std::collections::HashMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    facts
        .each(|d| {
            let code = d.municipality_code.clone().unwrap_or_default();
            let pairs = d.view.link_urls().map(|u| format!("{} {u}", d.id));
            links_of.entry(code).or_default().extend(pairs);
        })
        .expect("each");
    for code in ["1260", "1280"] {
        let digest = samla_reports::digest::digest(&r.samla.reports, code, chrono::Utc::now())
            .expect("digest")
            .expect("an organisation of the region");
        let theirs = &links_of[code];
        let results = r
            .samla
            .store
            .link_rows(theirs.iter().map(|p| p.split_once(' ').expect("pair").1))
            .expect("link rows");
        let failed = theirs
            .iter()
            .filter(|p| !results[p.split_once(' ').expect("pair").1].ok)
            .count();
        assert!(failed > 0, "{code}");
        if code == "1260" {
            assert_eq!(failed, theirs.len(), "every link of Bjuv's is broken");
        } else {
            assert!(failed < theirs.len(), "Malmö has links that answer");
        }
        assert_eq!(digest.broken_total as usize, failed, "{code}");
        assert_eq!(
            digest.broken_links.len(),
            failed.min(samla_reports::digest::LISTED)
        );
        for b in &digest.broken_links {
            let row = &results[&b.url];
            assert!(theirs.contains(&format!("{} {}", b.dataset_id, b.url)));
            assert!(!row.ok, "{b:?}");
            assert_eq!((b.status, &b.error), (row.status, &row.error));
        }
    }
    // The mean of a catalogue is the mean of its datasets.
    let malmo: Vec<f64> = datasets
        .iter()
        .filter(|d| d["municipality_code"] == "1280")
        .filter_map(|d| d["points"].as_f64())
        .collect();
    let malmo_mean = malmo.iter().sum::<f64>() / malmo.len() as f64;
    let reported = municipalities
        .iter()
        .find(|m| m["id"] == "1280")
        .and_then(|m| m["points"].as_f64())
        .expect("Malmö's mean");
    assert!(
        (reported - malmo_mean).abs() < 0.06,
        "{reported} vs {malmo_mean}"
    );
    // Every catalogue's figures are its datasets' (summed as they are read, not from a list).
    let close = |a: f64, b: f64| (a - b).abs() < 0.051;
    let sources = q["sources"].as_array().expect("sources");
    for (rows, key) in [
        (municipalities, "municipality_code"),
        (sources, "source_id"),
    ] {
        for m in rows {
            let mine: Vec<&serde_json::Value> =
                datasets.iter().filter(|d| d[key] == m["id"]).collect();
            assert_eq!(
                m["datasets"].as_u64(),
                Some(mine.len() as u64),
                "{}",
                m["id"]
            );
            if mine.is_empty() {
                continue;
            }
            let mean = |f: &dyn Fn(&serde_json::Value) -> f64| {
                mine.iter().map(|d| f(d)).sum::<f64>() / mine.len() as f64
            };
            let number = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0);
            assert!(
                close(number(&m["points"]), mean(&|d| number(&d["points"]))),
                "{m}"
            );
            let dimensions = m["dimensions"].as_object().expect("dimensions");
            assert_eq!(dimensions.len(), 5);
            for (dim, v) in dimensions {
                assert!(
                    close(number(v), mean(&|d| number(&d["dimensions"][dim]))),
                    "{dim} {m}"
                );
            }
            for (band, n) in m["bands"].as_object().expect("bands") {
                let have = mine.iter().filter(|d| d["band"] == band.as_str()).count();
                assert_eq!(n.as_u64(), Some(have as u64), "{band} {m}");
            }
            for fix in m["top_fixes"].as_array().expect("fixes") {
                let hinted = mine
                    .iter()
                    .filter(|d| {
                        d["hints"]
                            .as_array()
                            .is_some_and(|h| h.iter().any(|h| h["indicator"] == fix["indicator"]))
                    })
                    .count();
                assert_eq!(fix["datasets"].as_u64(), Some(hinted as u64), "{fix}");
            }
        }
    }
    // The organisations' table, made without the per-dataset list, says the same.
    let (_, body) = get_text(format!("{reports}/quality?format=csv&table=municipalities")).await;
    let (_, rows) = csv_rows(&body);
    assert_eq!(rows.len(), municipalities.len());
    for (row, m) in rows.iter().zip(municipalities) {
        assert_eq!(Some(&row[0]), m["id"].as_str());
        assert_eq!(&row[2], m["datasets"].to_string());
    }
    let (status, body) = get_text(format!(
        "{reports}/quality?format=csv&table=hints&municipality=1260"
    ))
    .await;
    assert_eq!(status, 200);
    let (header, rows) = csv_rows(&body);
    assert_eq!(header[..3], ["id", "municipality_code", "indicator"]);
    assert!(rows.iter().all(|r| &r[1] == "1260") && !rows.is_empty());

    // Coverage: every organisation, cells that agree with the search facets.
    let c = get_json(format!("{reports}/coverage")).await;
    let theme = &c["theme"];
    let rows = theme["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 34);
    assert!(
        rows.iter().any(|r| r["datasets"] == 0),
        "a gap: an organisation that publishes nothing"
    );
    let columns = theme["columns"].as_array().expect("columns");
    let facets = get_json(format!("{api}/api/v1/datasets?per_page=1")).await;
    for facet in facets["facets"]["theme"].as_array().expect("theme facet") {
        let Some(j) = columns.iter().position(|c| c["value"] == facet["value"]) else {
            continue;
        };
        let sum: u64 = rows
            .iter()
            .map(|r| r["cells"][j]["datasets"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(
            sum,
            facet["count"].as_u64().unwrap_or(0),
            "{}",
            facet["value"]
        );
    }
    assert_eq!(
        c["history"].as_array().map(Vec::len),
        Some(1),
        "today's snapshot"
    );
    // The snapshot keeps the matrix: its filled theme cells are today's.
    let snapshot_cells = c["history"][0]["cells"]["theme"]
        .as_array()
        .expect("cells")
        .len();
    let filled_now = rows
        .iter()
        .flat_map(|r| r["cells"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["datasets"].as_u64() > Some(0))
        .count();
    assert_eq!(snapshot_cells, filled_now);
    let (status, body) = get_text(format!("{reports}/coverage?format=csv&by=theme")).await;
    assert_eq!(status, 200);
    let (header, csv_rows_) = csv_rows(&body);
    assert_eq!(
        header[..5],
        ["code", "name", "datasets", "read", "unread_since"]
    );
    assert_eq!(header.len(), 5 + columns.len());
    assert_eq!(csv_rows_.len(), 34);

    // The heat map shows what the JSON says: every organisation's name, and one count per
    // filled cell.
    let (status, svg) = get_text(format!("{reports}/charts/coverage.svg?by=theme")).await;
    assert_eq!(status, 200);
    let texts = svg_texts(&svg);
    for row in rows {
        let name = row["name"].as_str().expect("name");
        assert!(texts.iter().any(|t| t == name), "{name} on the heat map");
    }
    let mut shown: Vec<u64> = texts.iter().filter_map(|t| t.parse().ok()).collect();
    let mut filled: Vec<u64> = rows
        .iter()
        .flat_map(|r| r["cells"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["datasets"].as_u64())
        .filter(|n| *n > 0)
        .collect();
    shown.sort_unstable();
    filled.sort_unstable();
    assert_eq!(shown, filled);
    let (_, svg) = get_text(format!("{reports}/charts/quality.svg")).await;
    let texts = svg_texts(&svg);
    let malmo_label = format!("{reported:.0} p (");
    assert!(
        texts.iter().any(|t| t.starts_with(&malmo_label)),
        "{malmo_label} in {texts:?}"
    );
    let (_, svg) = get_text(format!("{reports}/charts/coverage-history.svg")).await;
    svg_texts(&svg);

    // Harvest health: the broken source is failing, with its problem.
    let h = get_json(format!("{reports}/harvest")).await;
    assert_eq!(h["failing"], 1);
    let osby = &h["sources"][0];
    assert_eq!(
        (osby["id"].as_str(), osby["failure_streak"].as_u64()),
        (Some("osby"), Some(1))
    );
    assert_eq!(osby["problems"][0]["reason"], "http_status");
    assert!(osby["last_success"].is_null());

    // Demand: the businesses' searches and requests, through the real endpoints.
    let (replayed, requests) = samla::app::replay_demand(&api).await.expect("replay");
    // The facet lookup above was a search too.
    let searches = replayed + 1;
    // Searches are logged off the request path: wait until all are in.
    let mut d = Value::Null;
    for _ in 0..100 {
        d = get_json(format!("{reports}/demand")).await;
        if d["searches"].as_u64() == Some(searches as u64) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(d["searches"].as_u64(), Some(searches as u64));
    assert_eq!(d["requests"].as_array().map(Vec::len), Some(requests));
    assert!(
        d["requests"][0].get("contact").is_none(),
        "contacts are not shown"
    );
    assert_eq!(d["top_queries"][0]["query"], "laddstolpar");
    let scooters = d["zero_result_groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| {
            g["queries"]
                .as_array()
                .is_some_and(|q| q.iter().any(|q| q == "elsparkcyklar"))
        })
        .expect("a zero-result group");
    assert_eq!(
        scooters["searches"], 8,
        "elsparkcyklar ×5 and elsparkcykel ×3 are one group"
    );
    assert!(
        d["filters"]
            .as_array()
            .expect("filters")
            .iter()
            .any(|f| f["filter"] == "municipality" && f["value"] == "1280")
    );
    assert_eq!(d["weekly"].as_array().map(Vec::len), Some(1));
    let transport = d["themes"]
        .as_array()
        .expect("themes")
        .iter()
        .find(|t| t["value"] == "http://publications.europa.eu/resource/authority/data-theme/TRAN")
        .expect("TRAN");
    assert!(
        transport["searches"].as_u64().unwrap_or(0) >= 4,
        "{transport}"
    );
    assert!(
        transport["requests"].as_u64().unwrap_or(0) >= 1,
        "{transport}"
    );
    assert_eq!(transport["organisations"], 34);
    let (_, svg) = get_text(format!("{reports}/charts/demand.svg?by=themes")).await;
    let texts = svg_texts(&svg);
    let demand = (transport["searches"].as_u64().unwrap_or(0)
        + transport["requests"].as_u64().unwrap_or(0))
    .to_string();
    assert!(texts.contains(&demand), "{demand} in {texts:?}");
    let (status, body) = get_text(format!("{reports}/demand?format=csv&table=weekly&days=7")).await;
    assert_eq!(status, 200);
    assert_eq!(csv_rows(&body).1.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_requests_are_validated_and_rate_limited() {
    let r = crate::support::region(60).await;
    let api = crate::support::serve_api(&r.samla).await;
    let client = reqwest::Client::new();
    let post = |body: &'static str, content_type: &'static str| {
        let client = client.clone();
        let url = format!("{api}/api/v1/requests");
        async move {
            let response = client
                .post(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("post");
            let status = response.status().as_u16();
            let text = response.text().await.expect("body");
            (status, serde_json::from_str::<Value>(&text).expect("json"))
        }
    };
    const JSON: &str = "application/json";
    for (body, field) in [
        (r#"{"organisation_type": "company"}"#, "what"),
        (r#"{"what": "ab", "organisation_type": "company"}"#, "what"),
        (
            r#"{"what": "Laddstolpar", "organisation_type": "spy"}"#,
            "organisation_type",
        ),
        (r#"{"what": "Laddstolpar"}"#, "organisation_type"),
        (
            r#"{"what": "Laddstolpar", "organisation_type": "company", "municipality": "9999"}"#,
            "municipality",
        ),
        (
            r#"{"what": "Laddstolpar", "organisation_type": "company", "theme": "CARS"}"#,
            "theme",
        ),
        (
            r#"{"what": "Laddstolpar", "organisation_type": "company", "specification": "badplatser"}"#,
            "specification",
        ),
        (
            r#"{"what": "Laddstolpar", "organisation_type": "company", "colour": "red"}"#,
            "body",
        ),
        (r#"{"what": "#, "body"),
    ] {
        let (status, v) = post(body, JSON).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert_eq!(v["error"]["parameter"], field, "{body}: {v}");
    }
    let (status, v) = post(r#"{"what": "x y z"}"#, "text/plain").await;
    assert_eq!(
        (status, v["error"]["parameter"].as_str()),
        (400, Some("Content-Type"))
    );

    // A form works as JSON does; the answer leaves out the contact.
    let (status, v) = post(
        "what=Lediga+tomter&municipality=1280&theme=ECON&organisation_type=company&contact=a%40b.example",
        "application/x-www-form-urlencoded",
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        v["request"]["theme"],
        "http://publications.europa.eu/resource/authority/data-theme/ECON"
    );
    assert!(v["request"].get("contact").is_none());
    // Ten an hour from one address (the default), then 429.
    for _ in 1..10 {
        let (status, _) = post(
            r#"{"what": "Träd i parker", "organisation_type": "research"}"#,
            JSON,
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, v) = post(
        r#"{"what": "Träd i parker", "organisation_type": "research"}"#,
        JSON,
    )
    .await;
    assert_eq!(status, 429, "{v}");
}

/// Coverage cells on a hand-written catalog: counts and best bands are known for every cell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_cells_of_a_hand_written_catalog() {
    let body = std::fs::read(crate::support::fixture("reports/coverage.ttl")).expect("fixture");
    let router = axum::Router::new().route(
        "/catalog.ttl",
        axum::routing::get(move || async move { ([("content-type", "text/turtle")], body) }),
    );
    let base = serve(router).await;
    let toml = format!(
        r#"
[region]
name = "Test"

[[organisation]]
code = "1280"
name = "Malmö stad"
short_name = "Malmö"
orgnr = "212000-1124"

[[organisation]]
code = "1281"
name = "Lunds kommun"
short_name = "Lund"
orgnr = "212000-1173"

[[organisation]]
code = "1260"
name = "Bjuvs kommun"
short_name = "Bjuv"

[[source]]
id = "regionen"
organisation = "1280"
protocol = "dcat"
url = "{base}/catalog.ttl"
aggregate = true
"#
    );
    let (samla, _state) = crate::support::harvested(&toml).await;
    let report = samla_reports::coverage::coverage_report(&samla.reports, chrono::Utc::now(), None)
        .expect("coverage");
    let cell = |m: &samla_reports::coverage::Matrix, code: &str, value: &str| {
        let row = m.rows.iter().find(|r| r.code == code).expect("row");
        let j = m
            .columns
            .iter()
            .position(|c| c.value == value)
            .expect("column");
        (row.cells[j].datasets, row.cells[j].best_band)
    };
    use samla_model::quality::Band;
    let spec = "https://dataportal.se/specifications/badplatser/1.0";
    assert_eq!(report.conforms_to.columns.len(), 1);
    assert_eq!(report.conforms_to.columns[0].publishers, 1);
    // Links are not checked here: the well-described dataset has 405 − 80 = 325 points (Good),
    // the bare one is Bad; the cell shows the best.
    assert_eq!(
        cell(&report.conforms_to, "1280", spec),
        (2, Some(Band::Good))
    );
    assert_eq!(cell(&report.conforms_to, "1281", spec), (0, None));
    assert_eq!(cell(&report.conforms_to, "1260", spec), (0, None));
    let theme =
        |code: &str| format!("http://publications.europa.eu/resource/authority/data-theme/{code}");
    assert_eq!(
        cell(&report.theme, "1280", &theme("ENVI")),
        (2, Some(Band::Good))
    );
    assert_eq!(cell(&report.theme, "1281", &theme("TRAN")).0, 1);
    assert_eq!(cell(&report.theme, "1280", &theme("TRAN")), (0, None));
    assert_eq!(
        cell(
            &report.hvd_category,
            "1281",
            "http://data.europa.eu/bna/c_b79e35eb"
        )
        .0,
        1
    );
    let rows: Vec<(&str, u64)> = report
        .theme
        .rows
        .iter()
        .map(|r| (r.code.as_str(), r.datasets))
        .collect();
    assert_eq!(
        rows,
        [("1260", 0), ("1281", 1), ("1280", 2)],
        "every organisation, in the order of their names (Bjuv, Lund, Malmö)"
    );
}

/// Reports read the store through read connections of their own: a quality report computed
/// while a harvest of the simulated region applies finishes, and so does the harvest, and
/// each report sees the store as of one commit (its datasets never more than the store's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quality_report_runs_while_a_harvest_applies() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let r = region(4000).await;
    let samla = &r.samla;
    let done = Arc::new(AtomicBool::new(false));
    let reporting = {
        let (reports, store, done) = (
            Arc::clone(&samla.reports),
            Arc::clone(&samla.store),
            Arc::clone(&done),
        );
        tokio::task::spawn_blocking(move || {
            let mut during = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let rendered = samla_reports::render(&reports, "quality", "", chrono::Utc::now())
                    .expect("quality report");
                let samla_reports::Rendered::Json(body) = rendered else {
                    panic!("json asked for")
                };
                let v: serde_json::Value = serde_json::from_reader(body).expect("json");
                let scored = v["datasets"].as_array().map_or(0, Vec::len);
                let shown = store.for_each_dataset(|_| {}).expect("count") as usize;
                assert!(scored <= shown, "{scored} scored, {shown} in the store");
                during.push(scored);
            }
            during
        })
    };
    let outcomes = tokio::time::timeout(std::time::Duration::from_secs(300), r.harvest())
        .await
        .expect("the harvest finishes while reports run");
    done.store(true, Ordering::SeqCst);
    let during = tokio::time::timeout(std::time::Duration::from_secs(120), reporting)
        .await
        .expect("the reports finish")
        .expect("report thread");
    assert!(
        !during.is_empty(),
        "reports were computed during the harvest"
    );
    assert!(outcomes.values().any(|o| o.applied.new > 0));
    // After the harvest, the report scores every searchable dataset.
    let samla_reports::Rendered::Json(after) =
        samla_reports::render(&samla.reports, "quality", "", chrono::Utc::now()).expect("report")
    else {
        panic!("json asked for")
    };
    let after: serde_json::Value = serde_json::from_reader(after).expect("json");
    assert_eq!(
        after["datasets"].as_array().map_or(0, Vec::len) as u64,
        samla.index.len()
    );
}

/// Harvested titles, keywords, search queries and data requests that a spreadsheet would run
/// as formulas reach every CSV table of every report neutralised, as Python's `csv` module
/// reads them, and without control characters; a `javascript:` landing page never becomes a
/// link in the Atom feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_exports_and_feeds_cannot_attack_their_reader() {
    let hostile = [
        "=HYPERLINK(\"http://evil.example/\",\"Klicka\")",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
    ];
    let mut ttl = String::from(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n",
    );
    for (i, title) in hostile.iter().enumerate() {
        let title = title.replace('\\', "\\\\").replace('"', "\\\"");
        ttl.push_str(&format!(
            "<https://malmo.se/data/ds{i}> a dcat:Dataset ; dct:title \"{title}\"@sv ; \
             dct:description \"Beskrivning\\u0001med\\u0007styrtecken\"@sv ; dcat:keyword \"{title}\"@sv ; \
             dcat:landingPage <javascript:alert({i})> ; \
             dct:publisher <http://dataportal.se/organisation/SE2120001124> .\n"
        ));
    }
    let router = axum::Router::new().route(
        "/catalog.ttl",
        axum::routing::get(move || async move { ([("content-type", "text/turtle")], ttl) }),
    );
    let base = serve(router).await;
    let toml = crate::support::malmo_region(&format!("{base}/catalog.ttl"));
    let (samla, _state) = crate::support::harvested(&toml).await;
    assert_eq!(samla.index.len(), 4);
    let api = serve(samla_api::router(samla.api_state())).await;
    let client = reqwest::Client::new();
    for what in hostile {
        let response = client
            .post(format!("{api}/api/v1/requests"))
            .header("content-type", "application/json")
            .body(serde_json::json!({"what": what, "organisation_type": "company"}).to_string())
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), 201);
        let q: String = url::form_urlencoded::byte_serialize(what.as_bytes()).collect();
        let searched = client
            .get(format!("{api}/api/v1/datasets?q={q}"))
            .send()
            .await
            .expect("search");
        assert_eq!(searched.status().as_u16(), 200);
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    let tables: [(&str, &[&str]); 6] = [
        ("quality", samla_reports::quality::TABLES),
        ("coverage", samla_reports::coverage::TABLES),
        ("freshness", samla_reports::freshness::TABLES),
        ("harvest", samla_reports::health::TABLES),
        ("demand", samla_reports::demand::TABLES),
        ("hvd", samla_reports::hvd::TABLES),
    ];
    // The search log is written off the request path: wait for it in the demand report.
    for _ in 0..50 {
        let (_, body) = get_text(format!(
            "{api}/api/v1/reports/demand?format=csv&table=queries"
        ))
        .await;
        if body.lines().count() > 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for (report, tables) in tables {
        for table in tables {
            let (status, body) = get_text(format!(
                "{api}/api/v1/reports/{report}?format=csv&table={table}"
            ))
            .await;
            assert_eq!(status, 200, "{report} {table}: {body}");
            let path = dir.path().join(format!("{report}-{table}.csv"));
            std::fs::write(&path, body).expect("write");
            files.push(path.to_string_lossy().into_owned());
        }
    }
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let read = crate::interfaces::python("csv_cells.py", &args);
    assert!(read["cells"].as_u64().unwrap_or(0) > 100, "{read}");
    assert_eq!(read["offending"], serde_json::json!([]), "{read}");
    // The hostile titles and requests are there, neutralised: in the quality table of datasets,
    // the hints, and the requests.
    let neutralised = read["neutralised"].as_array().expect("list");
    for text in hostile {
        assert!(
            neutralised
                .iter()
                .any(|c| c.as_str() == Some(&format!("'{text}"))),
            "{text} not found neutralised: {read}"
        );
    }

    let (status, atom) = get_text(format!("{api}/api/v1/datasets.atom")).await;
    assert_eq!(status, 200);
    let doc = roxmltree::Document::parse(&atom).expect("atom");
    let hrefs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("link"))
        .filter_map(|n| n.attribute("href"))
        .collect();
    assert!(hrefs.len() >= 8, "{hrefs:?}");
    assert!(
        hrefs
            .iter()
            .all(|h| h.starts_with("http://") || h.starts_with("https://")),
        "{hrefs:?}"
    );
}

/// An organisation whose catalog could not be read is "unknown", not "publishes none": in the
/// matrix, its counts, the CSV, "who publishes …?" and the page; one that was read before
/// and fails now keeps its datasets and is unknown since its last good run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_tells_unknown_from_none() {
    use samla_reports::coverage::{ReadState, coverage_report};
    let r = region(300).await;
    r.harvest().await;
    let code_of = |name: &str| {
        r.samla
            .directory
            .organisations()
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.code.clone())
            .expect(name)
    };
    let (osby, lund) = (code_of("Osby kommun"), code_of("Lunds kommun"));
    let report = coverage_report(&r.samla.reports, chrono::Utc::now(), None).expect("coverage");
    let row = |m: &samla_reports::coverage::Matrix, code: &str| {
        m.rows.iter().find(|r| r.code == code).cloned().expect(code)
    };
    // Osby answers 500 and was never read: unknown, with nothing held.
    let osby_row = row(&report.theme, &osby);
    assert_eq!(osby_row.reading.state, ReadState::NeverRead);
    assert_eq!(osby_row.datasets, 0);
    for m in [&report.conforms_to, &report.hvd_category, &report.theme] {
        for r in m.rows.iter().filter(|r| r.code != osby) {
            assert_eq!(r.reading.state, ReadState::Read, "{}", r.name);
        }
        // A column's unknown organisations: those with none there that were not read.
        for (i, c) in m.columns.iter().enumerate() {
            let unknown = m
                .rows
                .iter()
                .filter(|r| r.cells[i].datasets == 0 && !r.reading.known())
                .count() as u64;
            assert_eq!((c.unknown, unknown), (1, 1), "{}", c.label);
        }
    }
    samla_reports::coverage::take_snapshot(&r.samla.reports, chrono::Utc::now()).expect("snapshot");
    let history = samla_reports::coverage::history(&r.samla.reports).expect("history");
    assert_eq!(history.last().map(|s| s.unknown), Some(1));
    let lund_before = row(&report.theme, &lund);
    assert!(lund_before.datasets > 0 && lund_before.reading.known());

    // Lund's server fails at the next harvest: it keeps its datasets, and what it publishes
    // now is unknown since its last good run.
    let lund_source = r
        .samla
        .config
        .sources
        .iter()
        .find(|s| s.organisation == lund)
        .map(|s| s.id.clone())
        .expect("Lund's source");
    let last_good = r.samla.store.runs(&lund_source, 1).expect("runs")[0].finished;
    r.simulator.set_failing("lund", true);
    r.harvest().await;
    let report = coverage_report(&r.samla.reports, chrono::Utc::now(), None).expect("coverage");
    let lund_after = row(&report.theme, &lund);
    assert_eq!(lund_after.reading.state, ReadState::Failing);
    assert_eq!(lund_after.reading.since, Some(last_good));
    assert_eq!(lund_after.datasets, lund_before.datasets, "nothing lost");

    // What a person reads: the page, "who publishes …?" and the CSV say the same.
    let api = serve(samla_api::router(r.samla.api_state())).await;
    let (status, page) = get_text(format!("{api}/coverage?by=theme")).await;
    assert_eq!(status, 200);
    let day = last_good.format("%Y-%m-%d").to_string();
    assert!(
        page.contains("okänt: katalogen har aldrig kunnat läsas"),
        "Osby"
    );
    assert!(
        page.contains(&format!(
            "okänt: katalogen har inte kunnat läsas sedan {day}"
        )),
        "Lund"
    );
    assert!(page.contains("class=\"legend\""));
    let (_, who) = get_text(format!("{api}/coverage?by=theme&q=laddplatser&lang=en")).await;
    let publishers = &who[who.find("id=\"publishers\"").expect("publishers table")..];
    // The organisations with none come first, in Swedish name order (Å, Ä, Ö last).
    let names: Vec<&str> = publishers
        .split("<th scope=\"row\">")
        .skip(1)
        .filter_map(|row| {
            let name = row.split("</a>").next()?.rsplit('>').next()?;
            let none = !row.split("</tr>").next()?.contains("<td>");
            none.then_some(name)
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| samla_model::region::swedish_order(n));
    assert!(names.len() > 5, "{names:?}");
    assert_eq!(names, sorted);
    let osby_at = publishers
        .find(">Osby kommun<")
        .expect("Osby in who publishes");
    let osby_line = &publishers[osby_at..];
    let osby_line = &osby_line[..osby_line.find("</tr>").expect("row end")];
    assert!(
        osby_line.contains("unknown: its catalog has never been read")
            && !osby_line.contains("publishes nothing"),
        "{osby_line}"
    );
    let (_, csv) = get_text(format!(
        "{api}/api/v1/reports/coverage?format=csv&table=matrix&by=theme"
    ))
    .await;
    let (_, rows) = csv_rows(&csv);
    let read_of = |code: &str| {
        rows.iter()
            .find(|r| &r[0] == code)
            .map(|r| (r[3].to_string(), r[4].to_string()))
            .expect(code)
    };
    assert_eq!(read_of(&osby), ("never_read".to_string(), String::new()));
    assert_eq!(read_of(&lund), ("failing".to_string(), day));
}

/// The HVD report against the stored graphs themselves: which datasets are high-value, and
/// whether each has an open licence, a download or an API, and the regulation named, summed
/// per organisation and category; the page and the CSV say the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hvd_report_reads_the_requirements_from_the_records() {
    let r = region(600).await;
    r.harvest().await;
    const R5R: &str = "http://data.europa.eu/r5r/";
    const DCAT: &str = "http://www.w3.org/ns/dcat#";
    const LICENSE: &str = "http://purl.org/dc/terms/license";
    let open = [
        "http://creativecommons.org/licenses/by/4.0/",
        "https://creativecommons.org/licenses/by/4.0",
        "https://creativecommons.org/licenses/by/4.0/",
        "http://creativecommons.org/publicdomain/zero/1.0/",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ];
    // id → (categories, open licence, a download URL, the regulation named)
    let mut expected = std::collections::BTreeMap::new();
    r.samla
        .store
        .for_each_dataset(|d| {
            let triples = samla_model::record::parse_canonical(&d.ntriples).expect("stored");
            let objects = |s: &str, p: &str| -> Vec<String> {
                triples
                    .iter()
                    .filter(|t| {
                        t.subject.to_string() == format!("<{s}>") && t.predicate.as_str() == p
                    })
                    .map(|t| match &t.object {
                        oxrdf::Term::NamedNode(n) => n.as_str().to_string(),
                        other => other.to_string(),
                    })
                    .collect()
            };
            let categories = objects(&d.iri, &format!("{R5R}hvdCategory"));
            if categories.is_empty() {
                return;
            }
            let distributions = objects(&d.iri, &format!("{DCAT}distribution"));
            let licences: Vec<String> = objects(&d.iri, LICENSE)
                .into_iter()
                .chain(distributions.iter().flat_map(|x| objects(x, LICENSE)))
                .collect();
            let download = distributions
                .iter()
                .any(|x| !objects(x, &format!("{DCAT}downloadURL")).is_empty());
            let legislation = objects(&d.iri, &format!("{R5R}applicableLegislation"))
                .iter()
                .any(|l| l == samla_model::labels::HVD_REGULATION);
            let licensed =
                !licences.is_empty() && licences.iter().all(|l| open.contains(&l.as_str()));
            expected.insert(
                d.id.clone(),
                (
                    d.municipality_code.clone(),
                    categories,
                    licensed,
                    download,
                    legislation,
                ),
            );
        })
        .expect("datasets");

    let report =
        samla_reports::hvd::hvd_report(&r.samla.reports, chrono::Utc::now(), None).expect("hvd");
    assert_eq!(report.datasets.len(), expected.len());
    let (mut meeting, mut without_legislation, mut without_licence) = (0, 0, 0);
    for d in &report.datasets {
        let (code, categories, licensed, download, legislation) = &expected[&d.id];
        assert_eq!(&d.municipality_code, code, "{}", d.id);
        assert_eq!(&d.categories, categories, "{}", d.id);
        assert_eq!(d.open_licence, *licensed, "{}", d.id);
        assert_eq!(d.legislation, *legislation, "{}", d.id);
        // A download URL is enough; an API (a data service, an API's address) counts too.
        assert!(d.api_or_download || !download, "{}", d.id);
        meeting += u64::from(d.meets());
        without_legislation += u64::from(!d.legislation);
        without_licence += u64::from(!d.open_licence);
    }
    assert!(
        meeting > 0 && without_legislation > 0 && without_licence > 0,
        "the region has HVD datasets that meet the requirements and some that do not: \
         {meeting} meeting, {without_legislation} without the regulation, {without_licence} without an open licence"
    );
    for o in &report.organisations {
        let mine: Vec<_> = report
            .datasets
            .iter()
            .filter(|d| d.municipality_code.as_deref() == Some(o.code.as_str()))
            .collect();
        assert_eq!(o.datasets, mine.len() as u64, "{}", o.name);
        assert_eq!(o.meeting, mine.iter().filter(|d| d.meets()).count() as u64);
        for c in &o.categories {
            let here: Vec<_> = mine
                .iter()
                .filter(|d| d.categories.contains(&c.category))
                .collect();
            assert_eq!(
                (c.datasets, c.meeting),
                (
                    here.len() as u64,
                    here.iter().filter(|d| d.meets()).count() as u64
                ),
                "{} {}",
                o.name,
                c.label
            );
        }
    }

    let api = serve(samla_api::router(r.samla.api_state())).await;
    let (status, page) = get_text(format!("{api}/hvd")).await;
    assert_eq!(status, 200);
    for o in &report.organisations {
        assert!(page.contains(&o.name), "{} on the page", o.name);
    }
    let best = report
        .organisations
        .iter()
        .max_by_key(|o| o.meeting)
        .expect("organisations");
    let c = best
        .categories
        .iter()
        .find(|c| c.meeting > 0)
        .expect("a category met");
    assert!(page.contains(&format!("{} / {}", c.meeting, c.datasets)));
    let (_, csv) = get_text(format!(
        "{api}/api/v1/reports/hvd?format=csv&table=datasets"
    ))
    .await;
    let (header, rows) = csv_rows(&csv);
    assert_eq!(header.last().map(String::as_str), Some("meets"));
    assert_eq!(rows.len(), report.datasets.len());
    assert_eq!(
        rows.iter()
            .filter(|r| &r[header.len() - 1] == "yes")
            .count() as u64,
        meeting
    );
    let (_, csv) = get_text(format!(
        "{api}/api/v1/reports/hvd?format=csv&table=organisations"
    ))
    .await;
    let (_, rows) = csv_rows(&csv);
    assert_eq!(rows.len(), 34 * samla_model::labels::HVD_CATEGORIES.len());
}

/// samla's id of a simulated dataset (a UUID identifier, else its IRI); a blank-node
/// dataset's is looked up among the stored records of its organisation.
fn sim_id(r: &crate::support::Region, d: &samla_simulator::SimDataset) -> String {
    if let Ok(u) = uuid::Uuid::parse_str(&d.identifier) {
        return u.hyphenated().to_string();
    }
    match &d.iri {
        Some(iri) => iri.clone(),
        None => {
            let mut found = Vec::new();
            r.samla
                .store
                .for_each_dataset(|s| {
                    if s.municipality_code.as_deref() == Some(d.organisation_code.as_str())
                        && s.iri.starts_with("urn:samla:genid:")
                    {
                        found.push(s.id);
                    }
                })
                .expect("store");
            assert_eq!(
                found.len(),
                1,
                "one blank-node dataset of {}",
                d.organisation_code
            );
            found.remove(0)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_report_lists_exactly_what_the_simulated_portal_lacks() {
    let r = crate::support::region(1200).await;
    r.harvest().await;
    let api = crate::support::serve_api(&r.samla).await;
    // Before the portal is read, nothing is known: no dataset is called missing.
    let unknown = crate::support::get_json(format!("{api}/api/v1/reports/national")).await;
    assert!(unknown["portal"].is_null(), "{unknown}");
    assert_eq!(unknown["missing"], serde_json::json!([]));
    let (_, page) = crate::support::get_text(format!("{api}/national")).await;
    assert!(page.contains("id=\"national-unknown\""), "{page}");

    let (run, listed) = r
        .samla
        .harvest_national(tokio_util::sync::CancellationToken::new())
        .await
        .expect("harvest")
        .expect("a national portal is configured");
    assert_eq!(run.outcome, samla_model::run::Outcome::Success, "{run:?}");
    let report = crate::support::get_json(format!("{api}/api/v1/reports/national")).await;
    assert_eq!(report["listed"], listed);
    let ids = |key: &str| -> std::collections::BTreeSet<String> {
        report[key]
            .as_array()
            .expect(key)
            .iter()
            .map(|d| d["id"].as_str().expect("id").to_string())
            .collect()
    };
    let expected = |list: &[samla_simulator::SimDataset]| -> std::collections::BTreeSet<String> {
        list.iter().map(|d| sim_id(&r, d)).collect()
    };
    let lacks = r.simulator.national_lacks();
    assert!(lacks.len() > 20, "the portal lacks some: {}", lacks.len());
    assert_eq!(ids("missing"), expected(&lacks));
    let (only, stale) = r.simulator.national_only_and_stale();
    assert!(!only.is_empty() && !stale.is_empty());
    assert_eq!(ids("national_only"), expected(&only));
    assert_eq!(ids("different"), expected(&stale));
    for d in report["different"].as_array().expect("different") {
        assert_eq!(d["differs"], serde_json::json!(["modified"]), "{d}");
    }
    // Each organisation's counts add up to its datasets.
    for o in report["organisations"].as_array().expect("organisations") {
        let n = |k: &str| o[k].as_u64().expect(k);
        assert_eq!(
            n("same") + n("different") + n("missing"),
            n("regional"),
            "{o}"
        );
    }
    // The CSV has a row per missing dataset; the page names them.
    let (status, csv) = crate::support::get_text(format!(
        "{api}/api/v1/reports/national?format=csv&table=missing"
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), lacks.len() + 1);
    let (_, page) = crate::support::get_text(format!("{api}/national")).await;
    assert!(page.contains("id=\"national-missing\""), "{page}");
    // Nothing of the portal is searchable.
    let hits = r.search("", &[]).total;
    assert_eq!(hits as u64, r.samla.index.len());
    assert!(
        only.iter().all(|d| r
            .samla
            .store
            .winner(&sim_id(&r, d))
            .expect("store")
            .is_none()),
        "a dataset only the portal lists is not in the store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demand_counts_each_client_once_leaves_noise_out_and_groups_spellings() {
    let r = region(300).await;
    r.harvest().await;
    let api = crate::support::serve_api(&r.samla).await;
    let client = reqwest::Client::new();
    let mut sent = 0u64;
    let mut search = |agent: String, q: &str| {
        sent += 1;
        let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let request = client
            .get(format!("{api}/api/v1/datasets?q={q}"))
            .header("user-agent", agent);
        async move {
            let response = request.send().await.expect("search");
            assert_eq!(response.status(), 200);
            let body: Value =
                serde_json::from_str(&response.text().await.expect("body")).expect("json");
            body["total"].as_u64().expect("total")
        }
    };
    // One person reloading a search three times, and another once: two searches.
    for _ in 0..3 {
        search("person-a".into(), "badplatser").await;
    }
    let found = search("person-b".into(), "badplatser").await;
    assert!(found > 0);
    // Three spellings of one missing thing, by three people: one group.
    for (who, q) in [
        ("c", "kvantdatorpark"),
        ("d", "kvantdator park"),
        ("e", "kvantdator-park"),
    ] {
        assert_eq!(search(format!("person-{who}"), q).await, 0, "{q}");
    }
    // Queries without a letter, and a script's seventy searches: counted, not listed.
    search("person-f".into(), "1280").await;
    search("person-f".into(), "??").await;
    for i in 0..70 {
        search("scanner".into(), &format!("skanning{i}")).await;
    }
    let distinct = 2 + 3 + 2 + 70;
    let mut d = Value::Null;
    for _ in 0..100 {
        d = get_json(format!("{api}/api/v1/reports/demand")).await;
        if d["searches"].as_u64().unwrap_or(0) + d["repeats"].as_u64().unwrap_or(0) >= sent {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(d["searches"], distinct, "{}", d["searches"]);
    assert_eq!(d["repeats"], 2);
    assert_eq!(d["noise"], 72);
    let top = d["top_queries"].as_array().expect("top");
    let badplatser = top
        .iter()
        .find(|q| q["query"] == "badplatser")
        .expect("listed");
    assert_eq!(badplatser["searches"], 2);
    assert!(
        top.iter().all(|q| {
            let q = q["query"].as_str().unwrap_or("");
            q.chars().any(char::is_alphabetic) && !q.starts_with("skanning")
        }),
        "{top:?}"
    );
    let groups = d["zero_result_groups"].as_array().expect("groups");
    let kvant = groups
        .iter()
        .find(|g| {
            g["queries"]
                .as_array()
                .is_some_and(|q| q.iter().any(|q| q == "kvantdatorpark"))
        })
        .expect("a group");
    assert_eq!(kvant["searches"], 3, "{kvant}");
    assert_eq!(
        kvant["queries"].as_array().map(Vec::len),
        Some(3),
        "{kvant}"
    );
    assert!(
        groups
            .iter()
            .all(|g| !g["stem"].as_str().unwrap_or("").starts_with("skanning"))
    );
    // What badplatser finds is mostly about a theme: its searches count for that theme,
    // though no word of the query names it.
    let facets = r.search("badplatser", &[]).facets;
    let (theme, n) = facets[&samla_indexer::Dimension::Theme][0].clone();
    assert!(n * 2 >= found, "one theme covers half the hits");
    let row = d["themes"]
        .as_array()
        .expect("themes")
        .iter()
        .find(|t| t["value"] == theme.as_str())
        .expect("the theme");
    assert!(row["searches"].as_u64().unwrap_or(0) >= 2, "{row}");
    // Nothing that names a person is stored: each client is a hash that changes daily.
    let stored = r
        .samla
        .store
        .searches_since(chrono::Utc::now() - chrono::Duration::days(1))
        .expect("searches");
    let visitors: std::collections::BTreeSet<&str> =
        stored.iter().map(|s| s.visitor.as_str()).collect();
    assert_eq!(visitors.len(), 7, "{visitors:?}");
    for v in visitors {
        assert!(
            v.len() == 32 && v.chars().all(|c| c.is_ascii_hexdigit()),
            "{v}"
        );
    }
}
