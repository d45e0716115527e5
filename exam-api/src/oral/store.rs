//! The oral scores' storage: one row per interview, written again while the result is
//! not released.

use crate::db::{Db, StoreError};

/// Who takes part in an interview, and its phase.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Participants {
    /// The candidate.
    pub candidate_id: String,
    /// The evaluator.
    pub evaluator_id: String,
    /// The phase.
    pub status: String,
}

/// Who takes part in the interview `id`.
pub async fn participants(db: &Db, id: &str) -> Result<Option<Participants>, StoreError> {
    Ok(
        sqlx::query_as("SELECT candidate_id, evaluator_id, status FROM interviews WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// The candidate's target level of the interview `id`.
pub async fn target_level(db: &Db, id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT target_cefr FROM interviews WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|(level,)| level))
}

/// An interview's stored scores.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Score {
    /// One level per criterion id, as JSON.
    pub levels_json: String,
    /// The evaluator's comment.
    pub comment: String,
    /// The oral level (`B1`, …).
    pub oral_level: String,
}

/// The scores of the interview `id`, if scored.
pub async fn score(db: &Db, id: &str) -> Result<Option<Score>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT levels_json, comment, oral_level FROM oral_scores WHERE interview_id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?)
}

/// Writes (or replaces) the scores of the interview `id` by `evaluator` at `now`.
pub async fn save_score(
    db: &Db,
    id: &str,
    evaluator: &str,
    score: &Score,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO oral_scores (interview_id, evaluator_id, levels_json, oral_level, comment, scored_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (interview_id) DO UPDATE SET levels_json = excluded.levels_json, oral_level = excluded.oral_level, \
         comment = excluded.comment, scored_at = excluded.scored_at",
    )
    .bind(id)
    .bind(evaluator)
    .bind(&score.levels_json)
    .bind(&score.oral_level)
    .bind(&score.comment)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}
