//! The written test over HTTP (`docs/written-test.md`): create, view (which moves the
//! session on in time), answer, play a clip, and the result for staff.
//!
//! Each session is driven under its own lock; every event is stored before the
//! candidate gets an answer. A failed store drops the cached machine, so the next
//! request rebuilds it from what was stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::{self, SessionRow};
use crate::accounts::new_id;
use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::{StoreError, now_ms};
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::meta::Binary;
use exam_core::bank::{Body, Domain, PublicItem, Response};
use exam_core::cat::{CatConfig, DomainEstimate, ExposureCounts, Pool};
use exam_core::written::{Event, Phase, Refusal, Timing, WrittenSession};

type Slot = Arc<tokio::sync::Mutex<Option<WrittenSession>>>;

/// A live machine left alone this long is dropped; the candidate's next request rebuilds
/// it from storage, as after a restart.
const IDLE_MS: i64 = 15 * 60_000;

/// The live session machines, by session id. It does not grow with history: a finished
/// session leaves at once, an idle one at the next sweep, which runs when the map has
/// doubled since the last (amortised O(1) per request).
#[derive(Debug, Default)]
struct LiveSessions {
    slots: HashMap<String, (Slot, i64)>,
    sweep_at: usize,
}

impl LiveSessions {
    /// The slot of session `id`, used at `now`.
    fn slot(&mut self, id: &str, now: i64) -> Slot {
        if self.slots.len() >= self.sweep_at {
            // Never drop a slot a request holds (it may be waiting for the lock).
            self.slots.retain(|_, (slot, used_at)| {
                now - *used_at < IDLE_MS || Arc::strong_count(slot) > 1
            });
            self.sweep_at = (2 * self.slots.len()).max(64);
        }
        let (slot, used_at) = self.slots.entry(id.to_owned()).or_default();
        *used_at = now;
        slot.clone()
    }

    fn remove(&mut self, id: &str) {
        self.slots.remove(id);
    }

    fn len(&self) -> usize {
        self.slots.len()
    }
}

/// What the written test keeps in memory: the engine's pool, the shared exposure
/// counters and the live session machines.
#[derive(Debug)]
pub struct WrittenState {
    pool: Pool,
    timing: Timing,
    sessions: Mutex<LiveSessions>,
    exposure: tokio::sync::Mutex<Option<ExposureCounts>>,
}

impl WrittenState {
    /// State over a pool with the given timing.
    pub fn new(pool: Pool, timing: Timing) -> Self {
        WrittenState {
            pool,
            timing,
            sessions: Mutex::new(LiveSessions::default()),
            exposure: tokio::sync::Mutex::new(None),
        }
    }

    /// Forgets a session's live machine: the next request rebuilds it from storage
    /// (after its rows were changed outside the machine, e.g. time given back).
    pub fn evict(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// How many session machines are in memory.
    pub fn live(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    fn slot(&self, id: &str, now: i64) -> Slot {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .slot(id, now)
    }
}

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/written", post(start))
        .route("/api/v1/written/{id}", get(view))
        .route("/api/v1/written/{id}/answers", post(answer))
        .route("/api/v1/written/{id}/plays/{item_id}", post(play))
        .route("/api/v1/written/{id}/result", get(result))
}

/// The session view of `docs/written-test.md`.
#[derive(Serialize, Debug, ToSchema)]
pub struct View {
    /// The session id.
    #[schema(format = "uuid")]
    id: String,
    /// `item` (an item is shown), `pause` (between two items) or `finished`.
    #[schema(value_type = ViewStatus)]
    status: &'static str,
    /// The item's position in the test, from 1.
    position: u32,
    /// Items in the whole test.
    total: u32,
    /// The current domain (none once finished).
    domain: Option<Domain>,
    /// The current domain's position, from 1.
    domain_position: usize,
    /// Domains in the test.
    domain_count: usize,
    /// The item shown, while `status` is `item`.
    item: Option<PublicItem>,
    /// The item's time allowed.
    time_limit_ms: Option<u64>,
    /// When the item's time is up (ms since the epoch).
    deadline_ms: Option<i64>,
    /// Time left on the item.
    remaining_ms: Option<i64>,
    /// When the pause ends (ms since the epoch).
    pause_until_ms: Option<i64>,
    /// The server's clock (ms since the epoch).
    server_now_ms: i64,
}

/// The states of a written-test session.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum ViewStatus {
    Item,
    Pause,
    Finished,
}

