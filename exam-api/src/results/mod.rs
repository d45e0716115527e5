//! Results: released only when the written test is finished, its proctoring review
//! decided and the oral scored — never a partial result — then an attestation (page and
//! PDF) and, when the overall level reaches the centre's target, a certificate.
//!
//! **Rules** (also in `docs/results.md`):
//! - the written level is the median of the five domain levels;
//! - the oral level is the median of the five criteria (see [`crate::oral`]);
//! - the overall level is the lower of the written and oral levels: both parts must
//!   reach it, as the guide says they are inseparable;
//! - an invalidated proctoring review gives a result with status `invalidated`, no level
//!   reached and no certificate.

pub mod certify;
pub mod cpf;
pub mod log;
pub mod pdf;
mod store;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::now_ms;
use crate::error::{ApiError, ErrorBody};
use crate::meta::Binary;
use exam_core::bank::Domain;
use exam_core::cat::DomainEstimate;
use exam_core::cefr::Cefr;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/results/mine", get(mine))
        .route("/api/v1/results/mine/attestation.pdf", get(attestation))
        .route("/api/v1/centre/candidates", get(centre_candidates))
        .merge(certify::router())
}

/// A released result.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, ToSchema)]
pub struct ResultDoc {
    /// The holder.
    pub candidate: Holder,
    /// A level per written domain.
    pub written: Vec<DomainLevel>,
    /// The written level (median of the domains).
    pub written_level: Cefr,
    /// The oral level and its criteria.
    pub oral: Oral,
    /// The overall level.
    pub overall: Cefr,
    /// The centre's target.
    pub target: Cefr,
    /// Whether the target is reached (and the result valid).
    pub reached: bool,
    /// `valid` or `invalidated`.
    #[schema(example = "valid")]
    pub status: String,
    /// The certificate, when one was issued.
    pub certificate_id: Option<String>,
    /// When the result was released (RFC 3339).
    #[schema(format = DateTime)]
    pub issued_at: String,
    /// Date of the written test (RFC 3339).
    #[schema(format = DateTime)]
    pub written_at: String,
    /// Date of the oral (RFC 3339).
    #[schema(format = DateTime)]
    pub oral_at: String,
}

/// Who the result is for.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, ToSchema)]
pub struct Holder {
    /// First names.
    pub first_names: String,
    /// Last name.
    pub last_name: String,
}

/// A written domain's level.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, ToSchema)]
pub struct DomainLevel {
    /// Domain.
    pub domain: Domain,
    /// Level.
    pub level: Cefr,
}

/// The oral part.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, ToSchema)]
pub struct Oral {
    /// Level.
    pub level: Cefr,
    /// Level per criterion.
    #[schema(value_type = std::collections::BTreeMap<String, Cefr>)]
    pub criteria: Value,
}

fn median(levels: &[Cefr]) -> Cefr {
    let mut v = levels.to_vec();
    v.sort();
    v[(v.len() - 1) / 2]
}

fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// Which parts are still missing for a candidate's result (empty when all are there).
pub async fn missing_parts(
    state: &AppState,
    candidate: &str,
) -> Result<Vec<&'static str>, ApiError> {
    Ok(parts(state, candidate).await?.1)
}

/// Every part of a result, once each is complete.
struct Complete {
    written_json: String,
    written_at: i64,
    review: String,
    oral: store::OralPart,
}

async fn parts(
    state: &AppState,
    candidate: &str,
) -> Result<(Option<Complete>, Vec<&'static str>), ApiError> {
    let written = store::written(&state.db, candidate).await?;
    let review = match &written {
        Some(w) => store::review_decision(&state.db, &w.id).await?,
        None => None,
    };
    let oral = store::oral(&state.db, candidate).await?;
    let mut missing = Vec::new();
    if written.is_none() {
        missing.push("written");
    }
    if review.is_none() {
        missing.push("proctoring_review");
    }
    if oral.is_none() {
        missing.push("oral");
    }
    let complete = match (written, review, oral) {
        (
            Some(store::WrittenPart {
                result_json: Some(written_json),
                finished_at: Some(written_at),
                ..
            }),
            Some(review),
            Some(oral),
        ) => Some(Complete {
            written_json,
            written_at,
            review,
            oral,
        }),
        _ => None,
    };
    Ok((complete, missing))
}

