//! The web UI: server-rendered pages in Swedish (default) and English (`lang=en`), built with
//! minijinja templates that escape every value (harvested text is untrusted), plain links and
//! forms that work without JavaScript and by keyboard.
//!
//! Pages: search with facets and paging (`/`), a dataset (`/dataset/{id}`) with its
//! distributions, licence, quality and fix hints, source status (`/sources`), the coverage
//! matrix (`/coverage`), the quality and demand reports with charts and CSV downloads
//! (`/quality`, `/demand`), and the data-request form (`/request`).

mod i18n;

use crate::feed::segment;
use crate::params::SearchParams;
use crate::reports::{self, Rendered};
use crate::{ApiError, AppState, blocking, facet_label, safe_url};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use minijinja::{Environment, Value as Tpl, context};
use samla_indexer::Dimension;
use samla_model::labels;
use samla_model::view::pick;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The web UI's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(search))
        .route("/assets/suggest.js", get(suggest_script))
        .route("/assets/samla.css", get(stylesheet))
        .route("/dataset/{id}", get(dataset))
        .route("/sources", get(sources))
        .route("/coverage", get(coverage))
        .route("/coverage/history", get(coverage_history))
        .route("/freshness", get(freshness))
        .route("/sources/{id}", get(source_page))
        .route("/quality", get(quality))
        .route("/demand", get(demand))
        .route("/hvd", get(hvd))
        .route("/national", get(national))
        .route("/request", get(request_form).post(request_post))
        .route("/request/{id}", get(request_view))
        .route("/request/{id}/answer", axum::routing::post(request_answer))
        .route("/alerts", axum::routing::post(alert_post))
        .route(
            "/alerts/{id}/{action}",
            get(alert_link).post(alert_unsubscribe),
        )
        .route("/organisation/{code}", get(organisation))
}

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_filter("day", |v: String| day(&v).to_string());
        // Names ending in .html are escaped for HTML; the templates are constants checked by
        // the tests, so adding them cannot fail at run time.
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("error.html", include_str!("../../templates/error.html")),
            ("search.html", include_str!("../../templates/search.html")),
            ("dataset.html", include_str!("../../templates/dataset.html")),
            ("sources.html", include_str!("../../templates/sources.html")),
            (
                "coverage.html",
                include_str!("../../templates/coverage.html"),
            ),
            ("quality.html", include_str!("../../templates/quality.html")),
            ("hvd.html", include_str!("../../templates/hvd.html")),
            (
                "national.html",
                include_str!("../../templates/national.html"),
            ),
            (
                "freshness.html",
                include_str!("../../templates/freshness.html"),
            ),
            ("source.html", include_str!("../../templates/source.html")),
            ("history.html", include_str!("../../templates/history.html")),
            ("marks.html", include_str!("../../templates/marks.html")),
            ("demand.html", include_str!("../../templates/demand.html")),
            ("request.html", include_str!("../../templates/request.html")),
            (
                "request_view.html",
                include_str!("../../templates/request_view.html"),
            ),
            (
                "mail_request.txt",
                include_str!("../../templates/mail_request.txt"),
            ),
            ("alert.html", include_str!("../../templates/alert.html")),
            (
                "organisation.html",
                include_str!("../../templates/organisation.html"),
            ),
            (
                "mail_confirm.txt",
                include_str!("../../templates/mail_confirm.txt"),
            ),
            (
                "mail_alert.txt",
                include_str!("../../templates/mail_alert.txt"),
            ),
            (
                "mail_notice.txt",
                include_str!("../../templates/mail_notice.txt"),
            ),
        ] {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        env
    })
}

/// What every page needs: the language and its words, the region, the navigation.
struct Page {
    lang: &'static str,
    path: String,
    pairs: Vec<(String, String)>,
    nav: &'static str,
    region: String,
}

impl Page {
    fn new(state: &AppState, path: &str, query: Option<&str>, nav: &'static str) -> Self {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let lang = if pairs
            .iter()
            .any(|(k, v)| k == "lang" && v.trim().eq_ignore_ascii_case("en"))
        {
            "en"
        } else {
            "sv"
        };
        Self {
            lang,
            path: path.to_string(),
            pairs,
            nav,
            region: state.region_name.to_string(),
        }
    }

    fn base(&self) -> Tpl {
        let other = if self.lang == "en" { "sv" } else { "en" };
        let mut switched: Vec<(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != "lang")
            .cloned()
            .collect();
        if other == "en" {
            switched.push(("lang".into(), "en".into()));
        }
        context! {
            lang => self.lang,
            other_lang => other,
            t => i18n::words(self.lang),
            region => self.region,
            nav => self.nav,
            lq => if self.lang == "en" { "&lang=en" } else { "" },
            lq1 => if self.lang == "en" { "?lang=en" } else { "" },
            switch_lang => link(&self.path, &switched),
        }
    }

    fn render(&self, template: &str, status: StatusCode, ctx: Tpl) -> Response {
        let ctx = context! { ..ctx, ..self.base() };
        match templates()
            .get_template(template)
            .and_then(|t| t.render(ctx))
        {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template, error = %e, "page not rendered");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<!doctype html><title>error</title><p>internal error</p>".to_string()),
                )
                    .into_response()
            }
        }
    }

    /// An error as a page: 4xx with its message, 5xx without details.
    fn error(&self, e: ApiError) -> Response {
        let (status, message) = match &e {
            ApiError::BadParameter { .. } => (StatusCode::BAD_REQUEST, e.to_string()),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
            ApiError::TooManyRequests(m) => (StatusCode::TOO_MANY_REQUESTS, m.clone()),
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
            }
            other => (StatusCode::BAD_REQUEST, other.to_string()),
        };
        self.render("error.html", status, context! { message })
    }

    fn en(&self) -> bool {
        self.lang == "en"
    }
}

