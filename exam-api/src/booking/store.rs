//! The booking's storage: evaluators' availability, the live interviews a slot must not
//! overlap, a candidate's booking and the rows its invitation is made of. Writes of
//! interview rows go through [`crate::interviews::store`], whose named constraints refuse
//! a double booking.

use sqlx::AnyConnection;

use super::Availability;
use crate::db::{Db, StoreError};
use crate::interviews::store::write_error;

/// The availability of `evaluator`, if set.
pub async fn availability(
    conn: &mut AnyConnection,
    evaluator: &str,
) -> Result<Option<Availability>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT spec_json FROM availability WHERE evaluator_id = $1")
            .bind(evaluator)
            .fetch_optional(conn)
            .await?;
    row.map(|(json,)| serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// Writes (or replaces) the availability of `evaluator`.
pub async fn save_availability(
    conn: &mut AnyConnection,
    evaluator: &str,
    a: &Availability,
    now: i64,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(a).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO availability (evaluator_id, spec_json, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (evaluator_id) DO UPDATE SET spec_json = excluded.spec_json, updated_at = excluded.updated_at",
    )
    .bind(evaluator)
    .bind(json)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// An evaluator's stored availability, not decoded yet (one that does not decode offers
/// no slot, and hides no other evaluator's).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoredAvailability {
    /// The evaluator.
    pub evaluator_id: String,
    /// The availability, as JSON.
    pub spec_json: String,
}

/// The availability of every evaluator of `centre`.
pub async fn centre_availability(
    db: &Db,
    centre: &str,
) -> Result<Vec<StoredAvailability>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT a.evaluator_id, a.spec_json FROM availability a JOIN users u ON u.id = a.evaluator_id \
         WHERE u.centre_id = $1 AND u.role = 'evaluator'",
    )
    .bind(centre)
    .fetch_all(&db.pool)
    .await?)
}

/// The time a live interview takes from its evaluator.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Busy {
    /// The evaluator.
    pub evaluator_id: String,
    /// Start (ms since the epoch).
    pub start_ms: i64,
    /// End (ms since the epoch).
    pub end_ms: i64,
}

/// The live (not cancelled) interviews that start in `[from_ms, to_ms)`.
pub async fn busy(db: &Db, from_ms: i64, to_ms: i64) -> Result<Vec<Busy>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT evaluator_id, scheduled_at AS start_ms, scheduled_at + duration_min * 60000 AS end_ms FROM interviews \
         WHERE status <> 'cancelled' AND scheduled_at >= $1 AND scheduled_at < $2",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&db.pool)
    .await?)
}

/// The centre of the candidate `user` (none: not a candidate).
pub async fn candidate_centre(db: &Db, user: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT centre_id FROM candidates WHERE user_id = $1")
            .bind(user)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(centre,)| centre))
}

/// The target level of the candidate `user` (none: not a candidate).
pub async fn candidate_target(
    conn: &mut AnyConnection,
    user: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT cefr_target FROM candidates WHERE user_id = $1")
            .bind(user)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(target,)| target))
}

/// The status of the candidate's written session (none: not started).
pub async fn written_status(db: &Db, candidate: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT status FROM written_sessions WHERE candidate_id = $1")
            .bind(candidate)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(status,)| status))
}

/// Whether `evaluator` is an evaluator of `centre`.
pub async fn is_centre_evaluator(
    conn: &mut AnyConnection,
    evaluator: &str,
    centre: &str,
) -> Result<bool, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM users WHERE id = $1 AND role = 'evaluator' AND centre_id = $2",
    )
    .bind(evaluator)
    .bind(centre)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// Whether a candidate may book again after missing an interview.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct Rebooking {
    /// How many interviews the candidate did not come to.
    pub missed: i64,
    /// Whether their centre lets them book again (`centres.rebook_after_no_show`, 0 or 1).
    pub allowed: i64,
}

/// The no-shows of `candidate` and the rebooking rule of `centre`.
pub async fn rebooking(
    conn: &mut AnyConnection,
    candidate: &str,
    centre: &str,
) -> Result<Rebooking, StoreError> {
    Ok(sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM interviews WHERE candidate_id = $1 AND status = 'no_show') AS missed, \
         (SELECT rebook_after_no_show FROM centres WHERE id = $2) AS allowed",
    )
    .bind(candidate)
    .bind(centre)
    .fetch_one(conn)
    .await?)
}

/// A live booking (neither cancelled nor missed) with its evaluator's name.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Booking {
    /// The interview id.
    pub id: String,
    /// Start (ms since the epoch).
    pub scheduled_at: i64,
    /// Length in minutes.
    pub duration_min: i64,
    /// The phase.
    pub status: String,
    /// The evaluator's first names.
    pub first_names: String,
    /// The evaluator's last name.
    pub last_name: String,
    /// The calendar invitation's sequence number.
    pub ics_sequence: i64,
    /// The candidate.
    pub candidate_id: String,
}

