//! Oral scoring: the five criteria of the guide, each on the CEFR scale with a
//! descriptor per level (`exam-api/content/oral-criteria.json`), and the oral level.
//!
//! **Rule.** The oral level is the median of the five criteria's levels: the level that
//! at least three criteria reach. One weak criterion does not pull the level down, two
//! strong ones do not lift it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::now_ms;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use exam_core::cefr::Cefr;

pub mod store;

/// The ids of the five criteria, in the guide's order.
pub const CRITERIA: [&str; 5] = [
    "vocabulary_range",
    "grammar",
    "fluency",
    "pronunciation",
    "interaction",
];

static PROMPTS: LazyLock<serde_json::Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../content/oral-prompts.json"))
        .expect("the prompt bank is valid JSON (tested)")
});

static DESCRIPTORS: LazyLock<serde_json::Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../content/oral-criteria.json"))
        .expect("the criteria catalogue is valid JSON (tested)")
});

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/oral/criteria", get(criteria))
        .route(
            "/api/v1/interviews/{id}/score",
            get(get_score).put(put_score),
        )
        .route("/api/v1/interviews/{id}/prompts", get(prompts))
}

/// The oral level of five criteria levels: their median.
pub fn oral_level(levels: &[Cefr; 5]) -> Cefr {
    let mut sorted = *levels;
    sorted.sort();
    sorted[2]
}

/// Which set of prompts to draw.
#[derive(Deserialize, Debug, IntoParams)]
#[into_params(parameter_in = Query)]
struct PromptQuery {
    /// Another seed draws another set (0 by default).
    #[serde(default)]
    #[param(minimum = 0)]
    seed: u64,
}

/// The prompts of an interview.
#[derive(Serialize, Debug, ToSchema)]
struct PromptsOut {
    /// The candidate's target level, which picks the prompts.
    level: String,
    /// Introduction, role play and discussion, in this order.
    parts: Vec<PromptPart>,
}

/// One part of the interview.
#[derive(Serialize, Debug, ToSchema)]
struct PromptPart {
    /// `introduction`, `role_play` or `discussion`.
    #[schema(example = "role_play")]
    part: &'static str,
    /// The part's title.
    title: String,
    /// The role play's situation.
    #[serde(skip_serializing_if = "Option::is_none")]
    situation: Option<String>,
    /// The discussion's topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    topic: Option<String>,
    /// Questions or lines for the evaluator.
    prompts: Vec<String>,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// `n` consecutive entries of a list from a start fixed by `seed` (wrapping), so
/// another seed gives another set.
fn pick(list: &[serde_json::Value], n: usize, seed: u64) -> Vec<serde_json::Value> {
    let len = list.len();
    if len == 0 {
        return vec![];
    }
    let start = (seed % len as u64) as usize;
    (0..n.min(len))
        .map(|k| list[(start + k) % len].clone())
        .collect()
}

/// The interview's three parts with prompts fitting the candidate's target level, for
/// its evaluator (`?seed=` draws another set).
#[utoipa::path(get, path = "/api/v1/interviews/{id}/prompts", tag = "oral", params(("id" = String, Path, description = "interview id"), PromptQuery),
    responses((status = 200, description = "the three parts with prompts for the target level", body = PromptsOut),
        (status = 400, description = "`bad_query`: `seed` is not a number", body = ErrorBody),
        (status = 403, description = "not an evaluator", body = ErrorBody),
        (status = 404, description = "no such interview of the evaluator", body = ErrorBody)))]
async fn prompts(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PromptQuery>,
) -> Result<Json<PromptsOut>, ApiError> {
    own_interview(&state, &auth, &id).await?;
    let level = store::target_level(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::Internal("interview vanished".to_owned()))?;
    let bank = &PROMPTS["levels"][&level];
    let empty = vec![];
    let list = |part: &str| bank[part].as_array().unwrap_or(&empty).clone();
    let role_play = pick(&list("role_play"), 1, q.seed)
        .pop()
        .unwrap_or_default();
    let discussion = pick(&list("discussion"), 1, q.seed)
        .pop()
        .unwrap_or_default();
    let introduction = pick(&list("introduction"), 4, q.seed);
    Ok(Json(PromptsOut {
        level,
        parts: vec![
            PromptPart {
                part: "introduction",
                title: "Introduction".to_owned(),
                situation: None,
                topic: None,
                prompts: introduction
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect(),
            },
            PromptPart {
                part: "role_play",
                title: text(&role_play["title"]).unwrap_or_default(),
                situation: text(&role_play["situation"]),
                topic: None,
                prompts: strings(&role_play["prompts"]),
            },
            PromptPart {
                part: "discussion",
                title: text(&discussion["title"]).unwrap_or_default(),
                situation: None,
                topic: text(&discussion["topic"]),
                prompts: strings(&discussion["prompts"]),
            },
        ],
    }))
}

