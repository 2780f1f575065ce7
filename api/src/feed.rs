//! `/api/v1/datasets.atom?…`: any search as an Atom feed, so a company can subscribe to
//! "new laddplatser datasets in Skåne". Same parameters as the search; entries link to the
//! dataset's page in the web UI and to its record in the API.

use crate::catalog::base_url;
use crate::params::SearchParams;
use crate::{ApiError, AppState};
use atom_syndication::{Entry, Feed, FixedDateTime, Link, Person, Text};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use samla_model::normalize;
use samla_model::view::pick;

/// Percent-encodes an id for a path segment.
pub(crate) fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn link(href: String, rel: &str, mime: Option<&str>) -> Link {
    Link {
        href,
        rel: rel.into(),
        mime_type: mime.map(str::to_string),
        ..Default::default()
    }
}

/// `GET /api/v1/datasets.atom`.
#[utoipa::path(get, path = "/api/v1/datasets.atom", tag = "datasets",
    params(crate::openapi::SearchQuery),
    responses(
        (status = 200, description = "The search as an Atom feed", content((String = "application/atom+xml"))),
        (status = 400, description = "A parameter is invalid; the body names it", body = crate::wire::ErrorBody),
    ))]
pub(crate) async fn search_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = query.unwrap_or_default();
    let mut params = SearchParams::parse(&query)?;
    // A subscription must never miss a dataset: the feed is ordered by when a dataset
    // appeared or changed in samla, newest first, and paged (RFC 5005), whatever `sort` says.
    params.sort = samla_indexer::SortOrder::Changed;
    let result = crate::run_search(&state, &params, crate::Demand::Skip).await?;
    let changed: std::collections::HashMap<String, chrono::DateTime<chrono::Utc>> =
        crate::winners(&state, &result.hits)
            .await?
            .into_iter()
            .map(|d| (d.id, d.last_changed))
            .collect();
    let base = base_url(&state, &headers);
    let lang = params.lang.as_str();
    let mut entries = Vec::new();
    for hit in &result.hits {
        // When samla saw it appear or change: the order of the feed.
        let updated: FixedDateTime = changed
            .get(&hit.id)
            .copied()
            .or_else(|| hit.modified.as_deref().and_then(normalize::date))
            .unwrap_or_default()
            .fixed_offset();
        let id = segment(&hit.id);
        let mut links = vec![
            link(
                format!("{base}/dataset/{id}"),
                "alternate",
                Some("text/html"),
            ),
            link(
                format!("{base}/api/v1/datasets/{id}"),
                "related",
                Some("application/json"),
            ),
        ];
        if let Some(page) = hit.landing_page.as_deref().and_then(crate::safe_url) {
            links.push(link(page, "via", None));
        }
        let publisher = hit
            .publisher
            .as_ref()
            .and_then(|p| pick(&p.name, lang))
            .unwrap_or("okänd utgivare");
        entries.push(Entry {
            id: hit.uri.clone(),
            title: Text::plain(pick(&hit.title, lang).unwrap_or(&hit.id)),
            updated,
            summary: pick(&hit.description, lang).map(Text::plain),
            authors: vec![Person {
                name: publisher.to_string(),
                ..Default::default()
            }],
            links,
            ..Default::default()
        });
    }
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or_else(|| chrono::Utc::now().fixed_offset());
    let title = match params.q.as_deref() {
        Some(q) => format!("samla – {}: {q}", state.region_name),
        None => format!("samla – {}", state.region_name),
    };
    let page_href = |page: usize| {
        let query = crate::params::with_page(&query, (page > 1).then_some(page));
        format!("{base}/api/v1/datasets.atom?{query}")
    };
    let last = result
        .total
        .div_ceil(params.per_page)
        .clamp(1, crate::params::MAX_DEPTH / params.per_page);
    let mut links = vec![
        link(page_href(params.page), "self", Some("application/atom+xml")),
        link(format!("{base}/?{query}"), "alternate", Some("text/html")),
        link(page_href(1), "first", Some("application/atom+xml")),
        link(page_href(last), "last", Some("application/atom+xml")),
    ];
    if params.page > 1 {
        links.push(link(
            page_href(params.page - 1),
            "previous",
            Some("application/atom+xml"),
        ));
    }
    if params.page < last {
        links.push(link(
            page_href(params.page + 1),
            "next",
            Some("application/atom+xml"),
        ));
    }
    let feed = Feed {
        // One id for every page of the feed (RFC 5005: the pages are one feed).
        id: page_href(1),
        title: Text::plain(title),
        updated,
        lang: Some(lang.to_string()),
        links,
        entries,
        ..Default::default()
    };
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        feed.to_string(),
    )
        .into_response())
}
