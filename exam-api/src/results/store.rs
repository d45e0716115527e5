//! What results and certificates read and write: the parts a result is made of, the
//! released documents, the centre's overview, the certificates, checkpoints and
//! revocations. Every function returns a [`StoreError`]; the handlers decide what the
//! client is told.

use sqlx::AnyConnection;

use crate::db::{Db, StoreError};

/// The candidate's finished written session.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct WrittenPart {
    /// The session id.
    pub(crate) id: String,
    /// The domain estimates (JSON), once scored.
    pub(crate) result_json: Option<String>,
    /// When it finished (Unix ms).
    pub(crate) finished_at: Option<i64>,
}

/// The candidate's scored oral.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OralPart {
    /// The oral level.
    pub(crate) oral_level: String,
    /// The level of each criterion (JSON).
    pub(crate) levels_json: String,
    /// When the interview was scheduled (Unix ms).
    pub(crate) scheduled_at: i64,
}

/// The candidate's finished written session, if any.
pub(crate) async fn written(db: &Db, candidate: &str) -> Result<Option<WrittenPart>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, result_json, finished_at FROM written_sessions \
         WHERE candidate_id = $1 AND status = 'finished'",
    )
    .bind(candidate)
    .fetch_optional(&db.pool)
    .await?)
}

/// The decision of the proctoring review of a session, once decided.
pub(crate) async fn review_decision(db: &Db, session: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT status FROM reviews WHERE session_id = $1 AND status <> 'pending'")
            .bind(session)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(s,)| s))
}

/// The oral score of the candidate's interview that was not cancelled, if scored.
pub(crate) async fn oral(db: &Db, candidate: &str) -> Result<Option<OralPart>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT o.oral_level, o.levels_json, i.scheduled_at FROM oral_scores o \
         JOIN interviews i ON i.id = o.interview_id \
         WHERE i.candidate_id = $1 AND i.status <> 'cancelled'",
    )
    .bind(candidate)
    .fetch_optional(&db.pool)
    .await?)
}

/// Who a result is for, and the centre's target.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct HolderRow {
    /// First names.
    pub(crate) first_names: String,
    /// Last name.
    pub(crate) last_name: String,
    /// The CEFR level the centre set as the target.
    pub(crate) cefr_target: String,
    /// The centre.
    pub(crate) centre_id: String,
}

/// The holder of a candidate's result.
pub(crate) async fn holder(db: &Db, candidate: &str) -> Result<HolderRow, StoreError> {
    Ok(sqlx::query_as(
        "SELECT u.first_names, u.last_name, c.cefr_target, c.centre_id \
         FROM users u JOIN candidates c ON c.user_id = u.id WHERE u.id = $1",
    )
    .bind(candidate)
    .fetch_one(&db.pool)
    .await?)
}

/// Claims the release of a candidate's result in `tx`: false when it was released
/// already (the result's row is the claim, so two releases never both go through).
pub(crate) async fn claim_release(
    tx: &mut AnyConnection,
    candidate: &str,
    overall: &str,
    status: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let claimed = sqlx::query(
        "INSERT INTO results (candidate_id, result_json, overall, status, created_at) \
         VALUES ($1, '{}', $2, $3, $4) ON CONFLICT (candidate_id) DO NOTHING",
    )
    .bind(candidate)
    .bind(overall)
    .bind(status)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Stores the released document and its certificate, if any.
pub(crate) async fn set_document(
    tx: &mut AnyConnection,
    candidate: &str,
    json: &str,
    certificate: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE results SET result_json = $1, certificate_id = $2 WHERE candidate_id = $3")
        .bind(json)
        .bind(certificate)
        .bind(candidate)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A centre's name.
pub(crate) async fn centre_name(
    tx: &mut AnyConnection,
    centre: &str,
) -> Result<String, StoreError> {
    let (name,): (String,) = sqlx::query_as("SELECT name FROM centres WHERE id = $1")
        .bind(centre)
        .fetch_one(&mut *tx)
        .await?;
    Ok(name)
}

/// A candidate's released document (JSON), if released.
pub(crate) async fn document(db: &Db, candidate: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT result_json FROM results WHERE candidate_id = $1")
            .bind(candidate)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(j,)| j))
}

/// Where one of a centre's candidates stands.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StandingRow {
    /// The candidate's user id.
    pub(crate) id: String,
    /// First names.
    pub(crate) first_names: String,
    /// Last name.
    pub(crate) last_name: String,
    /// E-mail.
    pub(crate) email: String,
    /// The centre's target level.
    pub(crate) cefr_target: String,
    /// The written session's status.
    pub(crate) written_status: Option<String>,
    /// The proctoring review's status.
    pub(crate) review_status: Option<String>,
    /// The latest interview not cancelled: when.
    pub(crate) scheduled_at: Option<i64>,
    /// Its phase.
    pub(crate) interview_status: Option<String>,
    /// Its oral level, once scored.
    pub(crate) oral_level: Option<String>,
    /// The released result (JSON).
    pub(crate) result_json: Option<String>,
    /// How it was closed by its evaluator, if so.
    pub(crate) closure: Option<String>,
    /// Why.
    pub(crate) closure_reason: Option<String>,
}

