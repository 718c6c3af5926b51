//! The one error type of the HTTP layer: every failure becomes a status and a JSON body
//! `{"error": CODE, "message": "..."}`; internal causes go to the log, never to the client.

use axum::{
    Json,
    extract::rejection::JsonRejection,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use hypnos_crypto::wire::ErrorBody;

use crate::{metrics::DatabaseFailure, storage::StoreError};

/// What a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed or invalid input (400).
    #[error("{0}")]
    BadRequest(String),
    /// No valid session, or a failed proof (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated but not allowed (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// Nothing there, or nothing the caller may see (404).
    #[error("{0}")]
    NotFound(&'static str),
    /// The request conflicts with the current state (409), with a code.
    #[error("{message}")]
    Conflict {
        /// The machine-readable code.
        code: &'static str,
        /// The sentence.
        message: &'static str,
    },
    /// The body is larger than the server accepts (413).
    #[error("request body too large")]
    TooLarge,
    /// Too many attempts; retry after this many seconds (429).
    #[error("too many attempts")]
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// The database is unreachable (503): the request can be retried.
    #[error("service unavailable")]
    Unavailable,
    /// The server is at a limit of its own (503): the request can be retried later.
    #[error("{0}")]
    Busy(&'static str),
    /// A bug or an unexpected failure (500); the cause is logged, not sent.
    #[error("internal error")]
    Internal(String),
    /// A statement the database refused for no reason the request could help (500), as
    /// [`ApiError::Internal`] but counted as a database error in the metrics.
    #[error("internal error")]
    Database(String),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound("not found"),
            StoreError::Conflict(what) => ApiError::Conflict {
                code: "CONFLICT",
                message: what.label(),
            },
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::Unavailable
            }
            StoreError::Other(cause) => ApiError::Database(cause),
        }
    }
}

impl From<hypnos_crypto::CryptoError> for ApiError {
    /// The server's own crypto fails only for environmental reasons (the random generator).
    fn from(err: hypnos_crypto::CryptoError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(_)
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ApiError::TooLarge
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::BadRequest(
                "expected a JSON body with Content-Type: application/json".into(),
            ),
            other => ApiError::BadRequest(format!("invalid JSON body: {}", other.body_text())),
        }
    }
}

impl ApiError {
    /// The failure of the database this error reports, if it is one.
    pub fn database_failure(&self) -> Option<DatabaseFailure> {
        match self {
            ApiError::Unavailable => Some(DatabaseFailure::Unavailable),
            ApiError::Database(_) => Some(DatabaseFailure::Failed),
            _ => None,
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
            ApiError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "BUSY"),
            ApiError::Internal(_) | ApiError::Database(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(cause) | ApiError::Database(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let database = self.database_failure();
        let message = match &self {
            ApiError::RateLimited { retry_after_secs } => {
                format!("too many attempts: try again in {retry_after_secs} seconds")
            }
            ApiError::Unavailable => "the database is unavailable: try again shortly".into(),
            other => other.to_string(),
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: code.into(),
                message,
            }),
        )
            .into_response();
        if let Some(failure) = database {
            // For the request counter of `metrics::track`, which knows nothing of handlers.
            response.extensions_mut().insert(failure);
        }
        if let ApiError::RateLimited { retry_after_secs } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs.max(1)),
            );
        }
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
