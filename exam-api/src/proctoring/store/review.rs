//! Reviews: assignment to the centre's reviewers, the queue, the decisions on events
//! and sessions, and the audit log every reviewer action goes to.

use sqlx::AnyConnection;

use crate::accounts::new_id;
use crate::db::{Db, StoreError};

/// The reviewer of a centre with the fewest pending reviews (ties: the lowest id).
const BEST_REVIEWER: &str = "SELECT u.id FROM users u WHERE u.role = 'reviewer' AND u.centre_id = $1 \
     ORDER BY (SELECT COUNT(*) FROM reviews r WHERE r.assigned_to = u.id AND r.status = 'pending'), u.id LIMIT 1";

async fn best_reviewer(
    conn: &mut AnyConnection,
    centre: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(BEST_REVIEWER)
        .bind(centre)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Opens the review of a finished written test (in the transaction that finishes it),
/// assigned to the reviewer of the candidate's centre with the fewest pending reviews;
/// unassigned if the centre has no reviewer yet ([`assign_waiting`] catches up).
pub(crate) async fn open_review(
    conn: &mut AnyConnection,
    session_id: &str,
) -> Result<(), StoreError> {
    let centre: Option<String> = sqlx::query_scalar(
        "SELECT c.centre_id FROM written_sessions s JOIN candidates c ON c.user_id = s.candidate_id WHERE s.id = $1",
    )
    .bind(session_id)
    .fetch_optional(&mut *conn)
    .await?;
    let reviewer = match centre {
        Some(centre) => best_reviewer(conn, &centre).await?,
        None => None,
    };
    sqlx::query("INSERT INTO reviews (session_id, status, assigned_to) VALUES ($1, 'pending', $2)")
        .bind(session_id)
        .bind(reviewer)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Assigns the centre's pending reviews that have no reviewer yet (the centre had none
/// when they finished), oldest first, each to the reviewer with the fewest pending (one
/// transaction each).
pub(crate) async fn assign_waiting(db: &Db, centre: &str) -> Result<(), StoreError> {
    let waiting: Vec<String> = sqlx::query_scalar(
        "SELECT r.session_id FROM reviews r JOIN written_sessions s ON s.id = r.session_id \
         JOIN candidates c ON c.user_id = s.candidate_id \
         WHERE r.assigned_to IS NULL AND r.status = 'pending' AND c.centre_id = $1 ORDER BY s.finished_at, r.session_id",
    )
    .bind(centre)
    .fetch_all(&db.pool)
    .await?;
    for session in waiting {
        let mut tx = db.begin_write().await?;
        if let Some(reviewer) = best_reviewer(&mut tx, centre).await? {
            sqlx::query(
                "UPDATE reviews SET assigned_to = $1 WHERE session_id = $2 AND assigned_to IS NULL",
            )
            .bind(reviewer)
            .bind(&session)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// A review assigned to the caller.
#[derive(sqlx::FromRow)]
pub(crate) struct Assigned {
    /// The review's status: `pending`, `validated` or `invalidated`.
    pub(crate) status: String,
    /// The candidate.
    pub(crate) candidate_id: String,
    /// When the session started (Unix ms).
    pub(crate) started_at: i64,
    /// When it finished (Unix ms).
    pub(crate) finished_at: Option<i64>,
    /// The decision's comment.
    pub(crate) comment: Option<String>,
    /// When the decision was made.
    pub(crate) decided_at: Option<i64>,
    /// When its images were deleted.
    pub(crate) media_purged_at: Option<i64>,
}

/// The review of `session` if it is assigned to `reviewer`.
pub(crate) async fn assigned(
    db: &Db,
    session: &str,
    reviewer: &str,
) -> Result<Option<Assigned>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r.status, s.candidate_id, s.created_at AS started_at, s.finished_at, r.comment, r.decided_at, \
         r.media_purged_at FROM reviews r JOIN written_sessions s ON s.id = r.session_id \
         WHERE r.session_id = $1 AND r.assigned_to = $2",
    )
    .bind(session)
    .bind(reviewer)
    .fetch_optional(&db.pool)
    .await?)
}

/// One entry of the audit log: a reviewer's action, also the decision it records.
pub(crate) struct Entry<'a> {
    /// The written-test session.
    pub(crate) session: &'a str,
    /// The event, for an event decision.
    pub(crate) event: Option<&'a str>,
    /// Who.
    pub(crate) reviewer: &'a str,
    /// `opened`, `confirmed`, `dismissed`, `validated` or `invalidated`.
    pub(crate) action: &'a str,
    /// The comment given (none when empty).
    pub(crate) comment: Option<&'a str>,
    /// When (Unix ms).
    pub(crate) at: i64,
}

/// Writes one entry of the audit log.
async fn audit(conn: &mut AnyConnection, entry: &Entry<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO proctoring_audit (id, session_id, seq, event_id, reviewer_id, action, comment, at) VALUES \
         ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM proctoring_audit WHERE session_id = $2), $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(entry.session)
    .bind(entry.event)
    .bind(entry.reviewer)
    .bind(entry.action)
    .bind(entry.comment)
    .bind(entry.at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Audits an action outside any decision (the reviewer opened the session page).
pub(crate) async fn audit_view(db: &Db, entry: &Entry<'_>) -> Result<(), StoreError> {
    let mut conn = db.pool.acquire().await?;
    audit(&mut conn, entry).await
}

/// What became of a decision on an event.
pub(crate) enum EventDecided {
    /// Stored and audited.
    Done,
    /// The session was decided: its events can no longer change.
    SessionClosed,
    /// The session has no such event.
    NoSuchEvent,
}

/// Stores the decision `entry.action` on the event `entry.event` and audits it, in one
/// transaction that first locks the review row (PostgreSQL), so that a concurrent
/// session decision waits for this one.
pub(crate) async fn decide_event(db: &Db, entry: &Entry<'_>) -> Result<EventDecided, StoreError> {
    let mut tx = db.begin_write().await?;
    let open = sqlx::query(
        "UPDATE reviews SET status = status WHERE session_id = $1 AND status = 'pending'",
    )
    .bind(entry.session)
    .execute(&mut *tx)
    .await?;
    if open.rows_affected() == 0 {
        return Ok(EventDecided::SessionClosed);
    }
    let done = sqlx::query(
        "UPDATE proctoring_events SET status = $1, comment = $2, decided_by = $3, decided_at = $4 \
         WHERE id = $5 AND session_id = $6",
    )
    .bind(entry.action)
    .bind(entry.comment)
    .bind(entry.reviewer)
    .bind(entry.at)
    .bind(entry.event)
    .bind(entry.session)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(EventDecided::NoSuchEvent);
    }
    audit(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(EventDecided::Done)
}

/// What became of a decision on a session.
pub(crate) enum SessionDecided {
    /// Stored and audited.
    Done,
    /// Non-info events wait for a decision (this many); nothing stored.
    EventsPending(i64),
    /// The session was already decided; nothing stored.
    AlreadyDecided,
}

/// Stores the decision `entry.action` on the session and audits it, in one transaction,
/// unless a non-info event is still pending.
pub(crate) async fn decide_session(
    db: &Db,
    entry: &Entry<'_>,
) -> Result<SessionDecided, StoreError> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE reviews SET status = $1, reviewer_id = $2, comment = $3, decided_at = $4 \
         WHERE session_id = $5 AND status = 'pending'",
    )
    .bind(entry.action)
    .bind(entry.reviewer)
    .bind(entry.comment.unwrap_or(""))
    .bind(entry.at)
    .bind(entry.session)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(SessionDecided::AlreadyDecided);
    }
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM proctoring_events WHERE session_id = $1 AND status = 'pending' AND severity <> 'info'",
    )
    .bind(entry.session)
    .fetch_one(&mut *tx)
    .await?;
    if pending > 0 {
        tx.rollback().await?;
        return Ok(SessionDecided::EventsPending(pending));
    }
    audit(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(SessionDecided::Done)
}

