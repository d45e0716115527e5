//! Certificates as stored and shown: issuance inside the result's transaction (the
//! credential, its leaf in the append-only log, a new signed checkpoint), the public
//! verification page and JSON, the offline bundle, and revocation (recorded, never a
//! deletion).

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ResultDoc;
use super::{log, store};
use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::StoreError;
use crate::db::now_ms;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::pages::escape;
use credential::merkle;
use credential::{Checkpoint, CredentialInput, CredentialSummary};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/verify/{id}", get(page))
        .route("/api/v1/certificates/{id}", get(report))
        .route("/api/v1/certificates/{id}/bundle", get(bundle))
        .route("/api/v1/certificates/{id}/revoke", post(revoke))
        .route("/api/v1/log/checkpoint", get(checkpoint))
        .route("/api/v1/log/key", get(key))
}

fn origin(state: &AppState) -> String {
    let url = state.config.public_url.trim_end_matches('/');
    format!("{}/log", url.split("://").nth(1).unwrap_or(url))
}

const PARTS: [&str; 5] = [
    "written.vocabulary",
    "written.grammar",
    "written.expressions",
    "written.reading",
    "written.listening",
];

/// Issues the certificate of a result inside its transaction; returns its id.
pub(super) async fn issue(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    candidate: &str,
    doc: &ResultDoc,
    now: i64,
) -> Result<String, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let base = state.config.public_url.trim_end_matches('/');
    let mut levels: Vec<(String, String)> = doc
        .written
        .iter()
        .map(|d| (PARTS[d.domain.index()].to_owned(), d.level.to_string()))
        .collect();
    levels.push(("oral".to_owned(), doc.oral.level.to_string()));
    let input = CredentialInput {
        id: format!("urn:uuid:{id}"),
        issuer_id: format!("{base}/issuer"),
        issuer_name: "langcert".to_owned(),
        holder_name: format!("{} {}", doc.candidate.first_names, doc.candidate.last_name),
        holder_id: None,
        achievement_id: Some(format!(
            "{base}/achievements/english-{}",
            doc.overall.to_string().to_lowercase()
        )),
        achievement_name: format!("English — CEFR {}", doc.overall),
        overall: doc.overall.to_string(),
        levels,
        issued_at: now / 1000,
    };
    let jwt = credential::issue(&state.issuer, &input)
        .map_err(|e| ApiError::Internal(format!("issuing: {e}")))?;
    let leaf = credential::credential_leaf_hash(&jwt);
    let (index, root) = log::append(conn, leaf).await?;
    let certificate = store::NewCertificate {
        id: &id,
        candidate,
        jwt: &jwt,
        leaf_index: index,
        leaf_hash: &log::hex(&leaf),
        issued_at: now,
    };
    store::insert_certificate(conn, &certificate).await?;
    let cp = Checkpoint::sign(&state.issuer, &origin(state), index + 1, root, now / 1000)
        .map_err(|e| ApiError::Internal(format!("checkpoint: {e}")))?;
    let body = serde_json::to_string(&cp).map_err(|e| ApiError::Internal(e.to_string()))?;
    store::insert_checkpoint(conn, index + 1, &body, now).await?;
    Ok(id)
}

/// The latest published checkpoint.
pub(super) async fn latest_checkpoint(
    conn: &mut sqlx::AnyConnection,
) -> Result<Option<Checkpoint>, ApiError> {
    store::latest_checkpoint(conn)
        .await?
        .map(|j| serde_json::from_str(&j).map_err(|e| ApiError::Internal(e.to_string())))
        .transpose()
}

/// The checks of a certificate, as the public page and JSON show them.
#[derive(Serialize, Debug, ToSchema)]
pub struct Report {
    /// The certificate id.
    pub id: String,
    /// The holder's name (when the signature checks).
    pub holder: Option<String>,
    /// The overall CEFR level.
    pub overall: Option<String>,
    /// `[part, level]` pairs (`written.vocabulary`, …, `oral`).
    #[schema(value_type = Vec<Vec<String>>)]
    pub levels: Vec<(String, String)>,
    /// When it was issued.
    pub issued_at: Option<String>,
    /// The issuer's signature checks.
    pub signature_valid: bool,
    /// The credential is in the public log.
    pub included_in_log: bool,
    /// The log's latest checkpoint is signed by the issuer.
    pub checkpoint_valid: bool,
    /// Certificates in the log.
    pub tree_size: u64,
    /// It was revoked.
    pub revoked: bool,
    /// Why, if it was.
    pub revocation_reason: Option<String>,
    /// Every check passed and it is not revoked.
    pub valid: bool,
    /// The public verification page.
    pub url: String,
}

async fn check(state: &AppState, id: &str) -> Result<Report, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    check_on(state, &mut conn, id).await
}

