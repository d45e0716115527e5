//! Availability, slots and bookings over HTTP (`docs/booking-results.md`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::availability::Availability;
use super::ics::{Invite, Method, Person};
use super::store as booking;
use crate::accounts::new_id;
use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::{StoreError, is_unique_violation, now_ms};
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::interviews::store;
use crate::mail::{self, Attachment, scheduler};
use exam_core::interview::{Event, Phase};

/// Candidates book at least this long ahead.
const MIN_NOTICE_MS: i64 = 2 * 3600 * 1000;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/availability",
            get(get_availability).put(put_availability),
        )
        .route("/api/v1/slots", get(slots))
        .route("/api/v1/bookings", post(book))
        .route("/api/v1/bookings/mine", get(mine))
        .route("/api/v1/bookings/{id}", put(move_booking).delete(cancel))
        .route("/api/v1/bookings/{id}/confirm", post(confirm))
        .route("/api/v1/me/booking-later", post(booking_later))
}

#[utoipa::path(get, path = "/api/v1/availability", tag = "booking",
    responses((status = 200, description = "the evaluator's availability (empty until set)", body = Availability),
        (status = 403, description = "not an evaluator", body = ErrorBody)))]
async fn get_availability(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Availability>, ApiError> {
    auth.require(&[Role::Evaluator])?;
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(
        booking::availability(&mut conn, auth.id())
            .await?
            .unwrap_or_else(|| Availability::empty("Europe/Paris")),
    ))
}

/// Stores an evaluator's availability.
pub async fn store_availability(
    conn: &mut sqlx::AnyConnection,
    evaluator: &str,
    a: &Availability,
) -> Result<(), ApiError> {
    let problems = a.problems();
    if !problems.is_empty() {
        return Err(ApiError::invalid(
            "invalid_availability",
            problems.join("; "),
        ));
    }
    booking::save_availability(conn, evaluator, a, now_ms()).await?;
    Ok(())
}

#[utoipa::path(put, path = "/api/v1/availability", tag = "booking", request_body = Availability,
    responses((status = 200, description = "the stored availability", body = Availability),
        (status = 403, description = "not an evaluator", body = ErrorBody),
        (status = 422, description = "`invalid_availability`: every problem found", body = ErrorBody)))]
async fn put_availability(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<Availability>,
) -> Result<Json<Availability>, ApiError> {
    auth.require(&[Role::Evaluator])?;
    let mut conn = state.db.pool.acquire().await?;
    store_availability(&mut conn, auth.id(), &body).await?;
    Ok(Json(body))
}

/// Which slots to list.
#[derive(Deserialize, Debug, IntoParams)]
#[into_params(parameter_in = Query)]
struct SlotQuery {
    /// The first day, `YYYY-MM-DD`, in `tz`.
    #[param(format = Date, example = "2026-12-07")]
    from: String,
    /// How many days (1–31, 7 by default).
    #[serde(default = "seven")]
    #[param(minimum = 1, maximum = 31, default = 7)]
    days: i64,
    /// IANA time zone of the days (`Europe/Paris` by default).
    #[serde(default = "paris")]
    #[param(example = "Europe/Paris")]
    tz: String,
    /// The candidate (centre admins; candidates book for themselves).
    candidate_id: Option<String>,
}

fn seven() -> i64 {
    7
}

fn paris() -> String {
    "Europe/Paris".to_owned()
}

/// A bookable slot.
#[derive(Serialize, Debug, Clone, ToSchema)]
pub struct SlotOut {
    /// The slot, to book.
    id: String,
    /// Start.
    #[schema(value_type = String, format = DateTime)]
    start: DateTime<Utc>,
    /// End.
    #[schema(value_type = String, format = DateTime)]
    end: DateTime<Utc>,
}

fn slot_id(evaluator: &str, start: DateTime<Utc>) -> String {
    format!("{evaluator}~{}", start.timestamp_millis())
}

