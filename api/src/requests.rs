//! A data request's life: `GET /api/v1/requests/{id}` shows it (never its contact) with its
//! status, answer, dataset and samla's proposals; `POST /api/v1/requests/{id}/answer` sets
//! them, with the admin token or the token of the organisation it is about. The requester,
//! if the contact they left is an e-mail address, is mailed each new status.

use crate::{ApiError, AppState, blocking};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use samla_reports::requests::{self, RequestState, Status};
use samla_store::StoredRequest;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// An answer to a request, as JSON or a form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// `new`, `acknowledged`, `planned`, `published` or `declined`.
    #[serde(default)]
    pub status: String,
    /// The answer to the requester (at most 4 000 characters).
    #[schema(max_length = 4000)]
    pub answer: Option<String>,
    /// The id of the dataset that answers it.
    pub dataset: Option<String>,
    /// The token, for a form (an API client sends `Authorization: Bearer`).
    #[serde(default)]
    pub token: Option<String>,
}

/// The request numbered `id`, if filed.
async fn filed(state: &AppState, id: i64) -> Result<StoredRequest, ApiError> {
    let store = Arc::clone(&state.store);
    blocking(&state.work, move || {
        store
            .request(id)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .ok_or_else(|| ApiError::NotFound(format!("no data request {id}")))
    })
    .await
}

/// A request as anyone may see it: without its contact.
pub(crate) fn shown(request: &StoredRequest, state: &RequestState) -> Value {
    let mut asked = request.request.clone();
    if let Some(o) = asked.as_object_mut() {
        o.remove("contact");
    }
    json!({
        "id": request.id,
        "at": request.at,
        "request": asked,
        "status": state.status,
        "answer": state.answer,
        "dataset": state.dataset,
        "answered": state.answered,
        "updated": state.updated,
        "proposals": state.proposals,
    })
}

/// A request and its state, by number: for the page.
pub(crate) async fn view(state: &AppState, id: &str) -> Result<Value, ApiError> {
    let id = number(id)?;
    let request = filed(state, id).await?;
    let store = Arc::clone(&state.store);
    let kept = blocking(&state.work, move || {
        requests::load(&store, id).map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    Ok(shown(&request, &kept))
}

fn number(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .ok()
        .filter(|n: &i64| *n > 0)
        .ok_or_else(|| ApiError::NotFound(format!("no data request {id:?}")))
}

/// `GET /api/v1/requests/{id}`: a data request with its status, answer, dataset and the
/// datasets samla proposes (never its contact).
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "demand",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The request"),
        (status = 404, description = "No such request", body = crate::wire::ErrorBody),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(view(&state, &id).await?).into_response())
}

/// Who `token` lets answer a request about `municipality`: `admin`, or the organisation
/// whose token it is when the request is about it.
fn answerer(state: &AppState, token: &str, municipality: Option<&str>) -> Result<String, ApiError> {
    if token.is_empty() {
        return Err(ApiError::Unauthorized(
            "this needs the admin token or the organisation's: Authorization: Bearer <token>"
                .into(),
        ));
    }
    if state
        .admin_token
        .as_deref()
        .is_some_and(|admin| samla_notify::alerts::same(token, admin))
    {
        return Ok("admin".into());
    }
    match state
        .organisation_tokens
        .iter()
        .find(|(_, t)| samla_notify::alerts::same(token, t))
    {
        Some((code, _)) if municipality == Some(code.as_str()) => Ok(code.clone()),
        Some(_) => Err(ApiError::Forbidden(
            "this organisation's token answers only requests about it".into(),
        )),
        None => Err(ApiError::Forbidden("the token is not valid".into())),
    }
}

