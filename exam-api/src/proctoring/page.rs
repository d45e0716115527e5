//! The reviewer's session page: the candidate, the identity comparison, the items and
//! events tracks on one time axis (offsets from the session start), the decision and
//! the audit log; and the images it shows, served to the assigned reviewer only.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::review::{Counts, assigned, rfc3339};
use super::store::{self, Entry, MediaRow};
use super::{Capture, Severity, priority};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::now_ms;
use crate::error::{ApiError, ErrorBody};
use crate::meta::Binary;

/// The routes of the session page and its images.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reviews/{session_id}", get(page))
        .route("/api/v1/reviews/{session_id}/media/{media_id}", get(media))
        .route(
            "/api/v1/reviews/{session_id}/identity/{capture}",
            get(identity_image),
        )
}

/// The identity comparison.
#[derive(Serialize, Debug, ToSchema)]
struct IdentityOut {
    /// Similarity of the selfie and document faces.
    similarity: Option<f32>,
    /// The similarity under which the reviewer should look closely.
    threshold: Option<f32>,
    /// The selfie.
    selfie_url: Option<String>,
    /// The document.
    document_url: Option<String>,
}

/// One item of the test on the time axis.
#[derive(Serialize, Debug, ToSchema)]
struct ItemOut {
    /// Its position, from 0.
    index: i64,
    /// The item.
    item_id: String,
    /// Its domain.
    domain: Option<String>,
    /// Its type.
    item_type: Option<String>,
    /// When it was shown (ms from the start).
    presented_offset_ms: i64,
    /// When it was answered.
    answered_offset_ms: Option<i64>,
    /// `answered`, `timeout`, …
    outcome: Option<String>,
}

/// A frame of an event clip.
#[derive(Serialize, Debug, ToSchema)]
struct FrameOut {
    /// When (ms from the start).
    offset_ms: i64,
    /// The image.
    url: String,
}

/// A proctoring event on the time axis.
#[derive(Serialize, Debug, ToSchema)]
struct EventOut {
    /// Id.
    id: String,
    /// `FACE_ABSENT`, `MULTIPLE_FACES`, `FOCUS_LOST`, …
    kind: String,
    /// How serious it is.
    #[schema(value_type = Severity)]
    severity: String,
    /// Start (ms from the session start).
    start_offset_ms: i64,
    /// End.
    end_offset_ms: i64,
    /// The detector's highest confidence.
    peak_confidence: f32,
    /// `pending`, `confirmed` or `dismissed`.
    status: String,
    /// The reviewer's comment.
    comment: Option<String>,
    /// When it was decided.
    #[schema(format = DateTime)]
    decided_at: Option<String>,
    /// Thumbnail URLs.
    thumbnails: Vec<String>,
    /// The clip's frames.
    clip: Vec<FrameOut>,
}

/// One entry of the audit log.
#[derive(Serialize, Debug, ToSchema)]
struct AuditOut {
    /// When.
    #[schema(format = DateTime)]
    at: Option<String>,
    /// Who.
    reviewer_id: String,
    /// `confirmed`, `dismissed`, `validated`, `invalidated`, `viewed`, …
    action: String,
    /// The event, for an event decision.
    event_id: Option<String>,
    /// The comment given.
    comment: Option<String>,
}

/// The session decision.
#[derive(Serialize, Debug, ToSchema)]
struct DecisionOut {
    /// The comment given.
    comment: Option<String>,
    /// When.
    #[schema(format = DateTime)]
    decided_at: Option<String>,
}

