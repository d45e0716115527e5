//! Storage: one sqlx `AnyPool` over SQLite (the default) or PostgreSQL.
//!
//! Queries are written once, with `$1`-style parameters that both databases accept,
//! and use only types both map the same way (`BIGINT`/`INTEGER` as `i64`, `TEXT`,
//! `DOUBLE PRECISION`/`REAL` as `f64`). Times are milliseconds since the Unix epoch.
//! Each database has its own migrations (`exam-api/migrations/{sqlite,postgres}`),
//! embedded in the binary and run at start.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a pool talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The connection pool and what it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    /// The pool.
    pub pool: AnyPool,
    /// The database behind it.
    pub backend: Backend,
}

/// The database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The URL names neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL scheme (expected sqlite: or postgres:)")]
    Scheme,
    /// Connecting failed.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`) and runs the migrations.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::Scheme);
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
            }
            Backend::Postgres => options.max_connections(16).connect(url).await,
        }
        .map_err(DbError::Connect)?;
        let db = Db { pool, backend };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Begins a transaction that will write: on SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes waits for its
    /// turn instead of failing when another writer got in between.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Answers when the database does (the health check's `SELECT 1`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch, from the system clock (I/O shells only).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What a store function can fail with. It keeps the database's error as its source,
/// names the constraint a write broke (so that a handler answers `slot_taken` or
/// `already_revoked` from the constraint, not from "some unique violation"), and tells a
/// row that does not decode from a failed query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The query failed (connection, syntax, a constraint not named by the caller).
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A write broke the named constraint.
    #[error("constraint {constraint} refused the write")]
    Constraint {
        /// The constraint's name (an index, an exclusion constraint, a trigger's message).
        constraint: &'static str,
        /// The database's error.
        #[source]
        source: sqlx::Error,
    },
    /// A stored value does not decode (a hash that is not hex, an unknown state).
    #[error("a stored row is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Maps a write's error to [`StoreError::Constraint`] when it broke `constraint`
    /// (see [`violates`]), to [`StoreError::Db`] otherwise — realworld's `on_constraint`.
    pub fn on_constraint(e: sqlx::Error, constraint: &'static str, sqlite_columns: &str) -> Self {
        if violates(&e, constraint, sqlite_columns) {
            StoreError::Constraint {
                constraint,
                source: e,
            }
        } else {
            StoreError::Db(e)
        }
    }
}

/// True when the error is a unique-key violation (mapped to 409 by the API).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// True when a write broke the named constraint: a unique index or an exclusion
/// constraint on PostgreSQL (named by the server), a unique index on SQLite (named by
/// its `table.column` list in the message, given as `sqlite_columns`), or a trigger that
/// raises the constraint's name (SQLite's stand-in for exclusion constraints).
pub fn violates(e: &sqlx::Error, name: &str, sqlite_columns: &str) -> bool {
    let sqlx::Error::Database(d) = e else {
        return false;
    };
    if d.constraint() == Some(name) {
        return true;
    }
    let message = d.message();
    message == name
        || (!sqlite_columns.is_empty()
            && d.is_unique_violation()
            && message
                .strip_prefix("UNIQUE constraint failed: ")
                .is_some_and(|cols| cols == sqlite_columns))
}
