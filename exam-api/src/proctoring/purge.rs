//! Deletion of proctoring images after the retention period: thumbnails, clip frames
//! and identity captures go; events, decisions and the audit log stay (they are the
//! record of the review).

use super::store;
use crate::db::{Db, StoreError};

/// Deletes thumbnails, clips and identity images of sessions finished more than `days`
/// days before `now_ms`; returns how many images were deleted (0 when run again).
pub async fn purge_media(db: &Db, now_ms: i64, days: u32) -> Result<u64, StoreError> {
    let cutoff = now_ms - i64::from(days) * 86_400_000;
    let deleted = store::purge(db, cutoff, now_ms).await?;
    if deleted > 0 {
        tracing::info!(deleted, days, "proctoring images past retention deleted");
    }
    Ok(deleted)
}
