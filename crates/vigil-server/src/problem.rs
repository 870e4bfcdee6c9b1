//! Errors of the API as RFC 9457 problem details (`application/problem+json`).
//!
//! Store errors map to statuses by what went wrong: the caller's input
//! (`Invalid` → 422, malformed requests → 400), a record that does not exist
//! *or is not visible* (`NotFound` → 404, so ids of other agencies cannot be
//! probed), a refused action (`Denied` → 403), a clash (`Conflict` → 409).
//! Anything else is a 500 whose body says nothing about internals; the
//! detail goes to the server's standard error only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_store::StoreError;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Problem {
    /// A URI naming the kind of problem (relative to the API).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("/api/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: Some(detail.into()),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    pub fn unauthorized() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in, or send an API token as Authorization: Bearer …",
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Invalid(v) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", v.to_string())
            }
            StoreError::NotFound { .. } => Problem::not_found(e.to_string()),
            StoreError::Denied(_) => Problem::new(StatusCode::FORBIDDEN, "denied", e.to_string()),
            StoreError::Conflict(_) => {
                Problem::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            _ => {
                // Internals (SQL, paths) stay in the server's log.
                eprintln!("vigil serve: internal error: {e}");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; the details are in the server log",
                )
            }
        }
    }
}

impl From<vigil_domain::ValidationError> for Problem {
    fn from(e: vigil_domain::ValidationError) -> Self {
        Problem::from(StoreError::Invalid(e))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"vigil\""),
            );
        }
        res
    }
}