fn parse_slot_id(id: &str) -> Result<(String, DateTime<Utc>), ApiError> {
    let bad = || ApiError::invalid("invalid_slot", "this slot id is not valid");
    let (ev, ms) = id.split_once('~').ok_or_else(bad)?;
    let t = ms
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(bad)?;
    Ok((ev.to_owned(), t))
}

/// The candidate a booking request is about: the caller, or (centre admin) a candidate
/// of their centre. Returns (candidate id, centre id, booked by the centre).
async fn target_candidate(
    state: &AppState,
    auth: &AuthUser,
    candidate_id: Option<&str>,
) -> Result<(String, String, bool), ApiError> {
    match (auth.role(), candidate_id) {
        (Role::Candidate, None) => {
            let centre = booking::candidate_centre(&state.db, auth.id())
                .await?
                .ok_or_else(|| ApiError::Internal("a candidate without a centre".to_owned()))?;
            Ok((auth.id().to_owned(), centre, false))
        }
        (Role::CentreAdmin | Role::PlatformAdmin, Some(c)) => {
            let c = crate::accounts::visible_candidate(state, auth, c).await?;
            Ok((c.id, c.centre_id, true))
        }
        (Role::CentreAdmin | Role::PlatformAdmin, None) => Err(ApiError::invalid(
            "missing_candidate",
            "candidate_id is required",
        )),
        _ => Err(ApiError::Forbidden(
            "only candidates and their centre book interviews".to_owned(),
        )),
    }
}

async fn require_written_finished(state: &AppState, candidate: &str) -> Result<(), ApiError> {
    match booking::written_status(&state.db, candidate).await? {
        Some(s) if s == "finished" => Ok(()),
        _ => Err(ApiError::refused(
            "written_not_finished",
            "the oral is booked once the written test is finished",
        )),
    }
}

/// Free slots of the centre's evaluators in `[from, to)`, at least `MIN_NOTICE_MS` ahead.
async fn free_slots(
    state: &AppState,
    centre: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, SlotOut)>, ApiError> {
    let earliest = DateTime::from_timestamp_millis(now_ms() + MIN_NOTICE_MS).unwrap_or(from);
    let from = from.max(earliest);
    if to <= from {
        return Ok(vec![]);
    }
    let rows = booking::centre_availability(&state.db, centre).await?;
    // Live interviews that may overlap the range (none lasts more than two hours).
    let taken = booking::busy(
        &state.db,
        from.timestamp_millis() - 2 * 3600 * 1000,
        to.timestamp_millis(),
    )
    .await?;
    let mut out = Vec::new();
    for booking::StoredAvailability {
        evaluator_id: ev,
        spec_json,
    } in rows
    {
        let Ok(a) = serde_json::from_str::<Availability>(&spec_json) else {
            continue;
        };
        for (s, e) in a.slots(from, to) {
            let (s_ms, e_ms) = (s.timestamp_millis(), e.timestamp_millis());
            if !taken
                .iter()
                .any(|t| t.evaluator_id == ev && t.start_ms < e_ms && t.end_ms > s_ms)
            {
                out.push((
                    ev.clone(),
                    SlotOut {
                        id: slot_id(&ev, s),
                        start: s,
                        end: e,
                    },
                ));
            }
        }
    }
    out.sort_by_key(|(_, s)| (s.start, s.id.clone()));
    Ok(out)
}

/// The free slots of a range of days.
#[derive(Serialize, Debug, ToSchema)]
struct SlotsOut {
    /// The time zone of the days.
    time_zone: String,
    /// The slots, by start.
    slots: Vec<SlotOut>,
}

