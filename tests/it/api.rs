//! The API through its router (no socket): search, detail, sources, and bad input.

use crate::support::region;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn get(router: &axum::Router, uri: &str, accept: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get(uri);
    if let Some(a) = accept {
        req = req.header(header::ACCEPT, a);
    }
    let response = router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_detail_sources_and_errors() {
    let r = region(300).await;
    r.harvest().await;
    let router = samla_api::router(r.samla.api_state());

    let (status, body) = get(
        &router,
        "/api/v1/datasets?q=badplatser&lang=en&per_page=5",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let v = json(&body);
    assert!(v["total"].as_u64().unwrap_or(0) > 5);
    assert_eq!(v["hits"].as_array().map(Vec::len), Some(5));
    assert_eq!(v["per_page"], 5);
    for facet in [
        "municipality",
        "publisher",
        "theme",
        "format",
        "license",
        "access_rights",
        "conforms_to",
        "hvd_category",
    ] {
        assert!(v["facets"][facet].is_array(), "facet {facet}");
    }
    let muni = &v["facets"]["municipality"][0];
    assert!(
        muni["label"]
            .as_str()
            .is_some_and(|l| l.contains("kommun") || l.contains("stad") || l.contains("Region")),
        "{muni}"
    );
    let theme_labels: Vec<&str> = v["facets"]["theme"]
        .as_array()
        .expect("themes")
        .iter()
        .filter_map(|t| t["label"].as_str())
        .collect();
    assert!(
        theme_labels.contains(&"Environment"),
        "English labels: {theme_labels:?}"
    );

    // Detail by id (percent-encoded IRIs work too), as JSON and as the canonical Turtle.
    let id = v["hits"][0]["id"].as_str().expect("id").to_string();
    let encoded: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let (status, body) = get(
        &router,
        &format!("/api/v1/datasets/{}", encoded.replace('+', "%20")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d = json(&body);
    assert_eq!(d["id"], Value::String(id.clone()));
    assert!(d["distributions"].as_array().is_some_and(|a| !a.is_empty()));
    let first = &d["provenance"][0];
    assert!(first["source_id"].is_string() && first["hash"].is_string());
    assert!(first["last_harvested"].is_string());
    assert_eq!(first["shown"], Value::Bool(true));
    let (status, turtle) = get(
        &router,
        &format!("/api/v1/datasets/{encoded}"),
        Some("text/turtle"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let parsed: Result<Vec<_>, _> = oxttl::TurtleParser::new()
        .for_slice(turtle.as_bytes())
        .collect();
    assert!(parsed.expect("the canonical graph is valid Turtle").len() > 5);

    let (status, body) = get(&router, "/api/v1/sources", None).await;
    assert_eq!(status, StatusCode::OK);
    let sources = json(&body);
    let osby = sources["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .find(|s| s["id"] == "osby")
        .expect("osby")
        .clone();
    assert_eq!(osby["organisation"]["code"], "1273");
    assert_eq!(osby["last_run"]["outcome"], "failed");
    assert_eq!(osby["last_run"]["problems"][0]["reason"], "http_status");

    for (uri, parameter) in [
        ("/api/v1/datasets?per_page=1000", "per_page"),
        ("/api/v1/datasets?page=-1", "page"),
        ("/api/v1/datasets?sort=newest", "sort"),
        ("/api/v1/datasets?lang=fi", "lang"),
        ("/api/v1/datasets?colour=red", "colour"),
        ("/api/v1/datasets?municipality=", "municipality"),
    ] {
        let (status, body) = get(&router, uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(json(&body)["error"]["parameter"], parameter, "{uri}");
    }
    let (status, _) = get(&router, "/api/v1/datasets/no-such-id", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&router, "/nowhere", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Query syntax and hostile text in q are only text.
    for q in [
        "title:(a OR",
        "\"unterminated",
        "<script>alert(1)</script>",
        "a AND NOT b^9 ~~ *:*",
        "%00%FF",
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let (status, _) = get(&router, &format!("/api/v1/datasets?q={encoded}"), None).await;
        assert_eq!(status, StatusCode::OK, "{q}");
    }
    let (status, body) = get(&router, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["status"], "ok");
}