/// `text` cut at a word to at most `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map(|(head, _)| head).unwrap_or(&cut);
    format!("{}…", cut.trim_end())
}

/// A harvested URL as a link target: http, https and mailto only (`javascript:` and the like
/// are shown nowhere as links).
fn safe_urls(urls: &[String]) -> Vec<String> {
    urls.iter().filter_map(|u| safe_url(u)).collect()
}

/// `path?pairs`, or `path` alone.
fn link(path: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return path.to_string();
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    format!("{path}?{}", q.finish())
}

/// The facets the search page offers, in order.
const FACETS: [Dimension; 13] = [
    Dimension::Municipality,
    Dimension::Theme,
    Dimension::Reuse,
    Dimension::Api,
    Dimension::Free,
    Dimension::Fresh,
    Dimension::Quality,
    Dimension::ConformsTo,
    Dimension::Format,
    Dimension::License,
    Dimension::OpenLicence,
    Dimension::HvdCategory,
    Dimension::AccessRights,
];

/// The search box's suggestions, a script the page works without.
async fn suggest_script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/suggest.js"),
    )
}

/// The pages' style (a file of its own: the content security policy allows no inline style).
async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/samla.css"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn search(
    State(state): State<AppState>,
    client: Option<axum::Extension<crate::client::ClientAddr>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let page = Page::new(&state, "/", query.as_deref(), "search");
    let who = crate::Client::of(client.as_deref(), &headers);
    match search_page(&state, &page, &headers, who).await {
        Ok(r) => r,
        Err(e) => page.error(e),
    }
}

async fn search_page(
    state: &AppState,
    page: &Page,
    headers: &HeaderMap,
    who: Option<crate::Client>,
) -> Result<Response, ApiError> {
    let raw = link("", &page.pairs);
    let params = SearchParams::parse(raw.trim_start_matches('?'))?;
    let result = crate::run_search(state, &params, crate::Demand::Log(who)).await?;
    let lang = page.lang;
    // The search's own pairs, page left out: every facet link starts from these.
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(q) = &params.q {
        pairs.push(("q".into(), q.clone()));
    }
    for (d, v) in &params.filters {
        pairs.push((d.name().into(), v.clone()));
    }
    for (key, day) in params.dates() {
        if let Some(day) = day {
            pairs.push((key.into(), day.to_string()));
        }
    }
    if params.sort == samla_indexer::SortOrder::Modified {
        pairs.push(("sort".into(), "modified".into()));
    }
    if page.en() {
        pairs.push(("lang".into(), "en".into()));
    }
    let without = |key: &str, value: Option<&str>| -> Vec<(String, String)> {
        pairs
            .iter()
            .filter(|(k, v)| !(k == key && value.is_none_or(|x| x == v)))
            .cloned()
            .collect()
    };
    let facets: Vec<Value> = FACETS
        .iter()
        .filter_map(|dim| {
            let values = result.facets.get(dim)?;
            if values.is_empty() {
                return None;
            }
            let values: Vec<Value> = values
                .iter()
                .map(|(value, count)| {
                    let selected = params.filters.iter().any(|(d, v)| d == dim && v == value);
                    let href = if selected {
                        link("/", &without(dim.name(), Some(value)))
                    } else {
                        let mut p = pairs.clone();
                        p.push((dim.name().into(), value.clone()));
                        link("/", &p)
                    };
                    json!({
                        "label": facet_label(&state.directory, *dim, value, lang),
                        "count": count,
                        "selected": selected,
                        "href": href,
                    })
                })
                .collect();
            Some(json!({"dimension": dim.name(), "values": values}))
        })
        .collect();
    let active: Vec<Value> = params
        .filters
        .iter()
        .map(|(d, v)| {
            // Labelled as the value it names (`cc-by` is CC BY 4.0).
            let named = crate::params::resolve(*d, v, &state.directory);
            json!({
                "dimension": d.name(),
                "value": v,
                "label": facet_label(&state.directory, *d, named.as_deref().unwrap_or(v), lang),
                "remove": link("/", &without(d.name(), Some(v))),
            })
        })
        .collect();
    let hits: Vec<Value> = result
        .hits
        .iter()
        .map(|h| {
            json!({
                "href": format!("/dataset/{}{}", segment(&h.id), if page.en() { "?lang=en" } else { "" }),
                "title": pick(&h.title, lang).unwrap_or(&h.id),
                "description": pick(&h.description, lang).map(|d| shorten(d, 280)),
                "publisher": h.publisher.as_ref().and_then(|p| pick(&p.name, lang)),
                "modified": h.modified.as_deref().map(day),
                "formats": h.formats.iter().map(|f| labels::label_for(f, lang).unwrap_or_else(|| f.rsplit('/').next().unwrap_or(f))).collect::<Vec<_>>(),
                "themes": h.themes.iter().map(|t| labels::label_for(t, lang).unwrap_or(t)).collect::<Vec<_>>(),
                "license": h.license.as_deref().map(|l| labels::label_for(l, lang).unwrap_or(l)),
            })
        })
        .collect();
    let pages = result
        .total
        .div_ceil(params.per_page)
        .clamp(1, crate::params::MAX_DEPTH / params.per_page);
    let at = |n: usize| {
        let mut p = pairs.clone();
        if n > 1 {
            p.push(("page".into(), n.to_string()));
        }
        if params.per_page != 20 {
            p.push(("per_page".into(), params.per_page.to_string()));
        }
        link("/", &p)
    };
    let sorted = |modified: bool| {
        let mut p = without("sort", None);
        if modified {
            p.push(("sort".into(), "modified".into()));
        }
        link("/", &p)
    };
    let base = crate::catalog::base_url(state, headers);
    let feed_pairs: Vec<(String, String)> = pairs.clone();
    Ok(page.render(
        "search.html",
        StatusCode::OK,
        context! {
            q => params.q.clone().unwrap_or_default(),
            total => result.total,
            corrected => result.corrected.clone(),
            hits => hits,
            facets => facets,
            active => active,
            clear => link("/", &pairs.iter().filter(|(k, _)| k == "q" || k == "lang").cloned().collect::<Vec<_>>()),
            page => params.page,
            pages => pages,
            prev => (params.page > 1).then(|| at(params.page - 1)),
            next => (params.page < pages).then(|| at(params.page + 1)),
            sort => if params.sort == samla_indexer::SortOrder::Modified { "modified" } else { "relevance" },
            sort_relevance => sorted(false),
            sort_modified => sorted(true),
            feed => format!("{base}{}", link("/api/v1/datasets.atom", &feed_pairs)),
            dates => params.dates()
                .iter()
                .map(|(name, day)| json!({"name": name, "value": day.map(|d| d.to_string()).unwrap_or_default()}))
                .collect::<Vec<_>>(),
            dated => params.dates().iter().any(|(_, day)| day.is_some()),
            // Dates are not saved: a saved search tells of what is new.
            watch => (state.notifier.is_some() && !params.dates().iter().any(|(_, day)| day.is_some()))
                .then(|| saved_search(&pairs))
                .flatten(),
            mail => state.notifier.as_ref().is_some_and(|n| n.sends_mail()),
        },
    ))
}