/// Releases the candidate's result if every part is complete and it was not released
/// yet; returns whether it was released now. Idempotent: called after each part.
pub async fn try_release(state: &AppState, candidate: &str) -> Result<bool, ApiError> {
    let (Some(parts), _) = parts(state, candidate).await? else {
        return Ok(false);
    };
    let Complete {
        written_json,
        written_at,
        review,
        oral:
            store::OralPart {
                oral_level,
                levels_json: criteria,
                scheduled_at: oral_at,
            },
    } = parts;
    let estimates: Vec<DomainEstimate> =
        serde_json::from_str(&written_json).map_err(|e| ApiError::Internal(e.to_string()))?;
    let written: Vec<DomainLevel> = estimates
        .iter()
        .map(|e| DomainLevel {
            domain: e.domain,
            level: e.level,
        })
        .collect();
    let written_level = median(&written.iter().map(|d| d.level).collect::<Vec<_>>());
    let oral: Cefr = oral_level
        .parse()
        .map_err(|_| ApiError::Internal("oral level".to_owned()))?;
    let overall = written_level.min(oral);
    let store::HolderRow {
        first_names: first,
        last_name: last,
        cefr_target: target,
        centre_id: centre,
    } = store::holder(&state.db, candidate).await?;
    let target: Cefr = target
        .parse()
        .map_err(|_| ApiError::Internal("target".to_owned()))?;
    let valid = review == "validated";
    let now = now_ms();
    let mut doc = ResultDoc {
        candidate: Holder {
            first_names: first,
            last_name: last,
        },
        written,
        written_level,
        oral: Oral {
            level: oral,
            criteria: serde_json::from_str(&criteria).unwrap_or(Value::Null),
        },
        overall,
        target,
        reached: valid && overall >= target,
        status: if valid { "valid" } else { "invalidated" }.to_owned(),
        certificate_id: None,
        issued_at: rfc3339(now),
        written_at: rfc3339(written_at),
        oral_at: rfc3339(oral_at),
    };
    let mut tx = state.db.begin_write().await?;
    if !store::claim_release(&mut tx, candidate, &overall.to_string(), &doc.status, now).await? {
        return Ok(false);
    }
    if doc.reached {
        doc.certificate_id = Some(certify::issue(state, &mut tx, candidate, &doc, now).await?);
    }
    let json = serde_json::to_string(&doc).map_err(|e| ApiError::Internal(e.to_string()))?;
    store::set_document(&mut tx, candidate, &json, doc.certificate_id.as_deref()).await?;
    let centre_name = store::centre_name(&mut tx, &centre).await?;
    let token =
        crate::auth::create_link_in(&mut tx, candidate, now, state.config.link_ttl_s * 1000)
            .await?;
    let base = state.config.public_url.trim_end_matches('/');
    crate::mail::enqueue(
        &mut tx,
        candidate,
        "results_available",
        &[
            ("centre_name", centre_name),
            (
                "sign_in_url",
                format!("{base}/signin/{token}?next=/static/results.html"),
            ),
            ("results_url", format!("{base}/static/results.html")),
        ],
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(candidate = %candidate, certificate = doc.certificate_id.is_some(), "result released");
    Ok(true)
}

/// A candidate's released result.
pub async fn released(state: &AppState, candidate: &str) -> Result<Option<ResultDoc>, ApiError> {
    store::document(&state.db, candidate)
        .await?
        .map(|j| serde_json::from_str(&j).map_err(|e| ApiError::Internal(e.to_string())))
        .transpose()
}

#[utoipa::path(get, path = "/api/v1/results/mine", tag = "results",
    responses((status = 200, description = "the candidate's released result", body = ResultDoc),
        (status = 403, description = "not a candidate", body = ErrorBody),
        (status = 404, description = "`no_result`: not every part is complete yet", body = ErrorBody)))]
async fn mine(State(state): State<AppState>, auth: AuthUser) -> Result<Json<ResultDoc>, ApiError> {
    auth.require(&[Role::Candidate])?;
    released(&state, auth.id()).await?.map(Json).ok_or_else(|| {
        ApiError::NotFoundCode("no_result", "results come once the written test, the oral and the proctoring review are all complete".to_owned())
    })
}

const DOMAIN_FR: [&str; 5] = [
    "Vocabulaire",
    "Grammaire et syntaxe",
    "Expressions",
    "Compréhension de textes",
    "Compréhension orale",
];

#[utoipa::path(get, path = "/api/v1/results/mine/attestation.pdf", tag = "results",
    responses((status = 200, description = "the attestation of results", content_type = "application/pdf", body = Binary,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"attestation.pdf\"`"))),
        (status = 403, description = "not a candidate", body = ErrorBody),
        (status = 404, description = "`no_result`: not every part is complete yet", body = ErrorBody)))]
