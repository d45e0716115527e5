//! The reviewers' side: who reviews which finished written test (assignment), the
//! queue by priority, the decisions on each event and on the session, and the audit
//! log every reviewer action goes to. A reviewer sees and acts only on the sessions
//! assigned to them; any other session answers 404, as if it did not exist.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use super::{MAX_COMMENT_CHARS, Severity, priority};
use crate::accounts::new_id;
use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::{Db, now_ms};
use crate::error::{ApiError, ApiJson, ErrorBody};

/// The routes of the queue and the decisions.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reviews", get(queue))
        .route("/api/v1/reviews/{session_id}/decision", post(decide))
        .route(
            "/api/v1/reviews/{session_id}/events/{event_id}",
            post(decide_event),
        )
}

/// The reviewer of a centre with the fewest pending reviews (ties: the lowest id).
const BEST_REVIEWER: &str = "SELECT u.id FROM users u WHERE u.role = 'reviewer' AND u.centre_id = $1 \
     ORDER BY (SELECT COUNT(*) FROM reviews r WHERE r.assigned_to = u.id AND r.status = 'pending'), u.id LIMIT 1";

/// Opens the review of a finished written test (in the transaction that finishes it),
/// assigned to the reviewer of the candidate's centre with the fewest pending reviews;
/// unassigned if the centre has no reviewer yet ([`assign_waiting`] catches up).
pub(crate) async fn open_review(
    conn: &mut AnyConnection,
    session_id: &str,
) -> Result<(), ApiError> {
    let centre: Option<(String,)> = sqlx::query_as(
        "SELECT c.centre_id FROM written_sessions s JOIN candidates c ON c.user_id = s.candidate_id WHERE s.id = $1",
    )
    .bind(session_id)
    .fetch_optional(&mut *conn)
    .await?;
    let reviewer: Option<(String,)> = match centre {
        Some((centre,)) => {
            sqlx::query_as(BEST_REVIEWER)
                .bind(centre)
                .fetch_optional(&mut *conn)
                .await?
        }
        None => None,
    };
    sqlx::query("INSERT INTO reviews (session_id, status, assigned_to) VALUES ($1, 'pending', $2)")
        .bind(session_id)
        .bind(reviewer.map(|(id,)| id))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Assigns the centre's pending reviews that have no reviewer yet (the centre had none
/// when they finished), oldest first, each to the reviewer with the fewest pending.
/// Runs whenever a reviewer of the centre calls a review route.
async fn assign_waiting(db: &Db, centre: Option<&str>) -> Result<(), ApiError> {
    let Some(centre) = centre else {
        return Ok(());
    };
    let waiting: Vec<(String,)> = sqlx::query_as(
        "SELECT r.session_id FROM reviews r JOIN written_sessions s ON s.id = r.session_id \
         JOIN candidates c ON c.user_id = s.candidate_id \
         WHERE r.assigned_to IS NULL AND r.status = 'pending' AND c.centre_id = $1 ORDER BY s.finished_at, r.session_id",
    )
    .bind(centre)
    .fetch_all(&db.pool)
    .await?;
    for (session,) in waiting {
        let mut tx = db.begin_write().await?;
        let best: Option<(String,)> = sqlx::query_as(BEST_REVIEWER)
            .bind(centre)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((reviewer,)) = best {
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

/// The review of `session` if the caller is a reviewer it is assigned to; 404 otherwise.
pub(crate) async fn assigned(
    state: &AppState,
    auth: &AuthUser,
    session: &str,
) -> Result<Assigned, ApiError> {
    auth.require(&[Role::Reviewer])?;
    assign_waiting(&state.db, auth.centre()).await?;
    type Row = (
        String,
        String,
        i64,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<i64>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT r.status, s.candidate_id, s.created_at, s.finished_at, r.comment, r.decided_at, r.media_purged_at \
         FROM reviews r JOIN written_sessions s ON s.id = r.session_id WHERE r.session_id = $1 AND r.assigned_to = $2",
    )
    .bind(session)
    .bind(auth.id())
    .fetch_optional(&state.db.pool)
    .await?;
    let r = row.ok_or_else(|| ApiError::NotFound("no such review".to_owned()))?;
    Ok(Assigned {
        status: r.0,
        candidate_id: r.1,
        started_at: r.2,
        finished_at: r.3,
        comment: r.4,
        decided_at: r.5,
        media_purged_at: r.6,
    })
}

/// Writes one entry of the audit log.
pub(crate) async fn audit(
    conn: &mut AnyConnection,
    session: &str,
    event: Option<&str>,
    reviewer: &str,
    action: &str,
    comment: Option<&str>,
    at: i64,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO proctoring_audit (id, session_id, seq, event_id, reviewer_id, action, comment, at) VALUES \
         ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM proctoring_audit WHERE session_id = $2), $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(session)
    .bind(event)
    .bind(reviewer)
    .bind(action)
    .bind(comment)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An instant as RFC 3339.
pub(crate) fn rfc3339(ms: i64) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339())
}

/// Events of a session per severity, in [`Severity::ALL`] order.
#[derive(Serialize, Debug, Default, Clone, Copy, utoipa::ToSchema)]
pub(crate) struct Counts {
    /// `info` events.
    info: i64,
    /// `low` events.
    low: i64,
    /// `medium` events.
    medium: i64,
    /// `high` events.
    high: i64,
}

impl Counts {
    pub(crate) fn from_array(c: [i64; 4]) -> Counts {
        Counts {
            info: c[0],
            low: c[1],
            medium: c[2],
            high: c[3],
        }
    }
}

/// A session of the reviewer's queue.
#[derive(Serialize, Debug, utoipa::ToSchema)]
struct QueueItem {
    /// The written-test session.
    session_id: String,
    /// The candidate.
    candidate_id: String,
    /// When the test finished.
    #[schema(format = DateTime)]
    finished_at: Option<String>,
    /// `pending`, `validated` or `invalidated`.
    status: String,
    /// The highest severity of its events.
    #[schema(value_type = Severity)]
    priority: &'static str,
    /// Events per severity.
    events: Counts,
    /// Non-info events still waiting for a decision (the session decision waits for them).
    pending_events: i64,
}

/// The caller's finished written tests: pending ones first, by priority (high first),
/// then the oldest first; decided ones after them.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "proctoring",
    responses((status = 200, description = "the reviewer's sessions: pending first, by priority, then the oldest", body = [QueueItem]),
        (status = 403, description = "not a reviewer", body = ErrorBody)))]