/// What a search page's "watch this search" saves: its words and filters, without paging,
/// order or language; `None` when it has neither words nor filters.
fn saved_search(pairs: &[(String, String)]) -> Option<String> {
    let kept: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, v)| {
            !matches!(k.as_str(), "page" | "per_page" | "sort" | "lang") && !v.trim().is_empty()
        })
        .collect();
    if kept.is_empty() {
        return None;
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(kept);
    Some(q.finish())
}

/// A saved search's query string in words: `fiber · municipality: 1280`.
fn search_label(search: &str, lang: &str) -> String {
    let words = i18n::words(lang);
    url::form_urlencoded::parse(search.as_bytes())
        .map(|(k, v)| {
            if k == "q" {
                v.into_owned()
            } else {
                format!("{}: {v}", words.get(k.as_ref()).copied().unwrap_or(&k))
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Mails in the words of the pages.
pub struct Mails;

impl samla_notify::Render for Mails {
    fn render(&self, mail: &samla_notify::Mail<'_>, lang: &str) -> samla_notify::Message {
        use samla_notify::Mail;
        let lang = if lang == "en" { "en" } else { "sv" };
        let t = i18n::words(lang);
        let (name, ctx) = match mail {
            Mail::Confirm {
                alert,
                confirm_url,
                unsubscribe_url,
            } => (
                "mail_confirm.txt",
                context! { t, search_label => search_label(&alert.search, lang), confirm_url, unsubscribe_url },
            ),
            Mail::Alert {
                alert,
                datasets,
                more,
                unsubscribe_url,
                search_url,
            } => (
                "mail_alert.txt",
                context! {
                    t, search_label => search_label(&alert.search, lang), datasets, more,
                    count => datasets.len() + more, unsubscribe_url, search_url,
                },
            ),
            Mail::Request {
                id,
                what,
                state,
                page_url,
                dataset_url,
            } => (
                "mail_request.txt",
                context! { t, id, what, state, page_url, dataset_url },
            ),
            Mail::Notice { digest, page_url } => {
                ("mail_notice.txt", context! { t, d => digest, page_url })
            }
        };
        let text = templates()
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .unwrap_or_else(|e| {
                tracing::error!(template = name, error = %e, "mail not rendered");
                format!("samla\n{e}")
            });
        let (subject, body) = text.split_once('\n').unwrap_or((&text, ""));
        samla_notify::Message {
            subject: subject.trim().to_string(),
            text: body.trim_start().to_string(),
        }
    }
}

async fn alert_post(
    State(state): State<AppState>,
    client: Option<axum::Extension<crate::client::ClientAddr>>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    let page = Page::new(&state, "/alerts", query.as_deref(), "search");
    let input = crate::form_input::<crate::alerts::AlertInput>(&body, "a saved search");
    let search = input.as_ref().map(|i| i.search.clone()).unwrap_or_default();
    let label = search_label(&search, page.lang);
    let saved = match input {
        Ok(input) => crate::alerts::save(&state, client.map(|c| c.0.0), input).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(created) => page.render(
            "alert.html",
            StatusCode::CREATED,
            context! {
                search, search_label => label, outcome => created.state,
                unsubscribe => created.unsubscribe, secret => created.secret,
            },
        ),
        Err(e @ ApiError::BadParameter { .. }) => page.render(
            "alert.html",
            StatusCode::BAD_REQUEST,
            context! { search, search_label => label, error => e.to_string() },
        ),
        Err(e) => page.error(e),
    }
}

fn token_of(query: Option<&str>) -> String {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The links a saved search's mails carry: `confirm` confirms it; `unsubscribe` asks
/// whether to end it (a link in a mail is followed by scanners too: a POST ends it).
async fn alert_link(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let page = Page::new(
        &state,
        &format!("/alerts/{}/{}", segment(&id), segment(&action)),
        query.as_deref(),
        "search",
    );
    let token = token_of(query.as_deref());
    let confirming = match action.as_str() {
        "confirm" => true,
        "unsubscribe" => false,
        _ => return page.error(ApiError::NotFound("no such page".into())),
    };
    let found = match crate::alerts::notifier(&state) {
        Ok(n) if confirming => n.confirm(&id, &token).await.map_err(ApiError::from),
        Ok(n) => n.alert(&id, &token).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match found {
        Ok(alert) => page.render(
            "alert.html",
            StatusCode::OK,
            context! {
                search => alert.search, search_label => search_label(&alert.search, page.lang),
                outcome => confirming.then_some("confirmed"),
                ask => !confirming, id => alert.id, token,
            },
        ),
        Err(e) => page.error(e),
    }
}

/// `POST /alerts/{id}/unsubscribe` with the token: ends the saved search.
async fn alert_unsubscribe(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    let page = Page::new(
        &state,
        &format!("/alerts/{}/unsubscribe", segment(&id)),
        query.as_deref(),
        "search",
    );
    if action != "unsubscribe" {
        return page.error(ApiError::NotFound("no such page".into()));
    }
    let token = token_of(std::str::from_utf8(&body).ok());
    let ended = match crate::alerts::notifier(&state) {
        Ok(n) => n.unsubscribe(&id, &token).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match ended {
        Ok(()) => page.render(
            "alert.html",
            StatusCode::OK,
            context! { outcome => "ended" },
        ),
        Err(e) => page.error(e),
    }
}

async fn request_view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let page = Page::new(
        &state,
        &format!("/request/{}", segment(&id)),
        query.as_deref(),
        "request",
    );
    match crate::requests::view(&state, &id).await {
        Ok(r) => request_page(&state, &page, r, StatusCode::OK, context! {}),
        Err(e) => page.error(e),
    }
}

fn request_page(
    state: &AppState,
    page: &Page,
    r: Value,
    status: StatusCode,
    extra: Tpl,
) -> Response {
    let municipality = r["request"]["municipality"]
        .as_str()
        .and_then(|c| state.directory.by_code(c))
        .map(|o| o.name.clone());
    let statuses: Vec<&str> = samla_reports::requests::Status::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    page.render(
        "request_view.html",
        status,
        context! { r, municipality, statuses, ..extra },
    )
}

async fn request_answer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    let page = Page::new(
        &state,
        &format!("/request/{}", segment(&id)),
        query.as_deref(),
        "request",
    );
    let answered = match crate::form_input::<crate::requests::AnswerInput>(&body, "an answer") {
        Ok(input) => {
            let token = input.token.clone().unwrap_or_default();
            crate::requests::apply(&state, &id, &token, input).await
        }
        Err(e) => Err(e),
    };
    match answered {
        Ok(r) => request_page(&state, &page, r, StatusCode::OK, context! { saved => true }),
        Err(
            e
            @ (ApiError::BadParameter { .. } | ApiError::Forbidden(_) | ApiError::Unauthorized(_)),
        ) => {
            let status = match &e {
                ApiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
                ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                _ => StatusCode::FORBIDDEN,
            };
            match crate::requests::view(&state, &id).await {
                Ok(r) => request_page(
                    &state,
                    &page,
                    r,
                    status,
                    context! { error => e.to_string() },
                ),
                Err(e) => page.error(e),
            }
        }
        Err(e) => page.error(e),
    }
}

async fn organisation(
    State(state): State<AppState>,
    Path(code): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let page = Page::new(
        &state,
        &format!("/organisation/{}", segment(&code)),
        query.as_deref(),
        "sources",
    );
    let result = async {
        let reports = Arc::clone(&state.reports);
        let store = Arc::clone(&state.store);
        let of = code.clone();
        let (digest, notice) = blocking(&state.work, move || {
            let digest = samla_reports::digest::digest(&reports, &of, chrono::Utc::now())?
                .ok_or_else(|| ApiError::NotFound(format!("no organisation {of:?} in this region")))?;
            let notice = samla_notify::last_notice(&store, &of)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((digest, notice))
        })
        .await?;
        let lang = page.lang;
        let only = format!("municipality={}", url::form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>());
        let quality = quality_summary(&state, Some(code.clone())).await?;
        let q = &quality["municipalities"][0];
        let band = q["band"].as_str();
        let fixes: Vec<Value> = q["top_fixes"]
            .as_array()
            .into_iter()
            .flatten()
            .take(5)
            .map(|f| json!({"text": f[lang], "datasets": f["datasets"]}))
            .collect();
        let mut coverage = report_json(&state, "coverage", only.clone()).await?;
        let columns = coverage["conforms_to"]["columns"].as_array().cloned().unwrap_or_default();
        let mut rows = coverage["conforms_to"]["rows"].take();
        let notes = add_notes(&mut rows, lang);
        let specifications: Vec<Value> = rows[0]["cells"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(&columns)
            .filter(|(cell, _)| cell["datasets"].as_u64().unwrap_or(0) > 0)
            .map(|(cell, column)| json!({"label": column["label"], "value": column["value"], "datasets": cell["datasets"]}))
            .collect();
        let demand = report_json(&state, "demand", only).await?;
        Ok::<_, ApiError>(page.render(
            "organisation.html",
            StatusCode::OK,
            context! {
                d => digest,
                notice => notice.map(|n| json!({"sent": n.sent, "to": n.delivered_to.join(", ")})),
                quality => json!({"datasets": q["datasets"], "points": q["points"], "band": band, "band_label": band_label(band, lang), "fixes": fixes}),
                freshness => digest.freshness.clone(),
                specifications,
                reading_note => notes.get(&code).cloned(),
                requests => demand["requests"].clone(),
            },
        ))
    }
    .await;
    result.unwrap_or_else(|e| page.error(e))
}

async fn dataset(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let page = Page::new(
        &state,
        &format!("/dataset/{}", segment(&id)),
        query.as_deref(),
        "search",
    );
    match dataset_page(&state, &page, id).await {
        Ok(r) => r,
        Err(e) => page.error(e),
    }
}

async fn dataset_page(state: &AppState, page: &Page, id: String) -> Result<Response, ApiError> {
    let (rows, triples) = crate::shown_record(state, &id).await?;
    let reports = Arc::clone(&state.reports);
    let shown = rows[0].clone();
    let (score, triples) = blocking(&state.work, move || {
        let score = reports.dataset_score(&shown, &triples)?;
        Ok((score, triples))
    })
    .await?;
    let stored = &rows[0];
    let lang = page.lang;
    let v = stored.view_from(&triples);
    let label = |iri: &str| labels::label_for(iri, lang).unwrap_or(iri).to_string();
    let municipality = stored
        .municipality_code
        .as_deref()
        .and_then(|c| state.directory.by_code(c))
        .map(|o| json!({"code": o.code, "name": o.name}));
    let distributions: Vec<Value> = v
        .distributions
        .iter()
        .map(|d| {
            json!({
                "title": pick(&d.title, lang).unwrap_or(""),
                "format": d.format.as_deref().or(d.media_type.as_deref()).map(&label),
                "license": d.license.as_deref().map(|l| labels::licence(l).map(|x| x.label.to_string()).unwrap_or_else(|| l.to_string())),
                "download": safe_urls(&d.download_urls),
                "access": safe_urls(&d.access_urls),
            })
        })
        .collect();
    let band = score.band.key();
    let hints: Vec<Value> = score
        .hints
        .iter()
        .map(|h| json!({"text": if page.en() { &h.en } else { &h.sv }, "property": h.property, "gain": h.gain}))
        .collect();
    let provenance: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "source_id": r.source_id,
                "source_url": safe_url(&r.source_url),
                "first_seen": r.first_seen.format("%Y-%m-%d").to_string(),
                "last_harvested": r.last_harvested.map(|d| d.format("%Y-%m-%d %H:%M").to_string()),
            })
        })
        .collect();
    let description: Vec<&str> = pick(&v.description, lang)
        .map(|d| d.split("\n\n").collect())
        .unwrap_or_default();
    Ok(page.render(
        "dataset.html",
        StatusCode::OK,
        context! {
            title => pick(&v.title, lang).unwrap_or(&stored.id),
            description => description,
            archived => stored.archived_at.is_some(),
            publisher => v.publisher.as_ref().and_then(|p| pick(&p.name, lang)),
            municipality => municipality,
            license => v.license.as_deref().map(|l| json!({"iri": safe_url(l), "label": labels::licence(l).map(|x| x.label).unwrap_or(l)})),
            themes => v.themes.iter().map(|t| label(t)).collect::<Vec<_>>(),
            keywords => v.keywords.iter().filter(|(l, _)| l.is_empty() || l == lang).map(|(_, k)| k.clone()).collect::<Vec<_>>(),
            conforms_to => v.conforms_to.iter().map(|c| json!({"iri": safe_url(c), "label": samla_model::labels::specification_label(c)})).collect::<Vec<_>>(),
            access_rights => v.access_rights.as_deref().map(label),
            frequency => v.accrual_periodicity.as_deref().map(label),
            issued => v.issued.as_deref().map(day),
            modified => v.modified.as_deref().map(day),
            landing_page => v.landing_page.as_deref().and_then(safe_url),
            contact => v.contact_point.as_ref().and_then(|c| c.email.clone().or(c.name.clone())),
            distributions => distributions,
            quality => json!({
                "points": score.points,
                "max": score.max,
                "band": band,
                "band_label": score.band.label(lang),
                "hints": hints,
            }),
            provenance => provenance,
            api => format!("/api/v1/datasets/{}", segment(&stored.id)),
        },
    ))
}

/// A report's JSON, as the API renders it.
async fn report_json(
    state: &AppState,
    name: &'static str,
    query: String,
) -> Result<Value, ApiError> {
    let reports = Arc::clone(&state.reports);
    blocking(&state.work, move || {
        match reports::render(&reports, name, &query, chrono::Utc::now())? {
            Rendered::Json(body) => serde_json::from_reader(std::io::BufReader::new(body))
                .map_err(|e| ApiError::Internal(e.to_string())),
            Rendered::Csv { .. } => Err(ApiError::Internal("a CSV where JSON was asked".into())),
        }
    })
    .await
}

/// The quality report's figures per organisation and source (of one organisation, if
/// given) as JSON, without its per-dataset list, which no page shows.
async fn quality_summary(
    state: &AppState,
    municipality: Option<String>,
) -> Result<Value, ApiError> {
    let reports = Arc::clone(&state.reports);
    let report = blocking(&state.work, move || {
        Ok(samla_reports::quality::quality_report(
            &reports,
            chrono::Utc::now(),
            municipality.as_deref(),
            false,
        )?)
    })
    .await?;
    serde_json::to_value(report).map_err(|e| ApiError::Internal(e.to_string()))
}

async fn sources(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let page = Page::new(&state, "/sources", query.as_deref(), "sources");
    let result = async {
        let (counts, runs) = crate::source_status(&state).await?;
        let rows: Vec<Value> = state
            .sources
            .iter()
            .map(|s| {
                let run = runs.get(&s.id);
                let problems: Vec<Value> = run
                    .map(|r| r.report.problems.iter().map(|p| json!({"reason": p.reason, "count": p.count})).collect())
                    .unwrap_or_default();
                json!({
                    "id": s.id,
                    "organisation": state.directory.by_code(&s.organisation).map(|o| o.name.clone()).unwrap_or_else(|| s.organisation.clone()),
                    "code": s.organisation,
                    "protocol": s.protocol,
                    "url": safe_url(&s.url),
                    "verified": s.verified,
                    "datasets": counts.get(&s.id).copied().unwrap_or(0),
                    "finished": run.map(|r| r.finished.format("%Y-%m-%d %H:%M").to_string()),
                    "outcome": run.map(|r| r.outcome),
                    "problems": problems,
                })
            })
            .collect();
        Ok::<_, ApiError>(page.render("sources.html", StatusCode::OK, context! { sources => rows }))
    }
    .await;
    result.unwrap_or_else(|e| page.error(e))
}

async fn coverage(
    State(state): State<AppState>,
    client: Option<axum::Extension<crate::client::ClientAddr>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let who = crate::Client::of(client.as_deref(), &headers);
    let page = Page::new(&state, "/coverage", query.as_deref(), "coverage");
    let by = page
        .pairs
        .iter()
        .find(|(k, _)| k == "by")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "conforms_to".into());
    let result = async {
        if !["conforms_to", "hvd_category", "theme"].contains(&by.as_str()) {
            return Err(ApiError::bad("by", format!("{by:?} is not conforms_to, hvd_category or theme")));
        }
        let report = report_json(&state, "coverage", format!("by={by}")).await?;
        let mut matrix = report.get(&by).cloned().unwrap_or(Value::Null);
        let notes = add_notes(&mut matrix["rows"], page.lang);
        // "Who publishes data on …?": every organisation with its datasets matching a search.
        let topic = page
            .pairs
            .iter()
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.trim().to_string())
            .filter(|q| !q.is_empty());
        let publishers = match &topic {
            None => Value::Null,
            Some(q) => {
                let params = SearchParams {
                    q: Some(q.clone()),
                    per_page: 1,
                    lang: page.lang.to_string(),
                    ..SearchParams::default()
                };
                let result = crate::run_search(&state, &params, crate::Demand::Log(who)).await?;
                let counts = result.facets.get(&Dimension::Municipality).cloned().unwrap_or_default();
                let mut rows: Vec<Value> = state
                    .directory
                    .organisations()
                    .iter()
                    .map(|o| {
                        let n = counts.iter().find(|(c, _)| c == &o.code).map_or(0, |(_, n)| *n);
                        json!({"code": o.code, "name": o.name, "datasets": n, "note": notes.get(&o.code)})
                    })
                    .collect();
                // Those with none first (what is missing), each group in Swedish name order.
                rows.sort_by_key(|r| {
                    (r["datasets"].as_u64() != Some(0), r["name"].as_str().map(samla_model::region::swedish_order))
                });
                Value::Array(rows)
            }
        };
        Ok(page.render(
            "coverage.html",
            StatusCode::OK,
            context! {
                by => by,
                bys => vec![json!({"key": "conforms_to"}), json!({"key": "hvd_category"}), json!({"key": "theme"})],
                columns => matrix.get("columns").cloned().unwrap_or(Value::Null),
                rows => matrix.get("rows").cloned().unwrap_or(Value::Null),
                topic => topic,
                publishers => publishers,
            },
        ))
    }
    .await;
    result.unwrap_or_else(|e| page.error(e))
}

