//! Training centres, their staff and their candidates.
//!
//! Scope rules: a platform admin sees everything; a centre admin sees their centre;
//! a candidate sees only themself. A resource outside the caller's scope answers 404,
//! so ids cannot be probed; a role that may never do an action answers 403.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{AuthUser, Role, create_link, hash_password};
use crate::db::{StoreError, now_ms};
use crate::error::{ApiError, ApiJson, ErrorBody};
use exam_core::cefr::Cefr;
pub(crate) use store::NewUser;
use store::{CandidateRow, NewCandidate};

mod store;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/centres", post(create_centre))
        .route("/api/v1/centres/{id}", get(get_centre))
        .route("/api/v1/centres/{id}/settings", put(put_settings))
        .route("/api/v1/centres/{id}/staff", post(create_staff))
        .route(
            "/api/v1/candidates",
            post(create_candidate).get(list_candidates),
        )
        .route("/api/v1/candidates/{id}", get(get_candidate))
        .route("/api/v1/candidates/{id}/links", post(new_candidate_link))
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn check_email(email: &str) -> Result<String, ApiError> {
    let e = email.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !e.chars().any(char::is_whitespace);
    if ok {
        Ok(e)
    } else {
        Err(ApiError::invalid(
            "invalid_email",
            "the e-mail address is not valid",
        ))
    }
}

fn check_name(field: &str, v: &str) -> Result<String, ApiError> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "invalid_name",
            format!("{field} must be 1–100 printable characters"),
        ));
    }
    Ok(t.to_owned())
}

/// A centre the caller may act for: its own, or any for a platform admin.
fn centre_scope(auth: &AuthUser, centre_id: &str) -> Result<(), ApiError> {
    match auth.role() {
        Role::PlatformAdmin => Ok(()),
        _ if auth.centre() == Some(centre_id) => Ok(()),
        _ => Err(ApiError::NotFound("no such centre".to_owned())),
    }
}

/// A new training centre.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CentreIn {
    /// Display name (1–100 printable characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// A training centre.
#[derive(Serialize, ToSchema)]
pub struct CentreOut {
    /// Id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether a candidate who did not come to their interview may book another one
    /// themself (otherwise the centre books it).
    pub rebook_after_no_show: bool,
}

/// A centre's settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsIn {
    /// Whether a candidate who did not come to their interview may book another one.
    pub rebook_after_no_show: bool,
}

/// Changes a centre's settings (its admins, platform admins).
#[utoipa::path(put, path = "/api/v1/centres/{id}/settings", tag = "accounts", request_body = SettingsIn,
    params(("id" = String, Path, description = "centre id")),
    responses((status = 200, description = "the centre", body = CentreOut),
        (status = 403, description = "not an admin", body = ErrorBody),
        (status = 404, description = "no such centre, or not the caller's", body = ErrorBody)))]
async fn put_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SettingsIn>,
) -> Result<Json<CentreOut>, ApiError> {
    auth.require(&[Role::CentreAdmin, Role::PlatformAdmin])?;
    centre_scope(&auth, &id)?;
    if !store::set_rebook_after_no_show(&state.db, &id, body.rebook_after_no_show).await? {
        return Err(ApiError::NotFound("no such centre".to_owned()));
    }
    tracing::info!(centre = %id, rebook_after_no_show = body.rebook_after_no_show, "centre settings changed");
    get_centre(State(state), auth, Path(id)).await
}

/// Creates a training centre (platform admin).
#[utoipa::path(post, path = "/api/v1/centres", tag = "accounts", request_body = CentreIn,
    responses((status = 201, description = "the centre", body = CentreOut),
        (status = 403, description = "not a platform admin", body = ErrorBody),
        (status = 422, description = "`invalid_name`", body = ErrorBody)))]
async fn create_centre(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CentreIn>,
) -> Result<(StatusCode, Json<CentreOut>), ApiError> {
    auth.require(&[Role::PlatformAdmin])?;
    let name = check_name("name", &body.name)?;
    let id = new_id();
    store::insert_centre(&state.db, &id, &name, now_ms()).await?;
    Ok((
        StatusCode::CREATED,
        Json(CentreOut {
            id,
            name,
            rebook_after_no_show: true,
        }),
    ))
}

/// A training centre (its members and platform admins).
#[utoipa::path(get, path = "/api/v1/centres/{id}", tag = "accounts", params(("id" = String, Path, description = "centre id")),
    responses((status = 200, description = "the centre", body = CentreOut),
        (status = 404, description = "no such centre, or not the caller's", body = ErrorBody)))]