/// Sets a request's status, answer and dataset; mails the requester a new status when they
/// left an e-mail address.
pub(crate) async fn apply(
    state: &AppState,
    id: &str,
    token: &str,
    input: AnswerInput,
) -> Result<Value, ApiError> {
    let id = number(id)?;
    let request = filed(state, id).await?;
    let municipality = request.request.get("municipality").and_then(Value::as_str);
    let by = answerer(state, token, municipality)?;
    let status = Status::parse(&input.status).ok_or_else(|| {
        ApiError::bad(
            "status",
            format!(
                "{:?} is not one of new, acknowledged, planned, published, declined",
                input.status
            ),
        )
    })?;
    let answer = input
        .answer
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    if let Some(a) = &answer {
        if a.chars().count() > 4000 {
            return Err(ApiError::bad("answer", "at most 4000 characters"));
        }
        if a.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(ApiError::bad(
                "answer",
                "must not contain control characters",
            ));
        }
    }
    let dataset = input
        .dataset
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if let Some(d) = &dataset {
        let store = Arc::clone(&state.store);
        let key = d.clone();
        let known = blocking(&state.work, move || {
            store
                .winner(&key)
                .map(|w| w.is_some())
                .map_err(|e| ApiError::Internal(e.to_string()))
        })
        .await?;
        if !known {
            return Err(ApiError::bad(
                "dataset",
                format!("no dataset {d:?} is shown"),
            ));
        }
    }
    let now = chrono::Utc::now();
    let store = Arc::clone(&state.store);
    let by_whom = by.clone();
    // Onto the state as it is now: proposals made meanwhile stay.
    let (before, kept) = blocking(&state.work, move || {
        requests::update(&store, id, |fresh| {
            fresh.status = status;
            fresh.answer = answer.clone();
            fresh.dataset = dataset.clone();
            fresh.updated = Some(now);
            fresh.by = Some(by_whom.clone());
            if status != Status::New {
                fresh.answered.get_or_insert(now);
            }
        })
        .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    let changed = before.status != status;
    let contact = request
        .request
        .get("contact")
        .and_then(Value::as_str)
        .and_then(|c| samla_notify::email_address(c).ok());
    if let (true, Some(address), Some(notifier)) = (changed, contact, &state.notifier)
        && notifier.sends_mail()
    {
        let what = request
            .request
            .get("what")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mail = samla_notify::Mail::Request {
            id,
            what,
            state: &kept,
            page_url: notifier.link(&format!("/request/{id}")),
            dataset_url: kept
                .dataset
                .as_deref()
                .map(|d| notifier.link(&format!("/dataset/{}", crate::feed::segment(d)))),
        };
        if let Err(e) = notifier.send_mail(&address, &mail, "sv").await {
            tracing::warn!(request = id, error = %e, "the requester was not mailed");
        }
    }
    Ok(shown(&request, &kept))
}

/// `POST /api/v1/requests/{id}/answer`: sets a request's status (`new`, `acknowledged`,
/// `planned`, `published`, `declined`), answer and dataset, with the admin token or the token
/// of the organisation the request is about.
#[utoipa::path(post, path = "/api/v1/requests/{id}/answer", tag = "demand",
    params(("id" = i64, Path)),
    request_body(content(
        (AnswerInput = "application/json"),
        (AnswerInput = "application/x-www-form-urlencoded"),
    )),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The request as it stands now"),
        (status = 400, description = "A field is invalid; the body names it", body = crate::wire::ErrorBody),
        (status = 401, description = "No token given", body = crate::wire::ErrorBody),
        (status = 403, description = "The token does not answer this request", body = crate::wire::ErrorBody),
        (status = 404, description = "No such request", body = crate::wire::ErrorBody),
    ))]
pub(crate) async fn answer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let input: AnswerInput = crate::read_input(&headers, &body, "an answer")?;
    let token = headers
        .get(header::AUTHORIZATION)
        .map(crate::bearer)
        .map(str::to_string)
        .or_else(|| input.token.clone())
        .unwrap_or_default();
    let answered = apply(&state, &id, &token, input).await?;
    Ok((StatusCode::OK, axum::Json(answered)).into_response())
}
