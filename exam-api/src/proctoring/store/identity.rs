//! The identity step's captures: when they were stored, the pair and its comparison,
//! and the lock once the written test has started.

use sqlx::AnyConnection;

use crate::db::{Db, StoreError};
use crate::proctoring::Capture;

/// When the candidate's accepted captures were stored.
#[derive(sqlx::FromRow, Default)]
pub(crate) struct CaptureTimes {
    /// The selfie (Unix ms).
    pub(crate) selfie_at: Option<i64>,
    /// The document (Unix ms).
    pub(crate) document_at: Option<i64>,
}

/// When the candidate's captures were stored (none before the first one).
pub(crate) async fn capture_times(db: &Db, candidate: &str) -> Result<CaptureTimes, StoreError> {
    let row: Option<CaptureTimes> = sqlx::query_as(
        "SELECT selfie_at, document_at FROM identity_captures WHERE candidate_id = $1",
    )
    .bind(candidate)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.unwrap_or_default())
}

/// Whether the candidate's identity step is done (both captures compared).
pub(crate) async fn identity_done(db: &Db, candidate: &str) -> Result<bool, StoreError> {
    let done: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM candidate_steps WHERE user_id = $1 AND identity_at IS NOT NULL",
    )
    .bind(candidate)
    .fetch_one(&db.pool)
    .await?;
    Ok(done > 0)
}

/// Whether the candidate's written test has started (the captures are then locked).
pub(crate) async fn test_started(db: &Db, candidate: &str) -> Result<bool, StoreError> {
    let mut conn = db.pool.acquire().await?;
    test_started_in(&mut conn, candidate).await
}

async fn test_started_in(conn: &mut AnyConnection, candidate: &str) -> Result<bool, StoreError> {
    let row: Option<String> =
        sqlx::query_scalar("SELECT id FROM written_sessions WHERE candidate_id = $1")
            .bind(candidate)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.is_some())
}

/// The SQL that stores an accepted capture (the latest wins) and clears the previous
/// comparison: the step is done again only once the new pair is compared.
fn upsert_sql(capture: Capture) -> &'static str {
    match capture {
        Capture::Selfie => {
            "INSERT INTO identity_captures (candidate_id, version, selfie, selfie_type, selfie_at) VALUES ($1, 1, $2, $3, $4) \
             ON CONFLICT (candidate_id) DO UPDATE SET selfie = excluded.selfie, selfie_type = excluded.selfie_type, \
             selfie_at = excluded.selfie_at, version = identity_captures.version + 1, similarity = NULL, compared_at = NULL"
        }
        Capture::Document => {
            "INSERT INTO identity_captures (candidate_id, version, document, document_type, document_at) VALUES ($1, 1, $2, $3, $4) \
             ON CONFLICT (candidate_id) DO UPDATE SET document = excluded.document, document_type = excluded.document_type, \
             document_at = excluded.document_at, version = identity_captures.version + 1, similarity = NULL, compared_at = NULL"
        }
    }
}

/// An accepted capture to store.
pub(crate) struct NewCapture<'a> {
    /// Which one.
    pub(crate) capture: Capture,
    /// The image.
    pub(crate) image: &'a [u8],
    /// `image/jpeg` or `image/png`.
    pub(crate) content_type: &'static str,
    /// When it was accepted (Unix ms).
    pub(crate) at: i64,
}

/// Stores an accepted capture and clears the step until the pair is compared, in one
/// transaction; `false` (nothing stored) when the written test started meanwhile.
pub(crate) async fn store_capture(
    db: &Db,
    candidate: &str,
    new: &NewCapture<'_>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    if test_started_in(&mut tx, candidate).await? {
        return Ok(false);
    }
    sqlx::query(upsert_sql(new.capture))
        .bind(candidate)
        .bind(new.image)
        .bind(new.content_type)
        .bind(new.at)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE candidate_steps SET identity_at = NULL WHERE user_id = $1")
        .bind(candidate)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// The candidate's stored captures, with the version that a comparison applies to.
#[derive(sqlx::FromRow)]
pub(crate) struct CapturePair {
    /// Bumped by every stored capture.
    pub(crate) version: i64,
    /// The selfie, if stored.
    pub(crate) selfie: Option<Vec<u8>>,
    /// The document, if stored.
    pub(crate) document: Option<Vec<u8>>,
}

/// The candidate's captures, if any was stored.
pub(crate) async fn captures(db: &Db, candidate: &str) -> Result<Option<CapturePair>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT version, selfie, document FROM identity_captures WHERE candidate_id = $1",
    )
    .bind(candidate)
    .fetch_optional(&db.pool)
    .await?)
}

/// Stores the similarity of the pair `version` and marks the step done, in one
/// transaction; `false` (nothing stored) when another capture replaced that pair.
pub(crate) async fn store_similarity(
    db: &Db,
    candidate: &str,
    version: i64,
    score: f32,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let stored = sqlx::query(
        "UPDATE identity_captures SET similarity = $1, compared_at = $2 WHERE candidate_id = $3 AND version = $4",
    )
    .bind(f64::from(score))
    .bind(now)
    .bind(candidate)
    .bind(version)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if stored {
        sqlx::query(
            "INSERT INTO candidate_steps (user_id, identity_at) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET identity_at = excluded.identity_at",
        )
        .bind(candidate)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(stored)
}
