//! The proctoring's storage: every query of the area — the events the monitor stores,
//! the identity captures, the reviews (assignment, queue, decisions, audit log), the
//! session page's tracks and the purge of images. Handlers hold no SQL; these functions
//! take the pool, a connection or a transaction and answer [`StoreError`].
//!
//! Rows decode into named structs; the stored `kind` and `severity` of an event decode
//! into [`EventKind`] and [`Severity`] here, and an unknown value is
//! [`StoreError::Corrupt`].

use sqlx::AnyConnection;

use super::{Capture, EventKind, EventRecord, Severity};
use crate::accounts::new_id;
use crate::db::{Db, StoreError};

// ---------------------------------------------------------------------------------
// The monitor's side: sessions to watch and the events they produce.
// ---------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------
// The identity step.
// ---------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------
// Reviews: assignment, the audit log, decisions.
// ---------------------------------------------------------------------------------

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
    /// Its events per severity, in [`Severity::ALL`] order.
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

// ---------------------------------------------------------------------------------
// The session page and its images.
// ---------------------------------------------------------------------------------

/// A candidate's name.
#[derive(sqlx::FromRow)]
pub(crate) struct Name {
    /// Given names.
    pub(crate) first_names: String,
    /// Family name.
    pub(crate) last_name: String,
}

/// The name of the user `id` (an error if there is none).
pub(crate) async fn name(db: &Db, id: &str) -> Result<Name, StoreError> {
    Ok(
        sqlx::query_as("SELECT first_names, last_name FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await?,
    )
}

/// What the page shows of the identity step.
#[derive(sqlx::FromRow)]
struct IdentityRow {
    /// The faces' similarity.
    similarity: Option<f64>,
    /// 1 when a selfie is stored.
    has_selfie: i64,
    /// 1 when a document is stored.
    has_document: i64,
}

/// The identity step as the reviewer sees it.
#[derive(Default)]
pub(crate) struct IdentitySummary {
    /// The faces' similarity, once compared.
    pub(crate) similarity: Option<f32>,
    /// A selfie is stored.
    pub(crate) selfie: bool,
    /// A document is stored.
    pub(crate) document: bool,
}

/// The candidate's identity comparison and which images are kept.
pub(crate) async fn identity_summary(
    db: &Db,
    candidate: &str,
) -> Result<IdentitySummary, StoreError> {
    let row: Option<IdentityRow> = sqlx::query_as(
        "SELECT similarity, CAST(CASE WHEN selfie IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_selfie, \
         CAST(CASE WHEN document IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_document \
         FROM identity_captures WHERE candidate_id = $1",
    )
    .bind(candidate)
    .fetch_optional(&db.pool)
    .await?;
    Ok(
        row.map_or_else(IdentitySummary::default, |r| IdentitySummary {
            similarity: r.similarity.map(|s| s as f32),
            selfie: r.has_selfie == 1,
            document: r.has_document == 1,
        }),
    )
}

/// One item of a written test, as presented.
#[derive(sqlx::FromRow)]
pub(crate) struct ItemRow {
    /// Its position, from 0.
    pub(crate) position: i64,
    /// The item.
    pub(crate) item_id: String,
    /// When it was shown (Unix ms).
    pub(crate) presented_at: i64,
    /// When it was done with.
    pub(crate) done_at: Option<i64>,
    /// `answered`, `timeout`, …
    pub(crate) outcome: Option<String>,
    /// Its domain (none if the item left the bank).
    pub(crate) domain: Option<String>,
    /// Its type.
    pub(crate) item_type: Option<String>,
}

/// The session's items in order.
pub(crate) async fn items(db: &Db, session: &str) -> Result<Vec<ItemRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT w.position, w.item_id, w.presented_at, w.done_at, w.outcome, i.domain, i.item_type \
         FROM written_items w LEFT JOIN items i ON i.id = w.item_id WHERE w.session_id = $1 ORDER BY w.position",
    )
    .bind(session)
    .fetch_all(&db.pool)
    .await?)
}

/// An image of an event (its bytes are fetched one by one, by [`media_jpeg`]).
#[derive(sqlx::FromRow)]
pub(crate) struct MediaRow {
    /// Id.
    pub(crate) id: String,
    /// The event.
    pub(crate) event_id: String,
    /// `thumbnail` or `clip`.
    pub(crate) role: String,
    /// When a clip frame was taken (Unix ms).
    pub(crate) at_ms: Option<i64>,
}

/// The images of the session's events, by event, role and rank.
pub(crate) async fn media(db: &Db, session: &str) -> Result<Vec<MediaRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.event_id, m.role, m.at_ms FROM proctoring_media m JOIN proctoring_events e ON e.id = m.event_id \
         WHERE e.session_id = $1 ORDER BY m.event_id, m.role, m.seq",
    )
    .bind(session)
    .fetch_all(&db.pool)
    .await?)
}

