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

use super::store::{self, Assigned, Entry, EventDecided, SessionDecided};
use super::{MAX_COMMENT_CHARS, Severity, priority};
use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::now_ms;
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

/// The review of `session` if the caller is a reviewer it is assigned to; 404 otherwise.
pub(crate) async fn assigned(
    state: &AppState,
    auth: &AuthUser,
    session: &str,
) -> Result<Assigned, ApiError> {
    auth.require(&[Role::Reviewer])?;
    assign_waiting(state, auth).await?;
    store::assigned(&state.db, session, auth.id())
        .await?
        .ok_or_else(|| ApiError::NotFound("no such review".to_owned()))
}

/// Assigns the pending reviews of the caller's centre that have no reviewer yet (the
/// centre had none when they finished); runs whenever a reviewer calls a review route.
async fn assign_waiting(state: &AppState, auth: &AuthUser) -> Result<(), ApiError> {
    if let Some(centre) = auth.centre() {
        store::assign_waiting(&state.db, centre).await?;
    }
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
    assign_waiting(&state, &auth).await?;
    let rows = store::queue(&state.db, auth.id()).await?;
    let mut items: Vec<(Severity, i64, QueueItem)> = rows
        .into_iter()
        .map(|row| {
            let counts = row.counts();
            let p = priority(&counts);
            let finished = row.finished_at;
            let item = QueueItem {
                session_id: row.session_id,
                candidate_id: row.candidate_id,
                finished_at: finished.and_then(rfc3339),
                status: row.status,
                priority: p.as_str(),
                events: Counts::from_array(counts),
                pending_events: row.pending_events,
            };
            (p, finished.unwrap_or(i64::MAX), item)
        })
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
    let entry = Entry {
        session: &session,
        event: Some(&event),
        reviewer: auth.id(),
        action: &body.decision,
        comment: (!comment.is_empty()).then_some(comment.as_str()),
        at: now_ms(),
    };
    match store::decide_event(&state.db, &entry).await? {
        EventDecided::Done => {}
        EventDecided::SessionClosed => {
            return Err(ApiError::refused(
                "already_decided",
                "this session was already reviewed; its events can no longer change",
            ));
        }
        EventDecided::NoSuchEvent => return Err(ApiError::NotFound("no such event".to_owned())),
    }
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
    let entry = Entry {
        session: &session,
        event: None,
        reviewer: auth.id(),
        action: &body.decision,
        comment: (!comment.is_empty()).then_some(comment.as_str()),
        at: now_ms(),
    };
    let decided = match store::decide_session(&state.db, &entry).await? {
        SessionDecided::Done => true,
        SessionDecided::EventsPending(pending) => {
            return Err(ApiError::refused(
                "events_pending",
                format!("confirm or dismiss every flag first ({pending} still pending)"),
            ));
        }
        SessionDecided::AlreadyDecided => false,
    };
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
