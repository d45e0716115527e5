//! Oral interviews as appointments: who, with whom, when, at which target level.
//! Until the booking calendar exists, centre admins create them through the API.
//!
//! Scope: an evaluator sees only their interviews, a candidate only theirs, a centre
//! admin those of their centre, a platform admin all.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::new_id;
use sqlx::AssertSqlSafe;

use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::cefr::Cefr;
use crate::db::now_ms;
use crate::error::{ApiError, ApiJson, ErrorBody};

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/interviews", post(create).get(list))
        .route("/api/v1/interviews/{id}", get(get_one))
}

/// An interview to schedule.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterviewIn {
    /// The candidate.
    pub candidate_id: String,
    /// The evaluator.
    pub evaluator_id: String,
    /// Start time (RFC 3339, stored in UTC).
    #[schema(value_type = String, format = DateTime, example = "2026-12-01T09:00:00Z")]
    pub scheduled_at: DateTime<Utc>,
    /// Length in minutes (15–60, default 30).
    #[serde(default)]
    #[schema(minimum = 15, maximum = 60)]
    pub duration_min: Option<i64>,
}

/// A scheduled interview.
#[derive(Serialize, ToSchema)]
pub struct InterviewOut {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Centre.
    #[schema(format = "uuid")]
    pub centre_id: String,
    /// Candidate.
    #[schema(format = "uuid")]
    pub candidate_id: String,
    /// Evaluator.
    #[schema(format = "uuid")]
    pub evaluator_id: String,
    /// Start time (UTC).
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_at: DateTime<Utc>,
    /// Length in minutes.
    pub duration_min: i64,
    /// The candidate's target level, which picks the prompts.
    pub target_cefr: Cefr,
    /// `scheduled`, `held` (booked, not confirmed yet), `confirmed`, `in_progress`,
    /// `done` or `cancelled`.
    #[schema(example = "scheduled")]
    pub status: String,
}

type Row = (String, String, String, String, i64, i64, String, String);
const SELECT: &str = "SELECT id, centre_id, candidate_id, evaluator_id, scheduled_at, duration_min, target_cefr, status FROM interviews";

fn out(r: Row) -> Result<InterviewOut, ApiError> {
    Ok(InterviewOut {
        id: r.0,
        centre_id: r.1,
        candidate_id: r.2,
        evaluator_id: r.3,
        scheduled_at: DateTime::from_timestamp_millis(r.4)
            .ok_or_else(|| ApiError::Internal("time".to_owned()))?,
        duration_min: r.5,
        target_cefr: r
            .6
            .parse()
            .map_err(|_| ApiError::Internal("cefr".to_owned()))?,
        status: r.7,
    })
}

