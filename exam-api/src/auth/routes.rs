//! Sign-in endpoints: password, single-use link, refresh, sign-out, and `me`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::{self, UserRow};
use super::{
    AuthUser, Claims, Grants, LinkError, Role, SESSION_COOKIE, consume_link, verify_password,
};
use crate::app::AppState;
use crate::db::now_ms;
use crate::error::{ApiError, ApiJson, ErrorBody};

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/link", post(link))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/password", post(set_password))
}

/// A password sign-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    /// The account's e-mail.
    pub email: String,
    /// The password.
    pub password: String,
}

/// A link sign-in: the token from the link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIn {
    /// The token part of the sign-in link.
    pub token: String,
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    /// The session token (also set as the `langcert_session` cookie).
    pub token: String,
    /// When it expires (seconds since the epoch).
    #[schema(example = 1764755400)]
    pub expires_at: i64,
    /// The account id.
    #[schema(format = "uuid")]
    pub user_id: String,
    /// The account's role.
    pub role: Role,
}

pub(crate) async fn load_user(state: &AppState, id: &str) -> Result<Option<UserRow>, ApiError> {
    Ok(store::user(&state.db, id).await?)
}

/// The answer to a link that does not sign in.
fn link_refused(e: LinkError) -> ApiError {
    match e {
        LinkError::Unknown => ApiError::NotFound("this sign-in link is not valid".to_owned()),
        LinkError::Used => {
            ApiError::Gone("this sign-in link has already been used; ask for a new one".to_owned())
        }
        LinkError::Replaced => ApiError::Gone(
            "this sign-in link was replaced by a newer one; use the latest e-mail".to_owned(),
        ),
        LinkError::Expired => {
            ApiError::Gone("this sign-in link has expired; ask for a new one".to_owned())
        }
    }
}

/// A new sign-in's id: 128 random bits, base64url.
fn new_sid() -> String {
    use base64::Engine;
    let mut raw = [0u8; 16];
    rand::fill(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn session(
    state: &AppState,
    user: &UserRow,
    grants: Grants,
    sid: String,
) -> Result<Response, ApiError> {
    let iat = now_ms() / 1000;
    let exp = iat + state.config.session_ttl_s;
    let claims = Claims {
        sub: user.id.clone(),
        role: user.role,
        centre: user.centre_id.clone(),
        grants,
        sid,
        iat,
        exp,
    };
    let token = state.keys.sign(&claims)?;
    let secure = if state.config.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.config.session_ttl_s
    );
    let mut res = Json(SessionOut {
        token,
        expires_at: exp,
        user_id: user.id.clone(),
        role: user.role,
    })
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

fn limit(state: &AppState, key: &str) -> Result<(), ApiError> {
    state
        .limiter
        .check(key, now_ms())
        .map_err(|retry_after_s| ApiError::TooManyRequests { retry_after_s })
}

/// The client's address: `X-Forwarded-For`'s last hop behind a trusted proxy, else the
/// socket's peer (when the server was started with connect info).
pub(crate) struct Peer(Option<std::net::IpAddr>);

impl axum::extract::FromRequestParts<AppState> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_proxy
            && let Some(ip) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|ip| ip.trim().parse().ok())
        {
            return Ok(Peer(Some(ip)));
        }
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

impl Peer {
    fn key(&self) -> String {
        match self.0 {
            Some(ip) => format!("ip:{ip}"),
            None => "ip:local".to_owned(),
        }
    }
}

/// Signs a staff member in with e-mail and password.
#[tracing::instrument(skip_all)]
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginIn, security(()),
    responses((status = 200, description = "signed in; the token is also set as the session cookie", body = SessionOut,
            headers(("Set-Cookie" = String, description = "the `langcert_session` cookie (HttpOnly, SameSite=Strict)"))),
        (status = 401, description = "wrong e-mail or password", body = ErrorBody),
        (status = 429, description = "too many attempts", body = ErrorBody, headers(("Retry-After" = u64, description = "seconds before the next attempt may succeed")))))]
async fn login(
    State(state): State<AppState>,
    peer: Peer,
    ApiJson(body): ApiJson<LoginIn>,
) -> Result<Response, ApiError> {
    limit(&state, &peer.key())?;
    let email = body.email.trim().to_lowercase();
    limit(&state, &format!("login:{email}"))?;
    let row = store::staff_credentials(&state.db, &email).await?;
    let wrong = || ApiError::Unauthorized("wrong e-mail or password".to_owned());
    let Some(store::CredentialsRow {
        id,
        password_hash: Some(hash),
    }) = row
    else {
        return Err(wrong());
    };
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !ok {
        return Err(wrong());
    }
    let user = load_user(&state, &id).await?.ok_or_else(wrong)?;
    tracing::info!(user = %user.id, role = %user.role, "signed in with a password");
    session(&state, &user, Grants::default(), new_sid())
}

/// Exchanges a single-use sign-in link for a session.
#[tracing::instrument(skip_all)]
#[utoipa::path(post, path = "/api/v1/auth/link", tag = "auth", request_body = LinkIn, security(()),
    responses((status = 200, description = "signed in; the token is also set as the session cookie", body = SessionOut,
            headers(("Set-Cookie" = String, description = "the `langcert_session` cookie (HttpOnly, SameSite=Strict)"))),
        (status = 404, description = "no such link", body = ErrorBody),
        (status = 410, description = "the link was used or has expired", body = ErrorBody),
        (status = 429, description = "too many attempts", body = ErrorBody, headers(("Retry-After" = u64, description = "seconds before the next attempt may succeed")))))]
