//! The interview's signaling wired into the server: `/ws` (WebSocket, authenticated by the
//! session JWT), the [`signaling::hub::Directory`] over the database, and media grants
//! from [`exam_api::auth`] (short-lived JWTs whose grants name the room).

use std::sync::Arc;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use exam_api::auth::{JwtKeys, Role, SESSION_COOKIE};
use exam_api::db::Db;
use exam_api::error::ApiError;
use exam_api::interviews::store;
use exam_core::interview::{Event, Lifecycle, Phase};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use signaling::hub::{
    Closed, Directory, GrantError, Hub, Interview, Media, Seat, Step, StepRefused, User,
};

/// Who is who, from the database; media grants signed with the session keys; the
/// interview's steps stored through exam-api's lifecycle.
pub(crate) struct DbDirectory {
    pub(crate) db: Db,
    pub(crate) keys: JwtKeys,
    pub(crate) rules: Lifecycle,
    /// The TURN server whose credentials go with each media grant.
    pub(crate) turn: Option<signaling::turn::TurnConfig>,
}

impl Directory for DbDirectory {
    async fn interview(&self, room: &str) -> Option<Interview> {
        let record = match store::get(&self.db, room).await {
            Ok(r) => r?,
            Err(e) => {
                tracing::warn!(interview = %room, error = %e, "interview not read");
                return None;
            }
        };
        let closed = match record.phase() {
            Ok(Phase::Ended) => Some(Closed::Ended),
            Ok(Phase::Cancelled) => Some(Closed::Cancelled),
            Ok(Phase::NoShow) => Some(Closed::NoShow),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(interview = %room, error = %e, "interview not read");
                return None;
            }
        };
        Some(Interview {
            opens_at: self.rules.opens_at(record.scheduled_at),
            candidate: record.candidate_id,
            evaluator: record.evaluator_id,
            scheduled_at: record.scheduled_at,
            closed,
        })
    }

    fn ice_servers(&self, now_ms: i64) -> Vec<signaling::turn::IceServer> {
        self.turn
            .as_ref()
            .map(|turn| {
                // An opaque id, never the person's: TURN servers log usernames.
                let id = format!("{:016x}", rand::random::<u64>());
                vec![turn.credentials(now_ms, &id)]
            })
            .unwrap_or_default()
    }

    async fn display_name(&self, user: &str) -> String {
        exam_api::accounts::display_name(&self.db, user)
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    async fn advance(
        &self,
        room: &str,
        user: &str,
        step: Step,
        now_ms: i64,
    ) -> Result<Option<i64>, StepRefused> {
        let event = match step {
            Step::Arrived => Event::Arrive,
            Step::IdChecked => Event::IdChecked,
            Step::Started => Event::Start,
            Step::Ended => Event::End,
        };
        match store::advance_now(&self.db, room, event, Some(user), None, &self.rules, now_ms).await
        {
            Ok(a) => Ok(a.record.started_at),
            Err(e) => {
                let (code, message) = match &e {
                    store::AdvanceError::Refused(r) => (r.code(), e.to_string()),
                    store::AdvanceError::Changed => ("changed", e.to_string()),
                    _ => {
                        tracing::warn!(interview = %room, error = %e, "interview step not stored");
                        (
                            "unavailable",
                            "the step could not be stored; try again".to_owned(),
                        )
                    }
                };
                Err(StepRefused {
                    code: code.to_owned(),
                    message,
                })
            }
        }
    }

    fn media_token(
        &self,
        user: &str,
        seat: Seat,
        room: &str,
        now_ms: i64,
    ) -> Result<String, GrantError> {
        let role = match seat {
            Seat::Evaluator => Role::Evaluator,
            Seat::Candidate => Role::Candidate,
        };
        self.keys
            .media_grant(user, role, room, now_ms)
            .map_err(|e| {
                tracing::error!(interview = %room, error = %e, "no media grant");
                GrantError(e.to_string())
            })
    }

    fn check_media_token(&self, token: &str, user: &str, room: &str) -> bool {
        self.keys.check_media_grant(token, user, room)
    }
}

