//! The accounts' storage: centres, users and candidates. Every function returns a
//! [`StoreError`]; the handlers decide what the client is answered.

use sqlx::{Any, AnyConnection, AssertSqlSafe, Executor};

use crate::auth::Role;
use crate::db::{Db, StoreError};

/// The unique key on `users.email` (PostgreSQL's name for it).
pub(crate) const EMAIL_TAKEN: &str = "users_email_key";

/// A training centre's row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CentreRow {
    /// Id.
    pub(crate) id: String,
    /// Display name.
    pub(crate) name: String,
    /// 1 when a candidate who did not come may book again themself.
    pub(crate) rebook_after_no_show: i64,
}

/// Sets a centre's rebooking rule; false when there is no such centre.
pub(crate) async fn set_rebook_after_no_show(
    db: &Db,
    centre: &str,
    rebook: bool,
) -> Result<bool, StoreError> {
    let changed = sqlx::query("UPDATE centres SET rebook_after_no_show = $1 WHERE id = $2")
        .bind(i64::from(rebook))
        .bind(centre)
        .execute(&db.pool)
        .await?;
    Ok(changed.rows_affected() == 1)
}

/// Writes a new centre (rebooking allowed, the column's default).
pub(crate) async fn insert_centre(
    db: &Db,
    id: &str,
    name: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO centres (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(name)
        .bind(now_ms)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A centre, if it exists.
pub(crate) async fn centre(db: &Db, id: &str) -> Result<Option<CentreRow>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, name, rebook_after_no_show FROM centres WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?,
    )
}

#[derive(sqlx::FromRow)]
struct NameRow {
    name: String,
}

/// A centre's name, if it exists (on the caller's connection or transaction).
pub(crate) async fn centre_name(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<NameRow> = sqlx::query_as("SELECT name FROM centres WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.name))
}

/// Whether a centre exists.
pub(crate) async fn centre_exists(db: &Db, id: &str) -> Result<bool, StoreError> {
    let mut conn = db.pool.acquire().await?;
    Ok(centre_name(&mut conn, id).await?.is_some())
}

/// A new account.
pub(crate) struct NewUser<'a> {
    /// Id.
    pub(crate) id: &'a str,
    /// Its centre (none for platform admins).
    pub(crate) centre: Option<&'a str>,
    /// Its role.
    pub(crate) role: Role,
    /// E-mail, normalised.
    pub(crate) email: &'a str,
    /// First names.
    pub(crate) first_names: &'a str,
    /// Last name.
    pub(crate) last_name: &'a str,
    /// The argon2 hash of its password, if it has one.
    pub(crate) password_hash: Option<&'a str>,
    /// When it is created (ms since the epoch).
    pub(crate) created_at: i64,
}

/// Writes an account; an e-mail already used breaks [`EMAIL_TAKEN`].
pub(crate) async fn insert_user<'e, E>(conn: E, user: &NewUser<'_>) -> Result<(), StoreError>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO users (id, centre_id, role, email, first_names, last_name, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(user.id)
    .bind(user.centre)
    .bind(user.role.as_str())
    .bind(user.email)
    .bind(user.first_names)
    .bind(user.last_name)
    .bind(user.password_hash)
    .bind(user.created_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::on_constraint(e, EMAIL_TAKEN, "users.email"))?;
    Ok(())
}

/// A candidate's part of an account.
pub(crate) struct NewCandidate<'a> {
    /// The account's id.
    pub(crate) user_id: &'a str,
    /// Centre.
    pub(crate) centre: &'a str,
    /// The CEFR level targeted (`B2`).
    pub(crate) cefr_target: &'a str,
    /// Time accommodation multiplier.
    pub(crate) time_multiplier: f64,
    /// Who registered them.
    pub(crate) created_by: &'a str,
}

/// Writes a candidate's row, on the caller's transaction.
pub(crate) async fn insert_candidate(
    conn: &mut AnyConnection,
    c: &NewCandidate<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO candidates (user_id, centre_id, cefr_target, time_multiplier, created_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(c.user_id)
    .bind(c.centre)
    .bind(c.cefr_target)
    .bind(c.time_multiplier)
    .bind(c.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// A candidate's account and candidate rows.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CandidateRow {
    /// Account id.
    pub(crate) id: String,
    /// Centre.
    pub(crate) centre_id: String,
    /// E-mail.
    pub(crate) email: String,
    /// First names.
    pub(crate) first_names: String,
    /// Last name.
    pub(crate) last_name: String,
    /// The CEFR level targeted, as stored.
    pub(crate) cefr_target: String,
    /// Time accommodation multiplier.
    pub(crate) time_multiplier: f64,
}

const CANDIDATE_SELECT: &str = "SELECT u.id, c.centre_id, u.email, u.first_names, u.last_name, c.cefr_target, c.time_multiplier \
     FROM users u JOIN candidates c ON c.user_id = u.id";

/// The candidates of a centre (of every centre when `None`), by name.
pub(crate) async fn candidates(
    db: &Db,
    centre: Option<&str>,
) -> Result<Vec<CandidateRow>, StoreError> {
    let rows = match centre {
        None => {
            sqlx::query_as(AssertSqlSafe(format!(
                "{CANDIDATE_SELECT} ORDER BY u.last_name, u.first_names"
            )))
            .fetch_all(&db.pool)
            .await?
        }
        Some(centre) => {
            sqlx::query_as(AssertSqlSafe(format!(
                "{CANDIDATE_SELECT} WHERE c.centre_id = $1 ORDER BY u.last_name, u.first_names"
            )))
            .bind(centre)
            .fetch_all(&db.pool)
            .await?
        }
    };
    Ok(rows)
}

/// A candidate, if the account exists and is one.
pub(crate) async fn candidate(db: &Db, id: &str) -> Result<Option<CandidateRow>, StoreError> {
    Ok(
        sqlx::query_as(AssertSqlSafe(format!("{CANDIDATE_SELECT} WHERE u.id = $1")))
            .bind(id)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// An account's names.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct NamesRow {
    /// First names.
    pub(crate) first_names: String,
    /// Last name.
    pub(crate) last_name: String,
}

/// An account's names, if it exists.
pub(crate) async fn names(db: &Db, user: &str) -> Result<Option<NamesRow>, StoreError> {
    Ok(
        sqlx::query_as("SELECT first_names, last_name FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(&db.pool)
            .await?,
    )
}