/// Every candidate of a centre, by name, with the candidate's latest interview that was
/// not cancelled (after a no-show, the new booking).
pub(crate) async fn centre_standings(
    db: &Db,
    centre: &str,
) -> Result<Vec<StandingRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.first_names, u.last_name, u.email, c.cefr_target, \
                w.status AS written_status, r.status AS review_status, i.scheduled_at, \
                i.status AS interview_status, o.oral_level, res.result_json, i.closure, \
                i.closure_reason \
         FROM candidates c JOIN users u ON u.id = c.user_id \
         LEFT JOIN written_sessions w ON w.candidate_id = u.id \
         LEFT JOIN reviews r ON r.session_id = w.id \
         LEFT JOIN interviews i ON i.id = (SELECT l.id FROM interviews l WHERE l.candidate_id = u.id AND l.status <> 'cancelled' ORDER BY l.scheduled_at DESC LIMIT 1) \
         LEFT JOIN oral_scores o ON o.interview_id = i.id \
         LEFT JOIN results res ON res.candidate_id = u.id \
         WHERE c.centre_id = $1 ORDER BY u.last_name, u.first_names",
    )
    .bind(centre)
    .fetch_all(&db.pool)
    .await?)
}

/// An issued certificate as stored.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CertificateRow {
    /// The credential (a JWS).
    pub(crate) jwt: String,
    /// Its leaf in the log.
    pub(crate) leaf_index: i64,
    /// Whose it is.
    pub(crate) candidate_id: String,
}

/// The certificate `id`, if issued.
pub(crate) async fn certificate(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<CertificateRow>, StoreError> {
    Ok(
        sqlx::query_as("SELECT jwt, leaf_index, candidate_id FROM certificates WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// A certificate to record, with its leaf (already appended to the log).
#[derive(Debug)]
pub(crate) struct NewCertificate<'a> {
    /// Its id.
    pub(crate) id: &'a str,
    /// Whose it is.
    pub(crate) candidate: &'a str,
    /// The credential.
    pub(crate) jwt: &'a str,
    /// Its leaf's index in the log.
    pub(crate) leaf_index: u64,
    /// Its leaf hash, hex.
    pub(crate) leaf_hash: &'a str,
    /// When (Unix ms).
    pub(crate) issued_at: i64,
}

/// Records an issued certificate.
pub(crate) async fn insert_certificate(
    tx: &mut AnyConnection,
    c: &NewCertificate<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO certificates (id, candidate_id, jwt, leaf_index, leaf_hash, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(c.id)
    .bind(c.candidate)
    .bind(c.jwt)
    .bind(i64::try_from(c.leaf_index).unwrap_or(i64::MAX))
    .bind(c.leaf_hash)
    .bind(c.issued_at)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        StoreError::on_constraint(e, "certificates_leaf_index_key", "certificates.leaf_index")
    })?;
    Ok(())
}

/// Publishes a signed checkpoint (JSON) of the log at `tree_size`.
pub(crate) async fn insert_checkpoint(
    tx: &mut AnyConnection,
    tree_size: u64,
    body_json: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO log_checkpoints (tree_size, body_json, created_at) VALUES ($1, $2, $3)",
    )
    .bind(i64::try_from(tree_size).unwrap_or(i64::MAX))
    .bind(body_json)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The latest published checkpoint (JSON), if any.
pub(crate) async fn latest_checkpoint(
    conn: &mut AnyConnection,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT body_json FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|(j,)| j))
}

/// Why certificate `id` was revoked, if it was.
pub(crate) async fn revocation(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT reason FROM revocations WHERE certificate_id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|(r,)| r))
}

/// The revocation's primary key: a certificate is revoked once.
pub(crate) const ONE_REVOCATION: &str = "revocations_pkey";

/// Records a revocation (never deletes the certificate); [`ONE_REVOCATION`] refuses a
/// second.
pub(crate) async fn revoke(
    db: &Db,
    id: &str,
    reason: &str,
    by: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO revocations (certificate_id, reason, revoked_by, revoked_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(reason)
    .bind(by)
    .bind(now)
    .execute(&db.pool)
    .await
    .map_err(|e| StoreError::on_constraint(e, ONE_REVOCATION, "revocations.certificate_id"))?;
    Ok(())
}