/// A date or time as the pages show dates: `YYYY-MM-DD` (a year or a month as given).
fn day(value: &str) -> &str {
    value.get(..10).unwrap_or(value)
}

/// Gives each organisation row (with its `reading`) a `note`: whether its empty cells mean
/// none or unknown, in words. Returns the notes by kommunkod.
fn add_notes(rows: &mut Value, lang: &str) -> HashMap<String, String> {
    let mut notes = HashMap::new();
    for row in rows.as_array_mut().into_iter().flatten() {
        let note = reading_note(&row["reading"], lang);
        if let (Some(note), Some(code)) = (&note, row["code"].as_str()) {
            notes.insert(code.to_string(), note.clone());
        }
        row["note"] = note.map_or(Value::Null, Value::String);
    }
    notes
}

/// What a row's reading (`samla_reports::coverage::Reading`) means for its empty cells, in
/// words: `None` when they mean "publishes none".
fn reading_note(reading: &Value, lang: &str) -> Option<String> {
    let words = i18n::words(lang);
    let since = reading["since"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.format("%Y-%m-%d").to_string());
    match (reading["state"].as_str()?, since) {
        ("read", _) => None,
        ("failing", Some(since)) => Some(format!("{} {since}", words["reading_failing"])),
        ("no_source", _) => Some(words["reading_no_source"].to_string()),
        _ => Some(words["reading_never_read"].to_string()),
    }
}

