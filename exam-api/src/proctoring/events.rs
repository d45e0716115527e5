//! What the binary's monitor needs from storage: which session to watch, whether it is
//! still running, the identity selfie to compare faces with, and where its events go.

use super::EventRecord;
use crate::accounts::new_id;
use crate::db::{Db, now_ms};
use crate::error::ApiError;

/// Thumbnails kept per event (more are dropped).
pub(crate) const MAX_THUMBNAILS: usize = 3;
/// Clip frames kept per event (more are dropped: a few seconds either side at a few
/// frames per second stay well under this).
pub(crate) const MAX_CLIP_FRAMES: usize = 120;

/// Stores an event the vision pipeline closed, with its thumbnails and clip frames, in
/// one transaction; returns the event's id. The event starts `pending` for the reviewer.
///
/// 404 if the session does not exist; 422 for a malformed event (end before start,
/// confidence not a number). Thumbnails beyond 3 and clip
/// frames beyond 120 are dropped; clip frames are stored in time order.
pub async fn record_event(db: &Db, event: &EventRecord) -> Result<String, ApiError> {
    if event.end_ms < event.start_ms {
        return Err(ApiError::invalid(
            "invalid_event",
            "the event ends before it starts",
        ));
    }
    if !event.peak_confidence.is_finite() {
        return Err(ApiError::invalid(
            "invalid_event",
            "peak_confidence is not a number",
        ));
    }
    if event.thumbnails.len() > MAX_THUMBNAILS || event.clip.len() > MAX_CLIP_FRAMES {
        tracing::warn!(
            session = %event.session_id,
            thumbnails = event.thumbnails.len(),
            clip = event.clip.len(),
            "proctoring event has too many images; the extra ones are dropped"
        );
    }
    let id = new_id();
    let mut tx = db.begin_write().await?;
    let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM written_sessions WHERE id = $1")
        .bind(&event.session_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(ApiError::NotFound("no such written session".to_owned()));
    }
    sqlx::query(
        "INSERT INTO proctoring_events (id, session_id, kind, severity, start_ms, end_ms, peak_confidence, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
    )
    .bind(&id)
    .bind(&event.session_id)
    .bind(event.kind.code())
    .bind(event.severity.as_str())
    .bind(event.start_ms)
    .bind(event.end_ms)
    .bind(f64::from(event.peak_confidence.clamp(0.0, 1.0)))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let thumbnails = event
        .thumbnails
        .iter()
        .take(MAX_THUMBNAILS)
        .map(|jpeg| (None, jpeg));
    let mut clip: Vec<_> = event.clip.iter().take(MAX_CLIP_FRAMES).collect();
    clip.sort_by_key(|(at, _)| *at);
    let clip = clip.into_iter().map(|(at, jpeg)| (Some(*at), jpeg));
    for (role, frames) in [
        ("thumbnail", thumbnails.collect::<Vec<_>>()),
        ("clip", clip.collect()),
    ] {
        for (seq, (at, jpeg)) in frames.into_iter().enumerate() {
            sqlx::query(
                "INSERT INTO proctoring_media (id, event_id, role, seq, at_ms, jpeg) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new_id())
            .bind(&id)
            .bind(role)
            .bind(seq as i64)
            .bind(at)
            .bind(jpeg.as_slice())
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(
        session = %event.session_id,
        event = %id,
        kind = %event.kind,
        severity = event.severity.as_str(),
        "proctoring event recorded"
    );
    Ok(id)
}

/// The candidate's in-progress written session (id, started_at Unix ms), if any — the
/// monitoring room is opened for it.
pub async fn monitored_session(
    db: &Db,
    candidate_id: &str,
) -> Result<Option<(String, i64)>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT id, created_at FROM written_sessions WHERE candidate_id = $1 AND status = 'in_progress'",
    )
    .bind(candidate_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// Whether a written session is still in progress (the monitor stops when it is not,
/// also when there is no such session).
pub async fn session_in_progress(db: &Db, session_id: &str) -> Result<bool, ApiError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM written_sessions WHERE id = $1 AND status = 'in_progress'")
            .bind(session_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.is_some())
}

/// The identity selfie of a written session's candidate (for the periodic identity
/// check), if stored (none before the identity step, none after the purge).
pub async fn identity_selfie(db: &Db, session_id: &str) -> Result<Option<Vec<u8>>, ApiError> {
    let row: Option<(Option<Vec<u8>>,)> = sqlx::query_as(
        "SELECT i.selfie FROM identity_captures i JOIN written_sessions s ON s.candidate_id = i.candidate_id \
         WHERE s.id = $1",
    )
    .bind(session_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.and_then(|(s,)| s))
}
