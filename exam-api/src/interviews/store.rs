//! The interviews' storage: one row per interview, its phase moved only through
//! [`advance`] (which asks [`Phase::next`], writes the phase with the step's time under a
//! compare-and-set on the previous phase, and appends to `interview_audit`).

use sqlx::AnyConnection;

use crate::db::{Db, StoreError};
use crate::error::ApiError;
use exam_core::interview::{Closure, Event, Lifecycle, Phase, Refusal, Slot, UnknownPhase};

/// An interview row, as the lifecycle needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Record {
    /// Id (also the room's name).
    pub id: String,
    /// Centre.
    pub centre_id: String,
    /// Candidate.
    pub candidate_id: String,
    /// Evaluator.
    pub evaluator_id: String,
    /// Scheduled start (ms since the epoch).
    pub scheduled_at: i64,
    /// Length in minutes.
    pub duration_min: i64,
    /// The stored phase ([`Record::phase`]).
    pub status: String,
    /// When the evaluator started it.
    pub started_at: Option<i64>,
    /// When it ended (or was closed).
    pub ended_at: Option<i64>,
    /// `held_without_recording` or `no_show` when the evaluator (or the sweep) closed it.
    pub closure: Option<String>,
    /// The evaluator's reason for that closure.
    pub closure_reason: Option<String>,
}

const COLUMNS: &str = "id, centre_id, candidate_id, evaluator_id, scheduled_at, duration_min, status, started_at, ended_at, closure, closure_reason";

impl Record {
    /// The phase.
    pub fn phase(&self) -> Result<Phase, UnknownPhase> {
        self.status.parse()
    }

    /// The slot's times under `rules`, and whether it ended too soon to be scored.
    pub fn slot(&self, rules: &Lifecycle) -> Slot {
        let ended_too_short = matches!(
            (self.phase(), self.closure()),
            (Ok(Phase::Ended), Some(Closure::Held { started_at, ended_at }))
                if ended_at - started_at < rules.min_in_progress_ms
        );
        Slot {
            start_ms: self.scheduled_at,
            duration_ms: self.duration_min * 60_000,
            no_show_grace_ms: rules.no_show_grace_ms,
            ended_too_short,
        }
    }

    /// How an ended interview was closed.
    pub fn closure(&self) -> Option<Closure> {
        match (self.closure.as_deref(), self.started_at, self.ended_at) {
            (Some("held_without_recording"), _, _) => Some(Closure::WithoutRecording),
            (None, Some(started_at), Some(ended_at)) => Some(Closure::Held {
                started_at,
                ended_at,
            }),
            _ => None,
        }
    }
}

/// Why [`advance`] did not move an interview.
#[derive(Debug, thiserror::Error)]
pub enum AdvanceError {
    /// No such interview.
    #[error("no such interview")]
    NotFound,
    /// The lifecycle refuses the event.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Another request moved it first (the compare-and-set failed).
    #[error("this interview changed meanwhile; reload")]
    Changed,
    /// The stored phase is unknown.
    #[error(transparent)]
    Unknown(#[from] UnknownPhase),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] StoreError),
}

impl From<sqlx::Error> for AdvanceError {
    fn from(e: sqlx::Error) -> Self {
        AdvanceError::Db(e.into())
    }
}

impl From<AdvanceError> for ApiError {
    fn from(e: AdvanceError) -> Self {
        match e {
            AdvanceError::NotFound => ApiError::NotFound("no such interview".to_owned()),
            AdvanceError::Refused(r) => ApiError::refused(r.code(), r.to_string()),
            AdvanceError::Changed => ApiError::refused("changed", e.to_string()),
            AdvanceError::Unknown(u) => ApiError::Internal(u.to_string()),
            AdvanceError::Db(e) => e.into(),
        }
    }
}

/// The interview `id`.
pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<Record>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM interviews WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// The interview `id`, from the pool.
pub async fn get(db: &Db, id: &str) -> Result<Option<Record>, StoreError> {
    let mut conn = db.pool.acquire().await?;
    load(&mut conn, id).await
}

/// What moved: the phase before and after, and the row as it is now.
#[derive(Clone, Debug)]
pub struct Advanced {
    /// The phase before.
    pub from: Phase,
    /// The phase after (the same when the event changed nothing, e.g. a second knock).
    pub to: Phase,
    /// The row after the change.
    pub record: Record,
}

/// Applies `event` to the interview `id` at `now`, on `conn` (a write transaction the
/// caller commits): the phase, the step's time, the closure and its reason, and an
/// audit entry by `actor` (none for the server's own sweep).
pub async fn advance(
    conn: &mut AnyConnection,
    id: &str,
    event: Event,
    actor: Option<&str>,
    reason: Option<&str>,
    rules: &Lifecycle,
    now: i64,
) -> Result<Advanced, AdvanceError> {
    let mut record = load(&mut *conn, id).await?.ok_or(AdvanceError::NotFound)?;
    let from = record.phase()?;
    let to = from.next(event, &record.slot(rules), now)?;
    // A second knock changes nothing; a closure is written even when the phase stays.
    if to == from && event != Event::CloseWithoutRecording {
        return Ok(Advanced { from, to, record });
    }
    let (column, closure) = match event {
        Event::Confirm => ("confirmed_at", None),
        Event::Arrive => ("arrived_at", None),
        Event::IdChecked => ("id_checked_at", None),
        Event::Start => ("started_at", None),
        Event::End => ("ended_at", None),
        Event::NoShow => ("ended_at", Some("no_show")),
        Event::CloseWithoutRecording => ("ended_at", Some("held_without_recording")),
        Event::Cancel => ("cancelled_at", None),
    };
    let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE interviews SET status = $1, closure = COALESCE($2, closure), closure_reason = COALESCE($3, closure_reason), {column} = COALESCE({column}, $5) \
         WHERE id = $4 AND status = $6"
    )))
    .bind(to.as_str())
    .bind(closure)
    .bind(reason)
    .bind(id)
    .bind(now)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    if changed.rows_affected() != 1 {
        return Err(AdvanceError::Changed);
    }
    sqlx::query(
        "INSERT INTO interview_audit (interview_id, seq, actor_id, action, from_status, to_status, reason, at) \
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7 FROM interview_audit WHERE interview_id = $1",
    )
    .bind(id)
    .bind(actor)
    .bind(event.as_str())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    record = load(&mut *conn, id).await?.ok_or(AdvanceError::NotFound)?;
    Ok(Advanced { from, to, record })
}

