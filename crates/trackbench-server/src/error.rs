//! The one error type of every handler, rendered as MLflow renders errors:
//! `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "…"}` with the matching HTTP status.
//! The native API uses the same shape, so a client needs one error parser.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use trackbench_store::StoreError;

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// MLflow's error code name (`INVALID_PARAMETER_VALUE`, `RESOURCE_DOES_NOT_EXIST`, …).
    pub code: &'static str,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    /// 400 `INVALID_PARAMETER_VALUE`.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
    }

    /// 404 `RESOURCE_DOES_NOT_EXIST`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", message)
    }

    /// 500 `INTERNAL_ERROR`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let message = e.to_string();
        match &e {
            StoreError::RunNotFound(_)
            | StoreError::ProjectNotFound(_)
            | StoreError::ArtifactNotFound(_)
            | StoreError::AbNotFound(_)
            | StoreError::NotFound { .. } => ApiError::not_found(message),
            StoreError::ProjectExists(_) | StoreError::AlreadyExists { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS", message)
            }
            StoreError::Invalid { .. } | StoreError::Filter(_) | StoreError::AmbiguousRun(..) => {
                ApiError::invalid(message)
            }
            _ if e.is_disk_full() => ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "RESOURCE_EXHAUSTED", message),
            StoreError::Database { unavailable: true, .. } => {
                tracing::warn!(error = %e, "the database is unavailable");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE", message)
            }
            _ if e.is_busy() => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE", message),
            _ => {
                tracing::error!(error = %e, "store error");
                ApiError::internal(message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error_code": self.code, "message": self.message });
        (self.status, axum::Json(body)).into_response()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}
