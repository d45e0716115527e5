//! Health check and the OpenAPI description of the API.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::app::AppState;
use crate::db::Backend;
use crate::error::ApiError;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}

/// The server's health.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Items in the loaded bank.
    pub items: usize,
    /// The server's version.
    pub version: String,
}

/// Answers 200 when the server and its database work.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, body = Health), (status = 500, body = crate::error::ErrorBody)))]
async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    sqlx::query("SELECT 1").execute(&state.db.pool).await?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        database: match state.db.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .to_owned(),
        items: state.bank.items.len(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}

/// The OpenAPI document of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(title = "langcert API", description = "Remote language certification: accounts, item bank, interviews."),
    paths(
        healthz,
        crate::auth::routes::login, crate::auth::routes::link, crate::auth::routes::refresh,
        crate::auth::routes::logout, crate::auth::routes::me, crate::auth::routes::set_password,
        crate::accounts::create_centre, crate::accounts::get_centre, crate::accounts::create_staff,
        crate::accounts::create_candidate, crate::accounts::list_candidates, crate::accounts::get_candidate,
        crate::accounts::new_candidate_link,
        crate::interviews::create, crate::interviews::list, crate::interviews::get_one,
        crate::bank_api::list, crate::bank_api::get_one,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}