/// An answer.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerIn {
    /// The current item.
    item_id: String,
    /// The response, shaped after the item type.
    response: Response,
}

/// An answer's acknowledgement.
#[derive(Serialize, Debug, ToSchema)]
pub struct AnswerOut {
    /// Always `recorded`.
    #[schema(example = "recorded")]
    outcome: &'static str,
    /// When the pause before the next item ends (ms since the epoch).
    pause_until_ms: Option<i64>,
}

/// The session of the caller (candidates see only their own).
async fn owned(state: &AppState, auth: &AuthUser, id: &str) -> Result<SessionRow, ApiError> {
    auth.require(&[Role::Candidate])?;
    match store::session(&state.db, id).await? {
        Some(row) if row.candidate_id == auth.id() => Ok(row),
        _ => Err(ApiError::NotFound("no such test session".to_owned())),
    }
}

/// Runs `f` on the session's machine (rebuilt from storage when not cached), then moves
/// it on to `now`, and stores every event before returning. `f` runs first so that an
/// answer to an item whose time is up is refused as late, not as another item's.
async fn drive<T>(
    state: &AppState,
    row: &SessionRow,
    now: i64,
    f: impl FnOnce(&mut WrittenSession, &mut Vec<Event>) -> T,
) -> Result<(T, View), ApiError> {
    let w = &state.written;
    let slot = w.slot(&row.id, now);
    let mut guard = slot.lock().await;
    if guard.is_none() {
        *guard = Some(store::restore(&state.db, row, &w.pool, w.timing).await?);
    }
    let machine = guard.as_mut().expect("just filled");
    let mut events = Vec::new();
    let out = f(machine, &mut events);
    {
        let mut exposure = w.exposure.lock().await;
        if exposure.is_none() {
            *exposure = Some(store::exposure(&state.db).await?);
        }
        events.extend(machine.poll(
            now,
            &state.bank,
            &w.pool,
            exposure.as_mut().expect("just filled"),
        ));
    }
    if let Err(e) = store::store(&state.db, &row.id, &events).await {
        *guard = None;
        return Err(e.into());
    }
    let view = render(state, &row.id, machine, now);
    if matches!(machine.phase(), Phase::Finished) {
        // Nothing changes a finished session any more: a later view rebuilds it.
        drop(guard);
        w.evict(&row.id);
    }
    Ok((out, view))
}

fn render(state: &AppState, id: &str, m: &WrittenSession, now: i64) -> View {
    let total = (CatConfig::default().items_per_domain * Domain::ALL.len()) as u32;
    let domain = m.cat().current_domain();
    let mut v = View {
        id: id.to_owned(),
        status: "pause",
        position: (m.done() + 1).min(total),
        total,
        domain,
        domain_position: domain.map_or(Domain::ALL.len(), |d| d.index() + 1),
        domain_count: Domain::ALL.len(),
        item: None,
        time_limit_ms: None,
        deadline_ms: None,
        remaining_ms: None,
        pause_until_ms: None,
        server_now_ms: now,
    };
    match m.phase() {
        Phase::Pause { until } => v.pause_until_ms = Some(*until),
        Phase::Finished => {
            v.status = "finished";
            v.position = total;
        }
        Phase::Presenting {
            item_id,
            position,
            presented_at,
            deadline,
            plays,
        } => {
            if let Some(item) = state.bank.item(item_id) {
                let url = format!("/api/v1/written/{id}/plays/{item_id}");
                v.status = "item";
                v.position = *position;
                v.item = Some(item.public_view(m.seed(), m.multiplier(), &url, *plays));
                v.time_limit_ms = Some((deadline - presented_at) as u64);
                v.deadline_ms = Some(*deadline);
                v.remaining_ms = Some((deadline - now).max(0));
            }
        }
    }
    v
}

fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::TooLate => ApiError::refused("too_late", r.to_string()),
        Refusal::NotCurrent => ApiError::refused("not_current_item", r.to_string()),
        Refusal::Finished => ApiError::refused("finished", r.to_string()),
        Refusal::PlayLimit(_) => ApiError::refused("play_limit_reached", r.to_string()),
        Refusal::NoClip => ApiError::refused("no_clip", r.to_string()),
        Refusal::Invalid(m) => ApiError::invalid("invalid_response", m),
    }
}

/// Starts the candidate's written test (or returns the one already started).
#[tracing::instrument(skip_all, fields(candidate = %auth.id()))]
#[utoipa::path(post, path = "/api/v1/written", tag = "written",
    responses((status = 201, description = "the test is started", body = View),
        (status = 200, description = "the test already started", body = View),
        (status = 403, description = "not a candidate", body = ErrorBody),
        (status = 409, description = "`profile_incomplete`, `identity_required`, `window_not_open` or `window_closed`", body = ErrorBody)))]
async fn start(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<(StatusCode, Json<View>), ApiError> {
    auth.require(&[Role::Candidate])?;
    let steps = crate::candidate::steps(&state, auth.id()).await?;
    if !steps.profile_complete {
        return Err(ApiError::refused(
            "profile_incomplete",
            "fill in the personal-data form first".to_owned(),
        ));
    }
    if !steps.identity_done {
        return Err(ApiError::refused(
            "identity_required",
            "complete the identity step first".to_owned(),
        ));
    }
    let (row, status) = match store::session_of(&state.db, auth.id()).await? {
        Some(row) => (row, StatusCode::OK),
        None => {
            let store::Admission {
                written_opens_at: opens,
                written_closes_at: closes,
                time_multiplier: multiplier,
            } = store::admission(&state.db, auth.id()).await?;
            let now = now_ms();
            if opens.is_some_and(|o| now < o) {
                return Err(ApiError::refused(
                    "window_not_open",
                    "the written test is not open yet for you",
                ));
            }
            if closes.is_some_and(|c| now >= c) {
                return Err(ApiError::refused(
                    "window_closed",
                    "the period to take the written test is over; contact your centre",
                ));
            }
            let row = SessionRow {
                id: new_id(),
                candidate_id: auth.id().to_owned(),
                seed: rand::random::<u64>() >> 1,
                multiplier,
                created_at: now_ms(),
            };
            match store::create(&state.db, &row).await {
                Ok(()) => {
                    tracing::info!(session = %row.id, "written test started");
                    (row, StatusCode::CREATED)
                }
                // A concurrent start won the race: use its session.
                Err(StoreError::Constraint {
                    constraint: store::ONE_PER_CANDIDATE,
                    ..
                }) => (
                    store::session_of(&state.db, auth.id())
                        .await?
                        .ok_or_else(|| ApiError::Internal("lost session".into()))?,
                    StatusCode::OK,
                ),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let ((), view) = drive(&state, &row, now_ms(), |_, _| ()).await?;
    Ok((status, Json(view)))
}

/// The session's view; reading it moves the session on (timeouts, next item).
#[utoipa::path(get, path = "/api/v1/written/{id}", tag = "written", params(("id" = String, Path, description = "session id")),
    responses((status = 200, description = "the session as it stands now", body = View),
        (status = 403, description = "not a candidate", body = ErrorBody),
        (status = 404, description = "no such session of the caller", body = ErrorBody)))]
async fn view(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<View>, ApiError> {
    let row = owned(&state, &auth, &id).await?;
    let ((), view) = drive(&state, &row, now_ms(), |_, _| ()).await?;
    Ok(Json(view))
}

/// An answer to the current item; acknowledged once stored.
#[tracing::instrument(skip_all, fields(session = %id))]
#[utoipa::path(post, path = "/api/v1/written/{id}/answers", tag = "written", request_body = AnswerIn,
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, description = "the answer is stored", body = AnswerOut),
        (status = 403, description = "not a candidate", body = ErrorBody),
        (status = 404, description = "no such session of the caller", body = ErrorBody),
        (status = 409, description = "`too_late`, `not_current_item` or `finished`", body = ErrorBody),
        (status = 422, description = "`invalid_response`: the response does not fit the item", body = ErrorBody)))]