/// [`advance`] in a transaction of its own.
pub async fn advance_now(
    db: &Db,
    id: &str,
    event: Event,
    actor: Option<&str>,
    reason: Option<&str>,
    rules: &Lifecycle,
    now: i64,
) -> Result<Advanced, AdvanceError> {
    let mut tx = db.begin_write().await?;
    let out = advance(&mut tx, id, event, actor, reason, rules, now).await?;
    tx.commit().await?;
    Ok(out)
}

/// An entry of an interview's audit log.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Who (none: the server itself, e.g. the no-show sweep).
    pub actor_id: Option<String>,
    /// The event (`confirm`, `arrive`, `id_checked`, `start`, `end`, `no_show`,
    /// `held_without_recording`, `cancel`).
    pub action: String,
    /// The phase before.
    pub from_status: String,
    /// The phase after.
    pub to_status: String,
    /// The reason given.
    pub reason: Option<String>,
    /// When (ms since the epoch).
    pub at: i64,
}

/// The audit log of an interview, oldest first.
pub async fn audit(db: &Db, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT actor_id, action, from_status, to_status, reason, at FROM interview_audit WHERE interview_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?)
}

/// Records as no-shows the interviews whose slot is over (plus the grace period) and
/// whose candidate never arrived; returns how many.
pub async fn sweep_no_shows(db: &Db, rules: &Lifecycle, now: i64) -> Result<usize, AdvanceError> {
    let due: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM interviews WHERE status IN ('held', 'confirmed', 'scheduled') \
         AND scheduled_at + duration_min * 60000 + $1 <= $2",
    )
    .bind(rules.no_show_grace_ms)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let mut n = 0;
    for (id,) in due {
        match advance_now(
            db,
            &id,
            Event::NoShow,
            None,
            Some("the candidate did not come to the waiting room"),
            rules,
            now,
        )
        .await
        {
            Ok(_) => n += 1,
            // Someone moved it meanwhile: their step stands.
            Err(AdvanceError::Changed | AdvanceError::Refused(_)) => {}
            // One row failing does not hold the others back; it is tried again next time.
            Err(e) => tracing::warn!(interview = %id, error = %e, "no-show not recorded"),
        }
    }
    Ok(n)
}

/// An interview row with what its API view adds: the target level and whether it is
/// scored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct View {
    /// The row.
    #[sqlx(flatten)]
    pub record: Record,
    /// The candidate's target level (`B1`, …).
    pub target_cefr: String,
    /// How many oral scores it has (0 or 1).
    pub scored: i64,
}

const VIEW: &str = "SELECT i.id, i.centre_id, i.candidate_id, i.evaluator_id, i.scheduled_at, i.duration_min, i.status, \
    i.started_at, i.ended_at, i.closure, i.closure_reason, i.target_cefr, \
    (SELECT COUNT(*) FROM oral_scores o WHERE o.interview_id = i.id) AS scored FROM interviews i";