async fn get_centre(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<CentreOut>, ApiError> {
    centre_scope(&auth, &id)?;
    let row = store::centre(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such centre".to_owned()))?;
    Ok(Json(CentreOut {
        id: row.id,
        name: row.name,
        rebook_after_no_show: row.rebook_after_no_show != 0,
    }))
}

/// A new staff member of a centre.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffIn {
    /// `evaluator`, `reviewer` or `centre_admin` (other roles answer 422).
    pub role: Role,
    /// E-mail (unique).
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// First names.
    #[schema(min_length = 1, max_length = 100)]
    pub first_names: String,
    /// Last name.
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: String,
    /// An initial password (12+ characters); without it, the member signs in by link.
    #[serde(default)]
    #[schema(min_length = 12)]
    pub password: Option<String>,
}

/// A created account and its first sign-in link.
#[derive(Serialize, ToSchema)]
pub struct CreatedOut {
    /// Account id.
    #[schema(format = "uuid")]
    pub id: String,
    /// A single-use sign-in link to send to the person.
    #[schema(example = "http://127.0.0.1:8080/signin/TOKEN")]
    pub sign_in_url: String,
}

/// Adds a staff member to a centre (its centre admin, or a platform admin).
#[utoipa::path(post, path = "/api/v1/centres/{id}/staff", tag = "accounts", request_body = StaffIn,
    params(("id" = String, Path, description = "centre id")),
    responses((status = 201, description = "the account and its first sign-in link", body = CreatedOut),
        (status = 403, description = "not an admin", body = ErrorBody),
        (status = 404, description = "no such centre, or not the caller's", body = ErrorBody),
        (status = 409, description = "an account with this e-mail exists", body = ErrorBody),
        (status = 422, description = "`invalid_role`, `invalid_email`, `invalid_name` or `weak_password`", body = ErrorBody)))]
async fn create_staff(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(centre): Path<String>,
    ApiJson(body): ApiJson<StaffIn>,
) -> Result<(StatusCode, Json<CreatedOut>), ApiError> {
    auth.require(&[Role::CentreAdmin, Role::PlatformAdmin])?;
    centre_scope(&auth, &centre)?;
    if !matches!(
        body.role,
        Role::Evaluator | Role::Reviewer | Role::CentreAdmin
    ) {
        return Err(ApiError::invalid(
            "invalid_role",
            "a centre's staff are evaluators, reviewers or centre admins",
        ));
    }
    let email = check_email(&body.email)?;
    let first = check_name("first_names", &body.first_names)?;
    let last = check_name("last_name", &body.last_name)?;
    let hash = match body.password {
        Some(p) if p.chars().count() < 12 => {
            return Err(ApiError::invalid(
                "weak_password",
                "a password needs at least 12 characters",
            ));
        }
        Some(p) => Some(
            tokio::task::spawn_blocking(move || hash_password(&p))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))??,
        ),
        None => None,
    };
    let id = new_id();
    let user = NewUser {
        id: &id,
        centre: Some(&centre),
        role: body.role,
        email: &email,
        first_names: &first,
        last_name: &last,
        password_hash: hash.as_deref(),
        created_at: now_ms(),
    };
    insert_user(&state, &user).await?;
    let url = sign_in_url(&state, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedOut {
            id,
            sign_in_url: url,
        }),
    ))
}

/// Writes a staff account (or the demo's) after checking its centre exists.
pub(crate) async fn insert_user(state: &AppState, user: &NewUser<'_>) -> Result<(), ApiError> {
    if let Some(centre) = user.centre
        && !store::centre_exists(&state.db, centre).await?
    {
        return Err(ApiError::NotFound("no such centre".to_owned()));
    }
    store::insert_user(&state.db.pool, user)
        .await
        .map_err(email_taken)
}

/// The answer to a new account's write: a 409 naming the e-mail when it is used already.
fn email_taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Constraint {
            constraint: store::EMAIL_TAKEN,
            ..
        } => ApiError::Conflict("an account with this e-mail already exists".to_owned()),
        e => e.into(),
    }
}

/// A fresh single-use sign-in link for an account.
pub(crate) async fn sign_in_url(state: &AppState, user_id: &str) -> Result<String, ApiError> {
    let token = create_link(&state.db, user_id, now_ms(), state.config.link_ttl_s * 1000).await?;
    Ok(format!(
        "{}/signin/{token}",
        state.config.public_url.trim_end_matches('/')
    ))
}