#[utoipa::path(get, path = "/api/v1/slots", tag = "booking", params(SlotQuery),
    responses((status = 200, description = "the free slots of the candidate's centre", body = SlotsOut),
        (status = 400, description = "`bad_query`: `from` missing, or a value of the wrong type", body = ErrorBody),
        (status = 403, description = "neither a candidate nor an admin", body = ErrorBody),
        (status = 404, description = "no such candidate the caller may see", body = ErrorBody),
        (status = 409, description = "`written_not_finished`", body = ErrorBody),
        (status = 422, description = "`invalid_time_zone`, `invalid_date`, `invalid_days` or `missing_candidate`", body = ErrorBody)))]
async fn slots(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<SlotQuery>,
) -> Result<Json<SlotsOut>, ApiError> {
    let (candidate, centre, by_centre) =
        target_candidate(&state, &auth, q.candidate_id.as_deref()).await?;
    if !by_centre {
        require_written_finished(&state, &candidate).await?;
    }
    let tz: Tz = q.tz.parse().map_err(|_| {
        ApiError::invalid(
            "invalid_time_zone",
            format!("{:?} is not an IANA time zone", q.tz),
        )
    })?;
    let day = NaiveDate::parse_from_str(&q.from, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("invalid_date", "from: YYYY-MM-DD"))?;
    if !(1..=31).contains(&q.days) {
        return Err(ApiError::invalid("invalid_days", "days: 1 to 31"));
    }
    let start = tz
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.with_timezone(&Utc));
    let end = tz
        .from_local_datetime(
            &(day + Duration::days(q.days))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
        )
        .earliest()
        .map(|t| t.with_timezone(&Utc));
    let (Some(start), Some(end)) = (start, end) else {
        return Err(ApiError::invalid(
            "invalid_date",
            "that day does not exist here",
        ));
    };
    let slots = free_slots(&state, &centre, start, end)
        .await?
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    Ok(Json(SlotsOut {
        time_zone: tz.name().to_owned(),
        slots,
    }))
}

/// A booking as the candidate sees it.
#[derive(Serialize, Debug, ToSchema)]
pub struct BookingOut {
    /// The interview id.
    #[schema(format = "uuid")]
    id: String,
    /// Start.
    #[schema(value_type = String, format = DateTime)]
    start: DateTime<Utc>,
    /// End.
    #[schema(value_type = String, format = DateTime)]
    end: DateTime<Utc>,
    /// `held` (to confirm), `confirmed`, `scheduled`, `waiting`, `id_checked`,
    /// `in_progress` or `ended` (see `InterviewOut.status`).
    #[schema(example = "held")]
    status: String,
    /// The evaluator's name.
    evaluator_name: String,
    /// The calendar invitation's sequence number.
    sequence: i64,
}

impl BookingOut {
    /// The booking as the candidate sees it (none when its times are out of range).
    fn of(b: booking::Booking) -> Option<BookingOut> {
        Some(BookingOut {
            start: DateTime::from_timestamp_millis(b.scheduled_at)?,
            end: DateTime::from_timestamp_millis(b.scheduled_at + b.duration_min * 60_000)?,
            id: b.id,
            status: b.status,
            evaluator_name: format!("{} {}", b.first_names, b.last_name),
            sequence: b.ics_sequence,
        })
    }
}

/// The live booking `id` as the candidate sees it, just written (its absence is ours).
async fn booking_out(conn: &mut sqlx::AnyConnection, id: &str) -> Result<BookingOut, ApiError> {
    booking::booking(conn, id)
        .await?
        .and_then(BookingOut::of)
        .ok_or_else(|| ApiError::Internal("booking vanished".to_owned()))
}

#[utoipa::path(get, path = "/api/v1/bookings/mine", tag = "booking",
    responses((status = 200, description = "the candidate's booking, or null", body = Option<BookingOut>),
        (status = 403, description = "not a candidate", body = ErrorBody)))]
async fn mine(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Option<BookingOut>>, ApiError> {
    auth.require(&[Role::Candidate])?;
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(
        booking::booking_of(&mut conn, auth.id())
            .await?
            .and_then(BookingOut::of),
    ))
}

