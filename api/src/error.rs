//! API errors: stable codes and statuses; details of internal errors are logged, not sent.

use crate::wire::{ErrorBody, ErrorDetail};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter is invalid.
    #[error("{parameter}: {message}")]
    BadParameter {
        /// The parameter.
        parameter: String,
        /// What is wrong.
        message: String,
    },
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// No credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Wrong credentials, or the action is disabled.
    #[error("{0}")]
    Forbidden(String),
    /// The action conflicts with the state (a run already going).
    #[error("{message}")]
    Conflict {
        /// What conflicts.
        message: String,
        /// Extra fields for the body.
        detail: serde_json::Value,
    },
    /// None of the representations the client accepts is served.
    #[error("{0}")]
    NotAcceptable(String),
    /// Too many requests from one client.
    #[error("{0}")]
    TooManyRequests(String),
    /// Temporarily unable (shutting down).
    #[error("{0}")]
    Unavailable(String),
    /// Our fault; logged.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A bad parameter.
    pub fn bad(parameter: &str, message: impl Into<String>) -> Self {
        Self::BadParameter {
            parameter: parameter.into(),
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = |code: &'static str, message: String| ErrorDetail {
            code,
            message,
            parameter: None,
            detail: None,
        };
        let (status, error) = match self {
            ApiError::BadParameter { parameter, message } => (
                StatusCode::BAD_REQUEST,
                ErrorDetail {
                    message: format!("{parameter}: {message}"),
                    parameter: Some(parameter),
                    ..body("bad_parameter", String::new())
                },
            ),
            ApiError::NotFound(message) => (StatusCode::NOT_FOUND, body("not_found", message)),
            ApiError::Unauthorized(message) => {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
                    axum::Json(ErrorBody {
                        error: body("unauthorized", message),
                    }),
                )
                    .into_response();
            }
            ApiError::Forbidden(message) => (StatusCode::FORBIDDEN, body("forbidden", message)),
            ApiError::Conflict { message, detail } => (
                StatusCode::CONFLICT,
                ErrorDetail {
                    detail: Some(detail),
                    ..body("conflict", message)
                },
            ),
            ApiError::NotAcceptable(message) => {
                (StatusCode::NOT_ACCEPTABLE, body("not_acceptable", message))
            }
            ApiError::TooManyRequests(message) => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(axum::http::header::RETRY_AFTER, "3600")],
                    axum::Json(ErrorBody {
                        error: body("too_many_requests", message),
                    }),
                )
                    .into_response();
            }
            ApiError::Unavailable(message) => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(axum::http::header::RETRY_AFTER, "1")],
                    axum::Json(ErrorBody {
                        error: body("unavailable", message),
                    }),
                )
                    .into_response();
            }
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    body("internal", "internal error".into()),
                )
            }
        };
        (status, axum::Json(ErrorBody { error })).into_response()
    }
}

impl From<samla_reports::ReportError> for ApiError {
    fn from(e: samla_reports::ReportError) -> Self {
        use samla_reports::ReportError;
        match e {
            ReportError::BadParameter { parameter, message } => {
                ApiError::BadParameter { parameter, message }
            }
            ReportError::NotFound(message) => ApiError::NotFound(message),
            e @ (ReportError::Store(_) | ReportError::Facts(_) | ReportError::Render(_)) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

/// The longest a client may take to send a request's body.
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15);

/// The largest request body taken.
pub const MAX_REQUEST_BODY: usize = 1 << 20;

/// Reads a request's body whole, within [`BODY_DEADLINE`] and [`MAX_REQUEST_BODY`], before
/// the handler sees it: a client that sends a body slowly or without end is answered 408 and
/// its connection closed; a body over the limit is answered 413, in the API's error shape.
pub async fn bounded_body(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let read =
        tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, MAX_REQUEST_BODY)).await;
    let error = |status: StatusCode, code: &'static str, message: String| {
        (
            status,
            [(axum::http::header::CONNECTION, "close")],
            axum::Json(ErrorBody {
                error: ErrorDetail {
                    code,
                    message,
                    parameter: None,
                    detail: None,
                },
            }),
        )
            .into_response()
    };
    match read {
        Ok(Ok(bytes)) => {
            next.run(axum::extract::Request::from_parts(
                parts,
                axum::body::Body::from(bytes),
            ))
            .await
        }
        Ok(Err(e)) if is_length_limit(&e) => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is over {MAX_REQUEST_BODY} bytes"),
        ),
        Ok(Err(e)) => error(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!("the request body could not be read: {e}"),
        ),
        Err(_) => error(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the request body did not arrive within {BODY_DEADLINE:?}"),
        ),
    }
}

/// Whether reading a body stopped at its length limit.
fn is_length_limit(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = c.source();
    }
    false
}
