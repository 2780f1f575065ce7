//! A CKAN-compatible Action API under `/api/3/action/`: `package_search`, `package_show`,
//! `organization_list`, `organization_show`, `tag_list` and `status_show`, with CKAN's
//! envelope (`help`, `success`, `result`) and error shapes (`__type` and a message; 404 for
//! "Not Found Error", 409 for "Validation Error"), GET with parameters or POST with a JSON
//! body, so CKAN clients work unchanged.
//!
//! A package is a dataset as ckanext-dcat maps DCAT to CKAN: `notes` is the description,
//! `url` the landing page, `resources` the distributions, `extras` the DCAT properties CKAN
//! has no field for; the `organization` is the municipality or organisation of the region.

use crate::{AppState, blocking};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use samla_indexer::{Dimension, SearchRequest, SortOrder};
use samla_model::view::pick;
use samla_model::{Organisation, labels, normalize, record};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Rows a search returns at most.
const MAX_ROWS: usize = 100;

/// A CKAN error: its `__type`, HTTP status and body fields.
#[derive(Debug)]
pub(crate) struct CkanError {
    status: StatusCode,
    kind: &'static str,
    fields: Map<String, Value>,
}

impl CkanError {
    fn not_found(message: impl Into<String>) -> Self {
        let mut fields = Map::new();
        fields.insert("message".into(), json!(message.into()));
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "Not Found Error",
            fields,
        }
    }

    /// A field that is wrong, as CKAN's validation errors name it: `{"rows": ["…"]}`.
    fn validation(field: &str, message: impl Into<String>) -> Self {
        let mut fields = Map::new();
        fields.insert(field.into(), json!([message.into()]));
        Self {
            status: StatusCode::CONFLICT,
            kind: "Validation Error",
            fields,
        }
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        let mut fields = Map::new();
        fields.insert("message".into(), json!("internal error"));
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "Internal Error",
            fields,
        }
    }
}

fn help(action: &str) -> String {
    format!("/api/3/action/help_show?name={action}")
}

fn envelope(action: &str, result: Result<Value, CkanError>) -> Response {
    match result {
        Ok(result) => axum::Json(json!({"help": help(action), "success": true, "result": result}))
            .into_response(),
        Err(e) => {
            let mut error = e.fields;
            error.insert("__type".into(), json!(e.kind));
            (
                e.status,
                axum::Json(json!({"help": help(action), "success": false, "error": error})),
            )
                .into_response()
        }
    }
}

/// The action's parameters: the query string, and a JSON object or form body on POST.
fn parameters(
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>, CkanError> {
    let mut params = Map::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        params.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let content_type = crate::content_type(headers);
    if content_type.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(body) {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => params.extend(map),
            _ => {
                return Err(CkanError::validation(
                    "body",
                    "the body must be a JSON object of the action's parameters",
                ));
            }
        }
    }
    Ok(params)
}

/// `GET|POST /api/3/action/{action}`.
pub(crate) async fn action(
    State(state): State<AppState>,
    Path(action): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let params = match parameters(query.as_deref(), &headers, &body) {
        Ok(p) => p,
        Err(e) => return envelope(&action, Err(e)),
    };
    let result = match action.as_str() {
        "package_search" => package_search(&state, &params).await,
        "package_show" => package_show(&state, &params).await,
        "organization_list" => organization_list(&state, &params),
        "organization_show" => organization_show(&state, &params),
        "tag_list" => tag_list(&state).await,
        "status_show" => Ok(json!({
            "site_title": format!("samla – {}", state.region_name),
            "ckan_version": "2.10.0",
            "api_version": 3,
            "extensions": ["samla"],
        })),
        _ => Err(CkanError {
            status: StatusCode::BAD_REQUEST,
            kind: "Bad Request",
            fields: {
                let mut m = Map::new();
                m.insert(
                    "message".into(),
                    json!(format!("action {action:?} is not supported; samla answers package_search, package_show, organization_list, organization_show, tag_list and status_show")),
                );
                m
            },
        }),
    };
    envelope(&action, result)
}

fn text<'a>(params: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, CkanError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(CkanError::validation(key, "must be a string")),
    }
}

fn count(
    params: &Map<String, Value>,
    key: &str,
    default: usize,
    max: usize,
) -> Result<usize, CkanError> {
    let n = match params.get(key) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    match n {
        Some(n) if n as usize <= max => Ok(n as usize),
        _ => Err(CkanError::validation(
            key,
            format!("must be an integer from 0 to {max}"),
        )),
    }
}

/// The CKAN name of an organisation: its name folded to `a-z0-9-` (`Malmö stad` → `malmo-stad`).
pub(crate) fn organisation_name(o: &Organisation) -> String {
    let folded = normalize::fold(&o.name);
    let mut out = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn organisation_by_name<'a>(state: &'a AppState, name: &str) -> Option<&'a Organisation> {
    state
        .directory
        .organisations()
        .iter()
        .find(|o| organisation_name(o) == name || o.code == name)
}