/// Schedules an interview (the candidate's centre admin, or a platform admin).
#[utoipa::path(post, path = "/api/v1/interviews", tag = "interviews", request_body = InterviewIn,
    responses((status = 201, description = "the interview", body = InterviewOut),
        (status = 403, description = "not an admin", body = ErrorBody),
        (status = 404, description = "no such candidate, or no such evaluator in the candidate's centre", body = ErrorBody),
        (status = 409, description = "`slot_taken`: the evaluator has an interview that overlaps; `already_booked`: the candidate has one", body = ErrorBody),
        (status = 422, description = "`invalid_duration`", body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<InterviewIn>,
) -> Result<(StatusCode, Json<InterviewOut>), ApiError> {
    auth.require(&[Role::CentreAdmin, Role::PlatformAdmin])?;
    let candidate = crate::accounts::visible_candidate(&state, &auth, &body.candidate_id).await?;
    let evaluator: Option<(Option<String>,)> =
        sqlx::query_as("SELECT centre_id FROM users WHERE id = $1 AND role = 'evaluator'")
            .bind(&body.evaluator_id)
            .fetch_optional(&state.db.pool)
            .await?;
    match evaluator {
        Some((Some(c),)) if c == candidate.centre_id => {}
        _ => {
            return Err(ApiError::NotFound(
                "no such evaluator in the candidate's centre".to_owned(),
            ));
        }
    }
    let duration = body.duration_min.unwrap_or(30);
    if !(15..=60).contains(&duration) {
        return Err(ApiError::invalid(
            "invalid_duration",
            "duration_min must be between 15 and 60",
        ));
    }
    let id = new_id();
    let start = body.scheduled_at.timestamp_millis();
    // The same rules as the booking calendar's: the evaluator's time is free (checked
    // under the evaluator's lock, and enforced by the database's constraint), and the
    // candidate has no other live interview.
    let mut tx = state.db.begin_write().await?;
    crate::booking::routes::ensure_free(&state, &mut tx, &body.evaluator_id, start, duration, None)
        .await?;
    sqlx::query(
        "INSERT INTO interviews (id, centre_id, candidate_id, evaluator_id, scheduled_at, duration_min, target_cefr, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'scheduled', $8)",
    )
    .bind(&id)
    .bind(&candidate.centre_id)
    .bind(&candidate.id)
    .bind(&body.evaluator_id)
    .bind(start)
    .bind(duration)
    .bind(candidate.cefr_target.to_string())
    .bind(now_ms())
    .execute(&mut *tx)
    .await
    .map_err(crate::booking::routes::interview_conflict)?;
    tx.commit().await?;
    let row: Row = sqlx::query_as(AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
        .bind(&id)
        .fetch_one(&state.db.pool)
        .await?;
    Ok((StatusCode::CREATED, Json(out(row)?)))
}

/// The interviews the caller takes part in or manages, by start time.
#[utoipa::path(get, path = "/api/v1/interviews", tag = "interviews",
    responses((status = 200, description = "the interviews, by start time", body = [InterviewOut]),
        (status = 403, description = "a reviewer", body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<InterviewOut>>, ApiError> {
    let (filter, arg) = match auth.role() {
        Role::Evaluator => ("evaluator_id = $1", auth.id().to_owned()),
        Role::Candidate => ("candidate_id = $1", auth.id().to_owned()),
        Role::CentreAdmin => ("centre_id = $1", auth.centre().unwrap_or("").to_owned()),
        Role::PlatformAdmin => ("$1 = $1", String::new()),
        Role::Reviewer => {
            return Err(ApiError::Forbidden(
                "reviewers do not take part in interviews".to_owned(),
            ));
        }
    };
    let rows: Vec<Row> = sqlx::query_as(AssertSqlSafe(format!(
        "{SELECT} WHERE {filter} ORDER BY scheduled_at"
    )))
    .bind(arg)
    .fetch_all(&state.db.pool)
    .await?;
    rows.into_iter()
        .map(out)
        .collect::<Result<_, _>>()
        .map(Json)
}

/// One interview, if the caller takes part in it or manages it.
#[utoipa::path(get, path = "/api/v1/interviews/{id}", tag = "interviews", params(("id" = String, Path, description = "interview id")),
    responses((status = 200, description = "the interview", body = InterviewOut),
        (status = 404, description = "no such interview the caller takes part in or manages", body = ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<InterviewOut>, ApiError> {
    let row: Option<Row> = sqlx::query_as(AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
        .bind(&id)
        .fetch_optional(&state.db.pool)
        .await?;
    let i = row.map(out).transpose()?;
    let visible = i.as_ref().is_some_and(|i| match auth.role() {
        Role::PlatformAdmin => true,
        Role::CentreAdmin => auth.centre() == Some(i.centre_id.as_str()),
        Role::Evaluator => auth.id() == i.evaluator_id,
        Role::Candidate => auth.id() == i.candidate_id,
        Role::Reviewer => false,
    });
    match i {
        Some(i) if visible => Ok(Json(i)),
        _ => Err(ApiError::NotFound("no such interview".to_owned())),
    }
}