async fn answer(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerIn>,
) -> Result<Json<AnswerOut>, ApiError> {
    let row = owned(&state, &auth, &id).await?;
    let item = state.bank.item(&body.item_id).cloned();
    let now = now_ms();
    let (result, view) = drive(&state, &row, now, |m, events| {
        let Some(item) = item else {
            return Err(Refusal::NotCurrent);
        };
        let (more, r) = m.answer(now, &body.item_id, body.response, &item);
        events.extend(more);
        r
    })
    .await?;
    result.map_err(refusal)?;
    Ok(Json(AnswerOut {
        outcome: "recorded",
        pause_until_ms: view.pause_until_ms,
    }))
}

/// One play of the current listening item's clip (the bytes, counted before sending).
#[utoipa::path(post, path = "/api/v1/written/{id}/plays/{item_id}", tag = "written",
    params(("id" = String, Path, description = "session id"), ("item_id" = String, Path, description = "the current listening item")),
    responses((status = 200, description = "the clip (the play is counted)", content_type = "audio/ogg", body = Binary),
        (status = 403, description = "not a candidate", body = ErrorBody),
        (status = 404, description = "no such session of the caller, or no such item", body = ErrorBody),
        (status = 409, description = "`play_limit_reached`, `no_clip`, `too_late`, `not_current_item` or `finished`", body = ErrorBody)))]
async fn play(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, item_id)): Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let row = owned(&state, &auth, &id).await?;
    let item = state
        .bank
        .item(&item_id)
        .cloned()
        .ok_or_else(|| ApiError::NotFound("no such item".to_owned()))?;
    let now = now_ms();
    let (result, _) = drive(&state, &row, now, |m, events| {
        let e = m.play(now, &item_id, &item)?;
        events.push(e);
        Ok(())
    })
    .await?;
    result.map_err(refusal)?;
    let Body::Listening { clip, .. } = &item.body else {
        return Err(refusal(Refusal::NoClip));
    };
    let bytes = state
        .bank
        .clips
        .get(clip)
        .cloned()
        .ok_or_else(|| ApiError::Internal(format!("clip {clip} missing")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "audio/ogg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// The result of a finished written test.
#[derive(Serialize, Debug, ToSchema)]
pub struct ResultOut {
    /// The session.
    session_id: String,
    /// The candidate.
    candidate_id: String,
    /// The estimate of each domain.
    domains: Vec<DomainEstimate>,
}

/// The written part's result, for staff only: candidates receive results with the oral.
#[utoipa::path(get, path = "/api/v1/written/{id}/result", tag = "written", params(("id" = String, Path, description = "session id")),
    responses((status = 200, description = "the written result", body = ResultOut),
        (status = 403, description = "not an admin", body = ErrorBody),
        (status = 404, description = "no such session the caller may see", body = ErrorBody),
        (status = 409, description = "`not_finished`", body = ErrorBody)))]
async fn result(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<ResultOut>, ApiError> {
    auth.require(&[Role::PlatformAdmin, Role::CentreAdmin])?;
    let row = store::session(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such test session".to_owned()))?;
    crate::accounts::visible_candidate(&state, &auth, &row.candidate_id)
        .await
        .map_err(|_| ApiError::NotFound("no such test session".to_owned()))?;
    let json = store::result_json(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such test session".to_owned()))?;
    let json = json.ok_or_else(|| {
        ApiError::refused(
            "not_finished",
            "the written test is not finished".to_owned(),
        )
    })?;
    let domains = serde_json::from_str(&json).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(ResultOut {
        session_id: id,
        candidate_id: row.candidate_id,
        domains,
    }))
}

#[cfg(test)]
mod tests {
    use super::{IDLE_MS, LiveSessions};

    #[test]
    fn idle_machines_leave_and_busy_ones_stay() {
        let mut live = LiveSessions::default();
        let held = live.slot("busy", 0);
        for i in 0..63 {
            live.slot(&format!("s{i}"), 0);
        }
        assert_eq!(live.len(), 64);
        // The 65th request sweeps: everything idle for IDLE_MS goes but the held slot.
        live.slot("new", IDLE_MS);
        assert_eq!(live.len(), 2);
        drop(held);
        // A slot used again is kept fresh.
        let t = IDLE_MS + 1;
        live.slot("new", t);
        live.remove("busy");
        assert_eq!(live.len(), 1);
        assert!(live.slots.contains_key("new"));
    }
}