/// The checks of certificate `id` read on `conn`: its signature, its inclusion in the
/// log under the latest checkpoint (O(log n) rows of the log), the checkpoint's
/// signature, its revocation.
pub async fn check_on(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Report, ApiError> {
    let store::CertificateRow {
        jwt,
        leaf_index: index,
        ..
    } = store::certificate(conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such certificate".to_owned()))?;
    let key = state.issuer.verifying_key();
    let payload = credential::verify_credential(&jwt, &key).ok();
    let summary = payload
        .as_ref()
        .and_then(|p| CredentialSummary::from_payload(p).ok());
    let cp = latest_checkpoint(conn).await?;
    let checkpoint_valid = cp.as_ref().is_some_and(|c| c.verify(&key).is_ok());
    let included = match &cp {
        Some(c) if (index as u64) < c.tree_size => {
            log::inclusion_proof(conn, index as u64, c.tree_size)
                .await?
                .is_some_and(|proof| {
                    merkle::verify_inclusion(
                        &credential::credential_leaf_hash(&jwt),
                        index as u64,
                        c.tree_size,
                        &proof,
                        &c.root_hash,
                    )
                })
        }
        _ => false,
    };
    let revoked = store::revocation(conn, id).await?;
    let signature_valid = summary.is_some();
    Ok(Report {
        id: id.to_owned(),
        holder: summary.as_ref().map(|s| s.holder_name.clone()),
        overall: summary.as_ref().map(|s| s.overall.clone()),
        levels: summary
            .as_ref()
            .map(|s| {
                s.levels
                    .iter()
                    .map(|l| (l.part.clone(), l.level.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        issued_at: summary.as_ref().map(|s| s.valid_from.clone()),
        signature_valid,
        included_in_log: included,
        checkpoint_valid,
        tree_size: cp.as_ref().map_or(0, |c| c.tree_size),
        valid: signature_valid && included && checkpoint_valid && revoked.is_none(),
        revoked: revoked.is_some(),
        revocation_reason: revoked,
        url: format!(
            "{}/verify/{id}",
            state.config.public_url.trim_end_matches('/')
        ),
    })
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}", tag = "certificates", security(()), params(("id" = String, Path, description = "certificate id")),
    responses((status = 200, description = "the checks of the certificate", body = Report),
        (status = 404, description = "no such certificate", body = ErrorBody)))]
async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Report>, ApiError> {
    check(&state, &id).await.map(Json)
}

const PART_FR: [(&str, &str); 6] = [
    ("written.vocabulary", "Écrit — vocabulaire"),
    ("written.grammar", "Écrit — grammaire et syntaxe"),
    ("written.expressions", "Écrit — expressions"),
    ("written.reading", "Écrit — compréhension de textes"),
    ("written.listening", "Écrit — compréhension orale"),
    ("oral", "Oral"),
];

#[utoipa::path(get, path = "/verify/{id}", tag = "certificates", security(()), params(("id" = String, Path, description = "certificate id")),
    responses((status = 200, description = "the public verification page", content_type = "text/html", body = String),
        (status = 404, description = "no such certificate (an HTML page)", content_type = "text/html", body = String)))]
async fn page(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let r = match check(&state, &id).await {
        Ok(r) => r,
        Err(ApiError::NotFound(_)) => {
            return Ok((StatusCode::NOT_FOUND, Html("<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>Certificat inconnu</title><link rel=\"stylesheet\" href=\"/static/style.css\"><main><h1>Certificat inconnu</h1><p>Aucun certificat ne porte cet identifiant.</p></main></html>".to_owned())).into_response());
        }
        Err(e) => return Err(e),
    };
    let tick = |ok: bool| if ok { "✔ vérifié" } else { "✘ échec" };
    let qr = qrcode::QrCode::new(r.url.as_bytes())
        .map(|c| {
            c.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(180, 180)
                .build()
        })
        .unwrap_or_default();
    let levels: String = r
        .levels
        .iter()
        .map(|(p, l)| {
            let name = PART_FR
                .iter()
                .find(|(k, _)| k == p)
                .map_or(p.as_str(), |(_, v)| v);
            format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                escape(name),
                escape(l)
            )
        })
        .collect();
    let status = if r.revoked {
        format!(
            "<p class=\"error\" data-testid=\"verify-status\" data-valid=\"false\">Certificat révoqué : {}</p>",
            escape(r.revocation_reason.as_deref().unwrap_or(""))
        )
    } else if r.valid {
        "<p data-testid=\"verify-status\" data-valid=\"true\"><strong>Certificat authentique et valide.</strong></p>".to_owned()
    } else {
        "<p class=\"error\" data-testid=\"verify-status\" data-valid=\"false\"><strong>Ce certificat n'a pas pu être vérifié.</strong></p>".to_owned()
    };
    let html = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Vérification du certificat</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head><body><main>\
         <h1>Vérification du certificat</h1>{status}\
         <p>Titulaire : <strong data-testid=\"holder\">{holder}</strong></p>\
         <p>Niveau global (CECRL) : <strong data-testid=\"overall\">{overall}</strong> — délivré le {issued}</p>\
         <table><caption>Niveaux par partie</caption><tbody>{levels}</tbody></table>\
         <h2>Contrôles</h2><ul>\
         <li data-testid=\"check-signature\">Signature Ed25519 de l'émetteur : {sig}</li>\
         <li data-testid=\"check-log\">Inclusion dans le journal public (preuve RFC 6962, point de contrôle de {size} certificats) : {inc}</li>\
         <li data-testid=\"check-checkpoint\">Signature du point de contrôle : {cpk}</li>\
         <li data-testid=\"check-revocation\">Révocation : {rev}</li></ul>\
         <h2>Partager</h2><p>Lien : <a data-testid=\"share-link\" href=\"{url}\">{url}</a></p>\
         <figure><div role=\"img\" aria-label=\"QR code du lien de vérification\" data-testid=\"qr\">{qr}</div></figure>\
         <p><a href=\"/api/v1/certificates/{id}/bundle\" download=\"certificat-{id}.json\">Télécharger le certificat vérifiable</a> (vérification hors ligne : <code>langcert verify</code>)</p>\
         </main></body></html>",
        holder = escape(r.holder.as_deref().unwrap_or("—")),
        overall = escape(r.overall.as_deref().unwrap_or("—")),
        issued = escape(
            r.issued_at
                .as_deref()
                .map(|d| d.get(..10).unwrap_or(d))
                .unwrap_or("—")
        ),
        sig = tick(r.signature_valid),
        size = r.tree_size,
        inc = tick(r.included_in_log),
        cpk = tick(r.checkpoint_valid),
        rev = if r.revoked {
            "révoqué"
        } else {
            "non révoqué"
        },
        url = escape(&r.url),
        id = escape(&r.id),
    );
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/bundle", tag = "certificates", security(()), params(("id" = String, Path, description = "certificate id")),
    responses((status = 200, description = "the credential with what verifies it offline (`langcert verify`)", body = credential::Bundle),
        (status = 404, description = "no such certificate", body = ErrorBody)))]
