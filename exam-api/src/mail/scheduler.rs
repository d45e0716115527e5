//! Mails due later, sent exactly once: a due row is claimed by marking it sent in the
//! same transaction that writes the mail to the outbox, so two processes sharing a
//! database — or one process restarted — never send it twice, and a crash before the
//! commit leaves it due.
//!
//! [`run_due`] takes `now`: the binary calls it every few seconds with the clock; tests
//! call it with virtual time.

use chrono::DateTime;

use crate::accounts::new_id;
use crate::auth::create_link_in;
use crate::db::Db;
use crate::error::ApiError;

/// What a due mail needs from the server's configuration.
#[derive(Clone, Debug)]
pub struct Context {
    /// Base of the links in mails.
    pub public_url: String,
    /// Lifetime of the sign-in links in mails.
    pub link_ttl_ms: i64,
}

/// Schedules the reminder of an interview at `due_at` (replacing any pending one).
pub async fn schedule_reminder(
    conn: &mut sqlx::AnyConnection,
    interview_id: &str,
    candidate_id: &str,
    due_at: i64,
) -> Result<(), ApiError> {
    let now = crate::db::now_ms();
    schedule(conn, "reminder", candidate_id, interview_id, due_at, now).await
}

/// Schedules a mail of `kind` about `ref_id` at `due_at`, replacing any pending one
/// about the same thing (cancelled as of `now`).
pub async fn schedule(
    conn: &mut sqlx::AnyConnection,
    kind: &str,
    user_id: &str,
    ref_id: &str,
    due_at: i64,
    now: i64,
) -> Result<(), ApiError> {
    cancel(conn, ref_id, now).await?;
    sqlx::query("INSERT INTO scheduled_mails (id, kind, user_id, ref_id, due_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(kind)
        .bind(user_id)
        .bind(ref_id)
        .bind(due_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Cancels the pending scheduled mails about `ref_id`.
pub async fn cancel(
    conn: &mut sqlx::AnyConnection,
    ref_id: &str,
    now: i64,
) -> Result<(), ApiError> {
    sqlx::query("UPDATE scheduled_mails SET cancelled_at = $1 WHERE ref_id = $2 AND sent_at IS NULL AND cancelled_at IS NULL")
        .bind(now)
        .bind(ref_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sends every scheduled mail due at `now`; returns how many this call sent.
pub async fn run_due(db: &Db, ctx: &Context, now: i64) -> Result<usize, ApiError> {
    let due: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, kind, user_id, ref_id FROM scheduled_mails \
         WHERE sent_at IS NULL AND cancelled_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT 100",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let mut sent = 0;
    for (id, kind, user_id, ref_id) in due {
        // One failing mail must not hold up the others: log it and go on.
        match send_one(db, ctx, &id, &kind, &user_id, &ref_id, now).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(scheduled = %id, kind = %kind, error = %e, "scheduled mail not sent")
            }
        }
    }
    Ok(sent)
}

/// Sends one due mail; false when another process sent it or there was nothing to send.
async fn send_one(
    db: &Db,
    ctx: &Context,
    id: &str,
    kind: &str,
    user_id: &str,
    ref_id: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let mut tx = db.begin_write().await?;
    // The claim: only one transaction can move this row from unsent to sent.
    let claimed = sqlx::query("UPDATE scheduled_mails SET sent_at = $1 WHERE id = $2 AND sent_at IS NULL AND cancelled_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if claimed.rows_affected() != 1 {
        return Ok(false);
    }
    match kind {
        "reminder" => {
            if !reminder(&mut tx, ctx, user_id, ref_id, now).await? {
                // The interview is gone or over: nothing to remind.
                tx.rollback().await?;
                let mut conn = db.pool.acquire().await?;
                cancel(&mut conn, ref_id, now).await?;
                return Ok(false);
            }
        }
        "written_available" => written_available(&mut tx, ctx, user_id, now).await?,
        other => {
            return Err(ApiError::Internal(format!(
                "unknown scheduled mail kind {other}"
            )));
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Writes the "written test available" mail, with a fresh sign-in link.
async fn written_available(
    conn: &mut sqlx::AnyConnection,
    ctx: &Context,
    candidate: &str,
    now: i64,
) -> Result<(), ApiError> {
    let (centre, closes): (String, Option<i64>) = sqlx::query_as(
        "SELECT ce.name, c.written_closes_at FROM candidates c JOIN centres ce ON ce.id = c.centre_id WHERE c.user_id = $1",
    )
    .bind(candidate)
    .fetch_one(&mut *conn)
    .await?;
    let token = create_link_in(conn, candidate, now, ctx.link_ttl_ms).await?;
    let window_end = closes
        .and_then(DateTime::from_timestamp_millis)
        .map(|t| {
            let (date, time, _) = super::french_times(t, t);
            format!("{date}, {time}")
        })
        .unwrap_or_default();
    let vars = [
        ("centre_name", centre),
        (
            "sign_in_url",
            format!("{}/signin/{token}", ctx.public_url.trim_end_matches('/')),
        ),
        ("window_end", window_end),
    ];
    super::enqueue(conn, candidate, "written_available", &vars, None, now).await?;
    Ok(())
}

/// Writes the reminder of an interview; false when there is nothing to remind.
async fn reminder(
    conn: &mut sqlx::AnyConnection,
    ctx: &Context,
    candidate: &str,
    interview: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let row: Option<(i64, i64, String, String, String)> = sqlx::query_as(
        "SELECT i.scheduled_at, i.duration_min, i.status, u.first_names, u.last_name FROM interviews i \
         JOIN users u ON u.id = i.evaluator_id WHERE i.id = $1 AND i.candidate_id = $2",
    )
    .bind(interview)
    .bind(candidate)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((start, minutes, status, ev_first, ev_last)) = row else {
        return Ok(false);
    };
    if status == "cancelled" || start <= now {
        return Ok(false);
    }
    let (Some(s), Some(e)) = (
        DateTime::from_timestamp_millis(start),
        DateTime::from_timestamp_millis(start + minutes * 60_000),
    ) else {
        return Ok(false);
    };
    let token = create_link_in(conn, candidate, now, ctx.link_ttl_ms).await?;
    let base = ctx.public_url.trim_end_matches('/');
    let (date, st, en) = super::french_times(s, e);
    let vars = [
        ("date", date),
        ("start", st),
        ("end", en),
        ("time_zone", super::MAIL_TZ.name().to_owned()),
        ("evaluator_name", format!("{ev_first} {ev_last}")),
        (
            "interview_url",
            format!("{base}/signin/{token}?next=/interview/{interview}"),
        ),
        ("sign_in_url", format!("{base}/signin/{token}")),
    ];
    super::enqueue(conn, candidate, "reminder", &vars, None, now).await?;
    Ok(true)
}