/// A session of a reviewer's queue, with its events counted.
#[derive(sqlx::FromRow)]
pub(crate) struct QueueRow {
    /// The written-test session.
    pub(crate) session_id: String,
    /// The candidate.
    pub(crate) candidate_id: String,
    /// When the test finished (Unix ms).
    pub(crate) finished_at: Option<i64>,
    /// The review's status.
    pub(crate) status: String,
    /// `info` events.
    pub(crate) info: i64,
    /// `low` events.
    pub(crate) low: i64,
    /// `medium` events.
    pub(crate) medium: i64,
    /// `high` events.
    pub(crate) high: i64,
    /// Non-info events still waiting for a decision.
    pub(crate) pending_events: i64,
}

impl QueueRow {
    /// Its events per severity, in [`Severity::ALL`](crate::proctoring::Severity::ALL) order.
    pub(crate) fn counts(&self) -> [i64; 4] {
        [self.info, self.low, self.medium, self.high]
    }
}

/// The reviews assigned to `reviewer`, in no particular order.
pub(crate) async fn queue(db: &Db, reviewer: &str) -> Result<Vec<QueueRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r.session_id, s.candidate_id, s.finished_at, r.status, \
         COUNT(CASE WHEN e.severity = 'info' THEN 1 END) AS info, COUNT(CASE WHEN e.severity = 'low' THEN 1 END) AS low, \
         COUNT(CASE WHEN e.severity = 'medium' THEN 1 END) AS medium, COUNT(CASE WHEN e.severity = 'high' THEN 1 END) AS high, \
         COUNT(CASE WHEN e.severity <> 'info' AND e.status = 'pending' THEN 1 END) AS pending_events \
         FROM reviews r JOIN written_sessions s ON s.id = r.session_id \
         LEFT JOIN proctoring_events e ON e.session_id = r.session_id \
         WHERE r.assigned_to = $1 GROUP BY r.session_id, s.candidate_id, s.finished_at, r.status",
    )
    .bind(reviewer)
    .fetch_all(&db.pool)
    .await?)
}
