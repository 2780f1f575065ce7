//! Opt-in: the real published catalogs in `../shared/realworld/`, served over loopback.
//! Run with `cargo test --test it -- --ignored realworld` when that folder exists.
//!
//! For every file, what the file says (parsed directly) is set against what the harvest
//! kept: every dataset, with its titles, publisher and distributions. Files that do not parse
//! as published must give a clear `malformed_rdf` problem and crash nothing.

use crate::support::{harvester, run, serve, source};
use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use oxrdf::{NamedOrBlankNode, Term, Triple};
use samla_harvester::{Outcome, RdfFormat, parse_rdf};
use samla_model::vocab::{dcat, dcterms, rdf};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn realworld() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld")
}

const FOLDERS: &[&str] = &[
    "dcat-ap-se/exempel",
    "fixtures/rdf/swedish-real",
    "fixtures/rdf/ckanext-dcat",
    "fixtures/rdf/dcatde",
    "fixtures/rdf/ogdch",
    "fixtures/rdf/ogdch/conformant",
    "fixtures/rdf/ogdch/deprecated",
    "fixtures/rdf/semic-dcat-ap-3.0.1",
    "fixtures/rdf/semic-hvd-3.0.0",
    "fixtures/hydra",
];

fn format_of(path: &str) -> Option<RdfFormat> {
    match Path::new(path).extension()?.to_str()? {
        "ttl" => Some(RdfFormat::Turtle),
        "rdf" | "xml" => Some(RdfFormat::RdfXml),
        "jsonld" => Some(RdfFormat::JsonLd),
        "nt" => Some(RdfFormat::NTriples),
        _ => None,
    }
}

fn content_type(format: RdfFormat) -> &'static str {
    match format {
        RdfFormat::Turtle => "text/turtle",
        RdfFormat::RdfXml => "application/rdf+xml",
        RdfFormat::JsonLd => "application/ld+json",
        RdfFormat::NTriples => "application/n-triples",
    }
}

/// The file's bytes with example hosts pointed at the loopback server, so paging stays here.
fn served_bytes(path: &str, base: &str) -> Option<Vec<u8>> {
    let bytes = std::fs::read(realworld().join(path)).ok()?;
    Some(
        String::from_utf8_lossy(&bytes)
            .replace("http://example.com", base)
            .into_bytes(),
    )
}

