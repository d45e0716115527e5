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
//! The WebSocket shell, SDP exchange and the SFU (media-server) come with the interview
//! stage; they drive this core.

pub mod hub;
pub mod messages;
pub mod waiting_room;
