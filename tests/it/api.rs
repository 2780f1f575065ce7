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

/// The dimensions counted as facets (the others are yes/no or a few values each).
const FACETED: [&str; 8] = [
    "municipality",
    "publisher",
    "theme",
    "format",
    "license",
    "access_rights",
    "conforms_to",
    "hvd_category",
];

/// A search that must succeed, as JSON.
async fn search(router: &axum::Router, query: String) -> Value {
    let (status, body) = get(router, &format!("/api/v1/datasets?{query}"), None).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    json(&body)
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
    for facet in FACETED {
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

/// Filters people can type: a file type by its code, a licence by its id, a municipality by
/// name, a theme by its code find what the IRIs find; a value that names nothing is a 400
/// naming the parameter, never a silent empty result. Parameters that shared links pick up
/// (`fbclid`, `utm_*`) are ignored and `lang` is read in any case, in the API and the web UI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_take_codes_and_labels_and_refuse_what_names_nothing() {
    let r = region(300).await;
    r.harvest().await;
    let router = samla_api::router(r.samla.api_state());
    let total = |body: &str| json(body)["total"].as_u64().expect("total");
    let csv = "http://publications.europa.eu/resource/authority/file-type/CSV";
    let by_iri = get(
        &router,
        &format!(
            "/api/v1/datasets?format={}&municipality=1280",
            url::form_urlencoded::byte_serialize(csv.as_bytes()).collect::<String>()
        ),
        None,
    )
    .await;
    assert_eq!(by_iri.0, StatusCode::OK, "{}", by_iri.1);
    assert!(total(&by_iri.1) > 0, "Malmö has CSV datasets");
    for typed in [
        "/api/v1/datasets?format=CSV&municipality=malm%C3%B6",
        "/api/v1/datasets?format=csv&municipality=Malmo%20stad",
        "/api/v1/datasets?format=text%2Fcsv&municipality=1280&fbclid=abc&utm_source=x&lang=EN",
    ] {
        let (status, body) = get(&router, typed, None).await;
        assert_eq!(status, StatusCode::OK, "{typed}: {body}");
        assert_eq!(total(&body), total(&by_iri.1), "{typed}");
    }
    let licence = |v: &str| format!("/api/v1/datasets?license={v}");
    let (_, cc_iri) = get(
        &router,
        &licence("http%3A%2F%2Fcreativecommons.org%2Flicenses%2Fby%2F4.0%2F"),
        None,
    )
    .await;
    let (status, cc_id) = get(&router, &licence("cc-by-4.0"), None).await;
    assert_eq!(status, StatusCode::OK, "{cc_id}");
    assert_eq!(total(&cc_id), total(&cc_iri));
    assert!(total(&cc_id) > 0);
    let (status, tran) = get(&router, "/api/v1/datasets?theme=TRAN", None).await;
    assert_eq!(status, StatusCode::OK, "{tran}");
    assert!(total(&tran) > 0);

    for (bad, parameter) in [
        ("/api/v1/datasets?municipality=9999", "municipality"),
        ("/api/v1/datasets?format=NOTAFORMAT", "format"),
        ("/api/v1/datasets?license=my-own-words", "license"),
        ("/api/v1/datasets?theme=NOPE", "theme"),
    ] {
        let (status, body) = get(&router, bad, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(json(&body)["error"]["parameter"], parameter, "{body}");
    }
    let (status, page) = get(
        &router,
        "/?license=cc-by-4.0&lang=EN&fbclid=IwAR0x&utm_campaign=spring&gclid=1",
        Some("text/html"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // Hits name their licence; the page is in English.
    assert!(page.contains(" · CC BY 4.0</div>"), "{page}");
    assert!(page.contains("<html lang=\"en\">"), "{page}");
}

/// A misspelt word is corrected against the words of the indexed titles and keywords: the
/// search says what it searched for instead, in the API and the web UI; a query that finds
/// something as typed is not corrected, and one nothing is close to stays empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misspelt_words_are_corrected_and_said() {
    let r = region(300).await;
    r.harvest().await;
    let router = samla_api::router(r.samla.api_state());
    let (_, right) = get(&router, "/api/v1/datasets?q=badplatser", None).await;
    let right = json(&right);
    assert!(right["total"].as_u64().unwrap_or(0) > 0, "{right}");
    assert!(right.get("corrected").is_none(), "{right}");
    for (typed, meant) in [
        ("badplaster", "badplatser"),
        ("detalplaner", "detaljplaner"),
    ] {
        let (status, body) = get(&router, &format!("/api/v1/datasets?q={typed}"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let v = json(&body);
        assert_eq!(v["corrected"], meant, "{typed}: {v}");
        assert!(v["total"].as_u64().unwrap_or(0) > 0, "{typed}: {v}");
        if typed == "badplaster" {
            assert_eq!(
                v["total"], right["total"],
                "the same datasets as spelt right"
            );
        }
    }
    let (_, none) = get(&router, "/api/v1/datasets?q=xqzvwk", None).await;
    let none = json(&none);
    assert_eq!(none["total"], 0);
    assert!(none.get("corrected").is_none(), "{none}");
    let (status, page) = get(&router, "/?q=badplaster", Some("text/html")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Visar resultat för <strong>badplatser</strong>"),
        "{page}"
    );
}

/// The questions a company asks before it reuses data are filters and facets: may I use it
/// commercially, is the licence open, is there an API, is it free, is it kept up to date, is
/// the metadata good, does it cover the period I need. Each dimension's values split the
/// whole region, and a value that means nothing is a 400 naming its parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_questions_are_filters_and_facets() {
    let r = region(300).await;
    r.harvest().await;
    let router = samla_api::router(r.samla.api_state());
    let search = |query: String| search(&router, query);
    let total = |v: &serde_json::Value| v["total"].as_u64().expect("total");
    let all = search("per_page=1".into()).await;
    for (dim, values) in [
        ("reuse", &["commercial", "non_commercial", "unknown"][..]),
        ("open_licence", &["true", "false"]),
        ("api", &["true", "false"]),
        ("free", &["true", "false"]),
        ("quality", &["excellent", "good", "enough", "bad"]),
    ] {
        let facet: u64 = all["facets"][dim]
            .as_array()
            .unwrap_or_else(|| panic!("a {dim} facet: {all}"))
            .iter()
            .map(|v| v["count"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(facet, total(&all), "{dim}: every dataset has one value");
        let mut filtered = 0;
        for value in values {
            filtered += total(&search(format!("{dim}={value}&per_page=1")).await);
        }
        assert_eq!(filtered, total(&all), "{dim}: its values split the region");
    }
    for (dim, value) in [
        ("reuse", "non_commercial"),
        ("free", "false"),
        ("api", "true"),
        ("api", "false"),
    ] {
        let n = total(&search(format!("{dim}={value}")).await);
        assert!(n > 0 && n < total(&all), "{dim}={value}: {n}");
    }
    // Freshness is told at search time: on time and overdue, never more than the region.
    let fresh = total(&search("fresh=true".into()).await);
    let overdue = total(&search("fresh=false".into()).await);
    assert!(
        fresh > 0 && fresh + overdue <= total(&all),
        "{fresh} {overdue}"
    );
    let on_time = all["facets"]["fresh"]
        .as_array()
        .expect("fresh")
        .iter()
        .find(|v| v["value"] == "true")
        .map(|v| v["count"].as_u64().unwrap_or(0));
    assert_eq!(on_time, Some(fresh), "{all}");
    // Labels are taken as the values they name.
    assert_eq!(
        total(&search("quality=bra".into()).await),
        total(&search("quality=good".into()).await)
    );

    // The filter a company types: CSV, CC BY, commercial reuse, an API.
    let company =
        search("format=CSV&license=cc-by&reuse=commercial&api=true&per_page=100".into()).await;
    assert!(total(&company) > 0, "{company}");
    for hit in company["hits"].as_array().expect("hits") {
        assert_eq!(
            hit["license"], "http://creativecommons.org/licenses/by/4.0/",
            "{hit}"
        );
        assert!(
            hit["formats"]
                .as_array()
                .expect("formats")
                .iter()
                .any(|f| f == "http://publications.europa.eu/resource/authority/file-type/CSV"),
            "{hit}"
        );
    }
    assert_eq!(company["facets"]["api"][0]["value"], "true");
    assert_eq!(company["facets"]["api"].as_array().map(Vec::len), Some(1));

    // Temporal coverage that overlaps the period asked for, open ends included.
    for (from, to) in [("2021-06-01", "2021-06-30"), ("2016-01-01", "2016-12-31")] {
        let found = search(format!(
            "temporal_from={from}&temporal_to={to}&per_page=100"
        ))
        .await;
        let hits = found["hits"].as_array().expect("hits");
        assert!(!hits.is_empty(), "{from}–{to}: {found}");
        for hit in hits {
            let id = hit["id"].as_str().expect("id");
            let (_, body) = get(&router, &format!("/api/v1/datasets/{id}"), None).await;
            let temporal = &json(&body)["temporal"];
            let start = temporal["start"].as_str().unwrap_or("0000");
            let end = temporal["end"].as_str().unwrap_or("9999");
            assert!(start <= to && end >= from, "{from}–{to}: {temporal}");
        }
    }
    let (_, year) = get(
        &router,
        "/api/v1/datasets?temporal_from=2021&temporal_to=2021",
        None,
    )
    .await;
    let (_, days) = get(
        &router,
        "/api/v1/datasets?temporal_from=2021-01-01&temporal_to=2021-12-31",
        None,
    )
    .await;
    assert_eq!(
        total(&json(&year)),
        total(&json(&days)),
        "a year is its days"
    );

    for (bad, parameter) in [
        ("reuse=maybe", "reuse"),
        ("api=perhaps", "api"),
        ("free=", "free"),
        ("quality=superb", "quality"),
        ("fresh=2", "fresh"),
        ("temporal_from=last-year", "temporal_from"),
        ("temporal_from=2022&temporal_to=2021", "temporal_to"),
    ] {
        let (status, body) = get(&router, &format!("/api/v1/datasets?{bad}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(json(&body)["error"]["parameter"], parameter, "{body}");
    }

    // The web UI offers them as facets, and keeps them in its links.
    let (status, page) = get(
        &router,
        "/?format=CSV&license=cc-by&reuse=commercial&api=true",
        Some("text/html"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for words in [
        "Vidareanvändning",
        "Kommersiell användning tillåten",
        "Har API",
        "id=\"facet-quality\"",
        "Aktualitet",
    ] {
        assert!(page.contains(words), "{words}");
    }
}

/// The search box's suggestions: completions of a prefix from titles, keywords,
/// organisations, municipalities, themes and specifications, in either case and without
/// accents, from a later word of a title, across a typo, in the asked language.
/// The count beside a facet value is what a click on it finds, with or without a query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facet_counts_are_what_a_click_finds() {
    let r = region(300).await;
    r.harvest().await;
    let router = samla_api::router(r.samla.api_state());
    let search = |query: String| search(&router, query);
    let mut checked = 0;
    for (query, filtered) in [
        ("per_page=1", None),
        ("q=badplatser&per_page=1", None),
        ("q=parkering+trafik&format=CSV&per_page=1", Some("format")),
    ] {
        let found = search(query.to_string()).await;
        for dim in FACETED {
            if filtered == Some(dim) {
                continue;
            }
            let values = found["facets"][dim]
                .as_array()
                .unwrap_or_else(|| panic!("{query}: a {dim} facet: {found}"));
            // The largest values, and the smallest (one dataset, perhaps in one segment).
            let picked = values.iter().take(2).chain(values.iter().last());
            for value in picked {
                let name = value["value"].as_str().expect("value");
                let count = value["count"].as_u64().expect("count");
                let encoded =
                    url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>();
                let clicked = search(format!("{query}&{dim}={encoded}")).await;
                assert_eq!(
                    clicked["total"].as_u64(),
                    Some(count),
                    "{query}: {dim}={name}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "{checked} values checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_complete_what_is_typed() {
    let r = region(300).await;
    r.harvest().await;
    let router = samla_api::router(r.samla.api_state());
    let suggest = |query: &'static str| {
        let router = router.clone();
        async move {
            let (status, body) = get(&router, &format!("/api/v1/suggest?{query}"), None).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            let v = json(&body);
            v["suggestions"]
                .as_array()
                .expect("suggestions")
                .iter()
                .map(|s| {
                    (
                        s["text"].as_str().unwrap_or_default().to_string(),
                        s["kind"].as_str().unwrap_or_default().to_string(),
                        s["datasets"].as_u64().unwrap_or(0),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let texts =
        |s: &[(String, String, u64)]| s.iter().map(|(t, _, _)| t.clone()).collect::<Vec<_>>();
    let bad = suggest("q=badpl").await;
    let title = bad
        .iter()
        .find(|s| s.0 == "Badplatser" && s.1 == "title")
        .unwrap_or_else(|| panic!("{bad:?}"));
    let (_, found) = get(&router, "/api/v1/datasets?q=badplatser&per_page=1", None).await;
    assert!(title.2 > 0 && title.2 <= json(&found)["total"].as_u64().unwrap_or(0));
    // The most used names first.
    assert!(bad.windows(2).all(|w| w[0].2 >= w[1].2), "{bad:?}");
    assert_eq!(suggest("q=BADPL").await, bad, "case does not matter");
    assert!(texts(&suggest("q=malm").await).contains(&"Malmö stad".to_string()));
    assert!(
        texts(&suggest("q=tr%C3%A4d").await)
            .iter()
            .any(|t| t.starts_with("Träd") || t.contains("träd"))
    );
    assert!(
        texts(&suggest("q=elbil").await).contains(&"Laddplatser för elbilar".to_string()),
        "a later word of a title"
    );
    assert!(
        texts(&suggest("q=badplaster").await).contains(&"Badplatser".to_string()),
        "a typo"
    );
    let english = texts(&suggest("q=bath&lang=EN").await);
    assert!(
        english.contains(&"Bathing sites".to_string()),
        "{english:?}"
    );
    assert!(!english.contains(&"Badplatser".to_string()));
    assert!(suggest("q=xqzvwk").await.is_empty());
    assert!(suggest("q=%1F%00").await.is_empty());
    assert_eq!(suggest("q=b&limit=3").await.len(), 3);

    for (bad, parameter) in [
        ("/api/v1/suggest", "q"),
        ("/api/v1/suggest?q=a&q=b", "q"),
        ("/api/v1/suggest?q=a&limit=0", "limit"),
        ("/api/v1/suggest?q=a&limit=21", "limit"),
        ("/api/v1/suggest?q=a&lang=de", "lang"),
        ("/api/v1/suggest?q=a&size=3", "size"),
        ("/api/v1/datasets?q=a&q=b", "q"),
    ] {
        let (status, body) = get(&router, bad, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(json(&body)["error"]["parameter"], parameter, "{body}");
    }
    let long = format!("/api/v1/suggest?q={}", "a".repeat(513));
    assert_eq!(get(&router, &long, None).await.0, StatusCode::BAD_REQUEST);
}

/// English queries find Swedish datasets through the glossary, and compound words work both
/// ways: a word finds the compounds it is part of, a compound finds its parts. What matches
/// as typed ranks first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn english_and_compound_queries_find_what_they_mean() {
    let r = region(300).await;
    r.harvest().await;
    let router = samla_api::router(r.samla.api_state());
    let search = |q: &'static str, lang: &'static str| {
        let router = router.clone();
        async move {
            let (status, body) = get(
                &router,
                &format!(
                    "/api/v1/datasets?{}",
                    url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("q", q)
                        .append_pair("per_page", "100")
                        .append_pair("lang", lang)
                        .finish()
                ),
                None,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{q}: {body}");
            json(&body)
        }
    };
    let titles = |v: &serde_json::Value| -> Vec<String> {
        v["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| h["title"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // The kind of data a hit is: its landing page names it (`…/oppna-data/detaljplaner-4`).
    let topic = |h: &serde_json::Value| -> String {
        h["landing_page"]
            .as_str()
            .and_then(|l| l.rsplit('/').next())
            .map(|l| l.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-'))
            .unwrap_or_default()
            .to_string()
    };
    for (q, expected) in [
        ("zoning plans", "detaljplaner"),
        ("vattenkvalitet", "badvattenkvalitet"),
        ("gatuträd", "stadstrad"),
        ("busshållplatser", "hallplatser"),
        ("elbilsladdning", "laddplatser"),
        ("befolkningsstatistik", "befolkning"),
        ("budgetutfall", "budget"),
        ("school meals", "skolmat"),
        // Typed without accents, and with a little word between.
        ("stadstrad", "stadstrad"),
        ("badplatser i malmö", "badplatser"),
    ] {
        let v = search(q, "sv").await;
        let hits = v["hits"].as_array().expect("hits");
        let first: Vec<String> = hits.iter().take(3).map(topic).collect();
        assert!(
            !first.is_empty() && first.iter().all(|t| t == expected),
            "{q}: the first hits should be {expected}: {:?}",
            titles(&v)
        );
    }
    // Through translation below matches as typed: the datasets with an English title
    // "Bathing sites" come before those found only as "Badplatser".
    let english = search("bathing sites", "en").await;
    let swedish = search("badplatser", "sv").await;
    // Every bathing-site dataset the Swedish word finds, the English words find too.
    let ids = |v: &serde_json::Value, kind: &str| -> std::collections::BTreeSet<String> {
        v["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .filter(|h| kind.is_empty() || topic(h) == kind)
            .map(|h| h["id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let sites = ids(&swedish, "badplatser");
    assert!(!sites.is_empty());
    assert!(sites.is_subset(&ids(&english, "")), "{english}");
    let hits = english["hits"].as_array().expect("hits");
    let typed = |h: &serde_json::Value| {
        h["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Bathing sites"))
    };
    let first_translated = hits.iter().position(|h| !typed(h)).unwrap_or(hits.len());
    assert!(first_translated > 0, "{english}");
    assert!(
        hits[first_translated..].iter().all(|h| !typed(h)),
        "direct matches first: {:?}",
        titles(&english)
    );
    // A compound typed whole ranks its own kind of data above what only shares a part.
    let exact = search("badvattenkvalitet", "sv").await;
    let kinds: Vec<String> = exact["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(topic)
        .collect();
    let others = kinds
        .iter()
        .position(|t| t != "badvattenkvalitet")
        .unwrap_or(kinds.len());
    assert!(
        others > 0 && kinds[others..].iter().all(|t| t != "badvattenkvalitet"),
        "{:?}",
        titles(&exact)
    );
}

/// `modified_since` and `modified_until` keep the datasets modified within those days
/// (inclusive); a day that is not `YYYY-MM-DD`, or a range that ends before it starts, is a
/// 400 naming the parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_by_modification_date() {
    let r = region(300).await;
    r.harvest().await;
    let router = samla_api::router(r.samla.api_state());
    let total = |body: &str| json(body)["total"].as_u64().expect("total");
    let (_, all) = get(&router, "/api/v1/datasets?sort=modified&per_page=1", None).await;
    let newest = json(&all)["hits"][0]["modified"]
        .as_str()
        .expect("a modified date")
        .get(..10)
        .expect("a day")
        .to_string();
    let (_, whole) = get(&router, "/api/v1/datasets?modified_since=1900-01-01", None).await;
    let dated = total(&whole);
    assert!(dated > 0 && dated <= total(&all), "{dated}");
    let (status, day) = get(
        &router,
        &format!("/api/v1/datasets?modified_since={newest}&modified_until={newest}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{day}");
    let on_that_day = total(&day);
    assert!(
        on_that_day >= 1 && on_that_day < dated,
        "{on_that_day} of {dated}"
    );
    for hit in json(&day)["hits"].as_array().expect("hits") {
        assert!(
            hit["modified"]
                .as_str()
                .is_some_and(|m| m.starts_with(&newest)),
            "{hit}"
        );
    }
    let (_, later) = get(&router, "/api/v1/datasets?modified_since=2999-01-01", None).await;
    assert_eq!(total(&later), 0);
    // The web UI's links keep the range.
    let (status, page) = get(
        &router,
        &format!("/?modified_since={newest}&modified_until={newest}"),
        Some("text/html"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!(
            "modified_since={newest}&amp;modified_until={newest}"
        )),
        "{page}"
    );
    for (bad, parameter) in [
        (
            "/api/v1/datasets?modified_since=yesterday",
            "modified_since",
        ),
        (
            "/api/v1/datasets?modified_until=2024-13-01",
            "modified_until",
        ),
        (
            "/api/v1/datasets?modified_since=2024-02-01&modified_until=2024-01-01",
            "modified_until",
        ),
    ] {
        let (status, body) = get(&router, bad, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(json(&body)["error"]["parameter"], parameter, "{body}");
    }
}