async fn queue(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<QueueItem>>, ApiError> {
    auth.require(&[Role::Reviewer])?;
    assign_waiting(&state.db, auth.centre()).await?;
    type Row = (String, String, Option<i64>, String, i64, i64, i64, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.session_id, s.candidate_id, s.finished_at, r.status, \
         COUNT(CASE WHEN e.severity = 'info' THEN 1 END), COUNT(CASE WHEN e.severity = 'low' THEN 1 END), \
         COUNT(CASE WHEN e.severity = 'medium' THEN 1 END), COUNT(CASE WHEN e.severity = 'high' THEN 1 END), \
         COUNT(CASE WHEN e.severity <> 'info' AND e.status = 'pending' THEN 1 END) \
         FROM reviews r JOIN written_sessions s ON s.id = r.session_id \
         LEFT JOIN proctoring_events e ON e.session_id = r.session_id \
         WHERE r.assigned_to = $1 GROUP BY r.session_id, s.candidate_id, s.finished_at, r.status",
    )
    .bind(auth.id())
    .fetch_all(&state.db.pool)
    .await?;
    let mut items: Vec<(Severity, i64, QueueItem)> = rows
        .into_iter()
        .map(
            |(session_id, candidate_id, finished, status, i, l, m, h, pending)| {
                let counts = [i, l, m, h];
                let p = priority(&counts);
                let item = QueueItem {
                    session_id,
                    candidate_id,
                    finished_at: finished.and_then(rfc3339),
                    status,
                    priority: p.as_str(),
                    events: Counts::from_array(counts),
                    pending_events: pending,
                };
                (p, finished.unwrap_or(i64::MAX), item)
            },
        )
        .collect();
    items.sort_by(|a, b| {
        (a.2.status != "pending")
            .cmp(&(b.2.status != "pending"))
            .then(b.0.cmp(&a.0))
            .then(a.1.cmp(&b.1))
            .then_with(|| a.2.session_id.cmp(&b.2.session_id))
    });
    Ok(Json(items.into_iter().map(|(_, _, i)| i).collect()))
}

/// A comment of at most [`MAX_COMMENT_CHARS`] characters, trimmed.
fn checked_comment(comment: &str) -> Result<String, ApiError> {
    let c = comment.trim();
    if c.chars().count() > MAX_COMMENT_CHARS {
        return Err(ApiError::invalid(
            "invalid_comment",
            format!("comment: at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    Ok(c.to_owned())
}

/// The decisions on an event (the schema of [`EventDecisionIn::decision`], checked by
/// [`decide_event`]).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum EventDecision {
    Confirmed,
    Dismissed,
}

/// The decisions on a session (the schema of [`DecisionIn::decision`], checked by
/// [`decide`]).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum SessionDecision {
    Validated,
    Invalidated,
}

/// A decision on one event.
#[derive(Deserialize, Debug, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct EventDecisionIn {
    /// `confirmed` or `dismissed`.
    #[schema(value_type = EventDecision)]
    decision: String,
    /// What the reviewer saw (required to confirm).
    #[serde(default)]
    #[schema(max_length = 2000)]
    comment: String,
}

/// Confirms or dismisses one event; the reviewer may change their mind until the
/// session is decided (each time audited).
#[tracing::instrument(skip_all, fields(session = %session, event = %event))]
#[utoipa::path(post, path = "/api/v1/reviews/{session_id}/events/{event_id}", tag = "proctoring", request_body = EventDecisionIn,
    params(("session_id" = String, Path, description = "written-test session id"), ("event_id" = String, Path, description = "event id")),
    responses((status = 204, description = "decided (audited)"),
        (status = 403, description = "not a reviewer", body = ErrorBody),
        (status = 404, description = "no such review assigned to the caller, or no such event", body = ErrorBody),
        (status = 409, description = "`already_decided`: the session was decided", body = ErrorBody),
        (status = 422, description = "`invalid_decision`, `invalid_comment` or `comment_required`", body = ErrorBody)))]
