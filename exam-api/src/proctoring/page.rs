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

use super::review::{Counts, assigned, audit, rfc3339};
use super::{Severity, priority};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::now_ms;
use crate::error::ApiError;

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

#[derive(Serialize, Debug)]
struct IdentityOut {
    similarity: Option<f32>,
    threshold: Option<f32>,
    selfie_url: Option<String>,
    document_url: Option<String>,
}

#[derive(Serialize, Debug)]
struct ItemOut {
    index: i64,
    item_id: String,
    domain: Option<String>,
    item_type: Option<String>,
    presented_offset_ms: i64,
    answered_offset_ms: Option<i64>,
    outcome: Option<String>,
}

#[derive(Serialize, Debug)]
struct FrameOut {
    offset_ms: i64,
    url: String,
}

#[derive(Serialize, Debug)]
struct EventOut {
    id: String,
    kind: String,
    severity: String,
    start_offset_ms: i64,
    end_offset_ms: i64,
    peak_confidence: f32,
    status: String,
    comment: Option<String>,
    decided_at: Option<String>,
    thumbnails: Vec<String>,
    clip: Vec<FrameOut>,
}

#[derive(Serialize, Debug)]
struct AuditOut {
    at: Option<String>,
    reviewer_id: String,
    action: String,
    event_id: Option<String>,
    comment: Option<String>,
}

#[derive(Serialize, Debug)]
struct DecisionOut {
    comment: Option<String>,
    decided_at: Option<String>,
}

#[derive(Serialize, Debug)]
struct PageOut {
    session_id: String,
    candidate_id: String,
    candidate_name: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    status: String,
    priority: &'static str,
    event_counts: Counts,
    decision: Option<DecisionOut>,
    media_purged: bool,
    identity: IdentityOut,
    items: Vec<ItemOut>,
    events: Vec<EventOut>,
    audit: Vec<AuditOut>,
}

/// The session page; opening it is audited (`opened`).
#[tracing::instrument(skip_all, fields(session = %session))]
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
    Ok(Json(PageOut {
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
