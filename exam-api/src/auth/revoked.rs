//! Sign-ins revoked before their tokens expire (sign-out): kept in the database so that
//! a restart keeps refusing them, and in memory so that checking a token reads no row.
//!
//! One node's memory: with several nodes, revocations must also be broadcast (the
//! scale-out design carries them through Redis).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::db::{Db, StoreError};

/// Revoked sign-ins and when their last token expires (seconds since the epoch).
#[derive(Debug, Default)]
pub(super) struct Revoked {
    sids: Mutex<HashMap<String, i64>>,
}

impl Revoked {
    /// Adds a sign-in; forgets those whose tokens have all expired by `now`.
    pub(super) fn insert(&self, sid: &str, exp: i64, now: i64) {
        let mut sids = self.sids.lock().unwrap_or_else(|e| e.into_inner());
        sids.retain(|_, e| *e > now);
        if exp > now {
            sids.insert(sid.to_owned(), exp);
        }
    }

    /// True when the sign-in was revoked.
    pub(super) fn contains(&self, sid: &str) -> bool {
        self.sids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(sid)
    }
}

/// Stores a revocation (idempotent) and deletes those that no longer matter.
pub(super) async fn store(db: &Db, sid: &str, exp: i64) -> Result<(), StoreError> {
    let now = crate::db::now_ms() / 1000;
    sqlx::query("DELETE FROM revoked_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&db.pool)
        .await?;
    sqlx::query(
        "INSERT INTO revoked_sessions (session_id, expires_at) VALUES ($1, $2) \
         ON CONFLICT (session_id) DO UPDATE SET expires_at = excluded.expires_at",
    )
    .bind(sid)
    .bind(exp)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// A stored revocation.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct RevokedRow {
    /// The sign-in's id.
    pub(super) session_id: String,
    /// When its last token expires (seconds since the epoch).
    pub(super) expires_at: i64,
}

/// The revocations still in force at `now`.
pub(super) async fn load(db: &Db, now: i64) -> Result<Vec<RevokedRow>, StoreError> {
    Ok(
        sqlx::query_as("SELECT session_id, expires_at FROM revoked_sessions WHERE expires_at > $1")
            .bind(now)
            .fetch_all(&db.pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::Revoked;

    #[test]
    fn revocations_last_until_the_tokens_expire() {
        let r = Revoked::default();
        r.insert("a", 100, 10);
        r.insert("b", 50, 10);
        assert!(r.contains("a") && r.contains("b"));
        // Past b's expiry, the next insert forgets it; an already expired one is not kept.
        r.insert("c", 40, 60);
        assert!(r.contains("a"));
        assert!(!r.contains("b"));
        assert!(!r.contains("c"));
    }
}