fn objects<'a>(
    triples: &'a [Triple],
    s: &'a NamedOrBlankNode,
    p: oxrdf::NamedNodeRef<'a>,
) -> BTreeSet<String> {
    triples
        .iter()
        .filter(|t| &t.subject == s && t.predicate == p)
        .map(|t| match &t.object {
            Term::Literal(l) => l.value().to_string(),
            other => other.to_string(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opt-in: reads ../shared/realworld"]
async fn realworld_catalogs_keep_titles_publishers_and_distributions() {
    let root = realworld();
    assert!(root.is_dir(), "{} is missing", root.display());
    let base = serve(axum::Router::new().route(
        "/{*path}",
        axum::routing::get(
            |UrlPath(path): UrlPath<String>, headers: HeaderMap| async move {
                let base = format!(
                    "http://{}",
                    headers
                        .get(header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .unwrap_or_default()
                );
                match (served_bytes(&path, &base), format_of(&path)) {
                    (Some(body), Some(f)) => {
                        ([(header::CONTENT_TYPE, content_type(f))], body).into_response()
                    }
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            },
        ),
    ))
    .await;
    let h = harvester(64 << 20);
    let (mut harvested, mut refused, mut recovered, mut datasets) = (0, Vec::new(), Vec::new(), 0);
    for folder in FOLDERS {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        let mut files: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .map(|e| format!("{folder}/{}", e.file_name().to_string_lossy()))
            .filter(|p| format_of(p).is_some())
            .collect();
        files.sort();
        for path in files {
            let format = format_of(&path).expect("filtered");
            let url = format!("{base}/{path}");
            let bytes = served_bytes(&path, &base).expect("readable");
            let (report, records) = run(&h, &source("realworld", &url)).await;
            let direct = match parse_rdf(&bytes, format, &url) {
                Ok(parsed) => parsed.triples,
                Err(message) => {
                    assert_eq!(report.outcome, Outcome::Failed, "{path}: {message}");
                    assert_eq!(
                        report.problem_count("malformed_rdf"),
                        1,
                        "{path}: {report:?}"
                    );
                    assert!(records.is_empty(), "{path}");
                    refused.push(path);
                    continue;
                }
            };
            harvested += 1;
            if report.problem_count("malformed_statement") > 0 {
                // Read in part: what parsed is kept, the bad statements named, and nothing
                // is archived on its account.
                assert_eq!(report.outcome, Outcome::Partial, "{path}: {report:?}");
                recovered.push(path.clone());
            }
            let subjects: std::collections::HashSet<&NamedOrBlankNode> = direct
                .iter()
                .filter(|t| {
                    t.predicate == rdf::TYPE && t.object == Term::from(dcat::DATASET.into_owned())
                })
                .map(|t| &t.subject)
                .collect();
            assert_eq!(
                records.len() as u64 + report.problem_count("duplicate_dataset"),
                subjects.len() as u64,
                "{path}: every dataset is harvested: {report:?}"
            );
            datasets += records.len();
            for subject in subjects {
                let record = match subject {
                    NamedOrBlankNode::NamedNode(n) => records.iter().find(|r| r.iri == n.as_str()),
                    NamedOrBlankNode::BlankNode(_) => continue,
                };
                let Some(record) = record else { continue };
                let kept = samla_model::record::parse_canonical(&record.ntriples)
                    .expect("canonical graph parses");
                let me = NamedOrBlankNode::NamedNode(oxrdf::NamedNode::new_unchecked(
                    record.iri.clone(),
                ));
                assert_eq!(
                    objects(&kept, &me, dcterms::TITLE),
                    objects(&direct, subject, dcterms::TITLE),
                    "{path}: titles of {}",
                    record.iri
                );
                assert_eq!(
                    objects(&kept, &me, dcat::DISTRIBUTION_PROP).len(),
                    objects(&direct, subject, dcat::DISTRIBUTION_PROP).len(),
                    "{path}: distributions of {}",
                    record.iri
                );
                assert_eq!(
                    objects(&kept, &me, dcterms::PUBLISHER).len(),
                    objects(&direct, subject, dcterms::PUBLISHER).len(),
                    "{path}: publisher of {}",
                    record.iri
                );
                assert_eq!(
                    record.view.distributions.len(),
                    objects(&direct, subject, dcat::DISTRIBUTION_PROP).len()
                );
            }
        }
    }
    println!(
        "realworld: {harvested} files harvested ({datasets} datasets), {} of them read in part: \
         {recovered:?}; {} refused as malformed: {refused:?}",
        recovered.len(),
        refused.len()
    );
    assert!(harvested >= 40, "{harvested}");
    // A Turtle file with a bad statement is read in part; a JSON-LD one that breaks JSON-LD's
    // rules everywhere is refused.
    assert!(
        recovered
            .iter()
            .any(|p| p == "fixtures/rdf/ckanext-dcat/dataset.ttl"),
        "{recovered:?}"
    );
    assert!(
        refused
            .iter()
            .any(|p| p == "fixtures/rdf/ckanext-dcat/full_croissant_dataset.jsonld"),
        "{refused:?}"
    );
}

/// A package dict field with a DCAT-AP-SE home, and the predicate it must arrive as.
const CKAN_HOMES: &[(&str, &str)] = &[
    ("theme", "http://www.w3.org/ns/dcat#theme"),
    ("conforms_to", "http://purl.org/dc/terms/conformsTo"),
    ("frequency", "http://purl.org/dc/terms/accrualPeriodicity"),
    ("access_rights", "http://purl.org/dc/terms/accessRights"),
    ("language", "http://purl.org/dc/terms/language"),
    ("issued", "http://purl.org/dc/terms/issued"),
    ("modified", "http://purl.org/dc/terms/modified"),
    ("contact", "http://www.w3.org/ns/dcat#contactPoint"),
    ("publisher", "http://purl.org/dc/terms/publisher"),
    ("spatial_coverage", "http://purl.org/dc/terms/spatial"),
    ("temporal_coverage", "http://purl.org/dc/terms/temporal"),
    ("hvd_category", "http://data.europa.eu/r5r/hvdCategory"),
    (
        "applicable_legislation",
        "http://data.europa.eu/r5r/applicableLegislation",
    ),
    ("version", "http://www.w3.org/2002/07/owl#versionInfo"),
    ("provenance", "http://purl.org/dc/terms/provenance"),
    ("documentation", "http://xmlns.com/foaf/0.1/page"),
    (
        "alternate_identifier",
        "http://www.w3.org/ns/adms#identifier",
    ),
    ("tags", "http://www.w3.org/ns/dcat#keyword"),
];

/// Resource fields with a home on the distribution.
const RESOURCE_HOMES: &[(&str, &str)] = &[
    ("access_url", "http://www.w3.org/ns/dcat#accessURL"),
    ("download_url", "http://www.w3.org/ns/dcat#downloadURL"),
    ("license", "http://purl.org/dc/terms/license"),
    ("format", "http://purl.org/dc/terms/format"),
    ("rights", "http://purl.org/dc/terms/rights"),
    ("status", "http://www.w3.org/ns/adms#status"),
    ("availability", "http://data.europa.eu/r5r/availability"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opt-in: reads ../shared/realworld"]
async fn realworld_ckan_package_dicts_keep_every_field_with_a_dcat_home() {
    let dir = realworld().join("ckan/ckanext-dcat-examples");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("{} not found; skipped", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    let mut checked = 0;
    for path in files {
        let Ok(value) =
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(&path).expect("read"))
        else {
            continue;
        };
        let packages: Vec<serde_json::Value> = match value {
            serde_json::Value::Array(list) => list,
            other => vec![other],
        };
        // Package dicts only (the folder also has DCAT-JSON catalogs).
        let packages: Vec<serde_json::Value> = packages
            .into_iter()
            .filter(|p| {
                p.get("title").is_some() && (p.get("name").is_some() || p.get("id").is_some())
            })
            .collect();
        if packages.is_empty() {
            continue;
        }
        let body = serde_json::json!({"success": true, "result": {"count": packages.len(), "results": packages}}).to_string();
        let base = serve(axum::Router::new().route(
            "/api/3/action/package_search",
            axum::routing::get(
                move || async move { ([("content-type", "application/json")], body) },
            ),
        ))
        .await;
        let mut src = source("ckan", &base);
        src.protocol = samla_config::Protocol::Ckan;
        let (report, records) = run(&harvester(1 << 24), &src).await;
        let name = path.display();
        assert_eq!(report.outcome, Outcome::Success, "{name}: {report:?}");
        assert_eq!(records.len(), packages.len(), "{name}: every package");
        for (package, record) in packages.iter().zip({
            // Records come back ordered by id; match them to packages by title.
            let mut by_title = records.clone();
            by_title.sort_by_key(|r| {
                packages
                    .iter()
                    .position(|p| {
                        r.view
                            .title
                            .values()
                            .any(|t| Some(t.as_str()) == p["title"].as_str())
                    })
                    .unwrap_or(usize::MAX)
            });
            by_title
        }) {
            let title = package["title"].as_str().unwrap_or_default();
            assert!(
                record.view.title.values().any(|t| t == title),
                "{name}: title {title:?} kept"
            );
            let extras: Vec<&str> = package["extras"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["key"].as_str())
                .collect();
            for (field, predicate) in CKAN_HOMES {
                let present = package
                    .get(*field)
                    .is_some_and(|v| !v.is_null() && v != "" && v != &serde_json::json!([]))
                    || extras.contains(field);
                if present {
                    assert!(
                        record.ntriples.contains(&format!("> <{predicate}> ")),
                        "{name}: {field} → {predicate} kept for {title:?}"
                    );
                }
            }
            let resources = package["resources"].as_array().cloned().unwrap_or_default();
            assert_eq!(
                record.view.distributions.len(),
                resources.len(),
                "{name}: resources"
            );
            for resource in &resources {
                for (field, predicate) in RESOURCE_HOMES {
                    if resource
                        .get(*field)
                        .is_some_and(|v| !v.is_null() && v != "")
                    {
                        assert!(
                            record.ntriples.contains(&format!("> <{predicate}> ")),
                            "{name}: resource {field} → {predicate} kept"
                        );
                    }
                }
            }
            checked += 1;
        }
    }
    println!(
        "realworld CKAN: {checked} package dicts mapped with every field that has a DCAT-AP-SE home"
    );
    assert!(checked >= 8, "{checked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opt-in: reads ../shared/realworld"]
async fn realworld_entryscape_search_and_export_shapes_are_harvested() {
    let dir = realworld().join("entryscape/fuzzy-mcp-fixtures");
    let (Ok(search), Ok(export)) = (
        std::fs::read_to_string(dir.join("dataportal_search_datasets.json")),
        std::fs::read_to_string(dir.join("dataportal_metadata_recursive.json")),
    ) else {
        eprintln!("{} not found; skipped", dir.display());
        return;
    };
    // The fixture is one page of a larger search: its count is set to what it holds, as a
    // search of that one page would answer (a server answering every offset with the same
    // page is one that pages without end).
    let search = {
        let mut v: serde_json::Value = serde_json::from_str(&search).expect("search json");
        let held = v["resource"]["children"].as_array().map_or(0, Vec::len);
        v["results"] = held.into();
        v.to_string()
    };
    let base = serve(
        axum::Router::new()
            .route(
                "/store/search",
                axum::routing::get(move || async move {
                    ([("content-type", "application/json")], search)
                }),
            )
            .route(
                "/store/1/metadata/9",
                axum::routing::get(move || async move {
                    ([("content-type", "application/json")], export)
                }),
            ),
    )
    .await;
    let mut src = source("dataportal", &format!("{base}/store/"));
    src.protocol = samla_config::Protocol::Entryscape;
    let (report, records) = run(&harvester(1 << 24), &src).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert!(!records.is_empty());
    for r in &records {
        assert!(!r.view.title.is_empty(), "{}: title", r.iri);
        assert!(r.view.publisher.is_some(), "{}: publisher", r.iri);
    }
    // The export path: the recursive metadata in EntryStore's default RDF/JSON.
    src.url = url::Url::parse(&format!("{base}/store/1/metadata/9?recursive=dcat")).expect("url");
    let (report, records) = run(&harvester(1 << 24), &src).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(records.len(), 1);
    let v = &records[0].view;
    assert_eq!(v.title.get("sv").map(String::as_str), Some("Badplatser"));
    assert_eq!(v.distributions.len(), 2, "both distributions reached");
    assert!(v.contact_point.is_some() && v.publisher.is_some());
    println!(
        "realworld EntryScape: search {} datasets, export 1 dataset with {} distributions",
        report.datasets,
        v.distributions.len()
    );
}

/// samla's shipped DCAT-AP core shapes and the official DCAT-AP 3.0.1 core shapes give the
/// same verdict on every dataset of the real files; every official shapes file loads with no
/// constraint the validator would pass silently.
#[test]
#[ignore = "opt-in: reads ../shared/realworld"]
fn realworld_shacl_shipped_shapes_agree_with_the_official_dcat_ap_shapes() {
    use samla_model::shacl::Shapes;
    let shacl = realworld().join("shacl/dcat-ap-3.0.1");
    let read = |name: &str| std::fs::read_to_string(shacl.join(name)).expect("shapes file");
    for name in [
        "dcat-ap-SHACL.ttl",
        "html-shapes.ttl",
        "html-range.ttl",
        "html-shapes_recommended.ttl",
        "html-mdr-vocabularies.shape.ttl",
        "html-deprecateduris.ttl",
        "ranges.ttl",
    ] {
        let shapes = Shapes::from_turtle(&[&read(name)]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            shapes.unsupported.is_empty(),
            "{name}: {:?}",
            shapes.unsupported
        );
        assert!(!shapes.targeted().is_empty(), "{name}");
    }
    let official = Shapes::from_turtle(&[&read("html-shapes.ttl")]).expect("loads");
    let ours = Shapes::dcat_ap_core();
    let dir = crate::support::directory();
    let ctx = samla_model::SourceContext {
        source_id: "realworld",
        organisation_code: "1280",
        directory: &dir,
    };
    let (mut checked, mut violating) = (0, 0);
    for folder in FOLDERS {
        let Ok(entries) = std::fs::read_dir(realworld().join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.to_string_lossy().to_string();
            let Some(format) = format_of(&name) else {
                continue;
            };
            let bytes = std::fs::read(&path).expect("read");
            // Documents as published only: one read in part is not what its shapes describe.
            let Ok(parsed) = parse_rdf(&bytes, format, "http://example.com/") else {
                continue;
            };
            if parsed.incomplete {
                continue;
            }
            for record in samla_model::extract_datasets(parsed.triples, &ctx).records {
                let graph =
                    samla_model::record::parse_canonical(&record.ntriples).expect("canonical");
                let (a, b) = (ours.validate(&graph), official.validate(&graph));
                assert_eq!(
                    a.conforms, b.conforms,
                    "{name} {}: ours {:?} official {:?}",
                    record.iri, a.results, b.results
                );
                checked += 1;
                violating += usize::from(!b.conforms);
            }
        }
    }
    eprintln!("{checked} datasets, {violating} violate DCAT-AP 3 core");
    assert!(checked > 50, "{checked}");
}
