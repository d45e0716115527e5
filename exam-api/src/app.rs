//! The application state, its configuration and the router that merges every area.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{Method, Uri};
use axum::response::IntoResponse;
use tower_http::trace::TraceLayer;

use crate::auth::{JwtKeys, RateLimiter};
use crate::db::Db;
use crate::error::ApiError;
use exam_core::bank::Bank;

/// Settings of the API (the binary fills them from flags and environment).
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// The address users reach the server at, for links (`http://127.0.0.1:8080`).
    pub public_url: String,
    /// Lifetime of a session token, in seconds.
    pub session_ttl_s: i64,
    /// Lifetime of a sign-in link, in seconds.
    pub link_ttl_s: i64,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Sign-in attempts allowed per account or address per minute.
    pub sign_in_per_minute: u32,
    /// Mark the session cookie `Secure` and send `Strict-Transport-Security` (the
    /// server is reached over HTTPS: its own TLS or a reverse proxy's).
    pub secure_cookie: bool,
    /// Where the media server writes interview recordings (`<dir>/<interview>/*.webm`).
    pub recordings_dir: Option<std::path::PathBuf>,
    /// Take the client's address from `X-Forwarded-For` (behind a trusted reverse proxy).
    pub trust_proxy: bool,
    /// The pause between two items of the written test (the guide's 3 s; benchmarks
    /// may lower it to load the server harder).
    pub item_pause_ms: i64,
    /// Days proctoring images (identity captures, event thumbnails and clips) are kept
    /// after the written test finished ([`crate::proctoring::purge_media`]).
    pub proctoring_retention_days: u32,
    /// The interview's lifecycle rules: when the room opens, the least time in progress
    /// for an oral to be scored, the no-show grace period.
    pub lifecycle: exam_core::interview::Lifecycle,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            public_url: "http://127.0.0.1:8080".to_owned(),
            session_ttl_s: 30 * 60,
            link_ttl_s: 14 * 24 * 3600,
            body_limit: 64 * 1024,
            sign_in_per_minute: 10,
            secure_cookie: false,
            item_pause_ms: 3000,
            trust_proxy: false,
            recordings_dir: None,
            proctoring_retention_days: 30,
            lifecycle: Default::default(),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Session token keys.
    pub keys: JwtKeys,
    /// The item bank in use.
    pub bank: Arc<Bank>,
    /// The demo mini-test's items.
    pub demo: Arc<Bank>,
    /// The practice exercises.
    pub practice: Arc<Bank>,
    /// Live written-test sessions and the engine's shared state.
    pub written: Arc<crate::written::WrittenState>,
    /// The key that signs certificates and log checkpoints.
    pub issuer: Arc<credential::IssuerKey>,
    /// Sign-in rate limiter.
    pub limiter: Arc<RateLimiter>,
    /// Settings.
    pub config: Arc<ApiConfig>,
    /// The face analysis of the identity step (set by the binary with
    /// [`AppState::with_identity_vision`]); without it the identity routes answer 503.
    pub identity_vision: Option<Arc<dyn crate::proctoring::IdentityVision>>,
    /// Told the id of an interview an HTTP request closed (its evaluator's closing), so
    /// that the live room says so and stops its media (set by the binary with
    /// [`AppState::with_interview_closed`]).
    pub interview_closed: Option<Arc<dyn Fn(String) + Send + Sync>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .field("keys", &self.keys)
            .field("bank", &self.bank)
            .field("written", &self.written)
            .field("issuer", &self.issuer)
            .field("config", &self.config)
            .field("identity_vision", &self.identity_vision.is_some())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over a database, a token secret and a bank.
    ///
    /// Panics if the bank's IRT parameters do not make an engine pool (a validated bank
    /// always does).
    pub fn new(db: Db, jwt_secret: &[u8], bank: Bank, config: ApiConfig) -> Self {
        let pool = bank
            .cat_pool()
            .expect("a validated bank makes a valid pool");
        let timing = exam_core::written::Timing {
            pause_ms: config.item_pause_ms,
            ..Default::default()
        };
        AppState {
            db,
            keys: JwtKeys::from_secret(jwt_secret),
            bank: Arc::new(bank),
            demo: Arc::new(Bank::english_demo()),
            practice: Arc::new(Bank::english_practice()),
            written: Arc::new(crate::written::WrittenState::new(pool, timing)),
            issuer: Arc::new(credential::IssuerKey::generate()),
            limiter: Arc::new(RateLimiter::new(config.sign_in_per_minute, 60_000)),
            config: Arc::new(config),
            identity_vision: None,
            interview_closed: None,
        }
    }
}

impl AppState {
    /// The same state signing certificates with a given key (the installation's key,
    /// kept in the data directory; a fresh key otherwise).
    pub fn with_issuer(mut self, key: credential::IssuerKey) -> Self {
        self.issuer = Arc::new(key);
        self
    }

    /// The same state, telling `notify` of every interview an HTTP request closes.
    pub fn with_interview_closed(mut self, notify: Arc<dyn Fn(String) + Send + Sync>) -> Self {
        self.interview_closed = Some(notify);
        self
    }

    /// The same state with the face analysis the identity step uses.
    pub fn with_identity_vision(
        mut self,
        vision: Arc<dyn crate::proctoring::IdentityVision>,
    ) -> Self {
        self.identity_vision = Some(vision);
        self
    }
}

impl FromRef<AppState> for JwtKeys {
    fn from_ref(s: &AppState) -> JwtKeys {
        s.keys.clone()
    }
}

/// Every route of the API and its pages, with JSON errors for unknown routes.
pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit;
    Router::new()
        .merge(crate::meta::router())
        .merge(crate::auth::routes::router())
        .merge(crate::accounts::router())
        .merge(crate::interviews::router())
        .merge(crate::bank_api::router())
        .merge(crate::candidate::router())
        .merge(crate::written::routes::router())
        .merge(crate::practice::router())
        .merge(crate::booking::routes::router())
        .merge(crate::mail::routes::router())
        .merge(crate::oral::router())
        .merge(crate::proctoring::router())
        .merge(crate::results::router())
        .merge(crate::import::router())
        .merge(crate::recordings::router())
        .merge(crate::pages::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response_with_state(
            state.config.secure_cookie,
            crate::headers::security_headers,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                // The path only (query strings may carry tokens), sign-in tokens cut off.
                tracing::info_span!("http", method = %req.method(), path = %loggable_path(req.uri().path()))
            }),
        )
        .with_state(state)
}

/// The path as it may appear in logs: no query string, and sign-in tokens cut off.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/signin/") {
        "/signin/…"
    } else {
        path
    }
}

async fn not_found(uri: Uri) -> impl IntoResponse {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> impl IntoResponse {
    let (status, _) = (axum::http::StatusCode::METHOD_NOT_ALLOWED, ());
    let body = crate::error::ErrorBody {
        error: crate::error::ErrorDetail {
            code: "method_not_allowed".to_owned(),
            message: format!("{method} is not allowed on {}", uri.path()),
        },
    };
    (status, axum::Json(body))
}
