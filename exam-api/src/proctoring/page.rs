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

use super::review::{Counts, assigned, audit, rfc3339};
use super::{Severity, priority};
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
    {
        let mut conn = db.pool.acquire().await?;
        audit(
            &mut conn,
            &session,
            None,
            auth.id(),
            "opened",
            None,
            now_ms(),
        )
        .await?;
    }
    let start = review.started_at;
    let (first, last): (String, String) =
        sqlx::query_as("SELECT first_names, last_name FROM users WHERE id = $1")
            .bind(&review.candidate_id)
            .fetch_one(&db.pool)
            .await?;
    type IdRow = (Option<f64>, i64, i64);
    let id_row: Option<IdRow> = sqlx::query_as(
        "SELECT similarity, CAST(CASE WHEN selfie IS NULL THEN 0 ELSE 1 END AS BIGINT), \
         CAST(CASE WHEN document IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM identity_captures WHERE candidate_id = $1",
    )
    .bind(&review.candidate_id)
    .fetch_optional(&db.pool)
    .await?;
    let (similarity, selfie, document) = id_row.unwrap_or((None, 0, 0));
    let url = |c: &str| format!("/api/v1/reviews/{session}/identity/{c}");
    let identity = IdentityOut {
        similarity: similarity.map(|s| s as f32),
        threshold: state.identity_vision.as_ref().map(|v| v.threshold()),
        selfie_url: (selfie == 1).then(|| url("selfie")),
        document_url: (document == 1).then(|| url("document")),
    };
    type ItemRow = (
        i64,
        String,
        i64,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let item_rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT w.position, w.item_id, w.presented_at, w.done_at, w.outcome, i.domain, i.item_type \
         FROM written_items w LEFT JOIN items i ON i.id = w.item_id WHERE w.session_id = $1 ORDER BY w.position",
    )
    .bind(&session)
    .fetch_all(&db.pool)
    .await?;
    let items = item_rows
        .into_iter()
        .map(
            |(index, item_id, presented, done, outcome, domain, item_type)| ItemOut {
                index,
                item_id,
                domain,
                item_type,
                presented_offset_ms: presented - start,
                answered_offset_ms: done
                    .filter(|_| outcome.as_deref() == Some("answered"))
                    .map(|d| d - start),
                outcome,
            },
        )
        .collect();
    let media: Vec<(String, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT m.id, m.event_id, m.role, m.at_ms FROM proctoring_media m JOIN proctoring_events e ON e.id = m.event_id \
         WHERE e.session_id = $1 ORDER BY m.event_id, m.role, m.seq",
    )
    .bind(&session)
    .fetch_all(&db.pool)
    .await?;
    let mut thumbs: HashMap<String, Vec<String>> = HashMap::new();
    let mut clips: HashMap<String, Vec<FrameOut>> = HashMap::new();
    for (id, event, role, at) in media {
        let url = format!("/api/v1/reviews/{session}/media/{id}");
        if role == "thumbnail" {
            thumbs.entry(event).or_default().push(url);
        } else {
            clips.entry(event).or_default().push(FrameOut {
                offset_ms: at.unwrap_or(start) - start,
                url,
            });
        }
    }
    type EventRow = (
        String,
        String,
        String,
        i64,
        i64,
        f64,
        String,
        Option<String>,
        Option<i64>,
    );
    let event_rows: Vec<EventRow> = sqlx::query_as(
        "SELECT id, kind, severity, start_ms, end_ms, peak_confidence, status, comment, decided_at \
         FROM proctoring_events WHERE session_id = $1 ORDER BY start_ms, id",
    )
    .bind(&session)
    .fetch_all(&db.pool)
    .await?;
    let mut counts = [0i64; 4];
    let events = event_rows
        .into_iter()
        .map(
            |(id, kind, severity, s, e, peak, status, comment, decided)| {
                if let Some(k) = Severity::parse(&severity) {
                    counts[k as usize] += 1;
                }
                EventOut {
                    thumbnails: thumbs.remove(&id).unwrap_or_default(),
                    clip: clips.remove(&id).unwrap_or_default(),
                    id,
                    kind,
                    severity,
                    start_offset_ms: s - start,
                    end_offset_ms: e - start,
                    peak_confidence: peak as f32,
                    status,
                    comment,
                    decided_at: decided.and_then(rfc3339),
                }
            },
        )
        .collect();
    type AuditRow = (i64, String, String, Option<String>, Option<String>);
    let audit_rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT at, reviewer_id, action, event_id, comment FROM proctoring_audit WHERE session_id = $1 ORDER BY at, seq",
    )
    .bind(&session)
    .fetch_all(&db.pool)
    .await?;
    let audit = audit_rows
        .into_iter()
        .map(|(at, reviewer_id, action, event_id, comment)| AuditOut {
            at: rfc3339(at),
            reviewer_id,
            action,
            event_id,
            comment,
        })
        .collect();
    let decision = (review.status != "pending").then(|| DecisionOut {
        comment: review.comment.clone().filter(|c| !c.is_empty()),
        decided_at: review.decided_at.and_then(rfc3339),
    });
    let oral: Option<(Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT closure, closure_reason, ended_at FROM interviews WHERE candidate_id = $1 AND status <> 'cancelled' \
         ORDER BY scheduled_at DESC LIMIT 1",
    )
    .bind(&review.candidate_id)
    .fetch_optional(&db.pool)
    .await?;
    let oral_closure = oral.and_then(|(kind, reason, at)| {
        Some(OralClosureOut {
            kind: kind?,
            reason,
            at: at.and_then(rfc3339),
        })
    });
    Ok(Json(PageOut {
        oral_closure,
        session_id: session.clone(),
        candidate_id: review.candidate_id,
        candidate_name: format!("{first} {last}"),
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
    let row: Option<(Vec<u8>,)> = sqlx::query_as(
        "SELECT m.jpeg FROM proctoring_media m JOIN proctoring_events e ON e.id = m.event_id \
         WHERE m.id = $1 AND e.session_id = $2",
    )
    .bind(&media)
    .bind(&session)
    .fetch_optional(&state.db.pool)
    .await?;
    let (bytes,) = row.ok_or_else(|| ApiError::NotFound("no such image".to_owned()))?;
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
    let sql = match capture.as_str() {
        "selfie" => "SELECT selfie, selfie_type FROM identity_captures WHERE candidate_id = $1",
        "document" => {
            "SELECT document, document_type FROM identity_captures WHERE candidate_id = $1"
        }
        _ => return Err(ApiError::NotFound("no such image".to_owned())),
    };
    let row: Option<(Option<Vec<u8>>, Option<String>)> = sqlx::query_as(sql)
        .bind(&review.candidate_id)
        .fetch_optional(&state.db.pool)
        .await?;
    match row {
        Some((Some(bytes), Some(ct))) => Ok(image(ct, bytes)),
        _ => Err(ApiError::NotFound("no such image".to_owned())),
    }
}
