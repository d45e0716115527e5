//! signaling: the protocol cores of the oral interview's signaling.
//!
//! [`waiting_room`] is the sans-IO waiting room: candidates knock, the evaluator admits,
//! denies or removes them, and media may flow only for admitted participants. It never
//! reads a clock: every input carries `now` (milliseconds), and
//! [`waiting_room::Lobby::poll_timeout`] says when to call
//! [`waiting_room::Lobby::handle_timeout`]:
//!
//! ```
//! use signaling::waiting_room::{Lobby, Output};
//! let mut lobby = Lobby::default();
//! lobby.open_room("interview-1", "evaluator-7", 1_000);
//! let out = lobby.knock(0, "interview-1", "candidate-3", "Camille", 1_000).unwrap();
//! assert!(out.iter().any(|o| matches!(o, Output::WaitingList { .. })));
//! lobby.admit(5, "evaluator-7", "interview-1", "candidate-3").unwrap();
//! assert!(lobby.may_exchange_media("interview-1", "candidate-3"));
//! ```
//!
//! [`hub`] is its async shell: one task owns every waiting room and connection, fed one
//! input at a time (a connection's frame, a closed connection, an interview closed
//! elsewhere, an SFU offer) and otherwise asleep until `Lobby::poll_timeout` — there is
//! no periodic tick. The time enters only there, from the [`hub::Clock`] given to
//! [`hub::Hub::spawn`] (the system clock in production, tokio's paused time in tests):
//!
//! ```no_run
//! # async fn wiring<D: signaling::hub::Directory, M: signaling::hub::Media>(
//! #     directory: D, media: M, socket_in: futures_util::stream::Empty<String>,
//! #     socket_out: futures_util::sink::Drain<String>,
//! # ) {
//! use signaling::hub::{Hub, User};
//! use signaling::waiting_room::Timing;
//! let now_ms = || 1_700_000_000_000; // production: the system clock
//! let hub = Hub::spawn(directory, media, Timing::default(), now_ms);
//! // Per WebSocket: frames in, replies out, until it closes.
//! hub.run(User { id: "candidate-3".into() }, socket_in, socket_out).await;
//! // The interview was closed over HTTP: both sides are told.
//! hub.closed("interview-1");
//! # }
//! ```

pub mod hub;
pub mod messages;
pub mod turn;
pub mod waiting_room;