/// A candidate to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidateIn {
    /// E-mail (unique).
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// First names.
    #[schema(min_length = 1, max_length = 100)]
    pub first_names: String,
    /// Last name.
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: String,
    /// The CEFR level the centre targets for this candidate.
    pub cefr_target: Cefr,
    /// Time accommodation: 1.0 (default) to 3.0, e.g. 1.33 for extra time.
    #[serde(default)]
    #[schema(minimum = 1.0, maximum = 3.0)]
    pub time_multiplier: Option<f64>,
    /// The centre (only for platform admins; centre admins register into their own).
    #[serde(default)]
    pub centre_id: Option<String>,
}

/// A candidate as the centre sees them.
#[derive(Serialize, ToSchema)]
pub struct CandidateOut {
    /// Account id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Centre.
    #[schema(format = "uuid")]
    pub centre_id: String,
    /// E-mail.
    #[schema(format = Email)]
    pub email: String,
    /// First names.
    pub first_names: String,
    /// Last name.
    pub last_name: String,
    /// CEFR target.
    pub cefr_target: Cefr,
    /// Time accommodation multiplier.
    pub time_multiplier: f64,
}

/// Registers a candidate (centre admin of their centre, or platform admin).
#[tracing::instrument(skip_all, fields(by = %auth.id()))]
#[utoipa::path(post, path = "/api/v1/candidates", tag = "accounts", request_body = CandidateIn,
    responses((status = 201, description = "the candidate and their first sign-in link (also mailed)", body = CreatedOut),
        (status = 403, description = "not an admin, or another centre", body = ErrorBody),
        (status = 404, description = "no such centre", body = ErrorBody),
        (status = 409, description = "an account with this e-mail exists", body = ErrorBody),
        (status = 422, description = "`missing_centre`, `invalid_email`, `invalid_name` or `invalid_time_multiplier`", body = ErrorBody)))]
async fn create_candidate(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CandidateIn>,
) -> Result<(StatusCode, Json<CreatedOut>), ApiError> {
    auth.require(&[Role::CentreAdmin, Role::PlatformAdmin])?;
    let centre = match (auth.role(), body.centre_id) {
        (Role::PlatformAdmin, Some(c)) => c,
        (Role::PlatformAdmin, None) => {
            return Err(ApiError::invalid("missing_centre", "centre_id is required"));
        }
        (_, Some(c)) if Some(c.as_str()) != auth.centre() => {
            return Err(ApiError::Forbidden(
                "a centre admin registers candidates in their own centre".to_owned(),
            ));
        }
        _ => auth
            .centre()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::Forbidden("no centre".to_owned()))?,
    };
    let out = register_candidate(
        &state,
        Registration {
            centre: &centre,
            by: auth.id(),
            email: &body.email,
            first_names: &body.first_names,
            last_name: &body.last_name,
            target: body.cefr_target,
            multiplier: body.time_multiplier.unwrap_or(1.0),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// A candidate to register, as the centre gives them (checked by [`register_candidate`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Registration<'a> {
    /// Their centre.
    pub(crate) centre: &'a str,
    /// The staff member registering them.
    pub(crate) by: &'a str,
    /// E-mail.
    pub(crate) email: &'a str,
    /// First names.
    pub(crate) first_names: &'a str,
    /// Last name.
    pub(crate) last_name: &'a str,
    /// The level the centre aims at.
    pub(crate) target: Cefr,
    /// Extra time (1.0 to 3.0).
    pub(crate) multiplier: f64,
}

/// Registers a candidate in a centre and writes their invitation mail, in one
/// transaction; returns their id and first sign-in link.
pub(crate) async fn register_candidate(
    state: &AppState,
    r: Registration<'_>,
) -> Result<CreatedOut, ApiError> {
    let Registration {
        centre,
        by,
        email,
        first_names,
        last_name,
        target,
        multiplier,
    } = r;
    if !(1.0..=3.0).contains(&multiplier) {
        return Err(ApiError::invalid(
            "invalid_time_multiplier",
            "time_multiplier must be between 1.0 and 3.0",
        ));
    }
    let email = check_email(email)?;
    let first = check_name("first_names", first_names)?;
    let last = check_name("last_name", last_name)?;
    let id = new_id();
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let centre_name = store::centre_name(&mut tx, centre)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such centre".to_owned()))?;
    let user = NewUser {
        id: &id,
        centre: Some(centre),
        role: Role::Candidate,
        email: &email,
        first_names: &first,
        last_name: &last,
        password_hash: None,
        created_at: now,
    };
    store::insert_user(&mut *tx, &user)
        .await
        .map_err(email_taken)?;
    let candidate = NewCandidate {
        user_id: &id,
        centre,
        cefr_target: &target.to_string(),
        time_multiplier: multiplier,
        created_by: by,
    };
    store::insert_candidate(&mut tx, &candidate).await?;
    let token =
        crate::auth::create_link_in(&mut tx, &id, now, state.config.link_ttl_s * 1000).await?;
    let url = format!(
        "{}/signin/{token}",
        state.config.public_url.trim_end_matches('/')
    );
    crate::mail::enqueue(
        &mut tx,
        &id,
        "invitation",
        &[("centre_name", centre_name), ("sign_in_url", url.clone())],
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(candidate = %id, "candidate registered");
    Ok(CreatedOut {
        id,
        sign_in_url: url,
    })
}

fn candidate_out(r: CandidateRow) -> Result<CandidateOut, ApiError> {
    let cefr_target = r
        .cefr_target
        .parse()
        .map_err(|_| ApiError::Internal("stored cefr".to_owned()))?;
    Ok(CandidateOut {
        id: r.id,
        centre_id: r.centre_id,
        email: r.email,
        first_names: r.first_names,
        last_name: r.last_name,
        cefr_target,
        time_multiplier: r.time_multiplier,
    })
}

/// The candidates of the caller's centre (every centre for a platform admin).
#[utoipa::path(get, path = "/api/v1/candidates", tag = "accounts",
    responses((status = 200, description = "the candidates, by name", body = [CandidateOut]),
        (status = 403, description = "not an admin", body = ErrorBody)))]