/// A slot to book.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
struct BookIn {
    /// A slot of `GET /api/v1/slots`.
    slot_id: String,
    /// The candidate (centre admins; candidates book for themselves).
    #[serde(default)]
    candidate_id: Option<String>,
}

/// Checks that a slot exists in the evaluator's availability, in the candidate's centre.
async fn check_slot(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    centre: &str,
    slot: &str,
    by_centre: bool,
) -> Result<(String, DateTime<Utc>, i64), ApiError> {
    let (ev, start) = parse_slot_id(slot)?;
    let a = if booking::is_centre_evaluator(&mut *conn, &ev, centre).await? {
        booking::availability(conn, &ev).await?
    } else {
        None
    };
    let Some(a) = a.filter(|a| a.has_slot(start)) else {
        return Err(ApiError::NotFound("no such slot".to_owned()));
    };
    let notice = if by_centre { 0 } else { MIN_NOTICE_MS };
    if start.timestamp_millis() < now_ms() + notice {
        return Err(ApiError::refused(
            "slot_past",
            "this slot is too close or already past",
        ));
    }
    let _ = state;
    Ok((ev, start, i64::from(a.slot_minutes)))
}

/// The refusal when someone else got the slot first.
fn slot_taken() -> ApiError {
    ApiError::refused(
        "slot_taken",
        "this slot has just been taken; choose another",
    )
}

/// Once its time has come, a candidate no longer moves or cancels their interview (a
/// candidate who does not come is recorded absent); the centre still may.
async fn started_for_candidate(
    state: &AppState,
    id: &str,
    by_centre: bool,
) -> Result<(), ApiError> {
    let started = store::get(&state.db, id)
        .await?
        .is_some_and(|r| now_ms() >= r.scheduled_at);
    if started && !by_centre {
        return Err(ApiError::refused(
            "not_changeable",
            "the interview's time has come: it can no longer be moved or cancelled",
        ));
    }
    Ok(())
}

/// Whether a stored status is a booking that has not taken place (it may move or be
/// cancelled).
fn booked(status: &str) -> bool {
    status.parse::<Phase>().is_ok_and(Phase::is_booked)
}

/// A candidate who did not come to an interview books again only if their centre allows
/// it (`centres.rebook_after_no_show`); the centre itself always may.
async fn may_book_again(
    conn: &mut sqlx::AnyConnection,
    candidate: &str,
    centre: &str,
) -> Result<(), ApiError> {
    let r = booking::rebooking(conn, candidate, centre).await?;
    if r.missed > 0 && r.allowed == 0 {
        return Err(ApiError::refused(
            "rebooking_closed",
            "you did not come to your interview; your centre books the next one",
        ));
    }
    Ok(())
}

/// The refusal when the candidate already has a live interview.
fn already_booked() -> ApiError {
    ApiError::refused(
        "already_booked",
        "an interview is already booked: change it instead",
    )
}

/// The client's error a write of an interview row ran into, by the constraint it broke:
/// the candidate's one live interview, or the evaluator's time (the same start, or an
/// overlap refused by the exclusion constraint). Other errors are ours.
pub(crate) fn interview_conflict(e: StoreError) -> ApiError {
    use crate::interviews::store::{NO_OVERLAP, ONE_PER_CANDIDATE, ONE_PER_SLOT};
    match e {
        StoreError::Constraint {
            constraint: ONE_PER_CANDIDATE,
            ..
        } => already_booked(),
        StoreError::Constraint {
            constraint: ONE_PER_SLOT | NO_OVERLAP,
            ..
        } => slot_taken(),
        StoreError::Db(e) if is_unique_violation(&e) => {
            ApiError::Conflict("this interview conflicts with another one".to_owned())
        }
        e => e.into(),
    }
}