fn band_label(band: Option<&str>, lang: &str) -> String {
    let words = i18n::words(lang);
    band.and_then(|b| words.get(format!("band_{b}").as_str()).copied())
        .unwrap_or("")
        .to_string()
}

/// `/hvd`: each organisation's high-value datasets by category, and how many meet the HVD
/// requirements.
async fn hvd(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let page = Page::new(&state, "/hvd", query.as_deref(), "hvd");
    let result = async {
        let mut report = report_json(&state, "hvd", String::new()).await?;
        let lang = page.lang;
        let columns: Vec<Value> = labels::HVD_CATEGORIES
            .iter()
            .map(|c| {
                json!({
                    "value": format!("{}{}", samla_model::vocab::eu::HVD, c.code),
                    "label": c.label(lang),
                })
            })
            .collect();
        let mut rows = report["organisations"].take();
        add_notes(&mut rows, lang);
        Ok::<_, ApiError>(page.render(
            "hvd.html",
            StatusCode::OK,
            context! { columns => columns, rows => rows },
        ))
    }
    .await;
    result.unwrap_or_else(|e| page.error(e))
}

/// Datasets listed by name on the freshness page; the CSV has them all.
const OVERDUE_LISTED: usize = 200;

async fn freshness(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let page = Page::new(&state, "/freshness", query.as_deref(), "freshness");
    let result = async {
        // The organisations' figures, and the most overdue datasets read from the report's
        // list (most overdue first) until the page has its share: never the whole list.
        let reports = Arc::clone(&state.reports);
        let (municipalities, overdue, overdue_total) = blocking(&state.work, move || {
            let report = samla_reports::freshness_report(&reports, chrono::Utc::now(), None, true)?;
            let total: u64 = report.municipalities.iter().map(|m| m.overdue).sum();
            let mut overdue = Vec::new();
            for row in report.datasets.values().take(OVERDUE_LISTED) {
                let row = row?;
                if row["status"] != "overdue" {
                    break;
                }
                overdue.push(row);
            }
            let municipalities = serde_json::to_value(&report.municipalities)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((municipalities, overdue, total))
        })
        .await?;
        let lang = page.lang;
        let mut municipalities: Vec<Value> =
            municipalities.as_array().cloned().unwrap_or_default();
        // Overdue first, then by name.
        municipalities.sort_by_cached_key(|m| {
            (
                std::cmp::Reverse(m["overdue"].as_u64().unwrap_or(0)),
                samla_model::region::swedish_order(m["name"].as_str().unwrap_or("")),
            )
        });
        let listed: Vec<Value> = overdue
            .iter()
            .map(|d| {
                json!({
                    "id": d["id"],
                    "title": d["title"],
                    "days": d["days"],
                    "modified": d["modified"],
                    "organisation": d["municipality_code"].as_str().and_then(|c| state.directory.by_code(c)).map(|o| o.name.clone()),
                    "frequency": d["accrual_periodicity"].as_str().and_then(labels::frequency).map(|c| c.label(lang)),
                })
            })
            .collect();
        Ok::<_, ApiError>(page.render(
            "freshness.html",
            StatusCode::OK,
            context! { municipalities, overdue => listed, overdue_total },
        ))
    }
    .await;
    result.unwrap_or_else(|e| page.error(e))
}

