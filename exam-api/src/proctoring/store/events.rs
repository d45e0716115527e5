//! What the binary's monitor reads and writes: the session it watches, whether it
//! still runs, the identity selfie, and the events it closes with their images.

use crate::accounts::new_id;
use crate::db::{Db, StoreError};
use crate::proctoring::EventRecord;

/// A written session the monitor watches.
#[derive(sqlx::FromRow)]
struct Monitored {
    /// The session's id.
    id: String,
    /// When it started (Unix ms).
    created_at: i64,
}

/// The candidate's in-progress written session (id, started_at Unix ms), if any — the
/// monitoring room is opened for it.
pub async fn monitored_session(
    db: &Db,
    candidate_id: &str,
) -> Result<Option<(String, i64)>, StoreError> {
    let row: Option<Monitored> = sqlx::query_as(
        "SELECT id, created_at FROM written_sessions WHERE candidate_id = $1 AND status = 'in_progress'",
    )
    .bind(candidate_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|m| (m.id, m.created_at)))
}

/// Whether a written session is still in progress (the monitor stops when it is not,
/// also when there is no such session).
pub async fn session_in_progress(db: &Db, session_id: &str) -> Result<bool, StoreError> {
    let row: Option<String> = sqlx::query_scalar(
        "SELECT id FROM written_sessions WHERE id = $1 AND status = 'in_progress'",
    )
    .bind(session_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.is_some())
}

/// The identity selfie of a written session's candidate (for the periodic identity
/// check), if stored (none before the identity step, none after the purge).
pub async fn identity_selfie(db: &Db, session_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let row: Option<Option<Vec<u8>>> = sqlx::query_scalar(
        "SELECT i.selfie FROM identity_captures i JOIN written_sessions s ON s.candidate_id = i.candidate_id \
         WHERE s.id = $1",
    )
    .bind(session_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.flatten())
}

/// One image of an event: a thumbnail (no time) or a clip frame (its Unix ms).
pub(crate) struct Frame<'a> {
    /// `thumbnail` or `clip`.
    pub(crate) role: &'static str,
    /// Its rank within its role.
    pub(crate) seq: i64,
    /// When a clip frame was taken.
    pub(crate) at: Option<i64>,
    /// The JPEG.
    pub(crate) jpeg: &'a [u8],
}

/// Stores an event, `pending` for the reviewer, with its images under the id `id`, in
/// one transaction; `false` (nothing stored) when the session does not exist.
pub(crate) async fn insert_event(
    db: &Db,
    id: &str,
    event: &EventRecord,
    frames: &[Frame<'_>],
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM written_sessions WHERE id = $1")
            .bind(&event.session_id)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO proctoring_events (id, session_id, kind, severity, start_ms, end_ms, peak_confidence, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
    )
    .bind(id)
    .bind(&event.session_id)
    .bind(event.kind.code())
    .bind(event.severity.as_str())
    .bind(event.start_ms)
    .bind(event.end_ms)
    .bind(f64::from(event.peak_confidence.clamp(0.0, 1.0)))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for frame in frames {
        sqlx::query(
            "INSERT INTO proctoring_media (id, event_id, role, seq, at_ms, jpeg) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(id)
        .bind(frame.role)
        .bind(frame.seq)
        .bind(frame.at)
        .bind(frame.jpeg)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}
