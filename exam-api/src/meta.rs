//! Health check and the OpenAPI description of the API.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{RefOr, Required, Response, ResponseBuilder};
use utoipa::{OpenApi, PartialSchema, ToSchema};

use crate::app::AppState;
use crate::db::Backend;
use crate::error::{ApiError, ErrorBody};

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/openapi.json", get(openapi_json))
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
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()),
    responses((status = 200, description = "the server works", body = Health),
        (status = 500, description = "the database does not answer", body = ErrorBody)))]
async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state.db.ping().await?;
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

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "the OpenAPI 3.1 document of the API", body = Object)))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A body of raw bytes (audio, video, images, PDF, calendar files): its media type is
/// given where it is used.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .into()
    }
}

impl ToSchema for Binary {}

/// The OpenAPI document of the API: every `/api/v1` operation, `/healthz`, this
/// document and the public certificate page. Pages (`/`, `/app/`, `/static/…`,
/// `/signin/{token}`, `/interview/{id}`) and WebSockets (`/ws`, `/ws/monitor`) are not
/// in it; `exam-api/tests/openapi.rs` checks it against the router.
#[derive(OpenApi)]
#[openapi(
    info(title = "langcert API", description = "Remote language certification: accounts, item bank, written test, proctoring, booking, oral, results and certificates.\n\nEvery error answers `{\"error\":{\"code\",\"message\"}}` (`ErrorBody`). Authenticated operations take the session token as `Authorization: Bearer …` (or the `langcert_session` cookie)."),
    paths(
        crate::accounts::create_candidate, crate::accounts::create_centre,
        crate::accounts::create_staff, crate::accounts::get_candidate,
        crate::accounts::get_centre, crate::accounts::list_candidates, crate::accounts::put_settings,
        crate::accounts::new_candidate_link, crate::auth::routes::link,
        crate::auth::routes::login, crate::auth::routes::logout, crate::auth::routes::me,
        crate::auth::routes::refresh, crate::auth::routes::set_password,
        crate::bank_api::get_one, crate::bank_api::list, crate::booking::routes::book,
        crate::booking::routes::booking_later, crate::booking::routes::cancel,
        crate::booking::routes::confirm, crate::booking::routes::get_availability,
        crate::booking::routes::mine, crate::booking::routes::move_booking,
        crate::booking::routes::put_availability, crate::booking::routes::slots,
        crate::candidate::get_profile, crate::candidate::journey,
        crate::candidate::put_profile, crate::candidate::system_check, crate::import::import,
        crate::import::set_target, crate::import::set_window, crate::interviews::create,
        crate::interviews::get_one, crate::interviews::list, crate::interviews::close,
        crate::interviews::audit, crate::mail::routes::attachment,
        crate::mail::routes::list, healthz, openapi_json, crate::oral::criteria,
        crate::oral::get_score, crate::oral::prompts, crate::oral::put_score,
        crate::practice::check, crate::practice::demo, crate::practice::demo_clip,
        crate::practice::practice, crate::practice::practice_clip,
        crate::proctoring::identity::document, crate::proctoring::identity::selfie,
        crate::proctoring::identity::status, crate::proctoring::page::identity_image,
        crate::proctoring::page::media, crate::proctoring::page::page,
        crate::proctoring::review::decide, crate::proctoring::review::decide_event,
        crate::proctoring::review::queue, crate::recordings::file, crate::recordings::list,
        crate::results::attestation, crate::results::centre_candidates,
        crate::results::certify::bundle, crate::results::certify::checkpoint,
        crate::results::certify::key, crate::results::certify::page,
        crate::results::certify::report, crate::results::certify::revoke, crate::results::mine,
        crate::written::routes::answer, crate::written::routes::play,
        crate::written::routes::result, crate::written::routes::start,
        crate::written::routes::view,
    ),
    components(schemas(ErrorBody, crate::error::ErrorDetail)),
    modifiers(&Conventions),
)]
pub struct ApiDoc;

/// What every operation shares, added to the document rather than repeated on each
/// handler: the session requirement and its 401, and the answers of the JSON body
/// extractor ([`crate::error::ApiJson`]).
///
/// An operation declared with `security(())` is public; every other one needs a
/// session (`bearer`) and may answer 401.
struct Conventions;

impl utoipa::Modify for Conventions {
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
                    .description(Some(
                        "the `token` of a session (`POST /api/v1/auth/link` or `/login`)",
                    ))
                    .build(),
            ),
        );
        for item in openapi.paths.paths.values_mut() {
            for op in operations(item) {
                let public = op
                    .security
                    .as_ref()
                    .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
                if public {
                    op.security = None;
                } else {
                    op.security = Some(vec![SecurityRequirement::new(
                        "bearer",
                        Vec::<String>::new(),
                    )]);
                    add(op, 401, "no session token, or an invalid or expired one");
                }
                let json_body = op
                    .request_body
                    .as_ref()
                    .is_some_and(|b| b.content.contains_key("application/json"));
                if json_body {
                    if let Some(b) = op.request_body.as_mut() {
                        b.required = Some(Required::True);
                    }
                    add(op, 400, "`malformed_json`: the body is not JSON");
                    add(
                        op,
                        413,
                        "`payload_too_large`: the body is larger than the limit",
                    );
                    add(
                        op,
                        415,
                        "`unsupported_media_type`: the body is not sent as `application/json`",
                    );
                    add(
                        op,
                        422,
                        "`invalid_body`: the JSON does not have the expected shape (or the code of the rule it breaks)",
                    );
                }
            }
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Adds an error answer to an operation unless it already lists that status.
fn add(op: &mut Operation, status: u16, description: &str) {
    let key = status.to_string();
    if op.responses.responses.contains_key(&key) {
        return;
    }
    let response: Response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    op.responses.responses.insert(key, RefOr::T(response));
}
