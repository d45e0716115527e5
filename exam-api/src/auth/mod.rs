//! Accounts' credentials and sessions: roles, short-lived JWT sessions with grants,
//! single-use sign-in links, argon2 passwords and sign-in rate limiting.
//!
//! A token carries only opaque ids, the role and grants — never a name, an e-mail or
//! an address. Every handler takes an [`AuthUser`] and checks role *and* ownership.

mod link;
mod media;
mod password;
mod rate;
mod revoked;
pub mod routes;
mod store;

use std::fmt;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub use link::{LinkError, consume_link, create_link, create_link_in, link_status};
pub use media::{GrantError, MEDIA_GRANT_TTL_S};
pub use password::{hash_password, verify_password};
pub use rate::RateLimiter;

use crate::error::ApiError;

/// The name of the session cookie set by the sign-in endpoints.
pub const SESSION_COOKIE: &str = "langcert_session";

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Takes the test and the interview.
    Candidate,
    /// Runs interviews and scores the oral.
    Evaluator,
    /// Reviews proctoring timelines.
    Reviewer,
    /// Registers candidates of one training centre.
    CentreAdmin,
    /// Runs the platform.
    PlatformAdmin,
}

impl Role {
    /// The name stored in the database and tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Candidate => "candidate",
            Role::Evaluator => "evaluator",
            Role::Reviewer => "reviewer",
            Role::CentreAdmin => "centre_admin",
            Role::PlatformAdmin => "platform_admin",
        }
    }

    /// The role with that name.
    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Candidate,
            Role::Evaluator,
            Role::Reviewer,
            Role::CentreAdmin,
            Role::PlatformAdmin,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Staff sign in with a password as well as with a link; candidates only with links.
    pub fn is_staff(self) -> bool {
        self != Role::Candidate
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Media grants for a room (filled by the interview and monitoring stages).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grants {
    /// The room the grant is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// May publish media in the room.
    #[serde(default)]
    pub can_publish: bool,
    /// May receive media in the room.
    #[serde(default)]
    pub can_subscribe: bool,
}

/// The claims of a session token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The account's id (an opaque UUID).
    pub sub: String,
    /// The account's role.
    pub role: Role,
    /// The training centre the account belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centre: Option<String>,
    /// Media grants.
    #[serde(default)]
    pub grants: Grants,
    /// The sign-in this token belongs to (random, kept across refreshes): signing out
    /// revokes it, and with it every token of that sign-in. Empty in media grants.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sid: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

/// The keys that sign and check session tokens (HS256), and the sign-ins revoked
/// before their tokens expire.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    revoked: std::sync::Arc<revoked::Revoked>,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKeys(REDACTED)")
    }
}

impl JwtKeys {
    /// Keys from a secret of at least 32 bytes.
    pub fn from_secret(secret: &[u8]) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            revoked: Default::default(),
        }
    }

    /// Revokes a sign-in until `exp` (seconds since the epoch): stored, so that it holds
    /// after a restart, then refused by [`JwtKeys::verify`] at once.
    pub async fn revoke(&self, db: &crate::db::Db, sid: &str, exp: i64) -> Result<(), ApiError> {
        revoked::store(db, sid, exp).await?;
        self.revoked.insert(sid, exp, crate::db::now_ms() / 1000);
        Ok(())
    }

    /// Loads the stored revocations that have not expired (at start).
    pub async fn load_revoked(&self, db: &crate::db::Db) -> Result<usize, ApiError> {
        let now = crate::db::now_ms() / 1000;
        let rows = revoked::load(db, now).await?;
        let n = rows.len();
        for row in rows {
            self.revoked.insert(&row.session_id, row.expires_at, now);
        }
        Ok(n)
    }

    /// Signs claims into a token.
    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("jwt encode: {e}")))
    }

    /// Checks a token's signature and expiry (no leeway) and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::Unauthorized("the session has expired; sign in again".to_owned())
                }
                _ => ApiError::Unauthorized("the session token is invalid".to_owned()),
            })?;
        if !claims.sid.is_empty() && self.revoked.contains(&claims.sid) {
            return Err(ApiError::Unauthorized(
                "this session was signed out; sign in again".to_owned(),
            ));
        }
        Ok(claims)
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct AuthUser(pub Claims);

impl AuthUser {
    /// The account id.
    pub fn id(&self) -> &str {
        &self.0.sub
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.0.role
    }

    /// The caller's centre, if any.
    pub fn centre(&self) -> Option<&str> {
        self.0.centre.as_deref()
    }

    /// Refuses callers whose role is not among `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the {} role may not do this",
                self.0.role
            )))
        }
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    JwtKeys: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let keys = JwtKeys::from_ref(state);
        let token = bearer(parts)
            .or_else(|| cookie(parts, SESSION_COOKIE))
            .ok_or_else(|| {
                ApiError::Unauthorized("sign in first (no session token in the request)".to_owned())
            })?;
        let claims = keys.verify(&token)?;
        // A media grant (room-scoped, for the interview's signaling) is not a session.
        if claims.grants.room.is_some() {
            return Err(ApiError::Unauthorized(
                "this token is a media grant, not a session".to_owned(),
            ));
        }
        // Every session names its sign-in, so that signing out can revoke it.
        if claims.sid.is_empty() {
            return Err(ApiError::Unauthorized(
                "this session token is from an older version; sign in again".to_owned(),
            ));
        }
        Ok(AuthUser(claims))
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))?;
    Some(t.trim().to_owned())
}

/// The value of a cookie of the request.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
