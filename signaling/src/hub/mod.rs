//! The signaling hub: one per server, one task that owns every room.
//!
//! [`Hub::spawn`] starts the owner task (`owner.rs`): it alone holds the waiting rooms
//! ([`crate::waiting_room::Lobby`]), the connections' senders and the interview of each
//! joined room (read from the [`Directory`] on join, after a step and on [`Hub::closed`],
//! never per message). Everything reaches it as an input on one channel — a connection
//! opened, a frame, a connection closed, an interview closed elsewhere, an offer of the
//! SFU — and between inputs it sleeps until [`Lobby::poll_timeout`](crate::waiting_room::Lobby::poll_timeout):
//!
//! ```text
//! loop {
//!     select! {
//!         input = inputs.recv()         => owner.input(clock.epoch_ms(), input),
//!         done  = outcomes.recv()       => owner.outcome(clock.epoch_ms(), done),
//!         ()    = sleep(poll_timeout)   => owner.timeout(clock.epoch_ms()),
//!     }
//! }
//! ```
//!
//! The time comes in only there, from the [`Clock`] given to [`Hub::spawn`]. Slow work
//! (the directory's database, the media server's offers and leaves) never runs in that
//! loop: it is spawned, and its result comes back as an outcome, so a slow SFU in one room
//! does not stall the others. A connection ([`Hub::run`], over any `Stream` of text frames
//! and `Sink` of replies: an axum socket in production, channels in tests) hands the owner
//! one frame at a time and reads the next once that one is handled, so each connection's
//! messages keep their order.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::{mpsc, oneshot};

use crate::messages::{ClientMsg, ServerMsg, parse};
use crate::waiting_room::Timing;

mod owner;
#[cfg(test)]
mod tests;

/// An interview, as the signaling needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interview {
    /// The candidate's user id.
    pub candidate: String,
    /// The evaluator's user id.
    pub evaluator: String,
    /// The scheduled time (ms since the epoch).
    pub scheduled_at: i64,
    /// When its room opens (ms since the epoch); nobody joins before.
    pub opens_at: i64,
    /// Set once it is over.
    pub closed: Option<Closed>,
}

impl Interview {
    /// Where `user` sits in this interview, if they are one of its two participants.
    pub fn seat(&self, user: &str) -> Option<Seat> {
        if user == self.evaluator {
            Some(Seat::Evaluator)
        } else if user == self.candidate {
            Some(Seat::Candidate)
        } else {
            None
        }
    }
}

/// Who a participant of an interview is (their media grant says so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seat {
    /// The interview's evaluator.
    Evaluator,
    /// The interview's candidate.
    Candidate,
}

/// A media grant could not be issued; the client gets an `unavailable` error instead of a
/// token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no media grant could be issued: {0}")]
pub struct GrantError(pub String);

/// How an interview is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// It took place.
    Ended,
    /// It was cancelled.
    Cancelled,
    /// The candidate did not come.
    NoShow,
}

impl Closed {
    /// Its name in [`ServerMsg::Closed`].
    pub fn as_str(self) -> &'static str {
        match self {
            Closed::Ended => "ended",
            Closed::Cancelled => "cancelled",
            Closed::NoShow => "no_show",
        }
    }
}

/// A step of the interview the signaling reports to the directory, which stores it
/// (or refuses it) in the interview's persisted lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The candidate knocked at the waiting room.
    Arrived,
    /// The evaluator checked the candidate's identity document.
    IdChecked,
    /// The evaluator started the interview.
    Started,
    /// The evaluator ended it.
    Ended,
}

impl Step {
    /// The interview's state after the step, as [`ServerMsg::Interview`] names it.
    pub fn state(self) -> &'static str {
        match self {
            Step::Arrived => "waiting",
            Step::IdChecked => "id_checked",
            Step::Started => "in_progress",
            Step::Ended => "ended",
        }
    }
}

/// A step the lifecycle refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRefused {
    /// Machine-readable code (`wrong_order`, `ended`…).
    pub code: String,
    /// Explanation.
    pub message: String,
}

/// Who is who, and the media grants (implemented by the binary over the database).
pub trait Directory: Send + Sync + 'static {
    /// The interview with this id, if any.
    fn interview(&self, room: &str) -> impl Future<Output = Option<Interview>> + Send;
    /// The name the evaluator sees for a candidate.
    fn display_name(&self, user: &str) -> impl Future<Output = String> + Send;
    /// A media grant for `user`, who sits at `seat`, in `room` (a short-lived signed
    /// token), issued at `now_ms`.
    fn media_token(
        &self,
        user: &str,
        seat: Seat,
        room: &str,
        now_ms: i64,
    ) -> Result<String, GrantError>;
    /// Whether `token` is a valid media grant of `user` in `room`.
    fn check_media_token(&self, token: &str, user: &str, room: &str) -> bool;
    /// TURN servers, with credentials valid from `now_ms`, handed out with each media
    /// grant; none by default.
    fn ice_servers(&self, now_ms: i64) -> Vec<crate::turn::IceServer> {
        let _ = now_ms;
        Vec::new()
    }
    /// Applies a step of `user` to the interview's lifecycle and stores it; returns when
    /// the interview started, once it has.
    fn advance(
        &self,
        room: &str,
        user: &str,
        step: Step,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<i64>, StepRefused>> + Send;
}

