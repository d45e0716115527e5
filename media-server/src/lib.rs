//! The interview SFU: a selective forwarding unit on the sans-IO `rtc` 0.21 core, one UDP
//! port and one media loop for every connection.
//!
//! Each participant of a room has one peer connection to the SFU. What a participant
//! publishes (Opus audio, VP8 or H264 video) is forwarded, without transcoding, to every
//! other participant of the room: the SFU adds a sending track to each of their connections
//! and renegotiates with an offer of its own. Rooms are isolated from each other.
//!
//! RTCP: NACKs are generated towards publishers and answered towards subscribers, sender and
//! receiver reports and TWCC feedback are produced, all by `rtc`'s default interceptors;
//! keyframe requests — a subscriber's PLI/FIR, and one whenever a subscriber's leg goes live —
//! are passed to the publisher merged, at most one per [`KEYFRAME_INTERVAL`].
//!
//! The signaling layer drives it like this:
//!
//! ```no_run
//! # async fn signaling(offer_from_browser: String) -> Result<(), media_server::SfuError> {
//! use media_server::{Sfu, SfuConfig, SfuEvent};
//!
//! let sfu = Sfu::new(SfuConfig::default())?;
//! let mut events = sfu.take_events().expect("first call");
//!
//! // A browser joins with its offer; the answer goes back to it.
//! let answer = sfu.join("room-42", "p-1", offer_from_browser).await?;
//! # let _ = answer;
//!
//! // Later offers come from the SFU; their answers come back through `answer`.
//! while let Some(event) = events.recv().await {
//!     match event {
//!         SfuEvent::Offer { room, participant, sdp } => {
//!             // send `sdp` to the participant, then: sfu.answer(&room, &participant, its_answer)
//! #           let _ = (room, participant, sdp);
//!         }
//!         SfuEvent::RoomClosed { room } => { let _ = room; }
//!         _ => {}
//!     }
//! }
//! sfu.leave("room-42", "p-1").await?;
//! # Ok(())
//! # }
//! ```
//!
//! Recording: with [`SfuConfig::recordings`] set, every published Opus or VP8 track is also
//! written, as received, to a WebM file of its own ([`webm`]); [`Sfu::recordings`] lists a
//! room's files. The recorder is one more consumer of a track's fan-out with a queue of its
//! own: a slow disk drops recorded packets (counted in [`SfuStats`]), never forwarded ones.
//! H264 is forwarded but not recorded.
//!
//! Monitoring: rooms joined with [`Sfu::join_monitoring`] ([`RoomKind::Monitoring`]) carry a candidate's camera
//! during the written test; their video (H264 only) is sampled — a keyframe asked for when
//! a sample is due — and handed to [`SfuConfig::frame_tap`] ([`sample`]).
//!
//! Sockets: one UDP socket, [`SfuConfig::media_addr`], carries every connection's media;
//! a datagram from a new address is matched to its connection by the ufrag its STUN
//! USERNAME names (each connection's is the SFU's choice), later ones by address. ICE-TCP
//! (passive) listens on the same port number. One task owns every connection and sleeps
//! until the earliest of their deadlines (`sfu.rs`, over the sans-IO `engine.rs`).
//!
//! [`bench::run`] measures the SFU, in a process of its own, with synthetic interview rooms on loopback
//! (`langcert bench sfu`).

pub mod bench;
mod codecs;
mod config;
mod engine;
mod error;
mod keyframe;
pub mod loopback;
mod negotiation;
mod recording;
mod rooms;
pub mod sample;
mod sfu;
mod stun;
mod tap;
pub mod webm;

pub use codecs::codec;
pub use config::SfuConfig;
pub use error::SfuError;
pub use keyframe::KEYFRAME_INTERVAL;
pub use sample::{FrameTap, RoomKind, SampledFrame};
pub use sfu::{Sfu, SfuEvent, SfuStats};
pub use tap::with_keyframe_request_tap;
