//! A protocol added through the `Protocol` trait alone: a made-up "line list" catalog (one
//! dataset a line, and a `next` line), harvested over loopback HTTP by the same run loop as
//! DCAT, CKAN and EntryScape: paging, normalising, conditional re-runs.

use crate::support::{collected, harvester, serve, source};
use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use oxrdf::{Literal, NamedNode, Triple};
use samla_harvester::{Bounds, Decoded, Fetched, Outcome, PageMemos, Protocol, Reason};
use samla_model::vocab::{dcat, dcterms, rdf};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use url::Url;

/// `dataset <id> <title…>` lines and an optional `next <url>` line, as plain text.
struct LineList;

impl Protocol for LineList {
    fn name(&self) -> &'static str {
        "line-list"
    }

    fn first_page(&self, source: &Url) -> Option<Url> {
        source.join("list?page=1").ok()
    }

    fn accept(&self) -> &'static str {
        "text/plain"
    }

    fn decode(&self, page: &Fetched, _: &Bounds<'_>) -> Result<Decoded, (Reason, String)> {
        let text = std::str::from_utf8(&page.body)
            .map_err(|e| (Reason::MalformedRdf, format!("not UTF-8: {e}")))?;
        let mut decoded = Decoded::default();
        let named =
            |iri: &str| NamedNode::new(iri).map_err(|e| (Reason::InvalidIri, e.to_string()));
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match line.split_once(' ') {
                Some(("next", url)) => decoded.next.push(url.trim().to_string()),
                Some(("dataset", rest)) => {
                    let (id, title) = rest
                        .split_once(' ')
                        .ok_or((Reason::MalformedRdf, format!("no title: {line:?}")))?;
                    let ds = named(&format!("https://example.org/dataset/{id}"))?;
                    decoded.triples.extend([
                        Triple::new(ds.clone(), rdf::TYPE, dcat::DATASET),
                        Triple::new(
                            ds.clone(),
                            dcterms::TITLE,
                            Literal::new_language_tagged_literal_unchecked(title, "sv"),
                        ),
                        Triple::new(
                            ds,
                            dcterms::PUBLISHER,
                            named("http://dataportal.se/organisation/SE2120001124")?,
                        ),
                    ]);
                }
                _ => {
                    return Err((
                        Reason::MalformedRdf,
                        format!("not a line of the list: {line:?}"),
                    ));
                }
            }
        }
        Ok(decoded)
    }
}

fn list_server() -> Router {
    Router::new().route(
        "/list",
        get(|Query(q): Query<HashMap<String, String>>, h: HeaderMap| async move {
            let (body, etag) = match q.get("page").map(String::as_str) {
                Some("1") => (
                    "dataset badplatser Badplatser i Malmö\ndataset parkering Parkeringsplatser\nnext /list?page=2\n",
                    "\"p1\"",
                ),
                Some("2") => ("dataset laddplatser Laddplatser för elbilar\n", "\"p2\""),
                _ => return StatusCode::NOT_FOUND.into_response(),
            };
            if h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag) {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            let headers = [(header::CONTENT_TYPE, "text/plain"), (header::ETAG, etag)];
            (headers, body).into_response()
        }),
    )
}

async fn run_list(
    base: &str,
    memos: &PageMemos,
) -> (samla_harvester::RunOutput, Vec<samla_model::DatasetRecord>) {
    let harvester = harvester(1 << 20);
    let source = source("lines", &format!("{base}/"));
    collected(|tx| {
        harvester.run_protocol(
            Arc::new(LineList),
            &source,
            memos,
            tx,
            CancellationToken::new(),
        )
    })
    .await
}

#[tokio::test]
async fn a_protocol_added_through_the_trait_is_harvested_paged_and_conditionally() {
    let base = serve(list_server()).await;

    let (output, records) = run_list(&base, &PageMemos::new()).await;
    assert_eq!(
        output.report.outcome,
        Outcome::Success,
        "{:?}",
        output.report
    );
    assert_eq!(output.report.pages, 2);
    assert_eq!(output.report.datasets, 3);
    let mut titles: Vec<String> = records
        .iter()
        .filter_map(|r| r.view.title.get("sv").cloned())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "Badplatser i Malmö",
            "Laddplatser för elbilar",
            "Parkeringsplatser"
        ]
    );
    // Normalised by the model as any other protocol's records: the publisher is resolved.
    assert!(
        records
            .iter()
            .all(|r| r.municipality_code.as_deref() == Some("1280"))
    );

    // Asked again with the memos: every page answers 304, nothing is sent, all still listed.
    let (again, resent) = run_list(&base, &output.pages).await;
    assert_eq!(
        again.report.outcome,
        Outcome::Unchanged,
        "{:?}",
        again.report
    );
    assert_eq!(again.report.pages_not_modified, 2);
    assert!(resent.is_empty());
    assert_eq!(again.reused.len(), 3);
}