/// Refuses a slot that overlaps a live interview of the evaluator (other than `except`).
/// Exact same starts are also refused by the database's unique index; overlaps of
/// different lengths are checked here, under a per-evaluator lock on PostgreSQL (SQLite's
/// write transaction already serialises bookings).
pub(crate) async fn ensure_free(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    evaluator: &str,
    start: i64,
    minutes: i64,
    except: Option<&str>,
) -> Result<(), ApiError> {
    store::lock_evaluator(&mut *conn, state.db.backend, evaluator).await?;
    let end = start + minutes * 60_000;
    if store::overlapping(conn, evaluator, start, end, except).await? > 0 {
        return Err(slot_taken());
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/bookings", tag = "booking", request_body = BookIn,
    responses((status = 201, description = "booked: `held` for a candidate (to confirm), `confirmed` by a centre", body = BookingOut),
        (status = 403, description = "neither a candidate nor an admin", body = ErrorBody),
        (status = 404, description = "no such slot, or no such candidate the caller may see", body = ErrorBody),
        (status = 409, description = "`written_not_finished`, `already_booked`, `rebooking_closed` (a candidate who did not come, when their centre does not let them book again), `slot_taken` or `slot_past`", body = ErrorBody),
        (status = 422, description = "`invalid_slot` or `missing_candidate`", body = ErrorBody)))]
async fn book(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<BookIn>,
) -> Result<(StatusCode, Json<BookingOut>), ApiError> {
    let (candidate, centre, by_centre) =
        target_candidate(&state, &auth, body.candidate_id.as_deref()).await?;
    if !by_centre {
        require_written_finished(&state, &candidate).await?;
    }
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let (ev, start, minutes) =
        check_slot(&state, &mut tx, &centre, &body.slot_id, by_centre).await?;
    if booking::booking_of(&mut tx, &candidate).await?.is_some() {
        return Err(already_booked());
    }
    if !by_centre {
        may_book_again(&mut tx, &candidate, &centre).await?;
    }
    let target = booking::candidate_target(&mut tx, &candidate)
        .await?
        .ok_or_else(|| ApiError::Internal("a candidate without a target".to_owned()))?;
    ensure_free(
        &state,
        &mut tx,
        &ev,
        start.timestamp_millis(),
        minutes,
        None,
    )
    .await?;
    let id = new_id();
    let status = if by_centre { "confirmed" } else { "held" };
    let new = store::NewInterview {
        id: &id,
        centre_id: &centre,
        candidate_id: &candidate,
        evaluator_id: &ev,
        scheduled_at: start.timestamp_millis(),
        duration_min: minutes,
        target_cefr: &target,
        status,
        created_at: now,
        confirmed_at: by_centre.then_some(now),
    };
    store::insert(&mut tx, &new)
        .await
        .map_err(interview_conflict)?;
    let invite = by_centre.then_some("booking_confirmed");
    let out = settle(
        &state,
        tx,
        &id,
        &candidate,
        start.timestamp_millis(),
        invite,
        now,
    )
    .await?;
    tracing::info!(interview = %id, by_centre, "interview booked");
    Ok((StatusCode::CREATED, Json(out)))
}

/// The booking `id` if the caller may change it: (candidate, centre, by centre, status).
async fn owned_booking(
    state: &AppState,
    auth: &AuthUser,
    id: &str,
) -> Result<(String, String, bool, String), ApiError> {
    let nf = || ApiError::NotFound("no such booking".to_owned());
    let booking::Owner {
        candidate_id: candidate,
        centre_id: centre,
        status,
    } = booking::owner(&state.db, id).await?.ok_or_else(nf)?;
    let by_centre = match auth.role() {
        Role::Candidate if auth.id() == candidate => false,
        Role::CentreAdmin if auth.centre() == Some(centre.as_str()) => true,
        Role::PlatformAdmin => true,
        _ => return Err(nf()),
    };
    Ok((candidate, centre, by_centre, status))
}

/// The new slot of a booking.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
struct MoveIn {
    /// A slot of `GET /api/v1/slots`.
    slot_id: String,
}

