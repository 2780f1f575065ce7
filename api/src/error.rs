//! API errors: stable codes and statuses; details of internal errors are logged, not sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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
        let (status, body) = match &self {
            ApiError::BadParameter { parameter, message } => (
                StatusCode::BAD_REQUEST,
                json!({"error": {"code": "bad_parameter", "parameter": parameter, "message": format!("{parameter}: {message}")}}),
            ),
            ApiError::NotFound(message) => (
                StatusCode::NOT_FOUND,
                json!({"error": {"code": "not_found", "message": message}}),
            ),
            ApiError::Unauthorized(message) => {
                let body = json!({"error": {"code": "unauthorized", "message": message}});
                return (
                    StatusCode::UNAUTHORIZED,
                    [(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
                    axum::Json(body),
                )
                    .into_response();
            }
            ApiError::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                json!({"error": {"code": "forbidden", "message": message}}),
            ),
            ApiError::Conflict { message, detail } => (
                StatusCode::CONFLICT,
                json!({"error": {"code": "conflict", "message": message, "detail": detail}}),
            ),
            ApiError::NotAcceptable(message) => (
                StatusCode::NOT_ACCEPTABLE,
                json!({"error": {"code": "not_acceptable", "message": message}}),
            ),
            ApiError::TooManyRequests(message) => {
                let body = json!({"error": {"code": "too_many_requests", "message": message}});
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(axum::http::header::RETRY_AFTER, "3600")],
                    axum::Json(body),
                )
                    .into_response();
            }
            ApiError::Unavailable(message) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": {"code": "unavailable", "message": message}}),
            ),
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": {"code": "internal", "message": "internal error"}}),
                )
            }
        };
        (status, axum::Json(body)).into_response()
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
            e @ (ReportError::Store(_) | ReportError::Render(_)) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}