/// The state of `/ws`.
#[derive(Clone)]
pub(crate) struct WsState {
    pub(crate) hub: Hub,
    pub(crate) keys: JwtKeys,
}

#[derive(Deserialize)]
struct WsQuery {
    token: Option<String>,
}

/// `/ws`: the signaling WebSocket.
pub(crate) fn router(state: WsState) -> Router {
    Router::new().route("/ws", get(upgrade)).with_state(state)
}

async fn upgrade(
    State(state): State<WsState>,
    Query(q): Query<WsQuery>,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let cookie = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned());
    let Some(token) = q.token.or(cookie) else {
        return ApiError::Unauthorized("sign in first".to_owned()).into_response();
    };
    let claims = match state.keys.verify(&token) {
        // A media grant is not a session.
        Ok(c) if c.grants.room.is_some() => {
            return ApiError::Unauthorized("sign in first".to_owned()).into_response();
        }
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let user = User { id: claims.sub };
    ws.max_message_size(signaling::messages::MAX_MESSAGE + 1024)
        .on_upgrade(move |socket| serve_socket(state.hub, user, socket))
}

async fn serve_socket(hub: Hub, user: User, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let incoming = stream
        .take_while(|m| {
            std::future::ready(matches!(
                m,
                Ok(Message::Text(_)) | Ok(Message::Ping(_)) | Ok(Message::Pong(_))
            ))
        })
        .filter_map(|m| {
            std::future::ready(match m {
                Ok(Message::Text(t)) => Some(t.to_string()),
                _ => None,
            })
        });
    let outgoing =
        sink.with(|s: String| std::future::ready(Ok::<_, axum::Error>(Message::Text(s.into()))));
    hub.run(user, Box::pin(incoming), Box::pin(outgoing)).await;
}

/// The SFU as the signaling's media server.
pub(crate) struct SfuMedia(pub(crate) Arc<media_server::Sfu>);

impl Media for SfuMedia {
    type Error = media_server::SfuError;

    async fn offer(
        &self,
        room: &str,
        participant: &str,
        sdp: String,
    ) -> Result<String, Self::Error> {
        match self.0.join(room, participant, sdp.clone()).await {
            // A fresh join with the same grant (a reload, a new connection) replaces the old one.
            Err(media_server::SfuError::AlreadyJoined) => {
                let _ = self.0.leave(room, participant).await;
                self.0.join(room, participant, sdp).await
            }
            other => other,
        }
    }

    async fn answer(&self, room: &str, participant: &str, sdp: String) -> Result<(), Self::Error> {
        self.0.answer(room, participant, sdp).await
    }

    async fn leave(&self, room: &str, participant: &str) {
        let _ = self.0.leave(room, participant).await;
    }
}

/// Starts the signaling hub over the SFU, on the system clock: offers the SFU makes go to
/// their participant; the waiting room's timers run in the hub's own task.
pub(crate) fn start_hub(
    db: Db,
    keys: JwtKeys,
    rules: Lifecycle,
    turn: Option<signaling::turn::TurnConfig>,
    sfu: Arc<media_server::Sfu>,
) -> Hub {
    let hub = Hub::spawn(
        DbDirectory {
            db,
            keys,
            rules,
            turn,
        },
        SfuMedia(sfu.clone()),
        signaling::waiting_room::Timing::default(),
        exam_api::db::now_ms,
    );
    if let Some(mut events) = sfu.take_events() {
        let hub = hub.clone();
        tokio::spawn(async move {
            while let Some(e) = events.recv().await {
                if let media_server::SfuEvent::Offer {
                    room,
                    participant,
                    sdp,
                } = e
                {
                    hub.media_offer(&room, &participant, sdp);
                }
            }
        });
    }
    hub
}
