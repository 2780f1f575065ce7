//! Saved searches: `POST /api/v1/alerts` saves a search (the query string of a search URL)
//! with a webhook or an e-mail address; `GET` and `DELETE /api/v1/alerts/{id}?token=…` show
//! and end it. The web UI's form and the links in mails use the same functions.

use crate::params::SearchParams;
use crate::{ApiError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use samla_notify::{Alert, Created, NewAlert, Notifier, NotifyError};
use serde::Deserialize;
use std::sync::Arc;

/// A search to save, as JSON or a form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertInput {
    /// The search, as the query string of a search URL: `q=fiber&municipality=1280`.
    #[serde(default)]
    pub search: String,
    /// Mail to this address (a confirmation mail is sent first)…
    pub email: Option<String>,
    /// …or POST signed JSON to this URL.
    pub webhook: Option<String>,
    /// The webhook's HMAC-SHA256 key, 16 to 256 characters (made up and returned if not
    /// given).
    pub secret: Option<String>,
    /// The language of the mails: `sv` (default) or `en`.
    pub lang: Option<String>,
}

/// The notifier, or a 404 where this samla keeps no saved searches.
pub(crate) fn notifier(state: &AppState) -> Result<&Arc<Notifier>, ApiError> {
    state
        .notifier
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("this samla keeps no saved searches".into()))
}

impl From<NotifyError> for ApiError {
    fn from(e: NotifyError) -> Self {
        match e {
            NotifyError::Invalid { field, message } => ApiError::bad(field, message),
            NotifyError::NotFound(_) => ApiError::NotFound(e.to_string()),
            NotifyError::Undelivered(_) => ApiError::Unavailable(e.to_string()),
            NotifyError::Internal(_) => ApiError::Internal(e.to_string()),
        }
    }
}

/// Saves a search for `client`: the search is read as a search URL's query is (a bad one is
/// refused, naming its parameter); at most the data requests' hourly number per client.
pub(crate) async fn save(
    state: &AppState,
    client: Option<std::net::IpAddr>,
    input: AlertInput,
) -> Result<Created, ApiError> {
    let notifier = notifier(state)?;
    let search = input.search.trim().trim_start_matches('?').to_string();
    let params = SearchParams::parse(&search).map_err(|e| match e {
        ApiError::BadParameter { parameter, message } => {
            ApiError::bad("search", format!("{parameter}: {message}"))
        }
        other => other,
    })?;
    if params.dates().iter().any(|(_, day)| day.is_some()) {
        return Err(ApiError::bad(
            "search",
            "a saved search keeps words and filters, not dates: it tells of what is new",
        ));
    }
    let request = params.request(&state.directory)?;
    if request.q.as_deref().is_none_or(|q| q.trim().is_empty()) && request.filters.is_empty() {
        return Err(ApiError::bad(
            "search",
            "a saved search needs words or a filter: every dataset would match",
        ));
    }
    let ip = client.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    if !state.requests.admit(ip) {
        return Err(ApiError::TooManyRequests(
            "too many requests from this address; try again within the hour".into(),
        ));
    }
    let new = NewAlert {
        search,
        q: request.q,
        filters: request.filters,
        email: input.email,
        webhook: input.webhook,
        secret: input.secret,
        lang: input.lang.unwrap_or_else(|| params.lang.clone()),
    };
    Ok(notifier.create_alert(new, chrono::Utc::now()).await?)
}

/// `POST /api/v1/alerts`: saves a search. 201 with its id, its state (`pending` until a
/// mail's address is confirmed, `active` for a webhook), the token that ends it and, when
/// samla made it up, the webhook's signing key.
#[utoipa::path(post, path = "/api/v1/alerts", tag = "alerts",
    request_body(content(
        (AlertInput = "application/json"),
        (AlertInput = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "Saved", body = crate::wire::AlertSaved),
        (status = 400, description = "A field is invalid; the body names it", body = crate::wire::ErrorBody),
        (status = 429, description = "Too many requests from this address this hour", body = crate::wire::ErrorBody),
        (status = 503, description = "The confirmation mail could not be sent", body = crate::wire::ErrorBody),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    client: Option<axum::Extension<crate::client::ClientAddr>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let input: AlertInput = crate::read_input(&headers, &body, "a saved search")?;
    let created = save(&state, client.map(|c| c.0.0), input).await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// The token of a saved-search link.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// A saved search as its holder sees it.
pub(crate) fn shown(alert: &Alert) -> serde_json::Value {
    serde_json::json!({
        "id": alert.id,
        "search": alert.search,
        "state": alert.state.as_str(),
        "delivery": match &alert.delivery {
            samla_notify::Delivery::Email { .. } => "email",
            samla_notify::Delivery::Webhook { .. } => "webhook",
        },
        "created": alert.created,
        "datasets_sent": alert.sent,
        "failures": alert.failures,
        "last_error": alert.last_error,
    })
}

/// `GET /api/v1/alerts/{id}?token=…`: a saved search's state.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts",
    params(("id" = String, Path), ("token" = String, Query)),
    responses(
        (status = 200, description = "The saved search"),
        (status = 404, description = "No saved search with this id and token", body = crate::wire::ErrorBody),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Result<Response, ApiError> {
    let alert = notifier(&state)?.alert(&id, &q.token).await?;
    Ok(axum::Json(shown(&alert)).into_response())
}

/// `DELETE /api/v1/alerts/{id}?token=…`: ends a saved search. 204.
#[utoipa::path(delete, path = "/api/v1/alerts/{id}", tag = "alerts",
    params(("id" = String, Path), ("token" = String, Query)),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No saved search with this id and token", body = crate::wire::ErrorBody),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Result<Response, ApiError> {
    notifier(&state)?.unsubscribe(&id, &q.token).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