async fn attestation(State(state): State<AppState>, auth: AuthUser) -> Result<Response, ApiError> {
    auth.require(&[Role::Candidate])?;
    let r = released(&state, auth.id())
        .await?
        .ok_or_else(|| ApiError::NotFoundCode("no_result", "no result yet".to_owned()))?;
    use pdf::Line;
    let l = |text: String, size: u32, bold: bool| Line { text, size, bold };
    let mut lines = vec![
        l("Attestation de résultats".into(), 20, true),
        l(
            format!("{} {}", r.candidate.first_names, r.candidate.last_name),
            14,
            true,
        ),
        l(
            format!(
                "Épreuve écrite du {} — épreuve orale du {}",
                &r.written_at[..10],
                &r.oral_at[..10]
            ),
            11,
            false,
        ),
        l(String::new(), 8, false),
        l("Partie écrite".into(), 13, true),
    ];
    for d in &r.written {
        lines.push(l(
            format!("{} : {}", DOMAIN_FR[d.domain.index()], d.level),
            11,
            false,
        ));
    }
    lines.push(l(format!("Niveau écrit : {}", r.written_level), 11, true));
    lines.push(l(String::new(), 8, false));
    lines.push(l(format!("Partie orale : {}", r.oral.level), 13, true));
    lines.push(l(String::new(), 8, false));
    lines.push(l(
        format!("Niveau global (CECRL) : {}", r.overall),
        14,
        true,
    ));
    lines.push(l(
        format!("Objectif fixé par le centre : {}", r.target),
        11,
        false,
    ));
    let verdict = match (r.status.as_str(), r.reached) {
        ("invalidated", _) => {
            "Session non validée par la vérification de la surveillance.".to_owned()
        }
        (_, true) => "Objectif atteint : certificat délivré.".to_owned(),
        _ => "Objectif non atteint.".to_owned(),
    };
    lines.push(l(verdict, 11, false));
    if let Some(id) = &r.certificate_id {
        lines.push(l(
            format!(
                "Vérification : {}/verify/{id}",
                state.config.public_url.trim_end_matches('/')
            ),
            10,
            false,
        ));
    }
    lines.push(l(format!("Délivrée le {}", &r.issued_at[..10]), 10, false));
    let bytes = pdf::page("Attestation de résultats", &lines);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"attestation.pdf\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Where a candidate of the centre stands.
#[derive(Serialize, Debug, ToSchema)]
struct CandidateState {
    /// Account id.
    id: String,
    /// First names.
    first_names: String,
    /// Last name.
    last_name: String,
    /// E-mail.
    #[schema(format = Email)]
    email: String,
    /// CEFR target.
    cefr_target: String,
    /// The written test's status (`in_progress`, `finished`), once started.
    written: Option<String>,
    /// The proctoring review's status (`pending`, `validated`, `invalidated`).
    review: Option<String>,
    /// When the interview is.
    #[schema(format = DateTime)]
    interview_at: Option<String>,
    /// The interview's phase (see `InterviewOut.status`).
    interview_status: Option<String>,
    /// How its evaluator closed it (`held_without_recording`, `no_show`), if so.
    interview_closure: Option<String>,
    /// The evaluator's reason for that closure.
    interview_closure_reason: Option<String>,
    /// The oral level, once scored.
    oral_level: Option<String>,
    /// The released result.
    result: Option<ResultDoc>,
}

#[utoipa::path(get, path = "/api/v1/centre/candidates", tag = "results",
    responses((status = 200, description = "the centre's candidates and where each stands", body = [CandidateState]),
        (status = 403, description = "not a centre admin", body = ErrorBody)))]
async fn centre_candidates(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<CandidateState>>, ApiError> {
    auth.require(&[Role::CentreAdmin])?;
    let rows = store::centre_standings(&state.db, auth.centre().unwrap_or("")).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| CandidateState {
                id: r.id,
                first_names: r.first_names,
                last_name: r.last_name,
                email: r.email,
                cefr_target: r.cefr_target,
                written: r.written_status,
                review: r.review_status,
                interview_at: r.scheduled_at.map(rfc3339),
                interview_status: r.interview_status,
                interview_closure: r.closure,
                interview_closure_reason: r.closure_reason,
                oral_level: r.oral_level,
                result: r.result_json.and_then(|j| serde_json::from_str(&j).ok()),
            })
            .collect(),
    ))
}
