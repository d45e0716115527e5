//! Storage of written-test sessions: events are written in one transaction before the
//! candidate gets an answer; sessions are rebuilt from their rows after a restart.

use sqlx::{Any, Transaction};

use crate::db::{Db, StoreError};
use crate::error::ApiError;
use exam_core::bank::Response;
use exam_core::cat::{CatConfig, CatError, ExposureCounts, Pool};
use exam_core::written::{Event, StoredItem, Timing, WrittenSession};

/// A session's row.
#[derive(Clone, Debug)]
pub struct SessionRow {
    /// Id.
    pub id: String,
    /// The candidate.
    pub candidate_id: String,
    /// Seed.
    pub seed: u64,
    /// Time multiplier.
    pub multiplier: f64,
    /// When it was created.
    pub created_at: i64,
}

type Row = (String, String, i64, f64, i64);

/// The session of a candidate, if any.
pub async fn session_of(db: &Db, candidate_id: &str) -> Result<Option<SessionRow>, StoreError> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, candidate_id, seed, time_multiplier, created_at FROM written_sessions WHERE candidate_id = $1",
    )
    .bind(candidate_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(into_row))
}

/// A session by id.
pub async fn session(db: &Db, id: &str) -> Result<Option<SessionRow>, StoreError> {
    let row: Option<Row> =
        sqlx::query_as("SELECT id, candidate_id, seed, time_multiplier, created_at FROM written_sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(into_row))
}

fn into_row(r: Row) -> SessionRow {
    SessionRow {
        id: r.0,
        candidate_id: r.1,
        seed: r.2 as u64,
        multiplier: r.3,
        created_at: r.4,
    }
}

/// One session per candidate: a second start hits this key.
pub const ONE_PER_CANDIDATE: &str = "written_sessions_candidate_id_key";

/// Creates a session; a second one for the same candidate breaks [`ONE_PER_CANDIDATE`].
pub async fn create(db: &Db, row: &SessionRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO written_sessions (id, candidate_id, seed, time_multiplier, status, created_at) \
         VALUES ($1, $2, $3, $4, 'in_progress', $5)",
    )
    .bind(&row.id)
    .bind(&row.candidate_id)
    .bind(row.seed as i64)
    .bind(row.multiplier)
    .bind(row.created_at)
    .execute(&db.pool)
    .await
    .map_err(|e| StoreError::on_constraint(e, ONE_PER_CANDIDATE, "written_sessions.candidate_id"))?;
    Ok(())
}

/// The stored presentations of a session, in order.
pub async fn items(db: &Db, session_id: &str) -> Result<Vec<StoredItem>, StoreError> {
    type ItemRow = (String, i64, i64, Option<i64>, Option<i64>, i64);
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT item_id, presented_at, deadline_at, done_at, score, plays FROM written_items \
         WHERE session_id = $1 ORDER BY position",
    )
    .bind(session_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(item_id, presented_at, deadline, done_at, score, plays)| StoredItem {
                item_id,
                presented_at,
                deadline,
                done: done_at.map(|at| (at, score.unwrap_or(0) as u32)),
                plays: plays as u32,
            },
        )
        .collect())
}

/// Rebuilds a session machine from its rows.
pub async fn restore(
    db: &Db,
    row: &SessionRow,
    pool: &Pool,
    timing: Timing,
) -> Result<WrittenSession, StoreError> {
    let stored = items(db, &row.id).await?;
    WrittenSession::restore(
        CatConfig::default(),
        pool,
        row.seed,
        row.multiplier,
        timing,
        row.created_at,
        &stored,
    )
    .map_err(|e: CatError| StoreError::Corrupt(format!("restoring session {}: {e}", row.id)))
}

/// Why a session's events were not stored (nothing of them was: one transaction).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The database refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The item's outcome was already stored (a second answer raced the first).
    #[error("this question was already recorded")]
    AlreadyRecorded,
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Store(e.into())
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Store(e) => e.into(),
            WriteError::AlreadyRecorded => ApiError::Conflict(e.to_string()),
        }
    }
}