/// The reviewer's session page.
#[derive(Serialize, Debug, ToSchema)]
struct PageOut {
    /// The written-test session.
    session_id: String,
    /// The candidate.
    candidate_id: String,
    /// Their name.
    candidate_name: String,
    /// When the test started.
    #[schema(format = DateTime)]
    started_at: Option<String>,
    /// When it finished.
    #[schema(format = DateTime)]
    finished_at: Option<String>,
    /// `pending`, `validated` or `invalidated`.
    status: String,
    /// The highest severity of its events.
    #[schema(value_type = Severity)]
    priority: &'static str,
    /// Events per severity.
    event_counts: Counts,
    /// The decision, once made.
    decision: Option<DecisionOut>,
    /// The images were deleted after the retention period.
    media_purged: bool,
    /// The identity comparison.
    identity: IdentityOut,
    /// The items track.
    items: Vec<ItemOut>,
    /// The events track.
    events: Vec<EventOut>,
    /// The audit log.
    audit: Vec<AuditOut>,
    /// The candidate's oral interview, when its evaluator closed it otherwise than by
    /// ending it in the room (held without recording, no-show), with the reason.
    oral_closure: Option<OralClosureOut>,
}

/// How an oral interview was closed by its evaluator.
#[derive(Serialize, Debug, ToSchema)]
struct OralClosureOut {
    /// `held_without_recording` or `no_show`.
    kind: String,
    /// The evaluator's reason.
    reason: Option<String>,
    /// When.
    #[schema(format = DateTime)]
    at: Option<String>,
}

/// The session page; opening it is audited (`opened`).
#[tracing::instrument(skip_all, fields(session = %session))]
#[utoipa::path(get, path = "/api/v1/reviews/{session_id}", tag = "proctoring", params(("session_id" = String, Path, description = "written-test session id")),
    responses((status = 200, description = "the session page (the view is audited)", body = PageOut),
        (status = 403, description = "not a reviewer", body = ErrorBody),
        (status = 404, description = "no such review assigned to the caller", body = ErrorBody)))]
async fn page(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(session): Path<String>,
) -> Result<Json<PageOut>, ApiError> {
    let review = assigned(&state, &auth, &session).await?;
    let db = &state.db;
    let opened = Entry {
        session: &session,
        event: None,
        reviewer: auth.id(),
        action: "opened",
        comment: None,
        at: now_ms(),
    };
    store::audit_view(db, &opened).await?;
    let start = review.started_at;
    let name = store::name(db, &review.candidate_id).await?;
    let found = store::identity_summary(db, &review.candidate_id).await?;
    let url = |c: Capture| format!("/api/v1/reviews/{session}/identity/{}", c.as_str());
    let identity = IdentityOut {
        similarity: found.similarity,
        threshold: state.identity_vision.as_ref().map(|v| v.threshold()),
        selfie_url: found.selfie.then(|| url(Capture::Selfie)),
        document_url: found.document.then(|| url(Capture::Document)),
    };
    let items = store::items(db, &session)
        .await?
        .into_iter()
        .map(|row| item(row, start))
        .collect();
    let (mut thumbs, mut clips) = images(&session, store::media(db, &session).await?, start);
    let mut counts = [0i64; 4];
    let events = store::events(db, &session)
        .await?
        .into_iter()
        .map(|e| {
            counts[e.severity as usize] += 1;
            EventOut {
                thumbnails: thumbs.remove(&e.id).unwrap_or_default(),
                clip: clips.remove(&e.id).unwrap_or_default(),
                id: e.id,
                kind: e.kind.code().to_owned(),
                severity: e.severity.as_str().to_owned(),
                start_offset_ms: e.start_ms - start,
                end_offset_ms: e.end_ms - start,
                peak_confidence: e.peak_confidence as f32,
                status: e.status,
                comment: e.comment,
                decided_at: e.decided_at.and_then(rfc3339),
            }
        })
        .collect();
    let audit = store::audit_log(db, &session)
        .await?
        .into_iter()
        .map(|a| AuditOut {
            at: rfc3339(a.at),
            reviewer_id: a.reviewer_id,
            action: a.action,
            event_id: a.event_id,
            comment: a.comment,
        })
        .collect();
    let decision = (review.status != "pending").then(|| DecisionOut {
        comment: review.comment.clone().filter(|c| !c.is_empty()),
        decided_at: review.decided_at.and_then(rfc3339),
    });
    let oral_closure = store::latest_oral(db, &review.candidate_id)
        .await?
        .and_then(|oral| {
            Some(OralClosureOut {
                kind: oral.closure?,
                reason: oral.closure_reason,
                at: oral.ended_at.and_then(rfc3339),
            })
        });
    Ok(Json(PageOut {
        oral_closure,
        session_id: session.clone(),
        candidate_id: review.candidate_id,
        candidate_name: format!("{} {}", name.first_names, name.last_name),
        started_at: rfc3339(start),
        finished_at: review.finished_at.and_then(rfc3339),
        status: review.status,
        priority: priority(&counts).as_str(),
        event_counts: Counts::from_array(counts),
        decision,
        media_purged: review.media_purged_at.is_some(),
        identity,
        items,
        events,
        audit,
    }))
}

