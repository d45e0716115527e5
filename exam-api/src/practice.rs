//! The demo mini-test and the practice exercises: their own banks, kept apart from the
//! exam bank so that practising never exposes exam items.
//!
//! The demo (seven items, one per type) is not scored and nothing of it is stored.
//! Practice exercises are checked on request, with the expected answers and a tip.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::meta::Binary;
use exam_core::bank::{Bank, Body, Domain, PublicItem, Response};

/// Demo and practice items are shuffled with this fixed seed.
const SEED: u64 = 1;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/demo", get(demo))
        .route("/api/v1/demo/clips/{item_id}", get(demo_clip))
        .route("/api/v1/practice/{domain}", get(practice))
        .route("/api/v1/practice/{item_id}/check", post(check))
        .route("/api/v1/practice/clips/{item_id}", get(practice_clip))
}

/// Items as a candidate's page shows them (no key).
#[derive(Serialize, Debug, ToSchema)]
struct ItemsOut {
    items: Vec<PublicItem>,
}

fn views(bank: &Bank, base: &str, domain: Option<Domain>) -> Vec<PublicItem> {
    bank.items
        .iter()
        .filter(|i| domain.is_none_or(|d| d == i.domain))
        .map(|i| i.public_view(SEED, 1.0, &format!("{base}/{}", i.id), 0))
        .collect()
}

fn clip(bank: &Bank, item_id: &str) -> Result<HttpResponse, ApiError> {
    let item = bank
        .item(item_id)
        .ok_or_else(|| ApiError::NotFound("no such item".to_owned()))?;
    let Body::Listening { clip, .. } = &item.body else {
        return Err(ApiError::NotFound("this item has no recording".to_owned()));
    };
    let bytes = bank
        .clips
        .get(clip)
        .cloned()
        .ok_or_else(|| ApiError::Internal(format!("clip {clip} missing")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "audio/ogg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// The seven demo items (public: the demo needs no account).
#[utoipa::path(get, path = "/api/v1/demo", tag = "practice", security(()),
    responses((status = 200, description = "the seven demo items, one per type", body = ItemsOut)))]
async fn demo(State(state): State<AppState>) -> Json<ItemsOut> {
    Json(ItemsOut {
        items: views(&state.demo, "/api/v1/demo/clips", None),
    })
}

#[utoipa::path(get, path = "/api/v1/demo/clips/{item_id}", tag = "practice", security(()),
    params(("item_id" = String, Path, description = "a demo listening item")),
    responses((status = 200, description = "the clip", content_type = "audio/ogg", body = Binary),
        (status = 404, description = "no such item, or it has no recording", body = ErrorBody)))]
async fn demo_clip(
    State(state): State<AppState>,
    Path(item_id): Path<String>,
) -> Result<HttpResponse, ApiError> {
    clip(&state.demo, &item_id)
}

/// The practice exercises of a domain (any signed-in user).
#[utoipa::path(get, path = "/api/v1/practice/{domain}", tag = "practice",
    params(("domain" = Domain, Path, description = "the domain")),
    responses((status = 200, description = "the domain's practice exercises", body = ItemsOut),
        (status = 404, description = "no such domain", body = ErrorBody)))]
async fn practice(
    State(state): State<AppState>,
    _auth: AuthUser,
    Path(domain): Path<String>,
) -> Result<Json<ItemsOut>, ApiError> {
    let d = Domain::parse(&domain)
        .ok_or_else(|| ApiError::NotFound(format!("no domain {domain:?}")))?;
    Ok(Json(ItemsOut {
        items: views(&state.practice, "/api/v1/practice/clips", Some(d)),
    }))
}

#[utoipa::path(get, path = "/api/v1/practice/clips/{item_id}", tag = "practice",
    params(("item_id" = String, Path, description = "a practice listening item")),
    responses((status = 200, description = "the clip", content_type = "audio/ogg", body = Binary),
        (status = 404, description = "no such item, or it has no recording", body = ErrorBody)))]
async fn practice_clip(
    State(state): State<AppState>,
    _auth: AuthUser,
    Path(item_id): Path<String>,
) -> Result<HttpResponse, ApiError> {
    clip(&state.practice, &item_id)
}

/// A practice response to check.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckIn {
    response: Response,
}

/// The feedback on a practice exercise.
#[derive(Serialize, Debug, ToSchema)]
struct CheckOut {
    /// Points scored.
    score: u32,
    /// Points possible.
    max_score: u32,
    /// Whether every point was scored.
    correct: bool,
    /// The expected answers, as text.
    expected: Vec<String>,
    /// A tip about the exercise, if it has one.
    tip: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/practice/{item_id}/check", tag = "practice", request_body = CheckIn,
    params(("item_id" = String, Path, description = "a practice exercise")),
    responses((status = 200, description = "the feedback", body = CheckOut),
        (status = 404, description = "no such exercise", body = ErrorBody),
        (status = 422, description = "`invalid_response`: the response does not fit the exercise", body = ErrorBody)))]
async fn check(
    State(state): State<AppState>,
    _auth: AuthUser,
    Path(item_id): Path<String>,
    ApiJson(body): ApiJson<CheckIn>,
) -> Result<Json<CheckOut>, ApiError> {
    let item = state
        .practice
        .item(&item_id)
        .ok_or_else(|| ApiError::NotFound("no such exercise".to_owned()))?;
    let score = item
        .score(&body.response, SEED)
        .map_err(|e| ApiError::invalid("invalid_response", e.0))?;
    let max_score = item.body.max_score();
    Ok(Json(CheckOut {
        score,
        max_score,
        correct: score == max_score,
        expected: item.expected_answers(),
        tip: item.tip.clone(),
    }))
}