/// Stores events in one transaction.
pub async fn store(db: &Db, session_id: &str, events: &[Event]) -> Result<(), WriteError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut tx: Transaction<'_, Any> = db.begin_write().await?;
    for e in events {
        match e {
            Event::Presented {
                position,
                item_id,
                at,
                deadline,
            } => {
                sqlx::query(
                    "INSERT INTO written_items (session_id, position, item_id, presented_at, deadline_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(session_id)
                .bind(i64::from(*position))
                .bind(item_id)
                .bind(*at)
                .bind(*deadline)
                .execute(&mut *tx)
                .await?;
            }
            Event::Answered {
                position,
                at,
                response,
                score,
                ..
            } => {
                let json = serde_json::to_string::<Response>(response)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                complete(
                    &mut tx,
                    session_id,
                    *position,
                    *at,
                    "answered",
                    Some(json),
                    *score,
                )
                .await?;
            }
            Event::TimedOut { position, at, .. } => {
                complete(&mut tx, session_id, *position, *at, "timeout", None, 0).await?;
            }
            Event::Played { position, plays } => {
                sqlx::query(
                    "UPDATE written_items SET plays = $1 WHERE session_id = $2 AND position = $3",
                )
                .bind(i64::from(*plays))
                .bind(session_id)
                .bind(i64::from(*position))
                .execute(&mut *tx)
                .await?;
            }
            Event::Finished { at, estimates } => {
                let json = serde_json::to_string(estimates)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                // A machine rebuilt from a finished session's rows (after a restart, or
                // once its cached machine left) finishes again: the first finish stands.
                let finished = sqlx::query(
                    "UPDATE written_sessions SET status = 'finished', finished_at = $1, result_json = $2 \
                     WHERE id = $3 AND status <> 'finished'",
                )
                .bind(*at)
                .bind(json)
                .bind(session_id)
                .execute(&mut *tx)
                .await?;
                if finished.rows_affected() == 1 {
                    // The finished test waits for its proctoring review, assigned to a reviewer.
                    crate::proctoring::open_review(&mut tx, session_id).await?;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn complete(
    tx: &mut Transaction<'_, Any>,
    session_id: &str,
    position: u32,
    at: i64,
    outcome: &str,
    response: Option<String>,
    score: u32,
) -> Result<(), WriteError> {
    let done = sqlx::query(
        "UPDATE written_items SET done_at = $1, outcome = $2, response_json = $3, score = $4 \
         WHERE session_id = $5 AND position = $6 AND done_at IS NULL",
    )
    .bind(at)
    .bind(outcome)
    .bind(response)
    .bind(i64::from(score))
    .bind(session_id)
    .bind(i64::from(position))
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(WriteError::AlreadyRecorded);
    }
    Ok(())
}

/// The exposure counters of the item pool, from every presentation stored.
pub async fn exposure(db: &Db) -> Result<ExposureCounts, StoreError> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT item_id, COUNT(*) FROM written_items GROUP BY item_id")
            .fetch_all(&db.pool)
            .await?;
    let (candidates,): (i64,) =
        sqlx::query_as("SELECT COUNT(DISTINCT session_id) FROM written_items")
            .fetch_one(&db.pool)
            .await?;
    Ok(ExposureCounts::from_parts(
        candidates as u64,
        rows.into_iter().map(|(id, n)| (id, n as u64)).collect(),
    ))
}

/// The settings key of the liveness heartbeat.
pub const HEARTBEAT: &str = "heartbeat_ms";

/// Records that the server is alive at `now` (called four times a second by the binary).
pub async fn heartbeat(db: &Db, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(HEARTBEAT)
    .bind(now.to_string())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// After a restart: gives back to every item that was on screen the time the server was
/// down (from the last heartbeat to `now`), so the candidate continues with the time
/// that was left. Returns how many items were extended.
///
/// The heartbeat moves to `now` in the same transaction, so the downtime is credited
/// once: a start that fails after this (a bad setting, a port in use) and the next
/// start give back only the time since, not the whole outage again.
pub async fn extend_after_downtime(db: &Db, now: i64) -> Result<u64, StoreError> {
    let mut tx = db.begin_write().await?;
    let last: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
        .bind(HEARTBEAT)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(last) = last.and_then(|(v,)| v.parse::<i64>().ok()) else {
        return Ok(0);
    };
    let down = now - last;
    if down <= 0 {
        return Ok(0);
    }
    let done = sqlx::query(
        "UPDATE written_items SET deadline_at = deadline_at + $1, extended_ms = extended_ms + $1 \
         WHERE done_at IS NULL AND deadline_at > $2",
    )
    .bind(down)
    .bind(last)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE settings SET value = $1 WHERE key = $2")
        .bind(now.to_string())
        .bind(HEARTBEAT)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// How many answers (not timeouts) are stored, over all sessions.
pub async fn answered_count(db: &Db) -> Result<i64, StoreError> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM written_items WHERE outcome = 'answered'")
            .fetch_one(&db.pool)
            .await?;
    Ok(n)
}

/// When a candidate may take the written test, and their time multiplier.
#[derive(Debug, sqlx::FromRow)]
pub struct Admission {
    /// The test opens at (Unix ms), if the centre set a window.
    pub written_opens_at: Option<i64>,
    /// The test closes at (Unix ms), if the centre set a window.
    pub written_closes_at: Option<i64>,
    /// Extra time granted (1.0: none).
    pub time_multiplier: f64,
}

/// A candidate's admission to the written test.
pub async fn admission(db: &Db, candidate_id: &str) -> Result<Admission, StoreError> {
    Ok(sqlx::query_as(
        "SELECT written_opens_at, written_closes_at, time_multiplier FROM candidates WHERE user_id = $1",
    )
    .bind(candidate_id)
    .fetch_one(&db.pool)
    .await?)
}

/// A session's domain estimates (JSON), once it is finished; `None` for no such session.
pub async fn result_json(db: &Db, id: &str) -> Result<Option<Option<String>>, StoreError> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT result_json FROM written_sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(j,)| j))
}