#[utoipa::path(put, path = "/api/v1/bookings/{id}", tag = "booking", request_body = MoveIn,
    params(("id" = String, Path, description = "booking (interview) id")),
    responses((status = 200, description = "the moved booking", body = BookingOut),
        (status = 404, description = "no such booking of the caller, or no such slot", body = ErrorBody),
        (status = 409, description = "`not_changeable`, `slot_taken` or `slot_past`", body = ErrorBody),
        (status = 422, description = "`invalid_slot`", body = ErrorBody)))]
async fn move_booking(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MoveIn>,
) -> Result<Json<BookingOut>, ApiError> {
    let (candidate, centre, by_centre, status) = owned_booking(&state, &auth, &id).await?;
    started_for_candidate(&state, &id, by_centre).await?;
    if !booked(&status) {
        return Err(ApiError::refused(
            "not_changeable",
            "this interview can no longer be changed",
        ));
    }
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let (ev, start, minutes) =
        check_slot(&state, &mut tx, &centre, &body.slot_id, by_centre).await?;
    let confirmed = status != "held";
    ensure_free(
        &state,
        &mut tx,
        &ev,
        start.timestamp_millis(),
        minutes,
        Some(&id),
    )
    .await?;
    let to = booking::Move {
        evaluator_id: &ev,
        scheduled_at: start.timestamp_millis(),
        duration_min: minutes,
        bump_sequence: confirmed,
    };
    let moved = booking::move_booking(&mut tx, &id, &status, &to)
        .await
        .map_err(interview_conflict)?;
    if !moved {
        return Err(ApiError::refused(
            "not_changeable",
            "this interview changed meanwhile; reload",
        ));
    }
    let invite = confirmed.then_some("booking_updated");
    let out = settle(
        &state,
        tx,
        &id,
        &candidate,
        start.timestamp_millis(),
        invite,
        now,
    )
    .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/confirm", tag = "booking",
    params(("id" = String, Path, description = "booking (interview) id")),
    responses((status = 200, description = "the confirmed booking (the invitation is mailed)", body = BookingOut),
        (status = 404, description = "no such booking of the caller", body = ErrorBody)))]
async fn confirm(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<BookingOut>, ApiError> {
    let (_, _, _, status) = owned_booking(&state, &auth, &id).await?;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let confirmed_now = status == Phase::Held.as_str()
        && match store::advance(
            &mut tx,
            &id,
            Event::Confirm,
            Some(auth.id()),
            None,
            &state.config.lifecycle,
            now,
        )
        .await
        {
            Ok(a) => a.to == Phase::Confirmed,
            Err(store::AdvanceError::Db(e)) => return Err(e.into()),
            // Confirmed meanwhile (another tab): the booking as it is.
            Err(_) => false,
        };
    if confirmed_now {
        send_invite(
            &state,
            &mut tx,
            &id,
            Method::Request,
            "booking_confirmed",
            now,
        )
        .await?;
    }
    let out = booking_out(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(Json(out))
}

#[utoipa::path(delete, path = "/api/v1/bookings/{id}", tag = "booking",
    params(("id" = String, Path, description = "booking (interview) id")),
    responses((status = 204, description = "cancelled"),
        (status = 404, description = "no such booking of the caller", body = ErrorBody),
        (status = 409, description = "`not_changeable`", body = ErrorBody)))]