/// The language of the descriptors.
#[derive(Deserialize, Debug, IntoParams)]
#[into_params(parameter_in = Query)]
struct LangQuery {
    /// `en` for English; French otherwise.
    #[param(example = "en")]
    lang: Option<String>,
}

/// The criteria of the oral, with a descriptor per level.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
struct CriteriaOut {
    /// The five criteria, in the guide's order.
    criteria: Vec<Criterion>,
}

/// One criterion.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
struct Criterion {
    /// Its id (`vocabulary_range`, `grammar`, `fluency`, `pronunciation`, `interaction`).
    id: String,
    /// Its name.
    name: String,
    /// One descriptor per CEFR level.
    levels: BTreeMap<Cefr, String>,
}

#[utoipa::path(get, path = "/api/v1/oral/criteria", tag = "oral", params(LangQuery),
    responses((status = 200, description = "the criteria and their descriptors", body = CriteriaOut),
        (status = 400, description = "`bad_query`", body = ErrorBody)))]
async fn criteria(
    _auth: AuthUser,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> Result<Json<CriteriaOut>, ApiError> {
    let lang = if q.lang.as_deref() == Some("en") {
        "en"
    } else {
        "fr"
    };
    serde_json::from_value(DESCRIPTORS[lang].clone())
        .map(Json)
        .map_err(|e| ApiError::Internal(format!("criteria catalogue: {e}")))
}

/// An evaluator's scores.
#[derive(Deserialize, Serialize, Debug, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreIn {
    /// One level per criterion id (all five, no other).
    pub levels: BTreeMap<String, Cefr>,
    /// The evaluator's comment.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub comment: String,
}

/// The oral's scores and level.
#[derive(Serialize, Debug, ToSchema)]
struct ScoreOut {
    /// One level per criterion id.
    levels: BTreeMap<String, Cefr>,
    /// The evaluator's comment.
    comment: String,
    /// The oral level: the median of the criteria.
    oral_level: Cefr,
}

/// The interview's (candidate, evaluator, status), if the caller is its evaluator.
async fn own_interview(
    state: &AppState,
    auth: &AuthUser,
    id: &str,
) -> Result<(String, String), ApiError> {
    auth.require(&[Role::Evaluator])?;
    match store::participants(&state.db, id).await? {
        Some(p) if p.evaluator_id == auth.id() => Ok((p.candidate_id, p.status)),
        _ => Err(ApiError::NotFound("no such interview".to_owned())),
    }
}

#[utoipa::path(get, path = "/api/v1/interviews/{id}/score", tag = "oral", params(("id" = String, Path, description = "interview id")),
    responses((status = 200, description = "the scores", body = ScoreOut),
        (status = 403, description = "not an evaluator", body = ErrorBody),
        (status = 404, description = "no such interview of the evaluator, or not scored yet", body = ErrorBody)))]
async fn get_score(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<ScoreOut>, ApiError> {
    own_interview(&state, &auth, &id).await?;
    let score = store::score(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("not scored yet".to_owned()))?;
    Ok(Json(ScoreOut {
        levels: serde_json::from_str(&score.levels_json)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        comment: score.comment,
        oral_level: score
            .oral_level
            .parse()
            .map_err(|_| ApiError::Internal("level".to_owned()))?,
    }))
}

#[tracing::instrument(skip_all, fields(interview = %id))]
#[utoipa::path(put, path = "/api/v1/interviews/{id}/score", tag = "oral", request_body = ScoreIn,
    params(("id" = String, Path, description = "interview id")),
    responses((status = 200, description = "the stored scores; the result is released when every part is there", body = ScoreOut),
        (status = 403, description = "not an evaluator", body = ErrorBody),
        (status = 404, description = "no such interview of the evaluator", body = ErrorBody),
        (status = 409, description = "`result_released`; `interview_not_ended`, `cancelled` or `no_show` (only an ended interview is scored); `interview_too_short` (in progress for less than the minimum, 10 min by default, unless closed as held without recording)", body = ErrorBody),
        (status = 422, description = "`invalid_score`: a criterion missing or unknown, or a comment too long", body = ErrorBody)))]