/// Whose interviews [`list`] returns.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// Those run by this evaluator.
    Evaluator(&'a str),
    /// Those of this candidate.
    Candidate(&'a str),
    /// Those of this centre.
    Centre(&'a str),
    /// All of them.
    All,
}

/// The interview `id` as the API shows it.
pub async fn view(db: &Db, id: &str) -> Result<Option<View>, StoreError> {
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{VIEW} WHERE i.id = $1")))
            .bind(id)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// The interviews of `scope`, by start time.
pub async fn list(db: &Db, scope: Scope<'_>) -> Result<Vec<View>, StoreError> {
    let (filter, arg) = match scope {
        Scope::Evaluator(id) => ("i.evaluator_id = $1", id),
        Scope::Candidate(id) => ("i.candidate_id = $1", id),
        Scope::Centre(id) => ("i.centre_id = $1", id),
        Scope::All => ("$1 = $1", ""),
    };
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{VIEW} WHERE {filter} ORDER BY i.scheduled_at"
    )))
    .bind(arg)
    .fetch_all(&db.pool)
    .await?)
}

/// The centre of the evaluator `id` (none: no such evaluator, or one of no centre).
pub async fn evaluator_centre(db: &Db, id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT centre_id FROM users WHERE id = $1 AND role = 'evaluator'")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.and_then(|(centre,)| centre))
}

/// An interview to write.
#[derive(Clone, Debug)]
pub struct NewInterview<'a> {
    /// Id.
    pub id: &'a str,
    /// Centre.
    pub centre_id: &'a str,
    /// Candidate.
    pub candidate_id: &'a str,
    /// Evaluator.
    pub evaluator_id: &'a str,
    /// Start (ms since the epoch).
    pub scheduled_at: i64,
    /// Length in minutes.
    pub duration_min: i64,
    /// The candidate's target level.
    pub target_cefr: &'a str,
    /// The first phase (`held`, `confirmed` or `scheduled`).
    pub status: &'a str,
    /// When it is created.
    pub created_at: i64,
    /// When it was confirmed, if it is born confirmed.
    pub confirmed_at: Option<i64>,
}

/// The names of the constraints that refuse an interview row: the candidate's one live
/// interview, the evaluator's start, the evaluator's time (an exclusion constraint on
/// PostgreSQL, a trigger on SQLite).
pub const ONE_PER_CANDIDATE: &str = "interviews_one_per_candidate";
/// See [`ONE_PER_CANDIDATE`].
pub const ONE_PER_SLOT: &str = "interviews_one_per_slot";
/// See [`ONE_PER_CANDIDATE`].
pub const NO_OVERLAP: &str = "interviews_no_overlap";

/// The error of a write of an interview row: [`StoreError::Constraint`] naming
/// [`ONE_PER_CANDIDATE`], [`ONE_PER_SLOT`] or [`NO_OVERLAP`] when it broke one.
pub fn write_error(e: sqlx::Error) -> StoreError {
    let named = [
        (ONE_PER_CANDIDATE, "interviews.candidate_id"),
        (
            ONE_PER_SLOT,
            "interviews.evaluator_id, interviews.scheduled_at",
        ),
        (NO_OVERLAP, ""),
    ]
    .into_iter()
    .find(|(name, columns)| crate::db::violates(&e, name, columns));
    match named {
        Some((constraint, _)) => StoreError::Constraint {
            constraint,
            source: e,
        },
        None => StoreError::Db(e),
    }
}

/// Writes a new interview, on `conn` (the caller's write transaction).
pub async fn insert(conn: &mut AnyConnection, new: &NewInterview<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO interviews (id, centre_id, candidate_id, evaluator_id, scheduled_at, duration_min, target_cefr, status, created_at, confirmed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new.id)
    .bind(new.centre_id)
    .bind(new.candidate_id)
    .bind(new.evaluator_id)
    .bind(new.scheduled_at)
    .bind(new.duration_min)
    .bind(new.target_cefr)
    .bind(new.status)
    .bind(new.created_at)
    .bind(new.confirmed_at)
    .execute(conn)
    .await
    .map_err(write_error)?;
    Ok(())
}

/// Takes the evaluator's booking lock for the rest of the transaction on PostgreSQL
/// (SQLite's write transaction already serialises bookings).
pub async fn lock_evaluator(
    conn: &mut AnyConnection,
    backend: crate::db::Backend,
    evaluator: &str,
) -> Result<(), StoreError> {
    if backend == crate::db::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(evaluator)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// How many live interviews of the evaluator (other than `except`) overlap
/// `[start, end)`.
pub async fn overlapping(
    conn: &mut AnyConnection,
    evaluator: &str,
    start: i64,
    end: i64,
    except: Option<&str>,
) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM interviews WHERE evaluator_id = $1 AND status <> 'cancelled' AND id <> $2 \
         AND scheduled_at < $3 AND scheduled_at + duration_min * 60000 > $4",
    )
    .bind(evaluator)
    .bind(except.unwrap_or(""))
    .bind(end)
    .bind(start)
    .fetch_one(conn)
    .await?;
    Ok(n)
}
