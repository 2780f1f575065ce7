//! What can go wrong building a report.

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A parameter is invalid (a 400 at the API).
    #[error("{parameter}: {message}")]
    BadParameter {
        /// The parameter.
        parameter: String,
        /// What is wrong.
        message: String,
    },
    /// No such report or chart.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] samla_store::StoreError),
    /// The reports' file of facts could not be written or read back.
    #[error("the reports' facts on disk: {0}")]
    Facts(String),
    /// Rendering failed (CSV, JSON or SVG).
    #[error("rendering: {0}")]
    Render(String),
}

impl ReportError {
    /// A bad parameter.
    pub fn bad(parameter: &str, message: impl Into<String>) -> Self {
        Self::BadParameter {
            parameter: parameter.into(),
            message: message.into(),
        }
    }

    /// A rendering failure.
    pub(crate) fn render(e: impl std::fmt::Display) -> Self {
        Self::Render(e.to_string())
    }
}