async fn list_candidates(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<CandidateOut>>, ApiError> {
    auth.require(&[Role::CentreAdmin, Role::PlatformAdmin])?;
    let centre = match auth.role() {
        Role::PlatformAdmin => None,
        _ => Some(auth.centre().unwrap_or("")),
    };
    store::candidates(&state.db, centre)
        .await?
        .into_iter()
        .map(candidate_out)
        .collect::<Result<_, _>>()
        .map(Json)
}

/// Loads a candidate the caller may see, or 404.
pub(crate) async fn visible_candidate(
    state: &AppState,
    auth: &AuthUser,
    id: &str,
) -> Result<CandidateOut, ApiError> {
    let row = store::candidate(&state.db, id).await?;
    let c = row.map(candidate_out).transpose()?;
    let visible = c.as_ref().is_some_and(|c| match auth.role() {
        Role::PlatformAdmin => true,
        Role::CentreAdmin => auth.centre() == Some(c.centre_id.as_str()),
        Role::Candidate => auth.id() == c.id,
        Role::Evaluator | Role::Reviewer => false,
    });
    match c {
        Some(c) if visible => Ok(c),
        _ => Err(ApiError::NotFound("no such candidate".to_owned())),
    }
}

/// A candidate: themself, their centre's admins, or a platform admin.
#[utoipa::path(get, path = "/api/v1/candidates/{id}", tag = "accounts", params(("id" = String, Path, description = "candidate id")),
    responses((status = 200, description = "the candidate", body = CandidateOut),
        (status = 404, description = "no such candidate the caller may see", body = ErrorBody)))]
async fn get_candidate(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<CandidateOut>, ApiError> {
    visible_candidate(&state, &auth, &id).await.map(Json)
}

/// Issues a new sign-in link for a candidate (their centre's admins).
#[utoipa::path(post, path = "/api/v1/candidates/{id}/links", tag = "accounts", params(("id" = String, Path, description = "candidate id")),
    responses((status = 201, description = "a fresh single-use sign-in link", body = CreatedOut),
        (status = 403, description = "not an admin", body = ErrorBody),
        (status = 404, description = "no such candidate the caller may see", body = ErrorBody)))]
async fn new_candidate_link(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<CreatedOut>), ApiError> {
    auth.require(&[Role::CentreAdmin, Role::PlatformAdmin])?;
    let c = visible_candidate(&state, &auth, &id).await?;
    let url = sign_in_url(&state, &c.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedOut {
            id: c.id,
            sign_in_url: url,
        }),
    ))
}

/// The name a user is shown as to the staff ("First names Last name"), if they exist.
pub async fn display_name(db: &crate::db::Db, user: &str) -> Result<Option<String>, StoreError> {
    let row = store::names(db, user).await?;
    Ok(row.map(|n| format!("{} {}", n.first_names, n.last_name)))
}
