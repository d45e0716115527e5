//! Single-use sign-in links. The link carries 256 random bits; the database keeps only
//! their SHA-256, so a leaked database does not leak working links.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::db::{Db, StoreError};

/// Why a link does not sign anyone in (the handlers answer each its own way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// No such link.
    Unknown,
    /// It was used already.
    Used,
    /// Its time is over.
    Expired,
    /// A newer link was sent to the same person; only the newest one works.
    Replaced,
}

fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a link token for a user, valid `ttl_ms` from `now_ms`.
pub async fn create_link(
    db: &Db,
    user_id: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<String, StoreError> {
    let mut conn = db.pool.acquire().await?;
    create_link_in(&mut conn, user_id, now_ms, ttl_ms).await
}

/// Creates a link token inside a transaction (or on any connection).
pub async fn create_link_in(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<String, StoreError> {
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    // The newest link is the only one that works: older unused ones are replaced.
    sqlx::query(
        "UPDATE sign_in_links SET replaced_at = $1 \
         WHERE user_id = $2 AND used_at IS NULL AND replaced_at IS NULL AND expires_at > $1",
    )
    .bind(now_ms)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO sign_in_links (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash(&token))
        .bind(user_id)
        .bind(now_ms)
        .bind(now_ms + ttl_ms)
        .execute(&mut *conn)
        .await?;
    Ok(token)
}

/// A link's row.
#[derive(sqlx::FromRow)]
struct LinkRow {
    user_id: String,
    expires_at: i64,
    used_at: Option<i64>,
    replaced_at: Option<i64>,
}

impl LinkRow {
    /// Whose it is, if it signs in at `now_ms`.
    fn status(self, now_ms: i64) -> Result<String, LinkError> {
        match (self.used_at, self.replaced_at) {
            (Some(_), _) => Err(LinkError::Used),
            (None, Some(_)) => Err(LinkError::Replaced),
            (None, None) if self.expires_at <= now_ms => Err(LinkError::Expired),
            (None, None) => Ok(self.user_id),
        }
    }
}

#[derive(sqlx::FromRow)]
struct UserIdRow {
    user_id: String,
}

/// Whether a link would sign in now, without using it (for the link's landing page).
pub async fn link_status(
    db: &Db,
    token: &str,
    now_ms: i64,
) -> Result<Result<String, LinkError>, StoreError> {
    let row: Option<LinkRow> = sqlx::query_as(
        "SELECT user_id, expires_at, used_at, replaced_at FROM sign_in_links WHERE token_hash = $1",
    )
    .bind(hash(token))
    .fetch_optional(&db.pool)
    .await?;
    Ok(match row {
        None => Err(LinkError::Unknown),
        Some(l) => l.status(now_ms),
    })
}

/// Uses a link: exactly one concurrent caller gets the user id, the others an error.
pub async fn consume_link(
    db: &Db,
    token: &str,
    now_ms: i64,
) -> Result<Result<String, LinkError>, StoreError> {
    let h = hash(token);
    let done = sqlx::query(
        "UPDATE sign_in_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND replaced_at IS NULL AND expires_at > $1",
    )
    .bind(now_ms)
    .bind(&h)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 1 {
        let row: UserIdRow =
            sqlx::query_as("SELECT user_id FROM sign_in_links WHERE token_hash = $1")
                .bind(&h)
                .fetch_one(&db.pool)
                .await?;
        return Ok(Ok(row.user_id));
    }
    Ok(match link_status(db, token, now_ms).await? {
        Ok(_) => Err(LinkError::Used),
        Err(e) => Err(e),
    })
}