/// Runs shown on a source's page.
const RUNS_SHOWN: u32 = 50;

async fn source_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let page = Page::new(
        &state,
        &format!("/sources/{}", segment(&id)),
        query.as_deref(),
        "sources",
    );
    let result = async {
        let source = state
            .sources
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or_else(|| ApiError::NotFound(format!("no source {id:?}")))?;
        let reports = Arc::clone(&state.reports);
        let store = Arc::clone(&state.store);
        let org = source.organisation.clone();
        let (health, runs) = blocking(&state.work, move || {
            let health = samla_reports::health::health_report(&reports, chrono::Utc::now(), Some(&org))?
                .sources
                .into_iter()
                .find(|h| h.id == id);
            let runs: Vec<Value> = store
                .runs(&id, RUNS_SHOWN)
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .into_iter()
                .filter(|r| r.outcome.has_ended())
                .map(|r| {
                    let problems: Vec<Value> = r
                        .report
                        .problems
                        .iter()
                        .map(|g| {
                            let samples: Vec<Value> = g
                                .samples
                                .iter()
                                .take(3)
                                .map(|x| {
                                    // The offending record, where samla shows it.
                                    let record = x
                                        .subject
                                        .as_deref()
                                        .filter(|s| store.winner(s).ok().flatten().is_some());
                                    json!({"detail": x.detail, "subject": x.subject, "record": record})
                                })
                                .collect();
                            json!({"reason": g.reason, "count": g.count, "samples": samples})
                        })
                        .collect();
                    json!({
                        "finished": r.finished.format("%Y-%m-%d %H:%M").to_string(),
                        "outcome": r.outcome,
                        "new": r.new, "changed": r.changed, "unchanged": r.unchanged, "archived": r.archived,
                        "problems": problems,
                    })
                })
                .collect();
            Ok((health, runs))
        })
        .await?;
        let organisation = state
            .directory
            .by_code(&source.organisation)
            .map(|o| o.name.clone());
        Ok::<_, ApiError>(page.render(
            "source.html",
            StatusCode::OK,
            context! {
                s => json!({"id": source.id, "organisation": source.organisation, "protocol": source.protocol, "url": crate::safe_url(&source.url)}),
                organisation, health, runs,
            },
        ))
    }
    .await;
    result.unwrap_or_else(|e| page.error(e))
}

