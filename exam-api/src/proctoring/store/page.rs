//! What the reviewer's session page shows: the candidate, the identity comparison,
//! the items, the events with their images, the audit log and the oral interview's
//! closure; and the images themselves.

use crate::db::{Db, StoreError};
use crate::proctoring::{Capture, EventKind, Severity};

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
