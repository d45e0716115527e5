//! The sign-in endpoints' storage: accounts' roles, credentials and details. Every
//! function returns a [`StoreError`]; the handlers decide what the client is answered.

use super::Role;
use crate::db::{Db, StoreError};

/// An account as a session needs it.
#[derive(Debug)]
pub(crate) struct UserRow {
    /// Id.
    pub(crate) id: String,
    /// Role.
    pub(crate) role: Role,
    /// Training centre, if any.
    pub(crate) centre_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct UserRecord {
    id: String,
    role: String,
    centre_id: Option<String>,
}

fn role(stored: &str) -> Result<Role, StoreError> {
    Role::parse(stored).ok_or_else(|| StoreError::Corrupt(format!("unknown role {stored}")))
}

/// An account, if it exists.
pub(crate) async fn user(db: &Db, id: &str) -> Result<Option<UserRow>, StoreError> {
    let row: Option<UserRecord> =
        sqlx::query_as("SELECT id, role, centre_id FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    row.map(|r| {
        Ok(UserRow {
            role: role(&r.role)?,
            id: r.id,
            centre_id: r.centre_id,
        })
    })
    .transpose()
}

/// A staff member's credentials.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CredentialsRow {
    /// Account id.
    pub(crate) id: String,
    /// The argon2 hash of their password, if they have one.
    pub(crate) password_hash: Option<String>,
}

/// The credentials of the staff member with this e-mail (never a candidate's).
pub(crate) async fn staff_credentials(
    db: &Db,
    email: &str,
) -> Result<Option<CredentialsRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, password_hash FROM users WHERE email = $1 AND role <> 'candidate'",
    )
    .bind(email)
    .fetch_optional(&db.pool)
    .await?)
}

/// An account's own details.
#[derive(Debug)]
pub(crate) struct AccountRow {
    /// Id.
    pub(crate) id: String,
    /// Role.
    pub(crate) role: Role,
    /// Training centre, if any.
    pub(crate) centre_id: Option<String>,
    /// First names.
    pub(crate) first_names: String,
    /// Last name.
    pub(crate) last_name: String,
    /// E-mail.
    pub(crate) email: String,
}

#[derive(sqlx::FromRow)]
struct AccountRecord {
    id: String,
    role: String,
    centre_id: Option<String>,
    first_names: String,
    last_name: String,
    email: String,
}

/// An account's details, if it exists.
pub(crate) async fn account(db: &Db, id: &str) -> Result<Option<AccountRow>, StoreError> {
    let row: Option<AccountRecord> = sqlx::query_as(
        "SELECT id, role, centre_id, first_names, last_name, email FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(AccountRow {
            role: role(&r.role)?,
            id: r.id,
            centre_id: r.centre_id,
            first_names: r.first_names,
            last_name: r.last_name,
            email: r.email,
        })
    })
    .transpose()
}

#[derive(sqlx::FromRow)]
struct PasswordRecord {
    password_hash: Option<String>,
}

/// An existing account's password hash (none for link-only accounts).
pub(crate) async fn password_hash(db: &Db, id: &str) -> Result<Option<String>, StoreError> {
    let row: PasswordRecord = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await?;
    Ok(row.password_hash)
}

/// Sets an account's password hash.
pub(crate) async fn set_password_hash(db: &Db, id: &str, hash: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
