//! The API's error type: a JSON body `{"error":{"code":"…","message":"…"}}` with the
//! right status, and a JSON body extractor whose rejections are such errors too.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is malformed (400).
    #[error("{message}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// No valid credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing there, or nothing the caller may see (404).
    #[error("{0}")]
    NotFound(String),
    /// Nothing there yet, with a specific code (404).
    #[error("{1}")]
    NotFoundCode(&'static str, String),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The request is refused in the current state, with a specific code (409).
    #[error("{message}")]
    Refused {
        /// Machine-readable code (`too_late`, `play_limit_reached`, …).
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The link or resource is gone for good (410).
    #[error("{0}")]
    Gone(String),
    /// The body is too large (413).
    #[error("the request body is larger than the limit")]
    PayloadTooLarge,
    /// The body is not JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed but invalid (422).
    #[error("{message}")]
    Unprocessable {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// Too many attempts (429).
    #[error("too many attempts; retry in {retry_after_s} s")]
    TooManyRequests {
        /// Seconds before the next attempt may succeed.
        retry_after_s: u64,
    },
    /// Our fault (500); the cause is logged, not shown.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A 409 with a specific code.
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Refused {
            code,
            message: message.into(),
        }
    }

    /// A 422 with a code.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            code,
            message: message.into(),
        }
    }

    /// The status and machine-readable code of this error.
    pub fn status_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::NotFoundCode(code, _) => (StatusCode::NOT_FOUND, code),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Refused { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::Gone(_) => (StatusCode::GONE, "gone"),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// The JSON shape of every error.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"error": {"code": "not_found", "message": "no such candidate"}}))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code (`malformed_json`, `not_found`, …).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_code();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: self.to_string(),
            },
        };
        let mut res = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after_s } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_unique_violation(&e) {
            return ApiError::Conflict("this already exists".to_owned());
        }
        ApiError::Internal(format!("database: {e}"))
    }
}

/// A store error no handler mapped to a specific answer: a conflict for a broken
/// constraint, a 500 otherwise (the details go to the log, not to the client).
impl From<crate::db::StoreError> for ApiError {
    fn from(e: crate::db::StoreError) -> Self {
        match e {
            crate::db::StoreError::Db(e) => e.into(),
            crate::db::StoreError::Constraint { .. } => {
                ApiError::Conflict("this already exists".to_owned())
            }
            crate::db::StoreError::Corrupt(what) => {
                ApiError::Internal(format!("a stored row is corrupt: {what}"))
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
                "malformed_json",
                format!("the body is not valid JSON: {}", source_text(&e)),
            ),
            JsonRejection::JsonDataError(e) => ApiError::invalid(
                "invalid_body",
                format!(
                    "the body does not have the expected shape: {}",
                    source_text(&e)
                ),
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".to_owned(),
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge
            }
            other => ApiError::bad_request("bad_body", other.body_text()),
        }
    }
}

fn source_text(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        last = s.to_string();
        cur = s.source();
    }
    last
}

/// A JSON body whose rejections are [`ApiError`]s (400 malformed, 422 wrong shape,
/// 413 too large, 415 not JSON).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(v) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(v))
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// A query string whose rejections are [`ApiError`]s (400 `bad_query`), so that every
/// error of the API has the same JSON shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(v) =
            Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|e: QueryRejection| {
                    ApiError::bad_request(
                        "bad_query",
                        format!("the query string is not valid: {}", source_text(&e)),
                    )
                })?;
        Ok(ApiQuery(v))
    }
}
