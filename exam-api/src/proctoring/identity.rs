//! The candidate's identity step: a selfie and an ID document, each checked by the face
//! analysis the binary plugs in ([`IdentityVision`]); once both are accepted, their
//! faces' similarity is stored for the reviewer and the step is done. Images never go
//! to logs; face embeddings are never stored.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::store::{self, NewCapture};
use super::{Capture, CaptureProblem, IdentityVision};
use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::{Db, StoreError, now_ms};
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::meta::Binary;

/// The largest accepted capture, in bytes.
pub(crate) const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// The routes of the identity step.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/identity", get(status))
        .route(
            "/api/v1/me/identity/selfie",
            put(selfie).layer(DefaultBodyLimit::max(MAX_IMAGE_BYTES)),
        )
        .route(
            "/api/v1/me/identity/document",
            put(document).layer(DefaultBodyLimit::max(MAX_IMAGE_BYTES)),
        )
}

/// The state of the candidate's identity step.
#[derive(Serialize, Debug, ToSchema)]
struct StatusOut {
    /// An accepted selfie is stored.
    selfie: bool,
    /// An accepted document is stored.
    document: bool,
    /// Both were accepted and compared: the step is done.
    done: bool,
}

/// The answer to an accepted capture.
#[derive(Serialize, Debug, ToSchema)]
struct AcceptedOut {
    /// Always `true` (a refused capture answers 422).
    accepted: bool,
    #[serde(flatten)]
    status: StatusOut,
}

/// An error of the identity routes: the API's errors, and 503 when no face analysis is
/// configured (the API's error type has no 503).
#[derive(Debug)]
enum IdentityError {
    Api(ApiError),
    VisionUnavailable,
}

impl From<ApiError> for IdentityError {
    fn from(e: ApiError) -> Self {
        IdentityError::Api(e)
    }
}

impl From<StoreError> for IdentityError {
    fn from(e: StoreError) -> Self {
        IdentityError::Api(e.into())
    }
}

impl IntoResponse for IdentityError {
    fn into_response(self) -> Response {
        match self {
            IdentityError::Api(e) => e.into_response(),
            IdentityError::VisionUnavailable => {
                let body = ErrorBody {
                    error: ErrorDetail {
                        code: "vision_unavailable".to_owned(),
                        message: "the identity check is not available on this server; contact your centre"
                            .to_owned(),
                    },
                };
                (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
            }
        }
    }
}

#[utoipa::path(get, path = "/api/v1/me/identity", tag = "proctoring",
    responses((status = 200, description = "the identity step's state", body = StatusOut),
        (status = 403, description = "not a candidate", body = ErrorBody)))]
async fn status(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<StatusOut>, ApiError> {
    auth.require(&[Role::Candidate])?;
    Ok(Json(read_status(&state.db, auth.id()).await?))
}

async fn read_status(db: &Db, candidate: &str) -> Result<StatusOut, StoreError> {
    let stored = store::capture_times(db, candidate).await?;
    Ok(StatusOut {
        selfie: stored.selfie_at.is_some(),
        document: stored.document_at.is_some(),
        done: store::identity_done(db, candidate).await?,
    })
}

#[tracing::instrument(skip_all, fields(candidate = %auth.id()))]
#[utoipa::path(put, path = "/api/v1/me/identity/selfie", tag = "proctoring",
    request_body(content((Binary = "image/jpeg"), (Binary = "image/png")), description = "the picture, at most 2 MiB"),
    responses((status = 200, description = "the selfie is accepted", body = AcceptedOut),
        (status = 400, description = "`empty_body` or `bad_body`", body = ErrorBody),
        (status = 403, description = "not a candidate", body = ErrorBody),
        (status = 409, description = "`identity_locked`: the written test has started", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: over 2 MiB", body = ErrorBody),
        (status = 415, description = "not `image/jpeg` or `image/png`", body = ErrorBody),
        (status = 422, description = "`unreadable_image`, `no_face`, `several_faces`, `too_dark` or `face_too_small`", body = ErrorBody),
        (status = 503, description = "`vision_unavailable`: no face analysis on this server", body = ErrorBody)))]
async fn selfie(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AcceptedOut>, IdentityError> {
    capture(&state, &auth, Capture::Selfie, &headers, body).await
}

#[tracing::instrument(skip_all, fields(candidate = %auth.id()))]
#[utoipa::path(put, path = "/api/v1/me/identity/document", tag = "proctoring",
    request_body(content((Binary = "image/jpeg"), (Binary = "image/png")), description = "the picture, at most 2 MiB"),
    responses((status = 200, description = "the document is accepted", body = AcceptedOut),
        (status = 400, description = "`empty_body` or `bad_body`", body = ErrorBody),
        (status = 403, description = "not a candidate", body = ErrorBody),
        (status = 409, description = "`identity_locked`: the written test has started", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: over 2 MiB", body = ErrorBody),
        (status = 415, description = "not `image/jpeg` or `image/png`", body = ErrorBody),
        (status = 422, description = "`unreadable_image`, `no_face`, `several_faces`, `too_dark` or `face_too_small`", body = ErrorBody),
        (status = 503, description = "`vision_unavailable`: no face analysis on this server", body = ErrorBody)))]