const BOOKING: &str = "SELECT i.id, i.scheduled_at, i.duration_min, i.status, u.first_names, u.last_name, i.ics_sequence, i.candidate_id \
     FROM interviews i JOIN users u ON u.id = i.evaluator_id";
const LIVE: &str = "i.status NOT IN ('cancelled', 'no_show')";

/// The live booking of `candidate`.
pub async fn booking_of(
    conn: &mut AnyConnection,
    candidate: &str,
) -> Result<Option<Booking>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BOOKING} WHERE i.candidate_id = $1 AND {LIVE}"
    )))
    .bind(candidate)
    .fetch_optional(conn)
    .await?)
}

/// The live booking `id`.
pub async fn booking(conn: &mut AnyConnection, id: &str) -> Result<Option<Booking>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BOOKING} WHERE i.id = $1 AND {LIVE}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Whose a live booking is, and its phase.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Owner {
    /// The candidate.
    pub candidate_id: String,
    /// Their centre.
    pub centre_id: String,
    /// The phase.
    pub status: String,
}

/// The owner of the live booking `id`.
pub async fn owner(db: &Db, id: &str) -> Result<Option<Owner>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT candidate_id, centre_id, status FROM interviews WHERE id = $1 AND status NOT IN ('cancelled', 'no_show')",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?)
}

/// Where a booking moves to.
#[derive(Clone, Debug)]
pub struct Move<'a> {
    /// The evaluator of the new slot.
    pub evaluator_id: &'a str,
    /// Its start (ms since the epoch).
    pub scheduled_at: i64,
    /// Its length in minutes.
    pub duration_min: i64,
    /// Whether the invitation's sequence number goes up (a confirmed booking's does).
    pub bump_sequence: bool,
}

/// Moves the booking `id`, if it still is in phase `status`; false when it changed
/// meanwhile. A constraint of the interviews refuses a taken slot
/// ([`crate::interviews::store::write_error`]).
pub async fn move_booking(
    conn: &mut AnyConnection,
    id: &str,
    status: &str,
    to: &Move<'_>,
) -> Result<bool, StoreError> {
    let moved = sqlx::query(
        "UPDATE interviews SET evaluator_id = $1, scheduled_at = $2, duration_min = $3, ics_sequence = ics_sequence + $4 \
         WHERE id = $5 AND status = $6",
    )
    .bind(to.evaluator_id)
    .bind(to.scheduled_at)
    .bind(to.duration_min)
    .bind(i64::from(to.bump_sequence))
    .bind(id)
    .bind(status)
    .execute(conn)
    .await
    .map_err(write_error)?;
    Ok(moved.rows_affected() == 1)
}

/// Raises the invitation's sequence number of the interview `id` by `by`.
pub async fn bump_sequence(conn: &mut AnyConnection, id: &str, by: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE interviews SET ics_sequence = ics_sequence + $1 WHERE id = $2")
        .bind(by)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Notes that the candidate `user` books later.
pub async fn book_later(db: &Db, user: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE candidates SET booking_later_at = $1 WHERE user_id = $2")
        .bind(now)
        .bind(user)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// What an interview's invitation is made of.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InviteRow {
    /// Start (ms since the epoch).
    pub scheduled_at: i64,
    /// Length in minutes.
    pub duration_min: i64,
    /// The invitation's sequence number.
    pub ics_sequence: i64,
    /// The candidate.
    pub candidate_id: String,
    /// The candidate's first names.
    pub candidate_first_names: String,
    /// The candidate's last name.
    pub candidate_last_name: String,
    /// The candidate's e-mail.
    pub candidate_email: String,
    /// The evaluator.
    pub evaluator_id: String,
    /// The evaluator's first names.
    pub evaluator_first_names: String,
    /// The evaluator's last name.
    pub evaluator_last_name: String,
    /// The evaluator's e-mail.
    pub evaluator_email: String,
}

/// The invitation's rows of the interview `id`.
pub async fn invite(conn: &mut AnyConnection, id: &str) -> Result<Option<InviteRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT i.scheduled_at, i.duration_min, i.ics_sequence, \
         c.id AS candidate_id, c.first_names AS candidate_first_names, c.last_name AS candidate_last_name, c.email AS candidate_email, \
         e.id AS evaluator_id, e.first_names AS evaluator_first_names, e.last_name AS evaluator_last_name, e.email AS evaluator_email \
         FROM interviews i JOIN users c ON c.id = i.candidate_id JOIN users e ON e.id = i.evaluator_id WHERE i.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}