async fn cancel(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (_, _, by_centre, status) = owned_booking(&state, &auth, &id).await?;
    started_for_candidate(&state, &id, by_centre).await?;
    // An interview that took place (or began) is part of the record: never cancelled.
    if !booked(&status) {
        return Err(ApiError::refused(
            "not_changeable",
            "this interview can no longer be cancelled",
        ));
    }
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let confirmed = status != "held";
    match store::advance(
        &mut tx,
        &id,
        Event::Cancel,
        Some(auth.id()),
        None,
        &state.config.lifecycle,
        now,
    )
    .await
    {
        Ok(_) => {}
        Err(store::AdvanceError::Db(e)) => return Err(e.into()),
        Err(_) => {
            return Err(ApiError::refused(
                "not_changeable",
                "this interview changed meanwhile; reload",
            ));
        }
    }
    booking::bump_sequence(&mut tx, &id, i64::from(confirmed)).await?;
    scheduler::cancel(&mut tx, &id, now).await?;
    if confirmed {
        send_invite(
            &state,
            &mut tx,
            &id,
            Method::Cancel,
            "booking_cancelled",
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/me/booking-later", tag = "booking",
    responses((status = 204, description = "noted: the candidate books later"),
        (status = 403, description = "not a candidate", body = ErrorBody)))]
async fn booking_later(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Role::Candidate])?;
    booking::book_later(&state.db, auth.id(), now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// After a booking is placed or moved: its reminder 24 h before, its invitation mail when
/// `invite` names one, and the booking as the candidate sees it — committed together.
async fn settle(
    state: &AppState,
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
    candidate: &str,
    start_ms: i64,
    invite: Option<&str>,
    now: i64,
) -> Result<BookingOut, ApiError> {
    scheduler::schedule_reminder(&mut tx, id, candidate, start_ms - 24 * 3600 * 1000).await?;
    if let Some(kind) = invite {
        send_invite(state, &mut tx, id, Method::Request, kind, now).await?;
    }
    let out = booking_out(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Writes the invitation mails (candidate and evaluator) of an interview, with its `.ics`.
async fn send_invite(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    id: &str,
    method: Method,
    kind: &str,
    now: i64,
) -> Result<(), ApiError> {
    let r = booking::invite(conn, id)
        .await?
        .ok_or_else(|| ApiError::Internal("interview vanished".to_owned()))?;
    let (start, minutes) = (r.scheduled_at, r.duration_min);
    let (Some(s), Some(e)) = (
        DateTime::from_timestamp_millis(start),
        DateTime::from_timestamp_millis(start + minutes * 60_000),
    ) else {
        return Err(ApiError::Internal("interview time".to_owned()));
    };
    let evaluator_name = format!("{} {}", r.evaluator_first_names, r.evaluator_last_name);
    let url = format!(
        "{}/interview/{id}",
        state.config.public_url.trim_end_matches('/')
    );
    let invite = Invite {
        method,
        interview_id: id.to_owned(),
        sequence: r.ics_sequence as u32,
        stamp: DateTime::from_timestamp_millis(now).unwrap_or(s),
        start: s,
        end: e,
        summary: "Entretien oral de certification / Oral certification interview".to_owned(),
        description: format!(
            "Entretien oral en visioconférence. Rejoindre : {url}\nMunissez-vous de votre pièce d'identité."
        ),
        url: url.clone(),
        organizer: Person {
            name: evaluator_name.clone(),
            email: r.evaluator_email,
        },
        attendee: Person {
            name: format!("{} {}", r.candidate_first_names, r.candidate_last_name),
            email: r.candidate_email,
        },
    };
    let ics = invite.render();
    let (date, st, en) = mail::french_times(s, e);
    let vars = [
        ("date", date),
        ("start", st),
        ("end", en),
        ("time_zone", mail::MAIL_TZ.name().to_owned()),
        ("evaluator_name", evaluator_name),
        ("interview_url", url),
    ];
    let method_name = if method == Method::Cancel {
        "CANCEL"
    } else {
        "REQUEST"
    };
    for user in [&r.candidate_id, &r.evaluator_id] {
        let attachment = Attachment {
            name: "entretien.ics".to_owned(),
            content_type: format!("text/calendar; charset=utf-8; method={method_name}"),
            body: ics.clone(),
        };
        mail::enqueue(conn, user, kind, &vars, Some(attachment), now).await?;
    }
    Ok(())
}
