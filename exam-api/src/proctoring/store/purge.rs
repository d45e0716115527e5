//! The deletion of images past the retention period.

use crate::db::{Db, StoreError};

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

/// How many identity images a purge clears.
#[derive(sqlx::FromRow)]
struct Kept {
    selfies: i64,
    documents: i64,
}

/// Deletes thumbnails, clips and identity images of sessions finished before `cutoff`
/// and marks their reviews purged at `now`, in one transaction; returns how many images
/// were deleted.
pub(crate) async fn purge(db: &Db, cutoff: i64, now: i64) -> Result<u64, StoreError> {
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
    let kept: Kept = sqlx::query_as(concat!(
        "SELECT COUNT(selfie) AS selfies, COUNT(document) AS documents FROM identity_captures WHERE candidate_id IN (",
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
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(concat!(
        "UPDATE reviews SET media_purged_at = $2 WHERE media_purged_at IS NULL AND session_id IN (",
        old_sessions!(),
        ")"
    ))
    .bind(cutoff)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(media + kept.selfies as u64 + kept.documents as u64)
}
