//! Proctoring review decisions (minimal, until the proctoring stage builds the flagged
//! timeline): a reviewer of the candidate's centre validates or invalidates each finished
//! written test. A result is released only once this decision is made.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::DateTime;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::now_ms;
use crate::error::{ApiError, ApiJson};

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reviews", get(queue))
        .route("/api/v1/reviews/{session_id}/decision", post(decide))
}

#[derive(Serialize, Debug)]
struct ReviewOut {
    session_id: String,
    candidate_id: String,
    finished_at: Option<String>,
    status: String,
}

async fn queue(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<ReviewOut>>, ApiError> {
    auth.require(&[Role::Reviewer])?;
    let rows: Vec<(String, String, Option<i64>, String)> = sqlx::query_as(
        "SELECT r.session_id, s.candidate_id, s.finished_at, r.status FROM reviews r \
         JOIN written_sessions s ON s.id = r.session_id JOIN candidates c ON c.user_id = s.candidate_id \
         WHERE c.centre_id = $1 ORDER BY r.status DESC, s.finished_at",
    )
    .bind(auth.centre().unwrap_or(""))
    .fetch_all(&state.db.pool)
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(session_id, candidate_id, at, status)| ReviewOut {
                session_id,
                candidate_id,
                finished_at: at
                    .and_then(DateTime::from_timestamp_millis)
                    .map(|t| t.to_rfc3339()),
                status,
            })
            .collect(),
    ))
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct DecisionIn {
    decision: String,
    #[serde(default)]
    comment: String,
}

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
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT s.candidate_id FROM reviews r JOIN written_sessions s ON s.id = r.session_id \
         JOIN candidates c ON c.user_id = s.candidate_id WHERE r.session_id = $1 AND c.centre_id = $2",
    )
    .bind(&session)
    .bind(auth.centre().unwrap_or(""))
    .fetch_optional(&state.db.pool)
    .await?;
    let (candidate,) = row.ok_or_else(|| ApiError::NotFound("no such review".to_owned()))?;
    let done = sqlx::query("UPDATE reviews SET status = $1, reviewer_id = $2, comment = $3, decided_at = $4 WHERE session_id = $5 AND status = 'pending'")
        .bind(&body.decision)
        .bind(auth.id())
        .bind(&body.comment)
        .bind(now_ms())
        .bind(&session)
        .execute(&state.db.pool)
        .await?;
    // The release is attempted in either case: a retry after a failed release completes it.
    crate::results::try_release(&state, &candidate).await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::refused(
            "already_decided",
            "this session was already reviewed",
        ));
    }
    tracing::info!(session = %session, decision = %body.decision, "proctoring review decided");
    Ok(StatusCode::NO_CONTENT)
}