/// Days shown as columns of the history tables.
const HISTORY_DAYS: usize = 10;

async fn coverage_history(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let page = Page::new(&state, "/coverage/history", query.as_deref(), "coverage");
    let result = async {
        let report = report_json(&state, "coverage", String::new()).await?;
        let history: Vec<Value> = report["history"].as_array().cloned().unwrap_or_default();
        let days: Vec<Value> = history
            .iter()
            .map(|s| {
                json!({
                    "day": s["day"], "publishing": s["publishing"], "unknown": s["unknown"],
                    "conforms_to": s["filled"]["conforms_to"], "hvd_category": s["filled"]["hvd_category"],
                    "theme": s["filled"]["theme"],
                })
            })
            .collect();
        let shown = &history[history.len().saturating_sub(HISTORY_DAYS)..];
        let shown_days: Vec<&str> = shown.iter().filter_map(|s| s["day"].as_str()).collect();
        let mut organisations: Vec<Value> = state
            .directory
            .organisations()
            .iter()
            .map(|o| {
                let counts: Vec<Value> = shown.iter().map(|s| s["totals"][&o.code].clone()).collect();
                json!({"code": o.code, "name": o.name, "counts": counts})
            })
            .collect();
        organisations.sort_by_cached_key(|o| samla_model::region::swedish_order(o["name"].as_str().unwrap_or("")));
        // Per specification and day: how many organisations publish it.
        let mut specs: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
        for (i, s) in shown.iter().enumerate() {
            for cell in s["cells"]["conforms_to"].as_array().into_iter().flatten() {
                if let Some(spec) = cell[1].as_str() {
                    specs.entry(spec.to_string()).or_insert_with(|| vec![0; shown.len()])[i] += 1;
                }
            }
        }
        let specifications: Vec<Value> = specs
            .into_iter()
            .map(|(iri, counts)| json!({"label": labels::specification_label(&iri), "counts": counts}))
            .collect();
        Ok::<_, ApiError>(page.render(
            "history.html",
            StatusCode::OK,
            context! { days, shown_days, organisations, specifications },
        ))
    }
    .await;
    result.unwrap_or_else(|e| page.error(e))
}

