//! Oral interviews as appointments: who, with whom, when, at which target level, and
//! where each stands in its lifecycle ([`exam_core::interview`], stored by [`store`]).
//! Centre admins may also create them directly through the API.
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

pub mod store;

use crate::accounts::new_id;
use exam_core::interview::Event;

use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::now_ms;
use crate::error::{ApiError, ApiJson, ErrorBody};
use exam_core::cefr::Cefr;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/interviews", post(create).get(list))
        .route("/api/v1/interviews/{id}", get(get_one))
        .route("/api/v1/interviews/{id}/close", post(close))
        .route("/api/v1/interviews/{id}/audit", get(audit))
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
    /// The phase: `held` (booked, not confirmed yet), `confirmed`, `scheduled` (by the
    /// centre), `waiting`, `id_checked`, `in_progress`, `ended`, `cancelled` or `no_show`.
    #[schema(example = "scheduled")]
    pub status: String,
    /// How an ended interview was closed by its evaluator: `held_without_recording` or
    /// `no_show` (absent when it was held in the room and ended there).
    pub closure: Option<String>,
    /// The evaluator's reason for that closure.
    pub closure_reason: Option<String>,
    /// When the room opens (before that, the evaluator's and the candidate's pages say
    /// when it opens).
    #[schema(value_type = String, format = DateTime)]
    pub opens_at: DateTime<Utc>,
    /// When the evaluator started it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (or was closed).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Whether its oral is scored.
    pub scored: bool,
    /// Whether its oral may be scored now (it ended after the minimum time in
    /// progress, or was closed as held without recording).
    pub scoreable: bool,
}

fn time(ms: i64) -> Result<DateTime<Utc>, ApiError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| ApiError::Internal("time".to_owned()))
}

