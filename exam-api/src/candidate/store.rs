//! The candidate's own rows: the steps before the written test, the personal-data form,
//! and what their centre sets (target level, written-test window).

use sqlx::AnyConnection;

use super::Profile;
use crate::db::{Db, StoreError};

/// When the candidate's steps were done.
#[derive(Clone, Copy, Debug, Default, sqlx::FromRow)]
pub struct StepTimes {
    /// The equipment check (ms since the epoch).
    pub system_check_at: Option<i64>,
    /// The identity step (ms since the epoch).
    pub identity_at: Option<i64>,
}

/// The steps of the candidate `user` (none: no step done yet).
pub async fn step_times(db: &Db, user: &str) -> Result<Option<StepTimes>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT system_check_at, identity_at FROM candidate_steps WHERE user_id = $1",
    )
    .bind(user)
    .fetch_optional(&db.pool)
    .await?)
}

/// Whether the candidate `user` filled in the personal-data form.
pub async fn has_profile(db: &Db, user: &str) -> Result<bool, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT user_id FROM candidate_profiles WHERE user_id = $1")
            .bind(user)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.is_some())
}

/// The candidate's written session.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Written {
    /// The session id.
    pub id: String,
    /// `in_progress` or `finished`.
    pub status: String,
}

/// The written session of the candidate `user`, once started.
pub async fn written(db: &Db, user: &str) -> Result<Option<Written>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, status FROM written_sessions WHERE candidate_id = $1")
            .bind(user)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// The stored personal-data form.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProfileRow {
    /// Birth name.
    pub birth_name: String,
    /// Usage name.
    pub usage_name: Option<String>,
    /// First names.
    pub first_names: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub birth_date: String,
    /// `F` or `M`.
    pub sex: String,
    /// Commune of birth.
    pub birth_commune: String,
    /// Country of birth.
    pub birth_country: String,
}

/// The personal-data form of the candidate `user`, once filled in.
pub async fn profile(db: &Db, user: &str) -> Result<Option<ProfileRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT birth_name, usage_name, first_names, birth_date, sex, birth_commune, birth_country \
         FROM candidate_profiles WHERE user_id = $1",
    )
    .bind(user)
    .fetch_optional(&db.pool)
    .await?)
}

/// Writes (or replaces) the personal-data form of the candidate `user`.
pub async fn save_profile(db: &Db, user: &str, p: &Profile, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO candidate_profiles (user_id, birth_name, usage_name, first_names, birth_date, sex, birth_commune, birth_country, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (user_id) DO UPDATE SET birth_name = excluded.birth_name, usage_name = excluded.usage_name, \
         first_names = excluded.first_names, birth_date = excluded.birth_date, sex = excluded.sex, \
         birth_commune = excluded.birth_commune, birth_country = excluded.birth_country, updated_at = excluded.updated_at",
    )
    .bind(user)
    .bind(&p.birth_name)
    .bind(&p.usage_name)
    .bind(&p.first_names)
    .bind(&p.birth_date)
    .bind(&p.sex)
    .bind(&p.birth_commune)
    .bind(&p.birth_country)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Records the equipment check of the candidate `user` (its measures as JSON).
pub async fn save_system_check(
    db: &Db,
    user: &str,
    json: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO candidate_steps (user_id, system_check_at, system_check_json) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET system_check_at = excluded.system_check_at, system_check_json = excluded.system_check_json",
    )
    .bind(user)
    .bind(now)
    .bind(json)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Sets the target level (`B1`, …) of the candidate `user`.
pub async fn set_target(db: &Db, user: &str, cefr: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE candidates SET cefr_target = $1 WHERE user_id = $2")
        .bind(cefr)
        .bind(user)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Sets the written-test window of the candidate `user`, on `conn` (the caller's
/// transaction, which also schedules its mail).
pub async fn set_window(
    conn: &mut AnyConnection,
    user: &str,
    opens_at: i64,
    closes_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE candidates SET written_opens_at = $1, written_closes_at = $2 WHERE user_id = $3",
    )
    .bind(opens_at)
    .bind(closes_at)
    .bind(user)
    .execute(conn)
    .await?;
    Ok(())
}