/// An event's row as stored.
#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    kind: String,
    severity: String,
    start_ms: i64,
    end_ms: i64,
    peak_confidence: f64,
    status: String,
    comment: Option<String>,
    decided_at: Option<i64>,
}

/// A stored event, with the reviewer's decision.
pub(crate) struct StoredEvent {
    /// Id.
    pub(crate) id: String,
    /// What it is about.
    pub(crate) kind: EventKind,
    /// How suspicious it is.
    pub(crate) severity: Severity,
    /// Start (Unix ms).
    pub(crate) start_ms: i64,
    /// End (Unix ms).
    pub(crate) end_ms: i64,
    /// The detector's highest confidence.
    pub(crate) peak_confidence: f64,
    /// `pending`, `confirmed` or `dismissed`.
    pub(crate) status: String,
    /// The reviewer's comment.
    pub(crate) comment: Option<String>,
    /// When it was decided (Unix ms).
    pub(crate) decided_at: Option<i64>,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        let kind = r
            .kind
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", r.id)))?;
        let severity = Severity::parse(&r.severity).ok_or_else(|| {
            StoreError::Corrupt(format!("event {}: unknown severity {:?}", r.id, r.severity))
        })?;
        Ok(StoredEvent {
            id: r.id,
            kind,
            severity,
            start_ms: r.start_ms,
            end_ms: r.end_ms,
            peak_confidence: r.peak_confidence,
            status: r.status,
            comment: r.comment,
            decided_at: r.decided_at,
        })
    }
}

/// The session's events by start time.
pub(crate) async fn events(db: &Db, session: &str) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT id, kind, severity, start_ms, end_ms, peak_confidence, status, comment, decided_at \
         FROM proctoring_events WHERE session_id = $1 ORDER BY start_ms, id",
    )
    .bind(session)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(StoredEvent::try_from).collect()
}

/// One entry of the audit log, as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    /// When (Unix ms).
    pub(crate) at: i64,
    /// Who.
    pub(crate) reviewer_id: String,
    /// What.
    pub(crate) action: String,
    /// The event, for an event decision.
    pub(crate) event_id: Option<String>,
    /// The comment given.
    pub(crate) comment: Option<String>,
}

/// The session's audit log in order.
pub(crate) async fn audit_log(db: &Db, session: &str) -> Result<Vec<AuditRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT at, reviewer_id, action, event_id, comment FROM proctoring_audit WHERE session_id = $1 ORDER BY at, seq",
    )
    .bind(session)
    .fetch_all(&db.pool)
    .await?)
}

/// How the candidate's latest oral interview was closed.
#[derive(sqlx::FromRow)]
pub(crate) struct OralRow {
    /// `held_without_recording` or `no_show`, when its evaluator closed it so.
    pub(crate) closure: Option<String>,
    /// The evaluator's reason.
    pub(crate) closure_reason: Option<String>,
    /// When it ended (Unix ms).
    pub(crate) ended_at: Option<i64>,
}

/// The candidate's latest oral interview not cancelled, if any.
pub(crate) async fn latest_oral(db: &Db, candidate: &str) -> Result<Option<OralRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT closure, closure_reason, ended_at FROM interviews WHERE candidate_id = $1 AND status <> 'cancelled' \
         ORDER BY scheduled_at DESC LIMIT 1",
    )
    .bind(candidate)
    .fetch_optional(&db.pool)
    .await?)
}

/// The JPEG of the image `media` if it belongs to one of the session's events.
pub(crate) async fn media_jpeg(
    db: &Db,
    session: &str,
    media: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT m.jpeg FROM proctoring_media m JOIN proctoring_events e ON e.id = m.event_id \
         WHERE m.id = $1 AND e.session_id = $2",
    )
    .bind(media)
    .bind(session)
    .fetch_optional(&db.pool)
    .await?)
}

/// A stored identity capture.
#[derive(sqlx::FromRow)]
struct ImageRow {
    bytes: Option<Vec<u8>>,
    content_type: Option<String>,
}

/// The candidate's capture (its bytes and content type), unless none is kept.
pub(crate) async fn identity_image(
    db: &Db,
    candidate: &str,
    capture: Capture,
) -> Result<Option<(Vec<u8>, String)>, StoreError> {
    let sql = match capture {
        Capture::Selfie => {
            "SELECT selfie AS bytes, selfie_type AS content_type FROM identity_captures WHERE candidate_id = $1"
        }
        Capture::Document => {
            "SELECT document AS bytes, document_type AS content_type FROM identity_captures WHERE candidate_id = $1"
        }
    };
    let row: Option<ImageRow> = sqlx::query_as(sql)
        .bind(candidate)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.and_then(|r| Some((r.bytes?, r.content_type?))))
}

// ---------------------------------------------------------------------------------
// The purge.
// ---------------------------------------------------------------------------------

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