fn out(state: &AppState, r: store::View, viewer: &AuthUser) -> Result<InterviewOut, ApiError> {
    let i = r.record;
    let rules = &state.config.lifecycle;
    let scoreable = i.phase().is_ok_and(|p| {
        exam_core::interview::scoreable(p, i.closure(), rules.min_in_progress_ms).is_ok()
    });
    // The evaluator's reason is for the centre and the reviewer, not the candidate.
    let closure_reason = match viewer.role() {
        Role::Candidate => None,
        _ => i.closure_reason,
    };
    Ok(InterviewOut {
        scheduled_at: time(i.scheduled_at)?,
        opens_at: time(state.config.lifecycle.opens_at(i.scheduled_at))?,
        started_at: i.started_at.map(time).transpose()?,
        ended_at: i.ended_at.map(time).transpose()?,
        target_cefr: r
            .target_cefr
            .parse()
            .map_err(|_| ApiError::Internal("cefr".to_owned()))?,
        id: i.id,
        centre_id: i.centre_id,
        candidate_id: i.candidate_id,
        evaluator_id: i.evaluator_id,
        duration_min: i.duration_min,
        status: i.status,
        closure: i.closure,
        closure_reason,
        scored: r.scored > 0,
        scoreable,
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
    match store::evaluator_centre(&state.db, &body.evaluator_id).await? {
        Some(c) if c == candidate.centre_id => {}
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
    let target = candidate.cefr_target.to_string();
    let new = store::NewInterview {
        id: &id,
        centre_id: &candidate.centre_id,
        candidate_id: &candidate.id,
        evaluator_id: &body.evaluator_id,
        scheduled_at: start,
        duration_min: duration,
        target_cefr: &target,
        status: "scheduled",
        created_at: now_ms(),
        confirmed_at: None,
    };
    store::insert(&mut tx, &new)
        .await
        .map_err(crate::booking::routes::interview_conflict)?;
    tx.commit().await?;
    let row = viewed(&state, &id).await?;
    Ok((StatusCode::CREATED, Json(out(&state, row, &auth)?)))
}

/// The interviews the caller takes part in or manages, by start time.
#[utoipa::path(get, path = "/api/v1/interviews", tag = "interviews",
    responses((status = 200, description = "the interviews, by start time", body = [InterviewOut]),
        (status = 403, description = "a reviewer", body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<InterviewOut>>, ApiError> {
    let scope = match auth.role() {
        Role::Evaluator => store::Scope::Evaluator(auth.id()),
        Role::Candidate => store::Scope::Candidate(auth.id()),
        Role::CentreAdmin => store::Scope::Centre(auth.centre().unwrap_or("")),
        Role::PlatformAdmin => store::Scope::All,
        Role::Reviewer => {
            return Err(ApiError::Forbidden(
                "reviewers do not take part in interviews".to_owned(),
            ));
        }
    };
    store::list(&state.db, scope)
        .await?
        .into_iter()
        .map(|r| out(&state, r, &auth))
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
    let row = store::view(&state.db, &id).await?;
    let i = row.map(|r| out(&state, r, &auth)).transpose()?;
    match i {
        Some(i) if visible(&auth, &i.centre_id, &i.evaluator_id, &i.candidate_id) => Ok(Json(i)),
        _ => Err(ApiError::NotFound("no such interview".to_owned())),
    }
}

/// The interview `id`, just written (its absence is ours: 500).
async fn viewed(state: &AppState, id: &str) -> Result<store::View, ApiError> {
    store::view(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::Internal("interview vanished".to_owned()))
}

/// Whether the caller takes part in or manages an interview of `centre`.
fn visible(auth: &AuthUser, centre: &str, evaluator: &str, candidate: &str) -> bool {
    match auth.role() {
        Role::PlatformAdmin => true,
        Role::CentreAdmin => auth.centre() == Some(centre),
        Role::Evaluator => auth.id() == evaluator,
        Role::Candidate => auth.id() == candidate,
        Role::Reviewer => false,
    }
}

/// How the evaluator closes an interview that did not run its course in the room.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseKind {
    /// It took place, but not in the recorded room (a broken connection, a phone call):
    /// it may then be scored.
    HeldWithoutRecording,
    /// The candidate did not come (from the end of the grace period after the start).
    NoShow,
}

/// The evaluator's closing of an interview.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseIn {
    /// How.
    pub kind: CloseKind,
    /// Why, in a few words (1–1000 characters): kept in the audit log and shown to the
    /// centre and the reviewer.
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Closes an interview as held without recording or as a no-show (its evaluator).
#[tracing::instrument(skip_all, fields(interview = %id))]
#[utoipa::path(post, path = "/api/v1/interviews/{id}/close", tag = "interviews", request_body = CloseIn,
    params(("id" = String, Path, description = "interview id")),
    responses((status = 200, description = "the closed interview", body = InterviewOut),
        (status = 403, description = "not an evaluator", body = ErrorBody),
        (status = 404, description = "no such interview of the evaluator", body = ErrorBody),
        (status = 409, description = "`ended`, `cancelled`, `no_show` (closed already; one ended too soon to be scored may still be closed as held without recording), `wrong_order` (a no-show after the start), `not_started_yet` or `too_early_for_no_show`", body = ErrorBody),
        (status = 422, description = "`invalid_reason`: empty or longer than 1000 characters", body = ErrorBody)))]
async fn close(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CloseIn>,
) -> Result<Json<InterviewOut>, ApiError> {
    auth.require(&[Role::Evaluator])?;
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(ApiError::invalid(
            "invalid_reason",
            "give a reason of 1 to 1000 characters",
        ));
    }
    match store::get(&state.db, &id).await? {
        Some(r) if r.evaluator_id == auth.id() => {}
        _ => return Err(ApiError::NotFound("no such interview".to_owned())),
    }
    let event = match body.kind {
        CloseKind::HeldWithoutRecording => Event::CloseWithoutRecording,
        CloseKind::NoShow => Event::NoShow,
    };
    store::advance_now(
        &state.db,
        &id,
        event,
        Some(auth.id()),
        Some(reason),
        &state.config.lifecycle,
        now_ms(),
    )
    .await?;
    tracing::info!(kind = event.as_str(), "interview closed by its evaluator");
    if let Some(notify) = &state.interview_closed {
        notify(id.clone());
    }
    let row = viewed(&state, &id).await?;
    Ok(Json(out(&state, row, &auth)?))
}

/// The audit log of an interview's steps (its evaluator, its centre's admins, platform
/// admins).
#[utoipa::path(get, path = "/api/v1/interviews/{id}/audit", tag = "interviews",
    params(("id" = String, Path, description = "interview id")),
    responses((status = 200, description = "every step, oldest first", body = [store::AuditEntry]),
        (status = 404, description = "no such interview the caller runs or manages", body = ErrorBody)))]
async fn audit(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<store::AuditEntry>>, ApiError> {
    let shown = store::get(&state.db, &id).await?.is_some_and(|r| {
        auth.role() != Role::Candidate
            && visible(&auth, &r.centre_id, &r.evaluator_id, &r.candidate_id)
    });
    if !shown {
        return Err(ApiError::NotFound("no such interview".to_owned()));
    }
    Ok(Json(store::audit(&state.db, &id).await?))
}
