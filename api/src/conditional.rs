//! Conditional requests: `ETag` and `Last-Modified`, and 304 Not Modified for a client that
//! already has the answer.
//!
//! A tag is derived from what the store and index are at ([`samla_store::StoreVersion`]),
//! before any work, so an unchanged answer costs one small query:
//! - [`records`] (the exports and the CKAN API): the records, runs and index;
//! - [`reports`]: those, the reports' other facts and the hour (reports move with the clock).
//!
//! Tags are weak (`W/`): the compression layer may change the bytes, and a report made again
//! within the hour differs only in when it was made.

use crate::{AppState, blocking};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use std::hash::{BuildHasher, Hash, Hasher};

/// Distinguishes this process's tags from an earlier one's (its configuration, such as the
/// public URL the export's IRIs are built on, may have changed).
fn process_nonce() -> u64 {
    static NONCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *NONCE.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0u8))
}

/// A weak tag of `parts` and the request's representation (path, query and `Accept`: one
/// URL may answer in several formats).
fn tag(request: &Request, parts: impl Hash) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    parts.hash(&mut hasher);
    request.uri().hash(&mut hasher);
    request
        .headers()
        .get(header::ACCEPT)
        .map(HeaderValue::as_bytes)
        .hash(&mut hasher);
    format!("W/\"{:016x}\"", hasher.finish())
}

/// Whether `If-None-Match` names `tag` (weak comparison), or, without one, `If-Modified-Since`
/// is at or after `modified`.
fn fresh(headers: &HeaderMap, tag: &str, modified: Option<DateTime<Utc>>) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    if let Some(none_match) = headers.get(header::IF_NONE_MATCH) {
        let Ok(none_match) = none_match.to_str() else {
            return false;
        };
        return none_match
            .split(',')
            .any(|t| t.trim() == "*" || bare(t) == bare(tag));
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
    match (since, modified) {
        // HTTP dates have whole seconds.
        (Some(since), Some(modified)) => since.timestamp() >= modified.timestamp(),
        _ => false,
    }
}

fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The validators a response carries.
fn validate(headers: &mut HeaderMap, tag: &str, modified: Option<DateTime<Utc>>) {
    if let Ok(tag) = HeaderValue::from_str(tag) {
        headers.insert(header::ETAG, tag);
    }
    if let Some(at) = modified
        && let Ok(at) = HeaderValue::from_str(&http_date(at))
    {
        headers.insert(header::LAST_MODIFIED, at);
    }
    // Caches may keep the answer, and ask again each time.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

fn not_modified(tag: &str, modified: Option<DateTime<Utc>>) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    validate(response.headers_mut(), tag, modified);
    response
}

fn conditional(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// What an answer is derived from.
#[derive(Clone, Copy)]
enum Inputs {
    /// The shown records and runs, and the index (exports, the CKAN API).
    Records,
    /// Those, the reports' other facts (links, searches, requests, snapshots) and the clock
    /// to the hour (freshness, run ages and the demand window move with it). The answer made
    /// within the hour is the same but for its `as_of`, which a weak tag allows.
    Reports,
}

async fn versioned(state: AppState, inputs: Inputs, request: Request, next: Next) -> Response {
    if !conditional(request.method()) {
        return next.run(request).await;
    }
    let store = state.store.clone();
    let version = blocking(&state.work, move || {
        store
            .version()
            .map_err(|e| crate::ApiError::Internal(e.to_string()))
    });
    let Ok(version) = version.await else {
        return next.run(request).await;
    };
    let records = (
        process_nonce(),
        version.change_seq,
        version.runs,
        version.last_run.map(|t| t.timestamp_micros()),
        state.index.indexed_seq(),
    );
    let (tag, modified) = match inputs {
        Inputs::Records => (tag(&request, records), version.last_run),
        Inputs::Reports => {
            let hour = Utc::now().timestamp() / 3600;
            (tag(&request, (records, version.facts, hour)), None)
        }
    };
    if fresh(request.headers(), &tag, modified) {
        return not_modified(&tag, modified);
    }
    let mut response = next.run(request).await;
    if response.status() == StatusCode::OK {
        validate(response.headers_mut(), &tag, modified);
    }
    response
}

/// Middleware for the exports and the CKAN API: tags from the store's version and the index's
/// sequence; 304 before any work when the client has the current answer.
pub(crate) async fn records(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    versioned(state, Inputs::Records, request, next).await
}

/// Middleware for the reports: as [`records`], with the reports' other facts and the hour.
pub(crate) async fn reports(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    versioned(state, Inputs::Reports, request, next).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_are_compared_as_http_says() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T10:00:00.250Z")
            .expect("time")
            .with_timezone(&Utc);
        let headers = |pairs: &[(header::HeaderName, &str)]| {
            let mut h = HeaderMap::new();
            for (name, value) in pairs {
                h.insert(name, HeaderValue::from_str(value).expect("value"));
            }
            h
        };
        let tag = "W/\"00000000000000ab\"";
        assert!(fresh(&headers(&[(header::IF_NONE_MATCH, tag)]), tag, None));
        // Weak comparison: a strong tag with the same value matches.
        assert!(fresh(
            &headers(&[(header::IF_NONE_MATCH, "\"x\", \"00000000000000ab\"")]),
            tag,
            None
        ));
        assert!(!fresh(
            &headers(&[(header::IF_NONE_MATCH, "W/\"00000000000000ac\"")]),
            tag,
            None
        ));
        let date = http_date(at);
        assert_eq!(date, "Mon, 30 Nov 2026 10:00:00 GMT");
        assert!(fresh(
            &headers(&[(header::IF_MODIFIED_SINCE, &date)]),
            tag,
            Some(at)
        ));
        assert!(!fresh(
            &headers(&[(header::IF_MODIFIED_SINCE, "Mon, 30 Nov 2026 09:59:59 GMT")]),
            tag,
            Some(at)
        ));
        // If-None-Match decides when both are sent.
        assert!(!fresh(
            &headers(&[
                (header::IF_NONE_MATCH, "W/\"other\""),
                (header::IF_MODIFIED_SINCE, &date)
            ]),
            tag,
            Some(at)
        ));
    }
}