async fn decide_event(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((session, event)): Path<(String, String)>,
    ApiJson(body): ApiJson<EventDecisionIn>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Role::Reviewer])?;
    if !matches!(body.decision.as_str(), "confirmed" | "dismissed") {
        return Err(ApiError::invalid(
            "invalid_decision",
            "decision: confirmed or dismissed",
        ));
    }
    let comment = checked_comment(&body.comment)?;
    if body.decision == "confirmed" && comment.is_empty() {
        return Err(ApiError::invalid(
            "comment_required",
            "say what you saw: a confirmed flag needs a comment",
        ));
    }
    assigned(&state, &auth, &session).await?;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    // Locks the review row (PostgreSQL) so a concurrent session decision waits for this one.
    let open = sqlx::query(
        "UPDATE reviews SET status = status WHERE session_id = $1 AND status = 'pending'",
    )
    .bind(&session)
    .execute(&mut *tx)
    .await?;
    if open.rows_affected() == 0 {
        return Err(ApiError::refused(
            "already_decided",
            "this session was already reviewed; its events can no longer change",
        ));
    }
    let comment = (!comment.is_empty()).then_some(comment);
    let done = sqlx::query(
        "UPDATE proctoring_events SET status = $1, comment = $2, decided_by = $3, decided_at = $4 \
         WHERE id = $5 AND session_id = $6",
    )
    .bind(&body.decision)
    .bind(comment.as_deref())
    .bind(auth.id())
    .bind(now)
    .bind(&event)
    .bind(&session)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound("no such event".to_owned()));
    }
    audit(
        &mut tx,
        &session,
        Some(&event),
        auth.id(),
        &body.decision,
        comment.as_deref(),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(decision = %body.decision, "proctoring event decided");
    Ok(StatusCode::NO_CONTENT)
}

/// The decision on a session.
#[derive(Deserialize, Debug, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DecisionIn {
    /// `validated` or `invalidated`.
    #[schema(value_type = SessionDecision)]
    decision: String,
    /// A comment.
    #[serde(default)]
    #[schema(max_length = 2000)]
    comment: String,
}

/// Validates or invalidates the session once every non-info event is decided; then
/// tries to release the candidate's result.
#[tracing::instrument(skip_all, fields(session = %session))]
#[utoipa::path(post, path = "/api/v1/reviews/{session_id}/decision", tag = "proctoring", request_body = DecisionIn,
    params(("session_id" = String, Path, description = "written-test session id")),
    responses((status = 204, description = "decided (audited); the result is released when every part is there"),
        (status = 403, description = "not a reviewer", body = ErrorBody),
        (status = 404, description = "no such review assigned to the caller", body = ErrorBody),
        (status = 409, description = "`events_pending` or `already_decided`", body = ErrorBody),
        (status = 422, description = "`invalid_decision` or `invalid_comment`", body = ErrorBody)))]
async fn decide(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(session): Path<String>,
    ApiJson(body): ApiJson<DecisionIn>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Role::Reviewer])?;
    if !matches!(body.decision.as_str(), "validated" | "invalidated") {
        return Err(ApiError::invalid(
            "invalid_decision",
            "decision: validated or invalidated",
        ));
    }
    let comment = checked_comment(&body.comment)?;
    let review = assigned(&state, &auth, &session).await?;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE reviews SET status = $1, reviewer_id = $2, comment = $3, decided_at = $4 \
         WHERE session_id = $5 AND status = 'pending'",
    )
    .bind(&body.decision)
    .bind(auth.id())
    .bind(&comment)
    .bind(now)
    .bind(&session)
    .execute(&mut *tx)
    .await?;
    let decided = done.rows_affected() == 1;
    if decided {
        let (pending,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM proctoring_events WHERE session_id = $1 AND status = 'pending' AND severity <> 'info'",
        )
        .bind(&session)
        .fetch_one(&mut *tx)
        .await?;
        if pending > 0 {
            tx.rollback().await?;
            return Err(ApiError::refused(
                "events_pending",
                format!("confirm or dismiss every flag first ({pending} still pending)"),
            ));
        }
        let comment = (!comment.is_empty()).then_some(comment.as_str());
        audit(
            &mut tx,
            &session,
            None,
            auth.id(),
            &body.decision,
            comment,
            now,
        )
        .await?;
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    // The release is attempted in either case: a retry after a failed release completes it.
    crate::results::try_release(&state, &review.candidate_id).await?;
    if !decided {
        return Err(ApiError::refused(
            "already_decided",
            "this session was already reviewed",
        ));
    }
    tracing::info!(decision = %body.decision, "proctoring review decided");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::checked_comment;

    #[test]
    fn comments_are_trimmed_and_bounded() {
        assert_eq!(checked_comment("  vu  ").unwrap(), "vu");
        assert!(checked_comment(&"é".repeat(2000)).is_ok());
        assert!(checked_comment(&"é".repeat(2001)).is_err());
    }
}