async fn link(
    State(state): State<AppState>,
    peer: Peer,
    ApiJson(body): ApiJson<LinkIn>,
) -> Result<Response, ApiError> {
    limit(&state, &peer.key())?;
    let user_id = consume_link(&state.db, body.token.trim(), now_ms())
        .await?
        .map_err(link_refused)?;
    let user = load_user(&state, &user_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("this sign-in link is not valid".to_owned()))?;
    tracing::info!(user = %user.id, role = %user.role, "signed in with a link");
    session(&state, &user, Grants::default(), new_sid())
}

/// Issues a fresh session token for a valid one (sliding sessions).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    responses((status = 200, description = "a fresh session", body = SessionOut, headers(("Set-Cookie" = String, description = "the `langcert_session` cookie (HttpOnly, SameSite=Strict)")))))]
async fn refresh(State(state): State<AppState>, auth: AuthUser) -> Result<Response, ApiError> {
    let user = load_user(&state, auth.id())
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".to_owned()))?;
    // The same sign-in: signing out later revokes the refreshed tokens too.
    session(&state, &user, auth.0.grants.clone(), auth.0.sid.clone())
}

/// Signs out: revokes the sign-in of the token sent (cookie or Bearer), so that no token
/// of it works any more, and clears the session cookie. Without a valid session it only
/// clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(()),
    responses((status = 204, description = "the sign-in is revoked (when a valid session was sent) and the session cookie is cleared",
        headers(("Set-Cookie" = String, description = "an expired `langcert_session` cookie")))))]
async fn logout(
    State(state): State<AppState>,
    auth: Result<AuthUser, ApiError>,
) -> Result<impl IntoResponse, ApiError> {
    if let Ok(auth) = auth {
        // Until the last token of this sign-in would have expired: refreshed tokens
        // expire at most one session lifetime after now.
        let until = (now_ms() / 1000 + state.config.session_ttl_s).max(auth.0.exp);
        state.keys.revoke(&state.db, &auth.0.sid, until).await?;
        tracing::info!(user = %auth.id(), "signed out");
    }
    Ok((
        axum::http::StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        )],
    ))
}

/// The signed-in account.
#[derive(Serialize, ToSchema)]
pub struct MeOut {
    /// Account id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Role.
    pub role: Role,
    /// Training centre, if any.
    pub centre_id: Option<String>,
    /// First names.
    pub first_names: String,
    /// Last name.
    pub last_name: String,
    /// E-mail.
    #[schema(format = Email)]
    pub email: String,
}

/// The signed-in account's own details.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, description = "the signed-in account", body = MeOut)))]
async fn me(State(state): State<AppState>, auth: AuthUser) -> Result<Json<MeOut>, ApiError> {
    let a = store::account(&state.db, auth.id())
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".to_owned()))?;
    Ok(Json(MeOut {
        id: a.id,
        role: a.role,
        centre_id: a.centre_id,
        first_names: a.first_names,
        last_name: a.last_name,
        email: a.email,
    }))
}

/// A new password for the signed-in staff member.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordIn {
    /// The new password (12 characters or more).
    #[schema(min_length = 12)]
    pub password: String,
    /// The current password, when the account has one.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// Sets the signed-in staff member's password.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordIn,
    responses((status = 204, description = "the password is set"),
        (status = 403, description = "a candidate, a wrong current password, or a link sign-in older than ten minutes", body = ErrorBody),
        (status = 422, description = "`weak_password` (under 12 characters) or `current_password_required`", body = ErrorBody)))]
async fn set_password(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<PasswordIn>,
) -> Result<axum::http::StatusCode, ApiError> {
    if !auth.role().is_staff() {
        return Err(ApiError::Forbidden(
            "candidates sign in with their links only".to_owned(),
        ));
    }
    if body.password.chars().count() < 12 {
        return Err(ApiError::invalid(
            "weak_password",
            "a password needs at least 12 characters",
        ));
    }
    // A borrowed session must not become a lasting login: prove the current password,
    // or, for an account without one, a sign-in of the last ten minutes.
    let current = store::password_hash(&state.db, auth.id()).await?;
    match (current, body.current_password) {
        (Some(hash), Some(given)) => {
            let ok = tokio::task::spawn_blocking(move || verify_password(&given, &hash))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            if !ok {
                return Err(ApiError::Forbidden(
                    "the current password is wrong".to_owned(),
                ));
            }
        }
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "current_password_required",
                "give the current password",
            ));
        }
        (None, _) if now_ms() / 1000 - auth.0.iat > 600 => {
            return Err(ApiError::Forbidden(
                "sign in again with your link (less than ten minutes ago) to set a password"
                    .to_owned(),
            ));
        }
        (None, _) => {}
    }
    let password = body.password;
    let hash = tokio::task::spawn_blocking(move || super::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    store::set_password_hash(&state.db, auth.id(), &hash).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