fn organisation_json(o: &Organisation, package_count: Option<u64>) -> Value {
    let mut v = json!({
        "id": o.code,
        "name": organisation_name(o),
        "title": o.name,
        "display_name": o.name,
        "type": "organization",
        "is_organization": true,
        "state": "active",
        "approval_status": "approved",
    });
    if let (Some(n), Value::Object(m)) = (package_count, &mut v) {
        m.insert("package_count".into(), json!(n));
    }
    v
}

/// Search filters, and words for the free-text query.
type FqTerms = (Vec<(Dimension, String)>, Vec<String>);

/// `fq` terms (`organization:malmo-stad res_format:CSV +groups:tran license_id:cc-by-4.0`)
/// as search filters; free text in `fq` (and `tags:`) joins the query.
fn filters_from_fq(state: &AppState, fq: &str) -> Result<FqTerms, CkanError> {
    let mut filters = Vec::new();
    let mut words = Vec::new();
    for term in split_terms(fq) {
        let term = term.trim_start_matches('+');
        let Some((field, value)) = term.split_once(':') else {
            words.push(term.to_string());
            continue;
        };
        let value = value.trim_matches('"').to_string();
        let unknown =
            || CkanError::validation("fq", format!("{value:?} is not a known value of {field}"));
        match field {
            "organization" | "owner_org" => {
                let o = organisation_by_name(state, &value).ok_or_else(unknown)?;
                filters.push((Dimension::Municipality, o.code.clone()));
            }
            // The same values the search's own filters take (codes, ids, IRI variants).
            "res_format" | "license_id" | "groups" | "theme" | "conforms_to" | "hvd_category" => {
                let dim = match field {
                    "res_format" => Dimension::Format,
                    "license_id" => Dimension::License,
                    "groups" | "theme" => Dimension::Theme,
                    "conforms_to" => Dimension::ConformsTo,
                    _ => Dimension::HvdCategory,
                };
                let resolved =
                    crate::params::resolve(dim, &value, &state.directory).ok_or_else(unknown)?;
                filters.push((dim, resolved));
            }
            "tags" | "text" | "title" | "notes" => words.push(value),
            _ => {
                return Err(CkanError::validation(
                    "fq",
                    format!(
                        "field {field:?} is not searchable here: use organization, res_format, license_id, groups, conforms_to, hvd_category, tags"
                    ),
                ));
            }
        }
    }
    Ok((filters, words))
}