async fn bundle(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<credential::Bundle>, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    let store::CertificateRow {
        jwt,
        leaf_index: index,
        ..
    } = store::certificate(&mut conn, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such certificate".to_owned()))?;
    let cp = latest_checkpoint(&mut conn)
        .await?
        .ok_or_else(|| ApiError::Internal("no checkpoint".to_owned()))?;
    let proof = log::inclusion_proof(&mut conn, index as u64, cp.tree_size)
        .await?
        .ok_or_else(|| ApiError::Internal("the certificate is past its checkpoint".to_owned()))?;
    credential::Bundle::assemble(jwt, index as u64, proof, cp, &state.issuer.verifying_key())
        .map(Json)
        .map_err(|e| ApiError::Internal(format!("the log does not match its checkpoint: {e}")))
}

#[utoipa::path(get, path = "/api/v1/log/checkpoint", tag = "certificates", security(()),
    responses((status = 200, description = "the log's latest signed checkpoint", body = credential::Checkpoint),
        (status = 404, description = "no certificate issued yet", body = ErrorBody)))]
async fn checkpoint(State(state): State<AppState>) -> Result<Json<Checkpoint>, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    latest_checkpoint(&mut conn)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no certificate issued yet".to_owned()))
}

#[utoipa::path(get, path = "/api/v1/log/key", tag = "certificates", security(()),
    responses((status = 200, description = "the issuer's public key", body = credential::Jwk)))]
async fn key(State(state): State<AppState>) -> Result<Json<credential::Jwk>, ApiError> {
    serde_json::from_value(state.issuer.public_jwk())
        .map(Json)
        .map_err(|e| ApiError::Internal(format!("issuer key: {e}")))
}

/// Why a certificate is revoked.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
struct RevokeIn {
    /// The reason, shown on the verification page (1–500 characters).
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/certificates/{id}/revoke", tag = "certificates", request_body = RevokeIn,
    params(("id" = String, Path, description = "certificate id")),
    responses((status = 204, description = "revoked (recorded, never deleted)"),
        (status = 403, description = "not an admin", body = ErrorBody),
        (status = 404, description = "no such certificate the caller may see", body = ErrorBody),
        (status = 409, description = "`already_revoked`", body = ErrorBody),
        (status = 422, description = "`invalid_reason`", body = ErrorBody)))]
async fn revoke(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevokeIn>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Role::CentreAdmin, Role::PlatformAdmin])?;
    let mut conn = state.db.pool.acquire().await?;
    let candidate = store::certificate(&mut conn, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such certificate".to_owned()))?
        .candidate_id;
    drop(conn);
    crate::accounts::visible_candidate(&state, &auth, &candidate)
        .await
        .map_err(|_| ApiError::NotFound("no such certificate".to_owned()))?;
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::invalid(
            "invalid_reason",
            "a reason of 1 to 500 characters",
        ));
    }
    store::revoke(&state.db, &id, reason, auth.id(), now_ms())
        .await
        .map_err(|e| match e {
            StoreError::Constraint {
                constraint: store::ONE_REVOCATION,
                ..
            } => ApiError::refused("already_revoked", "this certificate is already revoked"),
            e => e.into(),
        })?;
    tracing::info!(certificate = %id, "certificate revoked");
    Ok(StatusCode::NO_CONTENT)
}
