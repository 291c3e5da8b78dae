//! The one place where errors become HTTP responses:
//! `{"errors":[{"code":"…","detail":"…"}]}` with a fitting status.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::registry::{ErrorKind, RegistryError};

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub errors: Vec<ErrorEntry>,
}

#[derive(Debug, Serialize)]
pub struct ErrorEntry {
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The suggestion as an id and values, for a client's own language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<gemeinwerk_package::diagnostics::Hint>,
    /// What one of the registry's own parsers found (the `detail` arg), as
    /// an id and values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<gemeinwerk_package::diagnostics::Cause>,
    /// The values a diagnostic's message names, so that a client can say
    /// it in its own language from `code` and these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<std::collections::BTreeMap<String, String>>,
}

impl ErrorEntry {
    pub fn new(code: &str, detail: impl Into<String>) -> Self {
        ErrorEntry {
            code: code.to_string(),
            detail: detail.into(),
            file: None,
            line: None,
            column: None,
            suggestion: None,
            hint: None,
            cause: None,
            args: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{detail}")]
    Http {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Http {
            status,
            code,
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the server is shutting down or overloaded; try again",
        )
    }
}

fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Registry(e) => status_of(e.kind()),
            ApiError::Http { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let errors = match self {
            ApiError::Registry(RegistryError::Invalid(diagnostics)) => diagnostics
                .iter()
                .map(|d| ErrorEntry {
                    code: d.code.clone(),
                    detail: d.to_string(),
                    file: Some(d.file.clone()),
                    line: (d.line > 0).then_some(d.line),
                    column: (d.line > 0).then_some(d.column),
                    suggestion: d.suggestion.clone(),
                    hint: d.hint.clone(),
                    cause: d.cause.clone(),
                    args: (!d.args.is_empty()).then(|| d.args.clone()),
                })
                .collect(),
            ApiError::Registry(e) if e.kind() == ErrorKind::Internal => {
                // Logged once, here; the client gets no internals.
                tracing::error!(error = %e, "internal error");
                vec![ErrorEntry::new(
                    "internal",
                    "an internal error occurred; the operator finds it in the server log",
                )]
            }
            ApiError::Registry(e @ RegistryError::Blob(_)) => {
                // The detail names the store's endpoint: for the log only.
                tracing::error!(error = %e, "blob store failed");
                vec![ErrorEntry::new(
                    e.code(),
                    "the archive store does not answer; try again in a moment",
                )]
            }
            ApiError::Registry(e) => vec![ErrorEntry::new(e.code(), e.to_string())],
            ApiError::Http { code, detail, .. } => vec![ErrorEntry::new(code, detail.clone())],
        };
        let mut response = HttpResponse::build(self.status_code());
        if self.status_code() == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer realm=\"gemeinwerk\""));
        }
        if let ApiError::Registry(RegistryError::RateLimited { retry_after, .. }) = self {
            response.insert_header(("Retry-After", retry_after.to_string()));
        }
        response.json(ErrorBody { errors })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