/// The media server, as the signaling drives it.
pub trait Media: Send + Sync + 'static {
    /// Why the media server refused an offer or an answer (its message reaches the
    /// participant as a `media` error).
    type Error: std::error::Error + Send + 'static;
    /// A participant's complete SDP offer; returns the answer.
    fn offer(
        &self,
        room: &str,
        participant: &str,
        sdp: String,
    ) -> impl Future<Output = Result<String, Self::Error>> + Send;
    /// A participant's answer to a server offer.
    fn answer(
        &self,
        room: &str,
        participant: &str,
        sdp: String,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// The participant's media stops (left, removed, gone too long).
    fn leave(&self, room: &str, participant: &str) -> impl Future<Output = ()> + Send;
}

/// Where the hub's owner task reads the time, in milliseconds since the epoch: once per
/// input or wake-up, never inside the waiting room's rules. Production passes the system
/// clock (any `Fn() -> i64`); tests pass a clock over tokio's paused time.
pub trait Clock: Send + 'static {
    /// Now, in milliseconds since the epoch.
    fn epoch_ms(&self) -> i64;
}

impl<F: Fn() -> i64 + Send + 'static> Clock for F {
    fn epoch_ms(&self) -> i64 {
        self()
    }
}

/// The signed-in user of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Their id.
    pub id: String,
}

/// A connection's id, given by [`Hub::run`].
type ConnId = u64;

/// The permission to read a connection's next frame: the owner drops it once the frame
/// is handled (and what it started is done).
struct Turn {
    _done: oneshot::Sender<()>,
}

/// What reaches the owner task from outside.
enum Input {
    /// A connection opened; replies go to `tx`.
    Connected {
        conn: ConnId,
        user: String,
        tx: mpsc::UnboundedSender<ServerMsg>,
    },
    /// A connection's message.
    Frame {
        conn: ConnId,
        msg: ClientMsg,
        turn: Turn,
    },
    /// A connection closed.
    Closed { conn: ConnId },
    /// The interview `room` was closed elsewhere (over HTTP).
    RoomClosed { room: String },
    /// The media server has an offer for a participant.
    MediaOffer {
        room: String,
        participant: String,
        sdp: String,
    },
}

/// A handle on the signaling hub's owner task; clones share it. The task ends once every
/// handle is gone.
#[derive(Clone)]
pub struct Hub {
    inputs: mpsc::UnboundedSender<Input>,
    next_conn: Arc<AtomicU64>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hub")
    }
}

impl Hub {
    /// Starts the owner task of a hub over a directory and a media server, its timers in
    /// `timing`, reading the time from `clock`. Call it inside a tokio runtime.
    pub fn spawn<D: Directory, M: Media>(
        directory: D,
        media: M,
        timing: Timing,
        clock: impl Clock,
    ) -> Hub {
        let (inputs, rx) = mpsc::unbounded_channel();
        tokio::spawn(owner::drive(
            Arc::new(directory),
            Arc::new(media),
            timing,
            rx,
            clock,
        ));
        Hub {
            inputs,
            next_conn: Arc::new(AtomicU64::new(1)),
        }
    }

    /// The interview `room` was closed outside the room (its evaluator's closing): both
    /// sides are told, and their media stops.
    pub fn closed(&self, room: &str) {
        let _ = self.inputs.send(Input::RoomClosed {
            room: room.to_owned(),
        });
    }

    /// An offer the media server made to `participant` of `room` (a track to receive): it
    /// goes to their connection, if they are connected.
    pub fn media_offer(&self, room: &str, participant: &str, sdp: String) {
        let _ = self.inputs.send(Input::MediaOffer {
            room: room.to_owned(),
            participant: participant.to_owned(),
            sdp,
        });
    }

    /// Drives one connection until it closes: text frames in, one at a time, replies out.
    pub async fn run<S, E>(
        &self,
        user: User,
        mut incoming: S,
        mut outgoing: impl Sink<String, Error = E> + Unpin,
    ) where
        S: Stream<Item = String> + Unpin,
    {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (tx, mut rx) = mpsc::unbounded_channel::<ServerMsg>();
        let connected = Input::Connected {
            conn,
            user: user.id,
            tx: tx.clone(),
        };
        if self.inputs.send(connected).is_err() {
            return;
        }
        // The frame being handled, if any: the next is read once it is.
        let mut handling: Option<oneshot::Receiver<()>> = None;
        loop {
            tokio::select! {
                frame = incoming.next(), if handling.is_none() => match frame {
                    Some(text) => match parse(&text) {
                        Ok(msg) => {
                            let (turn, done) = oneshot::channel();
                            let frame = Input::Frame { conn, msg, turn: Turn { _done: turn } };
                            if self.inputs.send(frame).is_err() {
                                break;
                            }
                            handling = Some(done);
                        }
                        Err(e) => { let _ = tx.send(ServerMsg::error(e.code(), e.to_string())); }
                    },
                    None => break,
                },
                () = handled(&mut handling), if handling.is_some() => handling = None,
                msg = rx.recv() => match msg {
                    Some(msg) => if outgoing.send(msg.to_text()).await.is_err() {
                        break;
                    },
                    None => break,
                },
            }
        }
        let _ = self.inputs.send(Input::Closed { conn });
    }
}

/// Resolves once the frame being handled is (never, if none is).
async fn handled(handling: &mut Option<oneshot::Receiver<()>>) {
    match handling {
        Some(done) => {
            let _ = done.await;
        }
        None => std::future::pending().await,
    }
}
