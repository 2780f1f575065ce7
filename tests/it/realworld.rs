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
    let (mut harvested, mut refused, mut datasets) = (0, Vec::new(), 0);
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
        "realworld: {harvested} files harvested ({datasets} datasets), {} refused as malformed: {refused:?}",
        refused.len()
    );
    assert!(harvested >= 40, "{harvested}");
    for known_bad in [
        "fixtures/rdf/ckanext-dcat/dataset.ttl",
        "fixtures/rdf/ckanext-dcat/full_croissant_dataset.jsonld",
    ] {
        assert!(
            refused.iter().any(|p| p == known_bad),
            "{known_bad} does not parse as published"
        );
    }
}