async fn document(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AcceptedOut>, IdentityError> {
    capture(&state, &auth, Capture::Document, &headers, body).await
}

/// The image type a request declares: `image/jpeg` or `image/png` (415 otherwise).
fn image_type(headers: &HeaderMap) -> Result<&'static str, ApiError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match declared.as_deref() {
        Some("image/jpeg") => Ok("image/jpeg"),
        Some("image/png") => Ok("image/png"),
        _ => Err(ApiError::UnsupportedMediaType(
            "send the picture as the body with Content-Type: image/jpeg or image/png".to_owned(),
        )),
    }
}

/// Whether the bytes start as the declared type's files do.
fn has_signature(content_type: &str, image: &[u8]) -> bool {
    match content_type {
        "image/jpeg" => image.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => image.starts_with(b"\x89PNG\r\n\x1a\n"),
        _ => false,
    }
}

/// Runs a blocking face analysis off the async threads.
async fn blocking<T: Send + 'static>(
    vision: &Arc<dyn IdentityVision>,
    f: impl FnOnce(&dyn IdentityVision) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let vision = vision.clone();
    tokio::task::spawn_blocking(move || f(vision.as_ref()))
        .await
        .map_err(|e| ApiError::Internal(format!("face analysis task: {e}")))
}

async fn capture(
    state: &AppState,
    auth: &AuthUser,
    capture: Capture,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AcceptedOut>, IdentityError> {
    auth.require(&[Role::Candidate])?;
    let content_type = image_type(headers)?;
    let image = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::bad_request("bad_body", r.body_text())
        }
    })?;
    if image.is_empty() {
        return Err(ApiError::bad_request("empty_body", "the body has no picture").into());
    }
    if !has_signature(content_type, &image) {
        let p = CaptureProblem::Unreadable;
        return Err(ApiError::invalid(p.code(), p.message(capture)).into());
    }
    let candidate = auth.id();
    if store::test_started(&state.db, candidate).await? {
        return Err(locked_error().into());
    }
    let vision = state
        .identity_vision
        .clone()
        .ok_or(IdentityError::VisionUnavailable)?;
    let checked = image.clone();
    if let Err(p) = blocking(&vision, move |v| v.check(capture, &checked)).await? {
        tracing::info!(
            capture = capture.as_str(),
            problem = p.code(),
            "identity capture refused"
        );
        return Err(ApiError::invalid(p.code(), p.message(capture)).into());
    }
    // Store (unless the test started meanwhile) and clear the step until the pair is compared.
    let new = NewCapture {
        capture,
        image: &image,
        content_type,
        at: now_ms(),
    };
    if !store::store_capture(&state.db, candidate, &new).await? {
        return Err(locked_error().into());
    }
    tracing::info!(capture = capture.as_str(), "identity capture accepted");
    compare(&state.db, &vision, candidate).await?;
    Ok(Json(AcceptedOut {
        accepted: true,
        status: read_status(&state.db, candidate).await?,
    }))
}

/// Once both captures are stored: their similarity, and the step done. A capture stored
/// meanwhile (another version) leaves the comparison to its own request.
async fn compare(
    db: &Db,
    vision: &Arc<dyn IdentityVision>,
    candidate: &str,
) -> Result<(), ApiError> {
    let Some(store::CapturePair {
        version,
        selfie: Some(selfie),
        document: Some(document),
    }) = store::captures(db, candidate).await?
    else {
        return Ok(());
    };
    let score = blocking(vision, move |v| v.similarity(&selfie, &document))
        .await?
        .map_err(|e| ApiError::Internal(format!("face similarity: {e}")))?;
    if !score.is_finite() {
        return Err(ApiError::Internal(
            "face similarity is not a number".to_owned(),
        ));
    }
    if store::store_similarity(db, candidate, version, score, now_ms()).await? {
        tracing::info!("identity step done");
    }
    Ok(())
}

/// Retakes are allowed until the written test has started.
fn locked_error() -> ApiError {
    ApiError::refused(
        "identity_locked",
        "the written test has started: the identity captures can no longer change",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_type_and_signature() {
        let mut h = HeaderMap::new();
        assert!(image_type(&h).is_err());
        h.insert(header::CONTENT_TYPE, "Image/JPEG; q=1".parse().unwrap());
        assert_eq!(image_type(&h).unwrap(), "image/jpeg");
        h.insert(header::CONTENT_TYPE, "image/gif".parse().unwrap());
        assert!(image_type(&h).is_err());
        assert!(has_signature("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(!has_signature("image/jpeg", b"\x89PNG\r\n\x1a\n"));
        assert!(has_signature("image/png", b"\x89PNG\r\n\x1a\nrest"));
        assert!(!has_signature("image/png", b"GIF89a"));
    }
}