/// An item on the time axis that starts at `start` (Unix ms).
fn item(row: store::ItemRow, start: i64) -> ItemOut {
    ItemOut {
        index: row.position,
        item_id: row.item_id,
        domain: row.domain,
        item_type: row.item_type,
        presented_offset_ms: row.presented_at - start,
        answered_offset_ms: row
            .done_at
            .filter(|_| row.outcome.as_deref() == Some("answered"))
            .map(|d| d - start),
        outcome: row.outcome,
    }
}

/// The URLs of the events' thumbnails and clip frames, by event.
type Images = (HashMap<String, Vec<String>>, HashMap<String, Vec<FrameOut>>);

/// The events' images: thumbnail URLs and clip frames on the time axis, by event.
fn images(session: &str, media: Vec<MediaRow>, start: i64) -> Images {
    let mut thumbs: HashMap<String, Vec<String>> = HashMap::new();
    let mut clips: HashMap<String, Vec<FrameOut>> = HashMap::new();
    for m in media {
        let url = format!("/api/v1/reviews/{session}/media/{}", m.id);
        if m.role == "thumbnail" {
            thumbs.entry(m.event_id).or_default().push(url);
        } else {
            clips.entry(m.event_id).or_default().push(FrameOut {
                offset_ms: m.at_ms.unwrap_or(start) - start,
                url,
            });
        }
    }
    (thumbs, clips)
}

/// An image for the reviewer's eyes only: never cached.
fn image(content_type: String, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// A thumbnail or clip frame of one of the session's events.
#[utoipa::path(get, path = "/api/v1/reviews/{session_id}/media/{media_id}", tag = "proctoring",
    params(("session_id" = String, Path, description = "written-test session id"), ("media_id" = String, Path, description = "a thumbnail or clip frame")),
    responses((status = 200, description = "the image", content_type = "image/jpeg", body = Binary),
        (status = 403, description = "not a reviewer", body = ErrorBody),
        (status = 404, description = "no such review assigned to the caller, or no such image", body = ErrorBody)))]
async fn media(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((session, media)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    assigned(&state, &auth, &session).await?;
    let bytes = store::media_jpeg(&state.db, &session, &media)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such image".to_owned()))?;
    Ok(image("image/jpeg".to_owned(), bytes))
}

/// The candidate's identity selfie or document.
#[utoipa::path(get, path = "/api/v1/reviews/{session_id}/identity/{capture}", tag = "proctoring",
    params(("session_id" = String, Path, description = "written-test session id"), ("capture" = String, Path, description = "`selfie` or `document`", pattern = "^(selfie|document)$")),
    responses((status = 200, description = "the capture", content((Binary = "image/jpeg"), (Binary = "image/png"))),
        (status = 403, description = "not a reviewer", body = ErrorBody),
        (status = 404, description = "no such review assigned to the caller, or no such image", body = ErrorBody)))]
async fn identity_image(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((session, capture)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let review = assigned(&state, &auth, &session).await?;
    let capture = match capture.as_str() {
        "selfie" => Capture::Selfie,
        "document" => Capture::Document,
        _ => return Err(ApiError::NotFound("no such image".to_owned())),
    };
    match store::identity_image(&state.db, &review.candidate_id, capture).await? {
        Some((bytes, content_type)) => Ok(image(content_type, bytes)),
        None => Err(ApiError::NotFound("no such image".to_owned())),
    }
}