async fn put_score(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScoreIn>,
) -> Result<Json<ScoreOut>, ApiError> {
    let (candidate, _) = own_interview(&state, &auth, &id).await?;
    // Once the result is released (and maybe a certificate issued), the oral is final.
    if crate::results::released(&state, &candidate)
        .await?
        .is_some()
    {
        return Err(ApiError::refused(
            "result_released",
            "the result was released; the oral score is final",
        ));
    }
    // Only an interview that took place is scored (see `exam_core::interview::scoreable`).
    let record = crate::interviews::store::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such interview".to_owned()))?;
    let phase = record
        .phase()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    exam_core::interview::scoreable(
        phase,
        record.closure(),
        state.config.lifecycle.min_in_progress_ms,
    )
    .map_err(|e| ApiError::refused(e.code(), e.to_string()))?;
    let mut levels = [Cefr::A1; 5];
    for (i, c) in CRITERIA.iter().enumerate() {
        levels[i] = *body
            .levels
            .get(*c)
            .ok_or_else(|| ApiError::invalid("invalid_score", format!("levels.{c} is missing")))?;
    }
    if let Some(k) = body.levels.keys().find(|k| !CRITERIA.contains(&k.as_str())) {
        return Err(ApiError::invalid(
            "invalid_score",
            format!("levels.{k} is not a criterion"),
        ));
    }
    if body.comment.chars().count() > 5000 {
        return Err(ApiError::invalid(
            "invalid_score",
            "the comment is longer than 5000 characters",
        ));
    }
    let level = oral_level(&levels);
    let json =
        serde_json::to_string(&body.levels).map_err(|e| ApiError::Internal(e.to_string()))?;
    let score = store::Score {
        levels_json: json,
        comment: body.comment,
        oral_level: level.to_string(),
    };
    store::save_score(&state.db, &id, auth.id(), &score, now_ms()).await?;
    crate::results::try_release(&state, &candidate).await?;
    Ok(Json(ScoreOut {
        levels: body.levels,
        comment: score.comment,
        oral_level: level,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oral_level_is_the_median() {
        use Cefr::*;
        assert_eq!(oral_level(&[B2, B1, B2, B2, C1]), B2);
        assert_eq!(oral_level(&[A1, C2, C2, A1, B1]), B1);
        assert_eq!(oral_level(&[C1, C1, C1, A2, A2]), C1);
    }

    #[test]
    fn the_prompt_bank_covers_every_level_and_part() {
        for l in Cefr::ALL {
            let bank = &PROMPTS["levels"][l.to_string()];
            assert!(bank["introduction"].as_array().unwrap().len() >= 4, "{l}");
            for part in ["role_play", "discussion"] {
                let list = bank[part].as_array().unwrap();
                assert!(list.len() >= 2, "{l} {part}");
                for p in list {
                    assert!(
                        p["title"].is_string()
                            && p["prompts"].as_array().is_some_and(|v| !v.is_empty()),
                        "{l} {part}"
                    );
                }
            }
            let a = pick(bank["introduction"].as_array().unwrap(), 4, 0);
            let b = pick(bank["introduction"].as_array().unwrap(), 4, 1);
            assert!(!a.is_empty() && a != b, "another seed, another set");
        }
    }

    #[test]
    fn every_criterion_has_six_descriptors_in_both_languages() {
        for lang in ["fr", "en"] {
            let list = DESCRIPTORS[lang]["criteria"].as_array().unwrap();
            let ids: Vec<&str> = list.iter().map(|c| c["id"].as_str().unwrap()).collect();
            assert_eq!(ids, CRITERIA);
            for c in list {
                for l in Cefr::ALL {
                    assert!(
                        c["levels"][l.to_string()]
                            .as_str()
                            .is_some_and(|d| d.len() > 20),
                        "{lang} {c} {l}"
                    );
                }
            }
        }
    }
}