/// Splits on spaces outside double quotes.
fn split_terms(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The CKAN facet field of a search dimension, and how its values are named.
const FACETS: [(&str, Dimension); 5] = [
    ("organization", Dimension::Municipality),
    ("res_format", Dimension::Format),
    ("license_id", Dimension::License),
    ("groups", Dimension::Theme),
    ("conforms_to", Dimension::ConformsTo),
];

fn facet_item(state: &AppState, field: &str, value: &str) -> (String, String) {
    match field {
        "organization" => state
            .directory
            .by_code(value)
            .map(|o| (organisation_name(o), o.name.clone()))
            .unwrap_or_else(|| (value.to_string(), value.to_string())),
        "res_format" => {
            let code = value.rsplit('/').next().unwrap_or(value).to_string();
            (code.clone(), code)
        }
        "license_id" => (
            license_id(value),
            labels::licence(value)
                .map(|l| l.label.to_string())
                .unwrap_or_else(|| value.to_string()),
        ),
        "groups" => (
            value
                .rsplit('/')
                .next()
                .unwrap_or(value)
                .to_ascii_lowercase(),
            labels::label_for(value, "sv").unwrap_or(value).to_string(),
        ),
        _ => (value.to_string(), labels::specification_label(value)),
    }
}

/// A CKAN `license_id` for a licence IRI: its first alias (`cc-by-4.0`), else the IRI.
fn license_id(iri: &str) -> String {
    labels::licence(iri)
        .and_then(|l| l.aliases.iter().find(|a| !a.contains(' ')).copied())
        .map(str::to_string)
        .unwrap_or_else(|| iri.to_string())
}

async fn package_search(state: &AppState, params: &Map<String, Value>) -> Result<Value, CkanError> {
    let rows = count(params, "rows", 10, MAX_ROWS)?;
    let start = count(params, "start", 0, 1_000_000)?;
    let mut words: Vec<String> = Vec::new();
    if let Some(q) = text(params, "q")? {
        let q = q.trim();
        if q != "*:*" && !q.is_empty() {
            words.push(q.to_string());
        }
    }
    let (filters, more) = match text(params, "fq")? {
        Some(fq) => filters_from_fq(state, fq)?,
        None => (Vec::new(), Vec::new()),
    };
    words.extend(more);
    let sort = match text(params, "sort")?.map(str::trim) {
        None | Some("") | Some("score desc, metadata_modified desc") | Some("score desc") => {
            SortOrder::Relevance
        }
        Some("metadata_modified desc") => SortOrder::Modified,
        Some(other) => {
            return Err(CkanError::validation(
                "sort",
                format!(
                    "{other:?}: sort by \"score desc, metadata_modified desc\" or \"metadata_modified desc\""
                ),
            ));
        }
    };
    let facet_fields: Vec<String> = match params.get("facet.field") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => serde_json::from_str::<Vec<String>>(s).map_err(|_| {
            CkanError::validation(
                "facet.field",
                "a JSON list of field names, e.g. [\"organization\"]",
            )
        })?,
        Some(_) => {
            return Err(CkanError::validation(
                "facet.field",
                "a JSON list of field names",
            ));
        }
    };
    for f in &facet_fields {
        if !FACETS.iter().any(|(name, _)| name == f) && f != "tags" {
            return Err(CkanError::validation(
                "facet.field",
                format!(
                    "{f:?} is not a facet here: organization, res_format, license_id, groups, conforms_to"
                ),
            ));
        }
    }
    let q = words.join(" ");
    if q.chars().count() > samla_indexer::MAX_QUERY_CHARS {
        return Err(CkanError::validation("q", "too long"));
    }
    let request = SearchRequest {
        q: Some(q).filter(|q| !q.is_empty()),
        filters,
        sort,
        offset: start,
        limit: rows.max(1),
        ..SearchRequest::default()
    };
    let index = Arc::clone(&state.index);
    let result = blocking(&state.work, move || {
        index
            .search(&request)
            .map_err(|e| crate::ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(CkanError::internal)?;
    let (total, facets) = (result.total, &result.facets);
    let hits = &result.hits[..rows.min(result.hits.len())];
    let records = crate::winners(state, hits)
        .await
        .map_err(CkanError::internal)?;
    let results: Vec<Value> = records
        .iter()
        .map(|d| package(state, d))
        .collect::<Result<_, _>>()?;
    let mut search_facets = Map::new();
    let mut plain_facets = Map::new();
    for field in &facet_fields {
        let Some((_, dim)) = FACETS.iter().find(|(name, _)| name == field) else {
            search_facets.insert(field.clone(), json!({"title": field, "items": []}));
            plain_facets.insert(field.clone(), json!({}));
            continue;
        };
        let values = facets.get(dim).cloned().unwrap_or_default();
        let mut items = Vec::new();
        let mut plain = Map::new();
        for (value, n) in values {
            let (name, display) = facet_item(state, field, &value);
            plain.insert(name.clone(), json!(n));
            items.push(json!({"name": name, "display_name": display, "count": n}));
        }
        search_facets.insert(field.clone(), json!({"title": field, "items": items}));
        plain_facets.insert(field.clone(), Value::Object(plain));
    }
    Ok(json!({
        "count": total,
        "sort": match sort { SortOrder::Modified | SortOrder::Changed => "metadata_modified desc", SortOrder::Relevance => "score desc, metadata_modified desc" },
        "results": results,
        "facets": plain_facets,
        "search_facets": search_facets,
    }))
}

async fn package_show(state: &AppState, params: &Map<String, Value>) -> Result<Value, CkanError> {
    let id = text(params, "id")?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| CkanError::validation("id", "Missing value"))?
        .to_string();
    let store = Arc::clone(&state.store);
    let lookup = id.clone();
    let stored = blocking(&state.work, move || {
        store
            .winner(&lookup)
            .map_err(|e| crate::ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(CkanError::internal)?
    .ok_or_else(|| CkanError::not_found(format!("no dataset with id {id:?}")))?;
    package(state, &stored)
}

/// A stored dataset as a CKAN package dict.
fn package(state: &AppState, stored: &samla_store::StoredDataset) -> Result<Value, CkanError> {
    let triples = record::parse_canonical(&stored.ntriples).map_err(CkanError::internal)?;
    let v = stored.view_from(&triples);
    let organisation = stored
        .municipality_code
        .as_deref()
        .and_then(|c| state.directory.by_code(c));
    let resources: Vec<Value> = v
        .distributions
        .iter()
        .enumerate()
        .map(|(position, d)| {
            let url = d
                .download_urls
                .first()
                .or(d.access_urls.first())
                .cloned()
                .unwrap_or_default();
            json!({
                "id": d.uri,
                "package_id": stored.id,
                "uri": d.uri,
                "position": position,
                "name": pick(&d.title, "sv"),
                "url": url,
                "access_url": d.access_urls.first(),
                "download_url": d.download_urls.first(),
                "format": d.format.as_deref().map(|f| f.rsplit('/').next().unwrap_or(f)),
                "mimetype": d.media_type,
                "license": d.license,
                "size": d.byte_size.as_deref().and_then(|s| s.parse::<u64>().ok()),
                "state": "active",
            })
        })
        .collect();
    let tags: Vec<Value> = {
        let mut seen = std::collections::BTreeSet::new();
        v.keywords
            .iter()
            .filter(|(_, k)| seen.insert(k.clone()))
            .map(|(_, k)| json!({"name": k, "display_name": k, "state": "active"}))
            .collect()
    };
    let groups: Vec<Value> = v
        .themes
        .iter()
        .map(|t| {
            let code = t.rsplit('/').next().unwrap_or(t).to_ascii_lowercase();
            json!({"name": code, "title": labels::label_for(t, "sv").unwrap_or(t), "display_name": labels::label_for(t, "sv").unwrap_or(t)})
        })
        .collect();
    let mut extras = vec![json!({"key": "uri", "value": v.uri})];
    let mut extra = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            extras.push(json!({"key": key, "value": value}));
        }
    };
    extra("issued", v.issued.clone());
    extra("modified", v.modified.clone());
    extra("frequency", v.accrual_periodicity.clone());
    extra("access_rights", v.access_rights.clone());
    extra("publisher_uri", v.publisher.as_ref().map(|p| p.uri.clone()));
    extra(
        "publisher_name",
        v.publisher
            .as_ref()
            .and_then(|p| pick(&p.name, "sv").map(str::to_string)),
    );
    extra(
        "contact_email",
        v.contact_point.as_ref().and_then(|c| c.email.clone()),
    );
    for (key, list) in [
        ("theme", &v.themes),
        ("conforms_to", &v.conforms_to),
        ("hvd_category", &v.hvd_categories),
        ("spatial_uri", &v.spatial),
    ] {
        if !list.is_empty() {
            extra(key, Some(serde_json::to_string(list).unwrap_or_default()));
        }
    }
    let title = pick(&v.title, "sv").unwrap_or_default();
    Ok(json!({
        "id": stored.id,
        // The id is the name too: CKAN clients pass it back to `package_show` as `id`.
        "name": stored.id,
        "title": title,
        "notes": pick(&v.description, "sv"),
        "url": v.landing_page,
        "type": "dataset",
        "state": "active",
        "private": false,
        "license_id": v.license.as_deref().map(license_id),
        "license_url": v.license,
        "license_title": v.license.as_deref().and_then(labels::licence).map(|l| l.label),
        "metadata_created": stored.first_seen.to_rfc3339(),
        "metadata_modified": stored.last_changed.to_rfc3339(),
        "owner_org": organisation.map(|o| o.code.clone()),
        "organization": organisation.map(|o| organisation_json(o, None)),
        "tags": tags,
        "num_tags": tags.len(),
        "groups": groups,
        "resources": resources,
        "num_resources": resources.len(),
        "extras": extras,
    }))
}

fn organization_list(state: &AppState, params: &Map<String, Value>) -> Result<Value, CkanError> {
    let all_fields = matches!(params.get("all_fields"), Some(Value::Bool(true)))
        || matches!(text(params, "all_fields"), Ok(Some("true" | "True" | "1")));
    let mut orgs: Vec<&Organisation> = state.directory.organisations().iter().collect();
    orgs.sort_by_key(|o| organisation_name(o));
    Ok(Value::Array(
        orgs.into_iter()
            .map(|o| {
                if all_fields {
                    organisation_json(o, None)
                } else {
                    json!(organisation_name(o))
                }
            })
            .collect(),
    ))
}

fn organization_show(state: &AppState, params: &Map<String, Value>) -> Result<Value, CkanError> {
    let id = text(params, "id")?.ok_or_else(|| CkanError::validation("id", "Missing value"))?;
    organisation_by_name(state, id)
        .map(|o| organisation_json(o, None))
        .ok_or_else(|| CkanError::not_found(format!("no organization {id:?}")))
}

async fn tag_list(state: &AppState) -> Result<Value, CkanError> {
    let store = Arc::clone(&state.store);
    let tags = blocking(&state.work, move || {
        let mut tags = std::collections::BTreeSet::new();
        store
            .for_each_dataset(|d| {
                if let Ok(triples) = record::parse_canonical(&d.ntriples) {
                    for t in &triples {
                        if t.predicate == samla_model::vocab::dcat::KEYWORD
                            && let oxrdf::Term::Literal(l) = &t.object
                        {
                            tags.insert(l.value().to_string());
                        }
                    }
                }
            })
            .map_err(|e| crate::ApiError::Internal(e.to_string()))?;
        Ok(tags)
    })
    .await
    .map_err(CkanError::internal)?;
    Ok(json!(tags))
}
