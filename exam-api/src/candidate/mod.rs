//! The candidate's steps before the written test: system check, the personal-data
//! form the CPF transmission needs, and whether the identity step (selfie and ID
//! document, in [`crate::proctoring`]) is done.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::now_ms;
use crate::error::{ApiError, ApiJson, ErrorBody};

pub mod store;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/journey", get(journey))
        .route("/api/v1/me/profile", get(get_profile).put(put_profile))
        .route("/api/v1/me/system-check", post(system_check))
}

/// Which steps a candidate has done.
#[derive(Serialize, Debug, Clone, ToSchema)]
pub struct Steps {
    /// The equipment check was done.
    pub system_check_done: bool,
    /// The personal-data form is complete.
    pub profile_complete: bool,
    /// The identity step is done.
    pub identity_done: bool,
}

/// The steps of a candidate.
pub async fn steps(state: &AppState, user: &str) -> Result<Steps, ApiError> {
    let times = store::step_times(&state.db, user)
        .await?
        .unwrap_or_default();
    Ok(Steps {
        system_check_done: times.system_check_at.is_some(),
        profile_complete: store::has_profile(&state.db, user).await?,
        identity_done: times.identity_at.is_some(),
    })
}

/// The candidate's written test, once started.
#[derive(Serialize, Debug, ToSchema)]
struct WrittenRef {
    /// The session id.
    id: String,
    /// `in_progress` or `finished`.
    #[schema(example = "in_progress")]
    status: String,
}

/// The candidate's progress through the steps before and of the written test.
#[derive(Serialize, Debug, ToSchema)]
struct JourneyOut {
    #[serde(flatten)]
    steps: Steps,
    written: Option<WrittenRef>,
}

#[utoipa::path(get, path = "/api/v1/me/journey", tag = "candidate",
    responses((status = 200, description = "the candidate's steps", body = JourneyOut),
        (status = 403, description = "not a candidate", body = ErrorBody)))]
async fn journey(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<JourneyOut>, ApiError> {
    auth.require(&[Role::Candidate])?;
    let steps = steps(&state, auth.id()).await?;
    let written = store::written(&state.db, auth.id()).await?;
    Ok(Json(JourneyOut {
        steps,
        written: written.map(|w| WrittenRef {
            id: w.id,
            status: w.status,
        }),
    }))
}

/// The personal data the CPF transmission needs.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Birth name (nom de naissance).
    #[schema(min_length = 1, max_length = 100)]
    pub birth_name: String,
    /// Usage name (nom d'usage), if different.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub usage_name: Option<String>,
    /// First names, in civil-status order.
    #[schema(min_length = 1, max_length = 100)]
    pub first_names: String,
    /// Date of birth, `YYYY-MM-DD` (the candidate is 14 to 110 years old).
    #[schema(format = Date, example = "1990-05-17")]
    pub birth_date: String,
    /// `F` or `M`, as on the civil-status record.
    #[schema(pattern = "^[FM]$", example = "F")]
    pub sex: String,
    /// Commune of birth.
    #[schema(min_length = 1, max_length = 100)]
    pub birth_commune: String,
    /// Country of birth.
    #[schema(min_length = 1, max_length = 100)]
    pub birth_country: String,
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::invalid("invalid_profile", msg)
}

fn text(field: &str, v: &str) -> Result<String, ApiError> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(invalid(format!("{field}: 1 to 100 printable characters")));
    }
    Ok(t.to_owned())
}

impl Profile {
    /// The profile with trimmed fields, or the first field at fault.
    fn checked(self, today: NaiveDate) -> Result<Profile, ApiError> {
        let date = NaiveDate::parse_from_str(self.birth_date.trim(), "%Y-%m-%d")
            .map_err(|_| invalid("birth_date: expected a date as YYYY-MM-DD"))?;
        let age = today.year()
            - date.year()
            - i32::from((today.month(), today.day()) < (date.month(), date.day()));
        if !(14..=110).contains(&age) {
            return Err(invalid(
                "birth_date: the candidate must be between 14 and 110 years old",
            ));
        }
        if self.sex != "F" && self.sex != "M" {
            return Err(invalid("sex: F or M"));
        }
        Ok(Profile {
            birth_name: text("birth_name", &self.birth_name)?,
            usage_name: match self.usage_name.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(u) => Some(text("usage_name", u)?),
            },
            first_names: text("first_names", &self.first_names)?,
            birth_date: date.format("%Y-%m-%d").to_string(),
            sex: self.sex,
            birth_commune: text("birth_commune", &self.birth_commune)?,
            birth_country: text("birth_country", &self.birth_country)?,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/me/profile", tag = "candidate",
    responses((status = 200, description = "the personal-data form", body = Profile),
        (status = 403, description = "not a candidate", body = ErrorBody),
        (status = 404, description = "the form has not been filled in yet", body = ErrorBody)))]
async fn get_profile(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Profile>, ApiError> {
    auth.require(&[Role::Candidate])?;
    let r = store::profile(&state.db, auth.id())
        .await?
        .ok_or_else(|| ApiError::NotFound("the form has not been filled in yet".to_owned()))?;
    Ok(Json(Profile {
        birth_name: r.birth_name,
        usage_name: r.usage_name,
        first_names: r.first_names,
        birth_date: r.birth_date,
        sex: r.sex,
        birth_commune: r.birth_commune,
        birth_country: r.birth_country,
    }))
}

#[tracing::instrument(skip_all, fields(candidate = %auth.id()))]
#[utoipa::path(put, path = "/api/v1/me/profile", tag = "candidate", request_body = Profile,
    responses((status = 204, description = "the form is saved"),
        (status = 403, description = "not a candidate", body = ErrorBody),
        (status = 422, description = "`invalid_profile`: the first field at fault", body = ErrorBody)))]
async fn put_profile(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<Profile>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Role::Candidate])?;
    let p = body.checked(Utc::now().date_naive())?;
    store::save_profile(&state.db, auth.id(), &p, now_ms()).await?;
    tracing::info!("personal-data form saved");
    Ok(StatusCode::NO_CONTENT)
}

/// What the equipment check measured.
#[derive(Deserialize, Serialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemCheck {
    /// The test sound was heard.
    pub audio_ok: bool,
    /// The microphone picked up sound.
    pub microphone_ok: bool,
    /// The camera showed a picture.
    pub camera_ok: bool,
    /// Measured download bandwidth.
    pub bandwidth_kbps: u32,
}

#[utoipa::path(post, path = "/api/v1/me/system-check", tag = "candidate", request_body = SystemCheck,
    responses((status = 204, description = "the check is recorded"),
        (status = 403, description = "not a candidate", body = ErrorBody)))]
async fn system_check(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<SystemCheck>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Role::Candidate])?;
    let json = serde_json::to_string(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    store::save_system_check(&state.db, auth.id(), &json, now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}