/// Datasets listed by name on the national page; the CSV has them all.
const NATIONAL_LISTED: usize = 200;

async fn national(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let page = Page::new(&state, "/national", query.as_deref(), "national");
    let result = async {
        let report = report_json(&state, "national", String::new()).await?;
        let names: HashMap<String, String> = state
            .directory
            .organisations()
            .iter()
            .map(|o| (o.code.clone(), o.name.clone()))
            .collect();
        Ok::<_, ApiError>(page.render(
            "national.html",
            StatusCode::OK,
            context! { r => report, names => names, listed => NATIONAL_LISTED },
        ))
    }
    .await;
    result.unwrap_or_else(|e| page.error(e))
}

async fn quality(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let page = Page::new(&state, "/quality", query.as_deref(), "quality");
    let result = async {
        let report = quality_summary(&state, None).await?;
        let lang = page.lang;
        let rows: Vec<Value> = report
            .get("municipalities")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|m| {
                        let fixes: Vec<Value> = m
                            .get("top_fixes")
                            .and_then(Value::as_array)
                            .map(|f| {
                                f.iter()
                                    .take(3)
                                    .map(|f| json!({"text": f.get(lang), "datasets": f.get("datasets")}))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let band = m.get("band").and_then(Value::as_str);
                        json!({
                            "id": m.get("id"),
                            "name": m.get("name"),
                            "datasets": m.get("datasets"),
                            "points": m.get("points"),
                            "band": band,
                            "band_label": band_label(band, lang),
                            "top_fixes": fixes,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok::<_, ApiError>(page.render("quality.html", StatusCode::OK, context! { municipalities => rows }))
    }
    .await;
    result.unwrap_or_else(|e| page.error(e))
}

async fn demand(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let page = Page::new(&state, "/demand", query.as_deref(), "demand");
    let result = async {
        let r = report_json(&state, "demand", String::new()).await?;
        let get = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
        // A request names its municipality by code: the page shows its name.
        let mut requests = get("requests");
        if let Some(list) = requests.as_array_mut() {
            for request in list {
                let name = request["municipality"]
                    .as_str()
                    .and_then(|code| state.directory.by_code(code))
                    .map(|o| o.name.clone());
                request["municipality_name"] = name.map_or(Value::Null, Value::String);
            }
        }
        let top: Vec<Value> = r
            .get("top_queries")
            .and_then(Value::as_array)
            .map(|a| a.iter().take(20).cloned().collect())
            .unwrap_or_default();
        Ok::<_, ApiError>(page.render(
            "demand.html",
            StatusCode::OK,
            context! {
                searches => get("searches"),
                zero_result => get("zero_result"),
                repeats => get("repeats"),
                noise => get("noise"),
                top_queries => top,
                zero_result_groups => get("zero_result_groups"),
                requests => requests,
                answered => get("requests_answered"),
                weekly => get("weekly"),
                median_days => r.get("median_days_to_answer").and_then(Value::as_f64).map(|d| format!("{d:.1}")),
                specifications => get("specifications"),
            },
        ))
    }
    .await;
    result.unwrap_or_else(|e| page.error(e))
}

fn request_context(state: &AppState, page: &Page) -> Tpl {
    let organisations: Vec<Value> = state
        .directory
        .organisations()
        .iter()
        .map(|o| json!({"code": o.code, "name": o.name}))
        .collect();
    let themes: Vec<Value> = labels::THEMES
        .iter()
        .map(|c| json!({"code": c.code, "label": c.label(page.lang)}))
        .collect();
    context! {
        organisations => organisations,
        themes => themes,
        organisation_types => reports::demand::ORGANISATION_TYPES,
    }
}

async fn request_form(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let page = Page::new(&state, "/request", query.as_deref(), "request");
    let ctx = request_context(&state, &page);
    page.render(
        "request.html",
        StatusCode::OK,
        context! { form => json!({}), ..ctx },
    )
}

async fn request_post(
    State(state): State<AppState>,
    client: Option<axum::Extension<crate::client::ClientAddr>>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    let page = Page::new(&state, "/request", query.as_deref(), "request");
    let mut form = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        form.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    let ctx = request_context(&state, &page);
    let input =
        serde_json::from_value::<reports::demand::DataRequestInput>(Value::Object(form.clone()))
            .map_err(|e| ApiError::bad("body", format!("not a data request: {e}")));
    let filed = match input {
        Ok(input) => crate::accept_request(&state, client.map(|c| c.0.0), input).await,
        Err(e) => Err(e),
    };
    match filed {
        Ok((id, _)) => page.render(
            "request.html",
            StatusCode::CREATED,
            context! { filed => id, form => json!({}), ..ctx },
        ),
        Err(e @ ApiError::BadParameter { .. }) => {
            let field = match &e {
                ApiError::BadParameter { parameter, .. } => parameter.clone(),
                _ => String::new(),
            };
            page.render(
                "request.html",
                StatusCode::BAD_REQUEST,
                context! { error => e.to_string(), error_field => field, form => Value::Object(form), ..ctx },
            )
        }
        Err(e) => page.error(e),
    }
}
