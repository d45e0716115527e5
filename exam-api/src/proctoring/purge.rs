//! Deletion of proctoring images after the retention period: thumbnails, clip frames
//! and identity captures go; events, decisions and the audit log stay (they are the
//! record of the review).

use crate::db::Db;
use crate::error::ApiError;

/// The written sessions finished before `$1` (Unix ms), and their candidates.
macro_rules! old_sessions {
    () => {
        "SELECT id FROM written_sessions WHERE status = 'finished' AND finished_at < $1"
    };
}
macro_rules! old_candidates {
    () => {
        "SELECT candidate_id FROM written_sessions WHERE status = 'finished' AND finished_at < $1"
    };
}

/// Deletes thumbnails, clips and identity images of sessions finished more than `days`
/// days before `now_ms`; returns how many images were deleted (0 when run again).
pub async fn purge_media(db: &Db, now_ms: i64, days: u32) -> Result<u64, ApiError> {
    let cutoff = now_ms - i64::from(days) * 86_400_000;
    let mut tx = db.begin_write().await?;
    let media = sqlx::query(concat!(
        "DELETE FROM proctoring_media WHERE event_id IN (SELECT id FROM proctoring_events WHERE session_id IN (",
        old_sessions!(),
        "))"
    ))
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let (selfies, documents): (i64, i64) = sqlx::query_as(concat!(
        "SELECT COUNT(selfie), COUNT(document) FROM identity_captures WHERE candidate_id IN (",
        old_candidates!(),
        ")"
    ))
    .bind(cutoff)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(concat!(
        "UPDATE identity_captures SET selfie = NULL, document = NULL, purged_at = $2 \
         WHERE (selfie IS NOT NULL OR document IS NOT NULL) AND candidate_id IN (",
        old_candidates!(),
        ")"
    ))
    .bind(cutoff)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    sqlx::query(concat!(
        "UPDATE reviews SET media_purged_at = $2 WHERE media_purged_at IS NULL AND session_id IN (",
        old_sessions!(),
        ")"
    ))
    .bind(cutoff)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let deleted = media + selfies as u64 + documents as u64;
    if deleted > 0 {
        tracing::info!(deleted, days, "proctoring images past retention deleted");
    }
    Ok(deleted)
}
